//! Extra authorization parameters: what an administrator adds to a provider's
//! authorization request (Entra's `domain_hint`, Google's `hd`, Keycloak's `kc_idp_hint`,
//! `prompt=select_account`, `acr_values`, `login_hint`, `ui_locales`...), typed as one
//! `key=value` per line.
//!
//! Never one Portcullis sets itself or would have to verify ([`RESERVED`], compared without
//! regard to case): an administrator's field, but it must not be a way around the
//! protocol. Names are RFC 6749 parameter names (letters, digits, `-`, `.`, `_`; so no
//! `%`-escape or space can spell a reserved one); values are text without control
//! characters, percent-encoded by the URL builder (`openidconnect`'s `add_extra_param`,
//! through `url`), never concatenated.

use crate::field::FieldError;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The field the editor, the server and the CLI name in errors.
pub const FIELD: &str = "auth_params";
/// At most this many parameters.
pub const AUTH_PARAMS_MAX: usize = 20;
pub const KEY_MAX: usize = 64;
pub const VALUE_MAX: usize = 512;

/// The parameters Portcullis owns or would have to verify, with why (lowercase).
///
/// `max_age` is refused rather than honoured: OpenID Connect Core 3.1.2.1 and 3.1.3.7 make
/// a client that sends it check the ID token's `auth_time`, which Portcullis does not.
pub const RESERVED: [(&str, &str); 15] = [
    ("state", OWN),
    ("nonce", OWN),
    ("redirect_uri", OWN),
    ("response_type", OWN),
    ("client_id", OWN),
    ("code_challenge", OWN),
    ("code_challenge_method", OWN),
    (
        "scope",
        "scopes are set in the Scopes field (openid is always requested)",
    ),
    (
        "response_mode",
        "Portcullis reads the answer as a query on its redirect URI, the only mode it checks",
    ),
    (
        "request",
        "a request object would replace the parameters Portcullis sets and checks",
    ),
    (
        "request_uri",
        "a request object would replace the parameters Portcullis sets and checks",
    ),
    (
        "claims",
        "Portcullis does not check the answer against a claims request; use Scopes, and Required Claims to demand claims",
    ),
    (
        "registration",
        "Portcullis is registered at the provider beforehand, with the client ID and secret above",
    ),
    (
        "id_token_hint",
        "Portcullis sends an ID token only when signing out at the provider",
    ),
    (
        "max_age",
        "it requires checking the ID token's auth_time, which Portcullis does not; prompt=login asks for a fresh sign-in instead",
    ),
];

const OWN: &str = "Portcullis sets it itself on every sign-in, and checks the answer against it";

/// Why `key` may not be set here, when it is a reserved parameter (in any case).
pub fn reserved(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    RESERVED
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, why)| *why)
}

/// Extra authorization parameters, validated, in the order typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthParams(Vec<(String, String)>);

impl AuthParams {
    /// The editor's text: one `key=value` per line, blank lines ignored, spaces around the
    /// name and the value trimmed. The first problem, naming its line and the fix.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        // (line number, name, value)
        let mut params: Vec<(usize, String, String)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let Some((key, value)) = line_of(line).map_err(|e| at_line(n, e))? else {
                continue;
            };
            if let Some((first, ..)) = params.iter().find(|(_, k, _)| k.eq_ignore_ascii_case(&key))
            {
                return Err(at_line(
                    n,
                    format!("{key} is already set on line {first}: keep one of the two lines."),
                ));
            }
            if params.len() == AUTH_PARAMS_MAX {
                return Err(FieldError::new(
                    FIELD,
                    format!("Use at most {AUTH_PARAMS_MAX} extra authorization parameters."),
                ));
            }
            params.push((n, key, value));
        }
        Ok(Self(params.into_iter().map(|(_, k, v)| (k, v)).collect()))
    }

    /// As stored (one `key=value` per line, written by [`Self::to_text`] after
    /// [`Self::parse`]). Read leniently but never unsafely: a line that would not pass
    /// now (a rule tightened since, a hand-edited database) is left out rather than
    /// sent or made to fail every read of the provider.
    pub fn from_stored(text: &str) -> Self {
        let mut params: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if let Ok(Some((key, value))) = line_of(line)
                && !params.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key))
                && params.len() < AUTH_PARAMS_MAX
            {
                params.push((key, value));
            }
        }
        Self(params)
    }

    /// One `key=value` per line: the editor's text and the stored form.
    pub fn to_text(&self) -> String {
        self.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn at_line(n: usize, message: String) -> FieldError {
    FieldError::new(FIELD, format!("Line {n}: {message}"))
}

/// One line: `None` when blank, else its checked name and value (or what is wrong).
fn line_of(line: &str) -> Result<Option<(String, String)>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let Some((key, value)) = line.split_once('=') else {
        return Err("write the parameter as name=value, e.g. prompt=select_account.".to_owned());
    };
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() {
        return Err("the parameter name before '=' is missing.".to_owned());
    }
    if key.len() > KEY_MAX
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(format!(
            "use a parameter name of at most {KEY_MAX} letters, digits, '-', '.' and '_' (no spaces or %-escapes: values are encoded for you)."
        ));
    }
    if let Some(why) = reserved(key) {
        return Err(format!(
            "{key} cannot be set here: {why}. Remove this line."
        ));
    }
    if value.is_empty() {
        return Err(format!(
            "{key} has no value: write {key}=VALUE, or remove this line."
        ));
    }
    if value.chars().count() > VALUE_MAX || value.chars().any(char::is_control) {
        return Err(format!(
            "give {key} a value of at most {VALUE_MAX} characters, without control characters (such as tabs)."
        ));
    }
    Ok(Some((key.to_owned(), value.to_owned())))
}

/// A JSON object, in the order typed: `{"prompt": "select_account"}`.
impl Serialize for AuthParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// From the JSON object [`Serialize`] writes, kept only as far as [`AuthParams::from_stored`]
/// would keep it.
impl<'de> Deserialize<'de> for AuthParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = AuthParams;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of authorization parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AuthParams, A::Error> {
                let mut text = String::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    // A line break in either would start another line: not a parameter.
                    if !k.contains(['\n', '\r']) && !v.contains(['\n', '\r']) {
                        text.push_str(&format!("{k}={v}\n"));
                    }
                }
                Ok(AuthParams::from_stored(&text))
            }
        }
        d.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests;
