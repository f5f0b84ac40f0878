//! The authorization endpoint's rules (`docs/openid-provider.md` §3.4): the request read
//! from raw pairs (a repeated parameter seen, never one of two kept), the client and
//! redirect URI that decide whether an error may be sent back at all, every other check
//! (each an error redirected with `error`, `error_description`, `state` and `iss`, nothing
//! written), and the requests that wait while the person signs in (`op_auth_requests`).
//!
//! `prompt`, `max_age`, `id_token_hint` and `login_hint` are read here (their form);
//! what they make the person do (sign in again, choose the account, consent) is decided
//! by `prompt::decide` (slice 4). A request that waits keeps its [`Progress`]: the session
//! it was made in (a marker, never the session id) and what the person did since.

use super::clients::OpClient;
use super::random_token;
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use crate::ssr::oidc::fresh::Fresh;
use serde::{Deserialize, Serialize};

/// More parameters than this, a longer value or a longer query: refused.
pub const PARAMS_MAX: usize = 32;
pub const VALUE_MAX: usize = 2048;
pub const QUERY_MAX: usize = 8192;
/// How long a request waits for the person to sign in.
pub const REQUEST_TTL: i64 = 600;

/// A request's parameters as sent, in order, repeated ones kept.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// Over [`PARAMS_MAX`], [`VALUE_MAX`] or [`QUERY_MAX`].
    too_big: bool,
}

/// A parameter sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeated;

/// The one value of `name`: `Ok(None)` when absent, `Err(Repeated)` when repeated.
type One<'a> = Result<Option<&'a str>, Repeated>;

impl Params {
    /// `raw`: a query string or a form body.
    pub fn parse(raw: &str) -> Params {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let too_big = raw.len() > QUERY_MAX
            || pairs.len() > PARAMS_MAX
            || pairs.iter().any(|(_, v)| v.len() > VALUE_MAX);
        Params { pairs, too_big }
    }

    pub fn one(&self, name: &str) -> One<'_> {
        let mut found = self.pairs.iter().filter(|(k, _)| k == name);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some((_, v)), None) => Ok(Some(v.as_str())),
            (Some(_), Some(_)) => Err(Repeated),
        }
    }

    /// The one value of each of `names`, in order; `Err` when any is repeated.
    pub fn ones<const N: usize>(&self, names: [&str; N]) -> Result<[Option<&str>; N], Repeated> {
        let mut out = [None; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.one(name)?;
        }
        Ok(out)
    }

    /// The query string again, for a POST answered with a redirect to the GET.
    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.pairs.iter())
            .finish()
    }
}

/// Why no error can go back to the client: an error page says so (400), never a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted(pub &'static str);

/// An error the client hears about at its redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub error: &'static str,
    pub description: String,
}

/// An error for the client, its description held to RFC 6749 §4.1.2.1's characters
/// (printable ASCII but `"` and `\`): some name what the request sent (a repeated
/// parameter's name, a scope), which the client may show on its error page.
fn err(error: &'static str, description: impl Into<String>) -> AuthError {
    let description = description
        .into()
        .chars()
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '?',
        })
        .collect();
    AuthError { error, description }
}

/// The validated request: what the code will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Granted scopes: asked for, allowed to the client, and granted by Portcullis.
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 only.
    pub code_challenge: Option<String>,
    pub prompt_none: bool,
    /// `prompt=login`, or `max_age=0` (the same, OpenID Connect Core §3.1.2.1).
    #[serde(default)]
    pub prompt_login: bool,
    #[serde(default)]
    pub prompt_consent: bool,
    #[serde(default)]
    pub select_account: bool,
    /// `max_age` in seconds (over 0; 0 is `prompt_login`).
    #[serde(default)]
    pub max_age: Option<i64>,
    /// The `sub` of the `id_token_hint`, once the route verified it (that needs the keys).
    #[serde(default)]
    pub hint_sub: Option<String>,
    /// Fills the login page's username; used for nothing else.
    pub login_hint: Option<String>,
    #[serde(default)]
    pub progress: Progress,
}

