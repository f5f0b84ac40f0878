//! Configuration: flags, each with a matching `PORTCULLIS_*` environment variable, in groups
//! by who needs them: `Store` (every command), `Site` (`serve` and the commands that check
//! or show providers and applications), `Server` (`serve` only). `Config` is all of them,
//! as the server takes it.

use clap::Args;
use portcullis::ssr::secrets::SecretBox;
use std::net::SocketAddr;
use std::path::PathBuf;
use url::Url;

/// What every command needs: where the data lives and the key that opens its secrets.
/// Global: given before or after the subcommand.
#[derive(Debug, Clone, Args)]
pub struct Store {
    /// Database: `sqlite://PATH` (created if missing) or `postgres://USER@HOST/DB`.
    /// Defaults to the SQLite file `portcullis.db` in the data directory.
    #[arg(long, env = "PORTCULLIS_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory for Portcullis's own files (the default SQLite database, generated keys).
    #[arg(
        long,
        env = "PORTCULLIS_DATA_DIR",
        default_value = "data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Key that encrypts provider client secrets at rest: 32 bytes, base64 (e.g.
    /// `openssl rand -base64 32`). Without it, a key file `secret.key` is created in the data
    /// directory. Servers sharing one database must share the key.
    #[arg(
        long,
        env = "PORTCULLIS_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
}

/// How browsers reach Portcullis and what an administrator may configure: the server's, and
/// those of the commands that validate or show providers and applications as its pages do.
#[derive(Debug, Clone, Args)]
pub struct Site {
    /// The externally visible base URL (scheme, host, optional path), as users' browsers
    /// reach Portcullis, e.g. `https://auth.example.com`. Redirect URIs are built from it;
    /// sessions get the Secure cookie flag when it is https. Defaults to
    /// `http://<listen address>`.
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL", global = true)]
    pub public_url: Option<Url>,

    /// Accept plain-http issuer URLs on any host (by default only https, or http on
    /// localhost/127.0.0.1/::1). For lab setups only: tokens would cross the network in clear.
    #[arg(long, env = "PORTCULLIS_ALLOW_INSECURE_ISSUERS", global = true)]
    pub allow_insecure_issuers: bool,

    /// Where the icon images live: `<base>/<svg|png|webp>/<name>[-light|-dark].<ext>`. The
    /// login page loads logos from here, so its origin is allowed in the pages' img-src.
    #[arg(
        long,
        env = "PORTCULLIS_ICON_BASE_URL",
        default_value = portcullis::icons::DEFAULT_BASE_URL,
        global = true
    )]
    pub icon_base_url: Url,
}

/// The address the server listens on (`serve`; `healthcheck` asks there).
#[derive(Debug, Clone, Args)]
pub struct Listen {
    /// Address and port to listen on.
    #[arg(long, env = "PORTCULLIS_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
}

/// The server's own options (`serve` only).
#[derive(Debug, Clone, Args)]
pub struct Server {
    #[command(flatten)]
    pub listen: Listen,

    /// Add a Server-Timing header to sign-in responses: Portcullis's own time and the time
    /// spent waiting for the provider (for benchmarks and diagnosis; off by default).
    #[arg(long, env = "PORTCULLIS_SERVER_TIMING")]
    pub server_timing: bool,

    /// The selfh.st icon index the logo picker searches (fetched by the server, cached in
    /// the data directory for 12 hours, and served to administrators in a compact form).
    #[arg(long, env = "PORTCULLIS_ICON_INDEX_URL", default_value = portcullis::icons::DEFAULT_INDEX_URL)]
    pub icon_index_url: Url,

    /// Seconds a fetched icon index counts as fresh; after that the next picker visit
    /// refreshes it in the background while the last good copy is served.
    #[arg(long, env = "PORTCULLIS_ICON_INDEX_TTL", default_value_t = 12 * 60 * 60)]
    pub icon_index_ttl: u64,

