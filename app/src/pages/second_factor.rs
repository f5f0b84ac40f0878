//! `/second-factor`: a one-time code where one is asked for. Two cases, one form:
//! - the sign-in's second step for an account with one-time codes (the password was right;
//!   the browser is not signed in yet);
//! - the step-up: a session signed in with one factor opened something that requires two
//!   (forward auth sends it here with `?next=<the URL>`); a one-time code or a passkey
//!   (`public/pkg/passkey.js`, which signs in anew with it) gives the second, then on to
//!   `next`. An account with neither is told how to add one.
//!
//! The code form is a plain form: works without JavaScript.

use crate::api::second_factor::{SecondFactor, StepUp, second_factor_page};
use crate::components::field::{SubmitButton, TextField};
use crate::components::forms::Forms;
use crate::components::page::DataPage;
use crate::ids;
use crate::pages::login::passkey_part;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let action = ServerAction::<SecondFactor>::new();
    let page = Resource::new(|| (), |_| second_factor_page());
    let next = use_query_map()
        .with_untracked(|q| q.get("next"))
        .unwrap_or_default();
    view! {
        <Title text="Enter your code"/>
        <DataPage resource=page errors=move || action.failed() error_id=ids::SECOND_FACTOR_ERROR let:page>
            <section class="card auth-card" id=ids::SECOND_FACTOR_FORM>
                <h1>"Enter your code"</h1>
                {page.alert.view()}
                {
                    let errors = page.alert.field_errors();
                    let code_form = move |next: String, label: &'static str| view! {
                        <ActionForm action=action>
                            <input type="hidden" name="next" value=next/>
                            <TextField
                                name="code"
                                label="One-time code or recovery code"
                                autocomplete="one-time-code"
                                required=true
                                errors
                            />
                            <SubmitButton pending=action.pending() label/>
                        </ActionForm>
                    };
                    match (page.data.pending, page.data.step_up, page.data.two_factors) {
                        (true, _, _) => view! {
                            <p>"Your password was right. Enter the 6-digit code your authenticator app shows for this account, or one of your recovery codes."</p>
                            {code_form(String::new(), "Sign in")}
                            <p><a href="/login">"Start again"</a></p>
                        }
                        .into_any(),
                        (false, Some(up), _) => step_up(up, next.clone(), code_form).into_any(),
                        (false, None, true) => view! {
                            <p>"This session already has a second factor."</p>
                            <a class="button primary" href=continue_href(&next)>"Continue"</a>
                        }
                        .into_any(),
                        (false, None, false) => view! {
                            <p>"No sign-in is waiting for a code in this browser."</p>
                            <a class="button primary" href=sign_in_href(&next)>"Sign in"</a>
                        }
                        .into_any(),
                    }
                }
            </section>
        </DataPage>
    }
}

/// The step-up: what this account can give as its second factor.
fn step_up<V: IntoView>(
    up: StepUp,
    next: String,
    code_form: impl Fn(String, &'static str) -> V,
) -> impl IntoView {
    let nothing = !up.one_time_codes && !up.passkeys;
    view! {
        <p id=ids::STEP_UP>
            {format!("Signed in as {}. ", up.username)}
            "Where you are going needs a second factor: confirm it is you to continue."
        </p>
        {up.passkeys.then(|| passkey_part(&next, up.one_time_codes, "Use a passkey"))}
        {up.one_time_codes.then(|| code_form(next.clone(), "Continue"))}
        {nothing.then(|| view! {
            <p>
                "This account has no second factor yet. Add a passkey or one-time codes under "
                <a href="/profile/settings/security">"Profile → Security"</a>
                ", then come back."
            </p>
        })}
    }
}

/// Where the "Continue" link goes: `next` when it is a path here; an application's URL
/// through the page that judges it on the server (forward auth's continue page); else home.
fn continue_href(next: &str) -> String {
    if let Some(path) = portcullis::return_path::safe_return_path(next) {
        return path;
    }
    if next.is_empty() {
        return "/".to_owned();
    }
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("/api/v1/forward-auth/continue?next={next}")
}

/// The login page, bringing `next` along.
fn sign_in_href(next: &str) -> String {
    if next.is_empty() {
        return "/login".to_owned();
    }
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("/login?next={next}")
}
