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
