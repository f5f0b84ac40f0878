//! OpenID Connect settings: the switch, the providers, and "Test connection". Every
//! function here but `login_providers` is for administrators only, and none returns a
//! client secret.

use crate::error::AppError;
use leptos::prelude::*;
use portcullis::provider::{ConnectionReport, LoginProvider, ProviderDraft, ProviderView};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcSettingsData {
    pub local_login: bool,
    pub oidc_enabled: bool,
    pub providers: Vec<ProviderView>,
    /// The redirect URI to register at every provider.
    pub redirect_uri: String,
    pub allow_insecure_issuers: bool,
    pub flash: Option<AppError>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;
    use portcullis::provider::{IssuerPolicy, ProviderDraft, ValidProvider};
    use portcullis::ssr::providers::ProviderError;

    pub fn policy() -> IssuerPolicy {
        IssuerPolicy {
            allow_insecure: crate::auth::state().allow_insecure_issuers,
        }
    }

    pub fn validate(
        draft: &ProviderDraft,
        mode: portcullis::provider::Mode,
    ) -> Result<ValidProvider, AppError> {
        draft.validate(mode, policy()).map_err(AppError::Validation)
    }

    pub fn map_err(e: ProviderError) -> AppError {
        use portcullis::field::FieldError;
        match e {
            ProviderError::NotFound(slug) => {
                AppError::NotFound(format!("There is no provider \"{slug}\"."))
            }
            ProviderError::SlugTaken(slug) => AppError::Validation(vec![FieldError::new(
                "slug",
                format!("Another provider already uses the slug \"{slug}\": choose another."),
            )]),
            ProviderError::SlugImmutable => AppError::Validation(vec![FieldError::new(
                "slug",
                "The slug cannot change after creation (linked accounts refer to it). Delete the provider and add it again to use another slug.",
            )]),
            ProviderError::SecretRequired => AppError::Validation(vec![FieldError::new(
                "client_secret",
                "Enter the client secret the provider issued for this client.",
            )]),
            ProviderError::BadOrder => AppError::Conflict(
                "The provider list changed meanwhile; reload and try again.".into(),
            ),
            ProviderError::Db(e) => AppError::internal(e),
        }
    }

    /// Refuses disabling or deleting provider `slug` when it is the last way to sign in.
    pub async fn ensure_can_drop(slug: &str) -> Result<(), AppError> {
        let db = &crate::auth::state().db;
        let enabled = portcullis::ssr::providers::get(db, slug)
            .await
            .map_err(AppError::internal)?
            .is_some_and(|p| p.enabled);
        if enabled {
            ensure_login_possible(|m| m.enabled_providers -= 1).await?;
        }
        Ok(())
    }

    /// Refuses a change that would leave nobody a way to sign in.
    pub async fn ensure_login_possible(
        change: impl FnOnce(&mut portcullis::login_methods::LoginMethods),
    ) -> Result<(), AppError> {
        let db = &crate::auth::state().db;
        let mut methods = portcullis::ssr::providers::login_methods(db)
            .await
            .map_err(AppError::internal)?;
        change(&mut methods);
        methods.check().map_err(AppError::Conflict)
    }
}

#[server(endpoint = "admin/oidc_settings")]
pub async fn oidc_settings() -> Result<OidcSettingsData, AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    let result = async {
        require_admin().await?;
        let st = state();
        let methods = providers::login_methods(&st.db)
            .await
            .map_err(AppError::internal)?;
        Ok(OidcSettingsData {
            local_login: methods.local,
            oidc_enabled: methods.oidc,
            providers: providers::list(&st.db).await.map_err(AppError::internal)?,
            redirect_uri: portcullis::provider::redirect_uri(&st.public_url),
            allow_insecure_issuers: st.allow_insecure_issuers,
            flash: take_flash().await,
        })
    };
    respond(result.await).await
}

