//! `/second-factor`: the sign-in's second step for an account with one-time codes (the
//! password was right; the browser is not signed in yet). A plain form: works without
//! JavaScript.

use crate::api::second_factor::{SecondFactor, second_factor_page};
use crate::components::field::{SubmitButton, TextField};
use crate::components::forms::Forms;
use crate::components::page::DataPage;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let action = ServerAction::<SecondFactor>::new();
    let page = Resource::new(|| (), |_| second_factor_page());
    view! {
        <Title text="Enter your code"/>
        <DataPage resource=page errors=move || action.failed() error_id=ids::SECOND_FACTOR_ERROR let:page>
            <section class="card auth-card" id=ids::SECOND_FACTOR_FORM>
                <h1>"Enter your code"</h1>
                {page.alert.view()}
                {if page.data.pending {
                    let errors = page.alert.field_errors();
                    view! {
                        <p>"Your password was right. Enter the 6-digit code your authenticator app shows for this account, or one of your recovery codes."</p>
                        <ActionForm action=action>
                            <TextField
                                name="code"
                                label="One-time code or recovery code"
                                autocomplete="one-time-code"
                                required=true
                                errors
                            />
                            <SubmitButton pending=action.pending() label="Sign in"/>
                        </ActionForm>
                        <p><a href="/login">"Start again"</a></p>
                    }
                    .into_any()
                } else {
                    view! {
                        <p>"No sign-in is waiting for a code in this browser."</p>
                        <a class="button primary" href="/login">"Sign in"</a>
                    }
                    .into_any()
                }}
            </section>
        </DataPage>
    }
}
