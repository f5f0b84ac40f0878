//! Test sign-in: the real authorization-code flow with the editor's values (saved or not),
//! run for an administrator, that ends in a report instead of a sign-in. It writes nothing
//! but its own attempt (`oidc_pending`, consumed by the callback) and its report
//! (`oidc_test_reports`, shown once): no user, link, session or flag.
//!
//! It goes through the same pieces as a sign-in (`flow::Rp::begin`, the client, the ID
//! token verifier, the userinfo merge, `identities::preview`), recording each step.

use super::discovery::{Metadata, discover};
use super::flow::{
    Callback, Claims, OtherClaims, Rp, Verified, auth_method, client_http, merge_userinfo,
    standard_claims_json, verify,
};
use super::pending::{self, Mode, PendingRow, binding_hash};
use crate::on_pool;
use crate::provider::{
    AuthParams, IssuerPolicy, Mode as EditMode, ProviderDraft, ValidProvider, redirect_uri,
};
use crate::sign_in_test::{
    self as report, Explained, Status, Step, TestReport, TokenHeader, WouldDo, verdicts,
};
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use crate::ssr::identities;
use crate::ssr::providers::{self, ProviderRow};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreGenderClaim, CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, JsonWebKey, Nonce, OAuth2TokenResponse,
    PkceCodeVerifier, RequestTokenError, SignatureVerificationError, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A report waits this long to be read.
pub const REPORT_LIFETIME_SECS: i64 = 10 * 60;
/// The associated data the test's values are encrypted under.
const CONFIG_CONTEXT: &str = "oidc-test-sign-in";
/// How much of an authorization error page is read.
const PAGE_MAX: usize = 64 * 1024;

/// What the attempt carries from the start to the callback (encrypted in `oidc_pending`).
#[derive(Serialize, Deserialize)]
struct TestConfig {
    /// The editor's values, the client secret resolved (typed, or the stored one).
    draft: ProviderDraft,
    original_slug: String,
    saved: bool,
    /// The administrator's session when the test started.
    session_id: Option<String>,
}

/// A test sign-in to start, from the editor's form.
pub struct TestStart<'a> {
    pub draft: ProviderDraft,
    /// Empty for a provider not saved yet.
    pub original_slug: String,
    pub policy: IssuerPolicy,
    pub admin_id: &'a str,
    pub session_id: Option<String>,
    /// The browser's binding cookie.
    pub binding: &'a str,
    /// The client it came from (its address, IPv6 by /64).
    pub client: Option<crate::ssr::client_ip::ClientKey>,
}

/// Where a started test goes next.
pub enum Started {
    /// To the provider (this authorization URL).
    Provider(String),
    /// Straight to the report: it failed before the browser needed to leave.
    Report(Box<TestReport>),
}

fn base_report(rp: &Rp<'_>, v: &ValidProvider, saved: bool) -> TestReport {
    TestReport {
        provider_name: v.name.clone(),
        slug: v.slug.clone(),
        saved,
        issuer_url: v.issuer_url.clone(),
        client_id: v.client_id.clone(),
        redirect_uri: redirect_uri(rp.public_url, &v.slug),
        ..TestReport::default()
    }
}

fn failed(mut r: TestReport, step: Step) -> Started {
    r.steps.push(step);
    Started::Report(Box::new(r))
}

