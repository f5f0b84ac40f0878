//! Discovery metadata and JWKS, cached per provider so that a sign-in at steady state makes
//! only the token and userinfo requests. An entry is keyed by the provider's issuer and
//! last edit, so an edit (on any replica) misses the cache; entries also expire after a TTL.

use super::discovery::{Metadata, discover};
use openidconnect::JsonWebKeySet;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub const METADATA_TTL: Duration = Duration::from_secs(60 * 60);
/// A failed discovery is remembered this long, so a provider that is down is not asked
/// again on every click of its sign-in button.
pub const FAILURE_TTL: Duration = Duration::from_secs(30);
/// An unknown `kid` refreshes the JWKS at most this often per provider.
pub const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

struct Entry {
    key: (String, i64),
    metadata: Arc<Metadata>,
    fetched: Instant,
    jwks_refreshed: Option<Instant>,
}

#[derive(Default)]
pub struct ProviderCache {
    entries: RwLock<HashMap<String, Entry>>,
    /// The last failed discovery per provider.
    failures: RwLock<HashMap<String, Failure>>,
}

/// A discovery that failed: for which (issuer, edit time), when, and why.
struct Failure {
    key: (String, i64),
    at: Instant,
    why: String,
}

impl std::fmt::Debug for ProviderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderCache")
    }
}

impl ProviderCache {
    /// Metadata for provider `slug` at `issuer` (as of its edit time `updated_at`).
    pub async fn metadata(
        &self,
        slug: &str,
        issuer: &str,
        updated_at: i64,
        timeout: Duration,
    ) -> Result<Arc<Metadata>, String> {
        let key = (issuer.to_owned(), updated_at);
        if let Some(e) = self.entries.read().expect("cache lock").get(slug)
            && e.key == key
            && e.fetched.elapsed() < METADATA_TTL
        {
            return Ok(e.metadata.clone());
        }
        if let Some(f) = self.failures.read().expect("cache lock").get(slug)
            && f.key == key
            && f.at.elapsed() < FAILURE_TTL
        {
            return Err(f.why.clone());
        }
        let metadata = match discover(issuer, timeout, Some(slug)).await {
            Ok(m) => Arc::new(m),
            Err(why) => {
                self.failures.write().expect("cache lock").insert(
                    slug.to_owned(),
                    Failure {
                        key,
                        at: Instant::now(),
                        why: why.clone(),
                    },
                );
                return Err(why);
            }
        };
        self.failures.write().expect("cache lock").remove(slug);
        self.entries.write().expect("cache lock").insert(
            slug.to_owned(),
            Entry {
                key,
                metadata: metadata.clone(),
                fetched: Instant::now(),
                jwks_refreshed: None,
            },
        );
        Ok(metadata)
    }

    /// Fetches the provider's JWKS again after an unknown `kid` (key rotation). Returns the
    /// updated metadata, or `None` when a refresh happened too recently.
    pub async fn refresh_jwks(&self, slug: &str, timeout: Duration) -> Option<Arc<Metadata>> {
        let current = {
            let mut entries = self.entries.write().expect("cache lock");
            let e = entries.get_mut(slug)?;
            if e.jwks_refreshed
                .is_some_and(|t| t.elapsed() < JWKS_REFRESH_INTERVAL)
            {
                return None;
            }
            e.jwks_refreshed = Some(Instant::now());
            e.metadata.clone()
        };
        let http = super::http::client(timeout);
        let http = super::http::observed(http, Some(slug), crate::ssr::metrics::Endpoint::Jwks);
        let jwks = JsonWebKeySet::fetch_async(current.jwks_uri(), &http)
            .await
            .ok()?;
        let mut updated = (*current).clone();
        updated = updated.set_jwks(jwks);
        let updated = Arc::new(updated);
        if let Some(e) = self.entries.write().expect("cache lock").get_mut(slug) {
            e.metadata = updated.clone();
        }
        Some(updated)
    }

    pub fn invalidate(&self, slug: &str) {
        self.entries.write().expect("cache lock").remove(slug);
        self.failures.write().expect("cache lock").remove(slug);
    }
}
