//! OpenID Connect provider settings through the server functions, on SQLite and
//! PostgreSQL: create, edit, reorder, disable, delete, admin-only access, the secret never
//! leaving the server, encryption at rest, and the login-method rule.

use crate::common;

use common::TestApp;
use common::flow::{add_signed_in, page_text, password_sign_in_is_off};
use common::idp::Idp;
use reqwest::{Client, StatusCode};
use serde_json::Value;

const SECRET: &str = "very-secret-client-secret-4f1c9";

fn draft<'a>(
    name: &'a str,
    slug: &'a str,
    issuer: &'a str,
    secret: &'a str,
    enabled: bool,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("draft[name]".to_owned(), name.to_owned()),
        ("draft[slug]".to_owned(), slug.to_owned()),
        ("draft[issuer_url]".to_owned(), issuer.to_owned()),
        ("draft[client_id]".to_owned(), "portcullis-basic".to_owned()),
        ("draft[client_secret]".to_owned(), secret.to_owned()),
        (
            "draft[scopes]".to_owned(),
            "openid, profile, email".to_owned(),
        ),
        ("draft[required_claims]".to_owned(), String::new()),
        ("draft[logo]".to_owned(), String::new()),
    ];
    if enabled {
        form.push(("draft[enabled]".to_owned(), "true".to_owned()));
    }
    form
}

/// Every response body seen in a test, to search for the secret afterwards.
#[derive(Default)]
struct Seen(Vec<u8>);

