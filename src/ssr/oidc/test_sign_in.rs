//! Test sign-in: the real authorization-code flow with the editor's values (saved or not),
//! run for an administrator, that ends in a report instead of a sign-in. It writes nothing
//! but its own attempt (`oidc_pending`, consumed by the callback) and its report
//! (`oidc_test_reports`, shown once): no user, link, session or flag.
//!
//! It runs the sign-in's own pieces (`flow::Rp::begin`, the client, the callback's steps in
//! `callback`, `identities::preview`) and records each outcome; the words for a failure
//! are the report's (`crate::test_sign_in`).

use super::callback as steps;
use super::discovery::{Metadata, discover};
use super::flow::{Attempt, Callback, Rp, Verified, auth_method, client_http};
use super::jwt;
use super::pending::{self, Mode, PendingRow, binding_hash};
use crate::identity::decision::Purpose;
use crate::on_pool;
use crate::provider::{
    AuthParams, IssuerPolicy, Mode as EditMode, ProviderDraft, ValidProvider, redirect_uri,
};
use crate::ssr::clock::now;
use crate::ssr::db::Db;
use crate::ssr::identities;
use crate::ssr::providers::{self, ProviderRow};
use crate::test_sign_in::{
    self as report, Explained, Status, Step, TestReport, TestedProvider, TokenHeader, WouldDo,
    verdicts,
};
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde::{Deserialize, Serialize};

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

/// A report on the provider named by these values, nothing found yet.
fn report_on(rp: &Rp<'_>, d: (&str, &str, &str, &str), saved: bool) -> TestReport {
    let (name, slug, issuer_url, client_id) = d;
    TestReport {
        provider: TestedProvider {
            name: name.to_owned(),
            slug: slug.to_owned(),
            saved,
            issuer_url: issuer_url.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri(rp.public_url, slug),
        },
        ..TestReport::default()
    }
}

