//! Where to send a browser after sign-in: only back into this application.
//!
//! An attacker who controls `?next=` must not be able to send a freshly signed-in user to
//! another site (open redirect). We keep only plain absolute paths on this origin.

/// `Some(path)` when `candidate` is a same-origin path such as `/profile/settings?tab=x`;
/// `None` for anything a browser could read as another origin: `//host`, `/\host`,
/// `https:...`, their percent-encoded forms, control characters or whitespace.
pub fn safe_return_path(candidate: &str) -> Option<String> {
    if candidate.len() > 2048 || !candidate.starts_with('/') {
        return None;
    }
    if candidate
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    // Browsers treat `/\` like `//`; some proxies decode before routing. Judge the decoded
    // form too (twice, to catch double encoding).
    let once = percent_decode(candidate);
    let twice = percent_decode(&once);
    for form in [candidate, once.as_str(), twice.as_str()] {
        let mut chars = form.chars();
        chars.next();
        if matches!(chars.next(), Some('/') | Some('\\')) {
            return None;
        }
        if form.contains('\\') || form.chars().any(char::is_control) {
            return None;
        }
    }
    // The final word: resolved against a placeholder origin, it must stay on that origin.
    let base = url::Url::parse("http://portcullis.invalid/").ok()?;
    let joined = base.join(candidate).ok()?;
    (joined.origin() == base.origin()).then(|| candidate.to_owned())
}

/// Where to send a browser after sign-in: a same-origin path ([`safe_return_path`]), or an
/// absolute URL that belongs to one of `apps` (forward authentication sends people to
/// Portcullis with the exact URL they asked for). Anything else is `None` (callers fall
/// back to `/`): other hosts, `//host`, other schemes, user-info tricks, backslashes, a
/// scheme that differs from the application's.
pub fn safe_return_to(candidate: &str, apps: &[crate::apps::App]) -> Option<String> {
    if let Some(path) = safe_return_path(candidate) {
        return Some(path);
    }
    if candidate.len() > 2048 {
        return None;
    }
    // Read once, judged as forward auth judges it.
    let req = crate::apps::request::RequestUrl::parse(candidate).ok()?;
    crate::apps::request::judge(apps, &req)
        .ok()
        .flatten()
        .map(|_| req.url.to_string())
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::{safe_return_path, safe_return_to};
    use crate::apps::App;

    fn apps() -> Vec<App> {
        let mut app = App::for_test(
            "1",
            &[
                "https://sonarr.home.test",
                "http://app.portcullis.test:8080/media",
            ],
        );
        app.settings.name = "Sonarr".into();
        vec![app]
    }

    #[test]
    fn absolute_urls_only_of_configured_apps() {
        let apps = apps();
        for ok in [
            "https://sonarr.home.test/",
            "https://sonarr.home.test/series?id=3#top",
            "https://SONARR.home.test/x",
            "http://app.portcullis.test:8080/media/x?y=1",
            "/profile",
        ] {
            assert!(safe_return_to(ok, &apps).is_some(), "{ok}");
        }
        assert_eq!(
            safe_return_to("https://sonarr.home.test/series?id=3", &apps).as_deref(),
            Some("https://sonarr.home.test/series?id=3")
        );
        for bad in [
            "//evil.test",
            "//sonarr.home.test/",
            "https://evil.test/",
            "https://sonarr.home.test.evil.test/",
            "https://evil.test/https://sonarr.home.test/",
            "http://sonarr.home.test/",
            "https://sonarr.home.test:8443/",
            "http://app.portcullis.test:8080/mediaplayer",
            "http://app.portcullis.test:8080/",
            "javascript:alert(1)",
            "javascript://sonarr.home.test/%0aalert(1)",
            "https:sonarr.home.test",
            "https:/\\evil.test",
            "https://sonarr.home.test\\@evil.test/",
            "https://sonarr.home.test@evil.test/",
            "https://evil.test@sonarr.home.test/",
            "https://u:p@sonarr.home.test/",
            "https://sonarr.home.test /",
            "data:text/html,<script>",
            "",
        ] {
            assert_eq!(safe_return_to(bad, &apps), None, "{bad:?}");
        }
        assert_eq!(safe_return_to("https://sonarr.home.test/", &[]), None);
    }

    #[test]
    fn keeps_plain_paths() {
        for ok in [
            "/",
            "/profile/settings",
            "/settings/users?x=1#top",
            "/a%20b",
        ] {
            assert_eq!(safe_return_path(ok).as_deref(), Some(ok), "{ok}");
        }
    }

    #[test]
    fn drops_everything_that_leaves_the_origin() {
        for bad in [
            "",
            "profile",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/%252Fevil.example",
            "/ /evil",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%09/evil.example",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }
}
