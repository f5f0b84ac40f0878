//! Forward authentication: reverse proxies ask here, before every request to an application
//! behind them, whether to let it through.
//!
//! - `GET /api/v1/forward-auth` (Caddy `forward_auth`, Traefik `ForwardAuth`): the original
//!   request is named by `X-Forwarded-Proto`, `-Host` and `-Uri` (`-Method` is not needed).
//!   200 with `Remote-User`, `Remote-Name`, `Remote-Email`, `Remote-Groups` when the signed-in
//!   user may open the application; 302 to the login page (which brings the browser back to
//!   the exact URL) when nobody is signed in; 403 with a small page otherwise.
//! - `GET /api/v1/forward-auth/nginx` (nginx `auth_request`, which understands only 2xx, 401
//!   and 403): the original URL in `X-Original-URL` (`X-Forwarded-*` as a fallback); not
//!   signed in is 401 with the login URL in `Location`, which the configuration reads with
//!   `auth_request_set $login $upstream_http_location` for its `error_page 401`.
//!
//! Rules: the forwarded headers are believed only from `--trusted-proxies` (from anyone else
//! the check refuses); a check that carries a client's `Remote-*`/`Remote_*` header is
//! refused (400: the proxy forgot to drop them); the URL is read as the app will read it,
//! and refused (400) when it has more than one reading or is missing
//! ([`portcullis::apps::request`]); a URL that no application lists is refused (deny by
//! default); a database that does not answer fails closed (503). A check reads the session and the user
//! (two queries) and the applications from memory ([`portcullis::ssr::apps::AppsCache`]);
//! it writes nothing (but a token's last use, at most every five minutes, after the answer).
//! With metrics on, each check is counted by application and outcome and
//! timed ([`portcullis::ssr::metrics::forward_auth_check`]: atomics, no allocation).
//!
//! A request that presents a personal access token (`Authorization: Bearer pc_pat_…`, or
//! HTTP Basic with the token as password) is judged by the token instead of the session
//! ([`token_check`]); any other `Authorization` (the application's own) is left alone.
//!
//! Its answers are deliberately not `AppError`'s: the proxy passes the status on (or, for
//! nginx, acts on 401 and 403) and shows the browser the small page
//! ([`app::html::message_page`]) in the application's place.

use app::html::{Onward, continue_page, message_page as page};
use app::state::AppState;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use http::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use portcullis::apps::App;
use portcullis::apps::request::{self, Refused, RequestUrl};
use portcullis::second_factor::Requirement;
use portcullis::ssr::groups::{self, Identity};
use portcullis::ssr::metrics::{self, Check};
use portcullis::ssr::session::AuthSession;
use portcullis::ssr::tokens::{self, Presented};
use std::net::SocketAddr;
use std::time::Instant;
use tower_sessions::Session;

pub const PATH: &str = "/api/v1/forward-auth";
pub const NGINX_PATH: &str = "/api/v1/forward-auth/nginx";
/// After a password sign-in posted without JavaScript: moves on to an application's URL.
pub const CONTINUE_PATH: &str = "/api/v1/forward-auth/continue";

pub const REMOTE_USER: HeaderName = HeaderName::from_static("remote-user");
pub const REMOTE_NAME: HeaderName = HeaderName::from_static("remote-name");
pub const REMOTE_EMAIL: HeaderName = HeaderName::from_static("remote-email");
pub const REMOTE_GROUPS: HeaderName = HeaderName::from_static("remote-groups");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, check_route(Flavor::Redirect))
        .route(NGINX_PATH, check_route(Flavor::Nginx))
        .route(CONTINUE_PATH, get(continue_to_app))
}

/// The check, saying "not signed in" the way `flavor` does (one handler, two paths).
fn check_route(flavor: Flavor) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              session: Session,
              headers: HeaderMap| async move {
            // The plain session, not the `AuthSession` extractor: the check never signs in,
            // so it has no use for the User-Agent that extractor copies on every request.
            let session = AuthSession::from(session);
            check(&state, peer, session, &headers, flavor).await
        },
    )
}

#[derive(Debug, Default, serde::Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
}

