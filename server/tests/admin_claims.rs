//! Admin Claims against the real test provider (issue 11, part 2): at every sign-in through
//! the provider the administrator flag follows its rules (granted, removed), never from the
//! last administrator who can sign in (kept, and the users page says why); the display name
//! follows the `name` claim; `portcullis provider update --admin-claims`. Both backends.

use crate::common;

use common::TestApp;
use common::flow::*;
use serde_json::Value;

/// `portcullis <args>` against `app`'s database and data directory (its secret key).
fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let run = app.cli(&[args, &["--allow-insecure-issuers"]].concat());
    (run.ok, run.text())
}

fn set_admin_claims(app: &TestApp, rules: &str) {
    let (ok, out) = cli(
        app,
        &[
            "provider",
            "update",
            "--slug",
            "idp",
            "--admin-claims",
            rules,
        ],
    );
    assert!(ok, "{out}");
}

/// alice signs in through `idp` in a fresh browser; who she is then.
async fn alice_signs_in(app: &TestApp) -> Value {
    let b = app.browser();
    let res = sign_in(app, &b, "idp", "alice").await;
    assert_eq!(raw_location(&res), "/", "alice signs in");
    me(app, &b).await.expect("signed in")
}

async fn setup(app: &TestApp, admin_claims: &str) -> common::idp::Idp {
    let idp = start_idp(app, &["idp"]).await;
    let mut d = draft(&idp.issuer, "idp", true);
    d.settings.admin_claims = admin_claims.into();
    app.add_provider(d).await;
    enable_oidc(app).await;
    idp
}

async fn granted_and_removed_at_sign_in(app: &TestApp) {
    let _idp = setup(app, "groups=media-users").await;
    app.add_user("root", "root password", true).await; // another administrator, by password

    // Created by the provider: an administrator from the first sign-in.
    let alice = alice_signs_in(app).await;
    assert_eq!(alice["admin"], true, "{alice}");
    assert_eq!(alice["display_name"], "Alice Idp");
    let b = app.browser();
    let _ = sign_in(app, &b, "idp", "bob").await;
    assert_eq!(
        me(app, &b).await.unwrap()["admin"],
        false,
        "bob is not in media-users"
    );

    // The display name follows the provider at every sign-in.
    let id = alice["id"].as_str().unwrap();
    portcullis::exec!(
        &app.running.db,
        "UPDATE users SET display_name = 'Changed' WHERE id = $1",
        id
    )
    .unwrap();

    // A nested rule alice does not meet: the role goes at her next sign-in.
    set_admin_claims(app, "realm_access.roles=portcullis-admin");
    let (ok, listed) = cli(app, &["provider", "list", "--json"]);
    assert!(
        ok && listed.contains("realm_access.roles=portcullis-admin"),
        "{listed}"
    );
    let alice = alice_signs_in(app).await;
    assert_eq!(alice["admin"], false, "removed: {alice}");
    assert_eq!(alice["display_name"], "Alice Idp");

    // One she meets: granted again.
    set_admin_claims(app, "realm_access.roles=portcullis");
    assert_eq!(alice_signs_in(app).await["admin"], true);

    // Empty: this provider grants (and removes) nothing.
    set_admin_claims(app, "");
    assert_eq!(alice_signs_in(app).await["admin"], true, "left as it was");
    let b = app.browser();
    let _ = sign_in(app, &b, "idp", "bob").await;
    assert_eq!(me(app, &b).await.unwrap()["admin"], false);

    // The audit log, newest first: the provider's doing, by its rule.
    let events = app.events_about(id).await;
    let roles: Vec<&str> = events
        .iter()
        .filter(|e| e.event.name().starts_with("admin_"))
        .map(|e| e.event.name())
        .collect();
    assert_eq!(roles, ["admin_granted", "admin_revoked", "admin_granted"]);
    let granted = events
        .iter()
        .find(|e| e.event.name() == "admin_granted")
        .unwrap();
    assert_eq!(granted.by.actor, "provider:idp");
    assert_eq!(granted.details["rule"], "admin_claims of idp");
    // The display name set back by the provider at the sign-in after it was changed here.
    let renamed: Vec<_> = events
        .iter()
        .filter(|e| e.event.name() == "user_updated")
        .collect();
    assert_eq!(renamed.len(), 1, "{renamed:#?}");
    assert_eq!(renamed[0].by.actor, "provider:idp");
    assert_eq!(
        renamed[0].details["fields"],
        serde_json::json!(["display_name"])
    );
}
both_backends!(granted_and_removed_at_sign_in);