/// Validates the editor's values, discovers, checks the provider accepts the authorization
/// request, and records the attempt; or says at once why not.
pub async fn start(rp: &Rp<'_>, t: TestStart<'_>) -> Result<Started, sqlx::Error> {
    let mode = if t.original_slug.is_empty() {
        EditMode::Create
    } else {
        EditMode::Update
    };
    let mut draft = t.draft;
    if mode == EditMode::Update {
        // The slug cannot change: the test runs as the stored provider's.
        draft.slug = t.original_slug.clone();
    }
    let stored = match mode {
        EditMode::Update => providers::get(rp.db, &t.original_slug).await?,
        EditMode::Create => None,
    };
    // An existing provider's empty secret field means the stored secret, but only for the
    // stored issuer and client: it never goes to an issuer (or client) the editor names
    // instead. Otherwise the secret must be typed (validated as for a new provider).
    let secret_empty = draft.client_secret.trim().is_empty();
    let same_client = stored.as_ref().is_some_and(|row| {
        crate::provider::keeps_stored_secret(
            (&row.issuer_url, &row.client_id),
            &draft.issuer_url,
            &draft.client_id,
        )
    });
    let stored_secret = match (&stored, secret_empty && same_client) {
        (Some(row), true) => row.client_secret(rp.secrets).ok(),
        _ => None,
    };
    if let Some(secret) = &stored_secret {
        draft.client_secret = secret.clone();
    }
    let check_mode = if secret_empty && !same_client {
        EditMode::Create
    } else {
        mode
    };
    let valid = match draft.validate(check_mode, t.policy) {
        Ok(v) => v,
        Err(errors) => {
            let mut r = TestReport {
                provider_name: draft.name.clone(),
                slug: draft.slug.clone(),
                saved: stored.is_some(),
                issuer_url: draft.issuer_url.clone(),
                client_id: draft.client_id.clone(),
                redirect_uri: redirect_uri(rp.public_url, &draft.slug),
                ..TestReport::default()
            };
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            r.steps.push(Step::failed(
                report::SETTINGS,
                "The editor's values are not complete or not valid, so no request was made.",
                Explained::new(
                    list.join(" "),
                    "Correct these fields in the editor, then run Test sign-in again.",
                ),
            ));
            return Ok(Started::Report(Box::new(r)));
        }
    };
    let r = base_report(rp, &valid, stored.is_some());
    let Some(secret) = valid.client_secret.clone() else {
        return Ok(failed(
            r,
            Step::failed(
                report::SETTINGS,
                "There is no client secret to test with.",
                Explained::new(
                    "The Client Secret field is empty and no secret is stored for this provider.",
                    "Type the client secret the provider issued into Client Secret.",
                ),
            ),
        ));
    };
    let row = ProviderRow::for_test(&valid, rp.secrets, &secret);
    let metadata = match discover(&row.issuer_url, rp.timeout).await {
        Ok(m) => m,
        Err(why) => {
            return Ok(failed(r, discovery_failed(why)));
        }
    };
    let config = TestConfig {
        draft,
        original_slug: t.original_slug,
        saved: stored.is_some(),
        session_id: t.session_id,
    };
    let sealed = rp.secrets.encrypt(
        &serde_json::to_string(&config).expect("a draft serialises"),
        CONFIG_CONTEXT,
    );
    let mode = Mode::Test {
        user_id: t.admin_id.to_owned(),
    };
    let url = match rp
        .begin(
            &row,
            &metadata,
            &mode,
            None,
            pending::Starter {
                binding: t.binding,
                client: t.client,
            },
            Some(&sealed),
        )
        .await
    {
        Ok(url) => url,
        Err(e) => {
            return Ok(failed(
                r,
                Step::failed(
                    report::AUTHORIZATION_REQUEST,
                    "The authorization request could not be made.",
                    Explained::cause_only(format!("{e} ({})", e.detail)),
                ),
            ));
        }
    };
    // Ask the authorization endpoint first, as the browser will: a provider that refuses
    // the request (an unregistered redirect URI, an unknown client) shows its own error
    // page and never comes back, so the report has to read it from here.
    if let Some(refusal) = preflight(rp, &url, &valid, &r.redirect_uri).await {
        forget(rp.db, &url, t.binding).await?;
        let step = Step::failed(
            report::AUTHORIZATION_REQUEST,
            "The provider refused the authorization request; the browser was not sent there.",
            refusal,
        )
        .fact(
            "Authorization endpoint",
            metadata.authorization_endpoint().to_string(),
        )
        .fact("Redirect URI sent", r.redirect_uri.clone());
        let step = with_auth_params(step, &valid.settings.auth_params);
        let mut r = r;
        r.steps.push(discovery_passed(&metadata));
        return Ok(failed(r, step));
    }
    Ok(Started::Provider(url))
}

/// The authorization request's step with the extra parameters it sent, one fact each.
fn with_auth_params(step: Step, params: &AuthParams) -> Step {
    params.iter().fold(step, |step, (key, value)| {
        step.fact("Extra parameter", format!("{key}={value}"))
    })
}

/// Forgets the attempt the authorization URL `url` carries the state of.
async fn forget(db: &Db, url: &str, binding: &str) -> Result<(), sqlx::Error> {
    let state = url::Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    if let Some(state) = state {
        pending::take(db, &state, Some(binding)).await?.ok();
    }
    Ok(())
}

