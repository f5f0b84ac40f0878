//! A browser named from its User-Agent for the sessions list ("Firefox 133 on Linux"), by
//! the `woothee` classifier, from the header recorded at sign-in (taken from the request by
//! the session extractor, `app::extract`). Only this summary reaches a page, never the raw
//! header.

use std::sync::LazyLock;
use woothee::parser::Parser;

static PARSER: LazyLock<Parser> = LazyLock::new(Parser::new);

const UNKNOWN: &str = "UNKNOWN";

/// "Name Major on OS", shortened to what is known; "Unknown browser" when nothing is.
pub fn summary(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return "Unknown browser".to_owned();
    };
    let Some(r) = PARSER.parse(ua) else {
        return "Unknown browser".to_owned();
    };
    let known = |s: &str| (!s.is_empty() && s != UNKNOWN).then(|| s.to_owned());
    let major = known(r.version).map(|v| v.split('.').next().unwrap_or_default().to_owned());
    let name = match (known(r.name), major) {
        (Some(name), Some(major)) if !major.is_empty() => format!("{name} {major}"),
        (Some(name), _) => name,
        (None, _) => "Unknown browser".to_owned(),
    };
    match known(r.os) {
        Some(os) => format!("{name} on {os}"),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox 133 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131 on Windows 10",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17 on iPhone",
            ),
        ];
        for (ua, want) in cases {
            assert_eq!(summary(Some(ua)), want, "{ua}");
        }
    }

    #[test]
    fn what_cannot_be_named_says_so() {
        assert_eq!(summary(None), "Unknown browser");
        assert_eq!(summary(Some("  ")), "Unknown browser");
        assert_eq!(summary(Some("reqwest/0.12")), "Unknown browser");
    }
}
