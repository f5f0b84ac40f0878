//! A read-only value with a Copy button. The button works through `public/pkg/page.js`
//! (no WebAssembly: the pages that show one need none otherwise), which copies the value the
//! input holds when clicked; the value can always be selected by hand.

use leptos::prelude::*;

#[component]
pub fn CopyValue(
    #[prop(into)] value: Signal<String>,
    label: &'static str,
    id: &'static str,
) -> impl IntoView {
    view! {
        <div class="copy-value">
            <label for=id>{label}</label>
            <div class="copy-row">
                <input id=id type="text" readonly=true value=value.get_untracked() prop:value=move || value.get()/>
                <CopyButton source=id/>
            </div>
        </div>
    }
}

/// The button that copies the element `source` (an input's value, else its text).
#[component]
pub fn CopyButton(
    source: &'static str,
    /// The id of what the button copies, as the button's description.
    #[prop(optional)]
    described_by: Option<String>,
) -> impl IntoView {
    view! {
        <button type="button" data-copy=source aria-live="polite" aria-describedby=described_by>
            "Copy"
        </button>
    }
}