impl Seen {
    async fn call(
        &mut self,
        app: &TestApp,
        c: &Client,
        endpoint: &str,
        form: &[(String, String)],
    ) -> (StatusCode, Value) {
        let res = c
            .post(app.url(&format!("/api/{endpoint}")))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.bytes().await.unwrap();
        self.0.extend_from_slice(&bytes);
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn page(&mut self, app: &TestApp, c: &Client, path: &str) -> String {
        let bytes = app.page(c, path).await.bytes().await.unwrap();
        self.0.extend_from_slice(&bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    async fn save(
        &mut self,
        app: &TestApp,
        c: &Client,
        original_slug: &str,
        confirm: bool,
        draft: &[(String, String)],
    ) -> (StatusCode, Value) {
        let form = save_form(original_slug, confirm, draft.to_vec());
        self.call(app, c, "admin/save_provider", &form).await
    }

    /// Calls `endpoint` with `form` (URL-encoded, as a browser sends it); only the status.
    async fn status(
        &mut self,
        app: &TestApp,
        c: &Client,
        endpoint: &str,
        form: &str,
    ) -> StatusCode {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        self.call(app, c, endpoint, &form).await.0
    }

    /// [`Seen::status`] that must be 200.
    async fn ok(&mut self, app: &TestApp, c: &Client, endpoint: &str, form: &str) {
        let status = self.status(app, c, endpoint, form).await;
        assert_eq!(status, StatusCode::OK, "{endpoint} {form}");
    }

    fn contains(&self, needle: &str) -> bool {
        self.0.windows(needle.len()).any(|w| w == needle.as_bytes())
    }
}

/// `draft` with its logo (a URL or a data URI) set.
fn with_logo(mut draft: Vec<(String, String)>, logo: &str) -> Vec<(String, String)> {
    for (field, value) in &mut draft {
        if field == "draft[logo]" {
            *value = logo.to_owned();
        }
    }
    draft
}

/// The `admin/save_provider` form: the slug being edited (empty for a new provider),
/// whether the admin confirms despite a warning, and the draft's fields.
fn save_form(
    original_slug: &str,
    confirm: bool,
    draft: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut form = vec![("original_slug".to_owned(), original_slug.to_owned())];
    if confirm {
        form.push(("confirm".to_owned(), "true".to_owned()));
    }
    form.extend(draft);
    form
}

/// Field `field` of every item in the array `list`.
fn strs<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    let items = list.as_array().unwrap().iter();
    items.map(|item| item[field].as_str().unwrap()).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn admin(app: &TestApp) -> Client {
    add_signed_in(app, "root", true).await
}

/// The users page's switch that turns OpenID Connect sign-in on.
const OIDC_ON: &str = "method=oidc&enabled=true";

/// Where provider `corp` says it is (nothing answers there).
const CORP_ISSUER: &str = "https://sso.corp.example";

/// The administrator's browser and provider `corp` ("Corp" at [`CORP_ISSUER`], saved through
/// the editor, confirmed), with the responses seen and the saved provider's view.
async fn with_corp(app: &TestApp) -> (Client, Seen, Value) {
    let admin = admin(app).await;
    let mut seen = Seen::default();
    let corp = draft("Corp", "corp", CORP_ISSUER, SECRET, true);
    let (status, view) = seen.save(app, &admin, "", true, &corp).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    (admin, seen, view)
}

async fn provider_lifecycle(app: &TestApp) {
    let idp = Idp::start(&[format!("{}/login", app.base)]).await;
    let admin = admin(app).await;
    let mut seen = Seen::default();

    // Enabled + unreachable issuer: a clear warning, nothing saved, unless confirmed.
    let dead = "http://127.0.0.1:9/realms/none";
    let dead_draft = draft("Dead", "dead", dead, SECRET, true);
    let (status, body) = seen.save(app, &admin, "", false, &dead_draft).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let warning = body["NeedsConfirmation"].as_str().unwrap();
    assert!(
        warning.contains("Could not reach the provider") && warning.contains("Save anyway"),
        "{warning}"
    );
    let (_, list) = seen.call(app, &admin, "admin/oidc_settings", &[]).await;
    assert_eq!(
        list["providers"].as_array().unwrap().len(),
        0,
        "nothing half-saved"
    );
    let (status, _) = seen.save(app, &admin, "", true, &dead_draft).await;
    assert_eq!(status, StatusCode::OK);

    // A real provider: discovery passes, no confirmation needed; the slug comes from the name.
    let key_cloak = draft("Key Cloak", "", &idp.issuer, SECRET, true);
    let (status, kc) = seen.save(app, &admin, "", false, &key_cloak).await;
    assert_eq!(status, StatusCode::OK, "{kc}");
    assert_eq!(kc["slug"], "key-cloak");
    assert_eq!(kc["has_client_secret"], true);
    assert_eq!(kc["position"], 1);

    // Bad input names its fields and stores nothing.
    let bad = draft("", "Bad Slug", "http://insecure.example.com", "", true);
    let (status, body) = seen.save(app, &admin, "", false, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = strs(&body["Validation"], "field");
    assert_eq!(fields, ["name", "issuer_url", "client_secret", "slug"]);

    // Duplicate slug (also differing only by case is impossible: slugs are lowercase).
    let duplicate = draft("Other", "key-cloak", &idp.issuer, SECRET, false);
    let (status, body) = seen.save(app, &admin, "", true, &duplicate).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.to_string().contains("already uses the slug"), "{body}");

    // Edit without a secret keeps it; the slug cannot change.
    let edit = draft("Keycloak", "key-cloak", &idp.issuer, "", true);
    let (status, edited) = seen.save(app, &admin, "key-cloak", false, &edit).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["name"], "Keycloak");
    assert_eq!(edited["has_client_secret"], true);
    let row = portcullis::ssr::providers::get(&app.running.db, "key-cloak")
        .await
        .unwrap()
        .unwrap();
    let secrets = app.config.secrets().unwrap();
    assert_eq!(row.client_secret(&secrets).unwrap(), SECRET, "secret kept");
    let renamed = draft("Keycloak", "renamed", &idp.issuer, "", true);
    let (status, body) = seen.save(app, &admin, "key-cloak", false, &renamed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.to_string().contains("cannot change"), "{body}");

    // Reorder: move Keycloak above Dead.
    let up = "list=provider&key=key-cloak&by=-1";
    seen.ok(app, &admin, "admin/move", up).await;
    let (_, s) = seen.call(app, &admin, "admin/oidc_settings", &[]).await;
    let order = strs(&s["providers"], "slug");
    assert_eq!(order, ["key-cloak", "dead"]);
    assert_eq!(s["redirect_uri"], format!("{}/login", app.base));

    // The login page sees enabled providers only, only with OpenID Connect on, and only
    // slug, name, logo and order.
    let anon = app.browser();
    let (_, lp) = seen.call(app, &anon, "auth/login_providers", &[]).await;
    assert_eq!(lp.as_array().unwrap().len(), 0, "OIDC sign-in is off");
    seen.ok(app, &admin, "admin/set_login_method", OIDC_ON)
        .await;
    seen.ok(
        app,
        &admin,
        "admin/set_provider_enabled",
        "slug=dead&enabled=false",
    )
    .await;
    let (_, lp) = seen.call(app, &anon, "auth/login_providers", &[]).await;
    assert_eq!(
        lp,
        serde_json::json!([{"slug": "key-cloak", "name": "Keycloak", "logo": "", "position": 0}])
    );

    // Delete with its linked accounts.
    let user_id = portcullis::ssr::users::list(&app.running.db).await.unwrap()[0]
        .id
        .clone();
    portcullis::on_pool!(&app.running.db, pool => sqlx::query(
        "INSERT INTO linked_identities (id, user_id, provider_slug, subject, linked_at) VALUES ('l1', $1, 'dead', 'sub-1', 0)")
        .bind(&user_id).execute(pool).await.map(|_| ())).unwrap();
    let (_, s) = seen.call(app, &admin, "admin/oidc_settings", &[]).await;
    assert_eq!(s["providers"][1]["linked_accounts"], 1);
    let (status, removed) = seen
        .call(
            app,
            &admin,
            "admin/delete_provider",
            &pairs(&[("slug", "dead")]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(removed, 1);
    let links: i64 = portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM linked_identities").fetch_one(pool).await)
    .unwrap();
    assert_eq!(links, 0);
    let status = seen
        .status(app, &admin, "admin/delete_provider", "slug=dead")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Pages too, and test connection.
    let html = seen.page(app, &admin, "/settings/users/oidc").await;
    assert!(html.contains("Keycloak"));
    let html = seen
        .page(app, &admin, "/settings/users/oidc/edit/key-cloak")
        .await;
    assert!(html.contains("A secret is set"));
    assert!(
        html.contains(&format!("value=\"{}\"", idp.issuer)),
        "fields are filled without JavaScript"
    );
    assert!(!html.contains(SECRET));
    let (status, report) = seen
        .call(
            app,
            &admin,
            "admin/test_connection",
            &pairs(&[
                ("issuer_url", &idp.issuer),
                ("scopes", "openid, profile, email, groups"),
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["pkce_s256"], true);
    assert!(report["signing_keys"].as_u64().unwrap() >= 1);
    assert!(
        report["warnings"].to_string().contains("groups"),
        "{report}"
    );

    assert!(
        !seen.contains(SECRET),
        "the client secret never appears in a response"
    );
    assert!(!seen.contains("v1:"), "nor its ciphertext");
}
both_backends!(provider_lifecycle);

async fn non_admins_are_refused_everywhere(app: &TestApp) {
    let bob = add_signed_in(app, "bob", false).await;
    let anon = app.browser();
    let mut seen = Seen::default();
    let calls: Vec<(&str, Vec<(String, String)>)> = vec![
        ("admin/oidc_settings", vec![]),
        ("admin/provider", pairs(&[("slug", "x")])),
        (
            "admin/save_provider",
            save_form(
                "",
                true,
                draft("X", "x", "https://x.example", SECRET, false),
            ),
        ),
        ("admin/delete_provider", pairs(&[("slug", "x")])),
        (
            "admin/move",
            pairs(&[("list", "provider"), ("key", "x"), ("by", "1")]),
        ),
        (
            "admin/set_provider_enabled",
            pairs(&[("slug", "x"), ("enabled", "true")]),
        ),
        (
            "admin/set_login_method",
            pairs(&[("method", "oidc"), ("enabled", "true")]),
        ),
        (
            "admin/test_connection",
            pairs(&[("issuer_url", "https://x.example"), ("scopes", "openid")]),
        ),
    ];
    for (endpoint, form) in &calls {
        let (status, _) = seen.call(app, &bob, endpoint, form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{endpoint} as a user");
        let (status, _) = seen.call(app, &anon, endpoint, form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{endpoint} signed out");
    }
    assert_eq!(
        portcullis::ssr::providers::list(&app.running.db)
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.page(&bob, "/settings/users/oidc").await.status(),
        StatusCode::FORBIDDEN
    );
}
both_backends!(non_admins_are_refused_everywhere);

/// Turning password sign-in off is refused with a message that says `because`.
async fn local_off_refused(seen: &mut Seen, app: &TestApp, admin: &Client, because: &str) {
    let off = pairs(&[("method", "local"), ("enabled", "false")]);
    let (status, body) = seen.call(app, admin, "admin/set_login_method", &off).await;
    assert_eq!(status, StatusCode::CONFLICT, "{because}");
    assert!(body.to_string().contains(because), "{body}");
}

async fn one_login_method_stays_on(app: &TestApp) {
    let admin = admin(app).await;
    let mut seen = Seen::default();
    // Password sign-in is the only way in.
    local_off_refused(
        &mut seen,
        app,
        &admin,
        "At least one login method must stay enabled",
    )
    .await;

    let corp = draft("Corp", "corp", CORP_ISSUER, SECRET, true);
    let (status, _) = seen.save(app, &admin, "", true, &corp).await;
    assert_eq!(status, StatusCode::OK);
    // Password sign-in goes off only once an administrator can sign in through a provider
    // (with OpenID Connect on, that is the condition left).
    seen.ok(app, &admin, "admin/set_login_method", OIDC_ON)
        .await;
    let because = "an administrator can sign in through an enabled provider";
    local_off_refused(&mut seen, app, &admin, because).await;
    app.link_root("corp").await;
    // With a provider, OpenID Connect can take over from passwords.
    for (endpoint, form) in [
        ("admin/set_login_method", OIDC_ON),
        ("admin/set_login_method", "method=local&enabled=false"),
    ] {
        seen.ok(app, &admin, endpoint, form).await;
    }
    // Now the last enabled provider and OpenID Connect itself must stay.
    for (endpoint, form) in [
        ("admin/set_provider_enabled", "slug=corp&enabled=false"),
        ("admin/delete_provider", "slug=corp"),
        ("admin/set_login_method", "method=oidc&enabled=false"),
    ] {
        let status = seen.status(app, &admin, endpoint, form).await;
        assert_eq!(status, StatusCode::CONFLICT, "{endpoint} {form}");
    }

    // Password sign-in is refused while local sign-in is off.
    password_sign_in_is_off(app, &app.browser(), "root").await;
}
both_backends!(one_login_method_stays_on);

async fn secrets_are_encrypted_at_rest(app: &TestApp) {
    let _ = with_corp(app).await;
    let stored: String = portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
        "SELECT client_secret_enc FROM oidc_providers WHERE slug = 'corp'").fetch_one(pool).await)
    .unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains(SECRET));
    if let Some(url) = &app.config.database_url
        && let Some(path) = url.strip_prefix("sqlite://")
    {
        // Flush the WAL into the main file, then search every byte on disk.
        portcullis::on_pool!(&app.running.db, pool => sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await.map(|_| ())).unwrap();
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "secret in clear in the database file"
        );
    }
}
both_backends!(secrets_are_encrypted_at_rest);

/// An uploaded logo is not inlined into every sign-in page: the page links to it, and it is
/// served as an image of its own, cacheable for good and unable to run script.
async fn uploaded_logos_are_served_on_their_own(app: &TestApp) {
    use base64::Engine;
    let idp = Idp::start(&[app.url("/login")]).await;
    let c = admin(app).await;
    let mut seen = Seen::default();
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>"#;
    let data_uri = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    );
    let uploaded = draft("Uploaded", "uploaded", &idp.issuer, SECRET, true);
    let (status, body) = seen
        .save(app, &c, "", false, &with_logo(uploaded, &data_uri))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let linked = draft("Linked", "linked", &idp.issuer, SECRET, true);
    let url = "https://icons.example/a.svg";
    let (status, body) = seen.save(app, &c, "", false, &with_logo(linked, url)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    seen.ok(app, &c, "admin/set_login_method", OIDC_ON).await;

    let page = seen.page(app, &app.browser(), "/login").await;
    assert!(!page.contains("data:image"), "the image is not inlined");
    assert!(
        page.contains("https://icons.example/a.svg"),
        "URL logos stay as they are"
    );
    let start = page
        .find("/api/v1/providers/uploaded/logo?v=")
        .expect("a logo URL");
    let path = &page[start..start + page[start..].find('"').unwrap()];

    let logo = app.browser().get(app.url(path)).send().await.unwrap();
    assert_eq!(logo.status(), StatusCode::OK);
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    assert!(
        logo.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let csp = logo.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    assert_eq!(&logo.bytes().await.unwrap()[..], &svg[..]);

    for missing in [
        "/api/v1/providers/linked/logo",
        "/api/v1/providers/nobody/logo",
    ] {
        let r = app.browser().get(app.url(missing)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}
both_backends!(uploaded_logos_are_served_on_their_own);

/// Issue 18 item 10: the stored client secret was issued by one issuer for one client. An
/// edit that changes either with the secret left empty is refused with the secret's field
/// error (the editor's Save with and without JavaScript, `provider update`, storage); typed
/// again, it saves. Nothing changes on a refusal.
async fn a_stored_secret_never_follows_a_new_issuer_or_client(app: &TestApp) {
    let (admin, mut seen, _) = with_corp(app).await;
    let issuer = CORP_ISSUER;
    let secrets = app.config.secrets().unwrap();
    let stored = async || {
        let row = portcullis::ssr::providers::get(&app.running.db, "corp")
            .await
            .unwrap()
            .unwrap();
        let secret = row.client_secret(&secrets).unwrap();
        (row.issuer_url, row.client_id, secret)
    };
    let unchanged = (
        issuer.to_owned(),
        "portcullis-basic".to_owned(),
        SECRET.to_owned(),
    );
    let with = |field: &str, value: &str, secret: &str| {
        let mut d = draft("Corp", "corp", issuer, secret, true);
        for (k, v) in &mut d {
            if k == &format!("draft[{field}]") {
                *v = value.to_owned();
            }
        }
        d
    };

    // Save with JavaScript (the server function), confirmed or not: the field error first.
    for (field, value) in [
        ("issuer_url", "https://sso.other.example"),
        ("client_id", "another-client"),
    ] {
        for confirm in [false, true] {
            let (status, body) = seen
                .save(app, &admin, "corp", confirm, &with(field, value, ""))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
            assert_eq!(strs(&body["Validation"], "field"), ["client_secret"]);
            assert_eq!(
                body["Validation"][0]["message"],
                "The issuer or client ID changed: enter the client secret again."
            );
            assert_eq!(stored().await, unchanged, "{field}: nothing saved");
        }
    }

    // Without JavaScript: back on the editor, the error beside Client Secret.
    let edit_page = "/settings/users/oidc/edit/corp";
    let form = save_form("corp", false, with("client_id", "another-client", ""));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = app
        .post_form(&admin, "admin/save_provider", edit_page, &form)
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let page = seen.page(app, &admin, edit_page).await;
    let error = page
        .find("id=\"field-client_secret-error\"")
        .map(|i| &page[i..(i + 300).min(page.len())])
        .unwrap_or("(no client secret error)");
    assert!(error.contains("enter the client secret again"), "{error}");
    assert_eq!(stored().await, unchanged);

    // The CLI names the flag that gives it.
    let cli = |args: &[&str], input: &str| {
        let args = [&["provider", "update", "--slug", "corp"], args].concat();
        app.cli_with_input(&args, input)
    };
    for args in [
        ["--issuer-url", "https://sso.other.example"],
        ["--client-id", "another-client"],
    ] {
        let run = cli(&args, "");
        assert!(!run.ok, "{args:?}");
        assert!(
            run.stderr.contains(
                "--client-secret-stdin: The issuer or client ID changed: enter the client secret again."
            ),
            "{}",
            run.text()
        );
        assert_eq!(stored().await, unchanged);
    }

    // Storage refuses it whoever calls.
    let mut d = portcullis::ssr::providers::get_view(&app.running.db, "corp")
        .await
        .unwrap()
        .unwrap()
        .draft();
    d.client_id = "another-client".into();
    let valid = d
        .validate(
            portcullis::provider::Mode::Update,
            portcullis::provider::IssuerPolicy::default(),
        )
        .unwrap();
    let refused = portcullis::ssr::providers::update(
        &app.running.db,
        &secrets,
        "corp",
        &valid,
        &common::by_cli(),
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(portcullis::ssr::providers::ProviderError::SecretAgain)
        ),
        "{refused:?}"
    );
    assert_eq!(stored().await, unchanged);

    // Typed again, the change saves with the new secret; the same issuer and client keep it.
    let (status, body) = seen
        .save(
            app,
            &admin,
            "corp",
            true,
            &with("client_id", "another-client", "new-secret-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let moved = (
        "https://sso.corp.example".to_owned(),
        "another-client".to_owned(),
    );
    assert_eq!(
        stored().await,
        (moved.0.clone(), moved.1.clone(), "new-secret-1".to_owned())
    );
    let run = cli(
        &[
            "--issuer-url",
            "https://sso.other.example",
            "--client-secret-stdin",
        ],
        "new-secret-2\n",
    );
    assert!(run.ok, "{}", run.text());
    assert_eq!(
        stored().await,
        (
            "https://sso.other.example".to_owned(),
            moved.1.clone(),
            "new-secret-2".to_owned()
        )
    );
    let run = cli(&["--name", "Corp SSO"], "");
    assert!(run.ok, "{}", run.text());
    assert_eq!(
        stored().await.2,
        "new-secret-2",
        "kept for the same issuer and client"
    );
    assert!(!seen.contains(SECRET) && !seen.contains("new-secret"));
}
both_backends!(a_stored_secret_never_follows_a_new_issuer_or_client);

/// "Groups are authoritative" (issue 18 item 9): off for a new provider, through the
/// editor's Save and `provider add|update --groups-authoritative` alike, shown as stored.
async fn groups_authoritative_round_trips(app: &TestApp) {
    let (admin, mut seen, view) = with_corp(app).await;
    assert_eq!(view["groups_authoritative"], false, "off unless chosen");
    let mut on = draft("Corp", "corp", CORP_ISSUER, "", true);
    on.push(("draft[groups_authoritative]".into(), "true".into()));
    let (status, view) = seen.save(app, &admin, "corp", true, &on).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["groups_authoritative"], true);
    let html = seen
        .page(app, &admin, "/settings/users/oidc/edit/corp")
        .await;
    let at = html
        .find("name=\"draft[groups_authoritative]\"")
        .expect("the checkbox");
    let tag = &html[html[..at].rfind('<').unwrap()..at + html[at..].find('>').unwrap()];
    assert!(tag.contains("checked"), "{tag}");

    let run = app.cli(&[
        "provider",
        "update",
        "--slug",
        "corp",
        "--groups-authoritative",
        "false",
    ]);
    assert!(run.ok, "{}", run.text());
    let view = portcullis::ssr::providers::get_view(&app.running.db, "corp")
        .await
        .unwrap()
        .unwrap();
    assert!(!view.settings.groups_authoritative);
    assert!(!view.draft().settings.groups_authoritative);
}
both_backends!(groups_authoritative_round_trips);

/// Every provider setting has its field in the editor (`draft[<name>]`), so none is stored
/// that an administrator cannot see or change.
async fn the_editor_has_every_setting(app: &TestApp) {
    let admin = admin(app).await;
    let html = page_text(app, &admin, "/settings/users/oidc/new").await;
    for name in portcullis::provider::ProviderSettings::<portcullis::provider::Typed>::NAMES {
        assert!(
            html.contains(&format!("name=\"draft[{name}]\"")),
            "no field for {name}"
        );
    }
}
both_backends!(the_editor_has_every_setting);
