//! `/profile/settings`: the user's own settings, with the Linked Accounts and Sessions tabs.

use crate::api::linked::{LinkedAccountsData, Unlink, linked_accounts};
use crate::api::sessions::{EndOtherSessions, EndSession, my_sessions};
use crate::components::guard::authed;
use crate::components::page::{Alert, DataPage, failed};
use crate::components::provider_logo::ProviderLogo;
use crate::error::AppError;
use crate::ids;
use crate::pages::profile_sessions::SessionsTab;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use portcullis::user::UserView;

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    General,
    Linked,
    Sessions,
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
        } else {
            Tab::General
        }
    });
    let linked = move || tab.get() == Tab::Linked;
    // Owned by the page itself, not by the guard's Suspend (which may re-run and drop what
    // it created while a server call is still in flight).
    let unlink = ServerAction::<Unlink>::new();
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let data = Resource::new(
        move || (linked(), unlink.version().get()),
        |(on_tab, _)| async move {
            if on_tab {
                linked_accounts().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let sessions = Resource::new(
        move || {
            (
                tab.get() == Tab::Sessions,
                end.version().get(),
                end_others.version().get(),
            )
        },
        |(on_tab, _, _)| async move {
            if on_tab {
                my_sessions().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
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
                    </nav>
                    {move || match tab.get() {
                        Tab::Linked => view! { <LinkedAccounts unlink data/> }.into_any(),
                        Tab::Sessions => view! { <SessionsTab end end_others data=sessions/> }.into_any(),
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

#[component]
fn LinkedAccounts(
    unlink: ServerAction<Unlink>,
    data: Resource<Result<Option<LinkedAccountsData>, AppError>>,
) -> impl IntoView {
    view! {
        <DataPage
            resource=data
            errors=move || failed(unlink)
            error_id=ids::LINKED_ERROR
            notice_id=ids::LINKED_NOTICE
            let:page
        >
            {page.data.map(|d| linked_list(d, page.alert, unlink))}
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
                    let slug = l.provider_slug.clone();
                    let confirm = format!("Unlink {}? You will no longer be able to sign in with it.", l.provider_name);
                    let button = format!("Unlink {}", l.provider_name);
                    let confirm_label = format!("Unlink {}?", l.provider_name);
                    view! {
                        <li class="linked" data-slug=l.provider_slug.clone()>
                            <ProviderLogo logo=l.provider_logo.clone() size=28/>
                            <div class="linked-id">
                                <strong>{l.provider_name.clone()}</strong>
                                <span class="hint">{l.label.clone()}</span>
                            </div>
                            <details class="confirm">
                                <summary class="button">"Unlink"</summary>
                                <div class="confirm-box" role="alertdialog" aria-label=confirm_label>
                                    <p>{confirm}</p>
                                    <ActionForm action=unlink>
                                        <input type="hidden" name="slug" value=slug/>
                                        <button type="submit" class="danger">{button}</button>
                                    </ActionForm>
                                </div>
                            </details>
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