/// The provider's answer to the authorization request, when it is a refusal.
async fn preflight(rp: &Rp<'_>, url: &str, v: &ValidProvider, uri: &str) -> Option<Explained> {
    let scopes = v.settings.scopes.join(", ");
    let mut res = match client_http(rp.timeout).get(url).send().await {
        Ok(res) => res,
        Err(e) => {
            return Some(Explained::new(
                format!(
                    "The authorization endpoint could not be reached from this server: {}.",
                    super::http::describe(&e, rp.timeout)
                ),
                "Check that the provider's authorization endpoint is reachable (Test connection lists it).",
            ));
        }
    };
    let status = res.status().as_u16();
    if res.status().is_redirection() {
        return None;
    }
    let mut page = Vec::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        page.extend_from_slice(&chunk);
        if page.len() >= PAGE_MAX {
            break;
        }
    }
    let page = String::from_utf8_lossy(&page);
    report::authorize_refusal(status, &page, &v.client_id, uri, &scopes)
}

fn discovery_passed(m: &Metadata) -> Step {
    let mut step = Step::passed(
        report::DISCOVERY,
        format!(
            "The discovery document of {} was read and its issuer matches; {} signing key(s).",
            m.issuer().as_str(),
            m.jwks().keys().len()
        ),
    )
    .fact("Issuer", m.issuer().to_string())
    .fact(
        "Authorization endpoint",
        m.authorization_endpoint().to_string(),
    )
    .fact("JWKS", m.jwks_uri().to_string());
    if let Some(t) = m.token_endpoint() {
        step = step.fact("Token endpoint", t.to_string());
    }
    if let Some(u) = m.userinfo_endpoint() {
        step = step.fact("Userinfo endpoint", u.to_string());
    }
    step
}

fn discovery_failed(why: String) -> Step {
    Step::failed(
        report::DISCOVERY,
        "The provider's discovery document could not be used.",
        Explained::new(
            why,
            "Check Issuer URL: it must be exactly the issuer in the provider's discovery document (Test connection shows what it answers).",
        ),
    )
}

/// The callback of a test attempt (`pending` taken by `Rp::take_attempt`): every step,
/// recorded. `oidc_on`: whether OpenID Connect sign-in is switched on (for the notes).
pub async fn finish(
    rp: &Rp<'_>,
    arrived_on: Option<&str>,
    callback: &Callback,
    pending: &PendingRow,
    oidc_on: bool,
) -> TestReport {
    let config: Option<TestConfig> = pending
        .test_config
        .as_deref()
        .and_then(|c| rp.secrets.decrypt(c, CONFIG_CONTEXT).ok())
        .and_then(|c| serde_json::from_str(&c).ok());
    let Some(mut config) = config else {
        let mut r = TestReport::default();
        r.steps.push(Step::failed(
            report::SETTINGS,
            "The values this test started with could not be read.",
            Explained::new(
                "The server's secret key changed since the test started, or the attempt was damaged.",
                "Run Test sign-in again.",
            ),
        ));
        return r;
    };
    // The logo plays no part in signing in (and was checked at the start).
    config.draft.logo = String::new();
    let mode = if config.original_slug.is_empty() {
        EditMode::Create
    } else {
        EditMode::Update
    };
    let policy = IssuerPolicy {
        // The values were validated under the server's policy at the start.
        allow_insecure: true,
    };
    let valid = match config.draft.validate(mode, policy) {
        Ok(v) => v,
        Err(_) => {
            let mut r = TestReport::default();
            r.steps.push(Step::failed(
                report::SETTINGS,
                "The values this test started with are no longer valid.",
                Explained::cause_only("Run Test sign-in again."),
            ));
            return r;
        }
    };
    let mut r = base_report(rp, &valid, config.saved);
    let secret = valid.client_secret.clone().unwrap_or_default();
    let row = ProviderRow::for_test(&valid, rp.secrets, &secret);
    run(rp, arrived_on, callback, pending, row, &mut r).await;
    if !config.saved {
        r.notes.push(format!(
            "This provider is not saved yet: nobody can sign in with it until it is. Its redirect URI {} works for this test because the test recognises its own attempts.",
            r.redirect_uri
        ));
    }
    if !valid.settings.enabled {
        r.notes.push(
            "Enabled is off in the editor: with these values saved, sign-in with this provider is refused."
                .to_owned(),
        );
    }
    if !oidc_on {
        r.notes.push(
            "OpenID Connect sign-in is switched off (Settings → Users → Login Methods): a real sign-in is refused until it is on."
                .to_owned(),
        );
    }
    r
}

