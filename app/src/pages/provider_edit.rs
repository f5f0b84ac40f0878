//! `/settings/users/oidc/new` and `/settings/users/oidc/edit/:slug` (administrators).

use crate::api::providers::{oidc_settings, provider};
use crate::components::guard::authed;
use crate::components::provider_editor::{EditorProps, ProviderEditor};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use portcullis::provider::{IssuerPolicy, ProviderDraft};

#[component]
pub fn ProviderEditPage() -> impl IntoView {
    let params = use_params_map();
    // Owned by the page, not by the guard's Suspend (see `guard::authed`).
    let slug = move || params.with(|p| p.get("slug")).unwrap_or_default();
    let data = Resource::new(slug, |slug| async move {
        let settings = oidc_settings().await?;
        let existing = if slug.is_empty() {
            None
        } else {
            Some(provider(slug).await?)
        };
        Ok::<_, crate::error::AppError>((settings, existing))
    });
    view! {
        <Title text="OpenID Connect provider"/>
        {authed(true, move |_| {
            view! {
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok((settings, existing)) => {
                                let policy = IssuerPolicy { allow_insecure: settings.allow_insecure_issuers };
                                let props = match existing {
                                    Some(p) => EditorProps {
                                        draft: p.draft(),
                                        original_slug: p.slug.clone(),
                                        has_secret: p.has_client_secret,
                                        redirect_uri: settings.redirect_uri,
                                        policy,
                                        flash: settings.flash,
                                    },
                                    None => EditorProps {
                                        draft: ProviderDraft::new_default(),
                                        original_slug: String::new(),
                                        has_secret: false,
                                        redirect_uri: settings.redirect_uri,
                                        policy,
                                        flash: settings.flash,
                                    },
                                };
                                view! {
                                    <p class="crumbs">
                                        <a href="/settings/users">"Users"</a>" › "
                                        <a href="/settings/users/oidc">"OpenID Connect"</a>
                                    </p>
                                    <ProviderEditor props/>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            }
        })}
    }
}
