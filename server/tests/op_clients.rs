//! Applications as OpenID Connect clients (issue 21, slice 2): the editor's server function
//! and the CLI store them, the secret is made once, shown once and stored hashed, and the
//! client ID is frozen once used.

use crate::common;
use common::TestApp;
use common::flow::{add_signed_in, call_json};
use portcullis::apps::{AppDraft, ClientDraft};
use portcullis::ssr::op::clients::{self, secret_matches};
use serde_json::Value;

async fn admin(app: &TestApp) -> reqwest::Client {
    add_signed_in(app, "root", true).await
}

fn wiki(client: ClientDraft) -> AppDraft {
    AppDraft {
        name: "Wiki".into(),
        urls: "https://wiki.example".into(),
        access: "users".into(),
        client,
        ..AppDraft::default()
    }
}

fn oidc(redirect: &str) -> ClientDraft {
    ClientDraft {
        oidc: true,
        redirect_uris: redirect.into(),
        ..ClientDraft::default()
    }
}

/// Saves `d` through the editor's server function (`id` empty: a new application).
async fn save(app: &TestApp, admin: &reqwest::Client, id: &str, d: &AppDraft) -> (u16, Value) {
    let form = common::draft_form(("id", id), d);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = app.call(admin, "admin/save_app", &form).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn app_count(app: &TestApp) -> i64 {
    portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_scalar("SELECT COUNT(*) FROM applications").fetch_one(pool).await)
    .unwrap()
}

/// The editor makes a client: a client ID from the name, a secret shown once on the
/// applications page and stored only as its hash; the editor's data never carries the hash.
/// Turning OpenID Connect off deletes the client.
async fn editor_round_trip(app: &TestApp) {
    let root = admin(app).await;
    let (status, body) = save(app, &root, "", &wiki(oidc("https://wiki.example/cb"))).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let stored = clients::get(&app.running.db, &id).await.unwrap().unwrap();
    assert!(
        stored.view.client_id.starts_with("wiki-"),
        "{:?}",
        stored.view
    );
    assert_eq!(
        stored.view.settings.uris.redirect_uris,
        ["https://wiki.example/cb"]
    );
    assert_eq!(
        stored.view.settings.scopes,
        ["openid", "profile", "email", "groups"]
    );
    let hash = stored.secret_hash.clone().unwrap();
    assert!(hash.starts_with("sha256:"));

    let page = call_json(app, &root, "admin/apps").await;
    let notice = page["messages"]["notice"].as_str().unwrap().to_owned();
    let secret = notice
        .split_whitespace()
        .find(|w| w.starts_with("pc_cs_"))
        .unwrap();
    assert!(secret_matches(&hash, secret), "the notice shows the secret");
    assert_eq!(
        page["clients"][0][1]["client_id"],
        stored.view.client_id.as_str()
    );
    let again = call_json(app, &root, "admin/apps").await;
    assert!(again["messages"]["notice"].is_null(), "shown once");
    let sessions: Vec<String> = portcullis::on_pool!(&app.running.db, pool =>
        sqlx::query_scalar("SELECT data FROM sessions").fetch_all(pool).await)
    .unwrap();
    assert!(
        sessions.iter().all(|d| !d.contains(secret)),
        "gone once shown"
    );

    let editor = app
        .call(&root, "admin/app_editor", &[("id", id.as_str())])
        .await
        .text()
        .await
        .unwrap();
    assert!(editor.contains(&stored.view.client_id), "{editor}");
    assert!(!editor.contains("sha256:") && !editor.contains(secret));

    // Saved again unchanged: the same client ID and secret.
    let mut d = wiki(stored.view.draft());
    d.client.client_scopes = "openid email".into();
    // The draft's other yes/no field reads a form's text beside the flattened client fields.
    d.allow_tokens = true;
    let (status, body) = save(app, &root, &id, &d).await;
    assert_eq!(status, 200, "{body}");
    let saved = portcullis::ssr::apps::get(&app.running.db, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(saved.settings.allow_tokens);
    let after = clients::get(&app.running.db, &id).await.unwrap().unwrap();
    assert_eq!(after.view.client_id, stored.view.client_id);
    assert_eq!(after.secret_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(after.view.settings.scopes, ["openid", "email"]);
    assert!(call_json(app, &root, "admin/apps").await["messages"]["notice"].is_null());

    // A public client has no secret.
    d.client.client_auth = "none".into();
    save(app, &root, &id, &d).await;
    let public = clients::get(&app.running.db, &id).await.unwrap().unwrap();
    assert_eq!(public.secret_hash, None);
    assert_eq!(public.view.secret_hint, None);

    d.client.oidc = false;
    let (status, _) = save(app, &root, &id, &d).await;
    assert_eq!(status, 200);
    assert!(clients::get(&app.running.db, &id).await.unwrap().is_none());
}
both_backends!(editor_round_trip);

/// Bad client fields are named, and nothing is saved: no application, no client.
async fn bad_fields_save_nothing(app: &TestApp) {
    let root = admin(app).await;
    let mut c = oidc("http://wiki.example/cb");
    c.client_scopes = "openid address".into();
    let (status, body) = save(app, &root, "", &wiki(c)).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("redirect_uris") && text.contains("plain http only on"),
        "{text}"
    );
    assert!(
        text.contains("client_scopes") && text.contains("\\\"address\\\""),
        "{text}"
    );
    assert_eq!(app_count(app).await, 0);

    // Another application's client ID: refused before anything is written.
    let mut first = oidc("https://wiki.example/cb");
    first.client_id = "shared".into();
    assert_eq!(save(app, &root, "", &wiki(first.clone())).await.0, 200);
    let mut other = wiki(first);
    other.name = "Other".into();
    let (status, body) = save(app, &root, "", &other).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("client_id"), "{body}");
    assert_eq!(app_count(app).await, 1);
}
both_backends!(bad_fields_save_nothing);

