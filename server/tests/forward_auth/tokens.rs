//! Personal access tokens at the check endpoints (issue 23 item 3): a script presents one
//! instead of a session; it opens exactly the applications it names that allow tokens, as
//! its owner, until it expires or is revoked. Through real Caddy and nginx: `proxies.rs`.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const OTHER: &str = "http://other.portcullis.test";
const CLOSED: &str = "http://closed.portcullis.test";

async fn token_app(app: &TestApp, name: &str, url: &str, allow_tokens: bool) -> String {
    app.add_app(AppDraft {
        name: name.into(),
        urls: url.into(),
        access: "users".into(),
        allow_tokens,
        ..AppDraft::default()
    })
    .await
}

/// `portcullis token create` as the README shows it; the token it prints.
fn create(app: &TestApp, user: &str, apps: &[&str]) -> String {
    let mut args = vec!["token", "create", "--user", user, "--name", "backup script"];
    for a in apps {
        args.extend(["--app", a]);
    }
    let run = app.cli(&args);
    assert!(run.ok, "{}", run.stderr);
    let token = run.stdout.trim().to_owned();
    assert!(token.starts_with("pc_pat_"), "{token}");
    token
}

async fn with_auth(app: &TestApp, url: &str, authorization: &str) -> Response {
    check_at(
        &app.base,
        &app.browser(),
        url,
        &[("Authorization", authorization)],
    )
    .await
}

async fn nginx_with_auth(app: &TestApp, url: &str, authorization: &str) -> Response {
    app.browser()
        .get(app.url(NGINX))
        .header("X-Original-URL", url)
        .header("Authorization", authorization)
        .send()
        .await
        .unwrap()
}