/// `GET /api/v1/forward-auth/continue?next=<url>`: a page that moves on to `next` when it
/// is a configured application's URL (or a path here), by itself and as a link; anything
/// else goes to `/`. A form post may not redirect to another origin under the pages'
/// `form-action 'self'`, a page may.
async fn continue_to_app(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<Next>,
) -> Response {
    let apps = state.apps.get(&state.db).await.unwrap_or_default();
    let Some(to) = portcullis::return_path::safe_return_to(&q.next, &apps) else {
        return Redirect::to("/").into_response();
    };
    let words = Onward {
        title: "Continuing",
        lead: "Signed in. Continuing… ",
    };
    continue_page(Redirect::to(&to).into_response(), words)
}

/// How "not signed in" is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// 302 to the login page (Caddy, Traefik pass it on to the browser).
    Redirect,
    /// 401 with the login page in `Location` (nginx `auth_request`).
    Nginx,
}

impl Flavor {
    /// `redirect` for Caddy and Traefik, `nginx` for nginx.
    fn pick(self, redirect: StatusCode, nginx: StatusCode) -> StatusCode {
        match self {
            Flavor::Redirect => redirect,
            Flavor::Nginx => nginx,
        }
    }
}

async fn check(
    state: &AppState,
    peer: SocketAddr,
    session: AuthSession,
    headers: &HeaderMap,
    flavor: Flavor,
) -> Response {
    let started = Instant::now();
    // Counted as it ends: outcome, application (`None` before one is known) and time.
    let done = |app: Option<&App>, outcome: Check, res: Response| {
        metrics::forward_auth_check(app.map(|a| a.id.as_str()), outcome, started);
        res
    };
    // A refusal before any application or user is looked at.
    let refuse = |status, title, words| done(None, Check::Refused, page(status, title, words));
    if !state
        .trusted_proxies
        .iter()
        .any(|net| net.contains(&peer.ip()))
    {
        tracing::warn!(peer = %peer.ip(), "forward-auth check from an address not in --trusted-proxies; refused");
        return refuse(
            StatusCode::FORBIDDEN,
            "Not a trusted proxy",
            "This check answers only the reverse proxies named in Portcullis's --trusted-proxies.",
        );
    }
    if let Some((name, what)) = header_from_client(headers, flavor) {
        tracing::warn!(header = ?name, "forward-auth: the request carries {}; refused (the proxy must drop it, see the README)", what.log());
        return refuse(StatusCode::BAD_REQUEST, what.title(), what.words());
    }
    let req = match original_url(headers, flavor) {
        Ok(req) => req,
        Err(None) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "Which page?",
                "The proxy did not say which URL was asked for (X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri, or X-Original-URL for nginx).",
            );
        }
        Err(Some(why)) => {
            tracing::warn!(why = ?why.0, "forward-auth: the URL asked for can be read more than one way; refused");
            return refuse(
                StatusCode::BAD_REQUEST,
                "Ambiguous address",
                "This address can be read more than one way, so Portcullis cannot tell which application it belongs to.",
            );
        }
    };
    let (apps, requirement) = match state.apps.gate(&state.db).await {
        Ok(gate) => gate,
        Err(e) => return done(None, Check::Unavailable, unavailable(&e)),
    };
    let app = match request::judge(&apps, &req) {
        Ok(Some(app)) => app,
        Ok(None) => {
            tracing::info!(url = ?req.url.as_str(), "forward-auth: no application lists this URL; refused");
            return refuse(
                StatusCode::FORBIDDEN,
                "Not a known application",
                "Portcullis does not guard this address. An administrator can add it under Settings → Applications.",
            );
        }
        Err(why) => {
            tracing::warn!(url = ?req.url.as_str(), why = ?why.0, "forward-auth: the path can be read as another application's; refused");
            return refuse(
                StatusCode::BAD_REQUEST,
                "Ambiguous address",
                "This address can be read as belonging to more than one application, so Portcullis refuses it.",
            );
        }
    };
    if let Err(why) = destination_within(headers, &req, &apps, app) {
        tracing::warn!(url = ?req.url.as_str(), why, "forward-auth: the request names a Destination outside its application; refused");
        return refuse(
            StatusCode::BAD_REQUEST,
            "Destination outside the application",
            "This request copies or moves to an address outside the application it was sent to (its Destination header), which Portcullis does not let through.",
        );
    }
    let url = &req.url;
    // Who asked: read only when a refusal is audited.
    let asker = Asker {
        state,
        peer,
        headers,
    };
    if let Some(presented) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(tokens::presented)
    {
        let (outcome, res) = token_check(state, app, &presented, flavor, asker, requirement).await;
        return done(Some(app), outcome, res);
    }
    let data = match session.data().await {
        Ok(data) => data,
        Err(e) => return done(Some(app), Check::Unavailable, unavailable(&e)),
    };
    let user_id = data.user_id.clone();
    let identity = match &user_id {
        Some(id) => match groups::identity(&state.db, id).await {
            Ok(identity) => identity,
            Err(e) => return done(Some(app), Check::Unavailable, unavailable(&e)),
        },
        None => None,
    };
    let Some(who) = identity else {
        return done(
            Some(app),
            Check::SignedOut,
            sign_in_first(state, url, flavor),
        );
    };
    if !app.allows(who.is_admin, &who.username, &who.groups) {
        tracing::info!(user = ?who.username, app = ?app.settings.name, "forward-auth: not allowed");
        let user = user_id.as_deref().map(|id| (id, who.username.as_str()));
        let words = format!(
            "You are signed in as {}, who may not open {}. Ask an administrator for access, or sign in as someone else.",
            who.username, app.settings.name
        );
        let (outcome, res) = asker.forbid(app, user, NOT_ALLOWED, &words).await;
        return done(Some(app), outcome, res);
    }
    if requirement.applies(who.is_admin, app.settings.require_second_factor) && !data.two_factors()
    {
        tracing::info!(user = ?who.username, app = ?app.settings.name, "forward-auth: a second factor is required first");
        return done(Some(app), Check::StepUp, step_up_first(state, url, flavor));
    }
    done(Some(app), Check::Allowed, allowed(app, &who))
}

