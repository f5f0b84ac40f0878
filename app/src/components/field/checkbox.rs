//! The checkbox: a yes/no field with its label and hint, posted as `true` when checked.
//! Its state is the browser's: a page reads it from the form (`components::live_form`).

use leptos::prelude::*;

#[component]
pub fn Checkbox(
    /// Its name in the form post.
    #[prop(into)]
    name: String,
    label: &'static str,
    hint: &'static str,
    checked: bool,
) -> impl IntoView {
    view! {
        <label class="check">
            <input
                type="checkbox"
                name=name
                value="true"
                checked=checked
            />
            <span>{label}</span>
        </label>
        <p class="hint">{hint}</p>
    }
}