/// What happened to a waiting request since it was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// [`session_marker`] of the session it was stored in (`None`: signed out then). A
    /// sign-in gives the session a new id, so a different marker later means the person
    /// signed in after the request was made; the consent and account forms must come
    /// from the session that has the same marker.
    pub session: Option<String>,
    /// The person signed in after the request was made.
    pub signed_in: bool,
    /// "Continue as …" was chosen (`prompt=select_account`).
    pub chosen: bool,
    /// Allow was chosen on the consent page.
    pub consented: bool,
    /// When the request first waited (Unix seconds).
    pub made_at: i64,
    /// What it waits for now.
    pub waits: Waits,
}

/// What a waiting request waits for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waits {
    #[default]
    Nothing,
    /// The person to sign in (again).
    SignIn,
    /// The answer of the account choice (`prompt=select_account`).
    Account,
    /// The answer of the consent page.
    Consent,
}

impl Progress {
    /// Notes the session the request comes back in: another session than the one it waited
    /// in (a sign-in gives a new id), signed in no earlier than the request was made, is a
    /// sign-in after the request. Both are needed: the marker tells a sign-in in the same
    /// second from none, the time tells this browser's new sign-in from an older session
    /// elsewhere.
    pub fn note(&mut self, marker: Option<&str>, signed_in: Option<i64>) {
        if self.session.as_deref() != marker && signed_in.is_some_and(|at| at >= self.made_at) {
            self.signed_in = true;
        }
    }
}

/// A session's marker: a hash of its id (the cookie's value is never stored).
pub fn session_marker(session_id: Option<&str>) -> Option<String> {
    session_id.map(super::token_hash)
}

/// Step 2: the client named by `client_id` (looked up by `find`) and a `redirect_uri`
/// registered for it byte for byte. Anything else cannot be trusted with a redirect.
pub fn redirect_target<'a>(
    params: &Params,
    client: Option<&'a OpClient>,
) -> Result<(&'a OpClient, String), Untrusted> {
    let client = client.ok_or(Untrusted(
        "The application that sent you here is not known to Portcullis (its client_id is missing, repeated or not registered).",
    ))?;
    match params.one("redirect_uri") {
        Ok(Some(uri))
            if client
                .view
                .settings
                .uris
                .redirect_uris
                .iter()
                .any(|r| r == uri) =>
        {
            Ok((client, uri.to_owned()))
        }
        _ => Err(Untrusted(
            "The application asked to return to an address that is not registered for it (redirect_uri missing, repeated or not listed in its OpenID Connect settings).",
        )),
    }
}

/// The `client_id` a request names, if exactly one.
pub fn client_id(params: &Params) -> Option<&str> {
    params.one("client_id").ok().flatten()
}

/// The `state` to send back with an error: the one given, unless repeated.
pub fn state(params: &Params) -> Option<String> {
    params.one("state").ok().flatten().map(str::to_owned)
}

/// The scopes granted for `asked` (a request's `scope`; the authorization and device
/// authorization endpoints alike): `openid` is required; scopes the client may not have are
/// dropped (RFC 6749 §3.3), in the client's order. A client's scopes are among those
/// Portcullis grants (`apps::client::SCOPES`). Applications are the administrator's (first
/// party): `offline_access` needs no consent prompt (OpenID Connect Core §11 allows "other
/// conditions").
pub fn granted_scope(asked: Option<&str>, client: &OpClient) -> Result<Vec<String>, AuthError> {
    let asked: Vec<&str> = asked.unwrap_or("").split(' ').collect();
    if !asked.contains(&"openid") {
        return Err(err(
            "invalid_scope",
            "the scope must include openid (this is an OpenID Connect provider)",
        ));
    }
    Ok(client
        .view
        .settings
        .scopes
        .iter()
        .filter(|s| asked.contains(&s.as_str()))
        .cloned()
        .collect())
}

