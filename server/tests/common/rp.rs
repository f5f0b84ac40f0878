//! Real relying parties nobody here wrote, as small apps with the same routes: npm
//! `openid-client` (OpenID Certified; `end2end/rp/app.mjs`) and Python `authlib` with
//! `joserfc` (`end2end/rp/app.py`, in the venv `scripts/setup.sh` makes), started per test on
//! a free port the way [`super::idp`] starts `oidc-provider` (waits for `/health`, killed on
//! drop). Its redirect URI is `http://127.0.0.1:<port>/callback`: register it before
//! starting ([`Rp::port`]).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which relying party.
#[derive(Debug, Clone, Copy)]
pub enum RpKind {
    /// npm `openid-client` (`app.mjs`).
    OpenidClient,
    /// Python `authlib` + `joserfc` (`app.py`).
    Authlib,
}

pub struct Rp {
    pub base: String,
    child: Child,
}

/// What the relying party is configured with.
pub struct RpConfig<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub secret: &'a str,
    /// `basic`, `post` or `none`.
    pub auth: &'a str,
    pub scope: &'a str,
    pub id_token_alg: &'a str,
}

impl Rp {
    /// A port for the relying party, and its redirect URI there.
    pub fn port() -> (u16, String) {
        let port = super::net::free_port();
        (port, format!("http://127.0.0.1:{port}/callback"))
    }

    /// Starts relying party `kind` on `port`; it discovers Portcullis at `c.issuer` first.
    pub async fn start(kind: RpKind, port: u16, c: RpConfig<'_>) -> Rp {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/rp");
        let mut command = match kind {
            RpKind::OpenidClient => {
                let mut c = Command::new("node");
                c.arg(format!("{dir}/app.mjs"));
                c
            }
            RpKind::Authlib => {
                let mut c = Command::new(format!("{dir}/.venv/bin/python"));
                c.arg(format!("{dir}/app.py"));
                c
            }
        };
        let child = command
            .env("RP_PORT", port.to_string())
            .env("RP_ISSUER", c.issuer)
            .env("RP_CLIENT_ID", c.client_id)
            .env("RP_CLIENT_SECRET", c.secret)
            .env("RP_AUTH", c.auth)
            .env("RP_SCOPE", c.scope)
            .env("RP_ID_TOKEN_ALG", c.id_token_alg)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the relying party starts (run scripts/setup.sh first)");
        let rp = Rp {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        let http = super::http();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/health", rp.base)).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "the relying party did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        rp
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Rp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
