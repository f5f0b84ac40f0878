//! Profile → Security: one-time codes (TOTP) as a second factor for password sign-in. Set
//! up (a QR code drawn on the server and the secret as text), confirm with a code, the
//! recovery codes shown once, remove. Plain forms: it works without JavaScript.

use crate::api::second_factor::{PasskeyRemove, SecurityData, TotpConfirm, TotpRemove, TotpStart};
use crate::components::button_form::{Ask, ButtonForm};
use crate::components::confirm::Confirm;
use crate::components::field::{SubmitButton, TextField};
use crate::components::moment::{MaybeMoment, Moment};
use crate::components::page::Alert;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::passkeys::PasskeyView;
use portcullis::second_factor::{TotpStatus, show_recovery};

use crate::components::forms::forms;

forms! {
    /// The Security section's forms.
    pub struct SecurityForms {
        start: TotpStart,
        confirm: TotpConfirm,
        remove: TotpRemove,
        remove_passkey: PasskeyRemove,
    }
}

pub fn security_section(d: SecurityData, alert: Alert, forms: SecurityForms) -> impl IntoView {
    let errors = alert.field_errors();
    let passkeys = passkeys_part(d.passkeys, d.passkeys_available, forms.remove_passkey);
    let body = match d.totp {
        _ if !d.has_password => view! {
            <p id=ids::TOTP_STATUS>"This account has no password: it signs in with passkeys or through identity providers (their own second factors apply). One-time codes guard password sign-in only."</p>
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
            {passkeys}
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

/// The passkeys: the list (name, when added, last used, remove) and adding one, which needs
/// JavaScript (`public/pkg/passkey.js` talks to the authenticator): the form shows only once
/// that script runs, and without it the page says so.
fn passkeys_part(
    passkeys: Vec<PasskeyView>,
    available: bool,
    remove: ServerAction<PasskeyRemove>,
) -> impl IntoView {
    let list = if passkeys.is_empty() {
        view! { <p>"No passkeys yet."</p> }.into_any()
    } else {
        view! {
            <ul class="sessions" id=ids::PASSKEYS>
                {passkeys.into_iter().map(|p| passkey_item(p, remove)).collect_view()}
            </ul>
        }
        .into_any()
    };
    let add = if available {
        passkey_add_form(None).into_any()
    } else {
        view! {
            <p>"Passkeys are not available here: this server's public URL names no host (an IP address), and browsers make passkeys only for a host name."</p>
        }
        .into_any()
    };
    view! {
        <h2>"Passkeys"</h2>
        <p>"A passkey signs you in with your device's screen lock or a security key, without a password. It counts as two factors."</p>
        {list}
        {add}
    }
}

fn passkey_item(p: PasskeyView, remove: ServerAction<PasskeyRemove>) -> impl IntoView {
    let question = format!("Remove {}? It signs in no more.", p.name);
    let button = format!("Remove {}", p.name);
    let values = vec![("id", p.id.clone())];
    view! {
        <li class="session" data-passkey=p.id.clone()>
            <strong>{p.name.clone()}</strong>
            {p.backed_up.then(|| view! { <span class="hint">" synced"</span> })}
            <dl class="facts compact">
                <dt>"Added"</dt>
                <dd><Moment at=p.created_at/></dd>
                <dt>"Last used"</dt>
                <dd><MaybeMoment at=p.last_used_at none="never"/></dd>
            </dl>
            <ButtonForm action=remove values button class="danger" ask=Ask { summary: "Remove", question, danger: true }/>
        </li>
    }
}

/// "Add a passkey": a name and a button, run by `public/pkg/passkey.js` (hidden until it
/// runs; without JavaScript the words say it is needed). With `token`, it enrols through that
/// enrolment link instead of for the signed-in account.
pub fn passkey_add_form(token: Option<String>) -> impl IntoView {
    view! {
        <form id=ids::PASSKEY_ADD data-passkey-register data-token=token hidden>
            <TextField
                name="name"
                label="Name of the new passkey"
                hint="The device or password manager that keeps it, e.g. \u{201c}Laptop\u{201d}."
                required=true
            />
            <p id=ids::PASSKEY_ERROR class="field-error" role="alert" hidden></p>
            <button type="submit" class="primary">"Add a passkey"</button>
        </form>
        <noscript>
            <p id=ids::PASSKEY_NO_SCRIPT>"Adding a passkey needs JavaScript: your browser asks your device or security key to make it. Turn JavaScript on for this site to add one."</p>
        </noscript>
    }
}
