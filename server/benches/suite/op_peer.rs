//! #12: Portcullis as an OpenID Provider beside a certified peer, npm `oidc-provider`
//! (`end2end/oidc/provider.mjs`), configured alike: one confidential client
//! (`client_secret_basic`), PKCE S256, a person signed in whose grant is remembered. One
//! sign-in is what an application costs the provider each time someone signs in to it: the
//! authorization request answered with a code (a redirect), then the code exchanged at the
//! token endpoint for an ID token and an access token. Each side's cost is its process's own
//! CPU time (user + system, `/proc/<pid>/stat`) over the run divided by the sign-ins, so the
//! load generator's work does not count; memory is each process's resident set after the
//! run. Issue 21's goal: Portcullis spends at most a third of the peer's CPU per sign-in and
//! holds at most a third of its memory.

use super::*;

/// Where codes go; nothing listens there (the benchmark reads the `Location`).
const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// RFC 7636 appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// Sign-ins per round and side; rounds alternate between the sides so that both see the
/// same machine (it is shared and noisy), and each side's figure is its median round.
const SIGN_INS: usize = 300;
const ROUNDS: usize = 3;
/// Sign-ins before the first round, per side.
const WARM_UP: usize = 100;

/// One side: its endpoints, its client and the process to measure.
pub(super) struct Side {
    pub(super) authorize: String,
    pub(super) token: String,
    pub(super) client_id: String,
    pub(super) secret: String,
    pub(super) pid: u32,
}

impl Side {
    /// The authorization request's query for `scope`.
    pub(super) fn query<'a>(&'a self, scope: &'a str) -> [(&'a str, &'a str); 8] {
        [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "bench"),
            ("nonce", "bench"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }
}

