//! Slows down password guessing: attempts per account and per client address.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct LoginLimiter {
    account: DefaultKeyedRateLimiter<String>,
    address: DefaultKeyedRateLimiter<IpAddr>,
}

/// Attempts allowed per minute (also the burst) for one account and for one address.
pub const PER_ACCOUNT_PER_MINUTE: u32 = 5;
pub const PER_ADDRESS_PER_MINUTE: u32 = 30;

impl Default for LoginLimiter {
    fn default() -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).expect("non-zero quota"));
        Self {
            account: RateLimiter::keyed(quota(PER_ACCOUNT_PER_MINUTE)),
            address: RateLimiter::keyed(quota(PER_ADDRESS_PER_MINUTE)),
        }
    }
}

impl LoginLimiter {
    /// Counts one attempt; `Err(seconds)` when the account or the address must wait.
    pub fn attempt(&self, account: &str, address: Option<IpAddr>) -> Result<(), u64> {
        let clock = DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| {
            not_until.wait_time_from(clock.now()).as_secs().max(1)
        };
        if let Some(ip) = address {
            self.address.check_key(&ip).map_err(wait)?;
        }
        self.account
            .check_key(&account.trim().to_lowercase())
            .map_err(wait)?;
        // Keyed limiters keep a cell per key; forget the idle ones now and then.
        if self.account.len() > 10_000 {
            self.account.retain_recent();
            self.address.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_attempt_on_one_account_waits() {
        let l = LoginLimiter::default();
        for _ in 0..PER_ACCOUNT_PER_MINUTE {
            assert!(l.attempt("Alice", None).is_ok());
        }
        let wait = l.attempt("alice", None).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            l.attempt("bob", None).is_ok(),
            "other accounts are not affected"
        );
    }
}
