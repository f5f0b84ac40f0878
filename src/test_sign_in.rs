//! "Test sign-in": the report an administrator reads after running the real
//! authorization-code flow with the editor's values, and the pure rules that put a failure
//! into words (cause and fix). Nothing here talks to a provider; `ssr::oidc::test_sign_in` does,
//! and fills this in.

use crate::callback::{
    ExchangeFailure, IdTokenFailure, IdTokenProblem, ResponseFailure, UserInfoFailure,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where the editor posts a test sign-in (a plain form post, with or without JavaScript).
pub const START_PATH: &str = "/settings/users/oidc/test-sign-in";
/// The report page (`?id=<report>`).
pub const REPORT_PATH: &str = "/settings/users/oidc/test-report";

/// How one step of the exchange went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Passed,
    Failed,
    /// Not reached, because an earlier step failed (or there was nothing to do).
    Skipped,
}

/// One step of the exchange: what happened, and for a failure why and what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub status: Status,
    /// One sentence: what happened.
    pub summary: String,
    /// Facts worth seeing (endpoint, method used, key id, ...): (label, value).
    pub facts: Vec<(String, String)>,
    /// For a failure: the cause in plain words.
    pub cause: Option<String>,
    /// For a failure: what to change, and where.
    pub fix: Option<String>,
}

impl Step {
    pub fn passed(name: &str, summary: impl Into<String>) -> Step {
        Step {
            name: name.to_owned(),
            status: Status::Passed,
            summary: summary.into(),
            facts: Vec::new(),
            cause: None,
            fix: None,
        }
    }

    pub fn failed(name: &str, summary: impl Into<String>, explained: Explained) -> Step {
        Step {
            name: name.to_owned(),
            status: Status::Failed,
            summary: summary.into(),
            facts: Vec::new(),
            cause: Some(explained.cause),
            fix: explained.fix,
        }
    }

    pub fn skipped(name: &str, summary: impl Into<String>) -> Step {
        Step {
            name: name.to_owned(),
            status: Status::Skipped,
            summary: summary.into(),
            facts: Vec::new(),
            cause: None,
            fix: None,
        }
    }

    pub fn fact(mut self, label: &str, value: impl Into<String>) -> Step {
        self.facts.push((label.to_owned(), value.into()));
        self
    }
}

/// The step names, in order.
pub const DISCOVERY: &str = "Discovery";
pub const AUTHORIZATION_REQUEST: &str = "Authorization request";
pub const AUTHORIZATION_RESPONSE: &str = "Authorization response";
pub const TOKEN_REQUEST: &str = "Token request";
pub const ID_TOKEN: &str = "ID token validation";
pub const USERINFO: &str = "Userinfo";
pub const SETTINGS: &str = "Editor values";

/// A cause in plain words and, when there is one, the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub cause: String,
    pub fix: Option<String>,
}

impl Explained {
    pub fn new(cause: impl Into<String>, fix: impl Into<String>) -> Explained {
        Explained {
            cause: cause.into(),
            fix: Some(fix.into()),
        }
    }

    /// `said` (what the provider answered), then what that means.
    pub fn also(said: &str, meaning: &str, fix: impl Into<String>) -> Explained {
        Explained::new(format!("{said} {meaning}"), fix)
    }

    pub fn cause_only(cause: impl Into<String>) -> Explained {
        Explained {
            cause: cause.into(),
            fix: None,
        }
    }
}

/// The ID token's header, and which key of the provider's JWKS verified its signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHeader {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// E.g. "kid k1 (RSA, RS256) from http://idp/jwks"; `None` when nothing verified it.
    pub verified_by: Option<String>,
}

/// One rule of Required Claims (or Admin Claims) against the merged claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleVerdict {
    /// The field the rule comes from ("Required Claims", "Admin Claims").
    pub field: String,
    pub rule: String,
    pub holds: bool,
    /// The value the rule looked at, as JSON (`None`: the claim is absent).
    pub seen: Option<String>,
}

