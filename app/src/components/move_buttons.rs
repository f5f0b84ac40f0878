//! The ↑ and ↓ buttons of an entry in a list an administrator puts in order.

use crate::api::order::{MoveEntry, Ordered};
use crate::components::button_form::ButtonForm;
use leptos::prelude::*;

/// Moves entry `key` of `list` up or down; the ends disable the button that would leave it.
#[component]
pub fn MoveButtons(
    action: ServerAction<MoveEntry>,
    list: Ordered,
    key: String,
    index: usize,
    count: usize,
    /// What the buttons say to a screen reader: (up, down).
    labels: (String, String),
) -> impl IntoView {
    let list = list.as_str().to_owned();
    let values = move |by: &str| {
        vec![
            ("list", list.clone()),
            ("key", key.clone()),
            ("by", by.to_owned()),
        ]
    };
    let (up, down) = labels;
    view! {
        <ButtonForm action values=values("-1") button="↑" label=up disabled=index == 0/>
        <ButtonForm action values=values("1") button="↓" label=down disabled=index + 1 == count/>
    }
}
