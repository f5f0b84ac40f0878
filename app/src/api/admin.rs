//! Administrator settings: users and login methods.

use crate::error::AppError;
use leptos::prelude::*;
use portcullis::user::UserView;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersSettingsData {
    pub users: Vec<UserView>,
    /// Username/password sign-in. The only login method until OpenID Connect is configured,
    /// so it cannot be turned off yet.
    pub local_login: bool,
}

#[server(endpoint = "admin/users_settings")]
pub async fn users_settings() -> Result<UsersSettingsData, AppError> {
    use crate::auth::*;
    let result = async {
        require_admin().await?;
        let users = portcullis::ssr::users::list(&state().db)
            .await
            .map_err(AppError::internal)?;
        Ok(UsersSettingsData {
            users: users.iter().map(|u| u.view()).collect(),
            local_login: true,
        })
    };
    respond(result.await).await
}
