//! `/profile/settings`: the user's own settings, with the Linked Accounts, Sessions and
//! Security tabs.

use crate::api::linked::{LinkedAccountsData, Unlink, linked_accounts};
use crate::api::second_factor::security;
use crate::api::sessions::{EndOtherSessions, EndSession, my_sessions};
use crate::components::button_form::ButtonForm;
use crate::components::confirm::Confirm;
use crate::components::forms::Forms;
use crate::components::guard::authed;
use crate::components::page::{Alert, DataPage, Loaded, PageData};
use crate::components::provider_logo::ProviderLogo;
use crate::error::AppError;
use crate::ids;
use crate::pages::profile_security::{SecurityForms, security_section};
use crate::pages::profile_sessions::sessions_list;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use portcullis::user::UserView;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    General,
    Linked,
    Sessions,
    Security,
}

#[component]
pub fn ProfileSettingsPage() -> impl IntoView {
    let location = use_location();
    let tab = Memo::new(move |_| {
        let path = location.pathname.get();
        if path.ends_with("/linked-accounts") {
            Tab::Linked
        } else if path.ends_with("/sessions") {
            Tab::Sessions
        } else if path.ends_with("/security") {
            Tab::Security
        } else {
            Tab::General
        }
    });
    // Owned by the page itself, not by the guard's Suspend (which may re-run and drop what
    // it created while a server call is still in flight).
    let unlink = ServerAction::<Unlink>::new();
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let data = tab_data(move || tab.get() == Tab::Linked, unlink, linked_accounts);
    let sessions = tab_data(
        move || tab.get() == Tab::Sessions,
        (end, end_others),
        my_sessions,
    );
    let security_forms = SecurityForms::new();
    let security = tab_data(move || tab.get() == Tab::Security, security_forms, security);
    let current = move |t: Tab| (tab.get() == t).then_some("page");
    view! {
        <Title text="Your settings"/>
        {authed(false, move |user| {
            view! {
                <section class="card">
                    <h1>"Your settings"</h1>
                    <nav class="tabs" aria-label="Settings sections">
                        <a href="/profile/settings" aria-current=move || current(Tab::General)>
                            "General"
                        </a>
                        <a
                            href="/profile/settings/linked-accounts"
                            id=ids::LINKED_ACCOUNTS_TAB
                            aria-current=move || current(Tab::Linked)
                        >
                            "Linked Accounts"
                        </a>
                        <a
                            href="/profile/settings/sessions"
                            id=ids::SESSIONS_TAB
                            aria-current=move || current(Tab::Sessions)
                        >
                            "Sessions"
                        </a>
                        <a
                            href="/profile/settings/security"
                            id=ids::SECURITY_TAB
                            aria-current=move || current(Tab::Security)
                        >
                            "Security"
                        </a>
                    </nav>
                    {move || match tab.get() {
                        Tab::Linked => view! {
                            <TabPanel forms=unlink data error_id=ids::LINKED_ERROR notice_id=ids::LINKED_NOTICE let:panel>
                                {linked_list(panel.data, panel.alert, unlink)}
                            </TabPanel>
                        }
                        .into_any(),
                        Tab::Sessions => view! {
                            <TabPanel forms=(end, end_others) data=sessions error_id=ids::SESSIONS_ERROR notice_id=ids::SESSIONS_NOTICE let:panel>
                                {sessions_list(panel.data, panel.alert, end, end_others)}
                            </TabPanel>
                        }
                        .into_any(),
                        Tab::Security => view! {
                            <TabPanel forms=security_forms data=security error_id=ids::SECURITY_ERROR notice_id=ids::SECURITY_NOTICE let:panel>
                                {security_section(panel.data, panel.alert, security_forms)}
                            </TabPanel>
                        }
                        .into_any(),
                        Tab::General => general(user.clone()).into_any(),
                    }}
                </section>
            }
        })}
    }
}

fn general(user: UserView) -> impl IntoView {
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

/// A tab's data: loaded while the tab is open, and again after any of its forms runs.
fn tab_data<F, T, Fut>(
    open: impl Fn() -> bool + Send + Sync + 'static,
    forms: F,
    load: fn() -> Fut,
) -> Resource<Result<Option<T>, AppError>>
where
    F: Forms,
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    Resource::new(
        move || (open(), forms.runs()),
        move |(open, _)| async move {
            if open {
                load().await.map(Some)
            } else {
                Ok(None)
            }
        },
    )
}

/// An open tab: its data once loaded, the errors of its forms and its notice.
#[component]
fn TabPanel<F, T, C, IV>(
    forms: F,
    data: Resource<Result<Option<T>, AppError>>,
    error_id: &'static str,
    notice_id: &'static str,
    children: C,
) -> impl IntoView
where
    F: Forms,
    T: PageData + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    C: Fn(Loaded<T>) -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    view! {
        <DataPage resource=data errors=move || forms.failed() error_id notice_id let:page>
            {page.data.map(|data| children(Loaded { data, alert: page.alert }))}
        </DataPage>
    }
}

fn linked_list(d: LinkedAccountsData, alert: Alert, unlink: ServerAction<Unlink>) -> impl IntoView {
    let token = d.link_token.clone();
    view! {
        <div id=ids::LINKED_ACCOUNTS>
            {alert.view()}
            {if d.links.is_empty() && d.available.is_empty() {
                view! { <p class="empty">"No identity providers are available for linking yet."</p> }.into_any()
            } else {
                ().into_any()
            }}
            <ul class="linked-list">
                {d.links.into_iter().map(|l| {
                    let unlink_values = vec![("slug", l.provider_slug.clone())];
                    view! {
                        <li class="linked" data-slug=l.provider_slug.clone()>
                            <ProviderLogo logo=l.provider_logo.clone() size=28/>
                            <div class="linked-id">
                                <strong>{l.provider_name.clone()}</strong>
                                <span class="hint">{l.label.clone()}</span>
                            </div>
                            <Confirm
                                summary="Unlink"
                                label=format!("Unlink {}?", l.provider_name)
                                question=format!("Unlink {}? You will no longer be able to sign in with it.", l.provider_name)
                            >
                                <ButtonForm
                                    action=unlink
                                    values=unlink_values
                                    button=format!("Unlink {}", l.provider_name)
                                    class="danger"
                                />
                            </Confirm>
                        </li>
                    }
                }).collect_view()}
                {d.available.into_iter().map(|p| {
                    // A plain form post (a full navigation to the provider, with or without
                    // JavaScript): the single-use link token travels in the body, never in a URL.
                    let action = format!("/login/{}/link", p.slug);
                    let label = format!("Link Account: {}", p.name);
                    view! {
                        <li class="linked available" data-slug=p.slug.clone()>
                            <ProviderLogo logo=p.logo.clone() size=28/>
                            <div class="linked-id"><strong>{p.name.clone()}</strong><span class="hint">"Not linked"</span></div>
                            <form method="post" action=action class="inline-form">
                                <input type="hidden" name="token" value=token.clone()/>
                                <button type="submit" class="button primary" aria-label=label>"Link Account"</button>
                            </form>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
