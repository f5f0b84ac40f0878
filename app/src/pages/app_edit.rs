//! `/settings/applications/new` and `/settings/applications/edit/:id` (administrators).

use crate::api::app_editor::{AppEditorData, app_editor};
use crate::components::app_editor::AppEditor;
use crate::components::page::{DataPage, PageData};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use portcullis::apps::AppDraft;

impl PageData for AppEditorData {
    fn flash(&self) -> Option<AppError> {
        self.flash.clone()
    }
}

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
                    let flash = page.data.flash();
                    let AppEditorData { app, http_image_origin, .. } = page.data;
                    let (draft, id) = match app {
                        Some(a) => (a.draft(), a.id),
                        None => (AppDraft::new_default(), String::new()),
                    };
                    view! { <AppEditor draft id http_image_origin flash/> }
                }
            </DataPage>
    }
}
