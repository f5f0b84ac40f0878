//! The one logo / icon field, shared by the provider editor (Logo) and the application
//! editor (Icon): a text input for an image URL or a `data:` URI, its preview, the selfh.st
//! icon search (a modal, `components::icon_picker`) and an upload that reads a small image
//! into a `data:` URI. Rendered on the server; in the browser the editor's script
//! ([`attach`]) runs the buttons, and the preview and the picker, which render views, are
//! fetched when first needed. Without JavaScript it is a plain text input with a link to the
//! catalogue.

use crate::components::app_icon::AppIcon;
use crate::components::field::{TextField, TextFieldProps};
use crate::components::provider_logo::ProviderLogo;
use crate::ids;
use leptos::prelude::*;
use portcullis::field::FieldError;

/// The largest `data:` URI the field makes from an upload (the same limit the server's
/// check uses for provider logos and application icons).
pub use portcullis::provider::LOGO_DATA_MAX;

/// Whose logo field it is: its name, label and preview.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    /// A provider's Logo (`draft[logo]`).
    Provider,
    /// An application's Icon (`draft[icon]`).
    App,
}

impl LogoKind {
    pub fn name(self) -> &'static str {
        match self {
            LogoKind::Provider => "logo",
            LogoKind::App => "icon",
        }
    }

    fn label(self) -> &'static str {
        match self {
            LogoKind::Provider => "Logo",
            LogoKind::App => "Icon",
        }
    }

    /// Its input's id.
    #[cfg(feature = "hydrate")]
    fn field_id(self) -> &'static str {
        match self {
            LogoKind::Provider => ids::LOGO_FIELD,
            LogoKind::App => ids::ICON_FIELD,
        }
    }

    /// The kind a preview element says it shows (`data-kind`).
    #[cfg(feature = "hydrate")]
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "logo" => Some(LogoKind::Provider),
            "icon" => Some(LogoKind::App),
            _ => None,
        }
    }

    /// The preview of `value` (an empty value shows the generic mark).
    pub fn preview(self, value: String) -> AnyView {
        match self {
            LogoKind::Provider => view! { <ProviderLogo logo=value size=32/> }.into_any(),
            LogoKind::App => view! { <AppIcon icon=value size=32/> }.into_any(),
        }
    }
}

/// A logo field. Its input is `field-{name}`, posted as `draft[name]`; its buttons carry the
/// `ids::LOGO_*` ids (one logo field per page).
#[component]
pub fn LogoField(kind: LogoKind, value: String, errors: Signal<Vec<FieldError>>) -> impl IntoView {
    let preview = kind.preview(value.clone());
    TextField(TextFieldProps {
        name: kind.name(),
        label: kind.label(),
        group: "draft",
        kind: "text",
        autocomplete: "",
        required: false,
        readonly: false,
        placeholder: "https://... or data:image/...;base64,...",
        hint: "",
        hint_describes: false,
        errors,
        bound: None,
        node_ref: None,
        initial: Some(value),
        rows: 0,
        before: Some(ViewFnOnce::from(move || {
            view! {
                <span class="logo-preview" id=ids::LOGO_PREVIEW data-kind=kind.name()>
                    {preview}
                </span>
            }
        })),
        after: Some(ViewFnOnce::from(move || {
            // The visible text is the accessible name (WCAG 2.5.3, label in name). Both
            // work once the editor's script runs; without it, the input takes a URL.
            view! {
                <button type="button" id=ids::LOGO_SEARCH aria-haspopup="dialog">
                    "Search icons"
                </button>
                <label class="button" for=ids::LOGO_UPLOAD>"Upload…"</label>
                <input
                    type="file"
                    id=ids::LOGO_UPLOAD
                    class="visually-hidden"
                    accept="image/png,image/jpeg,image/webp,image/gif,image/svg+xml"
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
                <p class="field-error" id=ids::LOGO_UPLOAD_ERROR role="alert"></p>
                // Where the icon picker opens.
                <div id=ids::LOGO_PICKER_ROOT></div>
            }
            .into_any()
        })),
    })
}

/// The logo field's behaviour in the browser, when the page has one: the preview follows
/// the input, Search icons opens the picker, Upload reads an image.
#[cfg(feature = "hydrate")]
pub fn attach() {
    use crate::components::live_form::browser::{by_id, on};
    use web_sys::HtmlElement;
    let Some(preview) = by_id::<HtmlElement>(ids::LOGO_PREVIEW) else {
        return;
    };
    let Some(kind) = preview
        .get_attribute("data-kind")
        .and_then(|k| LogoKind::from_name(&k))
    else {
        return;
    };
    let field = kind.field_id();
    if let Some(input) = by_id::<web_sys::HtmlInputElement>(field) {
        on(&input.clone(), "input", move |_| {
            let (preview, value) = (preview.clone(), input.value());
            wasm_bindgen_futures::spawn_local(show_preview(preview, kind, value));
        });
    }
    if let Some(search) = by_id::<HtmlElement>(ids::LOGO_SEARCH) {
        // Fetched when someone is about to open it (the pointer on the button, or focus on
        // it), so that it is usually there by the click.
        on(&search, "pointerenter", |_| {
            crate::components::icon_picker::preload()
        });
        on(&search, "focus", |_| {
            crate::components::icon_picker::preload()
        });
        on(&search, "click", move |_| {
            if let Some(root) = by_id::<HtmlElement>(ids::LOGO_PICKER_ROOT) {
                wasm_bindgen_futures::spawn_local(crate::components::icon_picker::open(
                    root, field,
                ));
            }
        });
    }
    if let Some(upload) = by_id::<web_sys::HtmlInputElement>(ids::LOGO_UPLOAD) {
        on(&upload.clone(), "change", move |_| {
            read_upload(&upload, field)
        });
    }
}

/// Shows `value`'s preview in `preview` (the same component the server rendered).
#[cfg(feature = "hydrate")]
#[lazy]
fn show_preview(preview: web_sys::HtmlElement, kind: LogoKind, value: String) {
    thread_local! {
        static SHOWN: std::cell::RefCell<Option<Box<dyn std::any::Any>>> = Default::default();
    }
    crate::components::live_form::browser::mount_in(&SHOWN, preview, move || kind.preview(value));
}

/// Reads the chosen image into a base64 data URI for the field, refusing files that would
/// be too large to save.
#[cfg(feature = "hydrate")]
fn read_upload(input: &web_sys::HtmlInputElement, field: &'static str) {
    use crate::components::live_form::browser::{put, say};
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        return;
    };
    input.set_value("");
    // base64 grows data by a third; the prefix is small.
    let limit = (LOGO_DATA_MAX - 64) / 4 * 3;
    let size = file.size() as usize;
    if size > limit {
        let error = format!(
            "{} is {} KB; an uploaded logo can be at most {} KB. Use a smaller image, or an image URL.",
            file.name(),
            size.div_ceil(1024),
            limit / 1024
        );
        say(ids::LOGO_UPLOAD_ERROR, Some(&error));
        return;
    }
    say(ids::LOGO_UPLOAD_ERROR, Some(""));
    wasm_bindgen_futures::spawn_local(async move {
        let file = gloo_file::File::from(file);
        match gloo_file::futures::read_as_data_url(&file).await {
            Ok(data_url) => put(field, &data_url),
            Err(e) => say(
                ids::LOGO_UPLOAD_ERROR,
                Some(&format!("The file could not be read ({e}).")),
            ),
        }
    });
}
