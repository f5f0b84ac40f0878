//! The login page as a first-time visitor gets it, rendered once per change of what it shows.
//!
//! `/login` is the page every signed-out visitor, health probe and scanner asks for, and a
//! Leptos render of it costs several times a static file's serving (bench #2). For a visitor
//! with no session and no query the page depends only on the sign-in page's data
//! (`LoginPageCache`'s snapshot: first-run state, login methods, provider buttons) and on the
//! response's CSP nonce. So the rendered response is kept with the snapshot it was rendered
//! from, and each visitor gets it with a nonce of its own: the one the render made is
//! replaced, in the body and in the Content-Security-Policy header, by a fresh random one (a
//! 256-bit token, so it cannot stand anywhere else in the page by chance). Anything else
//! renders as before: a session (messages to show, a signed-in visitor), a query (`next`,
//! `choose`), a response that is not a plain 200 or that sets a cookie.

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::header::{CONTENT_LENGTH, CONTENT_SECURITY_POLICY, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use portcullis::ssr::login_page::LoginSnapshot;
use std::sync::{Arc, RwLock};

/// Longest login page kept (it is a few KB; anything larger is not the page we know).
const MAX_BODY: usize = 256 * 1024;

/// The last render kept, with the snapshot it showed.
#[derive(Default)]
pub struct LoginHtml {
    slot: RwLock<Option<Kept>>,
}

struct Kept {
    snapshot: Arc<LoginSnapshot>,
    headers: HeaderMap,
    body: String,
    nonce: String,
}

impl LoginHtml {
    /// The kept page for `snapshot`, with a fresh nonce; `None` when it was rendered from
    /// another snapshot (or never).
    pub fn get(&self, snapshot: &Arc<LoginSnapshot>) -> Option<Response> {
        let slot = self.slot.read().expect("login html lock");
        let kept = slot
            .as_ref()
            .filter(|k| Arc::ptr_eq(&k.snapshot, snapshot))?;
        let nonce = portcullis::ssr::secrets::random_token();
        let mut headers = kept.headers.clone();
        let csp = headers.get(CONTENT_SECURITY_POLICY)?.to_str().ok()?;
        let csp = HeaderValue::from_str(&csp.replace(&kept.nonce, &nonce)).ok()?;
        headers.insert(CONTENT_SECURITY_POLICY, csp);
        let body = kept.body.replace(&kept.nonce, &nonce);
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        let mut res = Response::new(Body::from(body));
        *res.headers_mut() = headers;
        Some(res)
    }

    /// Keeps `res` (rendered from `snapshot`) when it can serve every first-time visitor,
    /// and gives it back whole either way.
    pub async fn keep(&self, snapshot: Arc<LoginSnapshot>, res: Response) -> Response {
        if res.status() != StatusCode::OK || res.headers().contains_key(SET_COOKIE) {
            return res;
        }
        let Some(nonce) = nonce_of(res.headers()) else {
            return res;
        };
        let (parts, body) = res.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "the login page could not be read to keep it");
                return Response::from_parts(parts, Body::from(Bytes::new()));
            }
        };
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let mut headers = parts.headers.clone();
            headers.remove(CONTENT_LENGTH);
            *self.slot.write().expect("login html lock") = Some(Kept {
                snapshot,
                headers,
                body: text.to_owned(),
                nonce,
            });
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}

/// The nonce of a page's Content-Security-Policy (`'nonce-<value>'`).
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let csp = headers.get(CONTENT_SECURITY_POLICY)?.to_str().ok()?;
    let start = csp.find("'nonce-")? + "'nonce-".len();
    let len = csp[start..].find('\'')?;
    let nonce = &csp[start..start + len];
    // A value too short to be the render's own random nonce could stand elsewhere.
    (nonce.len() >= 16).then(|| nonce.to_owned())
}

#[cfg(test)]
mod tests {
    use super::nonce_of;
    use http::header::CONTENT_SECURITY_POLICY;
    use http::{HeaderMap, HeaderValue};

    #[test]
    fn the_nonce_is_read_from_the_policy() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'nonce-AbCdEfGh12345678xyz' 'wasm-unsafe-eval'",
            ),
        );
        assert_eq!(nonce_of(&h).as_deref(), Some("AbCdEfGh12345678xyz"));
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("script-src 'nonce-abc'"),
        );
        assert_eq!(nonce_of(&h), None, "too short to be a render's");
        h.remove(CONTENT_SECURITY_POLICY);
        assert_eq!(nonce_of(&h), None);
    }
}
