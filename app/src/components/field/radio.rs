//! The radio group: one choice among a few, each with its own hint, in a fieldset whose
//! legend names the question.

use super::{Fieldset, form_name};
use leptos::prelude::*;

/// One choice of a [`RadioGroup`].
pub struct Radio {
    pub value: &'static str,
    pub label: &'static str,
    /// What it means; the option's description.
    pub hint: &'static str,
}

impl Radio {
    /// One option per value of an enum, in `all`'s order, its value, label and hint given
    /// by the enum's own methods.
    pub fn each<T: Copy>(
        all: impl IntoIterator<Item = T>,
        value: fn(T) -> &'static str,
        label: fn(T) -> &'static str,
        hint: fn(T) -> &'static str,
    ) -> Vec<Radio> {
        all.into_iter()
            .map(|x| Radio {
                value: value(x),
                label: label(x),
                hint: hint(x),
            })
            .collect()
    }
}

#[component]
pub fn RadioGroup(
    /// The field's name in its errors; the error's id is `field-{name}-error`, an option's
    /// hint's `{name}-{value}-hint`.
    name: &'static str,
    /// Names the options `group[name]` in the form post.
    #[prop(optional)]
    group: &'static str,
    legend: &'static str,
    options: Vec<Radio>,
    /// The value chosen at first.
    selected: &'static str,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let input_name = form_name(group, name);
    let options = options
        .into_iter()
        .map(|Radio { value, label, hint }| {
            let hint_id = format!("{name}-{value}-hint");
            view! {
                <label class="radio">
                    <input
                        type="radio"
                        name=input_name.clone()
                        value=value
                        checked=value == selected
                        aria-describedby=hint_id.clone()
                    />
                    <span>{label}</span>
                </label>
                <p class="hint radio-hint" id=hint_id>{hint}</p>
            }
        })
        .collect_view();
    view! { <Fieldset name legend error>{options}</Fieldset> }
}
