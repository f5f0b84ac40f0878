//! Second factors: who must have one (the policy and its decision), when an upstream
//! provider's sign-in counts as two factors, and one-time codes (TOTP): what the pages may
//! know and the rules for what a person types. The codes themselves are checked on the
//! server (`ssr::totp`).

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

/// Who must have signed in with two factors (a passkey, a password and a one-time code, or a
/// provider whose sign-in counts as two) before an application opens: the administrator's
/// choice (Settings → Users, `portcullis login-methods second-factor`). Each application may
/// also require it for everyone who opens it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Only the applications that require it.
    #[default]
    Nobody,
    /// Administrators, for every application and for Portcullis's own settings.
    Administrators,
    /// Everyone, for every application.
    Everyone,
}

impl Requirement {
    pub const ALL: [Requirement; 3] = [
        Requirement::Nobody,
        Requirement::Administrators,
        Requirement::Everyone,
    ];

    /// Its name in the settings table, the form and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Nobody => "nobody",
            Requirement::Administrators => "administrators",
            Requirement::Everyone => "everyone",
        }
    }

    /// A stored or typed name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Requirement> {
        Requirement::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Requirement::Nobody => "Only where an application asks",
            Requirement::Administrators => "Administrators",
            Requirement::Everyone => "Everyone",
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            Requirement::Nobody => {
                "A second factor is asked for at the applications set to require one."
            }
            Requirement::Administrators => {
                "Administrators need a second factor for every application and for these settings."
            }
            Requirement::Everyone => "Everyone needs a second factor for every application.",
        }
    }

    /// Whether a person (an administrator or not) needs two factors to open an application
    /// that itself requires them (`app_requires`) or not.
    pub fn applies(self, is_admin: bool, app_requires: bool) -> bool {
        app_requires
            || match self {
                Requirement::Nobody => false,
                Requirement::Administrators => is_admin,
                Requirement::Everyone => true,
            }
    }
}

/// How a provider's sign-in counts towards the second-factor policy (the provider setting
/// `second_factor`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProviderFactors {
    /// As the provider says in the ID token's `amr` ([`amr_says_two_factors`]).
    #[default]
    Amr,
    /// Always two factors (the provider enforces them itself, without saying so).
    Always,
    /// Never: people signing in here give a second factor at Portcullis when one is needed.
    Never,
}

impl ProviderFactors {
    pub const ALL: [ProviderFactors; 3] = [
        ProviderFactors::Amr,
        ProviderFactors::Always,
        ProviderFactors::Never,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderFactors::Amr => "amr",
            ProviderFactors::Always => "always",
            ProviderFactors::Never => "never",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProviderFactors::Amr => "As the provider says",
            ProviderFactors::Always => "Always",
            ProviderFactors::Never => "Never",
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            ProviderFactors::Amr => {
                "Two factors when the ID token's amr claim says so (mfa, or a key or code with a password, PIN or biometric), as Authelia, Authentik and Entra send it. No amr claim counts as one."
            }
            ProviderFactors::Always => {
                "Every sign-in here counts as two factors: choose it only when the provider always asks for a second factor itself."
            }
            ProviderFactors::Never => {
                "A sign-in here counts as one factor: people give a second factor at Portcullis where one is required."
            }
        }
    }

    /// As typed or stored (empty: the default).
    pub fn parse(s: &str) -> Option<ProviderFactors> {
        match s.trim() {
            "" => Some(ProviderFactors::Amr),
            s => ProviderFactors::ALL.into_iter().find(|f| f.as_str() == s),
        }
    }

    /// Whether a sign-in whose ID token carried `amr` counts as two factors.
    pub fn two_factors(self, amr: &[String]) -> bool {
        match self {
            ProviderFactors::Amr => amr_says_two_factors(amr),
            ProviderFactors::Always => true,
            ProviderFactors::Never => false,
        }
    }
}

/// RFC 8176 values for something the person has (a key, a device, a code sent to it).
const POSSESSION: &[&str] = &["hwk", "swk", "otp", "sms", "tel", "sc"];
/// … something they know or are (a password, a PIN, a biometric, or "the user was
/// verified" by the key itself).
const KNOWLEDGE_OR_INHERENCE: &[&str] = &[
    "pwd", "pin", "kba", "user", "fpt", "face", "iris", "retina", "vbm",
];

/// Whether an `amr` claim (RFC 8176) says the person gave two factors: `mfa`, or one
/// possession factor with one knowledge or inherence factor (Authelia sends
/// `["pwd", "otp", "mfa"]`, a passkey `["hwk", "user"]`). A bare `pwd`, `otp` or no claim
/// (Google, Keycloak by default) is one factor: the policy fails closed.
pub fn amr_says_two_factors(amr: &[String]) -> bool {
    let has = |set: &[&str]| amr.iter().any(|v| set.contains(&v.as_str()));
    amr.iter().any(|v| v == "mfa") || (has(POSSESSION) && has(KNOWLEDGE_OR_INHERENCE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_needs_two_factors() {
        use Requirement::*;
        for (req, admin, app, needs) in [
            (Nobody, true, false, false),
            (Nobody, false, true, true),
            (Administrators, true, false, true),
            (Administrators, false, false, false),
            (Administrators, false, true, true),
            (Everyone, false, false, true),
        ] {
            assert_eq!(
                req.applies(admin, app),
                needs,
                "{req:?} admin={admin} app={app}"
            );
        }
        assert_eq!(Requirement::parse(" everyone "), Some(Everyone));
        assert_eq!(Requirement::parse("admins"), None);
    }

    #[test]
    fn an_upstream_sign_in_counts_as_its_amr_says() {
        let amr = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for (values, two) in [
            (&["pwd", "otp", "mfa"][..], true),
            (&["mfa"][..], true),
            (&["hwk", "user"][..], true),
            (&["pwd", "sms"][..], true),
            (&["pwd"][..], false),
            (&["otp"][..], false),
            (&["hwk"][..], false),
            (&["pwd", "kba"][..], false),
            (&[][..], false),
            (&["MFA"][..], false),
        ] {
            assert_eq!(amr_says_two_factors(&amr(values)), two, "{values:?}");
        }
        assert!(ProviderFactors::Always.two_factors(&[]));
        assert!(!ProviderFactors::Never.two_factors(&amr(&["mfa"])));
        assert_eq!(ProviderFactors::parse(""), Some(ProviderFactors::Amr));
        assert_eq!(ProviderFactors::parse("sometimes"), None);
    }

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
