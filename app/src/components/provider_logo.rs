//! A provider's logo, or a generic OpenID mark when it has none.

use leptos::prelude::*;

#[component]
pub fn ProviderLogo(logo: String, #[prop(default = 24)] size: u32) -> impl IntoView {
    if logo.is_empty() {
        view! {
            <svg
                class="provider-logo generic"
                width=size
                height=size
                viewBox="0 0 24 24"
                aria-hidden="true"
            >
                <circle cx="12" cy="12" r="11" fill="#f7931e"></circle>
                <path d="M11 5.5v13c-3.6-.4-6-2.2-6-4.6 0-2.1 2-3.9 4.9-4.5v-1.5C5.6 8.6 3 11 3 13.9 3 17.3 6.7 20 11.7 20.3l1.8-1V4.6z" fill="#fff"></path>
                <path d="M14 8.9c1.3.2 2.5.7 3.4 1.3l-1.5.9h5.1V7.8l-1.7 1c-1.4-.9-3.2-1.5-5.3-1.6z" fill="#fff"></path>
            </svg>
        }
            .into_any()
    } else {
        view! { <img class="provider-logo" src=logo alt="" width=size height=size/> }.into_any()
    }
}
