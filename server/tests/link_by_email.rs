//! Linking existing accounts by verified email (issue 11, part 4), against the real test
//! provider: opt-in per provider; only a provider-verified email; never an administrator;
//! never an account that already has an identity from this provider.

use crate::common;

use common::TestApp;
use common::flow::*;
use portcullis::ssr::users;

/// Provider `idp` without Allow New Users, linking by email when `on`.
async fn setup(app: &TestApp, on: bool) -> common::idp::Idp {
    let idp = start_idp(app, &["idp"]).await;
    let mut d = draft(&idp.issuer, "idp", false);
    d.settings.link_by_email = on;
    app.add_provider(d).await;
    enable_oidc(app).await;
    idp
}

/// The labels (provider user names) of `client`'s Linked Accounts.
async fn linked(app: &TestApp, client: &reqwest::Client) -> Vec<String> {
    call_json(app, client, "account/linked_accounts").await["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap().to_owned())
        .collect()
}

async fn verified_email_links_the_local_account(app: &TestApp) {
    let _idp = setup(app, true).await;
    app.add_local("root", "root@example.com", true).await;
    app.add_local("al", "Alice@IdP.example", false).await; // case differs from the claim
    let users_before = user_count(app).await;

    let b = app.browser();
    let res = sign_in(app, &b, "idp", "alice").await;
    assert_eq!(raw_location(&res), "/", "signed in");
    let who = me(app, &b).await.expect("signed in");
    assert_eq!(
        who["username"], "al",
        "into the account with that email: {who}"
    );
    assert_eq!(user_count(app).await, users_before, "no account created");
    // Recorded like a manual link: listed, and the next sign-in uses it.
    assert_eq!(linked(app, &b).await, ["alice"]);
    let again = app.browser();
    sign_in(app, &again, "idp", "alice").await;
    assert_eq!(me(app, &again).await.unwrap()["username"], "al");
}
both_backends!(verified_email_links_the_local_account);

async fn off_unless_chosen(app: &TestApp) {
    // Off: the same person is told to link by hand.
    let idp = setup(app, false).await;
    app.add_local("root", "root-idp@idp.example", true).await;
    app.add_local("al", "alice@idp.example", false).await;
    refused_sign_in(app, &app.browser(), "idp", "alice", "No account is linked").await;
    drop(idp);
}
both_backends!(off_unless_chosen);

async fn only_verified_non_admin_unlinked_accounts(app: &TestApp) {
    let _idp = setup(app, true).await;
    app.add_local("root", "root-idp@idp.example", true).await; // an administrator's email
    app.add_local("fr", "frank@idp.example", false).await; // frank's email is not verified
    app.add_local("da", "dave@idp.example", false).await; // will hold carol's identity
    let refused = |user: &'static str| async move {
        let b = app.browser();
        let res = sign_in(app, &b, "idp", user).await;
        assert_eq!(raw_location(&res), "/login", "{user} is refused");
        assert!(me(app, &b).await.is_none(), "{user} is not signed in");
    };
    refused("root").await;
    refused("frank").await;

    // da links carol's identity by hand; dave's verified email then matches da, who
    // already has an identity from this provider: refused, and carol's link stays.
    let da = signed_in(app, "da").await;
    let res = link(app, &da, "idp", "carol").await;
    assert!(res.status().is_redirection());
    assert_eq!(linked(app, &da).await, ["carol"]);
    refused("dave").await;
    assert_eq!(
        linked(app, &da).await,
        ["carol"],
        "carol's link stays, dave got none"
    );

    // The administrator's account and frank's got no link either.
    assert!(linked(app, &signed_in(app, "root").await).await.is_empty());
    assert!(linked(app, &signed_in(app, "fr").await).await.is_empty());
}
both_backends!(only_verified_non_admin_unlinked_accounts);

/// `portcullis provider update --slug <slug> --link-by-email <on>`, the real CLI.
fn set_link_by_email(app: &TestApp, slug: &str, on: bool) {
    let run = app.cli(&[
        "provider",
        "--allow-insecure-issuers",
        "update",
        "--slug",
        slug,
        "--link-by-email",
        if on { "true" } else { "false" },
    ]);
    assert!(run.ok, "{}", run.text());
}

