//! A labelled input with its error message beside it.

use leptos::prelude::*;
use portcullis::field::{FieldError, message_for};

#[component]
pub fn Field(
    /// The input's `name` (and the field name in [`FieldError`]s).
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: &'static str,
    /// The errors of the last submission.
    #[prop(into)]
    errors: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let message = move || errors.with(|e| message_for(e, name).map(str::to_owned));
    let described = error_id.clone();
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                aria-invalid=move || message().is_some().to_string()
                aria-describedby=described
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">
                {message}
            </p>
        </div>
    }
}
