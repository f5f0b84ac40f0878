//! Start-up: connect and migrate the database, build the router, listen.

use crate::config::Config;
use crate::{api_v1, headers, signin};
use anyhow::Context;
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use leptos::config::{Env, LeptosOptions};
use leptos_axum::{LeptosRoutes, generate_route_list};
use portcullis::ssr::db::{Db, redact_url};
use portcullis::ssr::icons::IconIndex;
use portcullis::ssr::limiter::LoginLimiter;
use portcullis::ssr::op::keys::{self, OpKeys};
use portcullis::ssr::session::store::DbSessionStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time;
use tower_sessions::{Expiry, SessionManagerLayer};

pub const SESSION_COOKIE: &str = "portcullis_session";

/// The session cookie's name: with the `__Host-` prefix over https, so that no sibling
/// subdomain can set or shadow it (the browser refuses such a cookie unless it is Secure,
/// host-only and for `/`).
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-portcullis_session"
    } else {
        SESSION_COOKIE
    }
}

/// The session cookie's name when it is shared with a cookie domain (`--cookie-domain`):
/// `__Host-` forbids a Domain attribute, so over https it is `__Secure-` (still only set
/// over https).
pub fn shared_session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Secure-portcullis_session"
    } else {
        SESSION_COOKIE
    }
}

/// Opens the database named by the configuration (creating the data directory for SQLite).
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
    }
    Db::connect(&url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&url)))
}

/// A running server (for tests and benchmarks: it stops when dropped or told to).
pub struct Running {
    pub addr: SocketAddr,
    pub public_url: String,
    pub db: Db,
    /// The OpenID Provider's keys as this server holds them (tests reload them at will).
    pub op_keys: Arc<OpKeys>,
    /// Where `--metrics-listen` serves `/metrics` (its port 0 resolved).
    pub metrics_addr: Option<SocketAddr>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    metrics_shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(tx) = self.metrics_shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.metrics_shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The pages Leptos serves, worked out once per process. Working them out runs the app with
/// resource loading suppressed through a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a page render that first polls a resource while that flag is up,
/// from another server in the same process (replicas, the integration tests), waits forever
/// (leptos-rs/leptos#4773). Once per process, before any server of it serves, no render can
/// overlap it. `/login` is the sign-in module's route (it renders this page when it is not a
/// sign-in start); every other page is Leptos's.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            generate_route_list(App)
                .into_iter()
                .filter(|r| r.path() != "/login")
                .collect()
        })
        .clone()
}

/// The OpenID Provider's signing keys, before the server listens: made at the first start
/// (two replicas starting at once agree on one per algorithm), then reloaded every minute.
pub async fn op_keys(config: &Config, db: &Db) -> anyhow::Result<Arc<OpKeys>> {
    let secrets = config.secrets().context("loading the secret key")?;
    let op_keys = OpKeys::start(db.clone(), secrets)
        .await
        .context("the OpenID Provider's signing keys")?;
    tokio::spawn(op_keys.clone().reload_every(keys::RELOAD_EVERY));
    tokio::spawn(portcullis::ssr::op::grants::delete_expired_every(
        db.clone(),
        Duration::from_secs(15 * 60),
    ));
    Ok(op_keys)
}

