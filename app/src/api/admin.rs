//! Administrator settings: users and login methods.

use crate::error::AppError;
use leptos::prelude::*;
use portcullis::user::UserView;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersSettingsData {
    pub users: Vec<UserView>,
    pub local_login: bool,
    pub oidc_enabled: bool,
    pub enabled_providers: usize,
    pub flash: Option<crate::error::AppError>,
}

#[server(endpoint = "admin/users_settings")]
pub async fn users_settings() -> Result<UsersSettingsData, AppError> {
    use crate::auth::*;
    let result = async {
        require_admin().await?;
        let users = portcullis::ssr::users::list(&state().db)
            .await
            .map_err(AppError::internal)?;
        let methods = portcullis::ssr::providers::login_methods(&state().db)
            .await
            .map_err(AppError::internal)?;
        Ok(UsersSettingsData {
            users: users.iter().map(|u| u.view()).collect(),
            local_login: methods.local,
            oidc_enabled: methods.oidc,
            enabled_providers: methods.enabled_providers,
            flash: take_flash().await,
        })
    };
    respond(result.await).await
}
