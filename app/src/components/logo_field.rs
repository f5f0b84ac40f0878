//! The one logo / icon field, shared by the provider editor (Logo) and the application
//! editor (Icon): a text input for an image URL or a `data:` URI, its preview, the selfh.st
//! icon search (a modal, [`IconPicker`]) and an upload that reads a small image into a
//! `data:` URI. Without JavaScript it is a plain text input with a link to the catalogue.

use crate::components::field::{Bound, TextField, TextFieldProps};
use crate::components::icon_picker::{self, CatalogueState, IconPicker};
use crate::ids;
use leptos::html::Input;
use leptos::prelude::*;
use portcullis::field::FieldError;

/// The largest `data:` URI the field makes from an upload (the same limit the server's
/// check uses for provider logos and application icons).
pub use portcullis::provider::LOGO_DATA_MAX;

/// A logo field. Its input is `field-{name}`, posted as `group[name]`; its buttons carry the
/// `ids::LOGO_*` ids (one logo field per page).
#[component]
pub fn LogoField(
    /// The field's name in [`FieldError`]s and in the form post.
    name: &'static str,
    label: &'static str,
    /// Names the input `group[name]` in the form post.
    #[prop(optional)]
    group: &'static str,
    /// The value, as the editor holds it; picks and uploads go through `bound.set`.
    bound: Bound,
    #[prop(into)] errors: Signal<Vec<FieldError>>,
    /// The preview of a value (an empty value shows the caller's generic mark).
    preview: fn(String) -> AnyView,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    let picker_open = RwSignal::new(false);
    let catalogue = RwSignal::new(CatalogueState::default());
    let upload_error = RwSignal::new(None::<String>);
    let set = bound.set;
    let value = bound.value;
    TextField(TextFieldProps {
        name,
        label,
        group,
        kind: "text",
        autocomplete: "",
        required: false,
        readonly: false,
        placeholder: "https://... or data:image/...;base64,...",
        hint: "",
        hint_describes: false,
        errors,
        bound: Some(bound),
        node_ref: Some(input),
        initial: None,
        rows: 0,
        before: Some(ViewFnOnce::from(move || {
            view! {
                <span class="logo-preview" id=ids::LOGO_PREVIEW>
                    {move || preview(value.get())}
                </span>
            }
        })),
        after: Some(ViewFnOnce::from(move || {
            // The visible text is the accessible name (WCAG 2.5.3, label in name).
            view! {
                <button
                    type="button"
                    id=ids::LOGO_SEARCH
                    aria-haspopup="dialog"
                    on:pointerenter=|_| icon_picker::preload()
                    on:focus=|_| icon_picker::preload()
                    on:click=move |_| picker_open.set(true)
                >
                    "Search icons"
                </button>
                <label class="button" for=ids::LOGO_UPLOAD>"Upload…"</label>
                <input
                    type="file"
                    id=ids::LOGO_UPLOAD
                    class="visually-hidden"
                    accept="image/png,image/jpeg,image/webp,image/gif,image/svg+xml"
                    on:change=move |ev| upload(ev, set, upload_error)
                />
            }
        })),
        children: Some(Box::new(move || {
            view! {
                <p class="hint">
                    "Optional. An image URL, a small uploaded image (stored as a data: URI), or an icon from "
                    <a href="https://selfh.st/icons/" target="_blank" rel="noopener noreferrer">"selfh.st/icons"</a>
                    "."
                </p>
                <p class="field-error" id=ids::LOGO_UPLOAD_ERROR role="alert">{move || upload_error.get()}</p>
                <IconPicker open=picker_open logo=set logo_field=input catalogue/>
            }
            .into_any()
        })),
    })
}

/// Reads the chosen image into a base64 data URI for the field, refusing files that would
/// be too large to save.
fn upload(ev: leptos::ev::Event, set: Callback<String>, error: RwSignal<Option<String>>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        // base64 grows data by a third; the prefix is small.
        let limit = (LOGO_DATA_MAX - 64) / 4 * 3;
        let size = file.size() as usize;
        if size > limit {
            error.set(Some(format!(
                "{} is {} KB; an uploaded logo can be at most {} KB. Use a smaller image, or an image URL.",
                file.name(),
                size.div_ceil(1024),
                limit / 1024
            )));
            return;
        }
        error.set(None);
        leptos::task::spawn_local(async move {
            let file = gloo_file::File::from(file);
            match gloo_file::futures::read_as_data_url(&file).await {
                Ok(data_url) => set.run(data_url),
                Err(e) => error.set(Some(format!("The file could not be read ({e})."))),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, set, error);
}