    /// PEM file of one or more certificate authorities to trust beside the system's, for
    /// every request to identity providers and the icon catalogue (a homelab provider with a
    /// certificate from a private CA).
    #[arg(long, env = "PORTCULLIS_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// Days a signed-in session lasts at most, however active (it also ends after 14 days
    /// without use).
    #[arg(long, env = "PORTCULLIS_SESSION_LIFETIME_DAYS", default_value_t = 30)]
    pub session_lifetime_days: u32,

    /// Days the audit log keeps an event (Settings → Audit log, `portcullis audit list`);
    /// older ones are deleted every 15 minutes. 0 keeps no audit log at all (nothing is
    /// written).
    #[arg(long, env = "PORTCULLIS_AUDIT_RETENTION_DAYS", default_value_t = 90)]
    pub audit_retention_days: u32,

    /// Sign-in starts (`/login?provider=`) per minute per client address.
    #[arg(long, env = "PORTCULLIS_SIGN_IN_STARTS_PER_MINUTE", default_value_t = portcullis::ssr::limiter::STARTS_PER_ADDRESS_PER_MINUTE)]
    pub sign_in_starts_per_minute: u32,

    /// Reverse proxies (CIDRs or addresses, comma-separated) whose `X-Forwarded-For` names
    /// the client, for rate limits and logs; from anyone else it is ignored.
    #[arg(
        long,
        env = "PORTCULLIS_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = portcullis::ssr::client_ip::parse_net
    )]
    pub trusted_proxies: Vec<portcullis::ssr::client_ip::IpNet>,

    /// The session cookie's Domain (e.g. `home.example`), so that the applications under it
    /// (`sonarr.home.example`) receive the session too and one sign-in covers them all
    /// (forward authentication). Every host under that domain then gets the cookie: only
    /// set it for a domain whose hosts you all trust. Without it the cookie is host-only.
    #[arg(long, env = "PORTCULLIS_COOKIE_DOMAIN", value_parser = parse_cookie_domain)]
    pub cookie_domain: Option<String>,

    /// Directory with the built web assets (`pkg/`, favicon), as scripts/build.sh lays them
    /// out; the default suits running from the source tree.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Serve Prometheus metrics at `/metrics` on this address of their own (nothing else is
    /// served there), e.g. `127.0.0.1:9464`. Metrics are off unless this or a metrics token
    /// is given.
    #[arg(long, env = "PORTCULLIS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Serve `/metrics` on the main address to scrapers that send `Authorization: Bearer
    /// <token>`, with the token read from this file (its first line; 32 characters or more,
    /// e.g. `openssl rand -hex 32`). The token may instead be in the environment variable
    /// PORTCULLIS_METRICS_TOKEN; never on the command line.
    #[arg(long, env = "PORTCULLIS_METRICS_TOKEN_FILE")]
    pub metrics_token_file: Option<PathBuf>,
}

/// A group of options as the environment and the defaults give it, for a command that does
/// not take them as flags: every command sees the one configuration the server does (the
/// redirect URIs `provider list` shows follow `PORTCULLIS_LISTEN` as the server's do).
pub fn from_env<T: Args + clap::FromArgMatches>() -> anyhow::Result<T> {
    let command = T::augment_args(clap::Command::new("portcullis").no_binary_name(true));
    let matches = command.try_get_matches_from(std::iter::empty::<String>())?;
    Ok(T::from_arg_matches(&matches)?)
}

