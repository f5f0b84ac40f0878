//! `/`: the signed-in start page.

use crate::components::guard::authed;
use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=""/>
        {authed(false, |user| {
            view! {
                <section class="card">
                    <h1>"Welcome, " {user.display_name.clone()}</h1>
                    <p id=ids::WHOAMI data-username=user.username.clone()>
                        "You are signed in as "
                        <strong>{user.username.clone()}</strong>
                        {user.email.clone().map(|e| format!(" ({e})"))}
                        {user.admin.then_some(", administrator")}
                        "."
                    </p>
                    <ul class="links">
                        <li>
                            <a href="/profile/settings">"Your settings"</a>
                        </li>
                        {user
                            .admin
                            .then(|| {
                                view! {
                                    <li>
                                        <a href="/settings/users">"Users and login methods"</a>
                                    </li>
                                }
                            })}
                    </ul>
                </section>
            }
        })}
    }
}
