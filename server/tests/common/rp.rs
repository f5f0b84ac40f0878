//! A real relying party nobody here wrote: npm `openid-client` (OpenID Certified), run as the
//! small app `end2end/rp/app.mjs`, started per test on a free port the way [`super::idp`]
//! starts `oidc-provider` (waits for `/health`, killed on drop). Its redirect URI is
//! `http://127.0.0.1:<port>/callback`: register it before starting ([`Rp::port`]).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

    /// Starts `end2end/rp/app.mjs` on `port`; it discovers Portcullis at `c.issuer` first.
    pub async fn node(port: u16, c: RpConfig<'_>) -> Rp {
        let script = format!("{}/../end2end/rp/app.mjs", env!("CARGO_MANIFEST_DIR"));
        let child = Command::new("node")
            .arg(script)
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
            .expect("node runs end2end/rp/app.mjs (run scripts/setup.sh first)");
        let rp = Rp {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        let http = reqwest::Client::new();
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
