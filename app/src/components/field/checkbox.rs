//! The checkbox: a yes/no field with its label and hint, posted as `true` when checked.

use leptos::prelude::*;

#[component]
pub fn Checkbox(
    /// Its name in the form post.
    #[prop(into)]
    name: String,
    label: &'static str,
    hint: &'static str,
    checked: Signal<bool>,
    /// Runs with the new state when the user checks or unchecks it.
    on_change: Callback<bool>,
) -> impl IntoView {
    let initial = checked.get_untracked();
    view! {
        <label class="check">
            <input
                type="checkbox"
                name=name
                value="true"
                checked=initial
                prop:checked=move || checked.get()
                on:change=move |ev| on_change.run(event_target_checked(&ev))
            />
            <span>{label}</span>
        </label>
        <p class="hint">{hint}</p>
    }
}
