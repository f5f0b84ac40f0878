//! The HTTP client for talking to providers.

use crate::ssr::metrics::{Endpoint, upstream_request};
use openidconnect::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long any single request to a provider may take.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Certificate authorities trusted beside the system's (`--ca-file`): homelab providers often
/// have certificates from a private CA. Process-wide, like the system roots they extend: one
/// server process has one configuration, and every outgoing request (providers, icons) must
/// trust the same set.
static EXTRA_ROOTS: RwLock<Vec<reqwest::Certificate>> = RwLock::new(Vec::new());

/// Why a `--ca-file` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    #[error(
        "{0} holds no PEM certificate (expected one or more -----BEGIN CERTIFICATE----- blocks)"
    )]
    Empty(String),
    #[error("{0} is not a PEM certificate bundle: {1}")]
    Malformed(String, String),
}

/// Trusts the certificates of the PEM bundle `pem` (read from `name`) for every request to
/// providers and the icon catalogue from now on, beside the system roots. Returns how many.
pub fn trust_extra_roots(name: &str, pem: &[u8]) -> Result<usize, CaFileError> {
    // reqwest parses the bundle (rustls-pemfile underneath); a bundle with nothing in it is
    // an error of its own, or a wrong path would silently trust nothing new.
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| CaFileError::Malformed(name.to_owned(), e.to_string()))?;
    if certs.is_empty() {
        return Err(CaFileError::Empty(name.to_owned()));
    }
    let n = certs.len();
    *EXTRA_ROOTS.write().expect("roots lock") = certs;
    // Clients built before this point know only the old roots.
    CLIENTS.lock().expect("client cache lock").clear();
    Ok(n)
}

/// Makes AWS-LC rustls's cryptography for this process, once: reqwest is built without a
/// provider of its own (Cargo.toml: one C crypto library in the build, the one the OpenID
/// Provider signs with) and takes the process's default, which must be set before a client
/// is built. [`builder`] calls it; so do the tests and benchmarks, whose own clients do not
/// go through it.
pub fn use_aws_lc() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means another provider was installed first: it serves as well.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// A client builder that trusts the system roots and `--ca-file`'s.
pub fn builder() -> reqwest::ClientBuilder {
    use_aws_lc();
    EXTRA_ROOTS
        .read()
        .expect("roots lock")
        .iter()
        .cloned()
        .fold(reqwest::Client::builder(), |b, cert| {
            b.add_root_certificate(cert)
        })
        .user_agent(concat!("Portcullis/", env!("CARGO_PKG_VERSION")))
}

static CLIENTS: LazyLock<Mutex<HashMap<Duration, reqwest::Client>>> =
    LazyLock::new(Default::default);

/// One shared client per timeout: connections to a provider are kept alive between
/// sign-ins, and the TLS roots are loaded once, not per request.
pub fn client(timeout: Duration) -> reqwest::Client {
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
    builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .build()
        .expect("a reqwest client with static settings")
}

/// What [`observed`] answers.
pub type Answer =
    Pin<Box<dyn Future<Output = Result<HttpResponse, HttpClientError<reqwest::Error>>> + Send>>;

/// `http` for `openidconnect`, with each request to provider `slug`'s `endpoint` timed and
/// counted ([`upstream_request`]; during discovery, a request for anything but the discovery
/// document is for the JWKS). With `slug` `None` nothing is counted: Test sign-in and the
/// editor's connection test try settings that may never be stored. It owns what it uses (a
/// client is a handle): futures that borrow into a closure trip the compiler's `Send` checks
/// in the server functions' futures.
pub fn observed(
    http: reqwest::Client,
    slug: Option<&str>,
    endpoint: Endpoint,
) -> impl Fn(HttpRequest) -> Answer {
    let slug: Option<Arc<str>> = slug.map(Arc::from);
    move |request: HttpRequest| {
        let (http, slug) = (http.clone(), slug.clone());
        Box::pin(async move {
            let endpoint = match endpoint {
                Endpoint::Discovery
                    if !request
                        .uri()
                        .path()
                        .ends_with("/.well-known/openid-configuration") =>
                {
                    Endpoint::Jwks
                }
                other => other,
            };
            let started = Instant::now();
            let answer = http.call(request).await;
            if let Some(slug) = slug {
                let status = answer.as_ref().ok().map(|r| r.status().as_u16());
                upstream_request(&slug, endpoint, status, started.elapsed());
            }
            answer
        })
    }
}

/// A reqwest error in words: what failed, without internal detail an admin cannot use.
pub fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    let chain = error_chain(e);
    if e.is_timeout() {
        format!("it did not answer within {} seconds", timeout.as_secs())
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("TLS") {
        format!(
            "the TLS connection failed ({}); check the certificate is valid and trusted. If the provider's certificate comes from a private certificate authority, start Portcullis with --ca-file <the CA's PEM file> (environment variable PORTCULLIS_CA_FILE)",
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
