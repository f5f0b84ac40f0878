//! OpenID Connect settings: the switch, the providers, and "Test connection". Every
//! function here but `login_providers` is for administrators only, and none returns a
//! client secret.

use crate::components::page::Messages;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::provider::{
    ConnectionReport, EditorRules, LoginProvider, ProviderDraft, ProviderView,
};
use serde::{Deserialize, Serialize};

/// The OpenID Connect settings page's data; the provider editor's rules come with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcSettingsData {
    pub oidc_enabled: bool,
    pub providers: Vec<ProviderView>,
    /// The redirect URI to register at every provider.
    pub redirect_uri: String,
    /// The rules the server applies, so the editor's live checks agree with it.
    #[serde(flatten)]
    pub rules: EditorRules,
    /// The provider the sign-in page goes straight to, if any.
    #[serde(default)]
    pub auto_redirect: Option<String>,
    pub messages: Messages,
}

#[cfg(feature = "ssr")]
mod ssr {
    use portcullis::provider::IssuerPolicy;

    pub fn policy(st: &crate::state::AppState) -> IssuerPolicy {
        IssuerPolicy {
            allow_insecure: st.allow_insecure_issuers,
        }
    }
}

#[server(endpoint = "admin/oidc_settings")]
pub async fn oidc_settings() -> Result<OidcSettingsData, AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    as_admin(async move |cx, _admin| {
        let st = &cx.state;
        Ok(OidcSettingsData {
            oidc_enabled: providers::oidc_enabled(&st.db).await?,
            providers: providers::list(&st.db)
                .await?
                .into_iter()
                .map(|p| p.with_redirect_uri(&st.public_url))
                .collect(),
            redirect_uri: portcullis::provider::redirect_uri_base(&st.public_url),
            rules: EditorRules {
                policy: ssr::policy(st),
                http_image_origin: st.icons.http_origin(),
            },
            auto_redirect: providers::auto_redirect(&st.db).await?,
            messages: cx.flash().await,
        })
    })
    .await
}

/// Turns a login method (`local` or `oidc`) on or off. Turning OpenID Connect on takes the
/// admin to its settings.
#[server(endpoint = "admin/set_login_method")]
pub async fn set_login_method(method: String, enabled: bool) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    as_admin(async move |cx, admin| {
        let db = &cx.state.db;
        let by = actor(&admin).await;
        match method.as_str() {
            "local" => providers::set_local_login(db, enabled, &by).await?,
            "oidc" => {
                providers::set_oidc_enabled(db, enabled, &by).await?;
                if enabled {
                    leptos_axum::redirect("/settings/users/oidc");
                }
            }
            other => {
                return Err(AppError::NotFound(format!(
                    "There is no login method \"{other}\"."
                )));
            }
        }
        cx.state.login_page.invalidate();
        tracing::info!(admin = ?admin.username, method, enabled, "login method changed");
        Ok(())
    })
    .await
}

/// Sends the sign-in page straight to provider `slug` (empty: show the page). The page
/// can always be reached with `/login?choose`.
#[server(endpoint = "admin/set_auto_redirect")]
pub async fn set_auto_redirect(slug: String) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    as_admin(async move |cx, admin| {
        let slug = slug.trim();
        let target = (!slug.is_empty()).then_some(slug);
        providers::set_auto_redirect(&cx.state.db, target, &actor(&admin).await).await?;
        cx.state.login_page.invalidate();
        tracing::info!(admin = ?admin.username, provider = ?target, "sign-in page auto-redirect changed");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/provider")]
pub async fn provider(slug: String) -> Result<ProviderView, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
        portcullis::ssr::providers::get_view(&cx.state.db, &slug)
            .await?
            .map(|p| p.with_redirect_uri(&cx.state.public_url))
            .ok_or_else(|| AppError::NotFound(format!("There is no provider \"{slug}\".")))
    })
    .await
}

