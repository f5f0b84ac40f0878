//! What a page may know about a signed-in session: never its id (the cookie value), only a
//! handle derived from it one way (see `ssr::session::manage::handle`).

use serde::{Deserialize, Serialize};

/// How a session was signed in, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    /// With a passkey (WebAuthn).
    Passkey,
    /// Through a provider, by its display name (its slug when it has since been deleted).
    Provider {
        slug: String,
        name: String,
    },
}

impl SignInMethod {
    pub fn label(&self) -> String {
        match self {
            SignInMethod::Password => "Password".to_owned(),
            SignInMethod::Passkey => "Passkey".to_owned(),
            SignInMethod::Provider { name, .. } => name.clone(),
        }
    }
}

/// One signed-in session, as the sessions page and the users page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Refers to the session in "Sign out" forms, the CLI and the JSON; not its id.
    pub handle: String,
    pub user_id: String,
    /// Unix seconds.
    pub signed_in_at: i64,
    /// Unix seconds (written at most every few minutes).
    pub last_seen_at: i64,
    pub how: SignInMethod,
    /// Browser and system, summarised from the User-Agent ("Firefox on Linux").
    pub browser: String,
    /// The session of the request that asked.
    pub current: bool,
    /// The applications it signed in to through Portcullis (OpenID Connect), by name,
    /// sorted; told when it ends (back-channel logout).
    #[serde(default)]
    pub apps: Vec<String>,
}

/// A moment as shown on the pages: `2026-11-29 16:21 UTC` (minutes, in UTC so that the
/// server's rendering and the browser's agree).
pub fn utc_minute(unix_secs: i64) -> String {
    let (y, m, d, secs) = utc_parts(unix_secs);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// The same moment for a `<time datetime>` attribute (RFC 3339, UTC, to the second), which
/// the browser turns into the viewer's time zone and relative words (`public/pkg/page.js`).
pub fn utc_datetime(unix_secs: i64) -> String {
    let (y, m, d, secs) = utc_parts(unix_secs);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// The start of a day typed as `YYYY-MM-DD` (UTC), as a Unix time; `None` for anything
/// else or a date that does not exist.
pub fn parse_utc_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400)
}

/// The day of a Unix time as `YYYY-MM-DD` (UTC): what a date field shows.
pub fn utc_date(unix_secs: i64) -> String {
    let (y, m, d, _) = utc_parts(unix_secs);
    format!("{y:04}-{m:02}-{d:02}")
}

/// (year, month, day) to days since 1970-01-01, proleptic Gregorian (H. Hinnant's
/// `days_from_civil`); the inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day, seconds into the day) of a Unix time, in UTC.
fn utc_parts(unix_secs: i64) -> (i64, u32, u32, i64) {
    let (y, m, d) = civil_from_days(unix_secs.div_euclid(86_400));
    (y, m, d, unix_secs.rem_euclid(86_400))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_shown_in_utc_to_the_minute() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_minute(1_795_969_284), "2026-11-29 16:21 UTC");
        assert_eq!(utc_minute(-60), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn moments_for_machines_are_rfc3339_in_utc() {
        assert_eq!(utc_datetime(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_datetime(1_795_969_284), "2026-11-29T16:21:24Z");
        assert_eq!(utc_datetime(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn dates_are_read_as_the_start_of_their_utc_day() {
        assert_eq!(parse_utc_date("1970-01-01"), Some(0));
        assert_eq!(parse_utc_date("2000-02-29"), Some(951_782_400));
        assert_eq!(parse_utc_date("2026-11-29"), Some(1_795_910_400));
        assert_eq!(parse_utc_date("2026-02-30"), None);
        assert_eq!(parse_utc_date("2026-1-01"), None);
        assert_eq!(parse_utc_date("yesterday"), None);
        assert_eq!(utc_date(1_795_969_284), "2026-11-29");
    }

    #[test]
    fn a_method_is_labelled_by_the_provider_name() {
        assert_eq!(SignInMethod::Password.label(), "Password");
        let p = SignInMethod::Provider {
            slug: "kc".into(),
            name: "Keycloak".into(),
        };
        assert_eq!(p.label(), "Keycloak");
    }
}
