//! The demo as the README promises it: the real `scripts/demo.sh` (its own identity provider,
//! provider registration and server), run with the debug binary on free ports and a
//! temporary data directory, then "Sign in with Demo IdP" as alice over HTTP.

use crate::common;

use common::flow::{at_provider, location};
use common::net::free_port;
use common::quoted_after;
use reqwest::header::ACCEPT;
use reqwest::{Client, StatusCode};
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const LIFETIME: &str = "60";

/// `scripts/demo.sh` running in its own process group, which is killed when this is dropped
/// (a failing test leaves nothing behind). `timeout` also ends the group after
/// [`LIFETIME`], should the test process itself be killed (Ctrl-C on `cargo test`).
struct Demo {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Demo {
    /// Starts the script as a newcomer would, minus the setup and the release build.
    fn start() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let log = File::create(dir.path().join("demo.log")).unwrap();
        let port = free_port();
        let mut command = Command::new("timeout");
        command
            .args(["-k", "5", LIFETIME, "bash"])
            .arg(format!("{ROOT}/scripts/demo.sh"));
        // Only what the test sets: no PORTCULLIS_* of the environment the tests run in.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PORTCULLIS_") || key == "LEPTOS_SITE_ROOT" {
                command.env_remove(key);
            }
        }
        command
            .env("PORTCULLIS_DEMO_SKIP_BUILD", "1")
            .env("PORTCULLIS_BIN", env!("CARGO_BIN_EXE_portcullis"))
            .env("PORTCULLIS_DATA_DIR", dir.path().join("data"))
            .env("PORTCULLIS_DEMO_PORT", port.to_string())
            .env("PORTCULLIS_DEMO_IDP_PORT", free_port().to_string())
            .env("PORTCULLIS_DEMO_ICONS_PORT", free_port().to_string())
            // The repository's sample, so the icon catalogue step runs too (tests read no file
            // outside the repository).
            .env(
                "PORTCULLIS_DEMO_ICONS_DIR",
                format!("{ROOT}/fixtures/selfhst"),
            )
            .env("PORTCULLIS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        let child = command
            .spawn()
            .expect("timeout and bash run scripts/demo.sh");
        Demo {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    /// What the script and its processes printed, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("demo.log")).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until the server answers `/healthz`; fails at once if the script exits.
    async fn ready(&mut self, http: &Client) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("demo.sh exited ({status}) before serving:\n{}", self.log());
            }
            if let Ok(res) = http.get(self.url("/healthz")).send().await
                && res.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the demo did not answer within 15 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the demo as Ctrl-C in a terminal does (a signal to the whole group, here
    /// SIGTERM) and checks that the script, its identity provider, icon server and
    /// Portcullis are all gone within 10 s.
    fn stop(mut self) {
        signal("TERM", &self.group());
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the demo still runs 10 s after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Exited children may stay a moment as zombies (state Z) until whoever inherits them
        // reaps them: those are not running. Anything else must be gone by the deadline.
        while !self.running_members().is_empty() {
            assert!(
                Instant::now() < deadline,
                "demo.sh exited but left processes of its group running:\n{}\n{}",
                self.members(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The members of the group that still run (not zombies).
    fn running_members(&self) -> Vec<String> {
        self.members()
            .lines()
            .filter(|l| !l.split_whitespace().nth(2).unwrap_or("").starts_with('Z'))
            .map(str::to_owned)
            .collect()
    }

    /// The processes left in the group, for failure messages.
    fn members(&self) -> String {
        let ps = Command::new("ps")
            .args(["-e", "-o", "pid=,pgid=,stat=,args="])
            .output()
            .unwrap();
        let pgid = self.child.id().to_string();
        String::from_utf8_lossy(&ps.stdout)
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(pgid.as_str()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The process group (`timeout` and everything under it), as `kill` takes it.
    fn group(&self) -> String {
        format!("-{}", self.child.id())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        signal("KILL", &self.group());
        let _ = self.child.wait();
    }
}

/// A browser's navigation to `url`.
async fn html(browser: &Client, url: &str) -> reqwest::Response {
    browser
        .get(url)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap()
}

/// `kill -s <sig> -- <target>`; whether a process got it.
fn signal(sig: &str, target: &str) -> bool {
    Command::new("kill")
        .args(["-s", sig, "--", target])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_demo_idp_as_alice() {
    let mut demo = Demo::start();
    let browser = crate::common::browser()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let signed_in = tokio::time::timeout(Duration::from_secs(30), async {
        demo.ready(&browser).await;
        // "Open http://127.0.0.1:3000": the login page, with the button; the browser follows
        // the button's link.
        let home = html(&browser, &demo.url("/")).await;
        assert!(home.status().is_redirection(), "/: {}", home.status());
        let page = html(&browser, &location(&home)).await;
        assert_eq!(page.status(), StatusCode::OK, "{}", page.url());
        let page = page.text().await.unwrap();
        let button = page
            .find("Sign in with Demo IdP")
            .unwrap_or_else(|| panic!("no \"Sign in with Demo IdP\" on the login page:\n{page}"));
        let anchor = &page[page[..button].rfind("<a ").unwrap()..button];
        let href = quoted_after(anchor, "href=\"")
            .unwrap()
            .replace("&amp;", "&");
        let start = browser.get(demo.url(&href)).send().await.unwrap();
        let callback = at_provider(&browser, &demo.base, start, "alice").await;
        let done = browser.get(&callback).send().await.unwrap();
        assert!(
            done.status().is_redirection(),
            "the callback: {}",
            done.status()
        );
        let me = browser
            .get(demo.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            me.status(),
            StatusCode::OK,
            "not signed in after the callback (sent to {}):\n{}",
            location(&done),
            demo.log()
        );
        let me: serde_json::Value = me.json().await.unwrap();
        assert_eq!(me["username"], "alice", "{me}");
    })
    .await;
    assert!(
        signed_in.is_ok(),
        "the demo sign-in took over 30 s:\n{}",
        demo.log()
    );
    drop(browser);
    demo.stop();
}
