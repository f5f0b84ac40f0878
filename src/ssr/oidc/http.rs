//! The HTTP client for talking to providers.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// How long any single request to a provider may take.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// One shared client per timeout: connections to a provider are kept alive between
/// sign-ins, and the TLS roots are loaded once, not per request.
pub fn client(timeout: Duration) -> reqwest::Client {
    static CLIENTS: LazyLock<Mutex<HashMap<Duration, reqwest::Client>>> =
        LazyLock::new(Default::default);
    CLIENTS
        .lock()
        .expect("client cache lock")
        .entry(timeout)
        .or_insert_with(|| build(timeout))
        .clone()
}

/// Redirects are never followed: a provider endpoint that redirects could point us at
/// internal addresses (SSRF), and no OpenID Connect back-channel call needs one.
fn build(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("Portcullis/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client with static settings")
}

/// A reqwest error in words: what failed, without internal detail an admin cannot use.
pub fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    let chain = error_chain(e);
    if e.is_timeout() {
        format!("it did not answer within {} seconds", timeout.as_secs())
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("TLS") {
        format!(
            "the TLS connection failed ({}); check the certificate is valid and trusted",
            last_cause(e)
        )
    } else if e.is_connect() {
        format!("could not connect ({})", last_cause(e))
    } else if e.is_redirect() {
        "it answered with a redirect, which is not followed".to_owned()
    } else {
        last_cause(e)
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn last_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}
