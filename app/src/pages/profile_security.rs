//! Profile → Security: one-time codes (TOTP) as a second factor for password sign-in. Set
//! up (a QR code drawn on the server and the secret as text), confirm with a code, the
//! recovery codes shown once, remove. Plain forms: it works without JavaScript.

use crate::api::second_factor::{SecurityData, TotpConfirm, TotpRemove, TotpStart};
use crate::components::confirm::Confirm;
use crate::components::field::{SubmitButton, TextField};
use crate::components::page::Alert;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::second_factor::{TotpStatus, show_recovery};

use crate::components::forms::forms;

forms! {
    /// The Security section's forms.
    pub struct SecurityForms {
        start: TotpStart,
        confirm: TotpConfirm,
        remove: TotpRemove,
    }
}

pub fn security_section(d: SecurityData, alert: Alert, forms: SecurityForms) -> impl IntoView {
    let errors = alert.field_errors();
    let body = match d.totp {
        _ if !d.has_password => view! {
            <p id=ids::TOTP_STATUS>"This account signs in through identity providers, not with a password: their own second factors apply."</p>
        }
        .into_any(),
        TotpStatus::Off => view! {
            <p id=ids::TOTP_STATUS>"Off. With one-time codes on, every password sign-in also asks for a 6-digit code from an authenticator app (such as Aegis, 2FAS, Google Authenticator or a password manager)."</p>
            <ActionForm action=forms.start>
                <button type="submit" class="primary" id=ids::TOTP_START>"Set up one-time codes"</button>
            </ActionForm>
        }
        .into_any(),
        TotpStatus::Enrolling { secret, qr } => {
            view! {
                <p id=ids::TOTP_STATUS>"Not on yet: scan the QR code with your authenticator app (or type the key in), then enter the code it shows."</p>
                <img
                    id=ids::TOTP_QR
                    class="totp-qr"
                    src=qr
                    width="200"
                    height="200"
                    alt="QR code holding the setup key shown below as text"
                />
                <p>
                    "Setup key: "
                    <code id=ids::TOTP_SECRET class="totp-secret">{secret}</code>
                </p>
                <ActionForm action=forms.confirm attr:id=ids::TOTP_CONFIRM>
                    <TextField
                        name="code"
                        label="Code from the app"
                        autocomplete="one-time-code"
                        required=true
                        errors
                    />
                    <SubmitButton pending=forms.confirm.pending() label="Turn on"/>
                </ActionForm>
                <ActionForm action=forms.remove>
                    <button type="submit">"Cancel setup"</button>
                </ActionForm>
            }
            .into_any()
        }
        TotpStatus::On { recovery_codes_left } => view! {
            <p id=ids::TOTP_STATUS>
                {format!("On: every password sign-in asks for a code. {recovery_codes_left} unused recovery code{} left.", if recovery_codes_left == 1 { "" } else { "s" })}
            </p>
            <Confirm
                summary="Remove one-time codes"
                danger=true
                label="Remove one-time codes?"
                question="Password sign-in will no longer ask for a code. Confirm with a current code, a recovery code or your password."
            >
                <ActionForm action=forms.remove attr:id=ids::TOTP_REMOVE>
                    <TextField
                        name="code"
                        label="Code, recovery code or password"
                        kind="password"
                        autocomplete="current-password"
                        required=true
                        errors
                    />
                    <button type="submit" class="danger">"Remove"</button>
                </ActionForm>
            </Confirm>
        }
        .into_any(),
    };
    view! {
        <div id=ids::SECURITY>
            {alert.view()}
            <h2>"One-time codes"</h2>
            {d.fresh_recovery_codes.map(|codes| view! {
                <div class="recovery-codes">
                    <h3>"Your recovery codes"</h3>
                    <p>"Each works once instead of a code, if you lose your authenticator. Keep them somewhere safe: they are shown only now."</p>
                    <ul id=ids::RECOVERY_CODES>
                        {codes.iter().map(|c| view! { <li><code>{show_recovery(c)}</code></li> }).collect_view()}
                    </ul>
                </div>
            })}
            {body}
        </div>
    }
}
