//! The form controls of the app, each with its label, its hint and its error message in one
//! markup: a text field (an input, or a textarea for one value per line), a select, a
//! checkbox, a group of checkboxes and a radio group; and the submit button of the forms made of them. Each posts
//! under its `name` as a plain form field, so every form works without JavaScript.

mod check_group;
mod checkbox;
mod radio;
mod select;
mod text;

pub use check_group::CheckGroup;
pub use checkbox::Checkbox;
pub use radio::{Radio, RadioGroup};
pub use select::Select;
pub use text::{TextField, TextFieldProps};

use leptos::prelude::*;

/// A field bound to a value the page holds and updates as the user types. Without one, the
/// input is a plain form field (its value goes with the form post).
#[derive(Clone, Copy)]
pub struct Bound {
    pub value: Signal<String>,
    pub set: Callback<String>,
    /// Runs when the input loses focus (e.g. to validate it from then on).
    pub touch: Callback<()>,
}

/// The name a control posts under: `group[name]` (a struct argument of a server function),
/// or `name` alone.
fn form_name(group: &str, name: &str) -> String {
    if group.is_empty() {
        name.to_owned()
    } else {
        format!("{group}[{name}]")
    }
}

/// A group of controls under a legend, with the group's error below (a radio group, a check
/// group): the one fieldset markup.
#[component]
fn Fieldset(
    /// The field's name in its errors; the error's id is `field-{name}-error`.
    name: &'static str,
    legend: &'static str,
    error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    let error_id = format!("field-{name}-error");
    view! {
        <fieldset class="field" class:invalid=move || error.get().is_some() aria-describedby=error_id.clone()>
            <legend>{legend}</legend>
            {children()}
            <p class="field-error" id=error_id.clone() role="alert">{move || error.get()}</p>
        </fieldset>
    }
}

/// The `aria-describedby` of a control: the ids of its hint and its error that it has.
fn described_by(ids: [Option<&str>; 2]) -> Option<String> {
    let ids: Vec<&str> = ids.into_iter().flatten().collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A form's primary submit button, disabled while the form's action runs.
#[component]
pub fn SubmitButton(#[prop(into)] pending: Signal<bool>, label: &'static str) -> impl IntoView {
    view! {
        <button type="submit" class="primary" disabled=move || pending.get()>
            {label}
        </button>
    }
}
