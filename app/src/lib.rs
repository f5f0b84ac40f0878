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
pub mod state;

use crate::components::guard::AdminSection;
use crate::components::nav::Nav;
use crate::components::session::SessionContext;
use crate::pages::{
    app_edit::AppEditPage, apps_settings::AppsSettingsPage, audit_log::AuditLogPage,
    home::HomePage, login::LoginPage, not_found::NotFound, oidc_settings::OidcSettingsPage,
    passkey_enrolment::PasskeyEnrolmentPage, profile_settings::ProfileSettingsPage,
    provider_edit::ProviderEditPage, second_factor::SecondFactorPage, setup::SetupPage,
    test_report::TestReportPage, users_settings::UsersSettingsPage,
};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The pages' resolved resources are still written into pages without the bundle (a few
    // hundred bytes nothing reads): turning that off (`set_is_hydrating(false)`, as the
    // bundle's loader does on the editors' pages) made `/login` render empty after a refused
    // sign-in (server/tests/hardening.rs, signin.rs).
    #[cfg(feature = "ssr")]
    set_security_headers();
    let scripts = page_scripts();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Moments in the viewer's time zone and copy buttons, without WebAssembly
                // (`public/pkg/page.js`); the bundle only on the editors' pages.
                {(scripts != Scripts::None).then(|| view! { <ModuleScript src="/pkg/page.js"/> })}
                // Passkeys (`public/pkg/passkey.js`): WebAuthn in the browser, where a page
                // offers a passkey ceremony.
                {passkey_script().then(|| view! { <ModuleScript src="/pkg/passkey.js"/> })}
                // The editors' script; its Leptos parts are fetched when first used, by the
                // split loader the bundle's glue imports (preloaded with it). Leptos's islands
                // loader (`islands=true`, the `islands` feature) only runs the bundle's entry
                // once the page is idle, and keeps the pages' resources out of the HTML.
                {(scripts == Scripts::Bundle).then(|| view! {
                    <HydrationScripts options=options.clone() islands=true/>
                    <link rel="modulepreload" href="/pkg/__wasm_split.js"/>
                })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A script module of ours, with this response's CSP nonce.
#[component]
fn ModuleScript(src: &'static str) -> impl IntoView {
    view! { <script type="module" nonce=leptos::nonce::use_nonce() src=src></script> }
}

/// What a page loads besides HTML and CSS.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scripts {
    /// The sign-in page, the page everyone loads: nothing, a few KB in all.
    None,
    /// `page.js` only (every page but the editors').
    Page,
    /// `page.js` and the bundle: the editors' script ([`loads_bundle`]). Only the server
    /// decides it (the shell is rendered there).
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    Bundle,
}

/// Decided by the path, before the page renders: the loader belongs in the head, and a page
/// may be built more than once while its data settles, so the page cannot say it once.
fn page_scripts() -> Scripts {
    #[cfg(feature = "ssr")]
    {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return Scripts::Page;
        };
        match parts.uri.path() {
            "/login" => Scripts::None,
            path if loads_bundle(path) => Scripts::Bundle,
            _ => Scripts::Page,
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        Scripts::Page
    }
}

/// The pages that offer a passkey ceremony load `passkey.js` (a few KB, no WebAssembly):
/// sign-in, first-run setup, Profile → Security and the enrolment link's page, where passkeys are available (`AppState::passkeys`).
fn passkey_script() -> bool {
    #[cfg(feature = "ssr")]
    {
        let available = use_context::<state::AppState>().is_some_and(|st| st.passkeys.is_some());
        available
            && use_context::<http::request::Parts>().is_some_and(|parts| {
                [
                    "/login",
                    "/setup",
                    "/profile/settings/security",
                    "/passkey-enrolment",
                    "/second-factor",
                ]
                .contains(&parts.uri.path())
            })
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// The routes that load the bundle (`App`, below): the provider and the application
/// editors, the only pages with a script that needs WebAssembly (`components::live_form`);
/// no other page does. A route that shows an editor but is missing here still works, as a
/// plain form (the editor specs notice); one listed that shows none loads the bundle for
/// nothing (the bench's no-wasm row notices: it asks this function which pages may).
pub fn loads_bundle(path: &str) -> bool {
    let on = |page: &str, edit: &str| path == page || path.starts_with(edit);
    on("/settings/users/oidc/new", "/settings/users/oidc/edit/")
        || on("/settings/applications/new", "/settings/applications/edit/")
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
    // script. The bundle imports its split modules' loader (`scripts/build.sh`), which the
    // policy names likewise.
    let bundle = state
        .as_ref()
        .map(|st| {
            let pkg = format!("{}/pkg", st.public_url.trim_end_matches('/'));
            format!(" {pkg}/portcullis.js {pkg}/__wasm_split.js")
        })
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
                    <Route path=path!("/second-factor") view=SecondFactorPage ssr=SsrMode::Async/>
                    <Route path=path!("/passkey-enrolment") view=PasskeyEnrolmentPage ssr=SsrMode::Async/>
                    // One page, its tabs by the last segment (`pages::profile_settings::Tab`).
                    <Route
                        path=path!("/profile/settings/:tab?")
                        view=ProfileSettingsPage
                        ssr=SsrMode::Async
                    />
                    // Administrators only: one guard for every settings page (`guard::AdminSection`).
                    <ParentRoute path=path!("/settings") view=AdminSection ssr=SsrMode::Async>
                        <Route path=path!("/users") view=UsersSettingsPage/>
                        <Route path=path!("/users/oidc") view=OidcSettingsPage/>
                        <Route path=path!("/users/oidc/new") view=ProviderEditPage/>
                        <Route path=path!("/users/oidc/edit/:slug") view=ProviderEditPage/>
                        <Route path=path!("/users/oidc/test-report") view=TestReportPage/>
                        <Route path=path!("/applications") view=AppsSettingsPage/>
                        <Route path=path!("/applications/new") view=AppEditPage/>
                        <Route path=path!("/applications/edit/:id") view=AppEditPage/>
                        <Route path=path!("/audit") view=AuditLogPage/>
                    </ParentRoute>
                </Routes>
            </main>
        </Router>
    }
}
