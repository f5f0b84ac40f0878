//! An action asked about first: a button that opens a box with the question and the form
//! that acts (a `<details>`, so it works without JavaScript).

use leptos::prelude::*;

#[component]
pub fn Confirm(
    /// The button that opens the question.
    summary: &'static str,
    /// Whether it destroys something (the opening button is styled so).
    #[prop(optional)]
    danger: bool,
    /// The box's accessible name, e.g. "Delete Gitea?".
    #[prop(into)]
    label: String,
    #[prop(into)] question: String,
    /// The form that acts.
    children: Children,
) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary class="button" class:danger=danger>{summary}</summary>
            <div class="confirm-box" role="alertdialog" aria-label=label>
                <p>{question}</p>
                {children()}
            </div>
        </details>
    }
}
