//! Administrator settings: users and login methods.

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::user::UserView;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersSettingsData {
    pub users: Vec<UserView>,
    /// (user id, identity) for every linked identity.
    pub links: Vec<(String, portcullis::identity::LinkedIdentity)>,
    pub local_login: bool,
    pub oidc_enabled: bool,
    pub enabled_providers: usize,
    /// Every signed-in session, of every user (the users page lists them per user).
    pub sessions: Vec<portcullis::sessions::SessionView>,
    /// (user id, why): administrators whose provider's Admin Claims no longer hold, kept
    /// because no other administrator could sign in.
    #[serde(default)]
    pub admins_kept: Vec<(String, String)>,
    /// (user id, groups): every user's groups as applications see them (assigned ones, and
    /// each provider's as `<slug>:<group>` unless its groups are authoritative).
    #[serde(default)]
    pub groups: Vec<(String, Vec<String>)>,
    /// The users with one-time codes on (a second factor at password sign-in).
    #[serde(default)]
    pub one_time_codes: Vec<String>,
    /// The users holding a passkey (two factors in one).
    #[serde(default)]
    pub passkeys: Vec<String>,
    /// Passkeys can be used here (the public URL has a host name).
    #[serde(default)]
    pub passkeys_available: bool,
    /// A passkey enrolment link just made: (username, link), shown this once.
    #[serde(default)]
    pub passkey_link: Option<(String, String)>,
    /// (user id, how many): the users who hold personal access tokens.
    #[serde(default)]
    pub tokens: Vec<(String, i64)>,
    /// Who must have signed in with two factors.
    #[serde(default)]
    pub second_factor: portcullis::second_factor::Requirement,
    pub messages: Messages,
}

#[server(endpoint = "admin/users_settings")]
pub async fn users_settings() -> Result<UsersSettingsData, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
        let db = &cx.state.db;
        let users = portcullis::ssr::users::list(db).await?;
        let methods = portcullis::ssr::providers::login_methods(db).await?;
        Ok(UsersSettingsData {
            users: users.iter().map(|u| u.view()).collect(),
            links: portcullis::ssr::identities::all_links(db).await?,
            local_login: methods.local,
            oidc_enabled: methods.oidc,
            enabled_providers: methods.enabled_providers,
            admins_kept: portcullis::ssr::admin_sync::kept_admins(db).await?,
            groups: portcullis::ssr::groups::of_everyone(db).await?,
            one_time_codes: portcullis::ssr::totp::enabled_users(db).await?,
            passkeys: portcullis::ssr::passkeys::users_with_passkeys(db).await?,
            passkeys_available: cx.state.passkeys.is_some(),
            passkey_link: cx
                .session
                .take_shown_once(portcullis::ssr::session::ShownOnce::passkey_link)
                .await,
            tokens: portcullis::ssr::tokens::counts(db).await?,
            second_factor: portcullis::ssr::settings::second_factor_requirement(db).await?,
            sessions: portcullis::ssr::session::manage::list(db, None, cx.session.id().as_deref())
                .await?,
            messages: cx.flash().await,
        })
    })
    .await
}

/// Makes a one-time passkey enrolment link (24 hours) for a user, shown once on this page:
/// the administrator sends it to them (a passkey-only account's first passkey, or a lost one).
#[server(endpoint = "admin/passkey_link")]
pub async fn passkey_link(user_id: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::passkeys::{ENROLMENT_PATH, new_enrolment};
    use portcullis::ssr::session::ShownOnce;
    as_admin(async move |cx, admin| {
        let st = &cx.state;
        if st.passkeys.is_none() {
            return Err(AppError::Unavailable(
                "Passkeys need a host name in this server's public URL (--public-url), not an IP address.".into(),
            ));
        }
        let user = portcullis::ssr::users::get(&st.db, &user_id)
            .await?
            .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
        let token = new_enrolment(&st.db, &user.id, &actor(&admin).await).await?;
        let link = format!("{}{ENROLMENT_PATH}?token={token}", st.public_url);
        cx.session
            .set_shown_once(ShownOnce::PasskeyLink {
                username: user.username.clone(),
                link,
            })
            .await?;
        tracing::info!(admin = ?admin.username, user = ?user.username, "made a passkey enrolment link");
        Ok(())
    })
    .await
}

/// Revokes every personal access token of user `user_id` (the user's own Tokens page
/// revokes one at a time).
#[server(endpoint = "admin/revoke_user_tokens")]
pub async fn revoke_user_tokens(user_id: String) -> Result<(), AppError> {
    use crate::auth::*;
    as_admin(async move |cx, admin| {
        let by = actor(&admin).await;
        let n = portcullis::ssr::tokens::revoke_all(&cx.state.db, &user_id, &by).await?;
        tracing::info!(admin = ?admin.username, user = ?user_id, tokens = n, "administrator revoked a user's personal access tokens");
        Ok(())
    })
    .await
}

/// Removes another user's linked identity (user management). The same guard as for the
/// user themself: never the account's last way to sign in.
#[server(endpoint = "admin/unlink_user")]
pub async fn unlink_user(user_id: String, slug: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::identities;
    as_admin(async move |cx, admin| {
        identities::unlink(&cx.state.db, &user_id, &slug, None, &actor(&admin).await).await?;
        tracing::info!(admin = ?admin.username, user = ?user_id, provider = ?slug, "administrator unlinked an identity");
        Ok(())
    })
    .await
}

/// Sets who must have signed in with two factors (`nobody`, `administrators` or `everyone`).
/// Forward auth reads it from its cache, cleared here (other replicas within 5 s).
#[server(endpoint = "admin/set_second_factor_requirement")]
pub async fn set_second_factor_requirement(requirement: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::second_factor::Requirement;
    as_admin(async move |cx, admin| {
        let Some(r) = Requirement::parse(&requirement) else {
            return Err(AppError::Validation(vec![portcullis::field::FieldError::new(
                "requirement",
                "Choose nobody, administrators or everyone.",
            )]));
        };
        // These settings would ask the administrator for a factor they do not have.
        if r != Requirement::Nobody && !has_second_factor(&cx.state, &admin.id).await? {
            return Err(AppError::Validation(vec![portcullis::field::FieldError::new(
                "requirement",
                "Add a passkey or one-time codes to your own account first (Profile → Security): these settings will then ask you for one.",
            )]));
        }
        let by = actor(&admin).await;
        portcullis::ssr::settings::set_second_factor_requirement(&cx.state.db, r, &by).await?;
        cx.state.apps.invalidate();
        tracing::info!(admin = ?admin.username, requirement = r.as_str(), "second-factor requirement changed");
        Ok(())
    })
    .await
}
