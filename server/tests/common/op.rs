//! The OpenID Provider's test helpers: applications that are clients, a browser's way
//! through the authorization endpoint, the token endpoint, and row counts.

use super::TestApp;
use portcullis::apps::{AppDraft, ClientDraft};
use reqwest::header::LOCATION;
use reqwest::{Client, Response};

/// A client registered for tests: its application, client ID and secret (empty if public).
pub struct TestClient {
    pub app_id: String,
    pub client_id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// Application `name` (at `https://<name>.example`, for `access`, `users`) as a client with
/// `redirect_uri` and authentication `auth` (`basic`, `post` or `none`), as typed.
pub fn client_draft(
    name: &str,
    redirect_uri: &str,
    auth: &str,
    access: &str,
    users: &str,
) -> AppDraft {
    AppDraft {
        name: name.into(),
        urls: format!("https://{}.example", name.to_lowercase()),
        access: access.into(),
        users: users.into(),
        client: ClientDraft {
            oidc: true,
            redirect_uris: redirect_uri.into(),
            client_auth: auth.into(),
            ..ClientDraft::default()
        },
        ..AppDraft::default()
    }
}

/// [`client_draft`] stored as the editor would.
pub async fn add_client(
    app: &TestApp,
    name: &str,
    redirect_uri: &str,
    auth: &str,
    access: &str,
    users: &str,
) -> TestClient {
    store_client(app, client_draft(name, redirect_uri, auth, access, users)).await
}

/// A second client ("Other", redirect URI `https://other.example/cb`), open to every user.
pub async fn other_client(app: &TestApp) -> TestClient {
    add_client(
        app,
        "Other",
        "https://other.example/cb",
        "basic",
        "users",
        "",
    )
    .await
}

/// Stores `draft` (a client application) as the editor would.
pub async fn store_client(app: &TestApp, draft: AppDraft) -> TestClient {
    let valid = draft.validate().unwrap();
    let saved = portcullis::ssr::apps::create(&app.running.db, &valid, &super::by_cli())
        .await
        .unwrap();
    make_client(app, &saved.id, draft).await
}

/// Makes application `app_id` the client `draft` describes (its OpenID fields), as the
/// editor would: its client ID, and the secret shown once.
pub async fn make_client(app: &TestApp, app_id: &str, draft: AppDraft) -> TestClient {
    let valid = draft.validate().unwrap();
    let db = &app.running.db;
    let secret =
        portcullis::ssr::op::clients::save(db, app_id, &valid.settings.name, valid.client.as_ref())
            .await
            .unwrap()
            .unwrap_or_default();
    let client = portcullis::ssr::op::clients::get(db, app_id)
        .await
        .unwrap()
        .unwrap();
    TestClient {
        app_id: app_id.to_owned(),
        client_id: client.view.client_id,
        secret,
        redirect_uri: draft.client.redirect_uris,
    }
}

/// The rows the authorization and token endpoints write, in a fixed order: requests, codes,
/// grants, tokens, revoked grants.
pub async fn counts(app: &TestApp) -> [i64; 5] {
    let mut out = [0; 5];
    for (i, sql) in [
        "SELECT COUNT(*) FROM op_auth_requests",
        "SELECT COUNT(*) FROM op_codes",
        "SELECT COUNT(*) FROM op_grants",
        "SELECT COUNT(*) FROM op_tokens",
        "SELECT COUNT(*) FROM op_grants WHERE revoked_at IS NOT NULL",
    ]
    .into_iter()
    .enumerate()
    {
        out[i] = portcullis::on_pool!(&app.running.db, pool =>
            sqlx::query_scalar(sql).fetch_one(pool).await)
        .unwrap();
    }
    out
}

/// A `GET /oauth2/authorize` with `query` (built from pairs, repeated ones kept).
pub async fn authorize(app: &TestApp, browser: &Client, pairs: &[(&str, &str)]) -> Response {
    get_with(app, browser, "/oauth2/authorize", pairs).await
}

/// A `GET` of `path` with a query built from `pairs` (repeated ones kept), as `browser`.
pub async fn get_with(
    app: &TestApp,
    browser: &Client,
    path: &str,
    pairs: &[(&str, &str)],
) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    browser
        .get(app.url(&format!("{path}?{query}")))
        .send()
        .await
        .unwrap()
}

/// The usual pairs of a code request from `c` (with `state=st`, `nonce=n`, scope openid
/// profile email groups), plus `extra`.
pub fn request<'a>(c: &'a TestClient, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![
        ("client_id", c.client_id.as_str()),
        ("redirect_uri", c.redirect_uri.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile email groups"),
        ("state", "st"),
        ("nonce", "n"),
    ];
    pairs.extend_from_slice(extra);
    pairs
}

