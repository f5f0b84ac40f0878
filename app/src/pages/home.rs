//! `/`: the signed-in start page, a portal: the applications this user may open, as tiles
//! in the configured order.

use crate::api::apps::my_apps;
use crate::components::app_icon::AppIcon;
use crate::components::guard::authed;
use crate::components::page::{DataPage, PageData};
use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;
use portcullis::apps::AppTile;

impl PageData for Vec<AppTile> {}

#[component]
pub fn HomePage() -> impl IntoView {
    // Owned by the page, not by the guard's Suspend (see `guard::authed`).
    let apps = Resource::new(|| (), |_| my_apps());
    view! {
        <Title text=""/>
        {authed(false, move |user| {
            let admin = user.admin;
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
                                    <li>
                                        <a href="/settings/applications">"Applications"</a>
                                    </li>
                                }
                            })}
                    </ul>
                </section>
                <section class="card" aria-labelledby="apps-title">
                    <h2 id="apps-title">"Your applications"</h2>
                    <DataPage resource=apps let:page>
                        {tiles(page.data, admin)}
                    </DataPage>
                </section>
            }
        })}
    }
}

fn tiles(apps: Vec<AppTile>, admin: bool) -> impl IntoView {
    if apps.is_empty() {
        let text = if admin {
            view! {
                <p class="empty" id=ids::APP_TILES_EMPTY>
                    "No applications yet. Add the apps you run behind your reverse proxy under "
                    <a href="/settings/applications">"Settings → Applications"</a>
                    "; each one you may open shows here."
                </p>
            }
            .into_any()
        } else {
            view! {
                <p class="empty" id=ids::APP_TILES_EMPTY>
                    "No applications for you yet. When an administrator gives you access to one, it shows here."
                </p>
            }
            .into_any()
        };
        return text;
    }
    view! {
        <ul class="app-tiles" id=ids::APP_TILES>
            {apps
                .into_iter()
                .map(|a| {
                    view! {
                        <li>
                            <a class="app-tile" href=a.url.clone() data-app=a.name.clone()>
                                <AppIcon icon=a.icon.clone() size=48/>
                                <span class="app-name">{a.name.clone()}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
