//! What every visitor's sign-in page shows (first-run state, local sign-in on/off, the
//! provider buttons), kept in memory for a second at a time.
//!
//! The sign-in page is the most requested page; without this each render would run six
//! queries for data that changes a few times a year. Changes made through this process
//! invalidate it at once; another replica's (or the CLI's) show within [`TTL`].

use super::db::Db;
use super::{providers, settings, users};
use crate::provider::LoginProvider;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
pub struct LoginSnapshot {
    pub setup_open: bool,
    pub local_login: bool,
    pub providers: Vec<LoginProvider>,
    /// The provider `/login` goes straight to: the setting, when that provider is among
    /// the enabled ones shown (so a disabled or deleted one never traps anyone).
    pub auto_redirect: Option<String>,
}

#[derive(Debug, Default)]
pub struct LoginPageCache {
    slot: RwLock<Option<(Instant, Arc<LoginSnapshot>)>>,
}

impl LoginPageCache {
    pub async fn get(&self, db: &Db) -> Result<Arc<LoginSnapshot>, sqlx::Error> {
        if let Some((at, snapshot)) = self.slot.read().expect("login cache lock").as_ref()
            && at.elapsed() < TTL
        {
            return Ok(snapshot.clone());
        }
        let loaded_at = Instant::now();
        let providers = providers::login_providers(db).await?;
        let auto_redirect = settings::get(db, settings::AUTO_REDIRECT)
            .await?
            .filter(|slug| providers.iter().any(|p| &p.slug == slug));
        let snapshot = Arc::new(LoginSnapshot {
            setup_open: !users::any(db).await?,
            local_login: settings::get_bool(db, settings::LOCAL_LOGIN, true).await?,
            providers,
            auto_redirect,
        });
        *self.slot.write().expect("login cache lock") = Some((loaded_at, snapshot.clone()));
        Ok(snapshot)
    }

    /// After a change to users, login methods or providers.
    pub fn invalidate(&self) {
        *self.slot.write().expect("login cache lock") = None;
    }
}
