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

/// The required claims (bare names) that are not boolean `true`: missing, `false`, the
/// string `"true"`, `1`, ... all fail, so a provider cannot satisfy a rule by accident.
pub fn missing_required(claims: &Map<String, Value>, required: &[String]) -> Vec<String> {
    required
        .iter()
        .filter(|c| claims.get(c.as_str()) != Some(&Value::Bool(true)))
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
