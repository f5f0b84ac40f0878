//! `/profile/settings`: the user's own settings, with the Linked Accounts, Sessions,
//! Security and Tokens tabs.

use crate::api::linked::{LinkedAccountsData, Unlink, linked_accounts};
use crate::api::second_factor::security;
use crate::api::sessions::{EndOtherSessions, EndSession, my_sessions};
use crate::api::tokens::my_tokens;
use crate::components::button_form::{Ask, ButtonForm};
use crate::components::forms::Forms;
use crate::components::guard::authed;
use crate::components::page::{Alert, DataPage, Loaded, PageData};
use crate::components::provider_logo::ProviderLogo;
use crate::error::AppError;
use crate::ids;
use crate::pages::not_found::NotFound;
use crate::pages::profile_security::{SecurityForms, security_section};
use crate::pages::profile_sessions::sessions_list;
use crate::pages::profile_tokens::{TokenForms, tokens_section};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use portcullis::user::UserView;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    General,
    Linked,
    Sessions,
    Security,
    Tokens,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::General,
        Tab::Linked,
        Tab::Sessions,
        Tab::Security,
        Tab::Tokens,
    ];

    /// The last segment of its address (`/profile/settings/<segment>`; none for General).
    fn segment(self) -> &'static str {
        match self {
            Tab::General => "",
            Tab::Linked => "linked-accounts",
            Tab::Sessions => "sessions",
            Tab::Security => "security",
            Tab::Tokens => "tokens",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::General => "General",
            Tab::Linked => "Linked Accounts",
            Tab::Sessions => "Sessions",
            Tab::Security => "Security",
            Tab::Tokens => "Tokens",
        }
    }

    /// The ids of its link, its error and its notice (for tests).
    fn ids(self) -> [&'static str; 3] {
        match self {
            Tab::General => ["", "", ""],
            Tab::Linked => [
                ids::LINKED_ACCOUNTS_TAB,
                ids::LINKED_ERROR,
                ids::LINKED_NOTICE,
            ],
            Tab::Sessions => [ids::SESSIONS_TAB, ids::SESSIONS_ERROR, ids::SESSIONS_NOTICE],
            Tab::Security => [ids::SECURITY_TAB, ids::SECURITY_ERROR, ids::SECURITY_NOTICE],
            Tab::Tokens => [ids::TOKENS_TAB, ids::TOKENS_ERROR, ids::TOKENS_NOTICE],
        }
    }

    fn href(self) -> String {
        match self.segment() {
            "" => "/profile/settings".to_owned(),
            s => format!("/profile/settings/{s}"),
        }
    }
}

#[component]
pub fn ProfileSettingsPage() -> impl IntoView {
    let params = use_params_map();
    // `None`: an address that names no tab (the page answers 404).
    let tab = Memo::new(move |_| {
        let segment = params.with(|p| p.get("tab")).unwrap_or_default();
        Tab::ALL.into_iter().find(|t| t.segment() == segment)
    });
    let open = move |t: Tab| move || tab.get() == Some(t);
    // Owned by the page itself, not by the guard's Suspend (which may re-run and drop what
    // it created while a server call is still in flight).
    let unlink = ServerAction::<Unlink>::new();
    let ending = (
        ServerAction::<EndSession>::new(),
        ServerAction::<EndOtherSessions>::new(),
    );
    let security_forms = SecurityForms::new();
    let token_forms = TokenForms::new();
    let linked = tab_data(open(Tab::Linked), unlink, linked_accounts);
    let sessions = tab_data(open(Tab::Sessions), ending, my_sessions);
    let security = tab_data(open(Tab::Security), security_forms, security);
    let tokens = tab_data(open(Tab::Tokens), token_forms, my_tokens);
    view! {
        <Title text="Your settings"/>
        {move || match tab.get() {
            None => view! { <NotFound/> }.into_any(),
            Some(current) => authed(false, move |user| {
                let links = Tab::ALL
                    .into_iter()
                    .map(|t| {
                        let id = (!t.ids()[0].is_empty()).then_some(t.ids()[0]);
                        let here = (t == current).then_some("page");
                        view! { <a href=t.href() id=id aria-current=here>{t.label()}</a> }
                    })
                    .collect_view();
                let panel = match current {
                    Tab::General => general(user).into_any(),
                    Tab::Linked => tab_panel(Tab::Linked, unlink, linked, linked_list),
                    Tab::Sessions => tab_panel(Tab::Sessions, ending, sessions, sessions_list),
                    Tab::Security => {
                        tab_panel(Tab::Security, security_forms, security, security_section)
                    }
                    Tab::Tokens => tab_panel(Tab::Tokens, token_forms, tokens, tokens_section),
                };
                view! {
                    <section class="card">
                        <h1>"Your settings"</h1>
                        <nav class="tabs" aria-label="Settings sections">{links}</nav>
                        {panel}
                    </section>
                }
            })
            .into_any(),
        }}
    }
}

/// An open tab's panel: `section` shows its data once loaded, with the errors of its forms
/// and its notice.
fn tab_panel<F, T, IV>(
    tab: Tab,
    forms: F,
    data: Resource<Result<Option<T>, AppError>>,
    section: fn(T, Alert, F) -> IV,
) -> AnyView
where
    F: Forms,
    T: PageData + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    IV: IntoView + 'static,
{
    let [_, error_id, notice_id] = tab.ids();
    view! {
        <TabPanel forms data error_id notice_id let:panel>
            {section(panel.data, panel.alert, forms)}
        </TabPanel>
    }
    .into_any()
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
                            <ButtonForm
                                action=unlink
                                values=unlink_values
                                button=format!("Unlink {}", l.provider_name)
                                class="danger"
                                ask=Ask {
                                    summary: "Unlink",
                                    question: format!("Unlink {}? You will no longer be able to sign in with it.", l.provider_name),
                                    danger: false,
                                }
                            />
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
