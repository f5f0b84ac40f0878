//! At every sign-in through a provider the account's email follows the provider's verified
//! email (issue 11 part 2, under the email rules of the hardening issue): a verified email
//! replaces a stale one; an email another account holds is left alone, and the sign-in still
//! succeeds; an unverified one changes nothing.

use crate::common;

use common::TestApp;
use common::flow::*;
use portcullis::ssr::users;

async fn email_of(app: &TestApp, name: &str) -> Option<String> {
    users::find_by_identifier(&app.running.db, name)
        .await
        .unwrap()
        .unwrap()
        .email
}

async fn the_verified_email_follows_the_provider(app: &TestApp) {
    let _idp = {
        let idp = start_idp(app, &["idp"]).await;
        add_provider(app, &idp.issuer, "idp", false).await;
        idp
    };
    app.add_user("root", "root password", true).await;
    app.add_local("al", "stale@example.com", false).await;
    app.add_local("ca", "ca@example.com", false).await;
    app.add_local("cx", "carol@idp.example", false).await; // holds carol's provider email
    app.add_local("fr", "fr@example.com", false).await;
    for (local_name, idp_user) in [("al", "alice"), ("ca", "carol"), ("fr", "frank")] {
        let b = signed_in(app, local_name).await;
        assert!(
            link(app, &b, "idp", idp_user)
                .await
                .status()
                .is_redirection()
        );
    }

    let b = app.browser();
    sign_in(app, &b, "idp", "alice").await;
    assert_eq!(me(app, &b).await.unwrap()["username"], "al");
    assert_eq!(
        email_of(app, "al").await.as_deref(),
        Some("alice@idp.example")
    );

    // Another account has it: left alone, and the sign-in still succeeds.
    let b = app.browser();
    sign_in(app, &b, "idp", "carol").await;
    assert_eq!(me(app, &b).await.unwrap()["username"], "ca");
    assert_eq!(email_of(app, "ca").await.as_deref(), Some("ca@example.com"));

    // frank's email is not verified at the provider: nothing changes.
    let b = app.browser();
    sign_in(app, &b, "idp", "frank").await;
    assert_eq!(me(app, &b).await.unwrap()["username"], "fr");
    assert_eq!(email_of(app, "fr").await.as_deref(), Some("fr@example.com"));
}
both_backends!(the_verified_email_follows_the_provider);
