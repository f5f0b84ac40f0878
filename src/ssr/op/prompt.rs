//! Who must do what before a code is issued (`docs/openid-provider.md` §3.4 steps 4–6;
//! OpenID Connect Core 1.0 §3.1.2.1 and §3.1.2.3): `prompt`, `max_age`, a verified
//! `id_token_hint`, and consent. [`decide`] is the rule, without I/O; the routes
//! (`server/src/op.rs`: the authorization endpoint and the continue step) act on its answer.
//! Consent is remembered per user and application (`op_consents`): an answer covers the
//! scopes it was given for, and a wider request asks again.

use super::authorize::{AuthError, AuthRequest};
use crate::on_pool;
use crate::ssr::clock::now;
use crate::ssr::db::Db;

/// The signed-in person, as the decision needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person<'a> {
    pub user_id: &'a str,
    /// When the person last signed in for real (Unix seconds): `SessionData::
    /// authenticated_at`, `None` when a provider did not say.
    pub fresh_at: Option<i64>,
}

/// What the route must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The person must sign in (again, when signed in already): the request waits.
    SignIn,
    /// "Continue as …" or "Use another account" (`prompt=select_account`).
    ChooseAccount,
    /// The consent page: the application asks first, or sent `prompt=consent`.
    Consent,
    /// An error for the client (`prompt=none` when anything would need a page).
    Refuse(AuthError),
    /// Issue the code (access is checked there).
    Issue,
}

fn refuse(error: &'static str, why: &str) -> Next {
    Next::Refuse(AuthError {
        error,
        description: why.to_owned(),
    })
}

/// The rule for `request` (its `progress` says what the person did since it was made),
/// `person` (signed in, or not), at `now`, where `consent_needed` says the application
/// asks first and the person's remembered consent does not cover the scope.
///
/// 1. Nobody signed in: sign in (`prompt=none`: `login_required`).
/// 2. `prompt=login` (or `max_age=0`) or a sign-in older than `max_age`, unless the person
///    signed in for real since the request was made (`fresh_at`: through a provider, when
///    it says so), or, with no sign-in since, an `id_token_hint` for someone else: sign in
///    again (`prompt=none`: `login_required`). A sign-in after the request satisfies the
///    hint; one through the request satisfies all three (the provider is asked too, and a
///    refusal there is a page, not a redirect): never a loop.
/// 3. `prompt=select_account`, not answered and no sign-in since: the choice.
/// 4. Consent: when the application asks and none covers the scope, or `prompt=consent`
///    and not answered for this request (`prompt=none`: `consent_required`).
pub fn decide(
    request: &AuthRequest,
    person: Option<Person<'_>>,
    now: i64,
    consent_needed: bool,
) -> Next {
    let none = request.prompt_none;
    let Some(person) = person else {
        return match none {
            true => refuse(
                "login_required",
                "the person is not signed in to Portcullis",
            ),
            false => Next::SignIn,
        };
    };
    let progress = &request.progress;
    // A provider's clock may be a minute behind (`fresh::SKEW`, as its ID token was judged
    // at the callback); a sign-in since the request is still needed.
    let fresh_since = progress.signed_in
        && person
            .fresh_at
            .is_some_and(|at| crate::ssr::oidc::fresh::at_or_after(at, progress.made_at));
    if !fresh_since {
        let too_old = request
            .max_age
            .is_some_and(|m| person.fresh_at.is_none_or(|at| now.saturating_sub(at) > m));
        let someone_else = !progress.signed_in
            && request
                .hint_sub
                .as_deref()
                .is_some_and(|sub| sub != person.user_id);
        if request.prompt_login || too_old || someone_else {
            if none {
                let why = match someone_else {
                    true => "the id_token_hint names someone other than the signed-in person",
                    false => "the person must sign in again (max_age)",
                };
                return refuse("login_required", why);
            }
            return Next::SignIn;
        }
    }
    if !progress.signed_in && request.select_account && !progress.chosen {
        return Next::ChooseAccount;
    }
    let ask = consent_needed || (request.prompt_consent && !progress.consented);
    match (ask, none) {
        (true, true) => refuse(
            "consent_required",
            "the person has not allowed this application yet",
        ),
        (true, false) => Next::Consent,
        (false, _) => Next::Issue,
    }
}

