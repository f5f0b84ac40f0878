//! One-time codes (TOTP) as a second factor: what the pages may know, and the rules for
//! what a person types. The codes themselves are checked on the server (`ssr::totp`).

use serde::{Deserialize, Serialize};

/// Recovery codes an account gets when it turns one-time codes on (each works once).
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code, without its hyphens (5 bits each: 80 bits).
pub const RECOVERY_CODE_LEN: usize = 16;
/// The alphabet of recovery codes: no 0/o or 1/l to misread.
pub const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// An account's one-time codes, as its owner's Security section shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TotpStatus {
    /// Not set up.
    Off,
    /// Set up, waiting for a code from the app to confirm it: the secret as text (RFC 4648
    /// base32, for typing in) and the same as a QR code for scanning (an SVG drawn on the
    /// server, as a `data:` URL for an `<img>`).
    Enrolling { secret: String, qr: String },
    /// Turned on: asked for at every password sign-in.
    On { recovery_codes_left: i64 },
}

/// What was typed on the second-factor page, read as a person means it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// Six digits (spaces ignored): a one-time code.
    Code(String),
    /// Anything else of the recovery code alphabet (hyphens, spaces and case ignored).
    Recovery(String),
    /// Neither.
    Invalid,
}

/// Reads the second-factor field.
pub fn read(input: &str) -> Typed {
    let kept: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if kept.len() == 6 && kept.bytes().all(|b| b.is_ascii_digit()) {
        return Typed::Code(kept);
    }
    let lower = kept.to_ascii_lowercase();
    if lower.len() == RECOVERY_CODE_LEN && lower.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
        Typed::Recovery(lower)
    } else {
        Typed::Invalid
    }
}

/// A recovery code as shown: groups of four joined by hyphens.
pub fn show_recovery(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_recovery_codes_are_read_as_typed() {
        assert_eq!(read(" 123 456 "), Typed::Code("123456".into()));
        assert_eq!(read("12345"), Typed::Invalid);
        assert_eq!(read("1234567"), Typed::Invalid);
        assert_eq!(
            read("ABCD-efgh-jkmn-pqrs"),
            Typed::Recovery("abcdefghjkmnpqrs".into())
        );
        assert_eq!(
            read("abcd-efgh-jkmn-pqr0"),
            Typed::Invalid,
            "0 is not in the alphabet"
        );
        assert_eq!(read(""), Typed::Invalid);
        assert_eq!(show_recovery("abcdefghjkmnpqrs"), "abcd-efgh-jkmn-pqrs");
    }
}
