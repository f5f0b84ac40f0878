//! Slows down password guessing and floods of sign-in starts.
//!
//! Every per-client count is keyed by a [`ClientKey`]: the client's address (resolved
//! through `--trusted-proxies`, so one client behind the proxy cannot lock out everyone
//! behind it), with IPv6 grouped by /64.
//!
//! Passwords: only *failed* attempts count. A browser that has signed in to the account
//! before (a valid device cookie, [`super::device`]) is judged by its own budget
//! for that account alone, so strangers' failures never keep it out (OWASP, "Slow down
//! online guessing attacks with device cookies"). Any other client is judged per account
//! (the resolved account, so its username and email share one budget: the lock against
//! guessing from many addresses), per (account, client) and per client. A key that used up
//! its budget is refused until its window ends; a correct password from a client none of
//! whose keys is refused always gets in.
//!
//! User codes of the device flow (`/device`): only wrong ones count, per client and per
//! browser session, so guessing a live code (20^8 of them) gets nowhere.
//!
//! Sign-in starts (`/login?provider=`) cost a provider round trip and a stored attempt
//! without any credential: each client gets a budget of them. (What one client may hold
//! in progress is capped where attempts are stored, [`super::oidc::pending`].)
//!
//! Device authorizations (the device flow's first step, open to anyone with a public
//! client's ID): a budget per client address, so that no one address can fill a client's
//! cap of waiting codes and lock its devices out.
//!
//! OAuth client authentication (the OpenID Provider's token, revocation, introspection and
//! device authorization endpoints): only failed ones count, per client address, whatever
//! client ID they name. Not per client ID alone: a client secret is 256 random bits, so
//! nothing is gained by a budget for guessing it, and one would let anyone cut a client off
//! from everywhere by failing in its name; a correct client elsewhere is never held up.

pub use super::client_ip::ClientKey;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed passwords per minute per account, from clients without its device cookie.
pub const PER_ACCOUNT_PER_MINUTE: u32 = 5;
/// Failed passwords per minute per client (any accounts), without a device cookie.
pub const PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Failed passwords per hour per (account, client), without a device cookie: one client
/// that keeps guessing one account gets fewer tries than the per-minute budget would give.
pub const PER_ACCOUNT_CLIENT_PER_HOUR: u32 = 20;
/// Failed passwords per minute per (account, device cookie).
pub const PER_DEVICE_PER_MINUTE: u32 = 5;
/// Sign-in starts per minute (also the burst) per client, by default: generous, because
/// without `--trusted-proxies` everyone behind a reverse proxy is one client; what a flood
/// could fill is bounded by the caps on attempts in progress anyway.
pub const STARTS_PER_ADDRESS_PER_MINUTE: u32 = 600;
/// Wrong user codes per minute at `/device`, per client and per browser session.
pub const USER_CODES_PER_MINUTE: u32 = 10;
/// Device authorizations per client address and OAuth client: a burst of 10, then 2 a
/// minute. A code waits
/// 10 minutes, so one address holds about 30 of one client's at most, against a client's cap of
/// [`super::op::device::PENDING_PER_CLIENT`]: filling that takes dozens of addresses.
pub const DEVICE_STARTS_BURST: u32 = 10;
pub const DEVICE_STARTS_PER_MINUTE: u32 = 2;
/// Failed OAuth client authentications per minute per client address (`invalid_client` at
/// the token, revocation, introspection and device authorization endpoints).
pub const CLIENT_AUTH_FAILURES_PER_MINUTE: u32 = 20;

/// Failures per key in a fixed window (from the key's first failure): refused once the
/// window holds `max`. (governor answers "may this request go?" by spending; here the
/// question comes before the attempt and only failures spend, so a plain count is the
/// honest tool.)
struct Failures<K: Hash + Eq + Clone> {
    max: u32,
    window: Duration,
    counts: Mutex<Counts<K>>,
}

struct Counts<K> {
    by_key: HashMap<K, (u32, Instant)>,
    /// Past windows are forgotten when the map grows to this size; after that it is twice
    /// what is left, so a flood of live keys does not make every failure sweep them all.
    prune_at: usize,
}

const PRUNE_AT: usize = 10_000;

