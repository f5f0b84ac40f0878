//! The select: a labelled choice among fixed options, with its hint and, where the form has
//! one for it, its error message.

use super::described_by;
use leptos::prelude::*;

#[component]
pub fn Select(
    /// The select's id; its hint's is `{id}-hint`, its error's `{id}-error`.
    id: &'static str,
    /// Its name in the form post.
    #[prop(into)]
    name: String,
    label: &'static str,
    /// (value, what it says), in order.
    options: Vec<(String, String)>,
    /// The value chosen at first (none: the browser shows the first).
    #[prop(optional, into)]
    selected: String,
    /// The hint is also the select's description (`aria-describedby`).
    #[prop(optional)]
    hint_describes: bool,
    /// The message of the select's error, for a select whose errors show beside it.
    #[prop(optional)]
    error: Option<Signal<Option<String>>>,
    /// The hint, below the select.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let hint_id = (hint_describes && children.is_some()).then(|| format!("{id}-hint"));
    let error_id = error.is_some().then(|| format!("{id}-error"));
    let describedby = described_by([hint_id.as_deref(), error_id.as_deref()]);
    let options = options
        .into_iter()
        .map(|(value, text)| {
            let chosen = value == selected;
            view! { <option value=value selected=chosen>{text}</option> }
        })
        .collect_view();
    view! {
        <div class="field" class:invalid=move || error.is_some_and(|e| e.get().is_some())>
            <label for=id>{label}</label>
            <select
                id=id
                name=name
                aria-describedby=describedby
            >
                {options}
            </select>
            {children.map(|hint| view! { <p class="hint" id=hint_id>{hint()}</p> })}
            {error.map(|e| view! { <p class="field-error" id=error_id role="alert">{move || e.get()}</p> })}
        </div>
    }
}