/// A request that presents a personal access token (a script, not a browser): it opens
/// `app` as the token's owner when the application allows tokens, the token is valid and
/// names it, and the owner may open it; otherwise 401 with a Bearer challenge (no valid
/// token: a script cannot sign in, so no login page) or 403. nginx turns the check's 401
/// into the redirect to the login page, so there a token that is not valid is a 403. The session cookie, if any, is not consulted: the token is
/// what the request chose to present.
async fn token_check(
    state: &AppState,
    app: &App,
    presented: &Presented,
    flavor: Flavor,
    asker: Asker<'_>,
    requirement: Requirement,
) -> (Check, Response) {
    if !app.settings.allow_tokens {
        tracing::info!(app = ?app.settings.name, "forward-auth: a personal access token for an application that does not allow tokens; refused");
        let words = "This application does not accept personal access tokens. An administrator can allow them in its settings.";
        return asker.forbid(app, None, TOKENS_NOT_ALLOWED, words).await;
    }
    let found = match tokens::check(&state.db, &presented.token).await {
        Ok(found) => found,
        Err(e) => return (Check::Unavailable, unavailable(&e)),
    };
    let invalid = || {
        let status = flavor.pick(StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN);
        let mut res = page(
            status,
            "Token not valid",
            "This personal access token is unknown, expired or revoked. Make a new one under Profile → Tokens.",
        );
        res.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"portcullis\", error=\"invalid_token\""),
        );
        (Check::Refused, res)
    };
    let Some(token) = found else {
        tracing::info!(app = ?app.settings.name, "forward-auth: unknown, expired or revoked personal access token; refused");
        asker.denied(app, None, "invalid_token").await;
        return invalid();
    };
    if !token.opens(&app.id) {
        tracing::info!(app = ?app.settings.name, token = ?token.id, "forward-auth: the token does not name this application; refused");
        let owner = Some((token.user_id.as_str(), ""));
        let words = "This personal access token was not made for this application.";
        return asker.forbid(app, owner, NOT_FOR_THIS_TOKEN, words).await;
    }
    let who = match groups::identity(&state.db, &token.user_id).await {
        Ok(Some(who)) => who,
        Ok(None) => return invalid(),
        Err(e) => return (Check::Unavailable, unavailable(&e)),
    };
    // HTTP Basic names a user: it must be the owner, or the pair is not this token's.
    if presented
        .username
        .as_deref()
        .is_some_and(|u| !u.eq_ignore_ascii_case(&who.username))
    {
        tracing::info!(app = ?app.settings.name, token = ?token.id, "forward-auth: HTTP Basic names another user than the token's owner; refused");
        return invalid();
    }
    if !app.allows(who.is_admin, &who.username, &who.groups) {
        tracing::info!(user = ?who.username, app = ?app.settings.name, "forward-auth: token owner not allowed");
        let user = Some((token.user_id.as_str(), who.username.as_str()));
        let words = format!("{} may not open {}.", who.username, app.settings.name);
        return asker.forbid(app, user, NOT_ALLOWED, &words).await;
    }
    if requirement.applies(who.is_admin, app.settings.require_second_factor) && !token.two_factors {
        tracing::info!(app = ?app.settings.name, token = ?token.id, "forward-auth: the application requires two factors and the token was made with one; refused");
        let user = Some((token.user_id.as_str(), who.username.as_str()));
        let words = format!(
            "{} requires a second factor, and this token was made in a session signed in with one factor. Sign in with a passkey or a one-time code and make a new token.",
            app.settings.name
        );
        return asker.forbid(app, user, ONE_FACTOR_TOKEN, &words).await;
    }
    if token.stale {
        // The last use, at most every five minutes: the check itself stays write-free.
        let (db, id) = (state.db.clone(), token.id.clone());
        tokio::spawn(async move {
            if let Err(e) = tokens::touch(&db, &id).await {
                tracing::warn!(error = %e, "could not record a token's last use");
            }
        });
    }
    (Check::Allowed, allowed(app, &who))
}