/// The client ID may change until the client's first code exchange, then not.
async fn client_id_frozen_after_first_use(app: &TestApp) {
    let root = admin(app).await;
    let (_, body) = save(app, &root, "", &wiki(oidc("https://wiki.example/cb"))).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let mut c = oidc("https://wiki.example/cb");
    c.client_id = "wiki".into();
    assert_eq!(save(app, &root, &id, &wiki(c.clone())).await.0, 200);
    let stored = clients::get(&app.running.db, &id).await.unwrap().unwrap();
    assert_eq!(stored.view.client_id, "wiki");

    // What the first code exchange records (`grants::new_grant`).
    portcullis::exec!(
        &app.running.db,
        "UPDATE op_clients SET first_used_at = 1 WHERE app_id = $1",
        &id
    )
    .unwrap();
    c.client_id = "wiki2".into();
    let (status, body) = save(app, &root, &id, &wiki(c)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("cannot change"), "{body}");
    let stored = clients::get(&app.running.db, &id).await.unwrap().unwrap();
    assert_eq!(stored.view.client_id, "wiki");
}
both_backends!(client_id_frozen_after_first_use);

/// The CLI: `app add --redirect-uri` makes a client and prints the secret once; `app secret`
/// replaces it at once; `--no-oidc` removes the client.
async fn cli_clients(app: &TestApp) {
    let run = app.cli(&[
        "app",
        "add",
        "--name",
        "Grafana",
        "--url",
        "https://grafana.example",
        "--redirect-uri",
        "https://grafana.example/login/generic_oauth",
        "--client-id",
        "grafana",
        "--scope",
        "openid",
        "--scope",
        "groups",
    ]);
    assert!(run.ok, "{}", run.text());
    assert!(run.stdout.contains("client ID: grafana"), "{}", run.stdout);
    let first = run
        .stdout
        .lines()
        .find(|l| l.starts_with("pc_cs_"))
        .unwrap()
        .to_owned();
    let stored = clients::by_client_id(&app.running.db, "grafana")
        .await
        .unwrap()
        .unwrap();
    assert!(secret_matches(
        stored.secret_hash.as_deref().unwrap(),
        &first
    ));
    assert_eq!(stored.view.settings.scopes, ["openid", "groups"]);

    let run = app.cli(&["app", "secret", "Grafana"]);
    assert!(run.ok, "{}", run.text());
    let second = run
        .stdout
        .lines()
        .find(|l| l.starts_with("pc_cs_"))
        .unwrap();
    let stored = clients::by_client_id(&app.running.db, "grafana")
        .await
        .unwrap()
        .unwrap();
    let hash = stored.secret_hash.as_deref().unwrap();
    assert!(secret_matches(hash, second));
    assert!(
        !secret_matches(hash, &first),
        "the old secret stops working"
    );

    let run = app.cli(&["app", "update", "Grafana", "--client-auth", "bogus"]);
    assert!(!run.ok);
    assert!(run.text().contains("--client-auth"), "{}", run.text());
    let run = app.cli(&[
        "app",
        "update",
        "Grafana",
        "--redirect-uri",
        "http://x.example/cb",
    ]);
    assert!(!run.ok);
    assert!(run.text().contains("--redirect-uri"), "{}", run.text());

    let run = app.cli(&["app", "update", "Grafana", "--no-oidc"]);
    assert!(run.ok, "{}", run.text());
    assert!(
        clients::by_client_id(&app.running.db, "grafana")
            .await
            .unwrap()
            .is_none()
    );
    let run = app.cli(&["app", "secret", "Grafana"]);
    assert!(!run.ok);
    assert!(
        run.text().contains("not an OpenID Connect client"),
        "{}",
        run.text()
    );
}
both_backends!(cli_clients);
