//! `/setup`: the first visitor of a new installation creates the administrator, once.

use crate::api::auth::{Setup, setup_page};
use crate::components::field::{SubmitButton, TextField};
use crate::components::forms::Forms;
use crate::components::page::{Alert, DataPage};
use crate::components::session::SessionContext;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SetupPage() -> impl IntoView {
    let session = SessionContext::get();
    let page = Resource::new(|| (), |_| setup_page());
    view! {
        <Title text="Set up"/>
        <DataPage resource=page errors=move || session.setup.failed() error_id=ids::SETUP_ERROR let:page>
            {if page.data.open || page.data.messages.flash.is_some() {
                setup_form(session.setup, page.alert, page.data.open, page.data.passkeys).into_any()
            } else {
                done().into_any()
            }}
        </DataPage>
    }
}

fn done() -> impl IntoView {
    view! {
        <section class="card auth-card" id=ids::SETUP_FORM>
            <h1>"Setup is complete"</h1>
            <p>"This installation already has an administrator."</p>
            <a class="button primary" href="/login">"Sign in"</a>
        </section>
    }
}

fn setup_form(
    action: ServerAction<Setup>,
    alert: Alert,
    open: bool,
    passkeys: bool,
) -> impl IntoView {
    let field_errors = alert.field_errors();
    view! {
        <section class="card auth-card" id=ids::SETUP_FORM>
            <h1>"Welcome to Portcullis"</h1>
            <p>"Create the administrator account. Only the first visitor can do this."</p>
            {alert.view()}
            {(!open).then(|| view! { <a href="/login">"Sign in"</a> })}
            <ActionForm action=action>
                <TextField
                    name="username"
                    label="Username"
                    autocomplete="username"
                    required=true
                    hint="Letters, digits, '.', '_' and '-'."
                    errors=field_errors
                />
                <TextField
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="email"
                    required=true
                    errors=field_errors
                />
                <TextField
                    name="display_name"
                    label="Display name"
                    autocomplete="name"
                    hint="Optional; defaults to the username."
                    errors=field_errors
                />
                <TextField
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    hint="At least 8 characters."
                    errors=field_errors
                />
                <SubmitButton pending=action.pending() label="Create administrator"/>
            </ActionForm>
            {(open && passkeys).then(passkey_setup)}
        </section>
    }
}

/// "Create administrator with a passkey": the form's username, email and display name, no
/// password; `public/pkg/passkey.js` shows and runs it (the account, then its enrolment
/// link). Without JavaScript it stays hidden: the password form is the way.
fn passkey_setup() -> impl IntoView {
    view! {
        <div id=ids::PASSKEY_SETUP data-passkey-setup hidden>
            <div class="divider">"or"</div>
            <p class="hint">"No password: the administrator signs in with a passkey (your device's screen lock or a security key). Fill in the username and email above, then:"</p>
            <button type="button" class="button">"Create administrator with a passkey"</button>
            <p id=ids::PASSKEY_ERROR class="field-error" role="alert" hidden></p>
        </div>
    }
}
