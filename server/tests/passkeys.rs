//! Passkeys (WebAuthn) on the server: the ceremonies' options (relying party from
//! `--public-url`, discoverable, user verification required), challenges used once, bound
//! to the browser that started them, five minutes, shared by replicas through the database;
//! no account enumeration through the sign-in (one answer for every refusal); Profile →
//! Security's list and removal; the sign-in page's button and its words without JavaScript.
//! A whole ceremony needs an authenticator: `end2end/tests/passkeys.spec.ts` runs them with
//! Chromium's virtual one. On SQLite and PostgreSQL.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::flow::{page_text, signed_in};
use common::{Backend, TestApp};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PUBLIC_URL: &str = "http://localhost:3000";
const SIGN_IN_START: &str = "/api/v1/passkeys/sign-in/start";
const SIGN_IN_FINISH: &str = "/api/v1/passkeys/sign-in/finish";
const REGISTER_START: &str = "/api/v1/passkeys/register/start";
const SECURITY: &str = "/profile/settings/security";

/// A server whose public URL has a host name (browsers take no IP address as a relying
/// party id), with alice and bob.
async fn run(backend: Backend, body: impl AsyncFnOnce(&TestApp)) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_url = Some(PUBLIC_URL.parse().unwrap())
    })
    .await;
    app.add_user("alice", "alice password", false).await;
    app.add_user("bob", "bob password", false).await;
    body(&app).await;
    app.stop().await;
}

