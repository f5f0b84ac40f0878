//! The logo picker: a modal that searches the selfh.st icon catalogue as the admin types and
//! fills the Logo field with the chosen image's URL.
//!
//! Accessibility follows the WAI-ARIA combobox pattern: focus stays in the search box, the
//! arrow keys move the active option (`aria-activedescendant`), Enter picks, Escape closes;
//! Tab cycles inside the dialog, and focus returns to the Logo field on close. Only a page of
//! results is rendered at a time. The dialog exists only in the browser (it needs the
//! catalogue, fetched on first open), so server-rendered pages never contain it.

use crate::components::field::{Bound, TextField};
use crate::ids;
use leptos::html::{Div, Input};
use leptos::prelude::*;
use portcullis::icons::{Catalogue, Format, IconSearch, Variant};
use std::sync::Arc;

/// Results rendered per page; "Show more" (or arrowing past the end) adds another.
const PAGE: usize = 60;

pub struct Loaded {
    pub catalogue: Catalogue,
    pub search: IconSearch,
}

#[derive(Clone, Default)]
pub enum CatalogueState {
    #[default]
    Idle,
    Loading,
    Ready(Arc<Loaded>),
    Failed(String),
}

/// Fetches the catalogue from our server (`/api/v1/icons`) unless it is loaded or loading.
pub fn load_catalogue(state: RwSignal<CatalogueState>) {
    if matches!(
        state.get_untracked(),
        CatalogueState::Loading | CatalogueState::Ready(_)
    ) {
        return;
    }
    state.set(CatalogueState::Loading);
    leptos::task::spawn_local(async move {
        state.set(match fetch_catalogue().await {
            Ok(catalogue) => {
                let search = IconSearch::new(&catalogue.icons);
                CatalogueState::Ready(Arc::new(Loaded { catalogue, search }))
            }
            Err(message) => CatalogueState::Failed(message),
        });
    });
}

async fn fetch_catalogue() -> Result<Catalogue, String> {
    #[derive(serde::Deserialize)]
    struct ApiError {
        message: String,
    }
    let unreachable = |e: gloo_net::Error| format!("The icon catalogue could not be loaded ({e}).");
    let response = gloo_net::http::Request::get("/api/v1/icons")
        .send()
        .await
        .map_err(unreachable)?;
    if response.ok() {
        response.json::<Catalogue>().await.map_err(unreachable)
    } else {
        Err(response
            .json::<ApiError>()
            .await
            .map(|e| e.message)
            .unwrap_or_else(|_| {
                format!(
                    "The icon catalogue could not be loaded ({}).",
                    response.status()
                )
            }))
    }
}

/// A labelled select over `options`, bound to `value`: each option sends `key` and shows
/// `name`; what comes back is read with `parse` (the default when it is not an option).
fn choice<T>(
    label: &'static str,
    id: &'static str,
    value: RwSignal<T>,
    options: [T; 3],
    key: fn(T) -> &'static str,
    name: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
) -> impl IntoView
where
    T: Copy + Default + PartialEq + Send + Sync + 'static,
{
    view! {
        <label>
            {label}
            <select id=id on:change=move |ev| value.set(parse(&event_target_value(&ev)).unwrap_or_default())>
                {options.map(|o| view! { <option value=key(o) selected=move || value.get() == o>{name(o)}</option> })}
            </select>
        </label>
    }
}

/// Opens the picker in `root` (the logo field's), filling the input `field` with the chosen
/// image's URL; focus returns to it on close. The dialog and the search behind it are a
/// module of their own (`#[lazy]`, split by `scripts/build.sh`), fetched the first time
/// someone opens it (or is about to: [`preload`]), so that an editor's first load carries
/// none of it. The dialog exists only in the browser (it needs the catalogue, fetched on
/// first open), so server-rendered pages never contain it.
#[lazy]
pub fn open(root: web_sys::HtmlElement, field: &'static str) {
    use crate::components::live_form::browser::{by_id, put};
    thread_local! {
        /// The picker, once mounted: opening again shows it again.
        static SHOWN: std::cell::Cell<Option<RwSignal<bool>>> = const { std::cell::Cell::new(None) };
    }
    if let Some(shown) = SHOWN.with(std::cell::Cell::get) {
        shown.set(true);
        return;
    }
    leptos::mount::mount_to(root, move || {
        let shown = RwSignal::new(true);
        SHOWN.with(|s| s.set(Some(shown)));
        let catalogue = RwSignal::new(CatalogueState::default());
        let logo = Callback::new(move |url: String| put(field, &url));
        let close = move || {
            shown.set(false);
            if let Some(input) = by_id::<web_sys::HtmlElement>(field) {
                let _ = input.focus();
            }
        };
        view! {
            <Show when=move || shown.get()>
                <Dialog logo catalogue close/>
            </Show>
        }
    })
    .forget();
}