/// Portcullis's side: application `name` added as the README shows, a client of
/// `client_secret_basic` that may have `scopes`.
pub(super) fn portcullis_side(server: &Server, name: &str, scopes: &[&str]) -> Side {
    let mut args = vec![
        "app".to_owned(),
        "add".to_owned(),
        format!("--name={name}"),
        format!("--url=https://{}.example", name.to_lowercase()),
        format!("--redirect-uri={REDIRECT}"),
        "--client-auth=basic".to_owned(),
    ];
    args.extend(scopes.iter().map(|s| format!("--scope={s}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli(&server.store, &args, None);
    let field = |prefix: &str| {
        let at = out
            .find(prefix)
            .unwrap_or_else(|| panic!("{prefix} in {out}"));
        out[at + prefix.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    Side {
        authorize: format!("{}/oauth2/authorize", server.base),
        token: format!("{}/oauth2/token", server.base),
        client_id: field("client ID:"),
        secret: field("(shown only this once):"),
        pid: server.pid(),
    }
}

/// CPU time (user + system) process `pid` has used, in ms: the sum over its threads of the
/// time each has run (`/proc/<pid>/task/<tid>/schedstat`'s first field, in nanoseconds).
/// `/proc/<pid>/stat` counts in ticks of 10 ms, and a round of 300 sign-ins at about 1 ms
/// each is only 30 of them: one tick more or less moved the figure by 3 %. Both sides keep
/// their threads through a round (tokio's workers and SQLite's connections; Node's), so
/// none that ends mid-round takes its time with it.
fn cpu_ms(pid: u32) -> f64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    let ns: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e6
}

/// The resident set of process `pid`, in KB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The `code` in a redirect to [`REDIRECT`].
fn code_in(location: &str) -> Option<String> {
    let url = reqwest::Url::parse(location).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
}

/// One sign-in at `side` as the signed-in browser `b`, for the usual scopes.
async fn sign_in(b: &Client, side: &Side) -> Result<(), String> {
    let code = code_for(b, side, "openid profile").await?;
    exchange(b, side, &code).await.map(|_| ())
}

/// The authorization request for `scope` as the signed-in browser `b`: its redirects
/// followed within the provider (logging in at the peer's own form the first time) to the
/// code. `Err` says what went wrong.
pub(super) async fn code_for(b: &Client, side: &Side, scope: &str) -> Result<String, String> {
    let mut res = b
        .get(&side.authorize)
        .query(&side.query(scope))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    for _ in 0..10 {
        if res.status() == StatusCode::OK && res.url().path().starts_with("/interaction/") {
            // The peer's own login form (devInteractions), once per browser.
            let form = [("prompt", "login"), ("login", "alice"), ("password", "any")];
            let url = res.url().clone();
            res = b
                .post(url)
                .form(&form)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            continue;
        }
        let location = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(format!("{} answered {}", res.url(), res.status()))?
            .to_owned();
        let next = res.url().join(&location).map_err(|e| e.to_string())?;
        if next.as_str().starts_with(REDIRECT) {
            return code_in(next.as_str()).ok_or("no code".into());
        }
        res = b.get(next).send().await.map_err(|e| e.to_string())?;
    }
    Err("no code after 10 redirects".into())
}

/// `code` exchanged at `side`'s token endpoint: the token response.
pub(super) async fn exchange(
    b: &Client,
    side: &Side,
    code: &str,
) -> Result<serde_json::Value, String> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let token = b
        .post(&side.token)
        .basic_auth(&side.client_id, Some(&side.secret))
        .form(&form)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = token.status();
    let body: serde_json::Value = token.json().await.map_err(|e| e.to_string())?;
    if status != StatusCode::OK || body["id_token"].as_str().is_none() {
        return Err(format!("token endpoint: {status} {body}"));
    }
    Ok(body)
}

/// Warms `side` up in browser `b` (the peer's JIT, both sides' caches and connections).
async fn warm_up(b: &Client, side: &Side) {
    for _ in 0..WARM_UP {
        sign_in(b, side).await.expect("warm-up sign-in");
    }
}

/// `SIGN_INS` sign-ins at `side` in browser `b`: (CPU ms per sign-in, failures).
async fn round(b: &Client, side: &Side) -> (f64, usize) {
    let before = cpu_ms(side.pid);
    let mut failed = 0;
    for _ in 0..SIGN_INS {
        if let Err(e) = sign_in(b, side).await {
            eprintln!("#12: {e}");
            failed += 1;
        }
    }
    ((cpu_ms(side.pid) - before) / SIGN_INS as f64, failed)
}

pub(super) async fn beside_oidc_provider(data: &Path) -> Row {
    // Portcullis: an installation of its own, the client added as the README shows.
    let mine = server(data, None, &[], "http://127.0.0.1:9", &[]).await;
    let ours = portcullis_side(&mine, "Bench", &[]);
    let b = admin(&mine.base).await;

    // The peer, on its own port, with the same redirect URI.
    let port = free_port();
    let peer = node(
        "oidc/provider.mjs",
        &[
            ("OIDC_PORT", port.to_string()),
            ("OIDC_REDIRECT_URIS", REDIRECT.to_owned()),
        ],
    )
    .await;
    let issuer = format!("http://127.0.0.1:{port}");
    wait_ok(&format!("{issuer}/.well-known/openid-configuration")).await;
    let theirs = Side {
        authorize: format!("{issuer}/auth"),
        token: format!("{issuer}/token"),
        client_id: "portcullis-basic".into(),
        secret: "basic-secret".into(),
        pid: peer.child.id(),
    };
    let peer_browser = client();
    warm_up(&b, &ours).await;
    warm_up(&peer_browser, &theirs).await;
    let (mut our_rounds, mut peer_rounds) = (Vec::new(), Vec::new());
    let (mut our_failed, mut peer_failed) = (0, 0);
    for _ in 0..ROUNDS {
        let (cpu, failed) = round(&b, &ours).await;
        our_rounds.push(cpu);
        our_failed += failed;
        let (cpu, failed) = round(&peer_browser, &theirs).await;
        peer_rounds.push(cpu);
        peer_failed += failed;
    }
    let median = |rounds: Vec<f64>| percentile(&sorted(rounds), 0.5);
    let (our_cpu, peer_cpu) = (median(our_rounds), median(peer_rounds));
    let mb = |pid| rss_kb(pid) as f64 / 1024.0;
    let (our_mb, peer_mb) = (mb(ours.pid), mb(theirs.pid));
    drop(peer);

    let (cpu, mem) = (our_cpu / peer_cpu, our_mb / peer_mb);
    Row {
        n: "12",
        what: format!(
            "OpenID Provider, one sign-in (authorization request to code, code exchange; median of {ROUNDS} alternated rounds of {SIGN_INS} each, PKCE, client_secret_basic, a remembered grant) beside npm oidc-provider configured alike: CPU per sign-in Portcullis {our_cpu:.2} ms, oidc-provider {peer_cpu:.2} ms; resident set {our_mb:.1} MB and {peer_mb:.1} MB; failures {our_failed} and {peer_failed}"
        ),
        figure: format!("CPU {cpu:.2}×, memory {mem:.2}× the peer's"),
        budget: "≤ 0.33× each, no failure",
        pass: cpu <= 1.0 / 3.0 && mem <= 1.0 / 3.0 && our_failed + peer_failed == 0,
    }
}
