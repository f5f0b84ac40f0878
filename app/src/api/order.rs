//! Reordering the lists administrators arrange: applications (the start page) and
//! providers (the login page).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A list an administrator puts in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ordered {
    /// The applications, in start-page order (keyed by id).
    App,
    /// The providers, in login-page order (keyed by slug).
    Provider,
}

impl Ordered {
    /// As a form posts it.
    pub fn as_str(self) -> &'static str {
        match self {
            Ordered::App => "app",
            Ordered::Provider => "provider",
        }
    }
}

/// Moves entry `key` of `list` up (`by = -1`) or down (`by = 1`).
#[server(endpoint = "admin/move")]
pub async fn move_entry(list: Ordered, key: String, by: i64) -> Result<(), AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
        let st = &cx.state;
        match list {
            Ordered::App => {
                portcullis::ssr::apps::shift(&st.db, &key, by).await?;
                st.apps.invalidate();
            }
            Ordered::Provider => {
                portcullis::ssr::providers::shift(&st.db, &key, by).await?;
                st.login_page.invalidate();
            }
        }
        Ok(())
    })
    .await
}
