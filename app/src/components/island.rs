//! What runs in the browser: the islands (`#[island]`: the provider and application
//! editors) and nothing else. Every other part of a page is rendered on the server only,
//! and its forms post without JavaScript (`app::auth::respond`), so a page without an island
//! loads no WebAssembly at all (issue 20; `docs/light-pages.md`).
//!
//! The shell loads the bundle on the routes that show an island (`app::shell`).

use crate::components::page::Alert;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What an island with one form starts with: the page marked live once it hydrated, its
/// form, posting to server function `S`, and its messages: the last post's error, else
/// `flash` (the one a post without JavaScript left), shown with id `error_id`.
pub fn island_form<S: ServerFn>(
    flash: Option<AppError>,
    error_id: &'static str,
) -> (IslandForm, Alert) {
    mark_hydrated();
    let form = IslandForm {
        url: S::PATH,
        pending: RwSignal::new(false),
        error: RwSignal::new(None),
    };
    let alert = Alert::new(form.error.into(), flash, error_id);
    (form, alert)
}

/// An island's form, posted as the browser posts it without JavaScript (its fields encoded
/// by the browser, `URLSearchParams`), only without leaving the page: the server function
/// reads both alike. Leptos's `ActionForm` would instead decode the fields into the
/// function's arguments in the browser and encode them again (serde_qs, both ways: 10 KB
/// of every editor page for nothing).
#[derive(Clone, Copy)]
pub struct IslandForm {
    url: &'static str,
    pending: RwSignal<bool>,
    error: RwSignal<Option<AppError>>,
}

impl IslandForm {
    /// Whether a post is on its way.
    pub fn pending(self) -> Signal<bool> {
        self.pending.into()
    }

    fn submit(self, ev: leptos::ev::SubmitEvent) {
        #[cfg(feature = "hydrate")]
        {
            // A button with a `formaction` of its own (Test sign-in) posts elsewhere: the
            // browser does that itself, a page navigation as without JavaScript; so it does
            // without the form's fields.
            if submitter_button(&ev).is_some_and(|b| b.has_attribute("formaction")) {
                return;
            }
            let Some(body) = form_body(&ev) else {
                return;
            };
            ev.prevent_default();
            self.pending.set(true);
            leptos::task::spawn_local(async move {
                let result = post::<serde::de::IgnoredAny>(self.url, body).await;
                self.pending.set(false);
                self.error.set(result.err());
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }
}

/// An island's `<form>`: a plain post to its server function, which the island takes over
/// once live.
#[component]
pub fn FormPost(form: IslandForm, children: Children) -> impl IntoView {
    view! {
        <form method="post" action=form.url on:submit=move |ev| form.submit(ev)>
            {children()}
        </form>
    }
}

/// The fields of the submitted form, and the button that submitted it, URL-encoded by the
/// browser.
#[cfg(feature = "hydrate")]
fn form_body(ev: &leptos::ev::SubmitEvent) -> Option<String> {
    use leptos::wasm_bindgen::JsCast;
    let form = ev.target()?.dyn_into::<web_sys::HtmlFormElement>().ok()?;
    let fields = web_sys::FormData::new_with_form(&form).ok()?;
    if let Some(button) = submitter_button(ev).filter(|b| !b.name().is_empty()) {
        fields
            .append_with_str(&button.name(), &button.value())
            .ok()?;
    }
    let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&fields).ok()?;
    body.to_string().as_string()
}

/// The button that submitted the form, if a button did.
#[cfg(feature = "hydrate")]
fn submitter_button(ev: &leptos::ev::SubmitEvent) -> Option<web_sys::HtmlButtonElement> {
    use leptos::wasm_bindgen::JsCast;
    ev.submitter()?.dyn_into().ok()
}

/// Posts URL-encoded `body` to server function `url` as the hydrated app does (asking for
/// JSON): its answer, or `None` when it redirected (the browser then goes there, as after a
/// plain post), or its error.
#[cfg(feature = "hydrate")]
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
        if let Some(to) = headers.get("location") {
            let _ = window().location().set_href(&to);
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

/// Marks the document `data-hydrated` once the island calling it is live (its Effect runs
/// after it hydrated). Tests wait for it; `public/pkg/page.js` sets it on pages without an
/// island once the page's own script ran.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}

/// The browser bundle's entry (the `frontend` crate calls it): the islands hydrate.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
