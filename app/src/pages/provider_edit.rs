//! `/settings/users/oidc/new` and `/settings/users/oidc/edit/:slug` (administrators).

use crate::api::providers::{OidcSettingsData, oidc_settings, provider};
use crate::components::page::{DataPage, Messages, PageData};
use crate::components::provider_editor::{EditorProps, ProviderEditor};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use portcullis::provider::{ProviderDraft, ProviderView};
use serde::{Deserialize, Serialize};

/// The settings (redirect URI, issuer policy, flash) and the provider being edited, if any.
#[derive(Clone, Serialize, Deserialize)]
struct EditorData {
    settings: OidcSettingsData,
    existing: Option<ProviderView>,
}

impl PageData for EditorData {
    fn messages(&self) -> Messages {
        self.settings.messages()
    }
}

impl EditorData {
    fn props(self) -> EditorProps {
        let EditorData { settings, existing } = self;
        let (draft, original_slug, has_secret) = match existing {
            Some(p) => (p.draft(), p.slug.clone(), p.has_client_secret),
            None => (ProviderDraft::new_default(), String::new(), false),
        };
        EditorProps {
            draft,
            http_image_origin: settings.rules.http_image_origin,
            original_slug,
            has_secret,
            redirect_uri: settings.redirect_uri,
            policy: settings.rules.policy,
        }
    }
}

#[component]
pub fn ProviderEditPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug")).unwrap_or_default();
    let data = Resource::new(slug, |slug| async move {
        let settings = oidc_settings().await?;
        let existing = if slug.is_empty() {
            None
        } else {
            Some(provider(slug).await?)
        };
        Ok::<_, AppError>(EditorData { settings, existing })
    });
    view! {
        <Title text="OpenID Connect provider"/>
            <DataPage resource=data let:page>
                <p class="crumbs">
                    <a href="/settings/users">"Users"</a>" › "
                    <a href="/settings/users/oidc">"OpenID Connect"</a>
                </p>
                {
                    let flash = page.data.messages().flash;
                    view! { <ProviderEditor props=page.data.props() flash/> }
                }
            </DataPage>
    }
}
