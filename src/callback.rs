//! How each step of handling a provider's answer (the callback) can fail, as plain data.
//! `ssr::oidc::callback` runs the steps and returns these; sign-in turns a failure into a
//! `FlowError` (words for the person signing in, detail for the log and administrators), the
//! Test sign-in report into a cause and a fix for the administrator (`test_sign_in`). What
//! these carry is the provider's or the verifier's words, never a secret or a token: the
//! report prints them.

/// The authorization response: the browser sent back with a code, or an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseFailure {
    /// It arrived on another provider's redirect URI (`Some(slug)`), or on `/login`
    /// (`None`), not on the attempt's provider's (RFC 9700 section 4.4).
    WrongRedirectUri { arrived_on: Option<String> },
    /// RFC 9207: its `iss` parameter names another issuer (a mix-up).
    IssuerMismatch { iss: String },
    /// RFC 9207: the provider advertises the `iss` parameter, and it is missing.
    IssMissing,
    /// The provider sent `error` (and `error_description`) instead of a code.
    Error { error: String, description: String },
    /// Neither a code nor an error.
    NoCode,
}

/// The code exchange at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeFailure {
    /// The provider has no token endpoint.
    NoTokenEndpoint(String),
    /// The token endpoint refused (RFC 6749 section 5.2): `error`, `error_description`.
    Refused { error: String, description: String },
    /// It could not be reached: how.
    Unreachable(String),
    /// Its answer could not be used: why.
    Unusable(String),
}

/// What is wrong with the ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenProblem {
    /// The token response has none.
    Missing,
    Issuer,
    Audience,
    Nonce,
    Expired,
    /// `iat` too far in the future or too old.
    IssuedAt,
    /// No key of the provider's JWKS fits its key id and algorithm.
    NoMatchingKey,
    /// The signature does not verify with the key.
    BadSignature,
    /// Signed with an algorithm that is not accepted (an HMAC, one not advertised).
    Algorithm,
    /// Not signed (`alg: none`).
    Unsigned,
    /// The signature could not be checked otherwise.
    Signature,
    Other,
}

/// The ID token failed verification: what, and the verifier's words (for the log and the
/// administrator's report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenFailure {
    pub problem: IdTokenProblem,
    pub detail: String,
}

/// The userinfo request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserInfoFailure {
    /// It answered for another subject than the ID token's.
    Subject,
    /// The request could not be made: why.
    Misconfigured(String),
    /// The endpoint could not be reached: how.
    Unreachable(String),
    /// It answered, but not usably: why.
    Failed(String),
}
