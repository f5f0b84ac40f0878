//! The audit log (issue 23 item 2): each audited action through its real entry point (the
//! server functions, the sign-in routes, the CLI) and the event it leaves; no secret in any
//! event; the filters and keyset pages of the listing, the settings page, the CLI and the
//! JSON Lines export; retention. Forward-auth denials: `forward_auth::denials_are_counted`.
//! On SQLite and PostgreSQL.

use crate::common;

use common::TestApp;
use common::flow::{
    add_signed_in, body_with, draft, idp_provider, me, password_sign_in, sign_in, signed_in,
};
use portcullis::audit::{AuditEvent, AuditFilter, EventKind, Page};
use portcullis::ssr::audit::{self, Actor, Entry};
use reqwest::StatusCode;

/// Every event, newest first, as `portcullis audit list --json --limit 0` exports them.
fn exported(app: &TestApp) -> (String, Vec<AuditEvent>) {
    let run = app.cli(&["audit", "list", "--json", "--limit", "0"]);
    assert!(run.ok, "{}", run.stderr);
    let events = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (run.stdout, events)
}

/// The events of `kind`, newest first.
async fn of_kind(app: &TestApp, kind: EventKind) -> Vec<AuditEvent> {
    app.events_of(kind).await
}

/// The one event of `kind` (there must be exactly one).
async fn only(app: &TestApp, kind: EventKind) -> AuditEvent {
    let mut all = of_kind(app, kind).await;
    assert_eq!(all.len(), 1, "one {kind}: {all:#?}");
    all.remove(0)
}

fn detail<'a>(e: &'a AuditEvent, key: &str) -> &'a str {
    e.details
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{key} in {e:?}"))
}

fn fields(e: &AuditEvent) -> Vec<String> {
    serde_json::from_value(e.details["fields"].clone()).unwrap()
}

async fn user_id(app: &TestApp, name: &str) -> String {
    app.user_id(name).await
}

async fn password_sign_ins_and_sign_out(app: &TestApp) {
    app.add_user("alice", "alice password", false).await;
    let alice = user_id(app, "alice").await;
    let b = app.browser();
    let refused = app.login(&b, "alice", "not her password").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused = app.login(&b, "mallory", "whatever it is").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    password_sign_in(app, &b, "alice").await;
    let res = app.call(&b, "auth/logout", &[]).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(me(app, &b).await, None);

    let failed = of_kind(app, EventKind::SignInFailed).await;
    assert_eq!(failed.len(), 2, "{failed:#?}");
    let (mallory, wrong) = (&failed[0], &failed[1]);
    assert_eq!(wrong.by.actor, "alice");
    assert_eq!(
        wrong.user_id.as_deref(),
        Some(alice.as_str()),
        "about alice"
    );
    assert_eq!(detail(wrong, "reason"), "invalid_credentials");
    assert_eq!(wrong.by.client.as_deref(), Some("127.0.0.1"));
    assert_eq!(mallory.by.actor, "mallory");
    assert_eq!(mallory.user_id, None, "no such account");

    let signed_in = only(app, EventKind::SignIn).await;
    assert_eq!(signed_in.by.actor_id.as_deref(), Some(alice.as_str()));
    assert_eq!(signed_in.by.actor, "alice");
    assert_eq!(detail(&signed_in, "method"), "password");
    assert_eq!(signed_in.by.client.as_deref(), Some("127.0.0.1"));
    let out = only(app, EventKind::SignOut).await;
    assert_eq!(out.by.actor, "alice");

    // By user: alice's own, and the ones about her (her account made by the CLI), never
    // mallory's.
    let hers = app.events_about("alice@example.com").await;
    let kinds: Vec<&str> = hers.iter().map(|e| e.event.name()).collect();
    assert_eq!(
        kinds,
        ["sign_out", "sign_in", "sign_in_failed", "user_created"]
    );
    assert_eq!(hers[3].by.actor, "cli");
}
both_backends!(password_sign_ins_and_sign_out);

