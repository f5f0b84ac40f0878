//! `/login`: username or email and password. Works as a plain form without JavaScript.

use crate::api::auth::{Login, LoginPageData, login_page};
use crate::components::field::{SubmitButton, TextField};
use crate::components::forms::Forms;
use crate::components::page::{Alert, DataPage};
use crate::components::provider_logo::ProviderLogo;
use crate::components::session::SessionContext;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = SessionContext::get();
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next"));
    let page = Resource::new(move || next.clone(), login_page);
    view! {
        <Title text="Sign in"/>
        <DataPage resource=page errors=move || session.login.failed() error_id=ids::LOGIN_ERROR notice_id=ids::LOGIN_NOTICE let:page>
            {match page.data {
                p if p.setup_open => view! { <Redirect path="/setup"/> }.into_any(),
                p if p.signed_in => view! { <Redirect path="/"/> }.into_any(),
                p => {
                    let next = query.with_untracked(|q| q.get("next")).unwrap_or_default();
                    // An application's `login_hint`: only ever the field's first value.
                    let hint = query.with_untracked(|q| q.get("login_hint"));
                    login_form(session.login, p, page.alert, next, hint).into_any()
                }
            }}
        </DataPage>
    }
}

fn login_form(
    action: ServerAction<Login>,
    page: LoginPageData,
    alert: Alert,
    next: String,
    hint: Option<String>,
) -> impl IntoView {
    let LoginPageData {
        providers,
        local_login,
        passkeys,
        ..
    } = page;
    // The server judges `next` (a path here, or a configured application's URL); the page
    // only passes it on.
    let next_param: String = Some(next.clone())
        .filter(|n| !n.is_empty() && n.len() <= 2048)
        .map(|n| {
            let encoded: String = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
            format!("&next={encoded}")
        })
        .unwrap_or_default();
    let has_providers = !providers.is_empty();
    let buttons = providers
        .into_iter()
        .map(|p| {
            // A plain link: works without JavaScript, and the router must not intercept it
            // (the server answers with a redirect to the provider).
            let href = format!("/login?provider={}{}", p.slug, next_param);
            view! {
                <a class="button provider-button" href=href rel="external" data-slug=p.slug.clone()>
                    <ProviderLogo logo=p.logo.clone() size=22/>
                    {format!("Sign in with {}", p.name)}
                </a>
            }
        })
        .collect_view();
    let field_errors = alert.field_errors();
    view! {
        <section class="card auth-card" id=ids::LOGIN_FORM>
            <h1>{if local_login { "Sign in" } else { "Sign in to continue" }}</h1>
            {alert.view()}
            {passkeys.then(|| passkey_part(&next, local_login || has_providers, "Sign in with a passkey"))}
            {has_providers.then(|| view! {
                <div class="providers" id=ids::LOGIN_PROVIDERS>{buttons}</div>
            })}
            {(has_providers && local_login).then(|| view! { <div class="divider">"or"</div> })}
            {local_login.then(move || view! {
            <ActionForm action=action>
                <input type="hidden" name="next" value=next/>
                <TextField
                    name="identifier"
                    label="Username or email"
                    // Passkeys offered in the browser's autofill (conditional UI).
                    autocomplete=if passkeys { "username webauthn" } else { "username" }
                    required=true
                    errors=field_errors
                    initial=hint
                />
                <TextField
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="current-password"
                    required=true
                    errors=field_errors
                />
                <SubmitButton pending=action.pending() label="Sign in"/>
            </ActionForm>
            })}
        </section>
    }
}

/// "Sign in with a passkey" (`label`): a button `public/pkg/passkey.js` shows and runs
/// (WebAuthn needs JavaScript), then on to `next`. Without JavaScript the page says so and
/// points to the other ways in, when there are any. Also the second-factor page's step-up.
pub(crate) fn passkey_part(next: &str, other_ways: bool, label: &'static str) -> impl IntoView {
    view! {
        <div id=ids::PASSKEY_SIGN_IN class="passkey-sign-in" data-passkey-sign-in data-next=next.to_owned() hidden>
            <button type="button" class="button">{label}</button>
            <p id=ids::PASSKEY_ERROR class="field-error" role="alert" hidden></p>
        </div>
        <noscript>
            <p id=ids::PASSKEY_NO_SCRIPT>
                {if other_ways {
                    "Signing in with a passkey needs JavaScript. Turn it on, or sign in another way below."
                } else {
                    "Signing in with a passkey needs JavaScript: turn it on for this site."
                }}
            </p>
        </noscript>
        {other_ways.then(|| view! { <div class="divider" data-passkey-sign-in hidden>"or"</div> })}
    }
}
