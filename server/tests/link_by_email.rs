//! Linking existing accounts by verified email (issue 11, part 4), against the real test
//! provider: opt-in per provider; only a provider-verified email; never an administrator;
//! never an account that already has an identity from this provider.

mod common;

use common::TestApp;
use common::flow::*;
use portcullis::account::NewAccount;
use portcullis::ssr::users;

/// A local account `name` (password `<name> password`) with `email`.
async fn local(app: &TestApp, name: &str, email: &str, admin: bool) {
    let account = NewAccount {
        username: name.into(),
        email: email.into(),
        display_name: format!("{name} local"),
        password: format!("{name} password"),
    }
    .validate()
    .unwrap();
    users::create(&app.running.db, &account, admin, false)
        .await
        .unwrap();
}

/// Provider `idp` without Allow New Users, linking by email when `on`.
async fn setup(app: &TestApp, on: bool) -> common::idp::Idp {
    let idp = start_idp(app, &["idp"]).await;
    let mut d = draft(&idp.issuer, "idp", false);
    d.link_by_email = on;
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
    local(app, "root", "root@example.com", true).await;
    local(app, "al", "Alice@IdP.example", false).await; // case differs from the claim
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
    local(app, "root", "root-idp@idp.example", true).await;
    local(app, "al", "alice@idp.example", false).await;
    let b = app.browser();
    let res = sign_in(app, &b, "idp", "alice").await;
    assert_eq!(raw_location(&res), "/login");
    assert!(me(app, &b).await.is_none());
    let page = page_text(app, &b, "/login").await;
    assert!(shows(&page, "No account is linked"), "{}", alert(&page));
    drop(idp);
}
both_backends!(off_unless_chosen);

async fn only_verified_non_admin_unlinked_accounts(app: &TestApp) {
    let _idp = setup(app, true).await;
    local(app, "root", "root-idp@idp.example", true).await; // an administrator's email
    local(app, "fr", "frank@idp.example", false).await; // frank's email is not verified
    local(app, "da", "dave@idp.example", false).await; // will hold carol's identity
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