/// Why a check refuses someone: the audit log's reason and the page's title (the words,
/// which name who and what, come with each refusal).
type Refusal = (&'static str, &'static str);

const TOKENS_NOT_ALLOWED: Refusal = ("tokens_not_allowed", "Tokens not allowed");
const NOT_FOR_THIS_TOKEN: Refusal = ("token_not_for_app", "Not for this token");
const NOT_ALLOWED: Refusal = ("not_allowed", "Not for this account");
const ONE_FACTOR_TOKEN: Refusal = ("second_factor_required", "Second factor required");

/// Who asked this server (`state`) for a check: enough to name the client, read only when a
/// refusal is audited (an allowed check neither reads it nor writes anything).
#[derive(Clone, Copy)]
struct Asker<'a> {
    state: &'a AppState,
    peer: SocketAddr,
    headers: &'a HeaderMap,
}

impl Asker<'_> {
    /// Counts the refusal of `user` (id, name; absent: a token nobody owns) at `app` in the
    /// audit log's row of its minute, application, user and reason.
    async fn denied(self, app: &App, user: Option<(&str, &str)>, reason: &'static str) {
        let client = app::extract::ClientAddr::of(self.peer.ip(), self.headers, self.state).0;
        let target = (app.id.as_str(), app.settings.name.as_str());
        portcullis::ssr::audit::denied(&self.state.db, target, user, reason, client).await;
    }

    /// Refuses `user` at `app` for `why`: counted as [`Self::denied`] does, answered 403
    /// with its page.
    async fn forbid(
        self,
        app: &App,
        user: Option<(&str, &str)>,
        (reason, title): Refusal,
        words: &str,
    ) -> (Check, Response) {
        self.denied(app, user, reason).await;
        (Check::Denied, page(StatusCode::FORBIDDEN, title, words))
    }
}

