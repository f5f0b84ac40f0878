//! Why a sign-in failed: the words the person signing in reads (`Display`) and the detail
//! for the log, for each way the callback's steps fail.

use crate::callback::{ExchangeFailure, IdTokenFailure, ResponseFailure, UserInfoFailure};
use crate::ssr::providers::ProviderRow;

/// Why a sign-in failed, for the user (`Display`: words naming the provider and what to do),
/// and for the log and administrators (`detail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowError {
    pub kind: FlowErrorKind,
    /// The provider's display name, when known.
    pub provider: Option<String>,
    /// What went wrong in technical terms, for the server log and for the administrator
    /// who reads a Test sign-in report (which prints it); never shown to the person signing
    /// in. Never a secret, a token or our own internals: a database error is logged where it
    /// happens and named here only as such ([`db_err`]).
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowErrorKind {
    UnknownProvider,
    ProviderDisabled,
    UnknownState,
    ForeignBrowser,
    Expired,
    Denied,
    ProviderError,
    IssuerMismatch,
    Unreachable,
    TokenRejected,
    InvalidIdToken,
    UserInfoMismatch,
    /// The answer came back on another provider's redirect URI (RFC 9700 section 4.4).
    WrongRedirectUri,
    Misconfigured,
    /// Our database did not answer: not the provider's fault, nor the administrator's.
    Database,
    /// Too many sign-ins are in progress, all clients together.
    Busy,
    /// This client (address, IPv6 by /64) has too many sign-ins in progress.
    ClientBusy,
}

impl FlowErrorKind {
    /// The kind as counted (`portcullis_sign_ins_total`'s `outcome`, [`crate::ssr::metrics`]).
    pub fn class(self) -> &'static str {
        use FlowErrorKind::*;
        match self {
            UnknownProvider => "unknown_provider",
            ProviderDisabled => "provider_disabled",
            UnknownState => "unknown_state",
            ForeignBrowser => "foreign_browser",
            Expired => "expired",
            Denied => "denied",
            ProviderError => "provider_error",
            IssuerMismatch => "issuer_mismatch",
            Unreachable => "unreachable",
            TokenRejected => "token_rejected",
            InvalidIdToken => "invalid_id_token",
            UserInfoMismatch => "userinfo_mismatch",
            WrongRedirectUri => "wrong_redirect_uri",
            Misconfigured => "misconfigured",
            Database => "error",
            Busy => "busy",
            ClientBusy => "client_busy",
        }
    }
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.provider.as_deref().unwrap_or("the identity provider");
        use FlowErrorKind::*;
        match self.kind {
            UnknownProvider => write!(f, "There is no sign-in provider by that name here."),
            ProviderDisabled => write!(f, "Sign-in with {p} is turned off."),
            UnknownState => write!(
                f,
                "This sign-in with {p} has already been used or was never started here. Start again."
            ),
            ForeignBrowser => write!(
                f,
                "This sign-in with {p} was started in another browser. Start again in this one."
            ),
            Expired => write!(
                f,
                "The sign-in with {p} took longer than 10 minutes and expired. Start again."
            ),
            Denied => write!(f, "The sign-in was cancelled or refused at {p}."),
            ProviderError => write!(
                f,
                "{p} reported an error and did not sign you in. Try again; if it keeps happening, tell your administrator."
            ),
            IssuerMismatch => write!(
                f,
                "The answer did not come from {p} (issuer mismatch), so it was refused. Start again; if it keeps happening, tell your administrator."
            ),
            Unreachable => write!(f, "{p} could not be reached. Try again in a moment."),
            TokenRejected => write!(
                f,
                "{p} did not complete the sign-in (the code could not be exchanged). Start again; if it keeps happening, tell your administrator."
            ),
            InvalidIdToken => write!(
                f,
                "{p} sent an identity token that failed verification, so it was refused. Tell your administrator."
            ),
            UserInfoMismatch => write!(
                f,
                "{p} sent inconsistent account information, so the sign-in was refused. Tell your administrator."
            ),
            WrongRedirectUri => write!(
                f,
                "The answer from {p} arrived at another provider's address, so it was refused. Start again; if it keeps happening, tell your administrator."
            ),
            Misconfigured => write!(
                f,
                "Sign-in with {p} is not set up correctly. Tell your administrator."
            ),
            Database => write!(
                f,
                "Sign-in is unavailable for a moment: the server cannot reach its database. Try again shortly."
            ),
            Busy => write!(
                f,
                "Too many sign-ins are in progress right now. Wait a minute, then try again."
            ),
            ClientBusy => write!(
                f,
                "Too many sign-ins from your network are in progress. Finish them, or wait a few minutes (an unfinished one expires after 10), then try again."
            ),
        }
    }
}