/// The groups a sign-in through the provider brings, as applications (access lists,
/// `Remote-Groups`) will see them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderGroups {
    /// The Groups Claim read (empty: none).
    pub claim: String,
    /// "Groups are authoritative": seen as sent, not as `<slug>:<group>`.
    pub authoritative: bool,
    /// As applications see them ([`crate::apps::provider_group`]).
    pub seen: Vec<String>,
}

impl ProviderGroups {
    /// What provider `slug`'s Groups Claim `claim` names in `claims`, as applications see it.
    /// Sorted, as `Remote-Groups` lists them.
    pub fn new(slug: &str, claim: &str, authoritative: bool, claims: &Map<String, Value>) -> Self {
        let mut seen: Vec<String> = crate::apps::groups_in_claims(claim, claims)
            .iter()
            .map(|g| crate::apps::provider_group(slug, g, authoritative))
            .collect();
        seen.sort();
        ProviderGroups {
            claim: claim.to_owned(),
            authoritative,
            seen,
        }
    }
}

/// What a real sign-in with these values would do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WouldDo {
    /// The identity is linked: sign in as this user.
    SignIn {
        username: String,
        display_name: String,
        /// What the sign-in does to the administrator flag (Admin Claims), if anything.
        #[serde(default)]
        admin_change: Option<String>,
    },
    /// No link, Link by email on: link to the local account with the same verified email
    /// and sign in as it.
    LinkByEmail {
        username: String,
        email: String,
        #[serde(default)]
        admin_change: Option<String>,
    },
    /// No link and Allow New Users: a new account like this one.
    Create {
        username: String,
        email: Option<String>,
        display_name: String,
        admin: bool,
    },
    /// Refused, and why (in the words the person signing in would see, plus detail).
    Refuse { reason: String },
}

/// The provider a test sign-in ran with: the stored one or the editor's unsaved values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TestedProvider {
    #[serde(rename = "provider_name")]
    pub name: String,
    pub slug: String,
    /// The provider is stored (the test may run on unsaved values either way).
    pub saved: bool,
    pub issuer_url: String,
    pub client_id: String,
    pub redirect_uri: String,
}

/// Everything a test sign-in found. Kept server-side, shown once; never holds an access or
/// refresh token, nor the client secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// The provider tested, as the report's heading shows it.
    #[serde(flatten)]
    pub provider: TestedProvider,
    pub steps: Vec<Step>,
    pub id_token_header: Option<TokenHeader>,
    /// The ID token's claims; when its validation failed, as sent (not verified).
    pub id_token_claims: Option<Map<String, Value>>,
    pub id_token_verified: bool,
    pub userinfo_claims: Option<Map<String, Value>>,
    /// The ID token's claims overlaid with userinfo's, as sign-in merges them.
    pub merged_claims: Option<Map<String, Value>>,
    pub rules: Vec<RuleVerdict>,
    /// The groups this sign-in would bring from the provider; `None`: the claims did not
    /// arrive.
    #[serde(default)]
    pub groups: Option<ProviderGroups>,
    pub would: Option<WouldDo>,
    /// Things that do not fail the test but change what a real sign-in does (the provider
    /// is turned off, not saved yet, ...).
    pub notes: Vec<String>,
}

impl TestReport {
    /// Every step that ran passed.
    pub fn ok(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.status != Status::Failed)
    }

    /// The first failed step, if any.
    pub fn failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == Status::Failed)
    }
}

/// Verdicts of the rules of `field` (as stored, one per item) on `claims`. A rule that
/// does not parse fails, as in sign-in.
pub fn verdicts(field: &str, rules: &[String], claims: &Map<String, Value>) -> Vec<RuleVerdict> {
    rules
        .iter()
        .map(|r| {
            let (holds, seen) = match crate::claims::Rule::parse(r) {
                Ok(rule) => {
                    let (holds, seen) = rule.check(claims);
                    (holds, seen.map(Value::to_string))
                }
                Err(_) => (false, None),
            };
            RuleVerdict {
                field: field.to_owned(),
                rule: r.clone(),
                holds,
                seen,
            }
        })
        .collect()
}