/// Whether a request validated earlier (one that waited while the person signed in, chose
/// the account or consented) still fits `client` as it is now: a redirect URI still
/// registered, scopes still allowed, PKCE if the client has become public. A setting that
/// asks more counts at once, for the requests already waiting too.
pub fn still_fits(request: &AuthRequest, client: &OpClient) -> bool {
    let s = &client.view.settings;
    client.view.client_id == request.client_id
        && s.uris.redirect_uris.contains(&request.redirect_uri)
        && request
            .scope
            .iter()
            .all(|granted| s.scopes.contains(granted))
        && !pkce_missing(request.code_challenge.as_deref(), client)
}

/// A public client's request without a PKCE challenge (RFC 9700 §2.1.1: public clients
/// must use PKCE).
fn pkce_missing(code_challenge: Option<&str>, client: &OpClient) -> bool {
    code_challenge.is_none() && !client.view.settings.auth_method.confidential()
}

/// Step 3: every other check, for `client` (trusted already) and its `redirect_uri`.
pub fn validate(
    params: &Params,
    client: &OpClient,
    redirect_uri: String,
) -> Result<AuthRequest, AuthError> {
    if params.too_big {
        return Err(err(
            "invalid_request",
            format!(
                "the request is too large (at most {PARAMS_MAX} parameters, {VALUE_MAX} bytes a value, {QUERY_MAX} in all)"
            ),
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &params.pairs {
        if seen.contains(&k.as_str()) {
            return Err(err(
                "invalid_request",
                format!("the parameter {k} is repeated"),
            ));
        }
        seen.push(k);
    }
    let get = |name: &str| params.one(name).ok().flatten();
    if get("request").is_some() {
        return Err(err(
            "request_not_supported",
            "request objects are not supported: send the parameters themselves",
        ));
    }
    if get("request_uri").is_some() {
        return Err(err(
            "request_uri_not_supported",
            "request_uri is not supported: send the parameters themselves",
        ));
    }
    match get("response_type") {
        None => return Err(err("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(err(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err(err(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    let scope = granted_scope(get("scope"), client)?;
    let method = get("code_challenge_method");
    let code_challenge = match (get("code_challenge"), method) {
        (None, None) => None,
        (Some(c), Some("S256")) => {
            if c.len() != 43
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(err(
                    "invalid_request",
                    "code_challenge must be 43 base64url characters (S256 of the verifier)",
                ));
            }
            Some(c.to_owned())
        }
        (None, Some(_)) => {
            return Err(err(
                "invalid_request",
                "code_challenge_method without a code_challenge",
            ));
        }
        (Some(_), _) => {
            return Err(err(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)",
            ));
        }
    };
    if pkce_missing(code_challenge.as_deref(), client) {
        return Err(err(
            "invalid_request",
            "a public client must use PKCE (code_challenge with code_challenge_method=S256)",
        ));
    }
    let prompts: Vec<&str> = get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if prompts
        .iter()
        .any(|p| !["none", "login", "consent", "select_account"].contains(p))
    {
        return Err(err(
            "invalid_request",
            "prompt takes none, login, consent or select_account",
        ));
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(err(
            "invalid_request",
            "prompt=none cannot be combined with another prompt",
        ));
    }
    let max_age = match get("max_age").map(|m| m.parse::<u64>()) {
        None => None,
        Some(Ok(m)) => Some(i64::try_from(m).unwrap_or(i64::MAX)),
        Some(Err(_)) => {
            return Err(err(
                "invalid_request",
                "max_age must be a non-negative integer (seconds)",
            ));
        }
    };
    Ok(AuthRequest {
        client_id: client.view.client_id.clone(),
        redirect_uri,
        scope,
        state: get("state").map(str::to_owned),
        nonce: get("nonce").map(str::to_owned),
        code_challenge,
        prompt_none,
        prompt_login: prompts.contains(&"login") || max_age == Some(0),
        prompt_consent: prompts.contains(&"consent"),
        select_account: prompts.contains(&"select_account"),
        max_age: max_age.filter(|m| *m > 0),
        hint_sub: None,
        login_hint: get("login_hint").map(str::to_owned),
        progress: Progress::default(),
    })
}

/// `redirect_uri` with `pairs` added to its query (after `&` when it has one already); the
/// `None` ones left out, and the URI as it is when none is left.
pub fn redirect_with(redirect_uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            query.append_pair(k, v);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        return redirect_uri.to_owned();
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{query}")
}

/// Where an error goes: the redirect URI with `error`, `error_description`, `state` and
/// `iss` (RFC 9207).
pub fn error_redirect(
    redirect_uri: &str,
    e: &AuthError,
    state: Option<&str>,
    issuer: &str,
) -> String {
    redirect_with(
        redirect_uri,
        &[
            ("error", Some(e.error)),
            ("error_description", Some(&e.description)),
            ("state", state),
            ("iss", Some(issuer)),
        ],
    )
}

/// Keeps `request` for application `app_id` while the person signs in; gives its id (the
/// path `/oauth2/continue/<id>`).
pub async fn store_request(
    db: &Db,
    app_id: &str,
    request: &AuthRequest,
) -> Result<String, sqlx::Error> {
    let id = random_token("");
    let t = now();
    let mut request = request.clone();
    if request.progress.made_at == 0 {
        request.progress.made_at = t;
    }
    let json = serde_json::to_string(&request).unwrap_or_default();
    crate::exec!(
        db,
        "INSERT INTO op_auth_requests (id, app_id, request, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &id,
        app_id,
        json,
        t,
        t + REQUEST_TTL
    )?;
    Ok(id)
}

/// Writes a waiting request's [`Progress`] (the rest never changes).
pub async fn update_request(db: &Db, id: &str, request: &AuthRequest) -> Result<bool, sqlx::Error> {
    let json = serde_json::to_string(request).unwrap_or_default();
    Ok(crate::exec!(
        db,
        "UPDATE op_auth_requests SET request = $2 WHERE id = $1 AND expires_at > $3",
        id,
        json,
        now()
    )? == 1)
}

/// A waiting request (not expired), without using it up: (application id, request).
pub async fn peek_request(db: &Db, id: &str) -> Result<Option<(String, AuthRequest)>, sqlx::Error> {
    let row: Option<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT app_id, request FROM op_auth_requests WHERE id = $1 AND expires_at > $2")
        .bind(id)
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.and_then(|(app, json)| Some((app, serde_json::from_str(&json).ok()?))))
}

/// The waiting request whose continue step is `next` (the login page's), if any.
async fn waiting(db: &Db, next: Option<&str>) -> Option<AuthRequest> {
    let id = next?
        .strip_prefix(super::metadata::CONTINUE_PATH)?
        .strip_prefix('/')?;
    peek_request(db, id).await.ok().flatten().map(|(_, r)| r)
}

/// Whether `next` (the login page's) is the continue step of a request that waits for
/// this session (`marker`) to sign in again: the login page then shows its form to a
/// signed-in browser instead of moving on.
pub async fn waits_for_sign_in(db: &Db, next: Option<&str>, marker: Option<&str>) -> bool {
    waiting(db, next).await.is_some_and(|r| {
        r.progress.waits == Waits::SignIn
            && marker.is_some()
            && r.progress.session.as_deref() == marker
    })
}

/// The fresh sign-in the request whose continue step is `next` asks for (`prompt=login`,
/// `max_age`), if it asks: a sign-in through an upstream provider passes it on and is held
/// to it ([`crate::ssr::oidc::fresh`]).
pub async fn fresh_sign_in(db: &Db, next: Option<&str>) -> Option<Fresh> {
    let r = waiting(db, next).await?;
    (r.prompt_login || r.max_age.is_some()).then_some(Fresh {
        login: r.prompt_login,
        max_age: r.max_age,
        since: r.progress.made_at,
    })
}

/// Uses up a waiting request: one caller gets it.
pub async fn take_request(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    Ok(crate::exec!(
        db,
        "DELETE FROM op_auth_requests WHERE id = $1 AND expires_at > $2",
        id,
        now()
    )? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::client::AuthMethod;

    fn client(auth: AuthMethod) -> OpClient {
        OpClient::for_test(auth)
    }

    const OK: &str = "client_id=c1&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code&scope=openid%20email%20phone&state=s1&nonce=n1";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn check(q: &str, auth: AuthMethod) -> Result<AuthRequest, AuthError> {
        let params = Params::parse(q);
        let c = client(auth);
        let (c, uri) = redirect_target(&params, Some(&c)).unwrap();
        validate(&params, c, uri)
    }

    fn error(q: &str) -> &'static str {
        check(q, AuthMethod::Basic).unwrap_err().error
    }

    #[test]
    fn a_plain_request_and_its_scopes() {
        let r = check(OK, AuthMethod::Basic).unwrap();
        assert_eq!(r.scope, ["openid", "email"]);
        assert_eq!(r.state.as_deref(), Some("s1"));
        assert_eq!(r.nonce.as_deref(), Some("n1"));
        assert_eq!(r.code_challenge, None);
        // Unknown and ignored parameters, any order.
        let q = format!("display=popup&extra=foobar&ui_locales=de&claims=%7B%7D&acr_values=x&{OK}");
        assert!(check(&q, AuthMethod::Basic).is_ok());
        let q = format!("{OK}&scope2=x&prompt=login&max_age=10");
        assert!(check(&q, AuthMethod::Basic).is_ok());
    }

    /// What the request sent comes back in `error_description` only as RFC 6749 allows it.
    #[test]
    fn a_description_keeps_to_the_allowed_characters() {
        let q = format!("{OK}&%22%5Cx%C3%A9%0A=1&%22%5Cx%C3%A9%0A=2");
        let e = check(&q, AuthMethod::Basic).unwrap_err();
        assert_eq!(e.error, "invalid_request");
        assert_eq!(e.description, "the parameter ??x?? is repeated");
    }

    #[test]
    fn untrusted_client_or_redirect_uri() {
        let c = client(AuthMethod::Basic);
        for q in [
            "client_id=c1&response_type=code",
            "client_id=c1&redirect_uri=https%3A%2F%2Frp.example%2Fcb%2F",
            "client_id=c1&redirect_uri=https%3A%2F%2Frp.example%2Fcb&redirect_uri=https%3A%2F%2Frp.example%2Fcb",
            "client_id=c1&redirect_uri=https%3A%2F%2FRP.example%2Fcb",
        ] {
            assert!(redirect_target(&Params::parse(q), Some(&c)).is_err(), "{q}");
        }
        assert!(redirect_target(&Params::parse(OK), None).is_err());
        assert_eq!(client_id(&Params::parse("client_id=a&client_id=a")), None);
    }

    #[test]
    fn every_other_error_is_named() {
        assert_eq!(error(&format!("{OK}&nonce=n2")), "invalid_request");
        assert_eq!(
            error(&OK.replace("response_type=code&", "")),
            "invalid_request"
        );
        assert_eq!(
            error(&OK.replace("response_type=code", "response_type=token")),
            "unsupported_response_type"
        );
        assert_eq!(
            error(&OK.replace("response_type=code", "response_type=code%20id_token")),
            "unsupported_response_type"
        );
        assert_eq!(
            error(&format!("{OK}&response_mode=fragment")),
            "invalid_request"
        );
        assert_eq!(error(&format!("{OK}&request=eyJ")), "request_not_supported");
        assert_eq!(
            error(&format!("{OK}&request_uri=https%3A%2F%2Fx")),
            "request_uri_not_supported"
        );
        assert_eq!(error(&OK.replace("openid%20", "")), "invalid_scope");
        assert_eq!(
            error(&format!(
                "{OK}&code_challenge={CHALLENGE}&code_challenge_method=plain"
            )),
            "invalid_request"
        );
        assert_eq!(
            error(&format!("{OK}&code_challenge={CHALLENGE}")),
            "invalid_request"
        );
        assert_eq!(
            error(&format!("{OK}&code_challenge_method=S256")),
            "invalid_request"
        );
        assert_eq!(
            error(&format!(
                "{OK}&code_challenge=short&code_challenge_method=S256"
            )),
            "invalid_request"
        );
        assert_eq!(
            error(&format!("{OK}&prompt=none%20login")),
            "invalid_request"
        );
        assert_eq!(error(&format!("{OK}&prompt=sometimes")), "invalid_request");
        assert_eq!(error(&format!("{OK}&max_age=-1")), "invalid_request");
        let big = format!("{OK}&x={}", "a".repeat(VALUE_MAX + 1));
        assert_eq!(error(&big), "invalid_request");
    }

    #[test]
    fn pkce_s256_and_public_clients() {
        let q = format!("{OK}&code_challenge={CHALLENGE}&code_challenge_method=S256");
        let r = check(&q, AuthMethod::None).unwrap();
        assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
        assert_eq!(
            check(OK, AuthMethod::None).unwrap_err().error,
            "invalid_request"
        );
        assert!(
            check(&format!("{OK}&prompt=none"), AuthMethod::Basic)
                .unwrap()
                .prompt_none
        );
    }

    #[test]
    fn prompt_and_max_age_are_read() {
        let r = check(
            &format!("{OK}&prompt=login%20consent%20select_account&max_age=30"),
            AuthMethod::Basic,
        )
        .unwrap();
        assert!(r.prompt_login && r.prompt_consent && r.select_account && !r.prompt_none);
        assert_eq!(r.max_age, Some(30));
        let r = check(&format!("{OK}&max_age=0"), AuthMethod::Basic).unwrap();
        assert!(r.prompt_login, "max_age=0 is prompt=login");
        assert_eq!(r.max_age, None);
        let r = check(OK, AuthMethod::Basic).unwrap();
        assert!(!r.prompt_login && !r.prompt_consent && !r.select_account);
        assert_eq!(error(&format!("{OK}&max_age=1e3")), "invalid_request");
    }

    #[test]
    fn a_sign_in_after_the_request_is_noted() {
        let waited = Progress {
            session: Some("m1".into()),
            made_at: 100,
            ..Progress::default()
        };
        let noted = |marker: Option<&str>, at: Option<i64>| {
            let mut p = waited.clone();
            p.note(marker, at);
            p.signed_in
        };
        assert!(!noted(Some("m1"), Some(100)), "the same session");
        assert!(
            noted(Some("m2"), Some(100)),
            "a new sign-in in the same second"
        );
        assert!(!noted(Some("m2"), Some(99)), "another, older session");
        assert!(!noted(Some("m2"), None), "signed out");
        assert!(!noted(None, None));
    }

    #[test]
    fn errors_go_back_with_state_and_iss() {
        let e = err("invalid_scope", "no openid");
        assert_eq!(
            error_redirect(
                "https://rp.example/cb?a=1",
                &e,
                Some("s 1"),
                "https://sso.example"
            ),
            "https://rp.example/cb?a=1&error=invalid_scope&error_description=no+openid&state=s+1&iss=https%3A%2F%2Fsso.example"
        );
        assert_eq!(
            error_redirect("https://rp.example/cb", &e, None, "https://i"),
            "https://rp.example/cb?error=invalid_scope&error_description=no+openid&iss=https%3A%2F%2Fi"
        );
    }
}
