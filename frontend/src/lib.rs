//! The browser bundle: the islands of the server-rendered pages (`app::components::island`).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::components::island::hydrate();
}
