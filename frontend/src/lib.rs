//! The browser bundle: the editors' script (`app::components::live_form`), on the pages that
//! show an editor; their Leptos parts are modules of their own, fetched when first used.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::components::live_form::start();
}