/// Issue 18 item 5. Provider `open` enrols anyone and marks every address verified, so an
/// account it creates holds whatever address its user typed there: here alice's. Provider
/// `corp` links by email and makes alice an administrator (Admin Claims). alice's first
/// sign-in through `corp` must not be joined to the account `open` created (which would
/// make it an administrator that `open`'s user signs in to): linking by email trusts only
/// an email set by an administrator, by the user at a password account, or by a provider
/// that links by email, judged when it links.
async fn an_email_from_a_provider_that_does_not_link_by_email_links_nothing(app: &TestApp) {
    let open = start_idp(app, &["open"]).await;
    let corp = start_idp(app, &["corp"]).await;
    let mut d = draft(&open.issuer, "open", true);
    d.name = "Open IdP".into();
    app.add_provider(d).await;
    let mut d = draft(&corp.issuer, "corp", true);
    d.name = "Corp IdP".into();
    d.settings.link_by_email = true;
    d.settings.admin_claims = "portcullis_user".into();
    app.add_provider(d).await;
    enable_oidc(app).await;
    app.add_local("root", "root@example.com", true).await; // past first-run setup

    // The first user signs up through `open` with alice's address.
    let mallory = app.browser();
    let res = sign_in(app, &mallory, "open", "alice").await;
    assert_eq!(raw_location(&res), "/");
    let taken = me(app, &mallory).await.expect("signed in through open");
    assert_eq!(taken["email"], "alice@idp.example");
    assert_eq!(taken["admin"], false);
    let users_before = user_count(app).await;

    // alice signs in through `corp` for the first time: refused, not joined to that account.
    let alice = app.browser();
    let says = "An account with the email address from Corp IdP already exists";
    refused_sign_in(app, &alice, "corp", "alice", says).await;
    assert_eq!(user_count(app).await, users_before, "no account created");

    // The account `open` created got no link from `corp` and no administrator role.
    let again = app.browser();
    sign_in(app, &again, "open", "alice").await;
    let who = me(app, &again).await.expect("signed in through open");
    assert_eq!(who["id"], taken["id"]);
    assert_eq!(who["admin"], false, "not an administrator: {who}");
    assert_eq!(linked(app, &again).await, ["alice"], "only open's identity");

    // Trust is judged when the email is used: once the administrator says `open` verifies
    // addresses (it links by email too), its emails are trusted and alice's sign-in through
    // `corp` joins that account.
    set_link_by_email(app, "open", true);
    let res = sign_in(app, &alice, "corp", "alice").await;
    assert_eq!(raw_location(&res), "/", "linked by email now");
    assert_eq!(me(app, &alice).await.unwrap()["id"], taken["id"]);
    assert_eq!(
        linked(app, &alice).await,
        ["alice", "alice"],
        "open's and corp's"
    );
}
both_backends!(an_email_from_a_provider_that_does_not_link_by_email_links_nothing);

/// Whether `name`'s email is trusted now, and where it came from.
async fn email_trust(app: &TestApp, name: &str) -> (bool, portcullis::email_source::EmailSource) {
    let id = users::find_by_identifier(&app.running.db, name)
        .await
        .unwrap()
        .unwrap()
        .id;
    let t = users::email_trust(&app.running.db, &id)
        .await
        .unwrap()
        .unwrap();
    (t.trusted(), t.source())
}

/// Every writer records where the email came from: `portcullis user add` (an administrator);
/// the re-sync at a sign-in through a provider that does not link by email (its own, not
/// trusted); a later sign-in through one that links by email and verified the same address
/// (trusted). Deleting the provider, or pointing it at another issuer, forgets its word.
async fn each_email_writer_records_its_source(app: &TestApp) {
    use portcullis::email_source::EmailSource::*;
    use portcullis::provider::{IssuerPolicy, Mode};
    let idp = start_idp(app, &["open", "corp"]).await;
    app.add_provider(draft(&idp.issuer, "open", false)).await;
    let mut corp = draft(&idp.issuer, "corp", false);
    corp.settings.link_by_email = true;
    app.add_provider(corp.clone()).await;
    enable_oidc(app).await;
    app.add_local("root", "root@example.com", true).await;
    app.add_local("al", "al@example.com", false).await;
    let al_trust = async |expected: (bool, portcullis::email_source::EmailSource), why: &str| {
        assert_eq!(email_trust(app, "al").await, expected, "{why}");
    };
    al_trust((true, Admin), "set by an administrator").await;

    // al links alice's identities at both by hand; linking itself changes no email.
    let al = signed_in(app, "al").await;
    link(app, &al, "open", "alice").await;
    link(app, &al, "corp", "alice").await;
    assert_eq!(linked(app, &al).await, ["alice", "alice"]);
    al_trust((true, Admin), "linking changes no email").await;

    sign_in(app, &app.browser(), "open", "alice").await;
    let why = "open's email replaced the administrator's, and open does not link by email";
    al_trust((false, Provider("open".into())), why).await;
    portcullis::ssr::providers::delete(&app.running.db, "open", &common::by_cli())
        .await
        .unwrap();
    al_trust((false, Unknown), "open is gone").await;

    sign_in(app, &app.browser(), "corp", "alice").await;
    let why = "corp links by email and verified the same address";
    al_trust((true, Provider("corp".into())), why).await;

    let elsewhere = start_idp(app, &["corp"]).await;
    corp.issuer_url = elsewhere.issuer.clone();
    let valid = corp
        .validate(Mode::Update, IssuerPolicy::default())
        .unwrap();
    let secrets = app.config.secrets().unwrap();
    portcullis::ssr::providers::update(
        &app.running.db,
        &secrets,
        "corp",
        &valid,
        &common::by_cli(),
    )
    .await
    .unwrap();
    let why = "corp now names another issuer, which vouched for nothing here";
    al_trust((false, Unknown), why).await;
}
both_backends!(each_email_writer_records_its_source);

