//! OpenID Connect provider settings through the server functions, on SQLite and
//! PostgreSQL: create, edit, reorder, disable, delete, admin-only access, the secret never
//! leaving the server, encryption at rest, and the login-method rule.

mod common;

use common::TestApp;
use common::flow::signed_in;
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
    app.add_user("root", "root password", true).await;
    signed_in(app, "root").await
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
    let status = seen
        .status(app, &admin, "admin/move_provider", "slug=key-cloak&by=-1")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, s) = seen.call(app, &admin, "admin/oidc_settings", &[]).await;
    let order = strs(&s["providers"], "slug");
    assert_eq!(order, ["key-cloak", "dead"]);
    assert_eq!(s["redirect_uri"], format!("{}/login", app.base));

    // The login page sees enabled providers only, only with OpenID Connect on, and only
    // slug, name, logo and order.
    let anon = app.browser();
    let (_, lp) = seen.call(app, &anon, "auth/login_providers", &[]).await;
    assert_eq!(lp.as_array().unwrap().len(), 0, "OIDC sign-in is off");
    let status = seen
        .status(
            app,
            &admin,
            "admin/set_login_method",
            "method=oidc&enabled=true",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let status = seen
        .status(
            app,
            &admin,
            "admin/set_provider_enabled",
            "slug=dead&enabled=false",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
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
    app.add_user("bob", "bob password", false).await;
    let bob = signed_in(app, "bob").await;
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
        ("admin/move_provider", pairs(&[("slug", "x"), ("by", "1")])),
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

async fn one_login_method_stays_on(app: &TestApp) {
    let admin = admin(app).await;
    let mut seen = Seen::default();
    let (status, body) = seen
        .call(
            app,
            &admin,
            "admin/set_login_method",
            &pairs(&[("method", "local"), ("enabled", "false")]),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.to_string()
            .contains("At least one login method must stay enabled"),
        "{body}"
    );

    let corp = draft("Corp", "corp", "https://sso.corp.example", SECRET, true);
    let (status, _) = seen.save(app, &admin, "", true, &corp).await;
    assert_eq!(status, StatusCode::OK);
    // Password sign-in goes off only once an administrator can sign in through a provider
    // (with OpenID Connect on, that is the condition left).
    let status = seen
        .status(
            app,
            &admin,
            "admin/set_login_method",
            "method=oidc&enabled=true",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = seen
        .call(
            app,
            &admin,
            "admin/set_login_method",
            &pairs(&[("method", "local"), ("enabled", "false")]),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.to_string()
            .contains("an administrator can sign in through an enabled provider"),
        "{body}"
    );
    portcullis::exec!(
        &app.running.db,
        "INSERT INTO linked_identities (id, user_id, provider_slug, subject, linked_at) \
         SELECT 'root-corp', id, 'corp', 'root', 0 FROM users WHERE username = 'root'"
    )
    .unwrap();
    // With a provider, OpenID Connect can take over from passwords.
    for (endpoint, form) in [
        ("admin/set_login_method", "method=oidc&enabled=true"),
        ("admin/set_login_method", "method=local&enabled=false"),
    ] {
        let status = seen.status(app, &admin, endpoint, form).await;
        assert_eq!(status, StatusCode::OK, "{endpoint} {form}");
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
    let other = app.browser();
    let res = app.login(&other, "root", "root password").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Password sign-in is turned off")
    );
}
both_backends!(one_login_method_stays_on);

async fn secrets_are_encrypted_at_rest(app: &TestApp) {
    let admin = admin(app).await;
    let mut seen = Seen::default();
    let corp = draft("Corp", "corp", "https://sso.corp.example", SECRET, true);
    let (status, _) = seen.save(app, &admin, "", true, &corp).await;
    assert_eq!(status, StatusCode::OK);
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
    let on = "method=oidc&enabled=true";
    let status = seen.status(app, &c, "admin/set_login_method", on).await;
    assert_eq!(status, StatusCode::OK);

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
