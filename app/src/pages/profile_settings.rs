//! `/profile/settings`: the user's own settings, with the Linked Accounts tab.

use crate::components::guard::authed;
use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

#[component]
pub fn ProfileSettingsPage() -> impl IntoView {
    let location = use_location();
    let linked = move || location.pathname.get().ends_with("/linked-accounts");
    view! {
        <Title text="Your settings"/>
        {authed(false, move |user| {
            view! {
                <section class="card">
                    <h1>"Your settings"</h1>
                    <nav class="tabs" aria-label="Settings sections">
                        <a
                            href="/profile/settings"
                            aria-current=move || (!linked()).then_some("page")
                        >
                            "General"
                        </a>
                        <a
                            href="/profile/settings/linked-accounts"
                            id=ids::LINKED_ACCOUNTS_TAB
                            aria-current=move || linked().then_some("page")
                        >
                            "Linked Accounts"
                        </a>
                    </nav>
                    <Show
                        when=linked
                        fallback={
                            let user = user.clone();
                            move || {
                                view! {
                                    <dl class="facts">
                                        <dt>"Username"</dt>
                                        <dd>{user.username.clone()}</dd>
                                        <dt>"Email"</dt>
                                        <dd>{user.email.clone().unwrap_or_else(|| "—".into())}</dd>
                                        <dt>"Display name"</dt>
                                        <dd>{user.display_name.clone()}</dd>
                                        <dt>"Role"</dt>
                                        <dd>{if user.admin { "Administrator" } else { "User" }}</dd>
                                    </dl>
                                }
                            }
                        }
                    >
                        <p class="empty">
                            "No identity providers are set up yet. When an administrator adds one, you can link your account to it here."
                        </p>
                    </Show>
                </section>
            }
        })}
    }
}