/// The server's whole configuration, as the command line and the environment give it.
/// Tests and benchmarks build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    // `Store`'s:
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub secret_key: Option<String>,
    // `Site`'s:
    pub public_url: Option<Url>,
    pub allow_insecure_issuers: bool,
    pub icon_base_url: Url,
    // `Server`'s:
    pub listen: SocketAddr,
    pub server_timing: bool,
    pub icon_index_url: Url,
    pub icon_index_ttl: u64,
    pub ca_file: Option<PathBuf>,
    pub session_lifetime_days: u32,
    pub audit_retention_days: u32,
    pub sign_in_starts_per_minute: u32,
    pub trusted_proxies: Vec<portcullis::ssr::client_ip::IpNet>,
    pub cookie_domain: Option<String>,
    pub site_root: PathBuf,
    pub metrics_listen: Option<SocketAddr>,
    /// `--metrics-token-file`'s token, or PORTCULLIS_METRICS_TOKEN's.
    pub metrics_token: Option<MetricsToken>,
}

/// Where the metrics bearer token comes from.
#[derive(Clone)]
pub enum MetricsToken {
    File(PathBuf),
    /// From the environment (PORTCULLIS_METRICS_TOKEN).
    Value(String),
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsToken::File(path) => write!(f, "File({})", path.display()),
            MetricsToken::Value(_) => f.write_str("Value(<hidden>)"),
        }
    }
}

/// The environment variable that may hold the metrics token (only there or in a file: a
/// flag's value is visible to every local user in the process list).
pub const METRICS_TOKEN_ENV: &str = "PORTCULLIS_METRICS_TOKEN";

impl MetricsToken {
    /// `--metrics-token-file`, or else the environment's token; both is an error.
    pub fn from_env_or(file: Option<PathBuf>) -> anyhow::Result<Option<MetricsToken>> {
        let value = std::env::var(METRICS_TOKEN_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty());
        match (file, value) {
            (Some(_), Some(_)) => anyhow::bail!(
                "give the metrics token either in --metrics-token-file or in {METRICS_TOKEN_ENV}, not both"
            ),
            (Some(path), None) => Ok(Some(MetricsToken::File(path))),
            (None, Some(v)) => Ok(Some(MetricsToken::Value(v))),
            (None, None) => Ok(None),
        }
    }

    /// The token: the file's first line, or the variable's value, trimmed; refused when it
    /// is shorter than 32 characters (a guessable token would open the figures to anyone).
    pub fn read(&self) -> anyhow::Result<String> {
        let (token, from) = match self {
            MetricsToken::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!(
                        "--metrics-token-file {} cannot be read: {e}",
                        path.display()
                    )
                })?;
                let first = text.lines().next().unwrap_or("").trim().to_owned();
                (first, format!("--metrics-token-file {}", path.display()))
            }
            MetricsToken::Value(v) => (v.trim().to_owned(), METRICS_TOKEN_ENV.to_owned()),
        };
        if token.chars().count() < 32 {
            anyhow::bail!(
                "{from}: the metrics token must be 32 characters or more (e.g. openssl rand -hex 32)"
            );
        }
        Ok(token)
    }
}

/// A cookie domain: a host name (no scheme, port or path), lowercase, without a leading dot.
pub fn parse_cookie_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_start_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if ok {
        Ok(d)
    } else {
        Err(format!(
            "\"{s}\" is not a domain name: give the domain the applications share, e.g. home.example"
        ))
    }
}

/// `--cookie-domain` must cover `--public-url`'s host (the host is the domain or under
/// it), be a name rather than an IP address, and have at least two labels (`home.example`,
/// never a bare top-level name); otherwise the session cookie would be refused by browsers
/// or shared far wider than meant.
pub fn check_cookie_domain(public_url: &str, domain: &str) -> Result<(), String> {
    let host = Url::parse(public_url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        })
        .unwrap_or_default();
    let wrong = |why: &str| {
        Err(format!(
            "--cookie-domain {domain} does not fit --public-url {public_url}: {why}"
        ))
    };
    if domain.parse::<std::net::IpAddr>().is_ok() {
        return wrong("the cookie domain must be a domain name, not an IP address");
    }
    if !domain.contains('.') {
        return wrong("the cookie domain needs at least two labels, e.g. home.example");
    }
    if host != domain && !host.ends_with(&format!(".{domain}")) {
        return wrong("the public URL's host must be the cookie domain or a name under it");
    }
    Ok(())
}