fn mentions_redirect_uri(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("redirect_uri") || t.contains("redirect uri") || t.contains("redirect url")
}

/// An error the provider sent back on the redirect (`error`, `error_description`).
pub fn redirect_error(
    error: &str,
    description: &str,
    redirect_uri: &str,
    scopes: &str,
) -> Explained {
    let said = answered("The provider", error, description);
    match error {
        "invalid_redirect_uri" | "redirect_uri_mismatch" => {
            Explained::new(said, register_uri(redirect_uri))
        }
        _ if mentions_redirect_uri(description) => Explained::new(said, register_uri(redirect_uri)),
        "access_denied" => Explained::also(
            &said,
            "The sign-in was cancelled, or the provider refused this account for this client.",
            "Sign in at the provider with an account that may use this client (check its user or group assignments there).",
        ),
        "invalid_scope" => Explained::new(
            said,
            format!(
                "Remove the scope the provider does not allow from Scopes ({scopes}), or allow it for this client at the provider."
            ),
        ),
        "unauthorized_client" | "unsupported_response_type" => Explained::new(
            said,
            "Allow the authorization code flow (\"standard flow\") for this client at the provider.",
        ),
        "invalid_client" => Explained::new(
            said,
            "Check Client ID: the provider does not know this client.",
        ),
        "login_required" | "consent_required" | "interaction_required" => Explained::new(
            said,
            "The provider wants an interaction it could not have: sign in at the provider and try again.",
        ),
        "temporarily_unavailable" | "server_error" => Explained::new(
            said,
            "The provider had a problem of its own: look at its logs, then try again.",
        ),
        _ => Explained::cause_only(said),
    }
}

/// "`who` answered `error`[: description]."
fn answered(who: &str, error: &str, description: &str) -> String {
    if description.is_empty() {
        format!("{who} answered `{error}`.")
    } else {
        format!("{who} answered `{error}`: {description}")
    }
}

fn register_uri(redirect_uri: &str) -> String {
    format!("Register `{redirect_uri}` exactly as a redirect URI of this client at the provider.")
}

/// The provider refused the authorization request itself (its error page, seen before the
/// browser was sent there): `status` and the page's text.
pub fn authorize_refusal(
    status: u16,
    page: &str,
    client_id: &str,
    redirect_uri: &str,
    scopes: &str,
) -> Option<Explained> {
    const CODES: [&str; 7] = [
        "invalid_redirect_uri",
        "redirect_uri_mismatch",
        "invalid_client",
        "unauthorized_client",
        "invalid_scope",
        "unsupported_response_type",
        "invalid_request",
    ];
    let code = CODES.iter().find(|c| page.contains(*c)).copied();
    let refused =
        status >= 400 || matches!(code, Some("invalid_redirect_uri" | "redirect_uri_mismatch"));
    if !refused {
        return None;
    }
    let description = excerpt(page);
    let explained = match code {
        Some("invalid_client") => Explained::new(
            format!(
                "The provider refused the authorization request (HTTP {status}, invalid_client): it does not know the client `{client_id}`. It said: {description}"
            ),
            "Check Client ID against the client registered at the provider.",
        ),
        Some(c) => {
            let mut e = redirect_error(c, &description, redirect_uri, scopes);
            e.cause = format!(
                "The provider refused the authorization request (HTTP {status}). {}",
                e.cause
            );
            e
        }
        None if mentions_redirect_uri(page) => Explained::new(
            format!(
                "The provider refused the authorization request (HTTP {status}) over the redirect URI. It said: {description}"
            ),
            register_uri(redirect_uri),
        ),
        None => Explained::cause_only(format!(
            "The provider refused the authorization request (HTTP {status}). It said: {description}"
        )),
    };
    Some(explained)
}

