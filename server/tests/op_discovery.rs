//! The OpenID Provider's public surface (issue 21, slice 1): the discovery document and the
//! JWKS; the endpoints it names answer relying parties (slice 3).

use crate::common;
use common::TestApp;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    Audience, ClientId, EmptyAdditionalClaims, IssuerUrl, JsonWebKey, Nonce, StandardClaims,
    SubjectIdentifier,
};
use portcullis::ssr::op::signer::{Alg, OpSigningKey, generate};
use serde_json::Value;

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    crate::common::http()
        .get(app.url(path))
        .send()
        .await
        .unwrap()
}

async fn jwks(app: &TestApp) -> (Value, CoreJsonWebKeySet) {
    let text = get(app, "/oauth2/jwks").await.text().await.unwrap();
    (
        serde_json::from_str(&text).unwrap(),
        serde_json::from_str(&text).unwrap(),
    )
}

/// The document: issuer = the public URL, the code flow as slice 3 builds it, nothing that
/// does not exist yet; a relying party (the crate's own discovery, which checks the issuer and
/// fetches the JWKS) reads it.
async fn document(app: &TestApp) {
    let issuer = app.running.public_url.clone();
    let res = get(app, "/.well-known/openid-configuration").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{issuer}/oauth2/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{issuer}/oauth2/token"));
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{issuer}/oauth2/userinfo")
    );
    assert_eq!(doc["jwks_uri"], format!("{issuer}/oauth2/jwks"));
    use serde_json::json;
    for (field, want) in [
        ("response_types_supported", json!(["code"])),
        ("response_modes_supported", json!(["query"])),
        ("subject_types_supported", json!(["public"])),
        (
            "id_token_signing_alg_values_supported",
            json!(["RS256", "ES256"]),
        ),
        ("code_challenge_methods_supported", json!(["S256"])),
        (
            "grant_types_supported",
            json!([
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code"
            ]),
        ),
        (
            "token_endpoint_auth_methods_supported",
            json!(["client_secret_basic", "client_secret_post", "none"]),
        ),
    ] {
        assert_eq!(doc[field], want, "{field}");
    }
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!(["openid", "profile", "email", "groups", "offline_access"])
    );
    for (field, path) in [
        ("revocation_endpoint", "/oauth2/revoke"),
        ("introspection_endpoint", "/oauth2/introspect"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
        let methods = format!("{field}_auth_methods_supported");
        assert_eq!(doc[&methods], doc["token_endpoint_auth_methods_supported"]);
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["request_parameter_supported"], false);
    // Back-channel logout is sent, with `sid` (server/tests/op_backchannel.rs).
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{issuer}/oauth2/device_authorization")
    );
    let absent = "registration_endpoint";
    assert!(doc.get(absent).is_none(), "{absent} is advertised: {doc}");
    let rfc8414: Value = get(app, "/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rfc8414, doc);

    let http = crate::common::no_redirects().build().unwrap();
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer).unwrap(), &http)
        .await
        .expect("a relying party discovers Portcullis");
    assert_eq!(metadata.jwks().keys().len(), 2);
}
both_backends!(document);

/// The advertised authorization and token endpoints answer relying parties (slice 3; until
/// then they answered 501): an unknown client gets an error page, not a redirect, and a
/// cross-site POST to the token endpoint is not refused as a browser's form would be: it gets
/// the OAuth error `invalid_client`.
async fn endpoints_answer_relying_parties(app: &TestApp) {
    let http = crate::common::no_redirects().build().unwrap();
    let authorize = http
        .get(app.url("/oauth2/authorize?client_id=x&response_type=code&scope=openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(authorize.status(), 400);
    assert!(authorize.headers().get("location").is_none());
    let token = http
        .post(app.url("/oauth2/token"))
        .header("origin", "https://rp.example")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401);
    assert_eq!(token.headers()["cache-control"], "no-store");
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
}
both_backends!(endpoints_answer_relying_parties);

/// The JWKS is the stored public keys, one per algorithm, with `kid` and `use: sig` and no
/// private member; the server signs with exactly those keys.
async fn jwks_publishes_the_current_keys(app: &TestApp) {
    let res = get(app, "/oauth2/jwks").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let (raw, set) = jwks(app).await;
    let keys = raw["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{raw}");
    for key in keys {
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} published: {key}");
        }
    }
    let rows: Vec<(String, String, String, String)> = portcullis::on_pool!(&app.running.db,
        pool => sqlx::query_as("SELECT kid, alg, public_jwk, state FROM op_signing_keys ORDER BY alg")
            .fetch_all(pool)
            .await)
    .unwrap();
    assert_eq!(rows.len(), 2);
    for (kid, alg, public_jwk, state) in rows {
        assert_eq!(state, "current");
        let published = keys.iter().find(|k| k["kid"] == kid.as_str()).unwrap();
        assert_eq!(
            *published,
            serde_json::from_str::<Value>(&public_jwk).unwrap()
        );
        let alg = Alg::parse(&alg).unwrap();
        let (kty, crv) = match alg {
            Alg::Rs256 => ("RSA", Value::Null),
            Alg::Es256 => ("EC", Value::from("P-256")),
        };
        assert_eq!(published["kty"], kty);
        assert_eq!(published.get("crv").cloned().unwrap_or(Value::Null), crv);
        assert_eq!(app.running.op_keys.signing(alg).kid(), kid);
    }
    assert_eq!(set.keys().len(), 2);
}
both_backends!(jwks_publishes_the_current_keys);

