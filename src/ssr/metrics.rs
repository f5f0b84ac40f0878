//! What Portcullis counts for Prometheus: each metric's name and labels, and the functions
//! that sign-in, forward authentication, the requests to providers and the OpenID
//! Provider's token endpoint call.
//!
//! Recorded through the `metrics` facade. Nothing is recorded until the server turns metrics
//! on ([`turn_on`], after installing its recorder: `server/src/metrics.rs`); until then each
//! function returns at one relaxed atomic load. Labels are bounded: a sign-in method, a
//! stored provider's slug, an application's id, and classes from fixed lists; never a
//! username, an email, a URL or an error's words.

use metrics::{Counter, Histogram, counter, histogram};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

/// Sign-ins: `method` (`password`, or `provider` with the provider's slug in `provider`),
/// `outcome` (`success`, or the refusal's class: [`PasswordRefusal`],
/// `FlowErrorKind::class`).
pub const SIGN_INS: &str = "portcullis_sign_ins_total";
/// Forward-auth checks: `app` (the application's id; `none` before one is known) and
/// `outcome` ([`Check`]).
pub const FORWARD_AUTH_CHECKS: &str = "portcullis_forward_auth_checks_total";
/// How long a forward-auth check took, by `outcome`.
pub const FORWARD_AUTH_DURATION: &str = "portcullis_forward_auth_duration_seconds";
/// Requests to providers: `provider` (slug), `endpoint` ([`Endpoint`]), `result` (`ok`,
/// `http_error` for a 4xx or 5xx answer, `unreachable` when no answer came).
pub const UPSTREAM_REQUESTS: &str = "portcullis_upstream_requests_total";
/// How long a request to a provider took, by `provider` and `endpoint`.
pub const UPSTREAM_DURATION: &str = "portcullis_upstream_request_duration_seconds";
/// Token responses Portcullis gave as an OpenID Provider: `app` (the client's application
/// id) and `grant` (`authorization_code` or `refresh_token`).
pub const OP_TOKENS: &str = "portcullis_op_tokens_issued_total";

static ON: AtomicBool = AtomicBool::new(false);

/// Starts recording; the caller has installed the global recorder first.
pub fn turn_on() {
    ON.store(true, Ordering::Relaxed);
}

fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Why a password sign-in was refused, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRefusal {
    /// Wrong password, or no such account (not told apart: the log has no more either).
    InvalidCredentials,
    RateLimited,
    /// Password sign-in is turned off.
    MethodOff,
    /// The form was not filled in.
    Invalid,
    /// Our side failed (database).
    Error,
}

impl PasswordRefusal {
    pub fn class(self) -> &'static str {
        match self {
            PasswordRefusal::InvalidCredentials => "invalid_credentials",
            PasswordRefusal::RateLimited => "rate_limited",
            PasswordRefusal::MethodOff => "method_off",
            PasswordRefusal::Invalid => "invalid_input",
            PasswordRefusal::Error => "error",
        }
    }
}

/// A password sign-in: `Ok` signed in, or why not.
pub fn password_sign_in(outcome: Result<(), PasswordRefusal>) {
    if !on() {
        return;
    }
    let outcome = outcome.err().map_or("success", PasswordRefusal::class);
    counter!(SIGN_INS, "method" => "password", "outcome" => outcome).increment(1);
}

/// A sign-in through provider `slug` (a stored provider's, or `unknown` when the answer
/// matched no attempt): `outcome` is `success`, `linked` or a refusal's class.
pub fn provider_sign_in(slug: &str, outcome: &'static str) {
    if !on() {
        return;
    }
    counter!(SIGN_INS, "method" => "provider", "provider" => slug.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Portcullis, as an OpenID Provider, answered a token request of application `app_id`'s
/// client with tokens, for a `grant` (`authorization_code` or `refresh_token`).
pub fn op_tokens_issued(app_id: &str, grant: &'static str) {
    if !on() {
        return;
    }
    counter!(OP_TOKENS, "app" => app_id.to_owned(), "grant" => grant).increment(1);
}

/// How a forward-auth check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Allowed,
    /// Signed in, but not someone the application lets in.
    Denied,
    /// Nobody signed in: sent to the login page.
    SignedOut,
    /// Signed in with one factor where two are required: sent to give the second.
    StepUp,
    /// Refused before any user was looked at: not a trusted proxy, a client's identity
    /// header, a URL missing, ambiguous or of no application.
    Refused,
    /// The database did not answer (fail closed).
    Unavailable,
}

impl Check {
    const ALL: [Check; 6] = [
        Check::Allowed,
        Check::Denied,
        Check::SignedOut,
        Check::StepUp,
        Check::Refused,
        Check::Unavailable,
    ];

    pub fn class(self) -> &'static str {
        match self {
            Check::Allowed => "allowed",
            Check::Denied => "denied",
            Check::SignedOut => "signed_out",
            Check::StepUp => "step_up",
            Check::Refused => "refused",
            Check::Unavailable => "unavailable",
        }
    }
}

/// One application's check counters and the latency histograms, one per outcome: looked
/// up once per application, so a check allocates nothing and counts in two atomic adds.
struct CheckMeters {
    checks: [Counter; Check::ALL.len()],
    durations: [Histogram; Check::ALL.len()],
}

impl CheckMeters {
    fn new(app: &str) -> CheckMeters {
        CheckMeters {
            checks: Check::ALL.map(
                |c| counter!(FORWARD_AUTH_CHECKS, "app" => app.to_owned(), "outcome" => c.class()),
            ),
            durations: Check::ALL
                .map(|c| histogram!(FORWARD_AUTH_DURATION, "outcome" => c.class())),
        }
    }
}

/// The meters per application id (bounded by the applications this process has seen).
static CHECKS: LazyLock<RwLock<HashMap<Box<str>, Arc<CheckMeters>>>> =
    LazyLock::new(Default::default);

/// A forward-auth check that began at `started`, for application `app` (`None` when it
/// was refused before an application was known).
pub fn forward_auth_check(app: Option<&str>, outcome: Check, started: Instant) {
    if !on() {
        return;
    }
    let app = app.unwrap_or("none");
    let known = CHECKS.read().expect("meters lock").get(app).cloned();
    let meters = known.unwrap_or_else(|| {
        CHECKS
            .write()
            .expect("meters lock")
            .entry(app.into())
            .or_insert_with(|| Arc::new(CheckMeters::new(app)))
            .clone()
    });
    let i = outcome as usize;
    meters.checks[i].increment(1);
    meters.durations[i].record(started.elapsed());
}

/// A provider endpoint Portcullis asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Token,
    Userinfo,
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Token => "token",
            Endpoint::Userinfo => "userinfo",
        }
    }
}

/// A request to provider `slug`'s `endpoint` that took `took`: `status` is the answer's,
/// `None` when none came (connection, TLS, timeout).
pub fn upstream_request(slug: &str, endpoint: Endpoint, status: Option<u16>, took: Duration) {
    if !on() {
        return;
    }
    let result = match status {
        Some(s) if s < 400 => "ok",
        Some(_) => "http_error",
        None => "unreachable",
    };
    let endpoint = endpoint.name();
    counter!(UPSTREAM_REQUESTS, "provider" => slug.to_owned(), "endpoint" => endpoint, "result" => result)
        .increment(1);
    histogram!(UPSTREAM_DURATION, "provider" => slug.to_owned(), "endpoint" => endpoint)
        .record(took);
}
