//! The audit log's events as kept and shown (issue 23 item 2): a closed list of kinds with
//! stable snake_case names, what an event says, the filter of the list, and which fields a
//! change touched. Pure: the storage side is `ssr::audit`.
//!
//! An event never carries a secret: its details are names chosen here or in the code that
//! records it (reasons, field names, rules, slugs), never a value a person typed into a
//! secret field ([`changed_fields`] compares values but gives back only names).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! kinds {
    ($($kind:ident => $name:literal, $label:literal;)*) => {
        /// What happened. The name (`name`, the JSON and the column) is stable: scripts filter
        /// on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventKind {
            $($kind,)*
        }

        impl EventKind {
            /// Every kind, in the order the filter lists them.
            pub const ALL: &[EventKind] = &[$(EventKind::$kind,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(EventKind::$kind => $name,)*
                }
            }

            /// In words, for the page.
            pub fn label(self) -> &'static str {
                match self {
                    $(EventKind::$kind => $label,)*
                }
            }
        }
    };
}

kinds! {
    SignIn => "sign_in", "Signed in";
    SignInFailed => "sign_in_failed", "Sign-in failed";
    SignOut => "sign_out", "Signed out";
    SessionEnded => "session_ended", "Session ended";
    SecondFactorEnabled => "second_factor_enabled", "One-time codes turned on";
    SecondFactorRemoved => "second_factor_removed", "One-time codes removed";
    SteppedUp => "stepped_up", "Second factor given";
    PasskeyAdded => "passkey_added", "Passkey added";
    PasskeyRemoved => "passkey_removed", "Passkey removed";
    PasskeyLinkMade => "passkey_link_made", "Passkey enrolment link made";
    ProviderCreated => "provider_created", "Provider added";
    ProviderUpdated => "provider_updated", "Provider changed";
    ProviderDeleted => "provider_deleted", "Provider deleted";
    LoginMethodsChanged => "login_methods_changed", "Login methods changed";
    AppCreated => "app_created", "Application added";
    AppUpdated => "app_updated", "Application changed";
    AppDeleted => "app_deleted", "Application deleted";
    UserCreated => "user_created", "User created";
    UserUpdated => "user_updated", "User changed";
    GroupAssigned => "group_assigned", "Group assigned";
    GroupUnassigned => "group_unassigned", "Group unassigned";
    AdminGranted => "admin_granted", "Administrator granted";
    AdminRevoked => "admin_revoked", "Administrator revoked";
    IdentityLinked => "identity_linked", "Account linked";
    IdentityUnlinked => "identity_unlinked", "Account unlinked";
    TokenCreated => "token_created", "Token made";
    TokenRevoked => "token_revoked", "Token revoked";
    TestSignIn => "test_sign_in", "Test sign-in";
    ForwardAuthDenied => "forward_auth_denied", "Forward auth denied";
}

impl EventKind {
    pub fn parse(name: &str) -> Option<EventKind> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One kept event, as the page, `portcullis audit list` and the export show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Sortable by time (UUID v7): the list's order and its paging key.
    pub id: String,
    /// Unix seconds (for an aggregated forward-auth denial: the minute it began).
    pub at: i64,
    pub event: EventKind,
    /// Who acted, and from where.
    #[serde(flatten)]
    pub by: Acted,
    /// What was acted on: `user`, `provider`, `app`, `session`, `token`, `group`.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// What was acted on, as named then.
    pub target: Option<String>,
    /// The user the event concerns (the actor or the target), for the filter by user.
    pub user_id: Option<String>,
    /// What else is known: reason, method, provider, changed fields, rule. Never a secret.
    pub details: BTreeMap<String, serde_json::Value>,
    /// How many times it happened (more than one only for aggregated forward-auth denials).
    pub count: i64,
}

/// Who acted in an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acted {
    /// A user's id (absent for the command line, a provider or the server itself).
    pub actor_id: Option<String>,
    /// As named then: a username, `cli`, `provider:<slug>`, `system`.
    pub actor: String,
    /// The client address (behind `--trusted-proxies`), when a request did it.
    pub client: Option<String>,
}

/// Which events a listing shows, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// A username, email or id: events by or about that user.
    pub user: Option<String>,
    pub event: Option<EventKind>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    /// The page: events older than this id (the "Older" link), or newer ("Newer").
    pub page: Option<Page>,
    pub limit: u32,
}

/// A keyset page boundary: an event id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Page {
    Before(String),
    After(String),
}

/// The most a listing returns at once.
pub const MAX_LIMIT: u32 = 1000;
/// A page of the settings page.
pub const PAGE_SIZE: u32 = 50;

/// The top-level fields whose values differ between `old` and `new` as serialised (nested
/// objects by dotted name; `#[serde(flatten)]` settings come out flat), sorted: what an
/// "updated" event lists. Values never leave this function, so a secret field shows only
/// as its name.
pub fn changed_fields<T: Serialize>(old: &T, new: &T) -> Vec<String> {
    let (Ok(old), Ok(new)) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    diff("", &old, &new, &mut out);
    out.sort();
    out
}

fn diff(prefix: &str, old: &serde_json::Value, new: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value::Object;
    match (old, new) {
        (Object(a), Object(b)) => {
            let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            let null = serde_json::Value::Null;
            for name in names {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                diff(
                    &path,
                    a.get(name).unwrap_or(&null),
                    b.get(name).unwrap_or(&null),
                    out,
                );
            }
        }
        (a, b) if a != b => out.push(prefix.to_owned()),
        _ => {}
    }
}

/// The details of an event: `[("reason", "invalid_credentials")]` and the like.
pub fn details<'a>(
    pairs: impl IntoIterator<Item = (&'a str, serde_json::Value)>,
) -> BTreeMap<String, serde_json::Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

impl AuditEvent {
    /// The details in one line of words for a table cell: `reason: invalid_credentials;
    /// fields: name, scopes`.
    pub fn details_line(&self) -> String {
        let mut parts: Vec<String> = self
            .details
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                format!("{k}: {v}")
            })
            .collect();
        if self.count > 1 {
            parts.push(format!("{} times", self.count));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_parse_back() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.name()), Some(*k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.name())
            );
        }
        assert_eq!(EventKind::SignInFailed.name(), "sign_in_failed");
        assert_eq!(EventKind::parse("nonsense"), None);
    }

    #[derive(Serialize)]
    struct Thing {
        name: String,
        secret: String,
        nested: Nested,
    }
    #[derive(Serialize)]
    struct Nested {
        on: bool,
        list: Vec<String>,
    }

    #[test]
    fn changed_fields_names_without_values() {
        let thing = |secret: &str, on| Thing {
            name: "a".into(),
            secret: secret.into(),
            nested: Nested {
                on,
                list: vec!["x".into()],
            },
        };
        let a = thing("hunter2", true);
        let b = thing("correct horse", false);
        let changed = changed_fields(&a, &b);
        assert_eq!(changed, vec!["nested.on", "secret"]);
        assert!(changed_fields(&a, &a).is_empty());
    }

    #[test]
    fn details_read_as_one_line() {
        let e = AuditEvent {
            id: "1".into(),
            at: 0,
            event: EventKind::ProviderUpdated,
            by: Acted {
                actor_id: None,
                actor: "cli".into(),
                client: None,
            },
            target_type: None,
            target_id: None,
            target: None,
            user_id: None,
            details: details([
                ("fields", serde_json::json!(["name", "scopes"])),
                ("reason", serde_json::json!("x")),
            ]),
            count: 3,
        };
        assert_eq!(e.details_line(), "fields: name, scopes; reason: x; 3 times");
    }
}
