//! Plain HTML the Leptos app does not render, and telling a browser without JavaScript from
//! the app: a plain form post ([`is_form_post`]) gets pages, never JSON; a page that moves a
//! browser on to another origin ([`continue_page`]: a form post may not be redirected there
//! under the pages' `form-action 'self'`); small message pages ([`message_page`]: error
//! pages, forward auth's refusals) and questions ([`question_page`]: the OpenID Provider's
//! sign-out confirmation; [`choice_page`]: its account choice and consent page; [`field_page`]:
//! the device flow's code entry).

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERRER_POLICY};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode};

/// A plain HTML form post (a browser without JavaScript, or a form that navigates): a POST
/// that accepts HTML. The hydrated app's fetches ask for JSON.
pub fn is_form_post(parts: &Parts) -> bool {
    parts.method == Method::POST
        && parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A small page: `title` as its heading, `message` below; never cached.
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    small_page(status, title, message, "")
}

/// What a [`question_page`] asks.
pub struct Question<'a> {
    pub title: &'a str,
    pub message: &'a str,
    /// Where the form posts (same origin), and its button's text.
    pub action: &'a str,
    pub button: &'a str,
    /// The way out without acting: a link's target and text.
    pub back: (&'a str, &'a str),
}

/// A small page that asks before it acts: a plain form (no script) that posts to
/// `q.action`, and a link that leaves things as they are; never cached.
pub fn question_page(q: Question<'_>) -> Response {
    let form = format!(
        "<form method=\"post\" action=\"{a}\"><button type=\"submit\">{b}</button></form>\
         <p><a href=\"{h}\">{l}</a></p>",
        a = escape(q.action),
        b = escape(q.button),
        h = escape(q.back.0),
        l = escape(q.back.1),
    );
    small_page(StatusCode::OK, q.title, q.message, &form)
}

/// What a [`choice_page`] offers.
pub struct Choice<'a> {
    pub title: &'a str,
    pub message: &'a str,
    /// A list below the message (empty: none).
    pub items: &'a [&'a str],
    /// Where the form posts (same origin).
    pub action: &'a str,
    /// The form's buttons: each posts `choice=<value>`; (value, text).
    pub choices: &'a [(&'a str, &'a str)],
}

/// A small page with one plain form (no script) whose buttons each post a `choice` to
/// `c.action`; never cached.
pub fn choice_page(c: Choice<'_>) -> Response {
    let items: String = c
        .items
        .iter()
        .map(|i| format!("<li>{}</li>", escape(i)))
        .collect();
    let list = match items.is_empty() {
        true => String::new(),
        false => format!("<ul>{items}</ul>"),
    };
    let buttons: String = c
        .choices
        .iter()
        .map(|(v, t)| {
            format!(
                "<button type=\"submit\" name=\"choice\" value=\"{}\">{}</button> ",
                escape(v),
                escape(t)
            )
        })
        .collect();
    let form = format!(
        "{list}<form method=\"post\" action=\"{}\">{buttons}</form>",
        escape(c.action)
    );
    small_page(StatusCode::OK, c.title, c.message, &form)
}

/// What a [`field_page`] asks for.
pub struct Field<'a> {
    pub title: &'a str,
    pub message: &'a str,
    /// Where the form posts (same origin), and its button's text.
    pub action: (&'a str, &'a str),
    /// The text field: its label, name and value.
    pub input: (&'a str, &'a str, &'a str),
    /// What is wrong with the value, shown by the field (and announced).
    pub error: Option<&'a str>,
}

/// A small page with one plain form (no script): one labelled text field, its error if
/// any, and a button that posts it to `f.action`; never cached.
pub fn field_page(status: StatusCode, f: Field<'_>) -> Response {
    let (invalid, error) = match f.error {
        Some(e) => (
            " aria-invalid=\"true\" aria-describedby=\"field-error\"",
            format!("<p id=\"field-error\" role=\"alert\">{}</p>", escape(e)),
        ),
        None => ("", String::new()),
    };
    let (label, name, value) = f.input;
    let form = format!(
        "<form method=\"post\" action=\"{a}\"><p><label for=\"field\">{l}</label> \
         <input id=\"field\" name=\"{n}\" value=\"{v}\" required autocomplete=\"off\" \
         autocapitalize=\"characters\" spellcheck=\"false\"{invalid}></p>{error}\
         <button type=\"submit\">{b}</button></form>",
        a = escape(f.action.0),
        l = escape(label),
        n = escape(name),
        v = escape(value),
        b = escape(f.action.1),
    );
    small_page(status, f.title, f.message, &form)
}

/// `title`, `message` and `more` (HTML, already escaped) as a page; never cached.
fn small_page(status: StatusCode, title: &str, message: &str, more: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title></head><body><main><h1>{t}</h1><p>{m}</p>{more}</main></body></html>",
        t = escape(title),
        m = escape(message)
    );
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(HTML));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The words of a [`continue_page`].
pub struct Onward {
    pub title: &'static str,
    /// Before the link, e.g. "Continuing… ".
    pub lead: &'static str,
}

/// The redirect `res` as a page that moves on to its `Location` by itself (a meta refresh,
/// no script) and offers the same as a link: 200, the rest of `res` (cookies, extensions)
/// kept, never cached, no Referer sent onward. A response without `Location` passes as is.
pub fn continue_page(res: Response, words: Onward) -> Response {
    let Some(to) = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(escape)
    else {
        return res;
    };
    let Onward { title, lead } = words;
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={to}\"><title>{title}</title>\
         </head><body><main><p>{lead}<a href=\"{to}\">Continue</a></p></main></body></html>"
    );
    let (mut parts, _) = res.into_parts();
    parts.status = StatusCode::OK;
    parts.headers.remove(LOCATION);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(HTML));
    parts
        .headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    parts
        .headers
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Response::from_parts(parts, Body::from(body))
}

const HTML: &str = "text/html; charset=utf-8";
