//! A form posted from the browser as it would post itself, only without leaving the page:
//! its fields encoded by the browser (`URLSearchParams`), the submitting button included,
//! exactly what a post without JavaScript sends, so the server function reads both alike.
//! (Leptos's `ActionForm` would instead decode the fields into the function's arguments in
//! the browser and encode them again: serde_qs, both ways, in every editor's first load.)

use crate::error::AppError;

/// The fields of `form`, and the button that submitted it, URL-encoded by the browser.
pub fn form_body(
    form: &web_sys::HtmlFormElement,
    submitter: Option<&web_sys::HtmlButtonElement>,
) -> Option<String> {
    let fields = web_sys::FormData::new_with_form(form).ok()?;
    if let Some(button) = submitter.filter(|b| !b.name().is_empty()) {
        fields
            .append_with_str(&button.name(), &button.value())
            .ok()?;
    }
    let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&fields).ok()?;
    body.to_string().as_string()
}

/// Posts URL-encoded `body` to server function `url` as the hydrated app does (asking for
/// JSON): its answer, or `None` when it redirected (the browser then goes there, as after a
/// plain post), or its error.
pub async fn post<T: serde::de::DeserializeOwned>(
    url: &str,
    body: String,
) -> Result<Option<T>, AppError> {
    use leptos::server_fn::error::FromServerFnError;
    use leptos::server_fn::redirect::REDIRECT_HEADER;
    let failed = |e: gloo_net::Error| AppError::Transport(e.to_string());
    let response = gloo_net::http::Request::post(url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .map_err(failed)?
        .send()
        .await
        .map_err(failed)?;
    let headers = response.headers();
    if headers.has(REDIRECT_HEADER) {
        if let Some(to) = headers.get("location")
            && let Some(window) = web_sys::window()
        {
            let _ = window.location().set_href(&to);
        }
        return Ok(None);
    }
    let text = response.text().await.map_err(failed)?;
    if response.ok() {
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| AppError::Transport(e.to_string()))
    } else {
        Err(AppError::de(text.into()))
    }
}
