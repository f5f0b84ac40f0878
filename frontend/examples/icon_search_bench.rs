//! The icon picker's search, exported for the browser benchmark (scripts/bench.sh, #8): the
//! same `IconSearch` the picker runs, built with the same size-optimised profile, timed per
//! keystroke from JavaScript in Chromium. Not part of the shipped bundle.

use portcullis::icons::{Catalogue, IconSearch};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct IconBench {
    search: IconSearch,
}

#[wasm_bindgen]
impl IconBench {
    /// `catalogue`: the JSON the server sends the picker (`/api/v1/icons`).
    #[wasm_bindgen(constructor)]
    pub fn new(catalogue: &str) -> Result<IconBench, JsError> {
        let catalogue: Catalogue = serde_json::from_str(catalogue)?;
        Ok(IconBench {
            search: IconSearch::new(&catalogue.icons),
        })
    }

    pub fn icons(&self) -> usize {
        self.search.len()
    }

    /// One keystroke: ranks the whole catalogue; returns how many icons match.
    pub fn search(&self, query: &str) -> usize {
        self.search.search(query).len()
    }
}
