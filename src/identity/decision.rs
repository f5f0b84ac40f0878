//! Who a verified provider identity is here: the one decision that sign-in and linking act
//! on (`ssr::identities::resolve`) and Test sign-in reports (`ssr::identities::preview`).
//! Pure: the facts are gathered from storage first, then decided here.

/// What the person came for with the verified identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Sign in (or create an account, when the provider allows new users).
    SignIn,
    /// Link the identity to the signed-in account `user_id` (Linked Accounts).
    Link { user_id: String },
}

/// The account holding the identity's verified email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailOwner {
    pub user_id: String,
    pub is_admin: bool,
    /// It already has an identity from this provider (another subject).
    pub linked_here: bool,
    /// Its email is trusted now ([`crate::email_source::trusted`]).
    pub email_trusted: bool,
}

/// The account a link is for ([`Purpose::Link`]), as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTarget {
    /// It already has an identity from this provider.
    pub linked_here: bool,
}

/// Everything the decision weighs, gathered before it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub purpose: Purpose,
    /// The provider's Required Claims the claims do not meet (empty: all met).
    pub missing_claims: Vec<String>,
    /// The account the identity (provider, issuer, subject) is linked to.
    pub linked_to: Option<String>,
    /// The account holding the identity's verified email (`None`: no verified email, or
    /// nobody holds it).
    pub email_owner: Option<EmailOwner>,
    /// The provider's "Link existing accounts by verified email".
    pub link_by_email: bool,
    /// The provider's "Allow New Users".
    pub allow_new_users: bool,
    /// For [`Purpose::Link`]: the account to link to (`None`: it no longer exists).
    pub link_target: Option<LinkTarget>,
}

/// What happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The identity is linked to this account already: use it (sign in, or the link the
    /// person asked for is there).
    Linked {
        user_id: String,
    },
    /// Link the identity to this account: the one being linked, or for a sign-in the one
    /// holding the verified email (link by email).
    Link {
        user_id: String,
    },
    /// A new account from the claims, linked to the identity.
    Create,
    Refuse(Refusal),
}

/// Why the identity is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The provider's Required Claims are not met (these rules).
    ClaimsNotMet { missing: Vec<String> },
    /// No link, not joined by email, and no new accounts from this provider.
    NotLinked,
    /// A new account would take the verified email of this existing account.
    EmailTaken { owner: String, why: NotJoined },
    /// Linking: the identity is linked to another account.
    LinkedToOther,
    /// Linking: the account already has another identity from this provider.
    AlreadyLinked,
    /// Linking: the account the link was started for no longer exists.
    UserGone,
}

/// Why a sign-in is not joined to the account holding its verified email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotJoined {
    /// The provider does not link by email.
    Off,
    /// Administrators are linked by hand only.
    Administrator,
    /// The account already has an identity from this provider.
    LinkedHere,
    /// The account's email is not trusted (anyone's to claim at an untrusted source).
    Untrusted,
}

/// Whether a first sign-in may be joined to `owner`, the account holding its verified email.
pub fn joinable(owner: &EmailOwner, link_by_email: bool) -> Result<(), NotJoined> {
    if !link_by_email {
        Err(NotJoined::Off)
    } else if owner.is_admin {
        Err(NotJoined::Administrator)
    } else if owner.linked_here {
        Err(NotJoined::LinkedHere)
    } else if !owner.email_trusted {
        Err(NotJoined::Untrusted)
    } else {
        Ok(())
    }
}