/// The URL the browser asked the proxy for, read strictly
/// ([`portcullis::apps::request::RequestUrl::forwarded`]): `Err(None)` when the proxy did
/// not say (never judged as `/`), `Err(Some(why))` when it has more than one reading.
fn original_url(headers: &HeaderMap, flavor: Flavor) -> Result<RequestUrl, Option<Refused>> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if flavor == Flavor::Nginx
        && let Some(original) = get("x-original-url")
    {
        return RequestUrl::forwarded(original).map_err(Some);
    }
    let proto = get("x-forwarded-proto").ok_or(None)?.to_ascii_lowercase();
    let host = get("x-forwarded-host").ok_or(None)?;
    let uri = get("x-forwarded-uri").ok_or(None)?;
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if !matches!(proto.as_str(), "http" | "https") || !host_ok || !uri.starts_with('/') {
        return Err(Some(Refused(
            "not an http(s) URL with a host and a path".into(),
        )));
    }
    // `//x` would make the rest of the URI an authority if joined naively; the reader
    // refuses empty segments, so it never gets that far.
    RequestUrl::forwarded(&format!("{proto}://{host}{uri}")).map_err(Some)
}

/// WebDAV's `Destination` (RFC 4918 §10.3: `COPY` and `MOVE` write there) names a second
/// URL the app acts on, beside the request line: it must name the request's host, and its
/// path, judged as strictly as the request's own on the request's scheme and port (which a
/// port mapping or TLS offload may spell otherwise in the client's URL), must lie in the same
/// application, or `GET /public` with `Destination: /admin/x` would write where its sender
/// may not (one header only; an absolute path is the request's host's).
fn destination_within(
    headers: &HeaderMap,
    req: &RequestUrl,
    apps: &[App],
    app: &App,
) -> Result<(), &'static str> {
    let mut all = headers.get_all("destination").iter();
    let Some(value) = all.next() else {
        return Ok(());
    };
    if all.next().is_some() {
        return Err("more than one Destination");
    }
    let value = value
        .to_str()
        .map_err(|_| "a Destination that is not ASCII")?
        .trim();
    let path = if value.starts_with('/') {
        value
    } else {
        let (scheme, rest) = value
            .split_once("://")
            .ok_or("a Destination that is neither a URL nor an absolute path")?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        // The host without its port (`[v6]:port` keeps its brackets), and no user name. Read
        // from the raw text, not through the `url` crate: it would take `\`, `?` or `#` in
        // the authority as its end and resolve dot segments, so the path judged below would
        // not be the one the WebDAV server reads; anything odd here is another host.
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map(|(h, _)| h).unwrap_or(v6),
            None => authority.split(':').next().unwrap_or_default(),
        };
        let host_wanted = req.url.host_str().unwrap_or_default();
        let host_wanted = host_wanted.trim_start_matches('[').trim_end_matches(']');
        if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
            || authority.contains('@')
            || !host.eq_ignore_ascii_case(host_wanted)
        {
            return Err("a Destination on another host");
        }
        if path.is_empty() { "/" } else { path }
    };
    let dest = RequestUrl::forwarded(&format!("{}{path}", req.url.origin().ascii_serialization()))
        .map_err(|_| "a Destination with more than one reading")?;
    match request::judge(apps, &dest) {
        Ok(Some(other)) if other.id == app.id => Ok(()),
        _ => Err("a Destination in another application, or in none"),
    }
}

/// A header in the check's request that only the client can have put there, and that the
/// app behind would believe: the proxy's configuration must drop it, and a check that still
/// sees one refuses the request (fail closed for a configuration that forgot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FromClient {
    /// `Remote-*`: who the user is comes from Portcullis's answer only.
    Identity,
    /// A header that names the request's URL, or a part of it, beside the request line:
    /// frameworks route on them (`X-Original-URL` and `X-Rewrite-URL`: IIS, Symfony before
    /// 3.4.14, Zend Framework 1, Yii 2 behind a trusted proxy; `X-Forwarded-Prefix`: Spring,
    /// ASP.NET; `X-Accel-Mapping`: Rack), so `GET /` with `X-Rewrite-URL: /admin` is judged
    /// as `/` and served as `/admin`. The check judges the request line; the app may read
    /// nothing else (but WebDAV's `Destination`, judged as the request line is).
    Url,
    /// An `Upgrade` other than one WebSocket (`h2c` above all): the proxy turns the
    /// connection into a tunnel to the app after this one check, and every request sent
    /// through it afterwards reaches the app unchecked, with identity headers of the
    /// client's choosing.
    Upgrade,
}