/// Rows as a version before `20261204000001_email_source.sql` left them. Until then only
/// setup and `portcullis user add` made password accounts, and only a provider sign-in
/// wrote a user row again (moving `updated_at`).
const OLD_ROWS: &str = "
INSERT INTO oidc_providers (slug, name, logo, issuer_url, client_id, client_secret_enc, scopes,
    required_claims, allow_new_users, enabled, position, created_at, updated_at, link_by_email)
VALUES ('off', 'Off', '', 'https://off.example', 'c', 'v1:x', 'openid', '', TRUE, TRUE, 0, 1, 1, FALSE),
       ('on', 'On', '', 'https://on.example', 'c', 'v1:x', 'openid', '', TRUE, TRUE, 1, 1, 1, TRUE);
INSERT INTO users (id, username, email, display_name, password_hash, is_admin, created_at, updated_at)
VALUES ('1', 'typed', 'typed@example.com', 't', 'hash', TRUE, 10, 10),
       ('2', 'renamed', 'renamed@example.com', 'r', 'hash', FALSE, 10, 20),
       ('3', 'followed', 'followed@off.example', 'f', 'hash', FALSE, 10, 20),
       ('4', 'created', 'created@both.example', 'c', NULL, FALSE, 10, 10),
       ('5', 'orphan', 'orphan@example.com', 'o', NULL, FALSE, 10, 10),
       ('6', 'none', NULL, 'n', NULL, FALSE, 10, 10);
INSERT INTO linked_identities (id, user_id, provider_slug, issuer, subject, email, linked_at)
VALUES ('a', '2', 'off', 'https://off.example', 's2', 'other@off.example', 10),
       ('b', '3', 'off', 'https://off.example', 's3', 'Followed@OFF.example', 10),
       ('c', '4', 'off', 'https://off.example', 's4', 'created@both.example', 10),
       ('d', '4', 'on', 'https://on.example', 's4', 'CREATED@both.example', 10),
       ('e', '5', 'off', 'https://off.example', 's5', NULL, 10);
";

/// The migration's backfill, on a database at the schema before it: an email a password
/// account has held since it was created is the administrator's; one a linked provider
/// verified for the account is that provider's (one that links by email first); any other
/// is unknown (never trusted).
async fn existing_emails_get_a_source(url: &str) {
    use portcullis::ssr::db::Db;
    use sqlx::migrate::Migrator;
    const EMAIL_SOURCE: &str = "20261204000001";
    let earlier = tempfile::tempdir().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < EMAIL_SOURCE {
            std::fs::copy(&path, earlier.path().join(name)).unwrap();
        }
    }
    let before = Migrator::new(earlier.path()).await.unwrap();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc"))
            .await
            .unwrap();
        before.run(&pool).await.unwrap();
        sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        before.run(&pool).await.unwrap();
        sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
        pool.close().await;
    }

    let db = Db::connect(url).await.unwrap(); // applies the rest
    let rows: Vec<(String, Option<String>, Option<String>)> = portcullis::on_pool!(&db, pool =>
        sqlx::query_as("SELECT username, email_source, email_provider FROM users ORDER BY id")
            .fetch_all(pool)
            .await)
    .unwrap();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        rows,
        [
            ("typed".to_owned(), s("admin"), None),
            ("renamed".to_owned(), None, None),
            ("followed".to_owned(), s("provider"), s("off")),
            ("created".to_owned(), s("provider"), s("on")),
            ("orphan".to_owned(), None, None),
            ("none".to_owned(), None, None),
        ]
    );
    // Trusted now: the administrator's, and the one from the provider that links by email.
    let mut trusted = Vec::new();
    for (id, name) in [
        ("1", "typed"),
        ("2", "renamed"),
        ("3", "followed"),
        ("4", "created"),
        ("5", "orphan"),
    ] {
        if users::email_trust(&db, id)
            .await
            .unwrap()
            .unwrap()
            .trusted()
        {
            trusted.push(name);
        }
    }
    assert_eq!(trusted, ["typed", "created"]);
    db.close().await;
}

#[tokio::test]
async fn existing_emails_get_a_source_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    existing_emails_get_a_source(&format!("sqlite://{}", dir.path().join("old.db").display()))
        .await;
}

#[tokio::test]
async fn existing_emails_get_a_source_postgres() {
    let (name, url) = common::create_database().await;
    existing_emails_get_a_source(&url).await;
    common::drop_database(&name).await;
}
