//! A provider whose certificate comes from a private certificate authority (`--ca-file`):
//! the real test provider over https with a certificate from a CA made here. The extra roots
//! are process-wide, so this file is its own test binary and one test: first without the
//! flag (refused, and told about the flag), then with it (discovery and a whole sign-in).

use crate::common;

use common::flow::{add_signed_in, at_provider, draft, enable_oidc, me, start};
use common::idp::Idp;
use common::{Backend, TestApp};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;

struct Pki {
    ca_pem: String,
    cert: String,
    key: String,
}

/// A CA, and a certificate for 127.0.0.1 signed by it, written into `dir`.
fn private_ca(dir: &Path) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Portcullis test homelab CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();

    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let write = |name: &str, pem: &str| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path.display().to_string()
    };
    Pki {
        ca_pem: ca.pem(),
        cert: write("idp.crt", &leaf.pem()),
        key: write("idp.key", &key.serialize_pem()),
    }
}

/// The provider over https with `pki`'s certificate, for provider `homelab` on `app`, and
/// the report of Test connection against it, run by the administrator `root`.
async fn homelab_report(app: &TestApp, pki: &Pki) -> (Idp, Value) {
    let uris = [app.url("/login/homelab")];
    let idp = Idp::start_tls(&uris, &pki.cert, &pki.key, &pki.ca_pem).await;
    assert!(idp.issuer.starts_with("https://"));
    let admin = add_signed_in(app, "root", true).await;
    let res = app
        .call(
            &admin,
            "admin/test_connection",
            &[
                ("issuer_url", &idp.issuer),
                ("scopes", "openid, profile, email"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    (idp, res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_behind_a_private_ca_needs_and_gets_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = private_ca(dir.path());
    let ca_file = dir.path().join("homelab-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();

    // Without the flag: the certificate is not trusted, and the report says what to do.
    let plain = TestApp::spawn(Backend::Sqlite).await;
    let (idp, report) = homelab_report(&plain, &pki).await;
    assert_eq!(report["ok"], false, "{report}");
    let summary = report["summary"].as_str().unwrap();
    assert!(summary.contains("--ca-file"), "{summary}");
    assert!(summary.contains("PORTCULLIS_CA_FILE"), "{summary}");
    plain.stop().await;
    drop(idp);

    // A file that is not a certificate stops the start, naming the flag.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let other = TestApp::spawn(Backend::Sqlite).await;
    let mut config = other.config.clone();
    config.ca_file = Some(junk);
    let err = start_error(&config).await;
    assert!(err.contains("--ca-file"), "{err}");
    assert!(err.contains("no PEM certificate"), "{err}");
    other.stop().await;

    // With it: discovery, and a whole sign-in through the provider.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.ca_file = Some(ca_file.clone())).await;
    let (idp, report) = homelab_report(&app, &pki).await;
    assert_eq!(report["ok"], true, "{report}");

    app.add_provider(draft(&idp.issuer, "homelab", true)).await;
    enable_oidc(&app).await;
    // The browser trusts the homelab CA too, as the homelab's browsers do.
    let browser = idp.trusting(common::browser()).build().unwrap();
    let started = start(&app, &browser, "homelab").await;
    let callback = at_provider(&browser, &app.base, started, "alice").await;
    let done = browser.get(&callback).send().await.unwrap();
    assert!(done.status().is_redirection(), "{}", done.status());
    let who = me(&app, &browser).await.expect("signed in through https");
    assert_eq!(who["username"], "alice", "{who}");
    app.stop().await;
}

/// The error a server start gives with this configuration.
async fn start_error(config: &portcullis_server::config::Config) -> String {
    match portcullis_server::serve::start(config).await {
        Ok(_) => panic!("the server started with a bad --ca-file"),
        Err(e) => format!("{e:#}"),
    }
}
