//! Test harness: the real server on an ephemeral port, over a temporary SQLite file or a
//! fresh PostgreSQL database, driven over HTTP like a browser would.
#![allow(dead_code)]

pub mod flow;
pub mod idp;
pub mod net;
pub mod op;
pub mod rp;

use portcullis::account::NewAccount;
use portcullis::ssr::users;
use portcullis_server::config::Config;
use portcullis_server::serve::{self, Running};
use reqwest::header::{ACCEPT, REFERER};
use reqwest::{Client, Response, StatusCode};

/// What a CLI run did.
pub struct CliRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// Standard output, then standard error.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where tests find a PostgreSQL server with the right to create databases.
pub fn postgres_admin_url() -> String {
    std::env::var("PORTCULLIS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Every HTTP client of the tests starts here: each request has a time limit (a test body
/// has two minutes), and the process's TLS provider is installed before the first client
/// is built (reqwest takes rustls's process default, as the server's clients do).
pub fn client() -> reqwest::ClientBuilder {
    portcullis::ssr::oidc::http::use_aws_lc();
    Client::builder().timeout(std::time::Duration::from_secs(30))
}

/// [`client`], built.
pub fn http() -> Client {
    client().build().unwrap()
}

/// A client that shows redirects instead of following them (tests look at them).
pub fn no_redirects() -> reqwest::ClientBuilder {
    client().redirect(reqwest::redirect::Policy::none())
}

/// A browser: [`no_redirects`] with a cookie jar of its own.
pub fn browser() -> reqwest::ClientBuilder {
    no_redirects().cookie_store(true)
}

/// The actor of a change a test makes in storage directly: the command line's.
pub fn by_cli() -> portcullis::ssr::audit::Actor {
    portcullis::ssr::audit::Actor::cli()
}

pub struct TestApp {
    pub running: Running,
    pub base: String,
    pub config: Config,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A second server on the same database as this one (replicas), configured by `adjust`.
    pub async fn replica(&self, adjust: impl FnOnce(&mut Config)) -> Running {
        let mut config = self.config.clone();
        adjust(&mut config);
        serve::start(&config).await.expect("replica starts")
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let Fresh {
            mut config,
            dir,
            pg_database,
        } = Fresh::new(backend).await;
        adjust(&mut config);
        let running = serve::start(&config).await.expect("server starts");
        let base = format!("http://{}", running.addr);
        TestApp {
            running,
            base,
            config,
            _dir: dir,
            pg_database,
        }
    }

    /// The id of user `name` (a username or email).
    pub async fn user_id(&self, name: &str) -> String {
        users::find_by_identifier(&self.running.db, name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {name}"))
            .id
    }

    /// The audit log's events `filter` selects (its limit: 1000), newest first.
    pub async fn events(
        &self,
        filter: portcullis::audit::AuditFilter,
    ) -> Vec<portcullis::audit::AuditEvent> {
        let filter = portcullis::audit::AuditFilter {
            limit: 1000,
            ..filter
        };
        portcullis::ssr::audit::list(&self.running.db, &filter)
            .await
            .unwrap()
            .events
    }

    /// The audit log's events of `kind`, newest first.
    pub async fn events_of(
        &self,
        kind: portcullis::audit::EventKind,
    ) -> Vec<portcullis::audit::AuditEvent> {
        self.events(portcullis::audit::AuditFilter {
            event: Some(kind),
            ..Default::default()
        })
        .await
    }

    /// The audit log's events by or about user `who` (a username, email or id), newest first.
    pub async fn events_about(&self, who: &str) -> Vec<portcullis::audit::AuditEvent> {
        self.events(portcullis::audit::AuditFilter {
            user: Some(who.to_owned()),
            ..Default::default()
        })
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser ([`browser`]), built.
    pub fn browser(&self) -> Client {
        browser().build().unwrap()
    }

    /// Stores a provider as the editor would after validation (the secret encrypted).
    pub async fn add_provider(&self, draft: portcullis::provider::ProviderDraft) {
        use portcullis::provider::{IssuerPolicy, Mode};
        let valid = draft
            .validate(Mode::Create, IssuerPolicy::default())
            .unwrap();
        let secrets = self.config.secrets().unwrap();
        portcullis::ssr::providers::create(&self.running.db, &secrets, &valid, &by_cli())
            .await
            .unwrap();
    }

    /// Stores an application as the editor would after validation; returns its id.
    pub async fn add_app(&self, draft: portcullis::apps::AppDraft) -> String {
        let valid = draft.validate().unwrap();
        portcullis::ssr::apps::create(&self.running.db, &valid, &by_cli())
            .await
            .unwrap()
            .id
    }

    /// Links `root` to provider `slug` in the database, as a sign-in through it would (the
    /// provider need not answer): an administrator who can sign in through a provider.
    pub async fn link_root(&self, slug: &str) {
        portcullis::exec!(
            &self.running.db,
            "INSERT INTO linked_identities (id, user_id, provider_slug, subject, linked_at) \
             SELECT $1, id, $2, 'root', 0 FROM users WHERE username = 'root'",
            format!("root-{slug}"),
            slug
        )
        .unwrap();
    }

    /// A local account `name` (password `<name> password`, shown as `<name> local`) with
    /// `email`.
    pub async fn add_local(&self, name: &str, email: &str, admin: bool) {
        let password = format!("{name} password");
        self.add_account(name, email, &format!("{name} local"), &password, admin)
            .await;
    }

    pub async fn add_user(&self, name: &str, password: &str, admin: bool) {
        let email = format!("{name}@example.com");
        self.add_account(name, &email, &format!("{name} display"), password, admin)
            .await;
    }

    async fn add_account(
        &self,
        name: &str,
        email: &str,
        display_name: &str,
        password: &str,
        admin: bool,
    ) {
        let account = NewAccount {
            username: name.into(),
            email: email.into(),
            display_name: display_name.into(),
            password: password.into(),
        }
        .validate()
        .unwrap();
        users::create(&self.running.db, &account, admin, false, &by_cli())
            .await
            .unwrap();
    }

    /// Saves `d` through the editor's server function as `admin`, confirmed (no question about
    /// discovery or linked accounts): `original_slug` is the provider edited, "" for a new
    /// one. The status and the JSON answer (`Null` when there is none).
    pub async fn save_provider(
        &self,
        admin: &Client,
        original_slug: &str,
        d: &portcullis::provider::ProviderDraft,
    ) -> (StatusCode, serde_json::Value) {
        let mut form = editor_form(original_slug, d);
        form.push(("confirm".to_owned(), "true".to_owned()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = self.call(admin, "admin/save_provider", &form).await;
        let status = res.status();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Calls a server function as the hydrated app does (JSON answer, real status codes).
    pub async fn call(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// [`Self::call`]'s status alone, for a call whose answer only matters as allowed or not.
    pub async fn call_status(
        &self,
        client: &Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::StatusCode {
        self.call(client, endpoint, form).await.status()
    }

    /// Submits a form as a browser without JavaScript does (HTML accepted, a Referer).
    pub async fn post_form(
        &self,
        client: &Client,
        endpoint: &str,
        from_page: &str,
        form: &[(&str, &str)],
    ) -> Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .header(REFERER, self.url(from_page))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Loads a page as a browser navigation does.
    pub async fn page(&self, client: &Client, path: &str) -> Response {
        client
            .get(self.url(path))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
    }

    /// The real CLI (`portcullis <args>`) against this server's database and data
    /// directory (its secret key).
    pub fn cli(&self, args: &[&str]) -> CliRun {
        self.cli_with_input(args, "")
    }

    /// [`TestApp::cli`] with `input` on standard input (`--client-secret-stdin`, ...).
    pub fn cli_with_input(&self, args: &[&str], input: &str) -> CliRun {
        self.cli_with_env(args, input, &[])
    }

    /// [`TestApp::cli_with_input`] with more environment variables (the options a command
    /// reads from the environment as the server does, e.g. `PORTCULLIS_PUBLIC_URL`).
    pub fn cli_with_env(&self, args: &[&str], input: &str, env: &[(&str, &str)]) -> CliRun {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .arg("--database-url")
            .arg(self.config.database_url.as_deref().unwrap())
            .arg("--data-dir")
            .arg(&self.config.data_dir)
            .args(args)
            .env("PORTCULLIS_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Dropped at the end of the statement: the CLI then reads end of input. (A CLI that
        // exits without reading it closes the pipe: not this helper's failure.)
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        let out = child.wait_with_output().unwrap();
        CliRun {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub async fn login(&self, client: &Client, name: &str, password: &str) -> Response {
        self.call(
            client,
            "auth/login",
            &[("identifier", name), ("password", password)],
        )
        .await
    }

    pub async fn stop(self) {
        let TestApp {
            running,
            pg_database,
            ..
        } = self;
        running.db.close().await;
        running.stop().await;
        if let Some(name) = pg_database {
            drop_database(&name).await;
        }
    }
}

/// A configuration for a server on an empty database (a temporary SQLite file or a fresh
/// PostgreSQL database) that nothing has started yet; [`Fresh::drop_database`] cleans up.
pub struct Fresh {
    pub config: Config,
    pub dir: tempfile::TempDir,
    pub pg_database: Option<String>,
}

impl Fresh {
    pub async fn new(backend: Backend) -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let mut pg_database = None;
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
            Backend::Postgres => {
                let (name, url) = create_migrated_database().await;
                pg_database = Some(name);
                url
            }
        };
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: Some(database_url),
            public_url: None,
            data_dir: dir.path().to_owned(),
            site_root: dir.path().join("site"),
            secret_key: None,
            allow_insecure_issuers: false,
            // Nothing listens on the discard port: no test reaches the public catalogue.
            icon_index_url: "http://127.0.0.1:9/index.json".parse().unwrap(),
            icon_base_url: "http://127.0.0.1:9".parse().unwrap(),
            icon_index_ttl: 3600,
            ca_file: None,
            session_lifetime_days: 30,
            audit_retention_days: 90,
            sign_in_starts_per_minute: portcullis::ssr::limiter::STARTS_PER_ADDRESS_PER_MINUTE,
            trusted_proxies: Vec::new(),
            cookie_domain: None,
            server_timing: true,
            metrics_listen: None,
            metrics_token: None,
        };
        Fresh {
            config,
            dir,
            pg_database,
        }
    }

    pub async fn drop_database(self) {
        if let Some(name) = self.pg_database {
            drop_database(&name).await;
        }
    }
}

pub fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}_{}", n, std::process::id())
}

/// A new empty PostgreSQL database: (its name, its URL). Its commits do not wait for the
/// disk (`synchronous_commit = off`, for this database only): the tests check behaviour,
/// not what survives a power cut, and a flush per commit made every PostgreSQL test two to
/// four times slower than its SQLite twin. Visibility and isolation are unchanged.
pub async fn create_database() -> (String, String) {
    create_database_from("template1").await
}

/// A new PostgreSQL database with every migration applied, as [`create_database`] makes
/// them: a copy of [`migrated_template`]. The server's start then finds nothing to apply.
/// (Applying the migrations to an empty database is what `link_by_email`'s PostgreSQL
/// test and every SQLite test still do.)
pub async fn create_migrated_database() -> (String, String) {
    create_database_from(migrated_template().await).await
}

async fn create_database_from(template: &str) -> (String, String) {
    let name = format!("portcullis_test_{}", uuid_like());
    admin_sql(&[
        &format!("CREATE DATABASE {name} TEMPLATE {template}"),
        &format!("ALTER DATABASE {name} SET synchronous_commit = off"),
    ])
    .await;
    let url = postgres_url(&name);
    (name, url)
}

fn postgres_url(database: &str) -> String {
    let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
    url.set_path(database);
    url.to_string()
}

/// The name of a database holding the schema the migrations in `migrations/` make, and
/// nothing else: made once (by the product's own `Db::connect`) and kept, named after the
/// migrations' contents, so that a changed migration gets a new one and every later run
/// and test process reuses it. The PostgreSQL half of the integration tests took 153 s of
/// CPU copying it against 165 s applying the migrations each time (2026-12-07). Made under a
/// name of its own and renamed when complete: a test process beside this one never copies
/// a half-migrated schema.
async fn migrated_template() -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            use std::hash::{Hash, Hasher};
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect();
            files.sort();
            let mut hasher = std::hash::DefaultHasher::new();
            for file in &files {
                file.file_name().hash(&mut hasher);
                std::fs::read(file).unwrap().hash(&mut hasher);
            }
            let name = format!("portcullis_template_{:016x}", hasher.finish());
            if !database_exists(&name).await {
                let building = format!("portcullis_building_{}", uuid_like());
                admin_sql(&[&format!("CREATE DATABASE {building}")]).await;
                let db = portcullis::ssr::db::Db::connect(&postgres_url(&building))
                    .await
                    .expect("the migrations apply to an empty PostgreSQL database");
                db.close().await;
                // A database with a session cannot be renamed, and the pool's close can leave
                // the migrator's connection open (seen, idle after `pg_advisory_unlock`, when
                // two test processes built the template at once). The database is this
                // process's alone: whatever is still connected to it is ours and done.
                let renamed = try_admin_sql(&[
                    &format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{building}'"
                    ),
                    &format!("ALTER DATABASE {building} RENAME TO {name}"),
                ])
                .await;
                if renamed.is_err() {
                    // Another test process made it first.
                    assert!(database_exists(&name).await, "{renamed:?}");
                    drop_database(&building).await;
                }
            }
            name
        })
        .await
}

async fn database_exists(name: &str) -> bool {
    let pool = admin_pool().await;
    let found = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&pool)
        .await
        .unwrap();
    pool.close().await;
    found.is_some()
}

/// Drops database `name` (made by [`create_database`]), whoever is still connected.
pub async fn drop_database(name: &str) {
    admin_sql(&[&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")]).await;
}

/// Runs `statements` one by one (`CREATE DATABASE` cannot share a transaction) as the
/// PostgreSQL administrator.
async fn admin_sql(statements: &[&str]) {
    try_admin_sql(statements).await.unwrap();
}

/// [`admin_sql`], up to the first statement that fails: its error.
async fn try_admin_sql(statements: &[&str]) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    let pool = admin_pool().await;
    let result = async {
        for sql in statements {
            pool.execute(*sql).await?;
        }
        Ok(())
    }
    .await;
    pool.close().await;
    result
}

async fn admin_pool() -> sqlx::PgPool {
    sqlx::PgPool::connect(&postgres_admin_url())
        .await
        .expect("PostgreSQL reachable (start it, or set PORTCULLIS_TEST_POSTGRES_URL)")
}

/// Runs one test body against a fresh app; a body that hangs fails after two minutes with
/// its name instead of stalling the whole run.
pub async fn run<F>(backend: Backend, body: F)
where
    F: AsyncFnOnce(&TestApp),
{
    let app = TestApp::spawn(backend).await;
    tokio::time::timeout(std::time::Duration::from_secs(120), body(&app))
        .await
        .expect("test body did not finish within 120 s");
    app.stop().await;
}

/// Runs the same async test (`async fn NAME(app: &TestApp)`) on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            use super::common::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::common::run(Backend::Sqlite, super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::common::run(Backend::Postgres, super::$name).await;
            }
        }
    };
}

