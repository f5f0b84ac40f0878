//! Profile → Sessions, the users page's sessions and `portcullis session ...`: listing a
//! user's sessions (how, browser, this one), ending one (the browser is signed out on its
//! next request, on every replica), "everywhere else", administrators, refusals, the CLI.
//! On SQLite and PostgreSQL, with a real provider for a session signed in through one.

use crate::common;

use common::TestApp;
use common::flow::{add_provider, call_json, link, me, page_text, sign_in, start_idp};
use reqwest::{Client, StatusCode};
use serde_json::Value;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                      Gecko) Chrome/131.0.0.0 Safari/537.36";
const SESSIONS_PAGE: &str = "/profile/settings/sessions";

/// A browser that says it is `user_agent`.
fn browser_as(user_agent: &str) -> Client {
    common::browser().user_agent(user_agent).build().unwrap()
}

async fn password_browser(app: &TestApp, name: &str, user_agent: &str) -> Client {
    let b = browser_as(user_agent);
    common::flow::password_sign_in(app, &b, name).await;
    b
}

/// Adds user `name` (password `<name> password`; an administrator when `admin`) and signs in
/// as them in a browser that says it is `user_agent`.
async fn new_user_in(app: &TestApp, name: &str, admin: bool, user_agent: &str) -> Client {
    app.add_user(name, &format!("{name} password"), admin).await;
    password_browser(app, name, user_agent).await
}

async fn sessions(app: &TestApp, b: &Client) -> Vec<Value> {
    let v = call_json(app, b, "account/sessions").await;
    v["sessions"].as_array().unwrap().clone()
}

/// The handle of the one session in `list` that is (or is not) the caller's.
fn handle_where(list: &[Value], current: bool) -> String {
    let found: Vec<&Value> = list
        .iter()
        .filter(|s| s["current"].as_bool() == Some(current))
        .collect();
    assert_eq!(found.len(), 1, "{list:?}");
    found[0]["handle"].as_str().unwrap().to_owned()
}

async fn session_ids(app: &TestApp) -> Vec<String> {
    portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar::<_, String>(
        "SELECT id FROM sessions").fetch_all(pool).await)
    .unwrap()
}

