//! Profile → Tokens: personal access tokens for scripts and apps that cannot sign in (they
//! present one to forward auth). Make one (a name, an expiry, the applications it may open;
//! shown once), see them with their last use, revoke. Plain forms: works without JavaScript.

use crate::api::tokens::{CreateToken, RevokeToken, TokensData};
use crate::components::button_form::{Ask, ButtonForm};
use crate::components::copy_button::CopyValue;
use crate::components::field::{CheckGroup, Select, SubmitButton, TextField};
use crate::components::forms::forms;
use crate::components::moment::{MaybeMoment, Moment};
use crate::components::page::Alert;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::field::message_for;
use portcullis::tokens::{EXPIRY_DAYS, TokenView};

forms! {
    /// The Tokens section's forms.
    pub struct TokenForms {
        create: CreateToken,
        revoke: RevokeToken,
    }
}

pub fn tokens_section(d: TokensData, alert: Alert, forms: TokenForms) -> impl IntoView {
    let errors = alert.field_errors();
    let field_error = move |name: &'static str| {
        Signal::derive(move || errors.with(|e| message_for(e, name).map(str::to_owned)))
    };
    let expiries = EXPIRY_DAYS
        .iter()
        .map(|d| {
            let words = match d {
                0 => "Never".to_owned(),
                365 => "In a year".to_owned(),
                d => format!("In {d} days"),
            };
            (d.to_string(), words)
        })
        .collect();
    view! {
        <div id=ids::TOKENS>
            {alert.view()}
            <p>"A personal access token lets a script or an app that cannot sign in (a backup job, a phone app's API client, curl) open the applications you choose, as you: it sends "<code>"Authorization: Bearer <token>"</code>" (or the token as the password of HTTP Basic). Only applications an administrator allows tokens for are offered."</p>
            {d.new_token.map(|(name, token)| view! {
                <div class="alert ok" role="status">
                    <p>{format!("Your new token \"{name}\". Copy it now: it is shown only this once.")}</p>
                    <CopyValue value=token label="New token" id=ids::NEW_TOKEN/>
                </div>
            })}
            <h2>"Your tokens"</h2>
            {if d.tokens.is_empty() {
                view! { <p class="empty">"No tokens yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="session-list" id=ids::TOKEN_LIST>
                        {d.tokens.into_iter().map(|t| token_item(t, forms.revoke)).collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <h2>"New token"</h2>
            <ActionForm action=forms.create attr:id=ids::TOKEN_FORM>
                <TextField name="name" group="draft" label="Name" hint="What uses it, to know it again in this list." required=true errors/>
                <Select id="field-expires_in_days" name="draft[expires_in_days]" label="Expires" options=expiries selected="90" error=field_error("expires_in_days")/>
                <CheckGroup
                    name="apps"
                    group="draft"
                    legend="Applications it may open"
                    options=d.apps
                    empty="No application accepts tokens yet: an administrator can allow them in an application's settings."
                    error=field_error("apps")
                />
                <SubmitButton pending=forms.create.pending() label="Make token"/>
            </ActionForm>
        </div>
    }
}

fn token_item(t: TokenView, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let question = format!(
        "Revoke {}? Whatever uses it is refused from now on.",
        t.name
    );
    let button = format!("Revoke {}", t.name);
    let values = vec![("id", t.id.clone())];
    view! {
        <li class="session" data-token=t.id.clone()>
            <strong>{t.name.clone()}</strong>
            <span class="hint">{format!(" ends in …{}", t.hint)}</span>
            <dl class="facts compact">
                <dt>"Opens"</dt>
                <dd>{if t.apps.is_empty() { "no application any more".to_owned() } else { t.apps.join(", ") }}</dd>
                <dt>"Made"</dt>
                <dd><Moment at=t.created_at/></dd>
                <dt>"Expires"</dt>
                <dd><MaybeMoment at=t.expires_at none="never"/></dd>
                <dt>"Last used"</dt>
                <dd><MaybeMoment at=t.last_used_at none="never"/></dd>
            </dl>
            <ButtonForm action=revoke values button class="danger" ask=Ask { summary: "Revoke", question, danger: true }/>
        </li>
    }
}