async fn provider_sign_in_creates_and_signs_in(app: &TestApp) {
    let (_idp, _) = idp_provider(app, |_| {}).await;
    let b = app.browser();
    let res = sign_in(app, &b, "idp", "alice").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let who = me(app, &b).await.expect("signed in");
    let id = who["id"].as_str().unwrap();

    let created = of_kind(app, EventKind::UserCreated).await;
    let created = created
        .iter()
        .find(|e| e.user_id.as_deref() == Some(id))
        .expect("alice's account");
    assert_eq!(created.by.actor, "provider:idp");
    assert_eq!(detail(created, "provider"), "idp");
    assert_eq!(created.target.as_deref(), who["username"].as_str());
    let signed_in = only(app, EventKind::SignIn).await;
    assert_eq!(signed_in.by.actor_id.as_deref(), Some(id));
    assert_eq!(detail(&signed_in, "method"), "provider");
    assert_eq!(detail(&signed_in, "provider"), "idp");
    assert_eq!(signed_in.by.client.as_deref(), Some("127.0.0.1"));
}
both_backends!(provider_sign_in_creates_and_signs_in);

/// The secrets the next test types somewhere; none may be in any event.
const SECRETS: [&str; 5] = [
    "first-client-secret",
    "second-client-secret",
    "bob-password-1234",
    "root password",
    "alice password",
];