/// The visible text of an error page, shortened: tags dropped, whitespace collapsed.
pub fn excerpt(page: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    let mut skip = 0usize; // inside <style> or <script>
    let lower = page.to_ascii_lowercase();
    let mut i = 0;
    let bytes = page.as_bytes();
    while i < bytes.len() {
        if lower[i..].starts_with("<style") || lower[i..].starts_with("<script") {
            skip += 1;
        }
        if lower[i..].starts_with("</style") || lower[i..].starts_with("</script") {
            skip = skip.saturating_sub(1);
        }
        let ch = page[i..].chars().next().unwrap_or(' ');
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag && skip == 0 => text.push(c),
            _ => {}
        }
        i += ch.len_utf8();
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(400).collect();
    if collapsed.chars().count() > 400 {
        out.push('…');
    }
    out
}

/// The token endpoint refused the code exchange with `error` (RFC 6749 §5.2).
pub fn token_error(error: &str, description: &str, auth_method: &str) -> Explained {
    let said = answered("The token endpoint", error, description);
    match error {
        "invalid_client" => Explained::new(
            format!(
                "{said} The provider did not accept the client's credentials (sent with {auth_method}): the client secret is wrong, or the client ID, or the provider expects another client authentication method."
            ),
            "Copy the client secret again from the provider into Client Secret, and check that Client Authentication matches the client's setting there.",
        ),
        "unauthorized_client" => Explained::new(
            said,
            "Allow the authorization code grant for this client at the provider.",
        ),
        "unsupported_grant_type" => Explained::new(
            said,
            "Allow the authorization_code grant type for this client at the provider.",
        ),
        "invalid_grant" => Explained::also(
            &said,
            "The provider refused the authorization code: it expired or was used already, or the redirect URI or PKCE verifier differ from the authorization request.",
            "Run the test again; if it repeats, check the provider's clock and that the redirect URI registered there is exactly this provider's.",
        ),
        _ => Explained::cause_only(said),
    }
}

/// The ID token names issuer `token_iss`; the provider is configured with `configured`
/// (and its discovery says `discovered`).
pub fn issuer_mismatch(token_iss: &str, configured: &str, discovered: &str) -> Explained {
    let cause = format!(
        "The ID token's issuer is `{token_iss}` but the provider is configured with `{configured}`."
    );
    if token_iss.trim_end_matches('/') == configured.trim_end_matches('/') {
        Explained::new(
            cause,
            format!(
                "Set Issuer URL to `{token_iss}` exactly: issuers are compared character by character, the trailing slash included."
            ),
        )
    } else if discovered != token_iss {
        Explained::new(
            format!(
                "{cause} Its discovery document says `{discovered}`: the provider contradicts itself."
            ),
            "Make the provider use one issuer for both (for Keycloak, the frontend URL / hostname setting; behind a proxy, the forwarded host and scheme), then set Issuer URL to it.",
        )
    } else {
        Explained::new(cause, format!("Set Issuer URL to `{token_iss}`."))
    }
}

/// What discovery said, as the explanations of a failed ID token refer to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    pub issuer: String,
    pub jwks_uri: String,
    /// The key ids of its JWKS.
    pub key_ids: Vec<String>,
    /// The ID token signing algorithms it advertises.
    pub algs: Vec<String>,
}

/// The step [`AUTHORIZATION_RESPONSE`] of `r`, failed with `f`; `discovered_issuer` is
/// discovery's, `scopes` those requested.
pub fn response_failed(
    r: &TestReport,
    f: &ResponseFailure,
    discovered_issuer: &str,
    scopes: &str,
) -> Step {
    let name = AUTHORIZATION_RESPONSE;
    let uri = &r.provider.redirect_uri;
    match f {
        ResponseFailure::WrongRedirectUri { arrived_on } => Step::failed(
            name,
            "The answer arrived on another redirect URI than this provider's.",
            Explained::new(
                format!(
                    "It arrived at {}, not at {uri}.",
                    arrived_on
                        .as_ref()
                        .map_or("/login".to_owned(), |s| format!("/login/{s}")),
                ),
                format!("Register `{uri}` exactly as the redirect URI at the provider."),
            ),
        ),
        ResponseFailure::IssuerMismatch { iss } => Step::failed(
            name,
            "The answer names another issuer (RFC 9207 iss parameter), so a sign-in refuses it.",
            issuer_mismatch(iss, &r.provider.issuer_url, discovered_issuer),
        ),
        ResponseFailure::IssMissing => Step::failed(
            name,
            "The answer has no iss parameter though the provider advertises it, so a sign-in refuses it.",
            Explained::cause_only(
                "authorization_response_iss_parameter_supported is true in discovery, but the redirect carried no iss.",
            ),
        ),
        ResponseFailure::Error { error, description } => {
            let step = Step::failed(
                name,
                "The provider sent an error instead of a code.",
                redirect_error(error, description, uri, scopes),
            )
            .fact("error", error.clone());
            if description.is_empty() {
                step
            } else {
                step.fact("error_description", description.clone())
            }
        }
        ResponseFailure::NoCode => Step::failed(
            name,
            "The provider sent the browser back without a code.",
            Explained::cause_only("The redirect had neither code nor error."),
        ),
    }
}