/// Starts fetching the picker's module when someone is about to open it.
pub fn preload() {
    let _ = lazy_preload!(open);
}

#[component]
fn Dialog(
    logo: Callback<String>,
    catalogue: RwSignal<CatalogueState>,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let format = RwSignal::new(Format::Svg);
    let variant = RwSignal::new(Variant::Default);
    let active = RwSignal::new(0usize);
    let shown = RwSignal::new(PAGE);
    let pasted = RwSignal::new(String::new());
    let search_box = NodeRef::<Input>::new();
    let dialog = NodeRef::<Div>::new();

    load_catalogue(catalogue);
    Effect::new(move || {
        if let Some(input) = search_box.get() {
            let _ = input.focus();
        }
    });

    let loaded = move || match catalogue.get() {
        CatalogueState::Ready(l) => Some(l),
        _ => None,
    };
    let results = Memo::new(move |_| {
        loaded()
            .map(|l| l.search.search(&query.get()))
            .unwrap_or_default()
    });
    let url_of = move |l: &Loaded, i: usize| {
        l.catalogue
            .image_url(&l.catalogue.icons[i], format.get(), variant.get())
    };
    let pick = move |i: usize| {
        if let Some(l) = loaded() {
            logo.run(url_of(&l, i));
            close();
        }
    };
    let move_active = move |to: usize| {
        let total = results.with(Vec::len);
        if total == 0 {
            return;
        }
        let to = to.min(total - 1);
        active.set(to);
        if to >= shown.get_untracked() {
            shown.set(to + PAGE);
        }
        scroll_into_view(&option_id(to));
    };

    // How far each key moves the active result (negative: up).
    let step = |key: &str| match key {
        "ArrowDown" => Some(1),
        "ArrowUp" => Some(-1),
        "PageDown" => Some(10),
        "PageUp" => Some(-10),
        _ => None,
    };
    let on_search_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if let Some(by) = step(&key) {
            ev.prevent_default();
            move_active(active.get_untracked().saturating_add_signed(by));
        } else if key == "Enter" {
            // Never submits the editor form around us.
            ev.prevent_default();
            if let Some(&i) = results
                .with(|r| r.get(active.get_untracked()).copied())
                .as_ref()
            {
                pick(i);
            }
        }
    };
    let on_dialog_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close();
        }
        "Tab" => {
            if let Some(d) = dialog.get_untracked() {
                trap_focus(&d, &ev);
            }
        }
        _ => {}
    };

    let use_pasted = move || {
        logo.run(pasted.get_untracked().trim().to_owned());
        close();
    };

    let status = move || match catalogue.get() {
        CatalogueState::Idle | CatalogueState::Loading => "Loading the icon catalogue…".to_owned(),
        CatalogueState::Failed(_) => "The icon catalogue is unavailable.".to_owned(),
        CatalogueState::Ready(l) => {
            let n = results.with(Vec::len);
            if query.with(|q| q.trim().is_empty()) {
                format!(
                    "{} icons; identity providers first.",
                    l.catalogue.icons.len()
                )
            } else if n == 0 {
                "No icon matches; check the spelling or paste a URL into the Logo field.".to_owned()
            } else if n == 1 {
                "1 icon matches.".to_owned()
            } else {
                format!("{n} icons match.")
            }
        }
    };

    let option_view = move |(pos, i): (usize, usize)| {
        let l = loaded()?;
        let icon = l.catalogue.icons[i].clone();
        let src = {
            let l = l.clone();
            move || url_of(&l, i)
        };
        let variants = icon
            .formats()
            .map(|f| f.label())
            .chain(icon.variants().skip(1).map(|v| v.label()))
            .collect::<Vec<_>>()
            .join(" · ");
        Some(view! {
            <li
                role="option"
                id=option_id(pos)
                class="icon-option"
                class:active=move || active.get() == pos
                aria-selected=move || (active.get() == pos).to_string()
                data-reference=icon.reference().to_owned()
                on:click=move |_| pick(i)
                on:mousemove=move |_| {
                    if active.get_untracked() != pos {
                        active.set(pos)
                    }
                }
            >
                <img src=src alt="" width="32" height="32" loading="lazy"/>
                <span class="icon-name">{icon.name().to_owned()}</span>
                <span class="icon-variants">{variants}</span>
            </li>
        })
    };

    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <div
                class="modal icon-picker"
                id=ids::ICON_PICKER
                role="dialog"
                aria-modal="true"
                aria-labelledby="icon-picker-title"
                node_ref=dialog
                on:click=|ev| ev.stop_propagation()
                on:keydown=on_dialog_key
            >
                <header class="modal-header">
                    <h2 id="icon-picker-title">"Choose a logo"</h2>
                    <button type="button" class="icon-button" aria-label="Close" on:click=move |_| close()>
                        "×"
                    </button>
                </header>
                <div class="picker-controls">
                    <input
                        type="search"
                        id=ids::ICON_SEARCH
                        node_ref=search_box
                        role="combobox"
                        aria-label="Search icons"
                        aria-autocomplete="list"
                        aria-expanded="true"
                        aria-controls=ids::ICON_RESULTS
                        aria-activedescendant=move || {
                            (results.with(|r| !r.is_empty())).then(|| option_id(active.get()))
                        }
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="Search icons, e.g. keycloak"
                        prop:value=query
                        on:input=move |ev| {
                            query.set(event_target_value(&ev));
                            active.set(0);
                            shown.set(PAGE);
                        }
                        on:keydown=on_search_key
                    />
                    {choice("Format ", ids::ICON_FORMAT, format, Format::ALL, Format::ext, Format::label, Format::parse)}
                    {choice("Variant ", ids::ICON_VARIANT, variant, Variant::ALL, Variant::key, Variant::label, Variant::parse)}
                </div>
                <p class="hint">"Icons without the chosen format or variant use SVG, then PNG, and the default variant."</p>
                <p class="picker-status" role="status" aria-live="polite">{status}</p>
                {move || match catalogue.get() {
                    CatalogueState::Failed(message) => {
                        view! {
                            <div class="picker-unavailable" role="alert">
                                <p>{message}</p>
                                <TextField
                                    name="icon_paste_url"
                                    label="Image URL"
                                    kind="url"
                                    placeholder="https://..."
                                    bound=Bound {
                                        value: pasted.into(),
                                        set: Callback::new(move |v| pasted.set(v)),
                                        touch: Callback::new(|()| ()),
                                    }
                                    after=move || view! {
                                        <button type="button" on:click=move |_| use_pasted()>
                                            "Use this URL"
                                        </button>
                                    }
                                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                        // Enter uses the URL instead of submitting the editor.
                                        if ev.key() == "Enter" {
                                            ev.prevent_default();
                                            use_pasted();
                                        }
                                    }
                                />
                                <button type="button" on:click=move |_| load_catalogue(catalogue)>"Try again"</button>
                            </div>
                        }
                            .into_any()
                    }
                    _ => ().into_any(),
                }}
                <ul class="icon-results" id=ids::ICON_RESULTS role="listbox" aria-label="Icons">
                    <For
                        each=move || {
                            results.with(|r| r.iter().copied().take(shown.get()).enumerate().collect::<Vec<_>>())
                        }
                        key=|pair| *pair
                        children=option_view
                    />
                </ul>
                <Show when=move || { results.with(Vec::len) > shown.get() }>
                    <button type="button" class="show-more" on:click=move |_| shown.update(|s| *s += PAGE)>
                        {move || format!("Show more ({} more)", results.with(Vec::len) - shown.get())}
                    </button>
                </Show>
                <p class="attribution">
                    "Icons: " <a href="https://selfh.st/icons/" target="_blank" rel="noopener noreferrer">"selfh.st/icons"</a>
                    " (CC BY 4.0)"
                </p>
            </div>
        </div>
    }
}

fn option_id(pos: usize) -> String {
    format!("icon-option-{pos}")
}

fn scroll_into_view(id: &str) {
    // After the render that may have added the option.
    let id = id.to_owned();
    request_animation_frame(move || {
        if let Some(el) = document().get_element_by_id(&id) {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            el.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
}

/// Tab and Shift+Tab wrap around inside the dialog instead of leaving it.
fn trap_focus(dialog: &web_sys::HtmlDivElement, ev: &leptos::ev::KeyboardEvent) {
    use leptos::wasm_bindgen::JsCast;
    let Ok(nodes) = dialog.query_selector_all("input, select, button, a[href]") else {
        return;
    };
    let focusable: Vec<web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        return;
    };
    let current = document().active_element();
    let at = |el: &web_sys::HtmlElement| {
        current
            .as_ref()
            .is_some_and(|c| c == el.as_ref() as &web_sys::Element)
    };
    if ev.shift_key() && at(first) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && at(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}