fn base_report(rp: &Rp<'_>, v: &ValidProvider, saved: bool) -> TestReport {
    report_on(rp, (&v.name, &v.slug, &v.issuer_url, &v.client_id), saved)
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
            let d = &draft;
            let mut r = report_on(
                rp,
                (&d.name, &d.slug, &d.issuer_url, &d.client_id),
                stored.is_some(),
            );
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
    let metadata = match discover(&row.issuer_url, rp.timeout, None).await {
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
            Attempt {
                mode: &mode,
                return_to: None,
                fresh: None,
            },
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
    if let Some(refusal) = preflight(rp, &url, &valid, &r.provider.redirect_uri).await {
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
        .fact("Redirect URI sent", r.provider.redirect_uri.clone());
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
            r.provider.redirect_uri
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

/// The steps from the authorization response on, the sign-in's own (`callback`), each
/// outcome recorded; fills `r` as far as it gets.
async fn run(
    rp: &Rp<'_>,
    arrived_on: Option<&str>,
    callback: &Callback,
    pending: &PendingRow,
    row: ProviderRow,
    r: &mut TestReport,
) {
    let metadata = match discover(&row.issuer_url, rp.timeout, None).await {
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
        .fact("Redirect URI", r.provider.redirect_uri.clone())
        .fact("Scopes", scopes.clone()),
        &row.settings.auth_params,
    ));

    let issuer = metadata.issuer().to_string();
    let code = match steps::arrival(arrived_on, &row.slug)
        .and_then(|()| steps::response(callback, &metadata))
    {
        Ok(code) => code,
        Err(f) => {
            r.steps
                .push(report::response_failed(r, &f, &issuer, &scopes));
            return;
        }
    };
    r.steps.push(
        Step::passed(
            report::AUTHORIZATION_RESPONSE,
            "A code came back on this provider's redirect URI, with the state this browser started (and the matching issuer, when sent).",
        )
        .fact(
            "iss parameter",
            callback.iss.clone().unwrap_or_else(|| "not sent".to_owned()),
        ),
    );

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
                report::TOKEN_REQUEST,
                "The token request could not be made.",
                Explained::cause_only(e.detail),
            ));
            return;
        }
    };
    let tokens =
        match steps::exchange(&client, code, &pending.pkce_verifier, rp.timeout, None).await {
            Ok(t) => t,
            Err(f) => {
                r.steps.push(report::exchange_failed(&f, method, &how));
                return;
            }
        };
    r.steps.push(exchange_passed(&tokens, &how));

    // The ID token as sent, shown whether or not it verifies.
    if let Some(raw) = tokens.id_token().map(|t| t.to_string()) {
        let jws = jwt::Jws::parse(&raw).ok();
        let param = |k: &str| jws.as_ref().and_then(|j| j.param(k)).map(str::to_owned);
        r.id_token_header = Some(TokenHeader {
            alg: param("alg").unwrap_or_else(|| "none".to_owned()),
            kid: param("kid"),
            typ: param("typ"),
            verified_by: None,
        });
        r.id_token_claims = jws.map(|j| j.claims);
    }
    let identity = match steps::id_token(&client, &metadata, &tokens, &pending.nonce) {
        Ok(identity) => identity,
        Err(f) => {
            let discovered = report::Discovered {
                issuer,
                jwks_uri: metadata.jwks_uri().to_string(),
                key_ids: jwt::key_ids(&metadata),
                algs: metadata
                    .id_token_signing_alg_values_supported()
                    .iter()
                    .map(jwt::alg_name)
                    .collect(),
            };
            r.steps.push(report::id_token_failed(r, &f, &discovered));
            return;
        }
    };
    let header = r.id_token_header.get_or_insert_default();
    header.verified_by = identity.verified_by.clone();
    let step = Step::passed(
        report::ID_TOKEN,
        "The ID token is valid: signature, issuer, audience, nonce, expiry and issue time all check.",
    )
    .fact("Algorithm", header.alg.clone())
    .fact("Key id", header.kid.clone().unwrap_or_else(|| "none".to_owned()))
    .fact(
        "Verified by",
        identity
            .verified_by
            .unwrap_or_else(|| "a key of the provider's JWKS".to_owned()),
    )
    .fact("Subject", identity.subject.clone());
    r.steps.push(step);
    r.id_token_verified = true;
    r.id_token_claims = Some(identity.claims.clone());
    let two_factors = super::flow::two_factors(&row, &identity.claims);
    let mut merged = identity.claims;

    match steps::userinfo(
        &client,
        &metadata,
        &tokens,
        &identity.subject,
        rp.timeout,
        None,
    )
    .await
    {
        Ok(None) => r.steps.push(Step::skipped(
            report::USERINFO,
            "The provider has no userinfo endpoint: the ID token's claims are all there is.",
        )),
        Ok(Some(info)) => {
            r.userinfo_claims = Some(info.clone());
            steps::merge_userinfo(&mut merged, info);
            r.steps.push(Step::passed(
                report::USERINFO,
                "Userinfo answered for the same subject; its claims are laid over the ID token's.",
            ));
        }
        Err(f) => {
            r.steps.push(report::userinfo_failed(&f));
            return;
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
        at_provider: Default::default(),
        subject: identity.subject,
        claims: merged,
        purpose: Purpose::SignIn,
        return_to: None,
        provider_time: std::time::Duration::ZERO,
        two_factors,
        auth_time: None,
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

/// The token request passed: what came back (never a token itself).
fn exchange_passed(tokens: &steps::Tokens, how: &str) -> Step {
    let mut step = Step::passed(
        report::TOKEN_REQUEST,
        "The code was exchanged: the provider accepted the client's credentials and the PKCE verifier.",
    )
    .fact("Client authentication", how)
    .fact(
        "Token type",
        serde_json::to_value(tokens.token_type())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    )
    .fact("Access token", "received (never shown)");
    if tokens.refresh_token().is_some() {
        step = step.fact("Refresh token", "received (never shown, not kept)");
    }
    if let Some(scopes) = tokens.scopes() {
        step = step.fact(
            "Scopes granted",
            scopes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    step
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