/// The steps from the authorization response on; fills `r` as far as it gets.
async fn run(
    rp: &Rp<'_>,
    arrived_on: Option<&str>,
    callback: &Callback,
    pending: &PendingRow,
    row: ProviderRow,
    r: &mut TestReport,
) {
    let metadata = match discover(&row.issuer_url, rp.timeout).await {
        Ok(m) => m,
        Err(why) => {
            r.steps.push(discovery_failed(why));
            return;
        }
    };
    r.steps.push(discovery_passed(&metadata));
    let scopes = row.settings.scopes.join(", ");
    r.steps.push(with_auth_params(
        Step::passed(
            report::AUTHORIZATION_REQUEST,
            "The provider accepted the authorization request (code flow with PKCE S256, state and nonce) and sent the browser back.",
        )
        .fact("Redirect URI", r.redirect_uri.clone())
        .fact("Scopes", scopes.clone()),
        &row.settings.auth_params,
    ));

    // The authorization response.
    let name = report::AUTHORIZATION_RESPONSE;
    if arrived_on != Some(row.slug.as_str()) {
        r.steps.push(Step::failed(
            name,
            "The answer arrived on another redirect URI than this provider's.",
            Explained::new(
                format!(
                    "It arrived at {}, not at {}.",
                    arrived_on.map_or("/login".to_owned(), |s| format!("/login/{s}")),
                    r.redirect_uri
                ),
                format!(
                    "Register `{}` exactly as the redirect URI at the provider.",
                    r.redirect_uri
                ),
            ),
        ));
        return;
    }
    let advertised = metadata
        .additional_metadata()
        .authorization_response_iss_parameter_supported;
    match (&callback.iss, advertised) {
        (Some(iss), _) if iss != metadata.issuer().as_str() => {
            r.steps.push(Step::failed(
                name,
                "The answer names another issuer (RFC 9207 iss parameter), so a sign-in refuses it.",
                report::issuer_mismatch(iss, &row.issuer_url, metadata.issuer().as_str()),
            ));
            return;
        }
        (None, Some(true)) => {
            r.steps.push(Step::failed(
                name,
                "The answer has no iss parameter though the provider advertises it, so a sign-in refuses it.",
                Explained::cause_only("authorization_response_iss_parameter_supported is true in discovery, but the redirect carried no iss."),
            ));
            return;
        }
        _ => {}
    }
    if let Some(error) = &callback.error {
        let description = callback.error_description.clone().unwrap_or_default();
        let mut step = Step::failed(
            name,
            "The provider sent an error instead of a code.",
            report::redirect_error(error, &description, &r.redirect_uri, &scopes),
        )
        .fact("error", error.clone());
        if !description.is_empty() {
            step = step.fact("error_description", description);
        }
        r.steps.push(step);
        return;
    }
    let Some(code) = callback.code.clone() else {
        r.steps.push(Step::failed(
            name,
            "The provider sent the browser back without a code.",
            Explained::cause_only("The redirect had neither code nor error."),
        ));
        return;
    };
    r.steps.push(
        Step::passed(
            name,
            "A code came back on this provider's redirect URI, with the state this browser started (and the matching issuer, when sent).",
        )
        .fact(
            "iss parameter",
            callback.iss.clone().unwrap_or_else(|| "not sent".to_owned()),
        ),
    );

    // The token request.
    let name = report::TOKEN_REQUEST;
    let method = auth_method(&row, &metadata);
    let how = if row.settings.token_auth_method == "auto" {
        format!("{method} (Automatic, from the provider's discovery)")
    } else {
        format!("{method} (chosen in the editor)")
    };
    let client = match rp.client(&row, &metadata) {
        Ok(c) => c,
        Err(e) => {
            r.steps.push(Step::failed(
                name,
                "The token request could not be made.",
                Explained::cause_only(e.detail),
            ));
            return;
        }
    };
    let http = client_http(rp.timeout);
    let exchange = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(x) => x,
        Err(e) => {
            r.steps.push(Step::failed(
                name,
                "The provider has no token endpoint.",
                Explained::cause_only(e.to_string()),
            ));
            return;
        }
    };
    let token = match exchange
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&http)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            let explained = match &e {
                RequestTokenError::ServerResponse(resp) => {
                    let code = serde_json::to_value(resp.error())
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_else(|| resp.error().to_string());
                    report::token_error(
                        &code,
                        resp.error_description().map_or("", String::as_str),
                        method,
                    )
                }
                RequestTokenError::Request(openidconnect::HttpClientError::Reqwest(re)) => {
                    Explained::new(
                        format!(
                            "The token endpoint could not be reached: {}.",
                            super::http::describe(re, rp.timeout)
                        ),
                        "Check that this server can reach the provider's token endpoint.",
                    )
                }
                other => {
                    Explained::cause_only(format!("The token response was not usable: {other}."))
                }
            };
            r.steps.push(
                Step::failed(
                    name,
                    "The provider did not exchange the code for tokens.",
                    explained,
                )
                .fact("Client authentication", how),
            );
            return;
        }
    };
    let mut step = Step::passed(
        name,
        "The code was exchanged: the provider accepted the client's credentials and the PKCE verifier.",
    )
    .fact("Client authentication", how)
    .fact(
        "Token type",
        serde_json::to_value(token.token_type())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    )
    .fact("Access token", "received (never shown)");
    if token.refresh_token().is_some() {
        step = step.fact("Refresh token", "received (never shown, not kept)");
    }
    if let Some(scopes) = token.scopes() {
        step = step.fact(
            "Scopes granted",
            scopes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    r.steps.push(step);

    // The ID token.
    let name = report::ID_TOKEN;
    let Some(id_token) = token.id_token() else {
        r.steps.push(Step::failed(
            name,
            "The token response has no ID token.",
            Explained::new(
                "Without an ID token there is no verified identity.",
                "Make sure the client is an OpenID Connect client and Scopes includes openid.",
            ),
        ));
        return;
    };
    let raw = id_token.to_string();
    let (header, unverified) = decode_unverified(&raw);
    r.id_token_header = Some(header.clone());
    r.id_token_claims = unverified.clone();
    let nonce = Nonce::new(pending.nonce.clone());
    let claims: Claims = match verify(&client, &metadata, id_token, &nonce) {
        Ok(c) => c,
        Err(e) => {
            let explained = explain_id_token(&e, &header, unverified.as_ref(), &row, &metadata);
            r.steps.push(
                Step::failed(
                    name,
                    "The ID token failed verification, so a sign-in refuses it.",
                    explained,
                )
                .fact("Algorithm", header.alg.clone())
                .fact(
                    "Key id",
                    header.kid.clone().unwrap_or_else(|| "none".to_owned()),
                ),
            );
            return;
        }
    };
    let verified_by = verifying_key(&raw, &header, &metadata);
    if let Some(h) = r.id_token_header.as_mut() {
        h.verified_by = verified_by.clone();
    }
    r.id_token_verified = true;
    let mut merged = standard_claims_json(&claims);
    r.id_token_claims = Some(merged.clone());
    r.steps.push(
        Step::passed(
            name,
            "The ID token is valid: signature, issuer, audience, nonce, expiry and issue time all check.",
        )
        .fact("Algorithm", header.alg.clone())
        .fact("Key id", header.kid.clone().unwrap_or_else(|| "none".to_owned()))
        .fact("Verified by", verified_by.unwrap_or_else(|| "a key of the provider's JWKS".to_owned()))
        .fact("Subject", claims.subject().to_string()),
    );

    // Userinfo.
    let name = report::USERINFO;
    if metadata.userinfo_endpoint().is_none() {
        r.steps.push(Step::skipped(
            name,
            "The provider has no userinfo endpoint: the ID token's claims are all there is.",
        ));
    } else {
        let request =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()));
        let result: Result<openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim>, String> =
            match request {
                Ok(req) => req.request_async(&http).await.map_err(|e| match e {
                    openidconnect::UserInfoError::ClaimsVerification(
                        ClaimsVerificationError::InvalidSubject(_),
                    ) => "sub".to_owned(),
                    openidconnect::UserInfoError::Request(
                        openidconnect::HttpClientError::Reqwest(re),
                    ) => super::http::describe(&re, rp.timeout),
                    other => other.to_string(),
                }),
                Err(e) => Err(e.to_string()),
            };
        match result {
            Ok(info) => {
                r.userinfo_claims = serde_json::to_value(&info)
                    .ok()
                    .and_then(|v| v.as_object().cloned());
                merge_userinfo(&mut merged, &info);
                r.steps.push(Step::passed(
                    name,
                    "Userinfo answered for the same subject; its claims are laid over the ID token's.",
                ));
            }
            Err(why) if why == "sub" => {
                r.steps.push(Step::failed(
                    name,
                    "Userinfo answered for another subject than the ID token's, so a sign-in refuses it.",
                    Explained::cause_only(
                        "The userinfo response's sub differs from the ID token's sub: the provider is inconsistent.",
                    ),
                ));
                return;
            }
            Err(why) => {
                r.steps.push(Step::failed(
                    name,
                    "Userinfo failed, so a sign-in fails too.",
                    Explained::cause_only(format!("The userinfo request failed: {why}.")),
                ));
                return;
            }
        }
    }
    r.merged_claims = Some(merged.clone());
    r.rules = verdicts("Required Claims", &row.settings.required_claims, &merged);
    r.rules.extend(verdicts(
        "Admin Claims",
        &row.settings.admin_claims,
        &merged,
    ));
    r.groups = Some(report::ProviderGroups::new(
        &row.slug,
        &row.settings.groups_claim,
        row.settings.groups_authoritative,
        &merged,
    ));

    let verified = Verified {
        issuer: metadata.issuer().to_string(),
        sid: None,
        id_token: None,
        subject: claims.subject().to_string(),
        claims: merged,
        mode: Mode::SignIn,
        return_to: None,
        provider_time: std::time::Duration::ZERO,
        provider: row,
    };
    r.would = Some(match identities::preview(rp.db, &verified).await {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = ?e, "test sign-in: preview");
            WouldDo::Refuse {
                reason: "The database could not be read to tell.".to_owned(),
            }
        }
    });
}