async fn changes_name_their_fields_and_never_a_secret(app: &TestApp) {
    app.add_user("root", "root password", true).await;
    app.add_user("alice", "alice password", false).await;
    let root = signed_in(app, "root").await;
    let alice = user_id(app, "alice").await;

    // A provider, and an edit of its scopes and secret through the editor's server function.
    let mut d = draft("https://sso.example.com", "corp", false);
    d.client_secret = SECRETS[0].into();
    app.add_provider(d.clone()).await;
    d.client_secret = SECRETS[1].into();
    d.settings.scopes = "openid, email".into();
    let (status, body) = app.save_provider(&root, "corp", &d).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = only(app, EventKind::ProviderCreated).await;
    assert_eq!(
        (created.by.actor.as_str(), created.target.as_deref()),
        ("cli", Some("Test IdP"))
    );
    let updated = only(app, EventKind::ProviderUpdated).await;
    assert_eq!(updated.by.actor, "root");
    let changed = fields(&updated);
    assert!(
        changed.contains(&"scopes".to_owned()) && changed.contains(&"client_secret".to_owned()),
        "{changed:?}"
    );
    assert!(!changed.contains(&"name".to_owned()), "{changed:?}");
    assert_eq!(updated.target_id.as_deref(), Some("corp"));
    let res = app
        .call(
            &root,
            "admin/set_provider_enabled",
            &[("slug", "corp"), ("enabled", "false")],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let toggled = &of_kind(app, EventKind::ProviderUpdated).await[0];
    assert_eq!(fields(toggled), ["enabled"]);

    // An application from the CLI, changed and removed.
    let run = app.cli(&[
        "app",
        "add",
        "--name",
        "Echo",
        "--url",
        "http://app.portcullis.test",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let run = app.cli(&[
        "app",
        "update",
        "Echo",
        "--access",
        "admins",
        "--allow-tokens",
        "true",
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        only(app, EventKind::AppCreated).await.target.as_deref(),
        Some("Echo")
    );
    let changed = only(app, EventKind::AppUpdated).await;
    assert_eq!(fields(&changed), ["access", "allow_tokens"]);
    assert_eq!(changed.by.actor, "cli");

    // A group from the users page, and a token made and revoked by the CLI.
    let form = [("user_id", alice.as_str()), ("group", "media")];
    let res = app.call(&root, "admin/assign_group", &form).await;
    assert!(res.status().is_success(), "{}", res.status());
    let assigned = only(app, EventKind::GroupAssigned).await;
    assert_eq!(assigned.by.actor, "root");
    assert_eq!(assigned.target.as_deref(), Some("alice"));
    assert_eq!(detail(&assigned, "group"), "media");
    let run = app.cli(&["app", "update", "Echo", "--access", "users"]);
    assert!(run.ok, "{}", run.stderr);
    let run = app.cli(&[
        "token", "create", "--user", "alice", "--name", "backup", "--app", "Echo",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let token = run.stdout.trim().to_owned();
    let made = only(app, EventKind::TokenCreated).await;
    assert_eq!(made.user_id.as_deref(), Some(alice.as_str()));
    assert_eq!(made.target.as_deref(), Some("backup"));
    let run = app.cli(&["token", "revoke", made.target_id.as_deref().unwrap()]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        only(app, EventKind::TokenRevoked).await.user_id.as_deref(),
        Some(alice.as_str())
    );

    // A user made by the CLI (administrator: granted by that rule), and alice ending her
    // other session.
    let run = app.cli_with_input(
        &[
            "user",
            "add",
            "--username",
            "bob",
            "--email",
            "bob@example.com",
            "--password-stdin",
            "--admin",
        ],
        SECRETS[2],
    );
    assert!(run.ok, "{}", run.stderr);
    let granted = of_kind(app, EventKind::AdminGranted).await.remove(0);
    assert_eq!(
        (granted.target.as_deref(), detail(&granted, "rule")),
        (Some("bob"), "by_administrator")
    );
    let here = signed_in(app, "alice").await;
    let _there = signed_in(app, "alice").await;
    let res = app.call(&here, "account/end_other_sessions", &[]).await;
    assert!(res.status().is_success(), "{}", res.status());
    let ended = only(app, EventKind::SessionEnded).await;
    assert_eq!(
        (ended.by.actor.as_str(), ended.user_id.as_deref()),
        ("alice", Some(alice.as_str()))
    );
    let run = app.cli(&["session", "revoke", "--user", "alice", "--all"]);
    assert!(run.ok, "{}", run.stderr);
    let ended = &of_kind(app, EventKind::SessionEnded).await[0];
    assert_eq!(
        (ended.by.actor.as_str(), detail(ended, "session")),
        ("cli", "all")
    );

    // Deletions: the application by the CLI, the provider by the page's server function.
    let run = app.cli(&["app", "remove", "Echo"]);
    assert!(run.ok, "{}", run.stderr);
    let gone = only(app, EventKind::AppDeleted).await;
    assert_eq!(
        (gone.by.actor.as_str(), gone.target.as_deref()),
        ("cli", Some("Echo"))
    );
    let res = app
        .call(&root, "admin/delete_provider", &[("slug", "corp")])
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let gone = only(app, EventKind::ProviderDeleted).await;
    assert_eq!(
        (gone.by.actor.as_str(), gone.target_id.as_deref()),
        ("root", Some("corp"))
    );
    assert_eq!(gone.details["links"], 0);

    // Login methods: auto-redirect off, as an administrator.
    let res = app
        .call(&root, "admin/set_auto_redirect", &[("slug", "")])
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        only(app, EventKind::LoginMethodsChanged).await.by.actor,
        "root"
    );

    // No secret anywhere: not in the CLI's export, not in the page's.
    let (lines, all) = exported(app);
    assert!(all.len() >= 14, "{all:#?}");
    let res = root
        .get(app.url("/api/v1/audit.jsonl"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/jsonl");
    let page_export = res.text().await.unwrap();
    assert_eq!(page_export.lines().count(), all.len(), "the same events");
    for secret in SECRETS.iter().copied().chain([token.as_str()]) {
        assert!(!lines.contains(secret), "{secret} in {lines}");
        assert!(!page_export.contains(secret), "{secret} in the export");
    }
    // Not a page of anyone else's (alice signs in again: the CLI ended her sessions).
    let alice_export = signed_in(app, "alice")
        .await
        .get(app.url("/api/v1/audit.jsonl"))
        .send()
        .await
        .unwrap();
    assert_eq!(alice_export.status(), StatusCode::FORBIDDEN);
}
both_backends!(changes_name_their_fields_and_never_a_secret);

/// `n` sign-in failures of `who`, a second apart in `at`, oldest first.
async fn failures(app: &TestApp, who: &str, n: i64) {
    let now = portcullis::ssr::clock::now();
    for i in 0..n {
        let mut e = Entry::new(EventKind::SignInFailed, &Actor::unknown(who, None))
            .detail("reason", format!("try {i}"));
        e.at = now - n + i;
        audit::record(&app.running.db, e).await;
    }
}

async fn pages_and_filters(app: &TestApp) {
    failures(app, "carol", 5).await;
    failures(app, "dave", 1).await;
    let db = &app.running.db;
    let carol = |page| AuditFilter {
        user: Some("carol".into()),
        event: Some(EventKind::SignInFailed),
        page,
        limit: 2,
        ..AuditFilter::default()
    };
    let reasons = |l: &audit::Listed| {
        l.events
            .iter()
            .map(|e| detail(e, "reason").to_owned())
            .collect::<Vec<_>>()
    };
    let first = audit::list(db, &carol(None)).await.unwrap();
    assert_eq!(reasons(&first), ["try 4", "try 3"]);
    assert_eq!(first.newer, None);
    let second = audit::list(db, &carol(first.older.clone().map(Page::Before)))
        .await
        .unwrap();
    assert_eq!(reasons(&second), ["try 2", "try 1"]);
    let third = audit::list(db, &carol(second.older.clone().map(Page::Before)))
        .await
        .unwrap();
    assert_eq!(reasons(&third), ["try 0"]);
    assert_eq!(third.older, None, "the last page");
    let back = audit::list(db, &carol(third.newer.clone().map(Page::After)))
        .await
        .unwrap();
    assert_eq!(reasons(&back), ["try 2", "try 1"], "Newer goes back a page");

    // Dates: from tomorrow nothing.
    let tomorrow = portcullis::ssr::clock::now() + 86_400;
    let later = AuditFilter {
        since: Some(tomorrow),
        limit: 10,
        ..AuditFilter::default()
    };
    assert!(audit::list(db, &later).await.unwrap().events.is_empty());

    // The page, as an administrator without JavaScript: the GET form's filters, the table,
    // the Older link; a date that is no date is the field's error.
    let root = add_signed_in(app, "root", true).await;
    let page = app
        .page(&root, "/settings/audit?user=carol&event=sign_in_failed")
        .await;
    let html = body_with(page, StatusCode::OK).await;
    assert_eq!(
        html.matches("data-event=\"sign_in_failed\"").count(),
        5,
        "{html}"
    );
    assert!(html.contains("5 events, newest first"), "{html}");
    assert!(!html.contains("dave"), "carol's only");
    assert!(html.contains("<time datetime="), "{html}");
    let html = app
        .page(&root, "/settings/audit?since=yesterday")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Enter a date as YYYY-MM-DD."), "{html}");
    // The CLI's table, by user and event.
    let run = app.cli(&["audit", "list", "--user", "dave"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("sign_in_failed") && run.stdout.contains("try 0"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("carol"), "{}", run.stdout);
    let run = app.cli(&["audit", "list", "--event", "nonsense"]);
    assert!(
        !run.ok && run.stderr.contains("sign_in_failed"),
        "{}",
        run.stderr
    );

    // Someone else: refused.
    let alice = add_signed_in(app, "alice", false).await;
    assert_eq!(
        app.call_status(&alice, "admin/audit_log", &[("query[user]", "")])
            .await,
        StatusCode::FORBIDDEN
    );
    let res = app
        .call(&root, "admin/audit_log", &[("query[user]", "")])
        .await;
    let data: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        data["events"].as_array().map(Vec::len),
        Some(11),
        "6 failures; root and alice created, root made an administrator, both signed in: {data}"
    );
}
both_backends!(pages_and_filters);

async fn retention_deletes_only_old_events(app: &TestApp) {
    let db = &app.running.db;
    // 50 days old: within the server's own sweep (90 days, which may run at any time), past
    // a retention of 30.
    let mut old = Entry::new(EventKind::SignOut, &Actor::unknown("old", None));
    old.at -= 50 * 86_400;
    audit::record(db, old).await;
    audit::record(
        db,
        Entry::new(EventKind::SignOut, &Actor::unknown("new", None)),
    )
    .await;
    assert_eq!(audit::delete_older_than(db, 30).await.unwrap(), 1);
    let left = of_kind(app, EventKind::SignOut).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].by.actor, "new");
    // A replica on the same database reads the same log.
    let replica = app.replica(|_| {}).await;
    let filter = AuditFilter {
        limit: 10,
        ..AuditFilter::default()
    };
    assert_eq!(
        audit::list(&replica.db, &filter)
            .await
            .unwrap()
            .events
            .len(),
        1
    );
    replica.stop().await;
}
both_backends!(retention_deletes_only_old_events);
