//! The top bar: the product name, where you can go, and sign-out.

use crate::components::session::SessionContext;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;

#[component]
pub fn Nav() -> impl IntoView {
    let session = SessionContext::get();
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="24" height="24"/>
                "Portcullis"
            </a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    session.me.await.ok().flatten().map(|user| {
                        view! {
                            <nav aria-label="Main">
                                <a href="/profile/settings">"Profile"</a>
                                {user.admin.then(|| view! {
                                    <a href="/settings/users">"Settings"</a>
                                    <a href="/settings/applications">"Applications"</a>
                                    <a href="/settings/audit">"Audit log"</a>
                                })}
                                <span class="who">{user.display_name.clone()}</span>
                                <ActionForm action=session.logout>
                                    <button type="submit" class="link" id=ids::LOGOUT>
                                        "Sign out"
                                    </button>
                                </ActionForm>
                            </nav>
                        }
                    })
                })}
            </Transition>
        </header>
    }
}