/// `scope`, in words for the consent page: one line per scope that shares something.
pub fn scope_words(scope: &[String]) -> Vec<&'static str> {
    scope
        .iter()
        .filter_map(|s| match s.as_str() {
            "profile" => Some("Your name and username"),
            "email" => Some("Your email address"),
            "groups" => Some("The groups you belong to"),
            "offline_access" => Some("It stays signed in while you are away (refresh tokens)"),
            _ => None,
        })
        .collect()
}

/// The scopes `user_id` allowed application `app_id`.
async fn remembered(db: &Db, user_id: &str, app_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let row: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT scope FROM op_consents WHERE user_id = $1 AND app_id = $2")
        .bind(user_id)
        .bind(app_id)
        .fetch_optional(pool)
        .await)?;
    Ok(row
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Whether `user_id` allowed application `app_id` every scope of `scope`.
pub async fn covered(
    db: &Db,
    user_id: &str,
    app_id: &str,
    scope: &[String],
) -> Result<bool, sqlx::Error> {
    let kept = remembered(db, user_id, app_id).await?;
    Ok(scope.iter().all(|s| kept.contains(s)))
}

/// Remembers that `user_id` allowed application `app_id` `scope` (added to what was
/// allowed before).
pub async fn remember(
    db: &Db,
    user_id: &str,
    app_id: &str,
    scope: &[String],
) -> Result<(), sqlx::Error> {
    let mut all = remembered(db, user_id, app_id).await?;
    for s in scope {
        if !all.contains(s) {
            all.push(s.clone());
        }
    }
    let t = now();
    crate::exec!(
        db,
        "INSERT INTO op_consents (user_id, app_id, scope, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (user_id, app_id) DO UPDATE SET scope = excluded.scope, \
         updated_at = excluded.updated_at",
        user_id,
        app_id,
        all.join(" "),
        t
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssr::op::authorize::Progress;

    fn request() -> AuthRequest {
        AuthRequest {
            client_id: "c1".into(),
            redirect_uri: "https://rp.example/cb".into(),
            scope: vec!["openid".into()],
            state: None,
            nonce: None,
            code_challenge: None,
            prompt_none: false,
            prompt_login: false,
            prompt_consent: false,
            select_account: false,
            max_age: None,
            hint_sub: None,
            login_hint: None,
            progress: Progress::default(),
        }
    }

    /// [`request`] changed by `f`.
    fn with(f: impl FnOnce(&mut AuthRequest)) -> AuthRequest {
        let mut r = request();
        f(&mut r);
        r
    }

    const ALICE: Person<'static> = Person {
        user_id: "u1",
        fresh_at: Some(1000),
    };

    fn error(next: Next) -> &'static str {
        match next {
            Next::Refuse(e) => e.error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn signed_out_or_signed_in() {
        let r = request();
        assert_eq!(decide(&r, None, 1000, false), Next::SignIn);
        assert_eq!(decide(&r, Some(ALICE), 1000, false), Next::Issue);
        let none = with(|r| r.prompt_none = true);
        assert_eq!(error(decide(&none, None, 1000, false)), "login_required");
        assert_eq!(decide(&none, Some(ALICE), 1000, false), Next::Issue);
    }

    #[test]
    fn sign_in_again_until_signed_in_after_the_request() {
        let mut login = with(|r| r.prompt_login = true);
        assert_eq!(decide(&login, Some(ALICE), 1000, false), Next::SignIn);
        login.progress.signed_in = true;
        assert_eq!(decide(&login, Some(ALICE), 1000, false), Next::Issue);

        let mut aged = with(|r| r.max_age = Some(60));
        assert_eq!(decide(&aged, Some(ALICE), 1060, false), Next::Issue);
        assert_eq!(decide(&aged, Some(ALICE), 1061, false), Next::SignIn);
        aged.prompt_none = true;
        assert_eq!(
            error(decide(&aged, Some(ALICE), 1061, false)),
            "login_required"
        );

        let mut hinted = with(|r| r.hint_sub = Some("u2".into()));
        assert_eq!(decide(&hinted, Some(ALICE), 1000, false), Next::SignIn);
        hinted.hint_sub = Some("u1".into());
        assert_eq!(decide(&hinted, Some(ALICE), 1000, false), Next::Issue);
        hinted.hint_sub = Some("u2".into());
        hinted.prompt_none = true;
        assert_eq!(
            error(decide(&hinted, Some(ALICE), 1000, false)),
            "login_required"
        );
        hinted.prompt_none = false;
        hinted.progress.signed_in = true;
        assert_eq!(decide(&hinted, Some(ALICE), 1000, false), Next::Issue);
    }

    /// Signed in since the request through a provider that did not say when the person
    /// signed in there: the hint and the account choice are answered, `prompt=login` and
    /// `max_age` are not (its single sign-on may rest on an older sign-in).
    #[test]
    fn a_sign_in_of_unknown_time_answers_all_but_a_new_sign_in() {
        let unknown = Person {
            user_id: "u1",
            fresh_at: None,
        };
        let since = |f: fn(&mut AuthRequest)| {
            let mut r = with(f);
            r.progress.signed_in = true;
            r
        };
        let login = since(|r| r.prompt_login = true);
        assert_eq!(decide(&login, Some(unknown), 1000, false), Next::SignIn);
        // A provider's time a little behind the request's (its clock) still counts.
        let mut late = login.clone();
        late.progress.made_at = 1030;
        assert_eq!(decide(&late, Some(ALICE), 1040, false), Next::Issue);
        late.progress.made_at = 1061;
        assert_eq!(decide(&late, Some(ALICE), 1070, false), Next::SignIn);
        let aged = since(|r| r.max_age = Some(3600));
        assert_eq!(decide(&aged, Some(unknown), 1000, false), Next::SignIn);
        let hinted = since(|r| r.hint_sub = Some("u2".into()));
        assert_eq!(decide(&hinted, Some(unknown), 1000, false), Next::Issue);
        let choose = since(|r| r.select_account = true);
        assert_eq!(decide(&choose, Some(unknown), 1000, false), Next::Issue);
        assert_eq!(decide(&request(), Some(unknown), 1000, false), Next::Issue);
    }

    #[test]
    fn account_choice_and_consent() {
        let mut choose = with(|r| r.select_account = true);
        assert_eq!(
            decide(&choose, Some(ALICE), 1000, false),
            Next::ChooseAccount
        );
        choose.progress.chosen = true;
        assert_eq!(decide(&choose, Some(ALICE), 1000, true), Next::Consent);
        assert_eq!(decide(&choose, Some(ALICE), 1000, false), Next::Issue);

        let mut consent = with(|r| r.prompt_consent = true);
        assert_eq!(decide(&consent, Some(ALICE), 1000, false), Next::Consent);
        consent.progress.consented = true;
        assert_eq!(decide(&consent, Some(ALICE), 1000, false), Next::Issue);
        let none = with(|r| r.prompt_none = true);
        assert_eq!(
            error(decide(&none, Some(ALICE), 1000, true)),
            "consent_required"
        );
    }

    #[test]
    fn scopes_in_words() {
        let scope: Vec<String> = ["openid", "profile", "email", "groups", "offline_access"]
            .map(String::from)
            .into();
        assert_eq!(scope_words(&scope).len(), 4);
        assert!(scope_words(&["openid".to_owned()]).is_empty());
    }
}