/// An ID token signed by the current key of each algorithm (the crate's `IdToken::new` over
/// our signer) verifies against the published JWKS with the crate's verifier, as a relying
/// party would check it; one signed by an unpublished key under the same `kid` does not.
async fn the_jwks_verifies_what_the_current_key_signs(app: &TestApp) {
    let (_, set) = jwks(app).await;
    let issuer = IssuerUrl::new(app.running.public_url.clone()).unwrap();
    let client = ClientId::new("test-client".into());
    for alg in Alg::ALL {
        let key = app.running.op_keys.signing(alg);
        let sign = |key: &OpSigningKey| {
            let now = chrono::Utc::now();
            let claims = CoreIdTokenClaims::new(
                issuer.clone(),
                vec![Audience::new("test-client".into())],
                now + chrono::Duration::minutes(5),
                now,
                StandardClaims::new(SubjectIdentifier::new("user-1".into())),
                EmptyAdditionalClaims {},
            );
            CoreIdToken::new(claims, key, alg.jws(), None, None).unwrap()
        };
        let verifier =
            CoreIdTokenVerifier::new_public_client(client.clone(), issuer.clone(), set.clone())
                .set_allowed_algs(vec![alg.jws()]);
        let token = sign(&key);
        let claims = token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(claims.subject().as_str(), "user-1");
        assert!(
            set.keys()
                .iter()
                .any(|k| k.key_id().map(|id| id.as_str()) == Some(key.kid()))
        );

        let impostor = OpSigningKey::load(alg, &generate(alg).unwrap(), key.kid()).unwrap();
        assert!(
            sign(&impostor)
                .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                .is_err(),
            "{alg:?}: an unpublished key's signature verified"
        );
    }
}
both_backends!(the_jwks_verifies_what_the_current_key_signs);

/// A client saved with the editor's defaults gets ID tokens signed with RS256 (the
/// conformance suite's oidcc-idtoken-signature): the header names RS256 and a `kid` the
/// JWKS publishes for RS256, and the crate's verifier accepts it against the JWKS.
async fn id_tokens_are_rs256_by_default(app: &TestApp) {
    use common::op::{add_client, code_for, exchange};
    app.add_local("alice", "alice@example.com", false).await;
    let c = add_client(app, "Wiki", "https://wiki.example/cb", "basic", "users", "").await;
    let browser = common::flow::signed_in(app, "alice").await;
    let code = code_for(app, &browser, &c, None).await;
    let (status, body) = exchange(app, &c, &code, None).await;
    assert_eq!(status, 200, "{body}");
    let jwt = body["id_token"].as_str().unwrap();
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256", "{header}");
    let (raw, set) = jwks(app).await;
    let published = raw["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("the kid is published: {header} {raw}"));
    assert_eq!(published["kty"], "RSA");
    let issuer = IssuerUrl::new(app.running.public_url.clone()).unwrap();
    // The verifier's default algorithms: RS256 only.
    let verifier = CoreIdTokenVerifier::new_public_client(ClientId::new(c.client_id), issuer, set);
    let token: CoreIdToken = jwt.parse().unwrap();
    let claims = token
        .claims(&verifier, &Nonce::new("n".into()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims.subject().as_str(), app.user_id("alice").await);
}
both_backends!(id_tokens_are_rs256_by_default);
