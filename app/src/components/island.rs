//! What runs in the browser: the islands (`#[island]`: the provider and application
//! editors) and nothing else. Every other part of a page is rendered on the server only,
//! and its forms post without JavaScript (`app::auth::respond`), so a page without an island
//! loads no WebAssembly at all (issue 20; `docs/light-pages.md`).
//!
//! The shell loads the bundle on the routes that show an island (`app::shell`).

use crate::components::forms::Forms;
use crate::components::page::Alert;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What an island with one form starts with: the page marked live once it hydrated, its
/// save action, and its messages: the action's error, else `flash` (the one a post without
/// JavaScript left), shown with id `error_id`.
pub fn island_form<S>(flash: Option<AppError>, error_id: &'static str) -> (ServerAction<S>, Alert)
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    mark_hydrated();
    let action = ServerAction::<S>::new();
    let alert = Alert::new(Signal::derive(move || action.failed()), flash, error_id);
    (action, alert)
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

/// The browser bundle's entry (the `frontend` crate calls it): server functions that answer
/// with a redirect (a saved editor goes back to its list) navigate, as a plain form post
/// would; then the islands hydrate.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    let _ = leptos::server_fn::redirect::set_redirect_hook(|url| {
        let _ = window().location().set_href(url);
    });
    leptos::mount::hydrate_islands();
}