async fn user_id(app: &TestApp, b: &Client) -> String {
    me(app, b).await.expect("signed in")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// alice with a password in Firefox and through the provider in Chrome: the list names both,
/// marks this one, and shows no session id. Ending the other signs it out on its next
/// request, on another replica too; without JavaScript the page says so.
async fn list_and_end_one(app: &TestApp) {
    let idp = start_idp(app, &["idp"]).await;
    add_provider(app, &idp.issuer, "idp", false).await;
    let firefox = new_user_in(app, "alice", false, FIREFOX).await;
    let _ = link(app, &firefox, "idp", "alice").await;
    let chrome = browser_as(CHROME);
    let done = sign_in(app, &chrome, "idp", "alice").await;
    assert!(done.status().is_redirection(), "{}", done.status());
    assert_eq!(user_id(app, &chrome).await, user_id(app, &firefox).await);

    let list = sessions(app, &firefox).await;
    assert_eq!(list.len(), 2, "{list:?}");
    let this = list.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(this["browser"], "Firefox 133 on Linux");
    assert_eq!(this["how"]["kind"], "password");
    let other = list.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["browser"], "Chrome 131 on Windows 10");
    assert_eq!(other["how"]["kind"], "provider");
    assert_eq!(other["how"]["name"], "Test IdP");
    for s in &list {
        assert!(s["signed_in_at"].as_i64().unwrap() > 1_700_000_000);
        assert!(s["last_seen_at"].as_i64().unwrap() > 1_700_000_000);
    }

    // No session id (the cookie value) reaches the page or the JSON.
    let page = page_text(app, &firefox, SESSIONS_PAGE).await;
    assert!(page.contains("Chrome 131 on Windows 10"), "{page}");
    assert!(page.contains("This session"));
    let json = serde_json::to_string(&list).unwrap();
    for id in session_ids(app).await {
        assert!(
            !page.contains(&id) && !json.contains(&id),
            "session id {id} exposed"
        );
    }

    // A second replica on the same database sees Chrome signed in, then signed out.
    let replica = app.replica(|_| {}).await;
    let on_replica = |b: &Client| {
        let url = format!("http://{}/api/v1/auth/me", replica.addr);
        let b = b.clone();
        async move { b.get(url).send().await.unwrap().status() }
    };
    assert_eq!(on_replica(&chrome).await, StatusCode::OK);

    // Without JavaScript: a form post, back to the page with its notice.
    let other = handle_where(&list, false);
    let res = app
        .post_form(
            &firefox,
            "account/end_session",
            SESSIONS_PAGE,
            &[("handle", &other)],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let page = page_text(app, &firefox, SESSIONS_PAGE).await;
    assert!(page.contains("That session is signed out."), "{page}");

    assert!(me(app, &chrome).await.is_none(), "Chrome is signed out");
    assert_eq!(on_replica(&chrome).await, StatusCode::UNAUTHORIZED);
    assert!(me(app, &firefox).await.is_some(), "Firefox is not");
    assert_eq!(sessions(app, &firefox).await.len(), 1);
    replica.stop().await;

    // The same handle again: already ended.
    assert_eq!(
        app.call_status(&firefox, "account/end_session", &[("handle", &other)])
            .await,
        StatusCode::NOT_FOUND
    );
}
both_backends!(list_and_end_one);

/// "Sign out everywhere else" ends every other session of the user, not this one and not
/// another user's.
async fn everywhere_else_keeps_this_one(app: &TestApp) {
    let here = new_user_in(app, "alice", false, FIREFOX).await;
    let there = password_browser(app, "alice", CHROME).await;
    let third = password_browser(app, "alice", CHROME).await;
    let bob = new_user_in(app, "bob", false, FIREFOX).await;
    assert_eq!(sessions(app, &here).await.len(), 3);

    assert_eq!(
        app.call_status(&here, "account/end_other_sessions", &[])
            .await,
        StatusCode::OK
    );
    assert!(me(app, &here).await.is_some());
    assert!(me(app, &there).await.is_none());
    assert!(me(app, &third).await.is_none());
    assert!(
        me(app, &bob).await.is_some(),
        "another user's session stays"
    );
    let v = call_json(app, &here, "account/sessions").await;
    assert_eq!(v["messages"]["notice"], "Signed out 2 other sessions.");
    let list = v["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["current"], true);
}
both_backends!(everywhere_else_keeps_this_one);

/// A user cannot end another user's session by its handle (nothing ends, and the answer is
/// the same as for an unknown handle), nor use the administrators' function.
async fn a_user_cannot_end_anothers_session(app: &TestApp) {
    let alice = new_user_in(app, "alice", false, FIREFOX).await;
    let mallory = new_user_in(app, "mallory", false, CHROME).await;
    let alices = handle_where(&sessions(app, &alice).await, true);
    let alice_id = user_id(app, &alice).await;

    assert_eq!(
        app.call_status(&mallory, "account/end_session", &[("handle", &alices)])
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call_status(
            &mallory,
            "admin/end_session",
            &[("user_id", &alice_id), ("handle", &alices)]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call_status(
            &app.browser(),
            "account/end_session",
            &[("handle", &alices)]
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert!(me(app, &alice).await.is_some(), "alice is still signed in");
    assert!(me(app, &mallory).await.is_some());
    assert_eq!(sessions(app, &alice).await.len(), 1);
}
both_backends!(a_user_cannot_end_anothers_session);

/// Administrators see every user's sessions on the users page and end one; a handle given
/// with the wrong user ends nothing.
async fn admin_ends_a_users_session(app: &TestApp) {
    let root = new_user_in(app, "root", true, FIREFOX).await;
    let gus = new_user_in(app, "gus", false, CHROME).await;
    let gus_id = user_id(app, &gus).await;
    let root_id = user_id(app, &root).await;

    let v = call_json(app, &root, "admin/users_settings").await;
    let all = v["sessions"].as_array().unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let gus_session = all
        .iter()
        .find(|s| s["user_id"] == gus_id.as_str())
        .unwrap();
    assert_eq!(gus_session["browser"], "Chrome 131 on Windows 10");
    assert_eq!(gus_session["current"], false);
    let handle = gus_session["handle"].as_str().unwrap();
    let page = page_text(app, &root, "/settings/users").await;
    assert!(page.contains("Chrome 131 on Windows 10"), "{page}");

    // The administrators' function, for `handle` given as a session of `user_id`.
    let end = async |user_id: &str| {
        let form = [("user_id", user_id), ("handle", handle)];
        app.call(&root, "admin/end_session", &form).await.status()
    };
    assert_eq!(end(&root_id).await, StatusCode::NOT_FOUND, "the wrong user");
    assert!(me(app, &gus).await.is_some());

    assert_eq!(end(&gus_id).await, StatusCode::OK);
    assert!(me(app, &gus).await.is_none(), "gus is signed out");
    assert!(me(app, &root).await.is_some());
}
both_backends!(admin_ends_a_users_session);

/// `portcullis session list/revoke` against the same database as the running server.
async fn cli_lists_and_revokes(app: &TestApp) {
    let one = new_user_in(app, "alice", false, FIREFOX).await;
    let two = password_browser(app, "alice", CHROME).await;
    let three = password_browser(app, "alice", CHROME).await;
    let cli = |args: &[&str]| {
        let run = app.cli(args);
        (run.ok, run.stdout, run.stderr)
    };

    let (ok, out, err) = cli(&["session", "list", "--user", "alice", "--json"]);
    assert!(ok, "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|s| s["how"]["kind"] == "password"));
    for id in session_ids(app).await {
        assert!(!out.contains(&id), "session id exposed");
    }
    let (ok, table, _) = cli(&["session", "list", "--user", "alice"]);
    assert!(ok && table.contains("Firefox 133 on Linux"), "{table}");

    let firefox = list
        .iter()
        .find(|s| s["browser"] == "Firefox 133 on Linux")
        .unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ok, _, err) = cli(&["session", "revoke", &firefox]);
    assert!(ok, "{err}");
    assert!(me(app, &one).await.is_none());
    assert!(me(app, &two).await.is_some());
    let (ok, _, err) = cli(&["session", "revoke", &firefox]);
    assert!(!ok && err.contains("no such session"), "{err}");
    let (ok, _, _) = cli(&["session", "revoke", "--user", "alice"]);
    assert!(!ok, "--user without a handle needs --all");

    let (ok, out, err) = cli(&["session", "revoke", "--user", "alice", "--all"]);
    assert!(ok, "{err}");
    assert!(out.contains("ended 2 session(s)"), "{out}");
    assert!(me(app, &two).await.is_none());
    assert!(me(app, &three).await.is_none());
}
both_backends!(cli_lists_and_revokes);