/// The step [`TOKEN_REQUEST`], failed with `f`; `method`: the client authentication used,
/// `how`: it and where it was chosen.
pub fn exchange_failed(f: &ExchangeFailure, method: &str, how: &str) -> Step {
    let explained = match f {
        ExchangeFailure::NoTokenEndpoint(why) => {
            return Step::failed(
                TOKEN_REQUEST,
                "The provider has no token endpoint.",
                Explained::cause_only(why.clone()),
            );
        }
        ExchangeFailure::Refused { error, description } => token_error(error, description, method),
        ExchangeFailure::Unreachable(how) => Explained::new(
            format!("The token endpoint could not be reached: {how}."),
            "Check that this server can reach the provider's token endpoint.",
        ),
        ExchangeFailure::Unusable(why) => {
            Explained::cause_only(format!("The token response was not usable: {why}."))
        }
    };
    Step::failed(
        TOKEN_REQUEST,
        "The provider did not exchange the code for tokens.",
        explained,
    )
    .fact("Client authentication", how)
}

/// The step [`ID_TOKEN`] of `r` (its header and claims as sent already recorded), failed
/// with `f`.
pub fn id_token_failed(r: &TestReport, f: &IdTokenFailure, d: &Discovered) -> Step {
    use IdTokenProblem::*;
    if f.problem == Missing {
        return Step::failed(
            ID_TOKEN,
            "The token response has no ID token.",
            Explained::new(
                "Without an ID token there is no verified identity.",
                "Make sure the client is an OpenID Connect client and Scopes includes openid.",
            ),
        );
    }
    let header = r.id_token_header.clone().unwrap_or_default();
    let claim = |k: &str| {
        r.id_token_claims
            .as_ref()
            .and_then(|c| c.get(k))
            .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
            .unwrap_or_else(|| "(absent)".to_owned())
    };
    let kid = header.kid.clone().unwrap_or_else(|| "(none)".to_owned());
    let clock = "Check the clocks of the provider and of this server (NTP).";
    let explained = match f.problem {
        Issuer => issuer_mismatch(&claim("iss"), &r.provider.issuer_url, &d.issuer),
        Audience => Explained::new(
            format!(
                "The ID token is meant for audience {} but the client ID here is `{}`.",
                claim("aud"),
                r.provider.client_id
            ),
            "Check Client ID: it must be the client the provider issues the tokens to.",
        ),
        Nonce => Explained::cause_only(
            "The ID token's nonce is not the one this attempt sent: the provider did not echo it, or sent a token from another sign-in.",
        ),
        Expired => Explained::new(
            format!(
                "The ID token had already expired when it arrived (exp {}).",
                claim("exp")
            ),
            clock,
        ),
        IssuedAt => Explained::new(
            format!(
                "The ID token's issue time (iat {}) is not acceptable: it was {}.",
                claim("iat"),
                f.detail
            ),
            clock,
        ),
        NoMatchingKey => Explained::new(
            format!(
                "No key in the provider's JWKS ({}) matches the token's key id `{kid}` and algorithm {} (keys there: {}).",
                d.jwks_uri,
                header.alg,
                if d.key_ids.is_empty() {
                    "none".to_owned()
                } else {
                    d.key_ids.join(", ")
                }
            ),
            "The provider signs with a key it does not publish: check its signing key settings (or wait for its key rotation to publish the key).",
        ),
        BadSignature => Explained::new(
            format!(
                "The signature does not verify with the provider's key `{kid}` from {}: the token was not signed by that key.",
                d.jwks_uri
            ),
            "The token was signed by another key than the one the provider publishes under this id: check the provider's keys, and that Issuer URL points at the right provider (realm, tenant).",
        ),
        Algorithm => Explained::new(
            format!(
                "The ID token is signed with {}, which is not accepted: only asymmetric algorithms the provider advertises ({}) are.",
                header.alg,
                d.algs.join(", ")
            ),
            "Make the provider sign ID tokens with RS256 or ES256 (an asymmetric key), not HS256 or none.",
        ),
        Unsigned => Explained::new(
            "The ID token is not signed (alg none).",
            "Make the provider sign ID tokens with RS256 or ES256.",
        ),
        Signature => {
            Explained::cause_only(format!("The signature could not be checked: {}.", f.detail))
        }
        Missing | Other => {
            Explained::cause_only(format!("The ID token was refused: {}.", f.detail))
        }
    };
    Step::failed(
        ID_TOKEN,
        "The ID token failed verification, so a sign-in refuses it.",
        explained,
    )
    .fact("Algorithm", header.alg.clone())
    .fact("Key id", header.kid.unwrap_or_else(|| "none".to_owned()))
}