async fn post(app: &TestApp, client: &Client, path: &str, body: Value) -> (StatusCode, Value) {
    let res = client
        .post(app.url(path))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A sign-in started in `client`: the ceremony id and the options.
async fn start_sign_in(app: &TestApp, client: &Client) -> (String, Value) {
    let (status, v) = post(app, client, SIGN_IN_START, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    (
        v["challenge"].as_str().unwrap().to_owned(),
        v["options"].clone(),
    )
}

/// An assertion as a browser would send it, of a passkey `credential_id` for the account
/// whose user handle is `handle` (a UUID as 16 bytes): well formed, signed by no one.
fn assertion(credential_id: &[u8], handle: Option<&[u8]>) -> Value {
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let client_data = json!({
        "type": "webauthn.get",
        "challenge": b64(b"not the challenge"),
        "origin": PUBLIC_URL,
    });
    json!({
        "id": b64(credential_id),
        "rawId": b64(credential_id),
        "type": "public-key",
        "response": {
            "authenticatorData": b64(&[0u8; 37]),
            "clientDataJSON": b64(client_data.to_string().as_bytes()),
            "signature": b64(&[1u8; 64]),
            "userHandle": handle.map(b64),
        },
        "clientExtensionResults": {},
    })
}

/// A refusal (403) whose words say `why`.
fn refused(status: StatusCode, v: &Value, why: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "{why:?} in {v}");
}

/// An assertion for account `username` (its user handle) of a passkey no one holds.
async fn stray_assertion(app: &TestApp, username: &str) -> Value {
    let user_id = app.user_id(username).await;
    assertion(b"some credential", Some(&handle_of(&user_id)))
}

fn handle_of(user_id: &str) -> Vec<u8> {
    uuid::Uuid::parse_str(user_id).unwrap().as_bytes().to_vec()
}

async fn finish_sign_in(
    app: &TestApp,
    client: &Client,
    challenge: &str,
    credential: Value,
) -> (StatusCode, Value) {
    post(
        app,
        client,
        SIGN_IN_FINISH,
        json!({ "challenge": challenge, "credential": credential }),
    )
    .await
}

async fn sign_in_options_are_discoverable_with_user_verification(backend: Backend) {
    run(backend, async |app| {
        let browser = app.browser();
        let res = browser.post(app.url(SIGN_IN_START)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(cookie.contains("HttpOnly"), "the binding cookie: {cookie}");
        let v: Value = res.json().await.unwrap();
        let o = &v["options"]["publicKey"];
        assert_eq!(
            o["rpId"], "localhost",
            "the relying party is the public URL's host"
        );
        assert_eq!(o["userVerification"], "required");
        assert!(
            o["allowCredentials"]
                .as_array()
                .is_none_or(|a| a.is_empty()),
            "no account is named: the authenticator offers what it holds ({o})"
        );
        assert!(!o["challenge"].as_str().unwrap().is_empty());
        // A second start in the same browser keeps its cookie (no new one).
        let again = browser.post(app.url(SIGN_IN_START)).send().await.unwrap();
        assert!(again.headers().get("set-cookie").is_none());
    })
    .await;
}
each_backend!(sign_in_options_are_discoverable_with_user_verification);

async fn a_challenge_is_used_once_by_the_browser_that_started_it(backend: Backend) {
    run(backend, async |app| {
        let mine = app.browser();
        let theirs = app.browser();
        let (challenge, _) = start_sign_in(app, &mine).await;
        let cred = stray_assertion(app, "alice").await;

        // Another browser cannot use it (it has no binding, or another one)...
        let (status, v) = finish_sign_in(app, &theirs, &challenge, cred.clone()).await;
        refused(status, &v, "expired or was already used");
        start_sign_in(app, &theirs).await;
        let (status, v) = finish_sign_in(app, &theirs, &challenge, cred.clone()).await;
        refused(status, &v, "expired or was already used");

        // ...and did not spend it: the browser that started it gets its answer judged (here
        // refused: no such passkey), which uses it up.
        let (status, v) = finish_sign_in(app, &mine, &challenge, cred.clone()).await;
        refused(status, &v, "not accepted");
        let (status, v) = finish_sign_in(app, &mine, &challenge, cred).await;
        refused(status, &v, "expired or was already used");
        let me: Value = app.call(&mine, "auth/me", &[]).await.json().await.unwrap();
        assert!(me.is_null(), "not signed in: {me}");
    })
    .await;
}
each_backend!(a_challenge_is_used_once_by_the_browser_that_started_it);

async fn a_challenge_expires_after_five_minutes(backend: Backend) {
    run(backend, async |app| {
        let browser = app.browser();
        let (challenge, _) = start_sign_in(app, &browser).await;
        // Five minutes and a second later (as stored: the server's clock is not set).
        let n = portcullis::exec!(
            &app.running.db,
            "UPDATE passkey_challenges SET expires_at = expires_at - 301 WHERE id = $1",
            &challenge
        )
        .unwrap();
        assert_eq!(n, 1);
        let cred = stray_assertion(app, "alice").await;
        let (status, v) = finish_sign_in(app, &browser, &challenge, cred).await;
        refused(status, &v, "expired or was already used");
    })
    .await;
}
each_backend!(a_challenge_expires_after_five_minutes);

async fn replicas_share_challenges(backend: Backend) {
    run(backend, async |app| {
        let other = app.replica(|_| {}).await;
        let browser = app.browser();
        let (challenge, _) = start_sign_in(app, &browser).await;
        let cred = assertion(b"some credential", None);
        // The other replica finds the ceremony (and judges the answer: refused, no such passkey)...
        let res = browser
            .post(format!("http://{}{SIGN_IN_FINISH}", other.addr))
            .json(&json!({ "challenge": challenge, "credential": cred.clone() }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        refused(status, &res.json().await.unwrap(), "not accepted");
        // ...and used it up for this one too.
        let (status, v) = finish_sign_in(app, &browser, &challenge, cred).await;
        refused(status, &v, "expired or was already used");
        other.stop().await;
    })
    .await;
}
each_backend!(replicas_share_challenges);

async fn refusals_do_not_tell_which_accounts_exist(backend: Backend) {
    run(backend, async |app| {
        // Alice has a passkey (its row as a registration stores it).
        let alice = with_passkeys(app, "alice", &[("p1", "alice's credential", "Laptop")]).await;
        let stranger = uuid::Uuid::new_v4();
        let cases = [
            // A real account's handle with a passkey it does not hold.
            assertion(b"unknown credential", Some(&handle_of(&alice))),
            // No such account.
            assertion(b"unknown credential", Some(stranger.as_bytes())),
            // A real passkey presented for another account.
            assertion(b"alice's credential", Some(stranger.as_bytes())),
            // No user handle at all.
            assertion(b"alice's credential", None),
        ];
        let mut answers = Vec::new();
        for cred in cases {
            let browser = app.browser();
            let (challenge, _) = start_sign_in(app, &browser).await;
            answers.push(finish_sign_in(app, &browser, &challenge, cred).await);
        }
        refused(answers[0].0, &answers[0].1, "not accepted");
        for a in &answers {
            assert_eq!(a, &answers[0], "every refusal reads the same");
        }
    })
    .await;
}
each_backend!(refusals_do_not_tell_which_accounts_exist);

/// Gives account `username` `passkeys` (id, credential id, name), as rows a registration
/// stores (a real `Passkey`'s JSON is not needed to list, remove or look one up); its id.
async fn with_passkeys(app: &TestApp, username: &str, passkeys: &[(&str, &str, &str)]) -> String {
    let user_id = app.user_id(username).await;
    for (id, credential, name) in passkeys {
        portcullis::exec!(
            &app.running.db,
            "INSERT INTO user_passkeys (id, user_id, credential_id, name, passkey, sign_count, \
             backup_eligible, backup_state, created_at) \
             VALUES ($1, $2, $3, $4, '{}', 0, FALSE, FALSE, $5)",
            *id,
            &user_id,
            URL_SAFE_NO_PAD.encode(credential),
            *name,
            1_700_000_000i64
        )
        .unwrap();
    }
    user_id
}

async fn registration_needs_a_signed_in_account_and_a_name(backend: Backend) {
    run(backend, async |app| {
        let (status, _) = post(
            app,
            &app.browser(),
            REGISTER_START,
            json!({ "name": "Laptop" }),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let alice = signed_in(app, "alice").await;
        let (status, v) = post(app, &alice, REGISTER_START, json!({ "name": "  " })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["fields"][0]["field"], "name", "{v}");

        let (status, v) = post(app, &alice, REGISTER_START, json!({ "name": "Laptop" })).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let o = &v["options"]["publicKey"];
        assert_eq!(o["rp"]["id"], "localhost");
        assert_eq!(o["user"]["name"], "alice");
        assert_eq!(o["user"]["displayName"], "alice display");
        let id = app.user_id("alice").await;
        assert_eq!(
            o["user"]["id"],
            URL_SAFE_NO_PAD.encode(handle_of(&id)),
            "the user handle is the account's id"
        );
        let sel = &o["authenticatorSelection"];
        assert_eq!(sel["residentKey"], "required", "discoverable: {sel}");
        assert_eq!(sel["userVerification"], "required");

        // A registration is bound to its account and browser too.
        let finish = json!({ "challenge": v["challenge"], "name": "Laptop", "credential": {
            "id": "x", "rawId": "eA", "type": "public-key",
            "response": { "attestationObject": "eA", "clientDataJSON": "eA" } } });
        let bob = signed_in(app, "bob").await;
        let (status, v) = post(app, &bob, "/api/v1/passkeys/register/finish", finish).await;
        refused(status, &v, "expired or was already used");
    })
    .await;
}
each_backend!(registration_needs_a_signed_in_account_and_a_name);

async fn the_security_page_lists_and_removes_passkeys(backend: Backend) {
    run(backend, async |app| {
        let passkeys = [
            ("pk-1", "cred one", "Laptop"),
            ("pk-2", "cred two", "Phone"),
        ];
        let alice_id = with_passkeys(app, "alice", &passkeys).await;
        let alice = signed_in(app, "alice").await;
        let page = page_text(app, &alice, SECURITY).await;
        assert!(page.contains("Laptop") && page.contains("Phone"), "{page}");
        assert!(page.contains("Add a passkey"));
        assert!(
            page.contains("Adding a passkey needs JavaScript"),
            "said without JavaScript"
        );

        // Bob cannot remove Alice's.
        let bob = signed_in(app, "bob").await;
        assert_eq!(
            app.call_status(&bob, "account/passkey_remove", &[("id", "pk-1")])
                .await,
            StatusCode::NOT_FOUND
        );

        // A plain form post (no JavaScript) removes it and comes back with a notice.
        let res = app
            .post_form(
                &alice,
                "account/passkey_remove",
                SECURITY,
                &[("id", "pk-1")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FOUND, "back to the page");
        let page = page_text(app, &alice, SECURITY).await;
        assert!(
            page.contains("Passkey \u{201c}Laptop\u{201d} removed"),
            "{page}"
        );
        assert!(!page.contains("data-passkey=\"pk-1\"") && page.contains("data-passkey=\"pk-2\""));
        let left: i64 = portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_passkeys WHERE user_id = $1")
            .bind(&alice_id)
            .fetch_one(pool)
            .await)
        .unwrap();
        assert_eq!(left, 1);
    })
    .await;
}
each_backend!(the_security_page_lists_and_removes_passkeys);

async fn the_sign_in_page_offers_passkeys_and_says_they_need_javascript(backend: Backend) {
    run(backend, async |app| {
        let res = app.page(&app.browser(), "/login").await;
        let html = res.text().await.unwrap();
        assert!(html.contains("Sign in with a passkey"), "{html}");
        assert!(html.contains("autocomplete=\"username webauthn\""), "autofill offers passkeys");
        assert!(
            html.contains("<noscript><p id=\"passkey-no-script\">Signing in with a passkey needs JavaScript. Turn it on, or sign in another way below."),
            "{html}"
        );
        let script = html.find("src=\"/pkg/passkey.js\"").expect("the script");
        let tag = &html[html[..script].rfind("<script").unwrap()..script];
        assert!(tag.starts_with("<script type=\"module\" nonce=\""), "with the nonce: {tag}");
    })
    .await;
}
each_backend!(the_sign_in_page_offers_passkeys_and_says_they_need_javascript);

async fn without_a_host_name_passkeys_are_unavailable(backend: Backend) {
    // The default public URL is http://127.0.0.1:<port>.
    common::run(backend, async |app| {
        let res = app
            .browser()
            .post(app.url(SIGN_IN_START))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let v: Value = res.json().await.unwrap();
        assert!(v["message"].as_str().unwrap().contains("host name"), "{v}");
        let html = app
            .page(&app.browser(), "/login")
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains("Sign in with a passkey"));
        assert!(!html.contains("webauthn"));
        assert!(!html.contains("passkey.js"), "no script for nothing");
    })
    .await;
}
each_backend!(without_a_host_name_passkeys_are_unavailable);

/// `portcullis user ...` as the server's environment sets the public URL.
fn cli(app: &TestApp, args: &[&str]) -> common::CliRun {
    app.cli_with_env(args, "", &[("PORTCULLIS_PUBLIC_URL", PUBLIC_URL)])
}

/// `portcullis user add` of pat, passkey-only (the CLI prints the enrolment link).
fn add_pat(app: &TestApp) -> common::CliRun {
    let email = "--email=pat@example.com";
    cli(
        app,
        &["user", "add", "--username=pat", email, "--passkey-only"],
    )
}

/// The enrolment link's token the CLI printed.
fn link_token(out: &common::CliRun) -> String {
    assert!(out.ok, "{}{}", out.stdout, out.stderr);
    let prefix = format!("{PUBLIC_URL}/passkey-enrolment?token=");
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("a link in {}", out.stdout));
    line[prefix.len()..].to_owned()
}

async fn enrol_start(app: &TestApp, client: &Client, token: &str) -> (StatusCode, Value) {
    post(
        app,
        client,
        "/api/v1/passkeys/enrol/start",
        json!({ "token": token, "name": "Phone" }),
    )
    .await
}

const LINK_GONE: &str = "enrolment link has expired or was used already";

async fn passkey_only_accounts_enrol_through_a_one_time_link(backend: Backend) {
    run(backend, async |app| {
        let out = add_pat(app);
        let token = link_token(&out);
        // No password: password sign-in cannot work for the account.
        let row = portcullis::ssr::users::find_by_identifier(&app.running.db, "pat")
            .await
            .unwrap()
            .unwrap();
        assert!(row.password_hash.is_none());
        let res = app.login(&app.browser(), "pat", "").await;
        assert_ne!(res.status(), StatusCode::OK);

        // The link's page names the account and offers the form (JavaScript needed).
        let browser = app.browser();
        let page = page_text(app, &browser, &format!("/passkey-enrolment?token={token}")).await;
        assert!(page.contains("Add a passkey to the account pat"), "{page}");
        assert!(page.contains("data-passkey-register"), "{page}");
        assert!(page.contains("Adding a passkey needs JavaScript"));
        // Its registration is for that account, in this browser, nobody signed in.
        let (status, v) = enrol_start(app, &browser, &token).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["options"]["publicKey"]["user"]["name"], "pat");
        // An answer the ceremony refuses (no authenticator made it) leaves the link working,
        // for another try.
        let finish = json!({ "token": token, "challenge": v["challenge"], "name": "Phone",
            "credential": { "id": "x", "rawId": "eA", "type": "public-key",
                "response": { "attestationObject": "eA", "clientDataJSON": "eA" } } });
        let (status, v) = post(app, &browser, "/api/v1/passkeys/enrol/finish", finish).await;
        assert!(status.is_client_error(), "{status} {v}");
        assert!(!v.to_string().contains(LINK_GONE), "{v}");
        let (status, v) = enrol_start(app, &browser, &token).await;
        assert_eq!(status, StatusCode::OK, "the link still works: {v}");

        // A wrong token is refused, as is the old link once a new one was made.
        let (status, v) = enrol_start(app, &browser, "not-a-token").await;
        refused(status, &v, LINK_GONE);
        let newer = link_token(&cli(app, &["user", "passkey-link", "--user", "pat"]));
        let (status, v) = enrol_start(app, &browser, &token).await;
        refused(status, &v, LINK_GONE);
        let page = page_text(app, &browser, &format!("/passkey-enrolment?token={token}")).await;
        assert!(page.contains(LINK_GONE), "{page}");

        // After 24 hours the link works no more.
        let (status, _) = enrol_start(app, &browser, &newer).await;
        assert_eq!(status, StatusCode::OK);
        portcullis::exec!(
            &app.running.db,
            "UPDATE passkey_enrolments SET expires_at = expires_at - 86401"
        )
        .unwrap();
        let (status, v) = enrol_start(app, &browser, &newer).await;
        refused(status, &v, LINK_GONE);
    })
    .await;
}
each_backend!(passkey_only_accounts_enrol_through_a_one_time_link);

async fn links_need_a_host_name(backend: Backend) {
    common::run(backend, async |app| {
        app.add_user("alice", "alice password", false).await;
        let out = app.cli(&["user", "passkey-link", "--user", "alice"]);
        assert!(!out.ok);
        assert!(
            out.stderr.contains("passkeys need a host name"),
            "{}",
            out.stderr
        );
    })
    .await;
}
each_backend!(links_need_a_host_name);

async fn first_run_setup_can_make_a_passkey_only_administrator(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.public_url = Some(PUBLIC_URL.parse().unwrap())
    })
    .await;
    let browser = app.browser();
    let page = page_text(&app, &browser, "/setup").await;
    assert!(
        page.contains("Create administrator with a passkey"),
        "{page}"
    );
    let form = json!({ "username": "root", "email": "root@example.com" });
    let (status, v) = post(
        &app,
        &browser,
        "/api/v1/passkeys/setup",
        json!({ "username": "" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, v) = post(&app, &browser, "/api/v1/passkeys/setup", form.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let link = v["redirect"].as_str().unwrap().to_owned();
    assert!(link.starts_with("/passkey-enrolment?token="), "{link}");
    let root = portcullis::ssr::users::find_by_identifier(&app.running.db, "root")
        .await
        .unwrap()
        .unwrap();
    assert!(root.is_admin && root.password_hash.is_none());
    let page = page_text(&app, &browser, &link).await;
    assert!(page.contains("Add a passkey to the account root"), "{page}");
    // Once: setup is closed now, both ways.
    let (status, v) = post(&app, &app.browser(), "/api/v1/passkeys/setup", form).await;
    assert_ne!(status, StatusCode::OK, "{v}");
    assert_eq!(common::flow::user_count(&app).await, 1);
    app.stop().await;
}
each_backend!(first_run_setup_can_make_a_passkey_only_administrator);

async fn the_last_way_in_cannot_be_removed(backend: Backend) {
    run(backend, async |app| {
        use portcullis::ssr::passkeys::{RemoveError, remove};
        let db = &app.running.db;
        let by = common::by_cli();
        let out = add_pat(app);
        assert!(out.ok, "{}", out.stderr);
        let passkeys = [
            ("pat-1", "pat one", "Laptop"),
            ("pat-2", "pat two", "Phone"),
        ];
        let pat = with_passkeys(app, "pat", &passkeys).await;
        assert_eq!(remove(db, &pat, "pat-1", &by).await.unwrap(), "Laptop");
        // Pat has no password and no linked account: the last passkey stays.
        let last = remove(db, &pat, "pat-2", &by).await;
        assert!(matches!(last, Err(RemoveError::LastWay)), "{last:?}");
        assert!(matches!(
            remove(db, &pat, "pat-1", &by).await,
            Err(RemoveError::NotFound)
        ));
        // Alice has a password: her only passkey may go.
        let alice = with_passkeys(app, "alice", &[("alice-1", "alice one", "Laptop")]).await;
        assert_eq!(remove(db, &alice, "alice-1", &by).await.unwrap(), "Laptop");
        // Nobody removes another's.
        assert!(matches!(
            remove(db, &alice, "pat-2", &by).await,
            Err(RemoveError::NotFound)
        ));
        // The audit log has the two removals, and none of the refusals.
        let removed: Vec<(String, String)> = portcullis::on_pool!(db, pool => sqlx::query_as(
            "SELECT target, user_id FROM audit_events WHERE event = 'passkey_removed' ORDER BY id")
            .fetch_all(pool)
            .await)
        .unwrap();
        assert_eq!(
            removed,
            [
                ("Laptop".to_owned(), pat.clone()),
                ("Laptop".to_owned(), alice.clone())
            ]
        );
    })
    .await;
}
each_backend!(the_last_way_in_cannot_be_removed);

async fn administrators_make_enrolment_links_on_the_users_page(backend: Backend) {
    run(backend, async |app| {
        app.add_user("root", "root password", true).await;
        let alice_id = app.user_id("alice").await;
        // Not for users.
        let alice = signed_in(app, "alice").await;
        assert_eq!(
            app.call_status(&alice, "admin/passkey_link", &[("user_id", &alice_id)])
                .await,
            StatusCode::FORBIDDEN
        );

        let root = signed_in(app, "root").await;
        let users = page_text(app, &root, "/settings/users").await;
        assert!(users.contains("Make link for alice"), "{users}");
        let res = app
            .post_form(
                &root,
                "admin/passkey_link",
                "/settings/users",
                &[("user_id", &alice_id)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FOUND);
        let users = page_text(app, &root, "/settings/users").await;
        assert!(
            users.contains("Passkey enrolment link for alice"),
            "{users}"
        );
        let prefix = format!("{PUBLIC_URL}/passkey-enrolment?token=");
        let at = users.find(&prefix).expect("the link") + prefix.len();
        let token: String = users[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        // It works (for alice), and is shown once.
        let (status, v) = enrol_start(app, &app.browser(), &token).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["options"]["publicKey"]["user"]["name"], "alice");
        let again = page_text(app, &root, "/settings/users").await;
        assert!(!again.contains(&token), "shown once");
    })
    .await;
}
each_backend!(administrators_make_enrolment_links_on_the_users_page);

async fn signing_out_forgets_the_browsers_ceremonies(backend: Backend) {
    run(backend, async |app| {
        let alice = signed_in(app, "alice").await;
        let (status, _) = post(app, &alice, REGISTER_START, json!({ "name": "Laptop" })).await;
        assert_eq!(status, StatusCode::OK);
        start_sign_in(app, &app.browser()).await;
        let waiting = async || -> i64 {
            portcullis::on_pool!(&app.running.db, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM passkey_challenges")
                .fetch_one(pool)
                .await)
            .unwrap()
        };
        assert_eq!(waiting().await, 2);
        let res = app.call(&alice, "auth/logout", &[]).await;
        assert!(res.status().is_success() || res.status().is_redirection());
        assert_eq!(
            waiting().await,
            1,
            "alice's browser's ceremony is gone, not another's"
        );
    })
    .await;
}
each_backend!(signing_out_forgets_the_browsers_ceremonies);
