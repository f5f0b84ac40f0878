//! A moment people read (a sign-in, a last visit).

use leptos::prelude::*;
use portcullis::sessions::{utc_datetime, utc_minute};

/// Rendered as UTC to the minute (`2026-11-29 16:21 UTC`), so that the server's rendering and
/// the browser's agree and a page without JavaScript says something exact. With JavaScript,
/// `public/pkg/page.js` shows it relative ("5 minutes ago") with the full moment in the
/// viewer's time zone as its title: a plain DOM script that does not depend on the app's
/// WebAssembly.
#[component]
pub fn Moment(
    /// Unix seconds.
    at: i64,
) -> impl IntoView {
    view! { <time datetime=utc_datetime(at) data-moment="">{utc_minute(at)}</time> }
}

/// A moment that may not have happened: [`Moment`], or `none` ("never") when it has not.
#[component]
pub fn MaybeMoment(
    /// Unix seconds.
    at: Option<i64>,
    none: &'static str,
) -> impl IntoView {
    match at {
        Some(at) => view! { <Moment at/> }.into_any(),
        None => none.into_any(),
    }
}