async fn a_token_opens_what_it_names(app: &TestApp) {
    token_app(app, "Echo", APP, true).await;
    token_app(app, "Other", OTHER, true).await;
    token_app(app, "Closed", CLOSED, false).await;
    app.add_user("alice", "alice password", false).await;
    app.add_user("bob", "bob password", false).await;

    // Only for applications that allow tokens: the CLI says which and how.
    let run = app.cli(&[
        "token", "create", "--user", "alice", "--name", "x", "--app", "Closed",
    ]);
    assert!(
        !run.ok && run.stderr.contains("--allow-tokens true"),
        "{}",
        run.stderr
    );
    let token = create(app, "alice", &["Echo"]);
    let bearer = format!("Bearer {token}");

    // Accepted as Bearer, by both checks, as alice.
    let res = with_auth(app, APP, &bearer).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "remote-user").as_deref(), Some("alice"));
    let res = nginx_with_auth(app, &format!("{APP}/api/x"), &bearer).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "remote-user").as_deref(), Some("alice"));
    // And as the password of HTTP Basic, with the owner's username only.
    let basic = |user: &str| format!("Basic {}", STANDARD.encode(format!("{user}:{token}")));
    let res = with_auth(app, APP, &basic("alice")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = with_auth(app, APP, &basic("bob")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&res, "remote-user").is_none());

    // Not another application, even one that allows tokens; not one that does not.
    let res = with_auth(app, OTHER, &bearer).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(header(&res, "remote-user").is_none());
    tokens_not_accepted(with_auth(app, CLOSED, &bearer).await).await;

    // A made-up token: 401 for a script (no login page), with the Bearer challenge.
    let res = with_auth(app, APP, "Bearer pc_pat_notatoken").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        header(&res, "www-authenticate")
            .unwrap()
            .contains("invalid_token"),
        "{:?}",
        res.headers()
    );
    assert!(header(&res, "location").is_none());
    // nginx would turn a 401 into its redirect to the login page: 403 there.
    let res = nginx_with_auth(app, APP, "Bearer pc_pat_notatoken").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The application's own credentials are not a Portcullis token: the usual check.
    let res = with_auth(app, APP, "Bearer eyJhbGciOiJub25lIn0.e30.").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        header(&res, "location").unwrap(),
        login_for(app, &format!("{APP}/"))
    );

    // Listed without the token; stored only as a hash.
    let run = app.cli(&["token", "list", "--user", "alice", "--json"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(!run.stdout.contains(&token), "{}", run.stdout);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list[0]["name"], "backup script");
    assert_eq!(list[0]["apps"][0], "Echo");
    assert_eq!(list[0]["hint"], &token[token.len() - 4..]);
    let stored: Vec<(String, String)> =
        sql_rows(app, "SELECT token_hash, hint FROM personal_tokens").await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains(&token[7..]));

    // Expired: refused.
    portcullis::exec!(&app.running.db, "UPDATE personal_tokens SET expires_at = 1").unwrap();
    assert_eq!(
        with_auth(app, APP, &bearer).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Revoked: refused at once.
    let second = create(app, "alice", &["Echo"]);
    let second_bearer = format!("Bearer {second}");
    assert_eq!(
        with_auth(app, APP, &second_bearer).await.status(),
        StatusCode::OK
    );
    let id = list_ids(app, "alice").await;
    for id in id {
        let run = app.cli(&["token", "revoke", &id]);
        assert!(run.ok, "{}", run.stderr);
    }
    assert_eq!(
        with_auth(app, APP, &second_bearer).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The owner loses access: so does the token; and the application can stop accepting
    // tokens (the CLI is another process: this server sees it within the cache bound).
    let third = format!("Bearer {}", create(app, "alice", &["Echo"]));
    let run = app.cli(&["app", "update", "Echo", "--access", "admins"]);
    assert!(run.ok, "{}", run.stderr);
    tokio::time::sleep(portcullis::ssr::apps::CACHE_TTL).await;
    assert_eq!(
        with_auth(app, APP, &third).await.status(),
        StatusCode::FORBIDDEN
    );
    let run = app.cli(&[
        "app",
        "update",
        "Echo",
        "--access",
        "users",
        "--allow-tokens",
        "false",
    ]);
    assert!(run.ok, "{}", run.stderr);
    tokio::time::sleep(portcullis::ssr::apps::CACHE_TTL).await;
    tokens_not_accepted(with_auth(app, APP, &third).await).await;
}
proxied!(a_token_opens_what_it_names);

/// The check stays write-free: a token's last use is written at most every five minutes.
async fn last_use_is_written_rarely(app: &TestApp) {
    token_app(app, "Echo", APP, true).await;
    app.add_user("alice", "alice password", false).await;
    let bearer = format!("Bearer {}", create(app, "alice", &["Echo"]));
    assert_eq!(with_auth(app, APP, &bearer).await.status(), StatusCode::OK);
    // Written after the answer: wait for it.
    let mut last = None;
    for _ in 0..50 {
        last = last_used(app).await;
        if last.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(last.is_some(), "the first use is recorded");
    // A recent use is not written again.
    let recent = portcullis::ssr::clock::now() - 60;
    portcullis::exec!(
        &app.running.db,
        "UPDATE personal_tokens SET last_used_at = $1",
        recent
    )
    .unwrap();
    for _ in 0..3 {
        assert_eq!(with_auth(app, APP, &bearer).await.status(), StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(last_used(app).await, Some(recent));
}
proxied!(last_use_is_written_rarely);

/// At most fifty tokens each, even when a script asks for sixty at once (the limit and the
/// insert are one guarded statement).
async fn at_most_fifty_at_once(app: &TestApp) {
    use portcullis::tokens::{PER_USER_MAX, ValidToken};
    let echo = token_app(app, "Echo", APP, true).await;
    app.add_user("alice", "alice password", false).await;
    let alice: String = portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
        "SELECT id FROM users WHERE username = 'alice'")
        .fetch_one(pool)
        .await)
    .unwrap();
    let asks = (0..PER_USER_MAX + 10).map(|i| {
        let t = ValidToken {
            name: format!("script {i}"),
            expires_in_days: None,
            apps: vec![echo.clone()],
        };
        let (db, alice) = (app.running.db.clone(), alice.clone());
        let by = common::by_cli();
        tokio::spawn(
            async move { portcullis::ssr::tokens::create(&db, &alice, &t, true, &by).await },
        )
    });
    let mut made = 0;
    for ask in asks.collect::<Vec<_>>() {
        match ask.await.unwrap() {
            Ok(_) => made += 1,
            Err(e) => assert!(e.to_string().contains("revoke one"), "{e}"),
        }
    }
    assert_eq!(made, PER_USER_MAX);
    assert_eq!(list_ids(app, "alice").await.len() as i64, PER_USER_MAX);
}
proxied!(at_most_fifty_at_once);

/// Administrators see who holds tokens on the users page and revoke all of a user's at
/// once; a user cannot revoke another's.
async fn administrators_revoke_a_users_tokens(app: &TestApp) {
    token_app(app, "Echo", APP, true).await;
    app.add_user("root", "root password", true).await;
    app.add_user("alice", "alice password", false).await;
    app.add_user("bob", "bob password", false).await;
    let bearer = format!("Bearer {}", create(app, "alice", &["Echo"]));
    create(app, "alice", &["Echo"]);
    let bobs = format!("Bearer {}", create(app, "bob", &["Echo"]));
    let (root, mallory) = (signed_in(app, "root").await, signed_in(app, "bob").await);
    assert_eq!(list_ids(app, "alice").await.len(), 2);
    let users = call_json(app, &root, "admin/users_settings").await;
    let held: Vec<i64> = users["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[1].as_i64().unwrap())
        .collect();
    assert_eq!(held.iter().sum::<i64>(), 3, "{users}");
    let alice: String = portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
        "SELECT id FROM users WHERE username = 'alice'")
        .fetch_one(pool)
        .await)
    .unwrap();
    let revoke = [("user_id", alice.as_str())];
    assert_eq!(
        app.call_status(&mallory, "admin/revoke_user_tokens", &revoke)
            .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(with_auth(app, APP, &bearer).await.status(), StatusCode::OK);
    assert_eq!(
        app.call_status(&root, "admin/revoke_user_tokens", &revoke)
            .await,
        StatusCode::OK
    );
    assert_eq!(
        with_auth(app, APP, &bearer).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(list_ids(app, "alice").await.is_empty());
    assert_eq!(
        with_auth(app, APP, &bobs).await.status(),
        StatusCode::OK,
        "bob's stays"
    );
}
proxied!(administrators_revoke_a_users_tokens);

/// The answer for an application that does not allow tokens.
async fn tokens_not_accepted(res: Response) {
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("does not accept personal access tokens"),
        "{text}"
    );
}

async fn last_used(app: &TestApp) -> Option<i64> {
    portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar::<_, Option<i64>>(
        "SELECT last_used_at FROM personal_tokens")
        .fetch_one(pool)
        .await)
    .unwrap()
}

async fn sql_rows(app: &TestApp, sql: &str) -> Vec<(String, String)> {
    portcullis::on_pool!(&app.running.db, pool => sqlx::query_as::<_, (String, String)>(sql)
        .fetch_all(pool)
        .await)
    .unwrap()
}

async fn list_ids(app: &TestApp, user: &str) -> Vec<String> {
    let run = app.cli(&["token", "list", "--user", user, "--json"]);
    assert!(run.ok, "{}", run.stderr);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}
