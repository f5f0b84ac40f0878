//! Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a
//! browser that signed in to an account with its password gets a token for that account,
//! and with it is judged by its own failed-password budget instead of the account's, so
//! strangers guessing the account cannot keep it out ([`super::limiter`]).
//!
//! A token is the account id, a random device id and the time of issue, sealed with the
//! server's secret key ([`SecretBox`]: XChaCha20-Poly1305), so it cannot be forged, read or
//! moved to another account. One cookie holds the tokens of the last few accounts that
//! signed in in this browser. It grants nothing by itself: the password is still checked.

use crate::ssr::clock::now;
use crate::ssr::secrets::SecretBox;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// How long a token vouches for its browser (also the cookie's `Max-Age`).
pub const LIFETIME_SECS: i64 = 365 * 24 * 60 * 60;
/// Accounts one browser keeps tokens for (the most recent sign-ins).
pub const MAX_ACCOUNTS: usize = 5;
/// The associated data every token is sealed with: nothing else sealed with the key passes.
const CONTEXT: &str = "portcullis device cookie v1";
/// Between tokens in the cookie (never part of a sealed value).
const SEPARATOR: char = '.';

/// The cookie's name: `__Host-` over https, so a sibling subdomain cannot plant one.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-portcullis_device"
    } else {
        "portcullis_device"
    }
}

/// The `Set-Cookie` value that keeps `value` in this browser: `HttpOnly`, `SameSite=Lax`,
/// `Secure` over https, for [`LIFETIME_SECS`].
pub fn set_cookie(https: bool, value: &str) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; Max-Age={LIFETIME_SECS}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(https)
    )
}

#[derive(Serialize, Deserialize)]
struct Token {
    /// The account.
    a: String,
    /// The device id (random), which its failures are counted against.
    d: String,
    /// Issued at (seconds since the epoch).
    t: i64,
}

fn open(secrets: &SecretBox, sealed: &str) -> Option<Token> {
    let plain = secrets.decrypt(sealed, CONTEXT).ok()?;
    let token: Token = serde_json::from_str(&plain).ok()?;
    let age = now() - token.t;
    (0..LIFETIME_SECS).contains(&age).then_some(token)
}

/// The device id this browser's cookie vouches for with `account_id`, if it holds a valid,
/// unexpired token for that account.
pub fn recognise(secrets: &SecretBox, cookie: Option<&str>, account_id: &str) -> Option<String> {
    cookie?
        .split(SEPARATOR)
        .filter_map(|sealed| open(secrets, sealed))
        .find(|t| t.a == account_id)
        .map(|t| t.d)
}

/// The cookie value after `account_id` signed in with its password in this browser: a
/// fresh token for it, then the other accounts' still-valid tokens, [`MAX_ACCOUNTS`] at
/// most. Whatever in the old value is not a valid token is dropped.
pub fn issue(secrets: &SecretBox, cookie: Option<&str>, account_id: &str) -> String {
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let fresh = Token {
        a: account_id.to_owned(),
        d: URL_SAFE_NO_PAD.encode(id),
        t: now(),
    };
    let seal = |t: &Token| secrets.encrypt(&serde_json::to_string(t).expect("a token"), CONTEXT);
    let mut sealed = vec![seal(&fresh)];
    for old in cookie.unwrap_or_default().split(SEPARATOR) {
        if sealed.len() == MAX_ACCOUNTS {
            break;
        }
        if let Some(t) = open(secrets, old)
            && t.a != account_id
        {
            sealed.push(old.to_owned());
        }
    }
    sealed.join(&SEPARATOR.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretBox {
        SecretBox::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap()
    }

    #[test]
    fn a_token_vouches_for_its_account_only() {
        let s = key();
        let cookie = issue(&s, None, "alice-id");
        let device = recognise(&s, Some(&cookie), "alice-id").expect("recognised");
        assert!(!device.is_empty());
        assert_eq!(recognise(&s, Some(&cookie), "bob-id"), None);
        assert_eq!(recognise(&s, None, "alice-id"), None);
        // Another key (a forged or foreign cookie) vouches for nobody.
        let other = SecretBox::from_base64("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").unwrap();
        assert_eq!(recognise(&other, Some(&cookie), "alice-id"), None);
        // Nor does a changed byte, nor garbage.
        let mut bytes = cookie.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(recognise(&s, Some(&tampered), "alice-id"), None);
        assert_eq!(recognise(&s, Some("v1:junk.x"), "alice-id"), None);
    }

    #[test]
    fn an_expired_token_vouches_for_nobody() {
        let s = key();
        let old = Token {
            a: "alice-id".into(),
            d: "d".into(),
            t: now() - LIFETIME_SECS - 1,
        };
        let sealed = s.encrypt(&serde_json::to_string(&old).unwrap(), CONTEXT);
        assert_eq!(recognise(&s, Some(&sealed), "alice-id"), None);
        // Sealed for another purpose with the same key: not a token.
        let other = s.encrypt(&serde_json::to_string(&old).unwrap(), "alice-id");
        assert_eq!(recognise(&s, Some(&other), "alice-id"), None);
    }

    #[test]
    fn one_browser_keeps_the_last_few_accounts() {
        let s = key();
        let mut cookie = issue(&s, Some("garbage"), "a0");
        for i in 1..=MAX_ACCOUNTS {
            cookie = issue(&s, Some(&cookie), &format!("a{i}"));
        }
        assert_eq!(cookie.split(SEPARATOR).count(), MAX_ACCOUNTS);
        assert_eq!(recognise(&s, Some(&cookie), "a0"), None, "the oldest went");
        for i in 1..=MAX_ACCOUNTS {
            assert!(recognise(&s, Some(&cookie), &format!("a{i}")).is_some());
        }
        // Signing in again replaces that account's token rather than adding one.
        let again = issue(&s, Some(&cookie), "a3");
        assert_eq!(again.split(SEPARATOR).count(), MAX_ACCOUNTS);
        assert!(recognise(&s, Some(&again), "a1").is_some());
        // The value is cookie-safe (RFC 6265 cookie-octets).
        assert!(
            again
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"\",;\\".contains(&b)),
            "{again}"
        );
    }
}
