//! The real OpenID Provider (npm `oidc-provider`), started per test on a free port.

use super::net::free_port;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Idp {
    pub issuer: String,
    child: Child,
    /// The CA that signed the provider's https certificate, for [`Idp::start_tls`].
    ca_pem: Option<String>,
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
        // The port is free when chosen, not when node binds it: another test's provider may
        // take it in between, and then this one's discovery would be answered by that one
        // (whose clients know other redirect URIs). So the provider counts as started only
        // once this child says it listens; one that exits first (the port
        // taken) is started again on another port.
        let (port, child) = 'start: {
            for _ in 0..5 {
                let port = free_port();
                let mut child = Command::new("node")
                    .arg(&script)
                    .env("OIDC_PORT", port.to_string())
                    .env("OIDC_REDIRECT_URIS", redirect_uris.join(","))
                    .envs(env.iter().copied())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("node runs end2end/oidc/provider.mjs (run scripts/setup.sh first)");
                let stdout = child.stdout.take().expect("piped");
                let (said, listening) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    use std::io::BufRead;
                    // Its line once listening ("… listening on …", "… provider on …"); read
                    // to the end, so the child never blocks on a full pipe.
                    for line in std::io::BufReader::new(stdout)
                        .lines()
                        .map_while(Result::ok)
                    {
                        if line.contains(" on http") {
                            let _ = said.send(());
                        }
                    }
                });
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    if listening.try_recv().is_ok() {
                        break 'start (port, child);
                    }
                    if child.try_wait().ok().flatten().is_some() {
                        break;
                    }
                    assert!(Instant::now() < deadline, "oidc-provider did not start");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            panic!("oidc-provider found no free port in 5 tries");
        };
        let tls = env.iter().any(|(k, _)| *k == "OIDC_TLS_CERT");
        let scheme = if tls { "https" } else { "http" };
        let issuer = format!("{scheme}://127.0.0.1:{port}");
        let ca_pem = env
            .iter()
            .find(|(k, _)| *k == "TEST_CA_PEM")
            .map(|(_, v)| v.to_string());
        let idp = Idp {
            issuer,
            child,
            ca_pem,
        };
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
    /// What the provider's last authorization request carried, as it parsed the query
    /// (a repeated parameter as an array).
    pub async fn last_authorization(&self) -> serde_json::Value {
        let url = format!("{}/test/last-authorization", self.issuer);
        let res = self.http().get(url).send().await.unwrap();
        res.json().await.unwrap()
    }

    /// A client for the provider's own test endpoints; nothing in a test waits forever.
    pub fn http(&self) -> reqwest::Client {
        self.trusting(super::client())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    /// `builder` trusting the CA of a provider served over https (a no-op otherwise).
    pub fn trusting(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        match &self.ca_pem {
            Some(pem) => builder
                .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()),
            None => builder,
        }
    }

    /// The provider over https, with `cert`/`key` (PEM files) signed by the CA `ca_pem`.
    pub async fn start_tls(redirect_uris: &[String], cert: &str, key: &str, ca_pem: &str) -> Idp {
        Self::start_script_with(
            "provider.mjs",
            redirect_uris,
            &[
                ("OIDC_TLS_CERT", cert),
                ("OIDC_TLS_KEY", key),
                ("TEST_CA_PEM", ca_pem),
            ],
        )
        .await
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
