//! Test sign-in over HTTP (administrators): `POST /settings/users/oidc/test-sign-in` takes
//! the provider editor's form (`original_slug`, `draft[...]`, saved or not) and moves the
//! browser on to the provider; the provider's answer comes back on the provider's own
//! redirect URI (`GET /login/<slug>`), where `signin::finish` recognises the attempt by its
//! state and hands it here; the report waits at `/settings/users/oidc/test-report?id=`.
//! Nothing here signs anyone in, links, or changes the session.

use crate::signin::{redirect, rp, to_provider, with_binding};
use app::auth::session_user;
use app::error::AppError;
use app::extract::{Admin, Binding, ClientAddr, SignedIn};
use app::html::message_page;
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, post};
use http::StatusCode;
use portcullis::provider::{IssuerPolicy, ProviderDraft};
use portcullis::ssr::oidc::flow::Callback;
use portcullis::ssr::oidc::pending::{Mode, PendingRow, new_binding};
use portcullis::ssr::oidc::test_sign_in::{self, Started, TestStart};
use portcullis::ssr::session::AuthSession;
use portcullis::test_sign_in::{REPORT_PATH, TestReport};
use serde::Deserialize;

/// The editor's form, as its Save posts it.
#[derive(Deserialize)]
struct EditorForm {
    #[serde(default)]
    original_slug: String,
    #[serde(default)]
    draft: ProviderDraft,
}

/// Form bodies larger than this are not an editor's (a logo is at most 256 KB as data URI).
const FORM_MAX: usize = 512 * 1024;

/// `POST /settings/users/oidc/test-sign-in`, for administrators. A plain form post, so every
/// refusal is a page ([`AppError::page`]; signed out, the login page).
pub fn route() -> MethodRouter<AppState> {
    post(start).layer(DefaultBodyLimit::max(FORM_MAX))
}

async fn start(
    State(state): State<AppState>,
    Admin(SignedIn {
        session,
        user: admin,
    }): Admin,
    client: ClientAddr,
    Binding(binding): Binding,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let binding = binding.unwrap_or_else(new_binding);
    let Ok(body) = body else {
        return message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "This is larger than any provider editor's form.",
        );
    };
    let Some(form) = parse(&body) else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "Not a test sign-in",
            "Not the provider editor's form.",
        );
    };
    let mut draft = form.draft;
    draft.http_image_origin = state.icons.http_origin();
    let slug = if form.original_slug.is_empty() {
        draft.slug.clone()
    } else {
        form.original_slug.clone()
    };
    let started = test_sign_in::start(
        &rp(&state),
        TestStart {
            draft,
            original_slug: form.original_slug,
            policy: IssuerPolicy {
                allow_insecure: state.allow_insecure_issuers,
            },
            admin_id: &admin.id,
            session_id: session.id(),
            binding: &binding,
            client: client.key(),
        },
    )
    .await;
    tracing::info!(admin = ?admin.username, provider = ?slug, "test sign-in started");
    {
        use portcullis::ssr::audit::{Actor, Entry, record};
        let by = Actor::user(&admin.id, &admin.username, client.0);
        let entry = Entry::new(portcullis::audit::EventKind::TestSignIn, &by)
            .target("provider", &slug, &slug)
            .detail("started", if started.is_ok() { "yes" } else { "refused" });
        record(&state.db, entry).await;
    }
    match started {
        Ok(Started::Provider(url)) => to_provider(with_binding(
            &state,
            Redirect::to(&url).into_response(),
            &binding,
        )),
        Ok(Started::Report(report)) => show(&state, &admin.id, binding, &report).await,
        Err(e) => AppError::from(e).page(),
    }
}

fn parse(body: &Bytes) -> Option<EditorForm> {
    let text = std::str::from_utf8(body).ok()?;
    serde_qs::Config::new(5, false)
        .deserialize_str::<EditorForm>(text)
        .ok()
}

/// Keeps the report for this administrator and browser and sends the browser to it.
async fn show(state: &AppState, admin_id: &str, binding: String, report: &TestReport) -> Response {
    if let Some(step) = test_sign_in::failed_step(report) {
        tracing::info!(provider = ?report.provider.slug, step, "test sign-in failed");
    }
    match test_sign_in::store_report(&state.db, admin_id, &binding, report).await {
        Ok(id) => with_binding(state, redirect(&format!("{REPORT_PATH}?id={id}")), &binding),
        Err(e) => AppError::from(e).page(),
    }
}

/// A test attempt's callback (taken from `oidc_pending` by `signin::finish`). It finishes
/// only in the session that started it, still signed in as the same administrator.
pub async fn callback(
    state: &AppState,
    session: &AuthSession,
    arrived_on: Option<&str>,
    callback: &Callback,
    pending: PendingRow,
    binding: Option<&str>,
) -> Response {
    let rp = rp(state);
    let Mode::Test { user_id } = pending.mode() else {
        return redirect("/login");
    };
    let same_session =
        session.id().is_some() && session.id() == test_sign_in::started_in_session(&rp, &pending);
    let admin = session_user(session, &state.db).await.ok().flatten();
    let (Some(admin), Some(binding), true) = (admin, binding, same_session) else {
        tracing::info!("test sign-in finished outside the session that started it; refused");
        return redirect("/login");
    };
    if admin.id != user_id || !admin.is_admin {
        tracing::info!("test sign-in finished by another user; refused");
        return redirect("/login");
    }
    let oidc_on = portcullis::ssr::providers::oidc_enabled(&state.db)
        .await
        .unwrap_or(false);
    let report = test_sign_in::finish(&rp, arrived_on, callback, &pending, oidc_on).await;
    show(state, &admin.id, binding.to_owned(), &report).await
}
