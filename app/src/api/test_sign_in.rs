//! Test sign-in's report (administrators). The test itself starts with a plain form post
//! from the provider editor (`server/src/test_sign_in.rs`), so it works without JavaScript.

use crate::error::AppError;
use leptos::prelude::*;
use portcullis::test_sign_in::TestReport;

/// The report `id`, once: for the administrator who ran the test, in the browser that ran
/// it, within 10 minutes. It is deleted as it is read.
#[server(endpoint = "admin/test_sign_in_report")]
pub async fn test_sign_in_report(id: String) -> Result<TestReport, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, admin| {
        let st = &cx.state;
        let binding = leptos_axum::extract_with_state::<crate::extract::Binding, _>(st)
            .await
            .ok()
            .and_then(|b| b.0);
        portcullis::ssr::oidc::test_sign_in::take_report(&st.db, &id, &admin.id, binding.as_deref())
            .await?
            .ok_or_else(|| {
                AppError::NotFound(
                    "This test report was shown already or has expired: a report is shown once, within 10 minutes, in the browser that ran the test. Run Test sign-in again from the provider editor."
                        .into(),
                )
            })
    })
    .await
}
