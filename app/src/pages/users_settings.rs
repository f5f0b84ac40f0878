//! `/settings/users` (administrators): login methods and the user list.

use crate::api::admin::users_settings;
use crate::components::guard::authed;
use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersSettingsPage() -> impl IntoView {
    view! {
        <Title text="Users"/>
        {authed(true, |_| {
            let settings = Resource::new(|| (), |_| users_settings());
            view! {
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match settings.await {
                            Ok(s) => {
                                view! {
                                    <section class="card" id=ids::LOGIN_METHODS>
                                        <h1>"Users"</h1>
                                        <h2>"Login Methods"</h2>
                                        <label class="toggle">
                                            <input type="checkbox" checked=s.local_login disabled=true/>
                                            <span>"Enable Local Sign-In"</span>
                                        </label>
                                        <p class="hint">
                                            "Username (or email) and password. At least one login method must stay enabled, so this stays on until another method is set up."
                                        </p>
                                    </section>
                                    <section class="card">
                                        <h2>"Accounts"</h2>
                                        <table id=ids::USER_LIST>
                                            <thead>
                                                <tr>
                                                    <th scope="col">"Username"</th>
                                                    <th scope="col">"Display name"</th>
                                                    <th scope="col">"Email"</th>
                                                    <th scope="col">"Role"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {s
                                                    .users
                                                    .into_iter()
                                                    .map(|u| {
                                                        view! {
                                                            <tr>
                                                                <td>{u.username}</td>
                                                                <td>{u.display_name}</td>
                                                                <td>{u.email.unwrap_or_default()}</td>
                                                                <td>{if u.admin { "Administrator" } else { "User" }}</td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </section>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }
                                .into_any(),
                        }
                    })}
                </Transition>
            }
        })}
    }
}
