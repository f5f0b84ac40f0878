//! #13: the OpenID Provider's endpoints as an application meets them, each beside a static
//! file in the same run, on one backend: the authorization request of a person already
//! signed in (answered with a code, a redirect: one row written), the code exchange (the
//! grant, its tokens and the session's record written, the ID token signed) and userinfo
//! (a read). #13m: the resident set once 1,000 refresh tokens are live (they are rows in
//! the database, never held in memory).

use super::op_peer::{code_for, exchange, portcullis_side};
use super::*;

/// Exchanges per round (codes are single use: each round's are fetched before it).
const EXCHANGES: usize = 200;
/// Live refresh tokens for #13m.
const REFRESH_TOKENS: usize = 1000;

/// A row's number and budget: (number, budget as written, least ratio to static, most p99 in
/// ms; the exchange's row has no p99).
type Budget = (&'static str, &'static str, f64, f64);

/// The rows on SQLite (measured 2026-12-06 on an idle machine: 0.31 with p99 10.9 ms, 0.35,
/// 0.89): the redirect writes a code (16 writers take turns at SQLite's one write lock), the
/// exchange signs an RSA-2048 ID token and writes four rows, userinfo reads.
pub(super) const SQLITE: [Budget; 3] = [
    ("13a", "≥ 0.25, p99 ≤ 20 ms", 0.25, 20.0),
    ("13b", "≥ 0.2", 0.2, f64::INFINITY),
    ("13c", "≥ 0.6, p99 ≤ 5 ms", 0.6, 5.0),
];
/// On PostgreSQL every query is a round trip to another process (measured: 0.18 with p99
/// 10.2 ms, 0.21, 0.41 with p99 5.5 ms).
pub(super) const POSTGRES: [Budget; 3] = [
    ("13d", "≥ 0.1, p99 ≤ 30 ms", 0.1, 30.0),
    ("13e", "≥ 0.1", 0.1, f64::INFINITY),
    ("13f", "≥ 0.25, p99 ≤ 15 ms", 0.25, 15.0),
];

/// The three rows (numbered and judged by `budgets`) for the installation `server` on
/// `backend`.
pub(super) async fn endpoints(server: &Server, backend: &str, budgets: [Budget; 3]) -> [Row; 3] {
    let base = &server.base;
    let side = portcullis_side(server, "Endpoints", &[]);
    let cookie = admin_cookie(base).await;
    let b = admin(base).await;

    // The authorization request, signed in: wrk sends the cookie and reads the redirect.
    let authorize = reqwest::Url::parse_with_params(&side.authorize, side.query("openid profile"))
        .unwrap()
        .to_string();
    let code = code_for(&b, &side, "openid profile").await.expect("a code");
    let first = exchange(&b, &side, &code).await.expect("tokens");
    // The reference for every row: a static file of 96 B.
    let static_file = root().join("target/site/pkg/bench-op.txt");
    std::fs::write(&static_file, "ok\n".repeat(32)).unwrap();
    let static_url = format!("{base}/pkg/bench-op.txt");
    let cookie_header = [format!("Cookie: {cookie}")];
    let m = side_by_side(
        || wrk_with(&authorize, 5, &cookie_header),
        || wrk(&static_url, 5),
    );
    let redirect = check_row(
        budgets[0],
        m,
        &format!(
            "authorization request of a signed-in person answered with a code, {backend}, 16 connections"
        ),
        ("static file of 96 B", "static"),
    );

    // The code exchange, one connection: a round of exchanges, then as many static files.
    let (mut exchanges, mut statics) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let mut codes = Vec::with_capacity(EXCHANGES);
        for _ in 0..EXCHANGES {
            codes.push(code_for(&b, &side, "openid profile").await.expect("a code"));
        }
        let began = Instant::now();
        for code in &codes {
            exchange(&b, &side, code).await.expect("tokens");
        }
        exchanges.push(began.elapsed().as_secs_f64() * 1000.0 / EXCHANGES as f64);
        let began = Instant::now();
        for _ in 0..EXCHANGES {
            let res = b.get(&static_url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.bytes().await.unwrap();
        }
        statics.push(began.elapsed().as_secs_f64() * 1000.0 / EXCHANGES as f64);
    }
    let median = |v: Vec<f64>| percentile(&sorted(v), 0.5);
    let (exchange_ms, static_ms) = (median(exchanges), median(statics));
    let ratio = static_ms / exchange_ms;
    let (n, budget, least, _) = budgets[1];
    let code_exchange = Row {
        n,
        what: format!(
            "code exchange (client_secret_basic, PKCE, RS256 ID token), {backend}, one connection, median of 3 rounds of {EXCHANGES}: {exchange_ms:.2} ms each; static file of 96 B {static_ms:.2} ms"
        ),
        figure: format!("{ratio:.2} of static"),
        budget,
        pass: ratio >= least,
    };

    // Userinfo with the access token: wrk sends it.
    let access = first["access_token"].as_str().expect("an access token");
    let bearer = [format!("Authorization: Bearer {access}")];
    let userinfo_url = format!("{base}/oauth2/userinfo");
    let m = side_by_side(
        || wrk_with(&userinfo_url, 5, &bearer),
        || wrk(&static_url, 5),
    );
    let _ = std::fs::remove_file(&static_file);
    let userinfo = check_row(
        budgets[2],
        m,
        &format!("userinfo (Bearer), {backend}, 16 connections"),
        ("static file of 96 B", "static"),
    );
    [redirect, code_exchange, userinfo]
}

/// #13m: `server`'s resident set before and after `REFRESH_TOKENS` sign-ins that each
/// leave a live refresh token.
pub(super) async fn memory_with_refresh_tokens(server: &Server) -> Row {
    let side = portcullis_side(server, "Offline", &["openid", "offline_access"]);
    let b = admin(&server.base).await;
    let mb = |kb: u64| kb as f64 / 1024.0;
    let before = mb(server.rss().0);
    let mut live = 0;
    for _ in 0..REFRESH_TOKENS {
        let code = code_for(&b, &side, "openid offline_access")
            .await
            .expect("a code");
        let body = exchange(&b, &side, &code).await.expect("tokens");
        live += usize::from(body["refresh_token"].is_string());
    }
    let after = mb(server.rss().0);
    Row {
        n: "13m",
        what: format!(
            "server memory with {live} live refresh tokens (SQLite; one sign-in each): resident set {before:.1} MB before, {after:.1} MB after"
        ),
        figure: format!("{after:.1} MB"),
        budget: "≤ 60 MB, all live",
        pass: after <= 60.0 && live == REFRESH_TOKENS,
    }
}

/// `--only=13`: the rows on installations of their own, SQLite then PostgreSQL.
pub(super) async fn alone(tmp: &Path) -> Vec<Row> {
    let sqlite = server(&tmp.join("op-sqlite"), None, &[], "http://127.0.0.1:9", &[]).await;
    let mut rows = Vec::from(endpoints(&sqlite, "SQLite", SQLITE).await);
    rows.push(memory_with_refresh_tokens(&sqlite).await);
    drop(sqlite);
    let (db, url) = fresh_database("portcullis_bench_op");
    let pg = server(
        &tmp.join("op-pg"),
        Some(&url),
        &[],
        "http://127.0.0.1:9",
        &[],
    )
    .await;
    rows.extend(endpoints(&pg, "PostgreSQL", POSTGRES).await);
    drop(pg);
    psql(&format!("DROP DATABASE IF EXISTS {db}"));
    rows
}