/// The ID token's header and claims as sent, before (or without) verification.
fn decode_unverified(raw: &str) -> (TokenHeader, Option<Map<String, Value>>) {
    let mut parts = raw.split('.');
    let json = |part: Option<&str>| -> Option<Map<String, Value>> {
        let bytes = URL_SAFE_NO_PAD.decode(part?.trim_end_matches('=')).ok()?;
        serde_json::from_slice::<Value>(&bytes)
            .ok()?
            .as_object()
            .cloned()
    };
    let header = json(parts.next()).unwrap_or_default();
    let claims = json(parts.next());
    let s = |k: &str| header.get(k).and_then(Value::as_str).map(str::to_owned);
    (
        TokenHeader {
            alg: s("alg").unwrap_or_else(|| "none".to_owned()),
            kid: s("kid"),
            typ: s("typ"),
            verified_by: None,
        },
        claims,
    )
}

/// Which key of the JWKS verifies the token's signature (tried one by one).
fn verifying_key(raw: &str, header: &TokenHeader, m: &Metadata) -> Option<String> {
    let (message, signature) = raw.rsplit_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let alg: CoreJwsSigningAlgorithm =
        serde_json::from_value(Value::String(header.alg.clone())).ok()?;
    m.jwks().keys().iter().find_map(|key: &CoreJsonWebKey| {
        key.verify_signature(&alg, message.as_bytes(), &signature)
            .ok()?;
        let kid = key
            .key_id()
            .map_or("(no kid)".to_owned(), |k| k.to_string());
        let kty = serde_json::to_value(key.key_type())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Some(format!(
            "kid {kid} ({kty}, {}) from {}",
            header.alg,
            m.jwks_uri()
        ))
    })
}

