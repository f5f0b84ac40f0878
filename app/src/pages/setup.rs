//! `/setup`: the first visitor of a new installation creates the administrator, once.

use crate::api::auth::{Setup, setup_page};
use crate::components::field::Field;
use crate::components::session::SessionContext;
use crate::error::AppError;
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
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.open || p.flash.is_some() => {
                        setup_form(session.setup, p.flash, p.open).into_any()
                    }
                    Ok(_) => done().into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }
                        .into_any(),
                }
            })}
        </Transition>
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

fn setup_form(action: ServerAction<Setup>, flash: Option<AppError>, open: bool) -> impl IntoView {
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| flash.clone())
    });
    let field_errors = Signal::derive(move || {
        error
            .get()
            .map(|e| e.field_errors().to_vec())
            .unwrap_or_default()
    });
    view! {
        <section class="card auth-card" id=ids::SETUP_FORM>
            <h1>"Welcome to Portcullis"</h1>
            <p>"Create the administrator account. Only the first visitor can do this."</p>
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="alert error" role="alert" id=ids::SETUP_ERROR>
                                {e.to_string()}
                            </p>
                        }
                    })
            }}
            {(!open).then(|| view! { <a href="/login">"Sign in"</a> })}
            <ActionForm action=action>
                <Field
                    name="username"
                    label="Username"
                    autocomplete="username"
                    required=true
                    hint="Letters, digits, '.', '_' and '-'."
                    errors=field_errors
                />
                <Field
                    name="email"
                    label="Email"
                    kind="email"
                    autocomplete="email"
                    required=true
                    errors=field_errors
                />
                <Field
                    name="display_name"
                    label="Display name"
                    autocomplete="name"
                    hint="Optional; defaults to the username."
                    errors=field_errors
                />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    required=true
                    hint="At least 8 characters."
                    errors=field_errors
                />
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    "Create administrator"
                </button>
            </ActionForm>
        </section>
    }
}
