//! Forward authentication through REAL reverse proxies: Debian's Caddy (`forward_auth`) and
//! nginx (`auth_request`), configured as the README shows (end2end/proxy/start.mjs reads the
//! configurations from it), in front of a small echo application, all on loopback. Host
//! names resolve to 127.0.0.1 in the HTTP client only (no /etc/hosts): Portcullis at
//! `auth.portcullis.test`, sharing the session through `--cookie-domain portcullis.test`
//! with the applications:
//!
//! - `app.portcullis.test`: "Echo", for alice only (listed);
//! - `open.portcullis.test`: "Open" for every signed-in user, with "Open admin" at `/admin`
//!   and "Tasks" at `/tasks` for administrators;
//! - `secret.portcullis.test`: "Secret", for administrators; on port 1 (which no proxy
//!   listens on) "Side door", for everyone.
//!
//! The attack corpus (`corpus`) sends raw HTTP/1.1 requests (nothing normalises them on the
//! way) as alice, who is not an administrator, and checks that the application never
//! answers her for a request it could read as `/admin`, `/tasks` or the secret host.

use crate::common;

use common::flow::raw_location;
use common::net::free_port;
use common::{Backend, TestApp};
use portcullis::apps::AppDraft;
use reqwest::header::ACCEPT;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOST: &str = "app.portcullis.test";
/// Every signed-in user, but `/admin` and `/tasks` are for administrators.
const OPEN: &str = "open.portcullis.test";
/// Administrators only.
const SECRET: &str = "secret.portcullis.test";

struct Bench {
    app: TestApp,
    auth: String,
    caddy: String,
    nginx: String,
    caddy_port: u16,
    nginx_port: u16,
    _proxies: Proxies,
}

/// The Node process running echo, Caddy and nginx; killed (closing its stdin too, which
/// makes it stop Caddy and nginx) when dropped.
struct Proxies(Child);