fn kids(m: &Metadata) -> String {
    let list: Vec<String> = m
        .jwks()
        .keys()
        .iter()
        .map(|k| k.key_id().map_or("(no kid)".to_owned(), |k| k.to_string()))
        .collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

fn explain_id_token(
    e: &ClaimsVerificationError,
    header: &TokenHeader,
    claims: Option<&Map<String, Value>>,
    row: &ProviderRow,
    m: &Metadata,
) -> Explained {
    let claim = |k: &str| {
        claims
            .and_then(|c| c.get(k))
            .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
            .unwrap_or_else(|| "(absent)".to_owned())
    };
    let kid = header.kid.clone().unwrap_or_else(|| "(none)".to_owned());
    use SignatureVerificationError as S;
    match e {
        ClaimsVerificationError::InvalidIssuer(_) => {
            report::issuer_mismatch(&claim("iss"), &row.issuer_url, m.issuer().as_str())
        }
        ClaimsVerificationError::InvalidAudience(_) => Explained::new(
            format!(
                "The ID token is meant for audience {} but the client ID here is `{}`.",
                claim("aud"),
                row.client_id
            ),
            "Check Client ID: it must be the client the provider issues the tokens to.",
        ),
        ClaimsVerificationError::InvalidNonce(_) => Explained::cause_only(
            "The ID token's nonce is not the one this attempt sent: the provider did not echo it, or sent a token from another sign-in.",
        ),
        ClaimsVerificationError::Expired(_) => Explained::new(
            format!(
                "The ID token had already expired when it arrived (exp {}).",
                claim("exp")
            ),
            "Check the clocks of the provider and of this server (NTP).",
        ),
        ClaimsVerificationError::Other(msg) if msg.contains("issued") => Explained::new(
            format!(
                "The ID token's issue time (iat {}) is not acceptable: it was {msg}.",
                claim("iat")
            ),
            "Check the clocks of the provider and of this server (NTP).",
        ),
        ClaimsVerificationError::SignatureVerification(sig) => match sig {
            S::NoMatchingKey => Explained::new(
                format!(
                    "No key in the provider's JWKS ({}) matches the token's key id `{kid}` and algorithm {} (keys there: {}).",
                    m.jwks_uri(),
                    header.alg,
                    kids(m)
                ),
                "The provider signs with a key it does not publish: check its signing key settings (or wait for its key rotation to publish the key).",
            ),
            S::CryptoError(_) => Explained::new(
                format!(
                    "The signature does not verify with the provider's key `{kid}` from {}: the token was not signed by that key.",
                    m.jwks_uri()
                ),
                "The token was signed by another key than the one the provider publishes under this id: check the provider's keys, and that Issuer URL points at the right provider (realm, tenant).",
            ),
            S::DisallowedAlg(_) | S::UnsupportedAlg(_) => Explained::new(
                format!(
                    "The ID token is signed with {}, which is not accepted: only asymmetric algorithms the provider advertises ({}) are.",
                    header.alg,
                    m.id_token_signing_alg_values_supported()
                        .iter()
                        .filter_map(|a| serde_json::to_value(a)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "Make the provider sign ID tokens with RS256 or ES256 (an asymmetric key), not HS256 or none.",
            ),
            S::NoSignature => Explained::new(
                "The ID token is not signed (alg none).",
                "Make the provider sign ID tokens with RS256 or ES256.",
            ),
            other => Explained::cause_only(format!("The signature could not be checked: {other}.")),
        },
        other => Explained::cause_only(format!("The ID token was refused: {other}.")),
    }
}

/// Keeps `report` for the administrator `user_id` in the browser `binding`; returns its id.
pub async fn store_report(
    db: &Db,
    user_id: &str,
    binding: &str,
    report: &TestReport,
) -> Result<String, sqlx::Error> {
    let id = pending::new_binding();
    let t = now();
    let json = serde_json::to_string(report).expect("a report serialises");
    on_pool!(db, pool => async {
        sqlx::query("DELETE FROM oidc_test_reports WHERE expires_at < $1")
            .bind(t)
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_test_reports (id, user_id, binding_hash, report, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(user_id)
            .bind(binding_hash(binding))
            .bind(&json)
            .bind(t)
            .bind(t + REPORT_LIFETIME_SECS)
            .execute(pool)
            .await
            .map(|_| ())
    }
    .await)?;
    Ok(id)
}

/// The report `id`, once, for the administrator who ran it in the browser that ran it.
pub async fn take_report(
    db: &Db,
    id: &str,
    user_id: &str,
    binding: Option<&str>,
) -> Result<Option<TestReport>, sqlx::Error> {
    let Some(binding) = binding else {
        return Ok(None);
    };
    let json: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "DELETE FROM oidc_test_reports WHERE id = $1 AND user_id = $2 AND binding_hash = $3 \
         AND expires_at >= $4 RETURNING report")
        .bind(id)
        .bind(user_id)
        .bind(binding_hash(binding))
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// The name of the step that failed, if one did (for logs).
pub fn failed_step(r: &TestReport) -> Option<&str> {
    r.steps
        .iter()
        .find(|s| s.status == Status::Failed)
        .map(|s| s.name.as_str())
}

/// The session a test attempt was started from (the callback must come back to it).
pub fn started_in_session(rp: &Rp<'_>, pending: &PendingRow) -> Option<String> {
    let config: TestConfig = pending
        .test_config
        .as_deref()
        .and_then(|c| rp.secrets.decrypt(c, CONFIG_CONTEXT).ok())
        .and_then(|c| serde_json::from_str(&c).ok())?;
    config.session_id
}
