//! The check group: any number of choices among a list known only at run time (the
//! applications a token may open), in a fieldset whose legend names the question. Each
//! checked box posts its value as `group[name][i]`, a list in a server function's argument.

use super::{Fieldset, form_name};
use leptos::prelude::*;

#[component]
pub fn CheckGroup(
    /// The field's name in its errors; the error's id is `field-{name}-error`.
    name: &'static str,
    /// Names the boxes `group[name][i]` in the form post.
    #[prop(optional)]
    group: &'static str,
    legend: &'static str,
    /// (value, label), in order.
    options: Vec<(String, String)>,
    /// Shown instead of the boxes when there are none.
    empty: &'static str,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let base = form_name(group, name);
    let boxes = if options.is_empty() {
        view! { <p class="hint">{empty}</p> }.into_any()
    } else {
        options
            .into_iter()
            .enumerate()
            .map(|(i, (value, label))| {
                view! {
                    <label class="check">
                        <input type="checkbox" name=format!("{base}[{i}]") value=value/>
                        <span>{label}</span>
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    view! { <Fieldset name legend error>{boxes}</Fieldset> }
}
