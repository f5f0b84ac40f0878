//! The real OpenID Provider (npm `oidc-provider`), started per test on a free port.

use super::net::free_port;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Idp {
    pub issuer: String,
    child: Child,
}

impl Idp {
    /// Starts the provider; its clients accept `redirect_uris`.
    pub async fn start(redirect_uris: &[String]) -> Idp {
        Self::start_script("provider.mjs", redirect_uris).await
    }

    /// Starts `end2end/oidc/<script>` (e.g. the misbehaving provider).
    pub async fn start_script(script: &str, redirect_uris: &[String]) -> Idp {
        Self::start_script_with(script, redirect_uris, &[]).await
    }

    /// [`Idp::start_script`] with extra environment variables for the script.
    pub async fn start_script_with(
        script: &str,
        redirect_uris: &[String],
        env: &[(&str, &str)],
    ) -> Idp {
        let script = format!("{}/../end2end/oidc/{script}", env!("CARGO_MANIFEST_DIR"));
        let port = free_port();
        let child = Command::new("node")
            .arg(script)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_REDIRECT_URIS", redirect_uris.join(","))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs end2end/oidc/provider.mjs (run scripts/setup.sh first)");
        let issuer = format!("http://127.0.0.1:{port}");
        let idp = Idp { issuer, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("{}/.well-known/openid-configuration", idp.issuer);
        loop {
            if let Ok(r) = idp.http().get(&url).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "oidc-provider did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        idp
    }
}

impl Idp {
    /// A client for the provider's own test endpoints; nothing in a test waits forever.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
