//! Slows down password guessing and floods of sign-in starts.
//!
//! Passwords: only *failed* attempts count, per account (the resolved account, so its
//! username and email share one budget) and per client address (resolved through
//! `--trusted-proxies`, so one client behind the proxy cannot lock out everyone behind it).
//! A key that used up its budget is refused until the budget refills; a correct password
//! from a key that is not refused always gets in.
//!
//! Sign-in starts (`/login?provider=`) cost a provider round trip and a stored attempt
//! without any credential: each client address gets a budget of them.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed password attempts allowed per minute (also the burst) per account and address.
pub const PER_ACCOUNT_PER_MINUTE: u32 = 5;
pub const PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Sign-in starts per minute (also the burst) per client address, by default: generous,
/// because without `--trusted-proxies` everyone behind a reverse proxy shares one address;
/// what a flood could fill is bounded by the cap on attempts in progress anyway.
pub const STARTS_PER_ADDRESS_PER_MINUTE: u32 = 600;

/// Failures per key in a fixed one-minute window: refused once the window holds `max`.
/// (governor answers "may this request go?" by spending; here the question comes before
/// the attempt and only failures spend, so a plain count is the honest tool.)
struct Failures<K: Hash + Eq + Clone> {
    max: u32,
    window: Duration,
    counts: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn per_minute(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(60),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` while `key` must wait.
    fn gate(&self, key: &K) -> Result<(), u64> {
        let counts = self.counts.lock().expect("limiter lock");
        match counts.get(key) {
            Some((n, since)) if *n >= self.max && since.elapsed() < self.window => {
                Err((self.window - since.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    fn record(&self, key: &K) {
        let mut counts = self.counts.lock().expect("limiter lock");
        if counts.len() > 10_000 {
            let window = self.window;
            counts.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = counts.entry(key.clone()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

pub struct LoginLimiter {
    account: Failures<String>,
    address: Failures<IpAddr>,
    starts: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(STARTS_PER_ADDRESS_PER_MINUTE)
    }
}

impl LoginLimiter {
    /// With `starts_per_minute` sign-in starts per client address (`--sign-in-starts-per-minute`).
    pub fn new(starts_per_minute: u32) -> Self {
        Self {
            account: Failures::per_minute(PER_ACCOUNT_PER_MINUTE),
            address: Failures::per_minute(PER_ADDRESS_PER_MINUTE),
            starts: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(starts_per_minute.max(1)).expect("non-zero quota"),
            )),
        }
    }
}

impl LoginLimiter {
    /// Before checking a password: `Err(seconds)` when the account (its id, or the typed
    /// identifier when no account has it) or the address must wait.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), u64> {
        if let Some(ip) = address {
            self.address.gate(&ip)?;
        }
        self.account.gate(&account.trim().to_lowercase())
    }

    /// After a wrong password: counts it against the account and the address.
    pub fn failed(&self, account: &str, address: Option<IpAddr>) {
        if let Some(ip) = address {
            self.address.record(&ip);
        }
        self.account.record(&account.trim().to_lowercase());
    }

    /// A sign-in start from `address`: `Err(seconds)` when it must wait.
    pub fn start(&self, address: Option<IpAddr>) -> Result<(), u64> {
        let Some(ip) = address else {
            return Ok(());
        };
        let clock = DefaultClock::default();
        self.starts
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(clock.now()).as_secs().max(1))?;
        if self.starts.len() > 10_000 {
            self.starts.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_on_one_account_waits() {
        let l = LoginLimiter::default();
        for _ in 0..PER_ACCOUNT_PER_MINUTE {
            assert!(l.check("Alice", None).is_ok());
            l.failed("Alice", None);
        }
        let wait = l.check("alice", None).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            l.check("bob", None).is_ok(),
            "other accounts are not affected"
        );
    }

    #[test]
    fn successes_do_not_count() {
        let l = LoginLimiter::default();
        for _ in 0..50 {
            assert!(l.check("alice", None).is_ok());
        }
    }

    #[test]
    fn one_address_is_limited_alone() {
        let l = LoginLimiter::default();
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let b: IpAddr = "198.51.100.2".parse().unwrap();
        for i in 0..PER_ADDRESS_PER_MINUTE {
            l.failed(&format!("user{i}"), Some(a));
        }
        assert!(l.check("someone", Some(a)).is_err());
        assert!(l.check("someone", Some(b)).is_ok());
    }

    #[test]
    fn sign_in_starts_have_a_budget_per_address() {
        let l = LoginLimiter::default();
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..STARTS_PER_ADDRESS_PER_MINUTE {
            assert!(l.start(Some(a)).is_ok());
        }
        assert!(l.start(Some(a)).is_err());
        assert!(l.start(Some("198.51.100.2".parse().unwrap())).is_ok());
    }
}
