//! An application's icon, or a generic mark (four tiles) when it has none.

use leptos::prelude::*;

#[component]
pub fn AppIcon(icon: String, #[prop(default = 24)] size: u32) -> impl IntoView {
    if icon.is_empty() {
        view! {
            <svg class="app-icon generic" width=size height=size viewBox="0 0 24 24" aria-hidden="true">
                <rect x="2" y="2" width="9" height="9" rx="2" fill="currentColor" opacity="0.55"></rect>
                <rect x="13" y="2" width="9" height="9" rx="2" fill="currentColor" opacity="0.35"></rect>
                <rect x="2" y="13" width="9" height="9" rx="2" fill="currentColor" opacity="0.35"></rect>
                <rect x="13" y="13" width="9" height="9" rx="2" fill="currentColor" opacity="0.55"></rect>
            </svg>
        }
        .into_any()
    } else {
        view! { <img class="app-icon" src=icon alt="" width=size height=size/> }.into_any()
    }
}
