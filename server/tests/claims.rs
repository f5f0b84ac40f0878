//! Required Claims rules against the real test provider: `name=value` on a string list and
//! on a nested claim, checked at every sign-in (issue 11, part 1).

mod common;

use common::TestApp;
use common::flow::*;

async fn value_rules_admit_and_refuse(app: &TestApp) {
    let idp = start_idp(app, &["groups", "roles"]).await;
    let mut by_group = draft(&idp.issuer, "groups", true);
    by_group.required_claims = "groups=media-users".into();
    app.add_provider(by_group).await;
    let mut by_role = draft(&idp.issuer, "roles", true);
    by_role.required_claims = "realm_access.roles=portcullis, portcullis_user".into();
    app.add_provider(by_role).await;
    enable_oidc(app).await;
    app.add_user("root", "root password", true).await; // past first-run setup

    for slug in ["groups", "roles"] {
        // alice is in media-users and has the portcullis realm role: in.
        let a = app.browser();
        let res = sign_in(app, &a, slug, "alice").await;
        assert_eq!(raw_location(&res), "/", "{slug}: alice");
        assert_eq!(me(app, &a).await.unwrap()["username"], "alice");
        // bob has neither: refused, with a message that names no rule.
        let b = app.browser();
        let res = sign_in(app, &b, slug, "bob").await;
        assert_eq!(raw_location(&res), "/login", "{slug}: bob");
        assert!(me(app, &b).await.is_none());
        let page = page_text(app, &b, "/login").await;
        assert!(
            shows(&page, "is not allowed to sign in here"),
            "{}",
            alert(&page)
        );
        assert!(
            !page.contains("media-users") && !page.contains("realm_access"),
            "{}",
            alert(&page)
        );
    }
}
both_backends!(value_rules_admit_and_refuse);