/// The step [`USERINFO`], failed with `f`.
pub fn userinfo_failed(f: &UserInfoFailure) -> Step {
    match f {
        UserInfoFailure::Subject => Step::failed(
            USERINFO,
            "Userinfo answered for another subject than the ID token's, so a sign-in refuses it.",
            Explained::cause_only(
                "The userinfo response's sub differs from the ID token's sub: the provider is inconsistent.",
            ),
        ),
        UserInfoFailure::Misconfigured(why)
        | UserInfoFailure::Unreachable(why)
        | UserInfoFailure::Failed(why) => Step::failed(
            USERINFO,
            "Userinfo failed, so a sign-in fails too.",
            Explained::cause_only(format!("The userinfo request failed: {why}.")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URI: &str = "https://portcullis.example/login/kc";

    #[test]
    fn redirect_uri_problems_name_the_exact_uri_to_register() {
        for (error, description) in [
            ("invalid_redirect_uri", ""),
            (
                "redirect_uri_mismatch",
                "The redirect URI in the request did not match",
            ),
            ("invalid_request", "Invalid parameter: redirect_uri"),
        ] {
            let e = redirect_error(error, description, URI, "openid");
            assert!(
                e.cause.contains(error) && e.cause.contains(description),
                "{e:?}"
            );
            assert!(e.fix.unwrap().contains(&format!("`{URI}`")));
        }
        let e = redirect_error("access_denied", "User cancelled", URI, "openid");
        assert!(e.cause.contains("User cancelled") && !e.fix.unwrap().contains(URI));
        let e = redirect_error("invalid_scope", "", URI, "openid, groups");
        assert!(e.fix.unwrap().contains("openid, groups"));
        assert_eq!(redirect_error("odd", "", URI, "").fix, None);
    }

    #[test]
    fn an_authorization_error_page_is_read_for_its_code() {
        let page = "<html><head><style>p{}</style></head><body><h1>oops! something went wrong</h1>\
            <pre>error: invalid_redirect_uri\nerror_description: redirect_uri did not match any of the client's registered redirect_uris</pre></body></html>";
        let e = authorize_refusal(400, page, "c", URI, "openid").unwrap();
        assert!(
            e.cause.contains("HTTP 400") && e.cause.contains("invalid_redirect_uri"),
            "{}",
            e.cause
        );
        assert!(e.cause.contains("did not match any") && !e.cause.contains("p{}"));
        assert!(e.fix.unwrap().contains(URI));
        let e =
            authorize_refusal(400, "<p>Invalid parameter: redirect_uri</p>", "c", URI, "").unwrap();
        assert!(e.fix.unwrap().contains(URI));
        let e = authorize_refusal(400, "error: invalid_client", "my-client", URI, "").unwrap();
        assert!(e.cause.contains("`my-client`") && e.fix.unwrap().contains("Client ID"));
        assert_eq!(
            authorize_refusal(200, "<form>login</form>", "c", URI, ""),
            None
        );
        assert_eq!(authorize_refusal(303, "", "c", URI, ""), None);
        assert!(authorize_refusal(200, "redirect_uri_mismatch", "c", URI, "").is_some());
    }

    #[test]
    fn a_wrong_secret_and_an_issuer_slash_are_explained() {
        let e = token_error(
            "invalid_client",
            "client authentication failed",
            "client_secret_basic",
        );
        assert!(
            e.cause.contains("client_secret_basic") && e.cause.contains("client secret is wrong")
        );
        assert!(e.fix.unwrap().contains("Client Secret"));
        let e = issuer_mismatch(
            "https://a.example/",
            "https://a.example",
            "https://a.example/",
        );
        assert_eq!(
            e.cause,
            "The ID token's issuer is `https://a.example/` but the provider is configured with `https://a.example`."
        );
        assert!(e.fix.unwrap().contains("trailing slash"));
        let e = issuer_mismatch("http://x/other", "http://x", "http://x");
        assert!(e.cause.contains("contradicts itself"));
    }

    #[test]
    fn the_report_shows_groups_as_applications_will_see_them() {
        let claims = json!({"groups": ["media", "ops"]})
            .as_object()
            .unwrap()
            .clone();
        let g = ProviderGroups::new("gitea", "groups", false, &claims);
        assert_eq!(g.seen, ["gitea:media", "gitea:ops"]);
        let g = ProviderGroups::new("kc", "groups", true, &claims);
        assert_eq!(g.seen, ["media", "ops"]);
        assert!(ProviderGroups::new("kc", "", true, &claims).seen.is_empty());
    }

    #[test]
    fn verdicts_show_the_value_seen() {
        let claims = json!({"groups": ["a", "b"], "ok": true})
            .as_object()
            .unwrap()
            .clone();
        let v = verdicts(
            "Required Claims",
            &[
                "groups=b".into(),
                "groups=c".into(),
                "ok".into(),
                "missing".into(),
            ],
            &claims,
        );
        let got: Vec<(bool, Option<&str>)> =
            v.iter().map(|v| (v.holds, v.seen.as_deref())).collect();
        assert_eq!(
            got,
            [
                (true, Some("[\"a\",\"b\"]")),
                (false, Some("[\"a\",\"b\"]")),
                (true, Some("true")),
                (false, None)
            ]
        );
    }

    fn report() -> TestReport {
        TestReport {
            provider: TestedProvider {
                redirect_uri: URI.into(),
                issuer_url: "https://kc.example/realms/a".into(),
                client_id: "portcullis".into(),
                ..TestedProvider::default()
            },
            ..TestReport::default()
        }
    }

    fn cause(step: &Step) -> &str {
        assert_eq!(step.status, Status::Failed);
        step.cause.as_deref().unwrap()
    }

    #[test]
    fn each_authorization_response_failure_is_explained() {
        let r = report();
        let step = |f| response_failed(&r, &f, "https://kc.example/realms/a", "openid");
        let s = step(ResponseFailure::WrongRedirectUri { arrived_on: None });
        assert_eq!(s.name, AUTHORIZATION_RESPONSE);
        assert_eq!(cause(&s), format!("It arrived at /login, not at {URI}."));
        assert!(s.fix.unwrap().contains(&format!("`{URI}`")));
        let s = step(ResponseFailure::WrongRedirectUri {
            arrived_on: Some("gh".into()),
        });
        assert!(cause(&s).starts_with("It arrived at /login/gh,"));
        let s = step(ResponseFailure::IssuerMismatch {
            iss: "https://evil.example".into(),
        });
        assert!(s.summary.contains("RFC 9207") && cause(&s).contains("https://evil.example"));
        let s = step(ResponseFailure::IssMissing);
        assert!(cause(&s).contains("authorization_response_iss_parameter_supported"));
        let s = step(ResponseFailure::Error {
            error: "access_denied".into(),
            description: String::new(),
        });
        assert_eq!(s.facts, [("error".to_owned(), "access_denied".to_owned())]);
        let s = step(ResponseFailure::NoCode);
        assert_eq!(cause(&s), "The redirect had neither code nor error.");
    }

    #[test]
    fn each_exchange_and_userinfo_failure_is_explained() {
        let s = exchange_failed(
            &ExchangeFailure::Refused {
                error: "invalid_client".into(),
                description: String::new(),
            },
            "client_secret_post",
            "client_secret_post (chosen in the editor)",
        );
        assert!(cause(&s).contains("client_secret_post") && s.fix.is_some());
        assert_eq!(s.facts[0].0, "Client authentication");
        let s = exchange_failed(
            &ExchangeFailure::Unreachable("timed out after 10 s".into()),
            "client_secret_basic",
            "",
        );
        assert!(cause(&s).contains("timed out after 10 s"));
        let s = exchange_failed(&ExchangeFailure::NoTokenEndpoint("none".into()), "", "");
        assert!(s.summary.contains("no token endpoint") && s.facts.is_empty());
        let s = userinfo_failed(&UserInfoFailure::Subject);
        assert!(cause(&s).contains("differs from the ID token's sub"));
        let s = userinfo_failed(&UserInfoFailure::Unreachable("refused".into()));
        assert_eq!(cause(&s), "The userinfo request failed: refused.");
    }

    #[test]
    fn each_id_token_failure_is_explained_with_what_discovery_said() {
        let mut r = report();
        r.id_token_header = Some(TokenHeader {
            alg: "RS256".into(),
            kid: Some("k9".into()),
            ..TokenHeader::default()
        });
        r.id_token_claims = json!({"iss": "https://kc.example/realms/a/", "aud": "other"})
            .as_object()
            .cloned();
        let d = Discovered {
            issuer: "https://kc.example/realms/a".into(),
            jwks_uri: "https://kc.example/jwks".into(),
            key_ids: vec!["k1".into(), "k2".into()],
            algs: vec!["RS256".into(), "HS256".into()],
        };
        let step = |problem, detail: &str| {
            id_token_failed(
                &r,
                &IdTokenFailure {
                    problem,
                    detail: detail.into(),
                },
                &d,
            )
        };
        use IdTokenProblem::*;
        let s = step(Missing, "");
        assert!(s.summary.contains("no ID token") && s.facts.is_empty());
        let s = step(Issuer, "");
        assert!(s.fix.unwrap().contains("trailing slash"));
        assert_eq!(s.facts[1], ("Key id".to_owned(), "k9".to_owned()));
        assert!(cause(&step(Audience, "")).contains("audience other"));
        let s = step(NoMatchingKey, "");
        assert!(cause(&s).contains("`k9`") && cause(&s).contains("k1, k2"));
        assert!(cause(&step(BadSignature, "")).contains("https://kc.example/jwks"));
        assert!(cause(&step(Algorithm, "")).contains("(RS256, HS256)"));
        assert!(cause(&step(IssuedAt, "issued 900s ago")).contains("it was issued 900s ago"));
        assert!(cause(&step(Other, "odd")).contains("refused: odd"));
    }

    #[test]
    fn a_report_is_ok_when_no_step_failed() {
        let mut r = TestReport::default();
        assert!(!r.ok());
        r.steps.push(Step::passed(DISCOVERY, "found"));
        r.steps.push(Step::skipped(USERINFO, "none"));
        assert!(r.ok());
        r.steps.push(Step::failed(
            TOKEN_REQUEST,
            "no",
            Explained::cause_only("x"),
        ));
        assert!(!r.ok() && r.failure().unwrap().name == TOKEN_REQUEST);
    }
}
