//! `/settings/users/oidc` (administrators): the OpenID Connect providers as cards, in
//! login-page order, with edit, enable/disable, reorder and delete.

use crate::api::order::{MoveEntry, Ordered};
use crate::api::providers::{
    DeleteProvider, OidcSettingsData, SetAutoRedirect, SetProviderEnabled, oidc_settings,
};
use crate::components::button_form::{Ask, ButtonForm};
use crate::components::copy_button::CopyValue;
use crate::components::field::Select;
use crate::components::forms::forms;
use crate::components::move_buttons::MoveButtons;
use crate::components::page::{Loaded, SettingsPage};
use crate::components::provider_logo::ProviderLogo;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::provider::ProviderView;

forms! {
    struct Actions {
        delete: DeleteProvider,
        shift: MoveEntry,
        toggle: SetProviderEnabled,
        auto: SetAutoRedirect,
    }
}

#[component]
pub fn OidcSettingsPage() -> impl IntoView {
    view! { <SettingsPage title="OpenID Connect" load=oidc_settings error_id=ids::OIDC_ERROR page=settings_view/> }
}

fn settings_view(
    Loaded { data: s, alert }: Loaded<OidcSettingsData>,
    actions: Actions,
) -> impl IntoView {
    let count = s.providers.len();
    let auto = auto_redirect_form(&s, actions);
    view! {
        <section class="card">
            <p class="crumbs"><a href="/settings/users">"Users"</a>" › OpenID Connect"</p>
            <div class="title-row">
                <h1>"OpenID Connect"</h1>
                <a class="button primary" href="/settings/users/oidc/new" id=ids::ADD_PROVIDER>"Add Provider"</a>
            </div>
            {(!s.oidc_enabled).then(|| view! {
                <p class="alert warn">"OpenID Connect sign-in is off: these providers are not shown on the login page. Turn it on under "<a href="/settings/users">"Login Methods"</a>"."</p>
            })}
            {alert.view()}
            <CopyValue value=s.redirect_uri.clone() label="Redirect URIs: each provider's is this, then / and its slug" id=ids::REDIRECT_URI/>
        </section>
        <ul class="provider-list" id=ids::PROVIDER_LIST aria-label="Providers">
            {if s.providers.is_empty() {
                view! { <li class="card empty">"No providers yet. Add one to offer one-click sign-in."</li> }.into_any()
            } else {
                s.providers
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| provider_card(p, i, count, actions))
                    .collect_view()
                    .into_any()
            }}
        </ul>
        {auto}
    }
}

/// "Go straight to a provider": the sign-in page's auto-redirect, among enabled providers.
fn auto_redirect_form(s: &OidcSettingsData, actions: Actions) -> impl IntoView + use<> {
    let current = s.auto_redirect.clone().unwrap_or_default();
    let choices = std::iter::once((String::new(), "No: show the sign-in page".to_owned()))
        .chain(
            s.providers
                .iter()
                .filter(|p| p.settings.enabled)
                .map(|p| (p.slug.clone(), p.name.clone())),
        )
        .collect();
    view! {
        <section class="card" aria-labelledby="auto-redirect-title">
            <h2 id="auto-redirect-title">"Sign-in page"</h2>
            <ActionForm action=actions.auto>
                <Select
                    id=ids::AUTO_REDIRECT
                    name="slug"
                    label="Go straight to a provider"
                    options=choices
                    selected=current
                    hint_describes=true
                >
                    "Visiting the sign-in page goes straight to this provider, and back to the page or application that asked. Not after signing out or a failed sign-in. "
                    <code>"/login?choose"</code>
                    " always shows the sign-in page; "
                    <code>"portcullis login-methods local enable"</code>
                    " on the server turns this off and password sign-in on."
                </Select>
                <button type="submit" class="button">"Save sign-in page"</button>
            </ActionForm>
        </section>
    }
}

fn provider_card(p: ProviderView, index: usize, count: usize, actions: Actions) -> impl IntoView {
    let links = p.linked_accounts;
    let delete_warning = match links {
        0 => "No linked accounts will be removed.".to_owned(),
        1 => "1 linked account will be removed.".to_owned(),
        n => format!("{n} linked accounts will be removed."),
    };
    let up_label = format!("Move {} up", p.name);
    let down_label = format!("Move {} down", p.name);
    let confirm_text = format!("Delete {}? {delete_warning}", p.name);
    let delete_label = format!("Delete {}", p.name);
    let delete = vec![("slug", p.slug.clone())];
    let toggle_value = (!p.settings.enabled).to_string();
    let toggle_label = if p.settings.enabled {
        "Disable"
    } else {
        "Enable"
    };
    view! {
        <li class="card provider-card" data-slug=p.slug.clone() aria-label=p.name.clone()>
            <div class="provider-head">
                <ProviderLogo logo=p.logo.clone() size=40/>
                <div class="provider-id">
                    <h2>{p.name.clone()}</h2>
                    <code>{p.slug.clone()}</code>
                </div>
                <span class="badge" class:on=p.settings.enabled>{if p.settings.enabled { "Enabled" } else { "Disabled" }}</span>
            </div>
            <dl class="facts">
                <dt>"Issuer"</dt>
                <dd>{p.issuer_url.clone()}</dd>
                <dt>"Client ID"</dt>
                <dd>{p.client_id.clone()}</dd>
                <dt>"Linked accounts"</dt>
                <dd>
                    {links}
                    {(p.unmatched_links > 0).then(|| format!(
                        " ({} from an earlier issuer: they no longer sign in; unlink them under Users)",
                        p.unmatched_links
                    ))}
                </dd>
                <dt>"Redirect URI"</dt>
                <dd><code>{p.redirect_uri.clone()}</code></dd>
            </dl>
            <div class="card-actions">
                <a class="button" href=format!("/settings/users/oidc/edit/{}", p.slug)>"Edit"</a>
                <ButtonForm action=actions.toggle values=vec![("slug", p.slug.clone()), ("enabled", toggle_value)] button=toggle_label/>
                <MoveButtons action=actions.shift list=Ordered::Provider key=p.slug.clone() index count labels=(up_label, down_label)/>
                <ButtonForm action=actions.delete values=delete button=delete_label class="danger" ask=Ask { summary: "Delete", question: confirm_text, danger: true }/>
            </div>
        </li>
    }
}
