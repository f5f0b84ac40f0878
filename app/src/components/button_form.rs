//! A form of one button: the values it posts (hidden) and its submit button, optionally after
//! a line of text naming what it acts on. A real form posted to a server function, so it
//! works without JavaScript. The lists' per-item actions (move, enable, delete, unlink, end)
//! are these, alone or behind a [`Confirm`](crate::components::confirm::Confirm).

use crate::components::confirm::Confirm;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::client::Client;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::{Http, ServerFn};
use leptos::web_sys::FormData;
use serde::de::DeserializeOwned;

/// Asks before the form acts ([`Confirm`](crate::components::confirm::Confirm)): the opening
/// button says `summary`, the box asks `question`, and its accessible name is the form's
/// button text with a question mark ("Delete Gitea?").
pub struct Ask {
    pub summary: &'static str,
    pub question: String,
    /// The opening button is styled as destructive.
    pub danger: bool,
}

// The bounds are `ActionForm`'s.
#[component]
pub fn ButtonForm<S, P>(
    action: ServerAction<S>,
    /// Posted with the button: (name, value).
    values: Vec<(&'static str, String)>,
    /// The button's text.
    #[prop(into)]
    button: String,
    /// The button's class.
    #[prop(optional)]
    class: &'static str,
    /// The button's accessible name, when its text alone does not say what it acts on.
    #[prop(optional, into)]
    label: Option<String>,
    #[prop(optional)] disabled: bool,
    /// Shown before the button, on one line with it (an inline form).
    #[prop(optional, into)]
    text: Option<String>,
    /// Asked first, in a box that opens (see [`Ask`]).
    #[prop(optional)]
    ask: Option<Ask>,
) -> impl IntoView
where
    S: DeserializeOwned + ServerFn<Protocol = Http<PostUrl, P>> + Clone + Send + Sync + 'static,
    <<S::Client as Client<S::Error>>::Request as ClientReq<S::Error>>::FormData: From<FormData>,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
    S::Client: Client<S::Error>,
    P: 'static,
{
    let inline = text.is_some().then_some("inline");
    let label_asked = format!("{button}?");
    let form = view! {
        <ActionForm action attr:class=inline>
            {values
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
                .collect_view()}
            {text.map(|text| view! { <span>{text}</span> })}
            <button
                type="submit"
                class=(!class.is_empty()).then_some(class)
                aria-label=label
                disabled=disabled
            >
                {button}
            </button>
        </ActionForm>
    };
    match ask {
        Some(Ask {
            summary,
            question,
            danger,
        }) => view! {
            <Confirm summary danger label=label_asked question>{form}</Confirm>
        }
        .into_any(),
        None => form.into_any(),
    }
}
