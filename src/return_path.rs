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

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

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