/// `public_url`: the externally visible base URL (see [`Config::public_url`]).
pub async fn router(
    config: &Config,
    db: Db,
    public_url: &str,
    op_keys: Arc<OpKeys>,
) -> anyhow::Result<Router> {
    if let Some(domain) = &config.cookie_domain {
        crate::config::check_cookie_domain(public_url, domain).map_err(anyhow::Error::msg)?;
    }
    let leptos_options = LeptosOptions::builder()
        .output_name("portcullis")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .env(Env::PROD)
        .build();
    let store = DbSessionStore::new(db.clone(), config.session_lifetime_days as i64 * 86_400);
    tokio::spawn(
        store
            .clone()
            .delete_expired_every(Duration::from_secs(15 * 60)),
    );
    if config.audit_retention_days > 0 {
        tokio::spawn(portcullis::ssr::audit::sweep_every(
            db.clone(),
            config.audit_retention_days,
            Duration::from_secs(15 * 60),
        ));
    }
    let https = public_url.starts_with("https://");
    let cookie_name = match &config.cookie_domain {
        Some(_) => shared_session_cookie_name(https),
        None => session_cookie_name(https),
    };
    let sessions = SessionManagerLayer::new(store)
        .with_name(cookie_name)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));
    let sessions = match config.cookie_domain.clone() {
        Some(domain) => sessions.with_domain(domain),
        None => sessions,
    };

    let state = AppState::new(app::state::Shared {
        leptos_options: leptos_options.clone(),
        db,
        limiter: Arc::new(LoginLimiter::new(config.sign_in_starts_per_minute)),
        public_url: public_url.into(),
        secrets: config.secrets().context("loading the secret key")?,
        allow_insecure_issuers: config.allow_insecure_issuers,
        trusted_proxies: config.trusted_proxies.clone().into(),
        oidc_cache: Default::default(),
        server_timing: config.server_timing,
        login_page: Default::default(),
        apps: Default::default(),
        icons: Arc::new(IconIndex::new(
            config.icon_index_url.as_str(),
            config.icon_base_url.as_str(),
            &config.data_dir.join("icons"),
            Duration::from_secs(config.icon_index_ttl),
        )),
        op_keys,
        passkeys: portcullis::ssr::passkeys::Passkeys::new(public_url).map(Arc::new),
    });
    let routes = page_routes();
    let login_page = leptos_axum::render_app_async_with_context(
        {
            let state = state.clone();
            move || leptos::prelude::provide_context(state.clone())
        },
        {
            let options = leptos_options.clone();
            move || shell(options.clone())
        },
    );
    // Built assets are precompressed at build time (scripts/build.sh) and served as such.
    let pkg = ServeDir::new(config.site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let app = Router::new()
        .merge(api_v1::routes())
        .merge(crate::forward_auth::routes())
        .merge(signin::routes(login_page))
        .merge(crate::logout::routes())
        .merge(crate::op::routes())
        .merge(crate::passkeys::routes())
        .route("/healthz", get(health))
        .nest_service("/pkg", pkg)
        .leptos_routes(&state, routes, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::csrf::same_origin_only,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signin::server_timing,
        ));
    Ok(headers::add(app, https)
        .layer(CompressionLayer::new().no_br())
        .with_state(state))
}

/// Liveness and readiness: 200 once the database answers.
async fn health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match portcullis::ssr::users::count(&state.db).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Binds, then serves in a background task.
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    config.trust_ca_file()?;
    // A metrics token that cannot be used stops the start before anything is made.
    let metrics_token = config
        .metrics_token
        .as_ref()
        .map(|t| t.read())
        .transpose()?;
    let db = open_db(config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Responses streamed in pieces (static files) would otherwise wait on Nagle's algorithm
    // and the client's delayed ACK: ~40 ms per keep-alive response.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // Without a configured public URL, the address actually bound (port 0 resolved).
    let public_url = match &config.public_url {
        Some(_) => config.public_url(),
        None => format!("http://{addr}"),
    };
    let op_keys = op_keys(config, &db).await?;
    // Back-channel logout to the applications of sessions that end (on every replica).
    tokio::spawn(portcullis::ssr::op::logout::run(
        db.clone(),
        op_keys.clone(),
        public_url.clone(),
    ));
    let mut app = router(config, db.clone(), &public_url, op_keys.clone()).await?;
    let (mut metrics_addr, mut metrics_shutdown) = (None, None);
    if let Some(handle) = crate::metrics::turn_on(config) {
        tokio::spawn(crate::metrics::upkeep(handle.clone()));
        // On the main listener only behind the token; without one `/metrics` is no route
        // there (404).
        if let Some(token) = metrics_token {
            app = app.merge(crate::metrics::behind_token(
                handle.clone(),
                db.clone(),
                token,
            ));
        }
        (metrics_addr, metrics_shutdown) = crate::metrics::serve_own(config, handle, db.clone())
            .await?
            .unzip();
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
    });
    Ok(Running {
        addr,
        public_url,
        db,
        op_keys,
        metrics_addr,
        shutdown: Some(tx),
        metrics_shutdown,
        task,
    })
}

/// How long requests in flight may take to finish after SIGTERM or Ctrl-C; container
/// engines kill the process 10 s after SIGTERM anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight (for at most
/// [`SHUTDOWN_GRACE`]) and returns.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // The handlers are installed before start-up, so a signal during migrations is not lost
    // (as PID 1 in a container the process has no default SIGTERM action).
    let signal = shutdown_signal()?;
    let running = start(&config).await?;
    tracing::info!(
        addr = %running.addr,
        public_url = %running.public_url,
        database = running.db.backend(),
        "Portcullis is listening"
    );
    signal.await;
    tracing::info!("shutting down");
    let db = running.db.clone();
    if tokio::time::timeout(SHUTDOWN_GRACE, running.stop())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s; stopping anyway",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    // Closing checkpoints SQLite's write-ahead log into the database file.
    let _ = tokio::time::timeout(Duration::from_secs(1), db.close()).await;
    Ok(())
}

/// Resolves at the first Ctrl-C (SIGINT) or SIGTERM; the handlers are installed at once.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut int, mut term) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).context("handling SIGINT")?,
            signal(SignalKind::terminate()).context("handling SIGTERM")?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}
