//! `/settings/applications` (administrators): the applications behind forward
//! authentication, in start-page order, with edit, reorder and delete.

use crate::api::apps::{AppsSettingsData, DeleteApp, RotateClientSecret, list_apps};
use crate::api::order::{MoveEntry, Ordered};
use crate::components::app_icon::AppIcon;
use crate::components::button_form::{Ask, ButtonForm};
use crate::components::forms::forms;
use crate::components::move_buttons::MoveButtons;
use crate::components::page::{Loaded, SettingsPage};
use crate::ids;
use leptos::prelude::*;
use portcullis::apps::client::ClientView;
use portcullis::apps::{Access, AppView};

forms! {
    struct Actions {
        delete: DeleteApp,
        shift: MoveEntry,
        rotate: RotateClientSecret,
    }
}

#[component]
pub fn AppsSettingsPage() -> impl IntoView {
    view! { <SettingsPage title="Applications" load=list_apps error_id=ids::APPS_ERROR page=apps_view/> }
}

fn apps_view(Loaded { data, alert }: Loaded<AppsSettingsData>, actions: Actions) -> impl IntoView {
    let count = data.apps.len();
    view! {
        <section class="card">
            <div class="title-row">
                <h1>"Applications"</h1>
                <a class="button primary" href="/settings/applications/new" id=ids::ADD_APP>"Add Application"</a>
            </div>
            <p class="hint">
                "The apps Portcullis guards through your reverse proxy (forward authentication), in the order of the start page. Each is reached at its URLs; only the people chosen under \"Who may open it\" get through."
            </p>
            {alert.view()}
        </section>
        <ul class="provider-list" id=ids::APP_LIST aria-label="Applications">
            {if data.apps.is_empty() {
                view! {
                    <li class="card empty">
                        "No applications yet. Add the apps you run behind your reverse proxy to guard them with this sign-in and show them on the start page."
                    </li>
                }
                    .into_any()
            } else {
                let clients = data.clients;
                data.apps
                    .into_iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let client = clients.iter().find(|(id, _)| *id == a.id).map(|(_, c)| c.clone());
                        app_card(a, client, i, count, actions)
                    })
                    .collect_view()
                    .into_any()
            }}
        </ul>
    }
}

/// Who may open an application, in words.
pub fn access_text(app: &AppView) -> String {
    match app.settings.access {
        Access::Users | Access::Admins => app.settings.access.label().to_owned(),
        Access::Listed => {
            let mut parts = Vec::new();
            if !app.settings.users.is_empty() {
                parts.push(format!("users {}", app.settings.users.join(", ")));
            }
            if !app.settings.groups.is_empty() {
                parts.push(format!("groups {}", app.settings.groups.join(", ")));
            }
            format!("Listed: {}", parts.join("; "))
        }
    }
}

fn app_card(
    a: AppView,
    client: Option<ClientView>,
    index: usize,
    count: usize,
    actions: Actions,
) -> impl IntoView {
    let up_label = format!("Move {} up", a.settings.name);
    let down_label = format!("Move {} down", a.settings.name);
    let confirm_text = format!(
        "Delete {}? Its URLs are then refused by the check endpoint (nobody gets through) until you add it again.",
        a.settings.name
    );
    let delete_label = format!("Delete {}", a.settings.name);
    let delete = vec![("id", a.id.clone())];
    let edit_label = format!("Edit {}", a.settings.name);
    let access = access_text(&a);
    let rotate = client.as_ref().filter(|c| c.settings.auth_method.confidential()).map(|_| {
        (
            format!(
                "Make a new client secret for {}? The old one stops working at once: the application cannot sign anyone in until it has the new one.",
                a.settings.name
            ),
            format!("New secret for {}", a.settings.name),
        )
    });
    view! {
        <li class="card provider-card" data-app=a.settings.name.clone() aria-label=a.settings.name.clone()>
            <div class="provider-head">
                <AppIcon icon=a.settings.icon.clone() size=40/>
                <div class="provider-id">
                    <h2>{a.settings.name.clone()}</h2>
                </div>
            </div>
            <dl class="facts">
                <dt>"URLs"</dt>
                <dd>
                    <ul class="plain">
                        {a.settings.urls.iter().map(|u| view! { <li><code>{u.clone()}</code></li> }).collect_view()}
                    </ul>
                </dd>
                <dt>"Who may open it"</dt>
                <dd class="access">{access}</dd>
                {client.as_ref().map(|c| view! {
                    <dt>"OpenID Connect client ID"</dt>
                    <dd><code class="client-id">{c.client_id.clone()}</code></dd>
                })}
            </dl>
            <div class="card-actions">
                <a class="button" href=format!("/settings/applications/edit/{}", a.id) aria-label=edit_label>"Edit"</a>
                <MoveButtons action=actions.shift list=Ordered::App key=a.id.clone() index count labels=(up_label, down_label)/>
                {rotate.map(|(question, button)| view! {
                    <ButtonForm action=actions.rotate values=vec![("id", a.id.clone())] button ask=Ask { summary: "New secret", question, danger: false }/>
                })}
                <ButtonForm action=actions.delete values=delete button=delete_label class="danger" ask=Ask { summary: "Delete", question: confirm_text, danger: true }/>
            </div>
        </li>
    }
}
