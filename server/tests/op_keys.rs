//! The OpenID Provider's signing keys (issue 21, slice 1): sealed at rest, one per algorithm
//! however many replicas start at once, `keys rotate` publishing before signing, and
//! `keys rotate --now`.

use crate::common;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Backend, Fresh, TestApp};
use portcullis::ssr::clock;
use portcullis::ssr::db::Db;
use portcullis::ssr::op::keys::{DEFAULT_ROTATE_AFTER, KeyInfo, RETIRED_PUBLISHED};
use portcullis::ssr::op::signer::{Alg, OpSigningKey};
use portcullis::ssr::secrets::SecretBox;
use portcullis_server::serve;
use serde_json::Value;
use std::collections::BTreeSet;

/// The kids the server publishes now.
async fn published(app_url: &str) -> BTreeSet<String> {
    let jwks: Value = reqwest::get(format!("{app_url}/oauth2/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn signing(app: &TestApp) -> BTreeSet<String> {
    Alg::ALL
        .iter()
        .map(|a| app.running.op_keys.signing(*a).kid().to_owned())
        .collect()
}

fn list(app: &TestApp) -> Vec<KeyInfo> {
    let run = app.cli(&["keys", "list", "--json"]);
    assert!(run.ok, "{}", run.text());
    serde_json::from_str(&run.stdout).unwrap()
}

fn kids(keys: &[KeyInfo], state: &str) -> BTreeSet<String> {
    keys.iter()
        .filter(|k| k.state == state)
        .map(|k| k.kid.clone())
        .collect()
}

/// The private key column holds a sealed value: not the key, opened only with this secret
/// key and this row's kid; a server with another secret key refuses to start rather than
/// make keys of its own.
async fn sealed_at_rest(app: &TestApp) {
    let rows: Vec<(String, String, String)> = portcullis::on_pool!(&app.running.db,
        pool => sqlx::query_as("SELECT kid, alg, private_enc FROM op_signing_keys")
            .fetch_all(pool)
            .await)
    .unwrap();
    assert_eq!(rows.len(), 2);
    let secrets = app.config.secrets().unwrap();
    let other_box = SecretBox::from_base64(&B64.encode([7u8; 32])).unwrap();
    for (kid, alg, sealed) in &rows {
        assert!(sealed.starts_with("v1:"), "{sealed}");
        let pkcs8_b64 = secrets.decrypt(sealed, &format!("op-key:{kid}")).unwrap();
        let der = B64.decode(&pkcs8_b64).unwrap();
        let key = OpSigningKey::load(Alg::parse(alg).unwrap(), &der, kid).unwrap();
        assert_eq!(key.kid(), kid);
        assert!(
            !sealed.contains(&pkcs8_b64),
            "the key is stored in the clear"
        );
        // Any 16-byte stretch of the key, base64 at any alignment, would show a plaintext copy.
        for start in 0..3 {
            let piece = B64.encode(&der[start + 40..start + 52]);
            assert!(!sealed.contains(&piece));
        }
        let (other_kid, ..) = rows.iter().find(|(k, ..)| k != kid).unwrap();
        assert!(
            secrets
                .decrypt(sealed, &format!("op-key:{other_kid}"))
                .is_err()
        );
        assert!(other_box.decrypt(sealed, &format!("op-key:{kid}")).is_err());
    }

    let mut config = app.config.clone();
    config.secret_key = Some(B64.encode([7u8; 32]));
    let err = serve::start(&config)
        .await
        .err()
        .expect("a server with another secret key does not start");
    assert!(format!("{err:#}").contains("another secret key"), "{err:#}");
    let n: i64 = portcullis::on_pool!(&app.running.db,
        pool => sqlx::query_scalar("SELECT COUNT(*) FROM op_signing_keys").fetch_one(pool).await)
    .unwrap();
    assert_eq!(n, 2, "it made no keys of its own");
}
both_backends!(sealed_at_rest);

/// Two servers starting at once on an empty database make one current key per algorithm
/// between them, and both sign with and publish those.
async fn two_first_starts_make_one_key_each(backend: Backend) {
    let fresh = Fresh::new(backend).await;
    // The schema and the secret key file first: how replicas migrate at once (sqlx locks
    // PostgreSQL's migrations) and share a secret key is not this test's subject.
    Db::connect(&fresh.config.database_url())
        .await
        .unwrap()
        .close()
        .await;
    fresh.config.secrets().unwrap();
    for _ in 0..2 {
        let (a, b) = tokio::join!(serve::start(&fresh.config), serve::start(&fresh.config));
        let (a, b) = (a.unwrap(), b.unwrap());
        let counts: Vec<(String, String, i64)> = portcullis::on_pool!(&a.db,
            pool => sqlx::query_as(
                "SELECT alg, state, COUNT(*) FROM op_signing_keys GROUP BY alg, state ORDER BY alg")
                .fetch_all(pool)
                .await)
        .unwrap();
        assert_eq!(
            counts,
            [
                ("ES256".to_owned(), "current".to_owned(), 1),
                ("RS256".to_owned(), "current".to_owned(), 1)
            ]
        );
        for alg in Alg::ALL {
            assert_eq!(a.op_keys.signing(alg).kid(), b.op_keys.signing(alg).kid());
        }
        assert_eq!(
            published(&format!("http://{}", a.addr)).await,
            published(&format!("http://{}", b.addr)).await
        );
        a.db.close().await;
        b.db.close().await;
        a.stop().await;
        b.stop().await;
    }
    fresh.drop_database().await;
}
each_backend!(two_first_starts_make_one_key_each);

/// `keys rotate`: the next keys are published at once and do not sign; when their time has
/// come (a reload a day later) they sign and the old keys stay published until the tokens
/// they signed have expired, then leave. A second rotation while one waits is refused.
async fn rotate_publishes_the_next_key_before_it_signs(app: &TestApp) {
    let old = signing(app);
    let now = clock::now();
    let run = app.cli(&["keys", "rotate"]);
    assert!(run.ok, "{}", run.text());
    assert!(run.stdout.contains("published RS256 key"), "{}", run.stdout);
    assert!(run.stdout.contains("published ES256 key"), "{}", run.stdout);
    let keys = list(app);
    assert_eq!(kids(&keys, "current"), old);
    let next = kids(&keys, "next");
    assert_eq!(next.len(), 2);
    for k in keys.iter().filter(|k| k.state == "next") {
        assert!(
            (k.signs_from - (now + DEFAULT_ROTATE_AFTER)).abs() < 60,
            "{k:?}"
        );
    }

    // Each replica's reload (every minute) publishes them; the old keys still sign.
    app.running.op_keys.reload().await.unwrap();
    let all: BTreeSet<String> = old.union(&next).cloned().collect();
    assert_eq!(published(&app.base).await, all);
    assert_eq!(signing(app), old);

    let again = app.cli(&["keys", "rotate", "--alg", "rs256"]);
    assert!(
        !again.ok && again.text().contains("already waiting"),
        "{}",
        again.text()
    );

    // A day later.
    let later = now + DEFAULT_ROTATE_AFTER + 60;
    app.running.op_keys.reload_at(later).await.unwrap();
    assert_eq!(signing(app), next);
    assert_eq!(
        published(&app.base).await,
        all,
        "retired keys stay published"
    );
    let keys = list(app);
    assert_eq!(kids(&keys, "retired"), old);
    for k in keys.iter().filter(|k| k.state == "retired") {
        assert_eq!(k.unpublish_at, Some(later + RETIRED_PUBLISHED), "{k:?}");
    }

    // Once the tokens the old keys signed have expired.
    app.running
        .op_keys
        .reload_at(later + RETIRED_PUBLISHED)
        .await
        .unwrap();
    assert_eq!(published(&app.base).await, next);
    let keys = list(app);
    assert_eq!(keys.len(), 2);
    assert_eq!(kids(&keys, "current"), next);
    let table = app.cli(&["keys", "list"]);
    assert!(
        table.ok && table.stdout.contains("current"),
        "{}",
        table.text()
    );
}
both_backends!(rotate_publishes_the_next_key_before_it_signs);

/// `keys rotate --now` (a leaked key): the new key signs at once and the old one leaves the
/// JWKS at once, for the algorithm named; a waiting next key goes too.
async fn rotate_now_replaces_a_key_at_once(app: &TestApp) {
    let old_rs = app.running.op_keys.signing(Alg::Rs256).kid().to_owned();
    let old_es = app.running.op_keys.signing(Alg::Es256).kid().to_owned();
    assert!(app.cli(&["keys", "rotate", "--alg", "es256"]).ok);
    let conflicting = app.cli(&["keys", "rotate", "--now", "--after", "1h"]);
    assert!(!conflicting.ok, "{}", conflicting.text());

    let run = app.cli(&["keys", "rotate", "--now", "--alg", "ES256"]);
    assert!(run.ok, "{}", run.text());
    assert!(run.stdout.contains("signs now"), "{}", run.stdout);
    app.running.op_keys.reload().await.unwrap();
    let new_es = app.running.op_keys.signing(Alg::Es256).kid().to_owned();
    assert_ne!(new_es, old_es);
    assert_eq!(app.running.op_keys.signing(Alg::Rs256).kid(), old_rs);
    assert_eq!(
        published(&app.base).await,
        BTreeSet::from([old_rs.clone(), new_es.clone()])
    );
    assert_eq!(list(app).len(), 2, "the waiting next ES256 key went too");

    assert!(app.cli(&["keys", "rotate", "--now"]).ok);
    app.running.op_keys.reload().await.unwrap();
    let now_signing = signing(app);
    assert!(!now_signing.contains(&old_rs) && !now_signing.contains(&new_es));
    assert_eq!(published(&app.base).await, now_signing);
}
both_backends!(rotate_now_replaces_a_key_at_once);