async fn the_last_admin_who_can_sign_in_is_kept(app: &TestApp) {
    let _idp = setup(app, "groups=media-users").await;
    app.add_user("gus", "gus password", false).await; // past first-run setup; not an admin
    assert_eq!(alice_signs_in(app).await["admin"], true);

    // The rule no longer matches, but alice is the only administrator: she stays one, and
    // the users page says why.
    set_admin_claims(app, "groups=admins");
    let b = app.browser();
    let res = sign_in(app, &b, "idp", "alice").await;
    assert_eq!(raw_location(&res), "/");
    assert_eq!(me(app, &b).await.unwrap()["admin"], true, "kept");
    let page = page_text(app, &b, "/settings/users").await;
    assert!(
        shows(
            &page,
            "Kept as administrator: Test IdP's Admin Claims no longer match"
        ),
        "{page}"
    );

    // Once another administrator can sign in (with a password), the role goes at alice's
    // next sign-in, and the note with it.
    app.add_user("root", "root password", true).await;
    let alice = alice_signs_in(app).await;
    assert_eq!(alice["admin"], false, "{alice}");
    let v = call_json(app, &signed_in(app, "root").await, "admin/users_settings").await;
    assert_eq!(v["admins_kept"], serde_json::json!([]));
}
both_backends!(the_last_admin_who_can_sign_in_is_kept);

/// The revoke is one guarded statement (it refuses to take the role from the last
/// administrator who can sign in, whatever a count read before said), and a sign-in through
/// a provider without Admin Claims clears a stale "kept" note.
async fn the_revoke_is_guarded_and_a_stale_note_cleared(app: &TestApp) {
    let _idp = setup(app, "groups=media-users").await;
    app.add_user("gus", "gus password", false).await; // past first-run setup; not an admin
    let alice = alice_signs_in(app).await;
    assert_eq!(alice["admin"], true);
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    let db = &app.running.db;
    use portcullis::ssr::admin_sync::{kept_admins, revoke_unless_last};
    assert!(
        !revoke_unless_last(db, &alice_id, &cli_revoke())
            .await
            .unwrap(),
        "the last one"
    );

    // Kept by a sign-in whose rule no longer matches; the note goes at a sign-in through
    // the provider once it has no Admin Claims.
    set_admin_claims(app, "groups=admins");
    assert_eq!(alice_signs_in(app).await["admin"], true);
    assert_eq!(kept_admins(db).await.unwrap().len(), 1);
    set_admin_claims(app, "");
    assert_eq!(alice_signs_in(app).await["admin"], true);
    assert_eq!(kept_admins(db).await.unwrap(), Vec::new(), "note cleared");

    // With another administrator who can sign in, the revoke passes; then that one is last.
    app.add_user("root", "root password", true).await;
    assert!(
        revoke_unless_last(db, &alice_id, &cli_revoke())
            .await
            .unwrap()
    );
    assert_eq!(alice_signs_in(app).await["admin"], false);
    let root = portcullis::ssr::users::find_by_identifier(db, "root")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !revoke_unless_last(db, &root.id, &cli_revoke())
            .await
            .unwrap(),
        "root is last now"
    );
}
both_backends!(the_revoke_is_guarded_and_a_stale_note_cleared);

/// The event a revoke made here records (the test acts as the command line would).
fn cli_revoke() -> portcullis::ssr::audit::Entry {
    use portcullis::ssr::audit::{Actor, Entry};
    Entry::new(portcullis::audit::EventKind::AdminRevoked, &Actor::cli())
}
