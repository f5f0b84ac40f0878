//! An on/off switch that is a real form: it works without JavaScript.

use crate::api::providers::SetLoginMethod;
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Turns a login method on or off through `set_login_method`.
#[component]
pub fn LoginMethodSwitch(
    action: ServerAction<SetLoginMethod>,
    method: &'static str,
    label: &'static str,
    on: bool,
    #[prop(optional)] id: &'static str,
) -> impl IntoView {
    view! {
        <ActionForm action=action>
            <input type="hidden" name="method" value=method/>
            <input type="hidden" name="enabled" value=(!on).to_string()/>
            <button
                type="submit"
                class="switch"
                role="switch"
                id=id
                aria-checked=on.to_string()
                disabled=move || action.pending().get()
            >
                <span class="switch-track" aria-hidden="true">
                    <span class="switch-thumb"></span>
                </span>
                <span class="switch-label">{label}</span>
            </button>
        </ActionForm>
    }
}