impl Config {
    pub fn new(store: Store, site: Site, server: Server) -> anyhow::Result<Config> {
        Ok(Config {
            listen: server.listen.listen,
            database_url: store.database_url,
            public_url: site.public_url,
            data_dir: store.data_dir,
            secret_key: store.secret_key,
            allow_insecure_issuers: site.allow_insecure_issuers,
            server_timing: server.server_timing,
            icon_index_url: server.icon_index_url,
            icon_base_url: site.icon_base_url,
            icon_index_ttl: server.icon_index_ttl,
            ca_file: server.ca_file,
            session_lifetime_days: server.session_lifetime_days,
            audit_retention_days: server.audit_retention_days,
            sign_in_starts_per_minute: server.sign_in_starts_per_minute,
            trusted_proxies: server.trusted_proxies,
            cookie_domain: server.cookie_domain,
            site_root: server.site_root,
            metrics_listen: server.metrics_listen,
            metrics_token: MetricsToken::from_env_or(server.metrics_token_file)?,
        })
    }

    /// Trusts `--ca-file`'s certificates for outgoing requests; a file that cannot be read or
    /// holds no certificate stops the start, naming the flag.
    pub fn trust_ca_file(&self) -> anyhow::Result<()> {
        let Some(path) = &self.ca_file else {
            return Ok(());
        };
        let name = path.display().to_string();
        let pem = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("--ca-file {name} cannot be read: {e}"))?;
        let n = portcullis::ssr::oidc::http::trust_extra_roots(&name, &pem)
            .map_err(|e| anyhow::anyhow!("--ca-file: {e}"))?;
        tracing::info!(file = %name, certificates = n, "trusting extra certificate authorities");
        Ok(())
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("portcullis.db").display())
        })
    }

    /// The public URL without a trailing slash, so paths can be appended.
    pub fn public_url(&self) -> String {
        let url = self
            .public_url
            .as_ref()
            .map(Url::to_string)
            .unwrap_or_else(|| format!("http://{}", self.listen));
        url.trim_end_matches('/').to_owned()
    }

    /// The plain-http origin the pages may load images from (the icon host, when it is
    /// http), which logo and icon checks then accept.
    pub fn http_image_origin(&self) -> Option<String> {
        portcullis::icons::http_origin(&self.icon_base_url)
    }

    pub fn secrets(&self) -> anyhow::Result<SecretBox> {
        Ok(match &self.secret_key {
            Some(key) => SecretBox::from_base64(key)?,
            None => SecretBox::load_or_create(&self.data_dir.join("secret.key"))?,
        })
    }
}

#[cfg(test)]
mod cookie_domain_tests {
    use super::check_cookie_domain;

    #[test]
    fn the_cookie_domain_must_cover_the_public_url() {
        let ok = |url, d| check_cookie_domain(url, d).is_ok();
        assert!(ok("https://auth.home.example", "home.example"));
        assert!(ok("https://home.example/", "home.example"));
        assert!(ok("http://auth.portcullis.test:8080", "portcullis.test"));
        assert!(ok("https://a.b.home.example", "home.example"));
        // Another domain, a mere suffix of a label, a bare top-level name, an IP address.
        assert!(!ok("https://auth.other.example", "home.example"));
        assert!(!ok("https://auth.myhome.example", "home.example"));
        assert!(!ok("https://auth.home.example", "example"));
        assert!(!ok("http://127.0.0.1:8080", "127.0.0.1"));
        assert!(!ok("http://127.0.0.1:8080", "portcullis.test"));
        let err = check_cookie_domain("https://auth.other.example", "home.example").unwrap_err();
        assert!(
            err.contains("--cookie-domain") && err.contains("--public-url"),
            "{err}"
        );
    }
}