/// Runs `async fn NAME(backend: Backend)` (a test that starts its own server, configured
/// its own way) on SQLite and on PostgreSQL, as `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! each_backend {
    ($name:ident) => {
        mod $name {
            use super::common::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(Backend::Postgres).await;
            }
        }
    };
}

/// A link start answers with a page that moves on to the provider by itself (a form post
/// may not redirect to another origin under the pages' CSP); a browser follows its meta
/// refresh. This turns such a page into the redirect it stands for, so tests can follow it
/// like any other; other responses pass through.
pub async fn continue_page_as_redirect(res: Response) -> Response {
    let is_page = res.status() == StatusCode::OK
        && res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"));
    if !is_page {
        return res;
    }
    let body = res.text().await.unwrap();
    let to = quoted_after(&body, "content=\"0;url=")
        .unwrap_or_else(|| panic!("a continue page: {body}"))
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let http = http::Response::builder()
        .status(303)
        .header(reqwest::header::LOCATION, to)
        .body(String::new())
        .unwrap();
    Response::from(http)
}

/// In HTML: the text after `marker` up to the next double quote (an attribute's value when
/// `marker` ends with its opening quote).
pub fn quoted_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    html.split(marker).nth(1)?.split('"').next()
}

/// The provider editor's form as the browser posts it (`draft[<field>]`, checkboxes only when
/// ticked), for `admin/save_provider` and the Test sign-in route. Every field of the draft,
/// by its serialised name, so a new setting is posted without a line here.
pub fn editor_form(
    original_slug: &str,
    d: &portcullis::provider::ProviderDraft,
) -> Vec<(String, String)> {
    draft_form(("original_slug", original_slug), d)
}

/// An editor's form for draft `d` (its fields as `draft[<name>]`, unchecked boxes absent),
/// after `first` (the id of what is edited).
pub fn draft_form(first: (&str, &str), d: &impl serde::Serialize) -> Vec<(String, String)> {
    use serde_json::Value;
    let mut f = vec![(first.0.to_owned(), first.1.to_owned())];
    let Value::Object(fields) = serde_json::to_value(d).unwrap() else {
        panic!("a draft is a set of named fields");
    };
    for (name, value) in fields {
        let value = match value {
            Value::String(text) => text,
            Value::Bool(true) => "true".to_owned(),
            Value::Bool(false) => continue,
            other => panic!("the editor has no field for {name} = {other}"),
        };
        f.push((format!("draft[{name}]"), value));
    }
    f
}
