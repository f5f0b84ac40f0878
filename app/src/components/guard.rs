//! Pages for signed-in users and for administrators. This is navigation, not security: every
//! server function checks the caller again.

use crate::components::page::DataPage;
use crate::components::session::SessionContext;
use crate::ids;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;
use portcullis::user::UserView;

/// Renders `page` for the signed-in user; sends visitors to `/login` (coming back here
/// afterwards) and answers non-admins with 403 when `admin` is set.
///
/// `page` may run more than once while the user resource settles, and what it creates is
/// dropped with each run: create resources and actions in the page component, outside
/// `page`, or a server call in flight loses its context.
pub fn authed<F, IV>(admin: bool, page: F) -> impl IntoView
where
    F: Fn(UserView) -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    let session = SessionContext::get();
    let location = use_location();
    view! {
        <DataPage resource=session.me let:me>
            {match me.data {
                Some(user) if !admin || user.admin => page(user).into_any(),
                Some(_) => forbidden().into_any(),
                None => {
                    let here = format!(
                        "{}{}",
                        location.pathname.get_untracked(),
                        location.search.get_untracked(),
                    );
                    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
                    view! { <Redirect path=format!("/login?next={next}")/> }.into_any()
                }
            }}
        </DataPage>
    }
}

/// The `/settings` routes (administrators only): the one check of who may see them, and
/// its answer for anyone else (see [`authed`]). The page itself is the [`Outlet`], built
/// outside the check's suspense so that it is built once (a page built inside it would be
/// built again as each of its resources settles during server rendering, and the test report,
/// shown once, would be gone the second time). For anyone but an administrator the page's
/// own data is refused by its server functions, and [`DataPage`] then shows nothing: the
/// answer is the gate's.
#[component]
pub fn AdminSection() -> impl IntoView {
    view! {
        {authed(true, |_| ())}
        <Outlet/>
    }
}

fn forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="card" id=ids::FORBIDDEN>
            <h1>"Administrators only"</h1>
            <p>"Your account cannot open this page. Ask an administrator if you need access."</p>
            <a href="/">"Back to the start page"</a>
        </section>
    }
}