impl FromClient {
    fn log(self) -> &'static str {
        match self {
            FromClient::Identity => "an identity header the client sent",
            FromClient::Url => "a URL header the client sent, which an app may route on",
            FromClient::Upgrade => "an Upgrade to another protocol than one WebSocket",
        }
    }

    fn title(self) -> &'static str {
        match self {
            FromClient::Identity => "Identity header from the client",
            FromClient::Url => "URL header from the client",
            FromClient::Upgrade => "Protocol upgrade refused",
        }
    }

    fn words(self) -> &'static str {
        match self {
            FromClient::Identity => {
                "The request carries a Remote-* header that only Portcullis may set. The reverse proxy must drop these headers from the client's request (see Portcullis's README)."
            }
            FromClient::Url => {
                "The request carries a header that names another URL than the one asked for (such as X-Original-URL, X-Rewrite-URL, X-Forwarded-Prefix or Forwarded). The reverse proxy must drop these headers from the client's request (see Portcullis's README)."
            }
            FromClient::Upgrade => {
                "Only a WebSocket upgrade passes the gate: any other protocol would open a connection to the application that no check sees."
            }
        }
    }
}

/// The `X-Forwarded-*` headers a proxy writes into the check's request itself (Caddy's
/// `forward_auth`, nginx's `auth_request` block in the README, Traefik's `forwardAuth` and
/// its entry points), replacing the client's, and those that only say the scheme (a proxy
/// in front sets them; no scheme moves a request to another application: the narrowest
/// application on a host decides on every scheme). Every other one came from the client.
const PROXY_FORWARDED: [&str; 11] = [
    "for",
    "proto",
    "host",
    "uri",
    "method",
    "port",
    "server",
    "ssl",
    "scheme",
    "tls-client-cert",
    "tls-client-cert-info",
];

/// `X-Original-*` headers that name no URL: what a proxy in front (SWAG, ingress-nginx)
/// says of the method and the client.
const ORIGINAL_NOT_URL: [&str; 2] = ["method", "forwarded-for"];

/// The first header of the check's request that the proxy should have dropped ([`FromClient`]),
/// in any case and with any separator: a name is compared with every byte that is not a
/// letter or digit read as `-`, as gateways mangle them (PHP and CGI read `X_Original_URL`,
/// `X.Original.URL` and `X-Original-URL` all as `HTTP_X_ORIGINAL_URL`, `Remote.User` as
/// `HTTP_REMOTE_USER`). No proxy writes such a name itself, so only a name already spelt
/// with `-` may be one the proxy writes; a `CONNECT` (a tunnel, as Traefik forwards an
/// HTTP/2 `CONNECT`) passes only as a WebSocket.
fn header_from_client(headers: &HeaderMap, flavor: Flavor) -> Option<(&HeaderName, FromClient)> {
    let mut upgrades = headers.get_all(http::header::UPGRADE).iter();
    let websocket = match (upgrades.next(), upgrades.next()) {
        (None, _) => false,
        (Some(v), None) if v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"websocket") => true,
        _ => return Some((&http::header::UPGRADE, FromClient::Upgrade)),
    };
    let connect = headers
        .get_all("x-forwarded-method")
        .iter()
        .any(|m| m.as_bytes().trim_ascii().eq_ignore_ascii_case(b"CONNECT"));
    if connect && !websocket {
        return Some((&X_FORWARDED_METHOD, FromClient::Upgrade));
    }
    headers.keys().find_map(|name| {
        // Header names are lower case here (`HeaderName`).
        let raw = name.as_str();
        // Most names are spelt with `-` already: read without a copy (this runs for every
        // header of every check).
        let as_written = raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let n: std::borrow::Cow<str> = if as_written {
            raw.into()
        } else {
            raw.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        b as char
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
                .into()
        };
        let what = if n.len() > 7 && n.starts_with("remote-") {
            FromClient::Identity
        } else if n == "http2-settings" {
            FromClient::Upgrade
        } else if let Some(part) = n.strip_prefix("x-original-") {
            // nginx's block sets `X-Original-URL` for the check, in place of the client's.
            if ORIGINAL_NOT_URL.contains(&part)
                || (flavor == Flavor::Nginx && raw == "x-original-url")
            {
                return None;
            }
            FromClient::Url
        } else if let Some(part) = n.strip_prefix("x-forwarded-") {
            if as_written && PROXY_FORWARDED.contains(&part) {
                return None;
            }
            FromClient::Url
        } else if n == "forwarded"
            || n.starts_with("x-rewrite-")
            // Rack's `Sendfile` took its mapping of paths to the proxy's internal
            // redirect (`X-Accel-Mapping`) from the request (fixed in Rack 2.2.20 and
            // 3.1.18): a path the app answers with for the proxy to serve instead.
            || n.starts_with("x-accel-")
            || n.starts_with("x-sendfile")
            // `X-Script-Name` (and gunicorn's `SCRIPT_NAME`) cut a prefix off the path the
            // app routes on; `X-Host` and its kin name another host.
            || n.ends_with("script-name")
            || matches!(&*n, "x-host" | "x-http-host-override")
        {
            FromClient::Url
        } else {
            return None;
        };
        Some((name, what))
    })
}

