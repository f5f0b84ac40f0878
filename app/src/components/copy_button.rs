//! A read-only value with a Copy button (the button needs JavaScript; the value can always
//! be selected by hand).

use leptos::prelude::*;

#[component]
pub fn CopyValue(
    #[prop(into)] value: Signal<String>,
    label: &'static str,
    id: &'static str,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&value.get_untracked());
            copied.set(true);
        }
    };
    view! {
        <div class="copy-value">
            <label for=id>{label}</label>
            <div class="copy-row">
                <input id=id type="text" readonly=true value=value.get_untracked() prop:value=move || value.get()/>
                <button type="button" on:click=copy aria-live="polite">
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}
