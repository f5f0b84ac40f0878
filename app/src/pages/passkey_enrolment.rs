//! `/passkey-enrolment?token=`: an administrator's one-time enrolment link (24 hours): add
//! a passkey to the account it names, and be signed in with it. How passkey-only accounts
//! get their first passkey. Needs JavaScript (`public/pkg/passkey.js`); without it the page
//! says so.

use crate::api::second_factor::{EnrolmentPageData, enrolment_page};
use crate::components::page::{DataPage, PageData};
use crate::pages::profile_security::passkey_add_form;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

impl PageData for EnrolmentPageData {}

#[component]
pub fn PasskeyEnrolmentPage() -> impl IntoView {
    let token = use_query_map()
        .with_untracked(|q| q.get("token"))
        .unwrap_or_default();
    let page = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        enrolment_page,
    );
    view! {
        <Title text="Add a passkey"/>
        <DataPage resource=page let:page>
            <section class="card auth-card">
                <h1>"Add a passkey"</h1>
                {match page.data {
                    d if !d.passkeys_available => view! {
                        <p>"Passkeys are not available here: this server's public URL names no host (an IP address)."</p>
                    }
                    .into_any(),
                    EnrolmentPageData { username: Some(username), .. } => view! {
                        <p>{format!("Add a passkey to the account {username}: you will sign in with it, with your device's screen lock or a security key. This link works once.")}</p>
                        {passkey_add_form(Some(token.clone()))}
                    }
                    .into_any(),
                    _ => view! {
                        <p>"This enrolment link has expired or was used already (it works once, for 24 hours). Ask your administrator for a new one."</p>
                        <a class="button" href="/login">"Sign in"</a>
                    }
                    .into_any(),
                }}
            </section>
        </DataPage>
    }
}
