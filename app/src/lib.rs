//! Portcullis UI: pages, components and server functions, rendered on the server and
//! hydrated in the browser.

pub mod api;
pub mod components;
pub mod error;
pub mod ids;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod extract;
#[cfg(feature = "ssr")]
pub mod html;
#[cfg(feature = "ssr")]
pub mod limiter;
#[cfg(feature = "ssr")]
pub mod state;

use crate::components::nav::Nav;
use crate::components::session::SessionContext;
use crate::pages::{
    app_edit::AppEditPage, apps_settings::AppsSettingsPage, home::HomePage, login::LoginPage,
    not_found::NotFound, oidc_settings::OidcSettingsPage, profile_settings::ProfileSettingsPage,
    provider_edit::ProviderEditPage, setup::SetupPage, test_report::TestReportPage,
    users_settings::UsersSettingsPage,
};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Outlet, ParentRoute, Route, Router, Routes},
    path,
};

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_security_headers();
    let hydrate = !is_plain_html_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // The app, and moments in the viewer's time zone (components/moment.rs): on
                // every page but the sign-in page, which shows no moments. Loaded everywhere
                // else because the client router moves between pages without a new document.
                {hydrate
                    .then(|| {
                        view! {
                            <HydrationScripts options/>
                            <script
                                type="module"
                                src="/pkg/moments.js"
                                nonce=leptos::nonce::use_nonce()
                            ></script>
                        }
                    })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The sign-in page is served as plain HTML and CSS, without the app's wasm: it is the page
/// everyone loads, it works fully as forms and links (the no-JavaScript path), and so it
/// costs a few KB instead of the whole app. Signed-in pages load the app and hydrate.
fn is_plain_html_page() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().is_some_and(|parts| parts.uri.path() == "/login")
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// A Content-Security-Policy that allows only our own script (by this response's nonce),
/// our wasm, our stylesheet; no framing.
#[cfg(feature = "ssr")]
fn set_security_headers() {
    use http::header::{CONTENT_SECURITY_POLICY, HeaderValue};
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(res) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    // Logos come from https URLs or data URIs; a plain-http icon host (a LAN mirror of the
    // catalogue) is allowed by name.
    let state = use_context::<state::AppState>();
    let icon_origin = state
        .as_ref()
        .and_then(|st| st.icons.http_origin())
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    // Leptos's `HydrationScripts` puts the nonce on its modulepreload link's `crossorigin`
    // instead of `nonce` (leptos 0.8.23), so the browser refuses the preload with a console
    // error; allowing exactly the bundle's URL lets it through without allowing any other
    // script.
    let bundle = state
        .as_ref()
        .map(|st| format!(" {}/pkg/portcullis.js", st.public_url.trim_end_matches('/')))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'{bundle} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' https: data:{icon_origin}; connect-src 'self'; \
         font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; \
         manifest-src 'self'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    SessionContext::provide();

    // Effects run only in the browser: tests wait for this marker to know the page is live.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/portcullis.css"/>
        <Title formatter=|page: String| {
            if page.is_empty() { "Portcullis".to_owned() } else { format!("{page} · Portcullis") }
        }/>
        <Router>
            <Nav/>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/profile/settings")
                        view=ProfileSettingsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/profile/settings/linked-accounts")
                        view=ProfileSettingsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/profile/settings/sessions")
                        view=ProfileSettingsPage
                        ssr=SsrMode::Async
                    />
                    // Administrators only: each page checks the caller (`guard::AdminPage`) around
                    // what it shows, while it owns its data (the guard may render it twice).
                    <ParentRoute path=path!("/settings") view=Outlet ssr=SsrMode::Async>
                        <Route path=path!("/users") view=UsersSettingsPage/>
                        <Route path=path!("/users/oidc") view=OidcSettingsPage/>
                        <Route path=path!("/users/oidc/new") view=ProviderEditPage/>
                        <Route path=path!("/users/oidc/edit/:slug") view=ProviderEditPage/>
                        <Route path=path!("/users/oidc/test-report") view=TestReportPage/>
                        <Route path=path!("/applications") view=AppsSettingsPage/>
                        <Route path=path!("/applications/new") view=AppEditPage/>
                        <Route path=path!("/applications/edit/:id") view=AppEditPage/>
                    </ParentRoute>
                </Routes>
            </main>
        </Router>
    }
}