pub(super) fn err(
    kind: FlowErrorKind,
    provider: Option<&ProviderRow>,
    detail: impl Into<String>,
) -> FlowError {
    FlowError {
        kind,
        provider: provider.map(|p| p.name.clone()),
        detail: detail.into(),
    }
}

/// A step's failure as sign-in reports it: the kind (the words the person signing in
/// reads) and the detail for the log.
pub(super) trait Refusal {
    fn refusal(&self) -> (FlowErrorKind, String);
}

impl Refusal for ResponseFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        use FlowErrorKind::*;
        match self {
            ResponseFailure::WrongRedirectUri { arrived_on } => (
                WrongRedirectUri,
                format!("answer arrived on the redirect URI of {arrived_on:?}"),
            ),
            ResponseFailure::IssuerMismatch { iss } => {
                (IssuerMismatch, format!("iss parameter {iss:?}"))
            }
            ResponseFailure::IssMissing => (
                IssuerMismatch,
                "iss parameter missing though advertised".to_owned(),
            ),
            ResponseFailure::Error { error, description } => (
                if error == "access_denied" {
                    Denied
                } else {
                    ProviderError
                },
                format!("provider error {error}: {description}"),
            ),
            ResponseFailure::NoCode => (ProviderError, "callback without code".to_owned()),
        }
    }
}

impl Refusal for ExchangeFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        use FlowErrorKind::*;
        match self {
            ExchangeFailure::NoTokenEndpoint(e) => {
                (Misconfigured, format!("no token endpoint: {e}"))
            }
            ExchangeFailure::Refused { error, description } => (
                TokenRejected,
                format!("token endpoint: {error}: {description}"),
            ),
            ExchangeFailure::Unreachable(how) => (Unreachable, format!("token endpoint: {how}")),
            ExchangeFailure::Unusable(why) => (TokenRejected, format!("token endpoint: {why}")),
        }
    }
}

impl Refusal for IdTokenFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        (
            FlowErrorKind::InvalidIdToken,
            format!("ID token: {}", self.detail),
        )
    }
}

impl Refusal for UserInfoFailure {
    fn refusal(&self) -> (FlowErrorKind, String) {
        use FlowErrorKind::*;
        match self {
            UserInfoFailure::Subject => (
                UserInfoMismatch,
                "userinfo sub differs from the ID token's".to_owned(),
            ),
            UserInfoFailure::Misconfigured(why) => (Misconfigured, format!("userinfo: {why}")),
            UserInfoFailure::Unreachable(how) => (Unreachable, format!("userinfo: {how}")),
            UserInfoFailure::Failed(why) => (ProviderError, format!("userinfo: {why}")),
        }
    }
}

/// Our database failed: the cause goes to the log here, the detail only says so (it reaches
/// an administrator's report).
pub(super) fn db_err(e: sqlx::Error) -> FlowError {
    tracing::error!(error = ?e, "OpenID Connect flow: database");
    err(
        FlowErrorKind::Database,
        None,
        "the server's database did not answer (the cause is in the server log)",
    )
}
