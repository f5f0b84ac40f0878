//! The text field: a labelled input (or a textarea of one value per line) with its hint and
//! its error message.

use super::{Bound, described_by, form_name};
use leptos::html::Input;
use leptos::prelude::*;
use portcullis::field::{FieldError, message_for};

/// A text field, bound to a value the page holds ([`Bound`]) or plain.
#[component]
pub fn TextField(
    /// The field's name in [`FieldError`]s; the input's id is `field-{name}`.
    name: &'static str,
    label: &'static str,
    /// Names the input `group[name]` in the form post (a struct argument of a server fn).
    #[prop(optional)]
    group: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    /// The hint is also the input's description (`aria-describedby`), besides the error.
    #[prop(optional)]
    hint_describes: bool,
    /// The errors to show: the message for `name`, if any, is shown below the input.
    #[prop(optional, into)]
    errors: Signal<Vec<FieldError>>,
    #[prop(optional)] bound: Option<Bound>,
    #[prop(optional)] node_ref: Option<NodeRef<Input>>,
    /// The input's first value when it is not bound (e.g. the login page's `login_hint`).
    #[prop(optional_no_strip)]
    initial: Option<String>,
    /// More than 0: a textarea of this many rows (one value per line) instead of an input.
    #[prop(optional)]
    rows: u32,
    /// Shown before the input, on its row.
    #[prop(optional, into)]
    before: Option<ViewFnOnce>,
    /// Shown after the input, on its row (e.g. a button that acts on the value).
    #[prop(optional, into)]
    after: Option<ViewFnOnce>,
    /// Shown below the hint and the error.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let message = move || errors.with(|e| message_for(e, name).map(str::to_owned));
    let form_name = form_name(group, name);
    let optional = |s: &'static str| (!s.is_empty()).then_some(s);
    let hint_id = (hint_describes && !hint.is_empty()).then(|| format!("{id}-hint"));
    let describedby = described_by([hint_id.as_deref(), Some(error_id.as_str())]);
    // The same behaviour for an input and a textarea.
    let set = move |ev: leptos::ev::Event| {
        if let Some(b) = bound {
            b.set.run(event_target_value(&ev));
        }
    };
    let touch = move |_: leptos::ev::FocusEvent| {
        if let Some(b) = bound {
            b.touch.run(());
        }
    };
    let invalid = move || message().is_some().to_string();
    let first = bound.map(|b| b.value.get_untracked()).or(initial);
    let value = {
        let first = first.clone();
        move || bound.map(|b| b.value.get()).or_else(|| first.clone())
    };
    // What the input and the textarea share.
    let common = view! {
        <{..}
            id=id.clone()
            name=form_name
            placeholder=optional(placeholder)
            readonly=readonly
            required=required
            prop:value=value
            on:input=set
            on:blur=touch
            aria-invalid=invalid
            aria-describedby=describedby
        />
    };
    let input = if rows > 0 {
        view! { <textarea {..common} rows=rows spellcheck="false">{first}</textarea> }.into_any()
    } else {
        view! {
            <input
                {..common}
                node_ref=node_ref.unwrap_or_default()
                type=kind
                autocomplete=optional(autocomplete)
                value=first
            />
        }
        .into_any()
    };
    let input = if before.is_some() || after.is_some() {
        view! {
            <div class="input-row">
                {before.map(ViewFnOnce::run)}
                {input}
                {after.map(ViewFnOnce::run)}
            </div>
        }
        .into_any()
    } else {
        input
    };
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id>{label}</label>
            {input}
            {optional(hint).map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            <p class="field-error" id=error_id role="alert">
                {message}
            </p>
            {children.map(|c| c())}
        </div>
    }
}