/// Creates (`original_slug` empty) or updates a provider. An enabled provider whose
/// discovery fails is saved only with `confirm`.
#[server(endpoint = "admin/save_provider")]
pub async fn save_provider(
    original_slug: String,
    draft: ProviderDraft,
    confirm: Option<bool>,
) -> Result<ProviderView, AppError> {
    use crate::auth::*;
    use portcullis::provider::Mode;
    use portcullis::ssr::oidc::{discovery, http::PROVIDER_TIMEOUT};
    use portcullis::ssr::providers;
    as_admin(async move |cx, admin| {
        let st = &cx.state;
        let mode = if original_slug.is_empty() {
            Mode::Create
        } else {
            Mode::Update
        };
        let mut draft = draft;
        draft.http_image_origin = st.icons.http_origin();
        let valid = draft
            .validate(mode, ssr::policy(st))
            .map_err(AppError::Validation)?;
        let confirmed = confirm.unwrap_or(false);
        let saved = match mode {
            Mode::Update => providers::get_view(&st.db, &original_slug).await?,
            Mode::Create => None,
        };
        // Storage refuses it too (`providers::update`); asked first, so no "Save anyway?"
        // comes before the field that must change.
        if let Some(saved) = &saved {
            portcullis::provider::check_stored_secret(
                (&saved.issuer_url, &saved.client_id),
                &valid.issuer_url,
                &valid.client_id,
                valid.client_secret.as_deref().unwrap_or(""),
            )
            .map_err(|e| AppError::Validation(vec![e]))?;
        }
        if !confirmed
            && let Some(saved) = saved
            && saved.issuer_url != valid.issuer_url
            && saved.linked_accounts - saved.unmatched_links > 0
        {
            let n = saved.linked_accounts - saved.unmatched_links;
            return Err(AppError::NeedsConfirmation(format!(
                "{n} linked account(s) belong to the current issuer {}. With the new issuer they will stop working: identities are matched by issuer, so the same user at another issuer is someone else. They stay listed for you to remove. Save anyway?",
                saved.issuer_url
            )));
        }
        if valid.settings.enabled
            && !confirmed
            && let Err(problem) = discovery::discover(&valid.issuer_url, PROVIDER_TIMEOUT, None).await
        {
            return Err(AppError::NeedsConfirmation(format!(
                "{problem} Sign-in with this provider will fail until this is fixed. Save anyway?"
            )));
        }
        let by = actor(&admin).await;
        let view = match mode {
            Mode::Create => providers::create(&st.db, &st.secrets, &valid, &by).await,
            Mode::Update => {
                providers::update(&st.db, &st.secrets, &original_slug, &valid, &by).await
            }
        }?;
        st.oidc_cache.invalidate(&view.slug);
        st.login_page.invalidate();
        tracing::info!(admin = ?admin.username, provider = ?view.slug, ?mode, "provider saved");
        leptos_axum::redirect("/settings/users/oidc");
        Ok(view.with_redirect_uri(&st.public_url))
    })
    .await
}

/// Deletes a provider and its linked accounts; returns how many links were removed.
#[server(endpoint = "admin/delete_provider")]
pub async fn delete_provider(slug: String) -> Result<i64, AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    as_admin(async move |cx, admin| {
        let links = providers::delete(&cx.state.db, &slug, &actor(&admin).await).await?;
        cx.state.oidc_cache.invalidate(&slug);
        cx.state.login_page.invalidate();
        tracing::info!(admin = ?admin.username, provider = ?slug, links, "provider deleted");
        Ok(links)
    })
    .await
}

#[server(endpoint = "admin/set_provider_enabled")]
pub async fn set_provider_enabled(slug: String, enabled: bool) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    as_admin(async move |cx, admin| {
        providers::set_enabled(&cx.state.db, &slug, enabled, &actor(&admin).await).await?;
        cx.state.login_page.invalidate();
        Ok(())
    })
    .await
}

/// Fetches the issuer's discovery document and keys on the server and says what it found.
#[server(endpoint = "admin/test_connection")]
pub async fn test_connection(
    issuer_url: String,
    scopes: String,
) -> Result<ConnectionReport, AppError> {
    use crate::auth::*;
    use portcullis::ssr::oidc::{discovery, http::PROVIDER_TIMEOUT};
    as_admin(async move |cx, _admin| {
        portcullis::provider::check_issuer_url(issuer_url.trim(), ssr::policy(&cx.state))
            .map_err(|e| AppError::Validation(vec![e]))?;
        let scopes = portcullis::provider::parse_list(&scopes);
        Ok(discovery::test_connection(issuer_url.trim(), &scopes, PROVIDER_TIMEOUT).await)
    })
    .await
}

/// What the login page needs: enabled providers in order, when OpenID Connect is on.
/// Public (the login page is), so it returns nothing else.
#[server(endpoint = "auth/login_providers")]
pub async fn login_providers() -> Result<Vec<LoginProvider>, AppError> {
    use crate::auth::*;
    public(async move |cx| Ok(portcullis::ssr::providers::login_providers(&cx.state.db).await?))
        .await
}
