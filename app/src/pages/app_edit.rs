//! `/settings/applications/new` and `/settings/applications/edit/:id` (administrators).

use crate::api::app_editor::{AppEditorData, app_editor};
use crate::components::app_editor::AppEditor;
use crate::components::page::DataPage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use portcullis::apps::AppDraft;

#[component]
pub fn AppEditPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).unwrap_or_default();
    let data = Resource::new(id, app_editor);
    view! {
        <Title text="Application"/>
            <DataPage resource=data let:page>
                <p class="crumbs">
                    <a href="/settings/applications">"Applications"</a>
                </p>
                {
                    let AppEditorData { app, client, discovery_url, http_image_origin, messages } = page.data;
                    let flash = messages.flash;
                    let (mut draft, id) = match app {
                        Some(a) => (a.draft(), a.id),
                        None => (AppDraft::new_default(), String::new()),
                    };
                    let secret_hint = client.as_ref().and_then(|c| c.secret_hint.clone());
                    let client_id_frozen = client.as_ref().is_some_and(|c| c.first_used_at.is_some());
                    if let Some(c) = client {
                        draft.client = c.draft();
                    }
                    view! { <AppEditor draft id http_image_origin flash secret_hint client_id_frozen discovery_url/> }
                }
            </DataPage>
    }
}
