//! What Portcullis reads from a provider's claims (the ID token merged with userinfo), as
//! pure functions: which required claims fail, which email may be trusted, which names to
//! use. No provider process is needed to test any of it.

use serde_json::{Map, Value};

/// An email longer than this is not an address (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;

/// A non-empty string claim.
pub fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// One rule of the Required Claims (and Admin Claims) field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `name`: the claim is boolean `true` (missing, `false`, `"true"`, `1` all fail, so a
    /// provider cannot satisfy a rule by accident).
    True(String),
    /// `name=value`: the claim is that string, or an array that contains it.
    Equals(String, String),
}

impl Rule {
    /// Parses one rule, or says what is wrong with it and how to write it.
    pub fn parse(rule: &str) -> Result<Rule, String> {
        let (name, value) = match rule.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (rule, None),
        };
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | ':' | '/'))
            && !name.starts_with('.')
            && !name.ends_with('.');
        if !name_ok {
            return Err(format!(
                "\"{rule}\": \"{name}\" is not a claim name: use letters, digits, '_', '-', ':', '/', and '.' between the parts of a nested claim (realm_access.roles)."
            ));
        }
        match value {
            None => Ok(Rule::True(name.to_owned())),
            Some("") => Err(format!(
                "\"{rule}\" has nothing after '=': write name=value, e.g. groups=media-users."
            )),
            Some(v) if v.contains('=') || v.chars().any(char::is_control) => Err(format!(
                "\"{rule}\": a rule has one '=' between the claim and the value, e.g. groups=media-users."
            )),
            Some(v) => Ok(Rule::Equals(name.to_owned(), v.to_owned())),
        }
    }

    /// Whether `claims` satisfy the rule; also the value it looked at, for reports.
    pub fn check<'a>(&self, claims: &'a Map<String, Value>) -> (bool, Option<&'a Value>) {
        match self {
            Rule::True(name) => {
                let seen = lookup(claims, name);
                (seen == Some(&Value::Bool(true)), seen)
            }
            Rule::Equals(name, want) => {
                let seen = lookup(claims, name);
                let ok = match seen {
                    Some(Value::String(s)) => s == want,
                    Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(want)),
                    _ => false,
                };
                (ok, seen)
            }
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::True(name) => f.write_str(name),
            Rule::Equals(name, value) => write!(f, "{name}={value}"),
        }
    }
}

/// A claim by name: the top-level claim of that exact name (names may contain dots, e.g.
/// URL-shaped ones), else the nested one by dotted path (`realm_access.roles`).
pub fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// The rules (as stored: one per item) that `claims` do not satisfy. A rule that does not
/// parse fails (validation keeps such rules out; a hand-edited database must not open up).
pub fn missing_required(claims: &Map<String, Value>, required: &[String]) -> Vec<String> {
    required
        .iter()
        .filter(|r| !Rule::parse(r).is_ok_and(|rule| rule.check(claims).0))
        .cloned()
        .collect()
}

/// The email to store: only one the provider says it verified (`email_verified: true`)
/// and that looks like an address (an `@` with something on both sides, at most
/// [`EMAIL_MAX`] characters, no spaces or control characters).
pub fn verified_email(claims: &Map<String, Value>) -> Option<&str> {
    let email = string(claims, "email")?;
    let verified = claims.get("email_verified") == Some(&Value::Bool(true));
    (verified && plausible_email(email)).then_some(email)
}

pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && email.chars().count() <= EMAIL_MAX
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn required_claims_must_be_boolean_true() {
        let c = claims(json!({
            "yes": true, "no": false, "text": "true", "one": 1, "list": [true]
        }));
        let required: Vec<String> = ["yes", "no", "text", "one", "list", "absent"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            missing_required(&c, &required),
            ["no", "text", "one", "list", "absent"]
        );
        assert!(missing_required(&c, &[]).is_empty());
    }

    #[test]
    fn value_rules_match_strings_arrays_and_nested_claims() {
        let c = claims(json!({
            "groups": ["media-users", "family"],
            "tier": "gold",
            "realm_access": {"roles": ["portcullis", "offline_access"]},
            "https://example.com/claims/allowed": true,
            "n": 3
        }));
        let ok = |rule: &str| Rule::parse(rule).unwrap().check(&c).0;
        assert!(ok("groups=media-users"));
        assert!(!ok("groups=admins"));
        assert!(ok("tier=gold"));
        assert!(!ok("tier=Gold"), "exact, case-sensitive");
        assert!(ok("realm_access.roles=portcullis"));
        assert!(!ok("realm_access.roles=admin"));
        assert!(
            ok("https://example.com/claims/allowed"),
            "dotted names are tried whole first"
        );
        assert!(
            !ok("n=3"),
            "only strings (or arrays of strings) equal a value"
        );
        assert!(!ok("missing=x"));
        assert!(!ok("realm_access.missing.deeper=x"));
        assert_eq!(
            missing_required(
                &c,
                &["groups=family".into(), "tier=silver".into(), "nope".into()]
            ),
            ["tier=silver", "nope"]
        );
    }

    #[test]
    fn malformed_rules_name_the_rule_and_the_fix() {
        for (rule, says) in [
            ("groups=", "nothing after '='"),
            ("=x", "not a claim name"),
            ("a=b=c", "one '='"),
            ("<script>", "not a claim name"),
            (".roles=x", "not a claim name"),
        ] {
            let e = Rule::parse(rule).unwrap_err();
            assert!(e.contains(rule) && e.contains(says), "{rule}: {e}");
        }
        assert_eq!(Rule::parse("groups=a").unwrap().to_string(), "groups=a");
    }

    #[test]
    fn only_verified_plausible_emails_are_trusted() {
        let ok = claims(json!({"email": "a@example.com", "email_verified": true}));
        assert_eq!(verified_email(&ok), Some("a@example.com"));
        for c in [
            json!({"email": "a@example.com"}),
            json!({"email": "a@example.com", "email_verified": false}),
            json!({"email": "a@example.com", "email_verified": "true"}),
            json!({"email": "not-an-address", "email_verified": true}),
            json!({"email": "@example.com", "email_verified": true}),
            json!({"email": "a@", "email_verified": true}),
            json!({"email": "a b@example.com", "email_verified": true}),
            json!({"email": "", "email_verified": true}),
            json!({"email_verified": true}),
        ] {
            assert_eq!(verified_email(&claims(c.clone())), None, "{c}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(
            verified_email(&claims(json!({"email": long, "email_verified": true}))),
            None
        );
    }
}
