//! The administrator flag of a user signing in through a provider with Admin Claims: what
//! changes (pure; the storage side is `ssr::admin_sync`).

/// What a sign-in does to the user's administrator flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminChange {
    /// Nothing: the provider has no Admin Claims, or the flag already follows the rules.
    Keep,
    Grant,
    Revoke,
    /// The rules no longer match, but nobody else who is an administrator could still sign
    /// in: the role stays (and the users page says why).
    KeepLastAdmin,
}

/// `has_rules`: the provider has Admin Claims; `matches`: the sign-in's claims meet them;
/// `others_can_sign_in`: another administrator can still sign in.
pub fn decide(
    has_rules: bool,
    matches: bool,
    is_admin: bool,
    others_can_sign_in: bool,
) -> AdminChange {
    match (has_rules, matches, is_admin) {
        (false, _, _) => AdminChange::Keep,
        (true, true, false) => AdminChange::Grant,
        (true, true, true) => AdminChange::Keep,
        (true, false, false) => AdminChange::Keep,
        (true, false, true) if others_can_sign_in => AdminChange::Revoke,
        (true, false, true) => AdminChange::KeepLastAdmin,
    }
}

/// What the users page shows for an administrator kept by [`AdminChange::KeepLastAdmin`].
pub fn kept_reason(provider: &str) -> String {
    format!(
        "Kept as administrator: {provider}'s Admin Claims no longer match, but no other administrator could sign in."
    )
}

#[cfg(test)]
mod tests {
    use super::AdminChange::*;
    use super::decide;

    #[test]
    fn the_flag_follows_the_rules_but_never_removes_the_last_admin() {
        // (has_rules, matches, is_admin, others_can_sign_in) → change
        let cases = [
            ((false, false, true, false), Keep),
            ((false, true, false, true), Keep),
            ((true, true, false, false), Grant),
            ((true, true, true, false), Keep),
            ((true, false, false, true), Keep),
            ((true, false, true, true), Revoke),
            ((true, false, true, false), KeepLastAdmin),
        ];
        for ((r, m, a, o), want) in cases {
            assert_eq!(decide(r, m, a, o), want, "{r} {m} {a} {o}");
        }
    }
}
