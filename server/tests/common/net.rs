//! Small network helpers shared by the tests and the benchmark suite (which includes this
//! file with `#[path]`).

/// A port nothing listens on right now (the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The requests the test provider at `issuer` has answered since the last call, by path
/// (its `/stats` endpoint, which starts counting again).
pub async fn take_stats(http: &reqwest::Client, issuer: &str) -> serde_json::Value {
    http.get(format!("{issuer}/stats?reset=1"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()
}

/// The session cookie (`name=value`) a sign-in's response sets.
pub fn session_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("portcullis_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}