/// The decision. Required Claims apply to every sign-in and link.
pub fn decide(f: &Facts) -> Decision {
    if !f.missing_claims.is_empty() {
        return Decision::Refuse(Refusal::ClaimsNotMet {
            missing: f.missing_claims.clone(),
        });
    }
    match &f.purpose {
        Purpose::SignIn => {
            if let Some(user_id) = &f.linked_to {
                return Decision::Linked {
                    user_id: user_id.clone(),
                };
            }
            let joined = f
                .email_owner
                .as_ref()
                .map(|o| (o, joinable(o, f.link_by_email)));
            match joined {
                Some((owner, Ok(()))) => Decision::Link {
                    user_id: owner.user_id.clone(),
                },
                _ if !f.allow_new_users => Decision::Refuse(Refusal::NotLinked),
                Some((owner, Err(why))) => Decision::Refuse(Refusal::EmailTaken {
                    owner: owner.user_id.clone(),
                    why,
                }),
                None => Decision::Create,
            }
        }
        Purpose::Link { user_id } => match (&f.link_target, &f.linked_to) {
            (None, _) => Decision::Refuse(Refusal::UserGone),
            (Some(_), Some(owner)) if owner == user_id => Decision::Linked {
                user_id: owner.clone(),
            },
            (Some(_), Some(_)) => Decision::Refuse(Refusal::LinkedToOther),
            (Some(t), None) if t.linked_here => Decision::Refuse(Refusal::AlreadyLinked),
            (Some(_), None) => Decision::Link {
                user_id: user_id.clone(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in() -> Facts {
        Facts {
            purpose: Purpose::SignIn,
            missing_claims: Vec::new(),
            linked_to: None,
            email_owner: None,
            link_by_email: false,
            allow_new_users: false,
            link_target: None,
        }
    }

    fn owner() -> EmailOwner {
        EmailOwner {
            user_id: "al".into(),
            is_admin: false,
            linked_here: false,
            email_trusted: true,
        }
    }

    fn linked(id: &str) -> Decision {
        Decision::Linked { user_id: id.into() }
    }

    fn link(id: &str) -> Decision {
        Decision::Link { user_id: id.into() }
    }

    fn taken(why: NotJoined) -> Decision {
        Decision::Refuse(Refusal::EmailTaken {
            owner: "al".into(),
            why,
        })
    }

    #[test]
    fn required_claims_refuse_before_anything_else() {
        let missing = vec!["groups=staff".to_owned()];
        let refused = Decision::Refuse(Refusal::ClaimsNotMet {
            missing: missing.clone(),
        });
        let f = Facts {
            missing_claims: missing.clone(),
            linked_to: Some("u".into()),
            allow_new_users: true,
            ..sign_in()
        };
        assert_eq!(decide(&f), refused);
        let f = Facts {
            purpose: Purpose::Link {
                user_id: "u".into(),
            },
            link_target: Some(LinkTarget { linked_here: false }),
            ..f
        };
        assert_eq!(decide(&f), refused);
    }

    #[test]
    fn a_linked_identity_signs_in_whatever_the_provider_allows() {
        let f = Facts {
            linked_to: Some("u".into()),
            email_owner: Some(owner()),
            link_by_email: true,
            ..sign_in()
        };
        assert_eq!(decide(&f), linked("u"));
    }

    #[test]
    fn a_first_sign_in_joins_the_email_owner_only_when_every_rule_allows() {
        // (link by email, owner changed by, allow new users) → decision
        type Change = fn(&mut EmailOwner);
        let keep: Change = |_| {};
        let admin: Change = |o| o.is_admin = true;
        let here: Change = |o| o.linked_here = true;
        let untrusted: Change = |o| o.email_trusted = false;
        let cases: [(bool, Change, bool, Decision); 10] = [
            (true, keep, false, link("al")),
            (true, keep, true, link("al")),
            (false, keep, false, Decision::Refuse(Refusal::NotLinked)),
            (false, keep, true, taken(NotJoined::Off)),
            (true, admin, false, Decision::Refuse(Refusal::NotLinked)),
            (true, admin, true, taken(NotJoined::Administrator)),
            (true, here, false, Decision::Refuse(Refusal::NotLinked)),
            (true, here, true, taken(NotJoined::LinkedHere)),
            (true, untrusted, false, Decision::Refuse(Refusal::NotLinked)),
            (true, untrusted, true, taken(NotJoined::Untrusted)),
        ];
        for (i, (link_by_email, change, allow_new_users, want)) in cases.into_iter().enumerate() {
            let mut o = owner();
            change(&mut o);
            let f = Facts {
                email_owner: Some(o),
                link_by_email,
                allow_new_users,
                ..sign_in()
            };
            assert_eq!(decide(&f), want, "case {i}");
        }
    }

    #[test]
    fn nobody_holding_the_email_means_a_new_account_when_allowed() {
        let f = sign_in();
        assert_eq!(decide(&f), Decision::Refuse(Refusal::NotLinked));
        let f = Facts {
            allow_new_users: true,
            link_by_email: true,
            ..sign_in()
        };
        assert_eq!(decide(&f), Decision::Create);
    }

    #[test]
    fn linking_goes_to_the_signed_in_account_or_says_why_not() {
        let f = |linked_to: Option<&str>, target: Option<bool>| Facts {
            purpose: Purpose::Link {
                user_id: "me".into(),
            },
            linked_to: linked_to.map(Into::into),
            link_target: target.map(|linked_here| LinkTarget { linked_here }),
            // Linking ignores these: the account is chosen by who is signed in.
            email_owner: Some(owner()),
            link_by_email: true,
            allow_new_users: true,
            ..sign_in()
        };
        assert_eq!(decide(&f(None, Some(false))), link("me"));
        assert_eq!(decide(&f(Some("me"), Some(true))), linked("me"));
        assert_eq!(
            decide(&f(Some("other"), Some(false))),
            Decision::Refuse(Refusal::LinkedToOther)
        );
        assert_eq!(
            decide(&f(None, Some(true))),
            Decision::Refuse(Refusal::AlreadyLinked)
        );
        assert_eq!(
            decide(&f(Some("me"), None)),
            Decision::Refuse(Refusal::UserGone)
        );
    }
}