static X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");

/// 302 (or nginx's 401) to the login page, which brings the browser back to `url`.
fn sign_in_first(state: &AppState, url: &url::Url, flavor: Flavor) -> Response {
    let words = Onward {
        title: "Sign in to continue",
        lead: "Sign in to Portcullis to open this application.",
    };
    send_to(state, "/login", url, flavor, words)
}

/// 302 (or nginx's 401) to the second-factor page (the step-up), which brings the browser
/// back to `url` once the signed-in person gave their second factor.
fn step_up_first(state: &AppState, url: &url::Url, flavor: Flavor) -> Response {
    let words = Onward {
        title: "Second factor required",
        lead: "This application asks for a second factor: give it at Portcullis to continue.",
    };
    send_to(state, "/second-factor", url, flavor, words)
}

/// The browser to Portcullis's `path` with `?next=<url>`, as the proxy passes it on.
fn send_to(
    state: &AppState,
    path: &str,
    url: &url::Url,
    flavor: Flavor,
    words: Onward,
) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(url.as_str().as_bytes()).collect();
    let to = format!("{}{path}?next={next}", state.public_url);
    let status = flavor.pick(StatusCode::FOUND, StatusCode::UNAUTHORIZED);
    let mut res = page(status, words.title, words.lead);
    if let Ok(v) = HeaderValue::from_str(&to) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

/// 200 with who is asking, in headers only Portcullis sets (the proxy copies them onto the
/// request to the application, after dropping any the client sent). All four are always
/// sent, empty when there is nothing to say (no email, no groups): Caddy 2.6's
/// `copy_headers` skips an empty value but writes its own unreplaced placeholder
/// (`{http.reverse_proxy.header.Remote-Groups}`) into the app's request for a missing one,
/// and nginx's `proxy_set_header` drops an empty value, so the app sees none either way.
fn allowed(app: &App, who: &Identity) -> Response {
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    let mut set = |name: HeaderName, value: &str| {
        // Control characters cannot travel in a header; anything else (UTF-8) can.
        let clean: String = value.chars().filter(|c| !c.is_control()).collect();
        if let Ok(v) = HeaderValue::from_bytes(clean.as_bytes()) {
            h.insert(name, v);
        }
    };
    set(REMOTE_USER, &who.username);
    set(REMOTE_NAME, &who.display_name);
    set(REMOTE_EMAIL, who.email.as_deref().unwrap_or(""));
    let (travel, stay): (Vec<&str>, Vec<&str>) = who
        .groups
        .iter()
        .map(String::as_str)
        .partition(|g| portcullis::apps::travels_in_header(g));
    if !stay.is_empty() {
        tracing::warn!(user = ?who.username, groups = ?stay, "forward-auth: groups whose names an application could read as other groups are left out of Remote-Groups (they still count for Portcullis's access rules)");
    }
    set(REMOTE_GROUPS, &travel.join(","));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tracing::debug!(user = ?who.username, app = ?app.settings.name, "forward-auth: allowed");
    res
}

/// 503: the check cannot know, so it refuses (fail closed).
fn unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = ?e.to_string(), "forward-auth: database unavailable");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again in a moment",
        "Portcullis cannot check who you are right now.",
    )
}