impl Drop for Proxies {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn bench(backend: Backend) -> Bench {
    let port = free_port();
    let app = TestApp::spawn_with(backend, |c| {
        c.listen = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_url = Some(
            format!("http://auth.portcullis.test:{port}")
                .parse()
                .unwrap(),
        );
        c.cookie_domain = Some("portcullis.test".into());
        c.trusted_proxies = vec![portcullis::ssr::client_ip::parse_net("127.0.0.1").unwrap()];
    })
    .await;
    let (caddy, nginx, echo) = (free_port(), free_port(), free_port());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/proxy/start.mjs");
    let mut proxies = Command::new("node")
        .arg(script)
        .args(["--portcullis", &format!("http://127.0.0.1:{port}")])
        .args(["--caddy", &caddy.to_string()])
        .args(["--nginx", &nginx.to_string()])
        .args(["--echo", &echo.to_string()])
        .args(["--hosts", &format!("{HOST},{OPEN},{SECRET}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs end2end/proxy/start.mjs");
    let mut line = String::new();
    BufReader::new(proxies.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("\"ready\":true"), "proxies: {line}");
    // Each application is reached through both proxies.
    let both = |host: &str, path: &str| {
        format!("http://{host}:{caddy}{path}\nhttp://{host}:{nginx}{path}")
    };
    for (name, urls, access, users) in [
        ("Echo", both(HOST, ""), "listed", "alice"),
        ("Open", both(OPEN, ""), "users", ""),
        ("Open admin", both(OPEN, "/admin"), "admins", ""),
        // Typed encoded, as an administrator may paste it: it must still cover `/tasks`.
        ("Tasks", both(OPEN, "/t%61sks"), "admins", ""),
        ("Secret", both(SECRET, ""), "admins", ""),
        // The secret host on another port, for everyone: Caddy routes by the host alone,
        // so a client's `Host: secret…:1` reaches the Secret site and must be judged as it.
        ("Side door", format!("http://{SECRET}:1"), "users", ""),
    ] {
        app.add_app(AppDraft {
            name: name.into(),
            urls,
            access: access.into(),
            users: users.into(),
            // Echo also takes personal access tokens (`tokens_through_caddy_and_nginx`).
            allow_tokens: name == "Echo",
            ..AppDraft::default()
        })
        .await;
    }
    app.add_user("alice", "alice password", false).await;
    app.add_user("bob", "bob password", false).await;
    app.add_user("root", "root password", true).await;
    Bench {
        app,
        auth: format!("http://auth.portcullis.test:{port}"),
        caddy: format!("http://{HOST}:{caddy}"),
        nginx: format!("http://{HOST}:{nginx}"),
        caddy_port: caddy,
        nginx_port: nginx,
        _proxies: Proxies(proxies),
    }
}

impl Bench {
    /// The proxies first (they hold connections to the server), then the server.
    async fn stop(self) {
        let Bench { app, _proxies, .. } = self;
        drop(_proxies);
        app.stop().await;
    }
}

/// A browser for which every `*.portcullis.test` name is this machine.
fn browser() -> Client {
    let lo: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    common::browser()
        .resolve(HOST, lo)
        .resolve("auth.portcullis.test", lo)
        .resolve("other.portcullis.test", lo)
        .build()
        .unwrap()
}

async fn sign_in(b: &Bench, client: &Client, name: &str, next: &str) -> reqwest::Response {
    client
        .post(format!("{}/api/auth/login", b.auth))
        .header(ACCEPT, "application/json")
        .form(&[
            ("identifier", name),
            ("password", &format!("{name} password")),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

/// GET `url` with `headers` (identity headers a client forges).
async fn get_with(client: &Client, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = client.get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

async fn through_proxy(b: &Bench, front: &str) {
    let asked = format!("{front}/library/show?id=3&q=a%20b");
    let alice = browser();

    // Signed out: to Portcullis's login page, carrying the exact URL.
    let res = alice.get(&asked).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "{front}");
    let next: String = url::form_urlencoded::byte_serialize(asked.as_bytes()).collect();
    assert_eq!(raw_location(&res), format!("{}/login?next={next}", b.auth));

    // Signing in there sends the browser back to that URL; the session cookie is shared.
    let res = sign_in(b, &alice, "alice", &asked).await;
    assert_eq!(res.status(), StatusCode::OK, "{front}");
    assert_eq!(
        res.headers().get("location").unwrap().to_str().unwrap(),
        asked
    );
    let forged = [("Remote-User", "root"), ("Remote-Groups", "admins")];
    let res = get_with(&alice, &asked, &forged).await;
    assert_eq!(res.status(), StatusCode::OK, "{front}");
    let echoed: Value = res.json().await.unwrap();
    let h = &echoed["headers"];
    assert_eq!(echoed["url"], "/library/show?id=3&q=a%20b");
    assert_eq!(h["remote-user"], "alice", "{front}: {h}");
    assert_eq!(h["remote-name"], "alice display");
    assert_eq!(h["remote-email"], "alice@example.com");
    // alice has no groups: the client's Remote-Groups is gone (not passed on, or empty).
    assert_eq!(
        h["remote-groups"].as_str().unwrap_or(""),
        "",
        "{front}: {h}"
    );

    // Someone not listed: 403 from Portcullis, shown by the proxy; the app sees nothing.
    let bob = browser();
    sign_in(b, &bob, "bob", "/").await;
    let res = get_with(&bob, &asked, &[("Remote-User", "alice")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "{front}");
    assert!(!res.text().await.unwrap().contains("remote-user"));

    // Signed out: no way in anywhere.
    let out = alice
        .post(format!("{}/api/auth/logout", b.auth))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    let res = get_with(&alice, &asked, &[("Remote-User", "alice")]).await;
    assert_eq!(res.status(), StatusCode::FOUND, "{front}: signed out");
}

/// The app gets its own cookies as the browser sent them, and none of Portcullis's, wherever
/// the session's stands among them (`breach` checks the corpus for Portcullis's).
async fn apps_keep_their_own_cookies(backend: Backend) {
    let b = bench(backend).await;
    let session = session_cookie(&b, "alice").await;
    for port in [b.caddy_port, b.nginx_port] {
        for (sent, kept) in [
            (format!("{session}; theme=dark"), "theme=dark"),
            (format!("theme=dark; {session}"), "theme=dark"),
            (format!("a=1; {session}; b=2"), "a=1; b=2"),
            (format!("myportcullis_x=1; {session}"), "myportcullis_x=1"),
            (format!("portcullis_x=1; a=1; {session}"), "a=1"),
        ] {
            let request = format!(
                "GET / HTTP/1.1\r\nHost: {OPEN}:{port}\r\nCookie: {sent}\r\nConnection: close\r\n\r\n"
            );
            let seen = raw(port, request.as_bytes()).await;
            let Seen::App(v) = &seen else {
                panic!("{port}: {sent}: {seen:?}");
            };
            assert_eq!(
                v["headers"]["cookie"].as_str(),
                Some(kept),
                "{port}: {sent}"
            );
        }
    }
}

each_backend!(apps_keep_their_own_cookies);

async fn caddy_and_nginx(backend: Backend) {
    let b = bench(backend).await;
    through_proxy(&b, &b.caddy).await;
    through_proxy(&b, &b.nginx).await;
    // A host nginx has no server block for: its default server drops the connection
    // (444), so no application's check is asked about a host the client chose, even for a
    // signed-in user. (Portcullis refuses hosts it does not know as well: forward_auth.rs.)
    let client = browser();
    sign_in(&b, &client, "alice", "/").await;
    let unknown = b.nginx.replace(HOST, "other.portcullis.test");
    let res = client.get(&unknown).send().await;
    assert!(res.is_err(), "dropped, not answered: {res:?}");
    b.stop().await;
}

each_backend!(caddy_and_nginx);

/// A script with a personal access token gets through both proxies as the token's owner,
/// with its `Authorization` passed on to the application untouched; a made-up, revoked or
/// another user's token does not.
async fn tokens_through_caddy_and_nginx(backend: Backend) {
    let b = bench(backend).await;
    let db = &b.app.running.db;
    let echo = portcullis::ssr::apps::find(db, "Echo")
        .await
        .unwrap()
        .unwrap();
    let draft = |apps: Vec<String>| portcullis::tokens::TokenDraft {
        name: "script".into(),
        expires_in_days: "30".into(),
        apps,
    };
    let user_id = |name: &'static str| async move {
        portcullis::ssr::users::find_by_identifier(db, name)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let valid = draft(vec![echo.id.clone()]).validate().unwrap();
    let (alice_token, token) = portcullis::ssr::tokens::create(
        db,
        &user_id("alice").await,
        &valid,
        true,
        &common::by_cli(),
    )
    .await
    .unwrap();
    // bob is not listed for Echo: his token names it, but he may not open it.
    let (_, bobs) =
        portcullis::ssr::tokens::create(db, &user_id("bob").await, &valid, true, &common::by_cli())
            .await
            .unwrap();
    // nginx turns the check's 401 into its redirect to the login page: there a token that
    // is not valid is refused with 403 instead.
    let fronts = [
        (&b.caddy, StatusCode::UNAUTHORIZED),
        (&b.nginx, StatusCode::FORBIDDEN),
    ];
    for (front, invalid) in fronts {
        let url = format!("{front}/api/items?page=2");
        let bearer = format!("Bearer {token}");
        let res = get_with(&browser(), &url, &[("Authorization", &bearer)]).await;
        assert_eq!(res.status(), StatusCode::OK, "{front}");
        let echoed: Value = res.json().await.unwrap();
        let h = &echoed["headers"];
        assert_eq!(h["remote-user"], "alice", "{front}: {h}");
        assert_eq!(h["authorization"], bearer.as_str(), "{front}: passed on");
        // An identity header the client forges beside a token: the proxy drops it, the
        // application sees the token's owner.
        let res = get_with(
            &browser(),
            &url,
            &[("Authorization", &bearer), ("Remote-User", "root")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{front}: forged header");
        let echoed: Value = res.json().await.unwrap();
        assert_eq!(echoed["headers"]["remote-user"], "alice", "{front}");
        for (auth, status) in [
            ("Bearer pc_pat_madeup".to_owned(), invalid),
            (format!("Bearer {bobs}"), StatusCode::FORBIDDEN),
        ] {
            let res = get_with(&browser(), &url, &[("Authorization", &auth)]).await;
            assert_eq!(res.status(), status, "{front}: {auth}");
            assert!(!res.text().await.unwrap().contains("remote-user"));
        }
    }
    portcullis::ssr::tokens::revoke(db, &alice_token.id, None, &common::by_cli())
        .await
        .unwrap();
    for (front, invalid) in fronts {
        let bearer = format!("Bearer {token}");
        let res = get_with(&browser(), front, &[("Authorization", &bearer)]).await;
        assert_eq!(res.status(), invalid, "{front}: revoked");
    }
    b.stop().await;
}

each_backend!(tokens_through_caddy_and_nginx);

// ---------------------------------------------------------------------------------------
// The README's configurations are the ones shipped: deploy/Caddyfile's sample is the
// README's Caddy block (start.mjs reads the README's blocks for the proxies above itself).

/// The README's first fenced block of `lang`.
fn readme_block(lang: &str) -> String {
    let readme = include_str!("../../README.md");
    let open = format!("\n```{lang}\n");
    let start = readme
        .find(&open)
        .unwrap_or_else(|| panic!("README.md has no ```{lang} block"))
        + open.len();
    let end = start + readme[start..].find("\n```\n").expect("the block ends");
    readme[start..=end].to_owned()
}

/// The shipped Caddyfiles load in Caddy, and Portcullis's own site answers no browser at
/// the forward-auth check (the proxies reach it directly): nobody can ask through the
/// public site which hosts and paths are applications.
#[test]
fn deploy_caddyfiles_load_and_keep_the_check_to_the_proxies() {
    for file in ["Caddyfile", "Caddyfile.replicas"] {
        let path = format!("{}/../deploy/{file}", env!("CARGO_MANIFEST_DIR"));
        let out = std::process::Command::new("caddy")
            .args(["adapt", "--adapter", "caddyfile", "--config", &path])
            .env("PORTCULLIS_DOMAIN", "auth.example")
            .output()
            .expect("caddy runs");
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = json.to_string();
        // The two check paths exactly: `/api/v1/forward-auth/continue` is a browser's page.
        let refused = r#"{"handle":[{"handler":"static_response","status_code":404}],"match":[{"path":["/api/v1/forward-auth","/api/v1/forward-auth/nginx"]}]}"#;
        assert!(
            text.contains(refused),
            "{file}: the check's paths, and only they, are refused on Portcullis's site: {text}"
        );
        assert!(!text.contains("forward-auth*"), "{file}: {text}");
    }
}

#[test]
fn deploy_caddyfile_is_the_readme_configuration() {
    let deploy = include_str!("../../deploy/Caddyfile");
    // The sample, commented out: from `# {$APP_DOMAIN} {` to the `# }` that closes it.
    let lines: Vec<&str> = deploy.lines().collect();
    let first = lines
        .iter()
        .position(|l| *l == "# {$APP_DOMAIN} {")
        .expect("deploy/Caddyfile has the sample app's site");
    let last = first
        + lines[first..]
            .iter()
            .position(|l| *l == "# }")
            .expect("the sample site ends");
    let sample: String = lines[first..=last]
        .iter()
        .map(|l| {
            let l = l.strip_prefix('#').expect("the sample is commented out");
            format!("{}\n", l.strip_prefix(' ').unwrap_or(l))
        })
        .collect();
    // The documented substitutions: the app's host name and its upstream.
    let sample = sample
        .replace("{$APP_DOMAIN}", "sonarr.home.example")
        .replace("reverse_proxy whoami:80", "reverse_proxy sonarr:8989");
    assert_eq!(
        sample,
        readme_block("caddyfile"),
        "deploy/Caddyfile's forward_auth sample differs from the README's Caddy block"
    );
}

// ---------------------------------------------------------------------------------------
// Raw requests: written to the proxy's socket byte for byte.

/// What came back for one raw request.
#[derive(Debug)]
enum Seen {
    /// The echo application answered: what it received (method, url, headers).
    App(Value),
    /// Someone else answered: the status, and who (Portcullis's page, or the proxy's own).
    Refused(u16, &'static str),
    /// The connection closed without an answer (nginx's 444).
    Dropped,
}

impl Seen {
    /// The `Remote-User` the application was given, when it answered.
    fn user(&self) -> Option<&str> {
        match self {
            Seen::App(v) => v["headers"]["remote-user"].as_str(),
            _ => None,
        }
    }

    fn label(&self) -> String {
        match self {
            Seen::App(v) => format!(
                "200 app as {} (url {})",
                self.user().unwrap_or("nobody"),
                v["url"].as_str().unwrap_or("?")
            ),
            Seen::Refused(status, by) => format!("{status} {by}"),
            Seen::Dropped => "dropped".into(),
        }
    }
}

/// Sends `request` as is to 127.0.0.1:`port` and reads the answer.
async fn raw(port: u16, request: &[u8]) -> Seen {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    // A reset after the answer (or instead of one) is fine: what was read counts.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut out),
    )
    .await
    .expect("the proxy answers or closes within 20 s");
    if out.is_empty() {
        return Seen::Dropped;
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    if status == 200
        && let Ok(v) = serde_json::from_str::<Value>(&body)
        && v.get("headers").is_some()
    {
        return Seen::App(v);
    }
    let by = if body.contains("<main><h1>") {
        "Portcullis"
    } else if head.contains("Server: nginx") || body.contains("nginx") {
        "nginx"
    } else if status == 200 && body.is_empty() {
        // Caddy answers a host none of its sites names with an empty 200.
        "empty (no site)"
    } else {
        "Caddy"
    };
    Seen::Refused(status, by)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A signed-in session's cookie (`name=value`), for raw requests.
async fn session_cookie(b: &Bench, name: &str) -> String {
    let client = common::no_redirects()
        .resolve("auth.portcullis.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let res = sign_in(b, &client, name, "/").await;
    assert_eq!(res.status(), StatusCode::OK, "{name} signs in");
    crate::common::net::session_cookie(&res)
}

// ---------------------------------------------------------------------------------------
// How an application could read a path: every way the corpus's spellings have been read
// as another path by some server, framework or file system (decoding once or twice, `%u`,
// overlong UTF-8, compatibility forms and case folding, `;` parameters, backslashes, dot
// segments, trailing dots and whitespace, NUL and everything after it, a raw `#`).

fn pct_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            // IIS's %uXXXX.
            if i + 5 < s.len() && (s[i + 1] == b'u' || s[i + 1] == b'U') {
                let digits = std::str::from_utf8(&s[i + 2..i + 6]).unwrap_or("");
                if let Some(c) = u32::from_str_radix(digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += 6;
                    continue;
                }
            }
            if i + 2 < s.len()
                && let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2]))
            {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Bytes as text the lenient way: overlong two-byte forms (`C0 AF` = `/`) read as the
/// character they encode, anything else invalid replaced.
fn lenient_utf8(bytes: &[u8]) -> String {
    let mut fixed = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], 0xC0 | 0xC1) && i + 1 < bytes.len() && bytes[i + 1] & 0xC0 == 0x80 {
            fixed.push(((bytes[i] & 0x1F) << 6) | (bytes[i + 1] & 0x3F));
            i += 2;
        } else {
            fixed.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&fixed).into_owned()
}

/// Compatibility forms and Unicode case folds an app may compare as ASCII.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
        '\u{212A}' => 'k',              // Kelvin sign
        '\u{017F}' => 's',              // long s
        '\u{0131}' | '\u{0130}' => 'i', // dotless i, dotted capital I
        '\u{2024}' => '.',              // one dot leader
        '\u{2215}' | '\u{2044}' => '/', // division slash, fraction slash
        '\u{FE68}' => '\\',             // small reverse solidus
        c => c.to_ascii_lowercase(),
    }
}

/// The first path segment an app could read, by one reading (query already cut off).
fn first_segment(path: &str, cut_fragment: bool) -> String {
    // U+2025 (two dot leader) is `..` under compatibility mapping.
    let mut path: String = path.replace('\u{2025}', "..").chars().map(fold).collect();
    if cut_fragment && let Some(i) = path.find('#') {
        path.truncate(i);
    }
    if let Some(i) = path.find('?') {
        path.truncate(i);
    }
    if let Some(i) = path.find('\0') {
        path.truncate(i);
    }
    let path = path.replace('\\', "/");
    let mut stack: Vec<String> = Vec::new();
    for seg in path.split('/') {
        let seg = seg.split(';').next().unwrap_or("");
        match seg {
            "." => {}
            ".." => {
                stack.pop();
            }
            s => {
                let s = s.trim_matches(|c: char| {
                    c.is_whitespace()
                        || c.is_control()
                        // Invisible: zero-width spaces and joiners, marks, soft hyphen, BOM.
                        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{00AD}' | '\u{FEFF}')
                });
                let s = s.trim_end_matches(['.', ' ']);
                if !s.is_empty() {
                    stack.push(s.to_owned());
                }
            }
        }
    }
    // A script segment before the rest (`/index.php/admin`: PHP front controllers, ASP.NET
    // handlers and CGI scripts route on `PATH_INFO`).
    let script = |s: &String| {
        let s = s.to_ascii_lowercase();
        [
            ".php", ".php5", ".phtml", ".asp", ".aspx", ".asmx", ".ashx", ".svc", ".cgi", ".pl",
        ]
        .iter()
        .any(|ext| s.len() > ext.len() && s.ends_with(ext))
    };
    if let Some(last) = stack.pop() {
        stack.retain(|s| !script(s));
        stack.push(last);
    }
    // A format suffix on the only segment (Rails routes `/admin(.:format)`, whatever the
    // format's characters; Spring's suffix patterns took `/admin.a.b` too).
    if let [only] = stack.as_mut_slice()
        && let Some((name, _)) = only.split_once('.')
        && !name.is_empty()
    {
        *only = name.to_owned();
    }
    stack.into_iter().next().unwrap_or_default()
}

/// Whether some app could read the request URI `uri` (as it received it) as a path under
/// `/admin` or `/tasks`.
fn readable_as_protected(uri: &str) -> Option<String> {
    let path = uri.split('?').next().unwrap_or("");
    let once = pct_decode(path.as_bytes());
    let twice = pct_decode(&once);
    for reading in [path.as_bytes().to_vec(), once, twice] {
        // As UTF-8, and as Latin-1 (servlet containers' old default: `%a0` is a space).
        let latin1: String = reading.iter().map(|&b| b as char).collect();
        for text in [lenient_utf8(&reading), latin1] {
            for cut in [true, false] {
                let first = first_segment(&text, cut);
                if first == "admin" || first == "tasks" {
                    return Some(format!("{text:?} -> /{first}"));
                }
            }
        }
    }
    None
}

/// A host header's name part, as an app compares it.
fn host_name(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name.to_owned(),
        _ => host,
    };
    name.trim_end_matches('.').to_owned()
}

/// What must never happen: the app answering the non-administrator for something it could
/// read as an administrators' path or as the secret host. `None` when all is well.
fn breach(seen: &Seen, user: &str) -> Option<String> {
    let Seen::App(v) = seen else { return None };
    if seen.user() != Some(user) {
        return None;
    }
    // Which application the proxy routed to (one echo per host, see echo.mjs).
    if v["app"] != OPEN {
        return Some(format!("the proxy routed to the app of {}", v["app"]));
    }
    let url = v["url"].as_str().unwrap_or("");
    if let Some(how) = readable_as_protected(url) {
        return Some(format!("the app got {url:?}, readable as {how}"));
    }
    for header in ["host", "x-forwarded-host"] {
        if let Some(h) = v["headers"][header].as_str()
            && host_name(h) != OPEN
        {
            return Some(format!("the app got {header}: {h:?}"));
        }
    }
    // Portcullis's cookies stay with Portcullis: an app that logs or shows its requests
    // never holds a Portcullis session (anyone's, an administrator's).
    if let Some(cookies) = v["headers"]["cookie"].as_str()
        && cookies.split(';').any(|c| {
            let c = c.trim();
            let c = c
                .strip_prefix("__Secure-")
                .or(c.strip_prefix("__Host-"))
                .unwrap_or(c);
            c.starts_with("portcullis_")
        })
    {
        return Some(format!("the app got Portcullis's cookie: {cookies:?}"));
    }
    // WebDAV's `Destination` names a URL the app writes to: never one she may not open.
    if let Some(dest) = v["headers"]["destination"].as_str() {
        let (host, path) = match dest.split_once("://") {
            Some((_, rest)) => rest.split_at(rest.find('/').unwrap_or(rest.len())),
            None => ("", dest),
        };
        if (!host.is_empty() && host_name(host) != OPEN) || readable_as_protected(path).is_some() {
            return Some(format!("the app got destination: {dest:?}"));
        }
    }
    // The request line is the only URL the app may read: no header that names another
    // reaches it (frameworks route on them), in any spelling; and no upgrade but WebSocket
    // (a tunnel past the check).
    if let Some(headers) = v["headers"].as_object() {
        for (name, value) in headers {
            if url_header(name) {
                return Some(format!("the app got the client's {name}: {value}"));
            }
            let upgrade = name.eq_ignore_ascii_case("upgrade")
                && !value
                    .as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
            if upgrade || name.eq_ignore_ascii_case("http2-settings") {
                return Some(format!("the app got {name}: {value}"));
            }
        }
    }
    None
}

/// A header an app may read its URL (or a part of it) from instead of the request line, in
/// any case and with `_` for `-`; the proxies in front of the echo app set none of these
/// themselves (their `X-Forwarded-Host`, `-Proto` and `-For` are judged above or harmless).
fn url_header(name: &str) -> bool {
    let n: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    n == "forwarded"
        || n.starts_with("x-original-")
        || n.starts_with("x-rewrite-")
        || matches!(
            n.strip_prefix("x-forwarded-"),
            Some("uri" | "url" | "path" | "prefix" | "method")
        )
        || n.ends_with("script-name")
        || n.starts_with("x-accel-")
        || n.starts_with("x-sendfile")
        || (n != name.to_ascii_lowercase() && n.starts_with("x-forwarded-"))
}

#[test]
fn the_readings_catch_what_they_should() {
    for protected in [
        "/admin",
        "/ADMIN/x",
        "/%61dmin",
        "/%2561dmin",
        "/x/..%2fadmin",
        "/%u0061dmin",
        "/%ef%bd%81dmin",
        "/x/..%c0%afadmin",
        "/admin%00.css",
        "/admin%20",
        "/admin.",
        "/;x/admin",
        "/x\\..\\admin",
        "/x#/../admin",
        "/ta%c5%bfks",
        "/tas%e2%84%aas",
        "/adm%c4%b1n",
        "/adm%c4%b0n",
        "/ADM%C4%B0N",
        "/admin.json",
        "/admin%3fx",
        "//admin",
        "/admin%a0",
    ] {
        assert!(readable_as_protected(protected).is_some(), "{protected}");
    }
    for open in [
        "/",
        "/admin-panel",
        "/files/a%20b",
        "/x?next=/admin",
        "/search?q=%2Fadmin",
        "/administrator",
        "/admin-panel.json",
        "/x/admin",
    ] {
        assert_eq!(readable_as_protected(open), None, "{open}");
    }
}

// ---------------------------------------------------------------------------------------
// The corpus.

/// What a spelling must come to for alice (signed in, not an administrator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// An app could read it as `/admin`, `/tasks` or the secret host: never answered as
    /// alice (any refusal, from Portcullis or the proxy, or a dropped connection).
    Refused,
    /// A legitimate request to the open app: answered as alice, the URI passed on as sent.
    Passes,
    /// Either, as long as nothing is answered as alice that she may not see (`breach`).
    Either,
}

struct Case {
    class: &'static str,
    /// The request line's target, as sent: a path (origin form) or an absolute URL.
    target: String,
    /// The `Host` header(s) sent, in order (none for an HTTP/1.0 request without one).
    hosts: Vec<String>,
    /// More header lines, as sent.
    extra: Vec<String>,
    expect: Expect,
}

impl Case {
    fn request(&self, cookie: &str) -> Vec<u8> {
        let mut r = format!("GET {} HTTP/1.1\r\n", self.target).into_bytes();
        for h in &self.hosts {
            r.extend_from_slice(format!("Host: {h}\r\n").as_bytes());
        }
        for e in &self.extra {
            r.extend_from_slice(format!("{e}\r\n").as_bytes());
        }
        r.extend_from_slice(format!("Cookie: {cookie}\r\nConnection: close\r\n\r\n").as_bytes());
        r
    }
}

/// The spellings, for the proxy listening on `port`: the bypass classes of issue 18 and of
/// published advisories (Traefik's encoded-character and `%2e%2e` routing bypasses,
/// oauth2-proxy's `X-Forwarded-Uri` spoofing and `#` fragment widening, Authelia's
/// malformed-URI bypass behind nginx, Tomcat's `..;`, IIS's `%u` and trailing dots).
fn corpus(port: u16) -> Vec<Case> {
    use Expect::*;
    let open = format!("{OPEN}:{port}");
    let secret = format!("{SECRET}:{port}");
    let path = |class: &'static str, target: &str, expect: Expect| Case {
        class,
        target: target.to_owned(),
        hosts: vec![open.clone()],
        extra: vec![],
        expect,
    };
    let mut cases = vec![
        path("plain", "/admin", Refused),
        path("plain", "/admin/", Refused),
        path("plain", "/admin/x", Refused),
        path("plain", "/tasks", Refused),
        path("legitimate", "/", Passes),
        path("legitimate", "/admin-panel", Passes),
        path("legitimate", "/files/a%20b", Passes),
        path("legitimate", "/files/caf%C3%A9", Passes),
        path("legitimate", "/search?q=%2Fadmin&r=..%2F", Passes),
        path("legitimate", "/x?next=/admin", Passes),
        path("legitimate", "/files/100%25", Either),
        path("case", "/ADMIN", Refused),
        path("case", "/Admin/x", Refused),
        path("case", "/TASKS", Refused),
        path("encoded letter", "/%61dmin", Refused),
        path("encoded letter", "/adm%69n/x", Refused),
        path("encoded letter", "/%41DMIN", Refused),
        path("encoded letter", "/%61%64%6d%69%6e", Refused),
        path("encoded letter", "/%61%64%6D%69%6E", Refused),
        path("encoded letter", "/t%61sks", Refused),
        path("encoded ;", "/admin%3bx", Refused),
        path("encoded ;", "/admin%3Bx", Refused),
        path("encoded whitespace", "/admin%20", Refused),
        path("encoded whitespace", "/admin%09", Refused),
        path("encoded whitespace", "/admin%0b", Refused),
        path("encoded whitespace", "/admin%0c", Refused),
        path("encoded whitespace", "/admin%0d%0a", Refused),
        path("encoded whitespace", "/admin%a0", Refused),
        path("encoded whitespace", "/admin%c2%a0", Refused),
        path("encoded whitespace", "/%20admin", Refused),
        path("encoded whitespace", "/admin%20/x", Refused),
        path("double encoding", "/%2561dmin", Refused),
        path("double encoding", "/x/..%252fadmin", Refused),
        path("double encoding", "/x/%252e%252e/admin", Refused),
        path("encoded / \\ .", "/admin%2f", Refused),
        path("encoded / \\ .", "/%2fadmin", Refused),
        path("encoded / \\ .", "/x/..%2fadmin", Refused),
        path("encoded / \\ .", "/x%2f..%2fadmin", Refused),
        path("encoded / \\ .", "/x/..%5cadmin", Refused),
        path("encoded / \\ .", "/x/%2e%2e/admin", Refused),
        path("encoded / \\ .", "/x/%2E%2E/admin", Refused),
        path("encoded / \\ .", "/x/.%2e/admin", Refused),
        path("encoded / \\ .", "/%2e/admin", Refused),
        path("dot segments", "/x/../admin", Refused),
        path("dot segments", "/./admin", Refused),
        path("dot segments", "/admin/.", Refused),
        path("dot segments", "/x/..", Either),
        path("dot segments", "/x/..;/admin", Refused),
        path("//", "//admin", Refused),
        path("//", "/x//../admin", Refused),
        path("//", "/admin//x", Refused),
        path("; params", "/admin;x", Refused),
        path("; params", "/;/admin", Refused),
        path("; params", "/admin;/x", Refused),
        path("raw \\", "/x\\..\\admin", Refused),
        path("raw \\", "/\\admin", Refused),
        path("encoded ? #", "/admin%3f", Refused),
        path("encoded ? #", "/admin%3fx=1", Refused),
        path("encoded ? #", "/admin%23", Refused),
        path("raw #", "/x#/../admin", Refused),
        path("raw #", "/admin#x", Refused),
        path("NUL", "/admin%00", Refused),
        path("NUL", "/admin%00.css", Refused),
        path("overlong UTF-8", "/x/..%c0%afadmin", Refused),
        path("overlong UTF-8", "/x/%c0%ae%c0%ae/admin", Refused),
        path("%u", "/%u0061dmin", Refused),
        path("%u", "/adm%u0069n", Refused),
        path("fullwidth", "/%ef%bd%81dmin", Refused),
        path("fullwidth", "/\u{ff41}dmin", Refused),
        path("compat . / ..", "/x/%ef%bc%8e%ef%bc%8e/admin", Refused),
        path("compat . / ..", "/x%ef%bc%8f..%ef%bc%8fadmin", Refused),
        path("compat . / ..", "/x/%e2%80%a5/admin", Refused),
        path("compat . / ..", "/x/\u{ff0e}\u{ff0e}/admin", Refused),
        path("Unicode case", "/ta%c5%bfks", Refused),
        path("Unicode case", "/tas%e2%84%aas", Refused),
        path("Unicode case", "/adm%c4%b1n", Refused),
        path("Unicode case", "/adm%c4%b0n", Refused),
        path("Unicode case", "/ADM%C4%B0N", Refused),
        path("format suffix", "/admin.json", Refused),
        path("format suffix", "/tasks.xml", Refused),
        path("format suffix", "/admin.json/", Refused),
        path("format suffix", "/admin.x-y", Refused),
        path("format suffix", "/tasks.a.b", Refused),
        path("format suffix", "/admin%20.json", Refused),
        path("script segment", "/index.php/admin", Refused),
        path("script segment", "/Index.PHP/tasks/x", Refused),
        path("Windows alias", "/ADMINI~1/x", Either),
        path("script segment", "/x.cgi/admin", Refused),
        path("Windows alias", "/admin::$DATA", Refused),
        path("Windows alias", "/(S(x))/admin", Refused),
        path("invisible", "/admin%e2%80%8b", Refused),
        path("invisible", "/%e2%80%8badmin", Refused),
        path("invisible", "/admin%ef%bb%bf", Refused),
        path("invisible", "/admin%c2%ad", Refused),
        path("trailing dot", "/admin.", Refused),
        path("trailing dot", "/admin../x", Refused),
        path("trailing dot", "/admin%2e", Refused),
        path("malformed", "/admin%", Refused),
        path("malformed", "/admin%zz", Refused),
        path("malformed", "/%zzadmin", Refused),
        path("malformed", "/admin{x}", Either),
        path("malformed", "/admin|x", Either),
        path("malformed", "/admin%ff", Either),
    ];
    // The host: the request line's against the Host header, spellings of the secret host,
    // and headers a client sets to make the check judge another host or path.
    let mut host =
        |class: &'static str, target: String, hosts: Vec<String>, extra: Vec<String>, expect| {
            cases.push(Case {
                class,
                target,
                hosts,
                extra,
                expect,
            });
        };
    host(
        "absolute form",
        format!("http://{secret}/"),
        vec![open.clone()],
        vec![],
        Refused,
    );
    host(
        "absolute form",
        format!("http://{secret}/x"),
        vec![open.clone()],
        vec![],
        Refused,
    );
    host(
        "absolute form",
        format!("http://{}/", secret.to_uppercase()),
        vec![open.clone()],
        vec![],
        Refused,
    );
    host(
        "absolute form",
        format!("http://{open}/admin"),
        vec![open.clone()],
        vec![],
        Refused,
    );
    host(
        "absolute form",
        format!("http://{open}@{secret}/"),
        vec![open.clone()],
        vec![],
        Refused,
    );
    host(
        "absolute form",
        format!("http://{open}/"),
        vec![secret.clone()],
        vec![],
        Either,
    );
    host(
        "Host header",
        "/".into(),
        vec![secret.to_uppercase()],
        vec![],
        Refused,
    );
    host(
        "Host header",
        "/".into(),
        vec![format!("{SECRET}.:{port}")],
        vec![],
        Refused,
    );
    host(
        "Host header",
        "/".into(),
        vec![format!("{SECRET}:1")],
        vec![],
        Refused,
    );
    host(
        "Host header",
        "/".into(),
        vec![SECRET.into()],
        vec![],
        Refused,
    );
    host(
        "Host header",
        "/".into(),
        vec![open.clone(), secret.clone()],
        vec![],
        Refused,
    );
    host(
        "Host header",
        "/".into(),
        vec![secret.clone(), open.clone()],
        vec![],
        Refused,
    );
    host(
        "Host header",
        "/".into(),
        vec![format!("{open}@{secret}")],
        vec![],
        Either,
    );
    // URL headers: the check judges `/`; an app that reads one of these would serve
    // `/admin`. Dropped by the proxy or refused by the check, never passed on (`breach`).
    for header in [
        "X-Original-URL: /admin",
        "X-Original-Url: http://{open}/admin",
        "x-original-url: /admin",
        "X_Original_URL: /admin",
        "X-Rewrite-URL: /admin",
        "X_REWRITE_URL: /admin",
        "X-Original-URI: /admin",
        "X-Forwarded-Uri: /admin",
        "X_Forwarded_Uri: /admin",
        "X-Forwarded-Prefix: /admin",
        "X-Forwarded-Path: /admin",
        "X-Forwarded-Url: http://{open}/admin",
        "X_Forwarded_Host: {secret}",
        "X.Rewrite.URL: /admin",
        "X-Original.URL: /admin",
        "X~Forwarded~Prefix: /admin",
        "X-Script-Name: /x",
        "Forwarded: host={secret};proto=http",
        // Rack's Sendfile read these from the request: the path it answers with, for the
        // proxy to serve instead.
        "X-Accel-Mapping: .*=/admin",
        "X-Sendfile-Type: X-Accel-Redirect",
    ] {
        let header = header.replace("{open}", &open).replace("{secret}", &secret);
        host(
            "URL headers",
            "/".into(),
            vec![open.clone()],
            vec![header],
            Either,
        );
    }
    // An app's answer that the proxy would follow to another path (nginx serves the path of
    // an `X-Accel-Redirect`, judged as the first URL again): the app is served the URL the
    // check judged.
    host(
        "app redirect",
        "/files?x-accel-redirect=/admin".into(),
        vec![open.clone()],
        vec![],
        Passes,
    );
    // Portcullis's session cookie among the app's own (`breach`: it never reaches the app),
    // and one planted beside it (the check may then find no session: refused or not, it
    // stays with Portcullis).
    for (cookies, expect) in [
        ("Cookie: theme=dark", Passes),
        ("Cookie: a=1; portcullis_session=planted; b=2", Either),
        ("Cookie: __Secure-portcullis_session=planted", Either),
    ] {
        host(
            "cookies",
            "/".into(),
            vec![open.clone()],
            vec![cookies.to_owned()],
            expect,
        );
    }
    // WebDAV's `Destination` (COPY, MOVE write there): judged as the request line, in the
    // same application or refused.
    for (dest, expect) in [
        ("/admin/x", Refused),
        ("http://{open}/admin", Refused),
        ("http://{open}/%61dmin/x", Refused),
        ("http://{open}/x/..%2fadmin", Refused),
        ("http://{secret}/x", Refused),
        ("/files/b", Passes),
        ("http://{open}/files/b", Passes),
    ] {
        let dest = dest.replace("{open}", &open).replace("{secret}", &secret);
        host(
            "destination",
            "/files/a".into(),
            vec![open.clone()],
            vec![format!("Destination: {dest}")],
            expect,
        );
    }
    // A protocol upgrade other than WebSocket opens a tunnel to the app after one check
    // (h2c: HTTP/2 requests inside it reach the app unchecked): refused, or not passed on
    // (nginx passes no `Upgrade`; `breach`).
    for headers in [
        &[
            "Connection: Upgrade, HTTP2-Settings",
            "Upgrade: h2c",
            "HTTP2-Settings: AAMAAABkAAQAAP__",
        ][..],
        &["Connection: Upgrade", "Upgrade: h2c"],
        &["Connection: Upgrade", "Upgrade: websocket, h2c"],
    ] {
        let headers = headers.iter().map(|h| h.to_string()).collect();
        host("upgrade", "/".into(), vec![open.clone()], headers, Either);
    }
    host(
        "upgrade",
        "/admin".into(),
        vec![open.clone()],
        vec![
            "Connection: Upgrade".into(),
            "Upgrade: websocket".into(),
            "Sec-WebSocket-Version: 13".into(),
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".into(),
        ],
        Refused,
    );
    host(
        "forwarded headers",
        "/".into(),
        vec![secret.clone()],
        vec![
            format!("X-Forwarded-Host: {open}"),
            format!("X-Original-URL: http://{open}/"),
            "X-Forwarded-Uri: /".into(),
            "X-Forwarded-Proto: http".into(),
        ],
        Refused,
    );
    host(
        "forwarded headers",
        "/admin".into(),
        vec![open.clone()],
        vec![
            format!("X-Original-URL: http://{open}/"),
            "X-Forwarded-Uri: /".into(),
        ],
        Refused,
    );
    host(
        "forwarded headers",
        "/".into(),
        vec![open.clone()],
        vec![
            format!("X-Forwarded-Host: {secret}"),
            format!("Forwarded: host={secret}"),
        ],
        Either,
    );
    cases
}

async fn attack(b: &Bench, backend: Backend) {
    let alice = session_cookie(b, "alice").await;
    let root = session_cookie(b, "root").await;
    let mut breaches = Vec::new();
    let mut unmet = Vec::new();
    for (proxy, port) in [("Caddy", b.caddy_port), ("nginx", b.nginx_port)] {
        // Controls: the administrator reaches what alice may not, and alice the open app.
        for (target, host) in [("/admin/x", OPEN), ("/tasks", OPEN), ("/", SECRET)] {
            let case = Case {
                class: "control",
                target: target.into(),
                hosts: vec![format!("{host}:{port}")],
                extra: vec![],
                expect: Expect::Passes,
            };
            let seen = raw(port, &case.request(&root)).await;
            assert_eq!(
                seen.user(),
                Some("root"),
                "{proxy} {host}{target}: {seen:?}"
            );
        }
        let cases = corpus(port);
        let mut table = format!(
            "\n{proxy} ({backend:?}), {} spellings, as alice (not an administrator):\n",
            cases.len()
        );
        for case in &cases {
            let seen = raw(port, &case.request(&alice)).await;
            let shown = format!(
                "{} {}{}",
                String::from_utf8_lossy(case.target.as_bytes()),
                if case.hosts == [format!("{OPEN}:{port}")] {
                    String::new()
                } else {
                    format!("[Host: {}]", case.hosts.join(", "))
                },
                if case.extra.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", case.extra.join("; "))
                }
            );
            let mut verdict = "";
            if let Some(why) = breach(&seen, "alice") {
                breaches.push(format!("{proxy}: {shown}: {why}"));
                verdict = "  <-- BREACH";
            }
            let met = match case.expect {
                Expect::Refused => seen.user() != Some("alice"),
                Expect::Passes => {
                    seen.user() == Some("alice")
                        && (case.target.starts_with("http")
                            || matches!(&seen, Seen::App(v) if v["url"] == case.target.as_str()))
                }
                Expect::Either => true,
            };
            if !met {
                unmet.push(format!(
                    "{proxy}: {shown}: expected {:?}, got {}",
                    case.expect,
                    seen.label()
                ));
                if verdict.is_empty() {
                    verdict = "  <-- UNEXPECTED";
                }
            }
            table.push_str(&format!(
                "  {:<20} {:<58} {}{verdict}\n",
                case.class,
                shown,
                seen.label()
            ));
        }
        eprintln!("{table}");
    }
    assert!(
        breaches.is_empty() && unmet.is_empty(),
        "{} breaches:\n{}\n{} unmet expectations:\n{}",
        breaches.len(),
        breaches.join("\n"),
        unmet.len(),
        unmet.join("\n")
    );
}

async fn attack_corpus(backend: Backend) {
    let b = bench(backend).await;
    attack(&b, backend).await;
    b.stop().await;
}

each_backend!(attack_corpus);

/// Identity headers the client sends never reach the application, in any spelling: alice
/// has no groups (Portcullis has no `Remote-Groups` to give, so a proxy that only copies
/// the answer would leave the client's in place), and the underscore spellings are what
/// CGI, FastCGI and WSGI apps read as `REMOTE_USER` too.
async fn forged_identity(backend: Backend) {
    let b = bench(backend).await;
    let alice = session_cookie(&b, "alice").await;
    let forged = [
        "Remote-User: root",
        "Remote_User: root",
        "REMOTE-USER: root",
        "remote_user: root",
        "Remote-Name: Root",
        "Remote_Name: Root",
        "Remote-Email: root@example.com",
        "Remote_Email: root@example.com",
        "Remote-Groups: admins",
        "Remote_Groups: admins",
        "REMOTE_GROUPS: admins",
        "remote-groups: admins",
    ];
    for (proxy, port) in [("Caddy", b.caddy_port), ("nginx", b.nginx_port)] {
        // A header named in `Connection` is hop-by-hop: a proxy removes it on the way to
        // the app, the copied identity headers too. Refused, or the app has them all.
        let case = Case {
            class: "unnamed identity",
            target: "/library".into(),
            hosts: vec![format!("{OPEN}:{port}")],
            extra: vec!["Connection: keep-alive, Remote-User, remote-name".into()],
            expect: Expect::Either,
        };
        let seen = raw(port, &case.request(&alice)).await;
        eprintln!(
            "{proxy}, identity headers named in Connection: {}",
            seen.label()
        );
        if let Seen::App(v) = &seen {
            assert_eq!(v["headers"]["remote-user"], "alice", "{proxy}: {v}");
            assert_eq!(v["headers"]["remote-name"], "alice display", "{proxy}: {v}");
        }
        // The client's address is the connection's: apps skip their own login for local
        // addresses (Sonarr, Home Assistant), so one the client wrote never reaches them.
        let case = Case {
            class: "forged address",
            target: "/library".into(),
            hosts: vec![format!("{OPEN}:{port}")],
            extra: vec![
                "X-Forwarded-For: 10.9.8.7".into(),
                "X-Real-IP: 10.9.8.7".into(),
            ],
            expect: Expect::Either,
        };
        let seen = raw(port, &case.request(&alice)).await;
        eprintln!("{proxy}, a forged client address: {}", seen.label());
        if let Seen::App(v) = &seen {
            assert!(
                !v["headers"].to_string().contains("10.9.8.7"),
                "{proxy}: {v}"
            );
        }
        // Other separators (PHP reads `Remote.User` as `HTTP_REMOTE_USER` too): dropped by
        // the proxy or refused by the check, never passed on.
        for forged in [
            "Remote.User: root",
            "Remote~Groups: admins",
            "REMOTE.GROUPS: admins",
        ] {
            let case = Case {
                class: "forged identity",
                target: "/library".into(),
                hosts: vec![format!("{OPEN}:{port}")],
                extra: vec![forged.into()],
                expect: Expect::Either,
            };
            let seen = raw(port, &case.request(&alice)).await;
            eprintln!("{proxy}, {forged}: {}", seen.label());
            if let Seen::App(v) = &seen {
                for name in v["headers"].as_object().unwrap().keys() {
                    let n = name.to_ascii_lowercase();
                    assert!(
                        !n.starts_with("remote") || n.starts_with("remote-"),
                        "{proxy}: {name}"
                    );
                }
            }
        }
        for signed_in in [true, false] {
            let case = Case {
                class: "forged identity",
                target: "/library?id=1".into(),
                hosts: vec![format!("{OPEN}:{port}")],
                extra: forged.iter().map(|s| s.to_string()).collect(),
                expect: Expect::Passes,
            };
            let cookie = if signed_in { alice.as_str() } else { "x=y" };
            let seen = raw(port, &case.request(cookie)).await;
            eprintln!(
                "{proxy}, forged Remote-*/Remote_* headers, signed in {signed_in}: {}",
                seen.label()
            );
            if !signed_in {
                assert!(
                    matches!(seen, Seen::Refused(302, _)),
                    "{proxy}: signed out, forged headers get nobody in: {seen:?}"
                );
                continue;
            }
            let Seen::App(v) = &seen else {
                panic!("{proxy}: alice reaches the open app: {seen:?}")
            };
            let h = v["headers"].as_object().unwrap();
            assert_eq!(h["remote-user"], "alice", "{proxy}: {h:?}");
            assert_eq!(h["remote-name"], "alice display", "{proxy}: {h:?}");
            assert_eq!(
                h.get("remote-email")
                    .and_then(Value::as_str)
                    .unwrap_or("alice@example.com"),
                "alice@example.com",
                "{proxy}: {h:?}"
            );
            assert_eq!(
                h.get("remote-groups").and_then(Value::as_str).unwrap_or(""),
                "",
                "{proxy}: alice has no groups: {h:?}"
            );
            for (name, value) in h {
                let name = name.to_ascii_lowercase();
                assert!(
                    !url_header(&name),
                    "{proxy}: the client's {name}: {value} reached the app"
                );
                assert!(
                    !name.starts_with("remote_") && !name.starts_with("remote."),
                    "{proxy}: the client's {name}: {value} reached the app"
                );
                let value = value.to_string();
                // Caddy writes its unreplaced placeholder for a header the answer lacks.
                assert!(!value.contains("{http."), "{proxy}: {name}: {value}");
                assert!(
                    !(name.starts_with("remote")
                        && (value.contains("root") || value.contains("admins"))),
                    "{proxy}: the client's {name}: {value} reached the app"
                );
            }
        }
    }
    b.stop().await;
}

each_backend!(forged_identity);