/// Turns a login method (`local` or `oidc`) on or off. Turning OpenID Connect on takes the
/// admin to its settings.
#[server(endpoint = "admin/set_login_method")]
pub async fn set_login_method(method: String, enabled: bool) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::{providers, settings};
    let result = async {
        let admin = require_admin().await?;
        let db = &state().db;
        match method.as_str() {
            "local" => {
                ssr::ensure_login_possible(|m| m.local = enabled).await?;
                settings::set(
                    db,
                    settings::LOCAL_LOGIN,
                    if enabled { "true" } else { "false" },
                )
                .await
                .map_err(AppError::internal)?;
            }
            "oidc" => {
                ssr::ensure_login_possible(|m| m.oidc = enabled).await?;
                providers::set_oidc_enabled(db, enabled)
                    .await
                    .map_err(AppError::internal)?;
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
        state().login_page.invalidate();
        tracing::info!(admin = %admin.username, method, enabled, "login method changed");
        Ok(())
    };
    respond(result.await).await
}

#[server(endpoint = "admin/provider")]
pub async fn provider(slug: String) -> Result<ProviderView, AppError> {
    use crate::auth::*;
    let result = async {
        require_admin().await?;
        portcullis::ssr::providers::get_view(&state().db, &slug)
            .await
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::NotFound(format!("There is no provider \"{slug}\".")))
    };
    respond(result.await).await
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
    let result = async {
        let admin = require_admin().await?;
        let st = state();
        let mode = if original_slug.is_empty() {
            Mode::Create
        } else {
            Mode::Update
        };
        let valid = ssr::validate(&draft, mode)?;
        if mode == Mode::Update && !valid.enabled {
            ssr::ensure_can_drop(&original_slug).await?;
        }
        if valid.enabled
            && !confirm.unwrap_or(false)
            && let Err(problem) = discovery::discover(&valid.issuer_url, PROVIDER_TIMEOUT).await
        {
            return Err(AppError::NeedsConfirmation(format!(
                "{problem} Sign-in with this provider will fail until this is fixed. Save anyway?"
            )));
        }
        let view = match mode {
            Mode::Create => providers::create(&st.db, &st.secrets, &valid).await,
            Mode::Update => providers::update(&st.db, &st.secrets, &original_slug, &valid).await,
        }
        .map_err(ssr::map_err)?;
        st.oidc_cache.invalidate(&view.slug);
        st.login_page.invalidate();
        tracing::info!(admin = %admin.username, provider = %view.slug, ?mode, "provider saved");
        leptos_axum::redirect("/settings/users/oidc");
        Ok(view)
    };
    respond(result.await).await
}

/// Deletes a provider and its linked accounts; returns how many links were removed.
#[server(endpoint = "admin/delete_provider")]
pub async fn delete_provider(slug: String) -> Result<i64, AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    let result = async {
        let admin = require_admin().await?;
        ssr::ensure_can_drop(&slug).await?;
        let links = providers::delete(&state().db, &slug)
            .await
            .map_err(ssr::map_err)?;
        state().oidc_cache.invalidate(&slug);
        state().login_page.invalidate();
        tracing::info!(admin = %admin.username, provider = %slug, links, "provider deleted");
        Ok(links)
    };
    respond(result.await).await
}

/// Moves a provider up (`by = -1`) or down (`by = 1`) on the login page.
#[server(endpoint = "admin/move_provider")]
pub async fn move_provider(slug: String, by: i64) -> Result<(), AppError> {
    use crate::auth::*;
    let result = async {
        require_admin().await?;
        portcullis::ssr::providers::shift(&state().db, &slug, by.clamp(-1, 1))
            .await
            .map_err(ssr::map_err)?;
        state().login_page.invalidate();
        Ok(())
    };
    respond(result.await).await
}

#[server(endpoint = "admin/set_provider_enabled")]
pub async fn set_provider_enabled(slug: String, enabled: bool) -> Result<(), AppError> {
    use crate::auth::*;
    use portcullis::ssr::providers;
    let result = async {
        require_admin().await?;
        if !enabled {
            ssr::ensure_can_drop(&slug).await?;
        }
        providers::set_enabled(&state().db, &slug, enabled)
            .await
            .map_err(ssr::map_err)?;
        state().login_page.invalidate();
        Ok(())
    };
    respond(result.await).await
}

/// Fetches the issuer's discovery document and keys on the server and says what it found.
#[server(endpoint = "admin/test_connection")]
pub async fn test_connection(
    issuer_url: String,
    scopes: String,
) -> Result<ConnectionReport, AppError> {
    use crate::auth::*;
    use portcullis::ssr::oidc::{discovery, http::PROVIDER_TIMEOUT};
    let result = async {
        require_admin().await?;
        portcullis::provider::check_issuer_url(issuer_url.trim(), ssr::policy())
            .map_err(|e| AppError::Validation(vec![e]))?;
        let scopes = portcullis::provider::parse_list(&scopes);
        Ok(discovery::test_connection(issuer_url.trim(), &scopes, PROVIDER_TIMEOUT).await)
    };
    respond(result.await).await
}

/// What the login page needs: enabled providers in order, when OpenID Connect is on.
/// Public (the login page is), so it returns nothing else.
#[server(endpoint = "auth/login_providers")]
pub async fn login_providers() -> Result<Vec<LoginProvider>, AppError> {
    use crate::auth::*;
    let result = async {
        portcullis::ssr::providers::login_providers(&state().db)
            .await
            .map_err(AppError::internal)
    };
    respond(result.await).await
}