impl<K: Hash + Eq + Clone> Failures<K> {
    fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            counts: Mutex::new(Counts {
                by_key: HashMap::new(),
                prune_at: PRUNE_AT,
            }),
        }
    }

    fn per_minute(max: u32) -> Self {
        Self::new(max, Duration::from_secs(60))
    }

    /// `Err(seconds)` while `key` must wait.
    fn gate(&self, key: &K) -> Result<(), u64> {
        let counts = self.counts.lock().expect("limiter lock");
        match counts.by_key.get(key) {
            Some((n, since)) if *n >= self.max && since.elapsed() < self.window => {
                Err((self.window - since.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    fn record(&self, key: &K) {
        let mut counts = self.counts.lock().expect("limiter lock");
        if counts.by_key.len() >= counts.prune_at {
            let window = self.window;
            counts
                .by_key
                .retain(|_, (_, since)| since.elapsed() < window);
            counts.prune_at = (counts.by_key.len() * 2).max(PRUNE_AT);
        }
        let entry = counts
            .by_key
            .entry(key.clone())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

/// One password attempt as the limits see it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The account's id, or the typed identifier when no account has it.
    pub account: &'a str,
    /// Where it comes from (`None`: unknown, no per-client limit applies).
    pub client: Option<ClientKey>,
    /// The device id of this browser's valid device cookie for this account; `None` for
    /// an untrusted client.
    pub device: Option<&'a str>,
}

pub struct LoginLimiter {
    account: Failures<String>,
    account_client: Failures<(String, ClientKey)>,
    client: Failures<ClientKey>,
    device: Failures<(String, String)>,
    starts: DefaultKeyedRateLimiter<ClientKey>,
    device_starts: DefaultKeyedRateLimiter<(ClientKey, String)>,
    user_codes_client: Failures<ClientKey>,
    user_codes_session: Failures<String>,
    client_auth: Failures<ClientKey>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(STARTS_PER_ADDRESS_PER_MINUTE)
    }
}

fn account_key(account: &str) -> String {
    account.trim().to_lowercase()
}

impl LoginLimiter {
    /// With `starts_per_minute` sign-in starts per client (`--sign-in-starts-per-minute`).
    pub fn new(starts_per_minute: u32) -> Self {
        Self {
            account: Failures::per_minute(PER_ACCOUNT_PER_MINUTE),
            account_client: Failures::new(PER_ACCOUNT_CLIENT_PER_HOUR, Duration::from_secs(3600)),
            client: Failures::per_minute(PER_ADDRESS_PER_MINUTE),
            device: Failures::per_minute(PER_DEVICE_PER_MINUTE),
            starts: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(starts_per_minute.max(1)).expect("non-zero quota"),
            )),
            device_starts: RateLimiter::keyed(
                Quota::per_minute(NonZeroU32::new(DEVICE_STARTS_PER_MINUTE).expect("non-zero"))
                    .allow_burst(NonZeroU32::new(DEVICE_STARTS_BURST).expect("non-zero")),
            ),
            user_codes_client: Failures::per_minute(USER_CODES_PER_MINUTE),
            user_codes_session: Failures::per_minute(USER_CODES_PER_MINUTE),
            client_auth: Failures::per_minute(CLIENT_AUTH_FAILURES_PER_MINUTE),
        }
    }

    /// Before authenticating an OAuth client from `client`: `Err(seconds)` while it must
    /// wait. (`None`: the address is unknown, no limit applies.)
    pub fn client_auth_check(&self, client: Option<ClientKey>) -> Result<(), u64> {
        client.map_or(Ok(()), |c| self.client_auth.gate(&c))
    }

    /// After a failed OAuth client authentication from `client`.
    pub fn client_auth_failed(&self, client: Option<ClientKey>) {
        if let Some(c) = client {
            self.client_auth.record(&c);
        }
    }

    /// Before looking up a user code typed at `/device` by `client` in browser session
    /// `session` (its marker): `Err(seconds)` while it must wait.
    pub fn user_code_check(&self, client: Option<ClientKey>, session: &str) -> Result<(), u64> {
        if let Some(client) = client {
            self.user_codes_client.gate(&client)?;
        }
        self.user_codes_session.gate(&session.to_owned())
    }

    /// After a user code that is not valid: counts it against both keys.
    pub fn user_code_failed(&self, client: Option<ClientKey>, session: &str) {
        if let Some(client) = client {
            self.user_codes_client.record(&client);
        }
        self.user_codes_session.record(&session.to_owned());
    }

    /// Before checking a password: `Err(seconds)` while the attempt must wait. A trusted
    /// device is judged by its own budget alone; any other client by the account's, the
    /// (account, client)'s and the client's.
    pub fn check(&self, a: &Attempt) -> Result<(), u64> {
        let account = account_key(a.account);
        if let Some(device) = a.device {
            return self.device.gate(&(account, device.to_owned()));
        }
        if let Some(client) = a.client {
            self.client.gate(&client)?;
            self.account_client.gate(&(account.clone(), client))?;
        }
        self.account.gate(&account)
    }

    /// After a wrong password: counts it against the keys [`Self::check`] judges it by.
    pub fn failed(&self, a: &Attempt) {
        let account = account_key(a.account);
        if let Some(device) = a.device {
            self.device.record(&(account, device.to_owned()));
            return;
        }
        if let Some(client) = a.client {
            self.client.record(&client);
            self.account_client.record(&(account.clone(), client));
        }
        self.account.record(&account);
    }

    /// A sign-in start from `client`: `Err(seconds)` when it must wait.
    pub fn start(&self, client: Option<ClientKey>) -> Result<(), u64> {
        spend(&self.starts, client)
    }

    /// A device authorization from `client` for OAuth client `client_id`: `Err(seconds)`
    /// when it must wait. Per OAuth client too, so that one client's flood (or everyone
    /// behind a proxy that is not `--trusted-proxies`) leaves another's devices alone.
    pub fn device_start(&self, client: Option<ClientKey>, client_id: &str) -> Result<(), u64> {
        spend(
            &self.device_starts,
            client.map(|c| (c, client_id.to_owned())),
        )
    }
}

/// Spends one of `key`'s cells in `limiter` (none for an unknown address).
fn spend<K: Clone + Eq + Hash>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: Option<K>,
) -> Result<(), u64> {
    let Some(key) = key else {
        return Ok(());
    };
    let clock = DefaultClock::default();
    limiter
        .check_key(&key)
        .map_err(|not_until| not_until.wait_time_from(clock.now()).as_secs().max(1))?;
    if limiter.len() > 10_000 {
        limiter.retain_recent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn key(s: &str) -> Option<ClientKey> {
        Some(s.parse::<IpAddr>().unwrap().into())
    }

    fn untrusted(account: &str, client: Option<ClientKey>) -> Attempt<'_> {
        Attempt {
            account,
            client,
            device: None,
        }
    }

    #[test]
    fn the_sixth_failure_on_one_account_waits() {
        let l = LoginLimiter::default();
        for _ in 0..PER_ACCOUNT_PER_MINUTE {
            assert!(l.check(&untrusted("Alice", None)).is_ok());
            l.failed(&untrusted("Alice", None));
        }
        let wait = l.check(&untrusted("alice", None)).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            l.check(&untrusted("bob", None)).is_ok(),
            "other accounts are not affected"
        );
    }

    #[test]
    fn wrong_user_codes_wait_per_client_and_per_session() {
        let l = LoginLimiter::default();
        let a = key("198.51.100.1");
        for _ in 0..USER_CODES_PER_MINUTE {
            assert!(l.user_code_check(a, "s1").is_ok());
            l.user_code_failed(a, "s1");
        }
        assert!(l.user_code_check(a, "s2").is_err(), "the client waits");
        assert!(l.user_code_check(None, "s1").is_err(), "the session waits");
        assert!(l.user_code_check(key("198.51.100.2"), "s2").is_ok());
    }

    #[test]
    fn failed_client_authentications_wait_per_address() {
        let l = LoginLimiter::default();
        let (a, b) = (key("198.51.100.1"), key("198.51.100.2"));
        (1..CLIENT_AUTH_FAILURES_PER_MINUTE).for_each(|_| l.client_auth_failed(a));
        assert!(l.client_auth_check(a).is_ok(), "one failure left");
        l.client_auth_failed(a);
        let wait = l.client_auth_check(a).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(l.client_auth_check(b).is_ok(), "another address goes on");
        l.client_auth_failed(None);
        assert!(l.client_auth_check(None).is_ok(), "no address, no limit");
    }

    #[test]
    fn successes_do_not_count() {
        let l = LoginLimiter::default();
        for _ in 0..50 {
            assert!(l.check(&untrusted("alice", None)).is_ok());
        }
    }

    #[test]
    fn one_address_is_limited_alone() {
        let l = LoginLimiter::default();
        let a = key("198.51.100.1");
        let b = key("198.51.100.2");
        for i in 0..PER_ADDRESS_PER_MINUTE {
            l.failed(&untrusted(&format!("user{i}"), a));
        }
        assert!(l.check(&untrusted("someone", a)).is_err());
        assert!(l.check(&untrusted("someone", b)).is_ok());
    }

    #[test]
    fn one_ipv6_64_is_one_client() {
        let l = LoginLimiter::default();
        for i in 0..PER_ADDRESS_PER_MINUTE {
            let ip = format!("2001:db8:1:2::{:x}", i + 1);
            l.failed(&untrusted(&format!("user{i}"), key(&ip)));
        }
        assert!(
            l.check(&untrusted("someone", key("2001:db8:1:2:ffff::1")))
                .is_err()
        );
        assert!(
            l.check(&untrusted("someone", key("2001:db8:1:3::1")))
                .is_ok()
        );
    }

    #[test]
    fn a_trusted_device_is_judged_by_its_own_budget() {
        let l = LoginLimiter::default();
        // A stranger locks the account for untrusted clients.
        for _ in 0..PER_ACCOUNT_PER_MINUTE {
            l.failed(&untrusted("root", key("198.51.100.66")));
        }
        assert!(l.check(&untrusted("root", key("198.51.100.7"))).is_err());
        let device = |id| Attempt {
            account: "root",
            client: key("198.51.100.66"),
            device: Some(id),
        };
        // Even from the stranger's own address, the device is not refused.
        assert!(l.check(&device("d1")).is_ok());
        for _ in 0..PER_DEVICE_PER_MINUTE {
            l.failed(&device("d1"));
        }
        assert!(l.check(&device("d1")).is_err(), "its own failures count");
        assert!(l.check(&device("d2")).is_ok(), "another device's do not");
    }

    #[test]
    fn one_client_guessing_one_account_gets_an_hourly_budget() {
        let l = LoginLimiter::default();
        let a = key("198.51.100.1");
        // Spread over time the per-minute budgets would refill; the hourly one does not.
        for _ in 0..PER_ACCOUNT_CLIENT_PER_HOUR {
            l.account_client.record(&("alice".to_owned(), a.unwrap()));
        }
        let wait = l.check(&untrusted("alice", a)).unwrap_err();
        assert!(wait > 60, "{wait}");
        assert!(l.check(&untrusted("alice", key("198.51.100.2"))).is_ok());
        assert!(l.check(&untrusted("bob", a)).is_ok());
    }

    #[test]
    fn forgotten_windows_are_swept_without_losing_live_counts() {
        let f: Failures<u32> = Failures::new(1, Duration::from_secs(3600));
        for k in 0..(PRUNE_AT as u32 + 5) {
            f.record(&k);
        }
        // Every window is live: nothing was dropped, and the next sweep waits for twice as many.
        assert!(f.gate(&0).is_err());
        assert!(f.counts.lock().unwrap().prune_at >= 2 * PRUNE_AT);
        let gone: Failures<u32> = Failures::new(1, Duration::ZERO);
        for k in 0..(PRUNE_AT as u32 + 5) {
            gone.record(&k);
        }
        // Past windows are swept: at most the few recorded since.
        assert!(gone.counts.lock().unwrap().by_key.len() < 10);
    }

    #[test]
    fn sign_in_starts_have_a_budget_per_address() {
        // A budget small enough that no token comes back while the test spends it: at the
        // default 600 a minute one does every 100 ms, which an unoptimised build on a busy
        // machine took to spend the 600 (the test failed once so).
        let l = LoginLimiter::new(10);
        let a = key("198.51.100.1");
        for _ in 0..10 {
            assert!(l.start(a).is_ok());
        }
        assert!(l.start(a).is_err());
        assert!(l.start(key("198.51.100.2")).is_ok());
    }

    #[test]
    fn sign_in_starts_from_one_ipv6_64_share_a_budget() {
        let l = LoginLimiter::new(10);
        for i in 0..10u32 {
            assert!(l.start(key(&format!("2001:db8::{:x}", i + 1))).is_ok());
        }
        assert!(l.start(key("2001:db8::ffff")).is_err());
        assert!(l.start(key("2001:db8:0:1::1")).is_ok());
    }
}