/// The query parameters of a redirect's `Location`, and the location without its query.
pub fn redirected(res: &Response) -> (String, Vec<(String, String)>) {
    let location = res
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("a redirect, got {}", res.status()))
        .to_str()
        .unwrap()
        .to_owned();
    let url = url::Url::parse(&location).unwrap_or_else(|_| {
        url::Url::parse("http://portcullis.invalid")
            .unwrap()
            .join(&location)
            .unwrap()
    });
    let pairs = url.query_pairs().into_owned().collect();
    let mut base = url.clone();
    base.set_query(None);
    (base.to_string(), pairs)
}

/// The value of `name` in `pairs`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A code for `c` as signed-in `browser`, with PKCE challenge `challenge` if given.
pub async fn code_for(
    app: &TestApp,
    browser: &Client,
    c: &TestClient,
    challenge: Option<&str>,
) -> String {
    let mut extra = vec![];
    if let Some(ch) = challenge {
        extra = vec![("code_challenge", ch), ("code_challenge_method", "S256")];
    }
    let res = authorize(app, browser, &request(c, &extra)).await;
    let (_, pairs) = redirected(&res);
    param(&pairs, "code")
        .unwrap_or_else(|| panic!("a code: {pairs:?}"))
        .to_owned()
}

/// The token response for the code `browser` gets for `c` with request `pairs` (exchanged
/// with Basic authentication, no verifier).
pub async fn tokens_at(
    app: &TestApp,
    browser: &Client,
    c: &TestClient,
    pairs: &[(&str, &str)],
) -> serde_json::Value {
    let (_, query) = redirected(&authorize(app, browser, pairs).await);
    let code = param(&query, "code")
        .unwrap_or_else(|| panic!("a code: {query:?}"))
        .to_owned();
    let (status, body) = exchange(app, c, &code, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// [`tokens_at`] for the usual request ([`request`]) with `scope` instead.
pub async fn tokens_for(
    app: &TestApp,
    c: &TestClient,
    browser: &Client,
    scope: &str,
) -> serde_json::Value {
    let mut pairs = request(c, &[]);
    pairs.retain(|(k, _)| *k != "scope");
    pairs.push(("scope", scope));
    tokens_at(app, browser, c, &pairs).await
}

/// An ID token `c` got for `browser`'s person.
pub async fn id_token_for(app: &TestApp, browser: &Client, c: &TestClient) -> String {
    let code = code_for(app, browser, c, None).await;
    let (status, body) = exchange(app, c, &code, None).await;
    assert_eq!(status, 200, "{body}");
    body["id_token"].as_str().unwrap().to_owned()
}

/// What `prompt=none` from `browser` gets for `c` at its redirect URI: the `error`, or
/// `None` with a code.
pub async fn prompt_none_error(app: &TestApp, browser: &Client, c: &TestClient) -> Option<String> {
    let res = authorize(app, browser, &request(c, &[("prompt", "none")])).await;
    let (_, got) = redirected(&res);
    assert!(
        param(&got, "error").is_some() || param(&got, "code").is_some(),
        "{got:?}"
    );
    param(&got, "error").map(str::to_owned)
}

/// RFC 7636 appendix B's verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// `POST /oauth2/token` with `form`, the client authenticating with Basic when `basic` is
/// `Some((id, secret))`. The status and the JSON body.
pub async fn token(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    client_post(app, "/oauth2/token", basic, form).await
}

/// [`token`] at any endpoint where clients authenticate (`/oauth2/revoke`, ...).
pub async fn client_post(
    app: &TestApp,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let res = client_request(app, path, basic, form).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// The request [`client_post`] sends, for a test to add to (a header) before sending it.
pub fn client_request(
    app: &TestApp,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let req = super::http()
        .post(app.url(path))
        .header("origin", "https://rp.example")
        .form(form);
    match basic {
        Some((id, secret)) => req.basic_auth(id, Some(secret)),
        None => req,
    }
}

/// Exchanges `code` for `c` with Basic authentication.
pub async fn exchange(
    app: &TestApp,
    c: &TestClient,
    code: &str,
    verifier: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", c.redirect_uri.as_str()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token(app, Some((&c.client_id, &c.secret)), &form).await
}

/// `GET /oauth2/userinfo` with `token` as Bearer: the status and the JSON body (`Null`
/// when there is none).
pub async fn get_userinfo(app: &TestApp, token: &str) -> (u16, serde_json::Value) {
    let res = super::http()
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// [`get_userinfo`]'s status.
pub async fn userinfo_status(app: &TestApp, token: &str) -> u16 {
    get_userinfo(app, token).await.0
}

/// The claims of an ID token (its payload; the signature is the relying parties' tests'
/// business).
pub fn id_token_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
