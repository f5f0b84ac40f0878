//! Required Claims rules against the real test provider: `name=value` on a string list and
//! on a nested claim, checked at every sign-in (issue 11, part 1).

use crate::common;

use common::TestApp;
use common::flow::*;

/// With `rules` as Required Claims, alice (in media-users, with the portcullis realm role
/// and portcullis_user) gets in and bob (neither) is refused with a message naming no rule.
async fn admits_alice_not_bob(app: &TestApp, rules: &str) {
    let (_idp, _) = idp_provider(app, |d| d.settings.required_claims = rules.into()).await;

    let a = app.browser();
    let res = sign_in(app, &a, "idp", "alice").await;
    assert_eq!(raw_location(&res), "/", "{rules}: alice");
    assert_eq!(me(app, &a).await.unwrap()["username"], "alice");

    let says = "is not allowed to sign in here";
    let page = refused_sign_in(app, &app.browser(), "idp", "bob", says).await;
    assert!(
        !page.contains("media-users") && !page.contains("realm_access"),
        "{rules}: no rule named"
    );
}

async fn a_value_in_a_list_claim(app: &TestApp) {
    admits_alice_not_bob(app, "groups=media-users").await;
}
both_backends!(a_value_in_a_list_claim);

async fn a_nested_claim_and_a_boolean_together(app: &TestApp) {
    admits_alice_not_bob(app, "realm_access.roles=portcullis, portcullis_user").await;
}
both_backends!(a_nested_claim_and_a_boolean_together);
