//! What reaches the log from outside: the real binary serving, its log read as an operator
//! would. A value a client chose (a path segment, a header) cannot start a line of its own.

use crate::common;

use common::net::free_port;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `%0a` in the back-channel route's provider slug (decoded by the router) is logged
/// escaped, inside its field, never as a forged line.
#[tokio::test]
async fn a_decoded_newline_cannot_forge_a_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env("PORTCULLIS_LOG", "info")
        .env("PORTCULLIS_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = crate::common::http();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let res = http
        .post(format!(
            "{base}/api/v1/oidc/x%0aFORGED%20admin%20signed%20in%0d/backchannel-logout"
        ))
        .form(&[("logout_token", "a.b.c")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
    // Log lines are written (line-buffered) as they happen; stop the server and read them all.
    server.kill().unwrap();
    let _ = server.wait();
    let mut log = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("logout token refused"), "{log}");
    assert!(log.contains(r#"x\nFORGED admin signed in\r"#), "{log}");
    for line in log.lines() {
        assert!(!line.starts_with("FORGED"), "forged line: {line:?}\n{log}");
    }
}
