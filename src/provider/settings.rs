//! A provider's settings: every option beyond its identity, in one struct.
//!
//! A provider is its **identity** (name, logo, issuer URL, client ID, client secret, slug:
//! which provider it is, how it is shown, how Portcullis authenticates to it; each has
//! rules of its own, such as the secret kept while the issuer and client stay, or the
//! logo's image origin) and its **settings** (how Portcullis uses it: what it asks for,
//! whom it lets in, what it believes). Settings are plain values with a check each, so
//! they are written once, here, and every type that carries a provider holds them as one
//! field ([`ProviderSettings`], flattened into the JSON of the editor's draft and of the
//! view, and into the database row).
//!
//! A setting has two forms ([`Repr`]): as typed in the editor or on the command line
//! ([`Typed`]: lists as the text typed) and as validated and stored ([`Stored`]). Its name
//! is its form field (`draft[name]`), its JSON key, its database column and its CLI flag.
//!
//! Adding a setting: a migration adding the column, the field here (with its check in
//! [`ProviderSettings::validate`] and its typed form in [`ProviderSettings::typed`]), one
//! editor line and one CLI flag (see "Recipe: adding a provider setting" in
//! docs/architecture.md).

use super::auth_params::AuthParams;
use super::*;
use crate::second_factor::ProviderFactors;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// The two forms of a provider's settings: what differs is how a list is written.
pub trait Repr: Debug + Clone + Default + PartialEq + Eq {
    /// A list of words (scopes, claim rules).
    type List: Debug + Clone + Default + PartialEq + Eq + Serialize + DeserializeOwned;
    /// The extra authorization parameters.
    type Params: Debug + Clone + Default + PartialEq + Eq + Serialize + DeserializeOwned;
}

/// As typed: lists are the text in the field ("openid, profile, email"; one `key=value`
/// per line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Typed;

/// As validated and stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored;

impl Repr for Typed {
    type List = String;
    type Params = String;
}

impl Repr for Stored {
    type List = Vec<String>;
    type Params = AuthParams;
}

/// Declares [`ProviderSettings`] and, from the same field list, [`ProviderSettings::NAMES`]
/// and (server side) how the settings are read from and written to their columns, so
/// storage needs no list of its own.
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct ProviderSettings<F: Repr = Stored> {
            $( $(#[$field_meta:meta])* pub $field:ident: $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct ProviderSettings<F: Repr = Stored> {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl<F: Repr> ProviderSettings<F> {
            /// Every setting's name, in declaration order: its form field
            /// (`draft[name]`), JSON key, database column and CLI flag (`--name`).
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        #[cfg(feature = "ssr")]
        impl ProviderSettings<Stored> {
            /// Binds every setting, in [`Self::NAMES`] order.
            pub fn bind<'q, DB: sqlx::Database>(
                &self,
                query: crate::ssr::providers::Query<'q, DB>,
            ) -> crate::ssr::providers::Query<'q, DB>
            where
                String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
                bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
            {
                use crate::ssr::providers::Column;
                query $(.bind(self.$field.to_db()))*
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for ProviderSettings<Stored>
        where
            &'static str: sqlx::ColumnIndex<R>,
            String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                use crate::ssr::providers::Column;
                Ok(Self { $( $field: Column::from_db(row.try_get(stringify!($field))?), )* })
            }
        }
    };
}

settings! {
    /// How Portcullis uses a provider. `F`: as typed ([`Typed`]) or as stored ([`Stored`]).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(default, bound = "")]
    pub struct ProviderSettings<F: Repr = Stored> {
        /// Scopes to request (`openid` among them).
        pub scopes: F::List,
        /// Rules (`name`, `name=value`, dotted paths) that must all hold to sign in.
        pub required_claims: F::List,
        /// Rules (the Required Claims syntax) that make a user signing in here an
        /// administrator; empty: this provider grants no admin role.
        pub admin_claims: F::List,
        /// Create an account for a new identity.
        #[serde(deserialize_with = "flag")]
        pub allow_new_users: bool,
        /// Shown on the login page; sign-in through it is possible.
        #[serde(deserialize_with = "flag")]
        pub enabled: bool,
        /// The claim that carries the user's groups (a dotted path allowed, e.g.
        /// `realm_access.roles`), refreshed at each sign-in; empty: none from this provider.
        pub groups_claim: String,
        /// This provider's groups reach applications as sent (`media`), in one namespace
        /// with the groups assigned in Portcullis and every other authoritative provider's.
        /// Off (the default): as `<slug>:media`, so nobody who can name a group at the
        /// provider (a Forgejo or Gitea organisation) gets the applications of an
        /// assigned group.
        #[serde(deserialize_with = "flag")]
        pub groups_authoritative: bool,
        /// `auto` (or empty when typed), `client_secret_basic` or `client_secret_post`.
        pub token_auth_method: String,
        /// Sign-out also ends the session at the provider (RP-Initiated Logout), when its
        /// discovery document names an `end_session_endpoint`.
        #[serde(deserialize_with = "flag")]
        pub sign_out_at_provider: bool,
        /// A first sign-in with an unknown identity links to the local account with the
        /// same provider-verified email (never an administrator's). Off unless chosen.
        #[serde(deserialize_with = "flag")]
        pub link_by_email: bool,
        /// Extra parameters of the authorization request (`prompt=select_account`,
        /// `domain_hint=...`), never one Portcullis sets or must verify
        /// ([`super::auth_params`]).
        pub auth_params: F::Params,
        /// Whether a sign-in here counts as two factors where a second factor is required:
        /// `amr` (or empty when typed: as the ID token's `amr` says), `always` or `never`
        /// ([`crate::second_factor::ProviderFactors`]).
        pub second_factor: String,
    }
}

/// A yes/no setting from JSON (`true`) or from a form post, where every value is text
/// (`"true"`): a flattened struct is read through serde's self-describing buffer, which
/// hands a form's value over as a string (serde issue 1183). Every `bool` setting takes it.
pub(crate) fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(d)? {
        Flag::Bool(b) => Ok(b),
        Flag::Text(t) => match t.as_str() {
            "true" | "on" => Ok(true),
            "false" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected true or false, not {other:?}"
            ))),
        },
    }
}

impl ProviderSettings<Typed> {
    /// A new provider's settings as the editor and `provider add` start them.
    pub fn new_default() -> Self {
        Self {
            scopes: DEFAULT_SCOPES.to_owned(),
            enabled: true,
            token_auth_method: "auto".to_owned(),
            groups_claim: DEFAULT_GROUPS_CLAIM.to_owned(),
            sign_out_at_provider: true,
            second_factor: ProviderFactors::default().as_str().to_owned(),
            ..Self::default()
        }
    }

    /// Checks every setting, each error into `errors` (on the setting's own field); the
    /// stored form is meaningful only when none was added.
    pub fn validate(&self, errors: &mut FieldErrors) -> ProviderSettings<Stored> {
        let scopes = parse_list(&self.scopes);
        errors.check(check_scopes(&self.scopes, &scopes));
        let required_claims = parse_list(&self.required_claims);
        errors.check(check_claims(&self.required_claims, &required_claims));
        let admin_claims = parse_list(&self.admin_claims);
        errors.check(check_rules(
            "admin_claims",
            "admin claims",
            &self.admin_claims,
            &admin_claims,
        ));
        let token_auth_method = match self.token_auth_method.trim() {
            "" => "auto",
            m => m,
        };
        if !TOKEN_AUTH_METHODS.contains(&token_auth_method) {
            errors.push(
                "token_auth_method",
                "Choose auto, client_secret_basic or client_secret_post for client authentication.",
            );
        }
        let groups_claim = self.groups_claim.trim();
        errors.check(check_groups_claim(groups_claim));
        let auth_params = AuthParams::parse(&self.auth_params).unwrap_or_else(|e| {
            errors.check(Err(e));
            AuthParams::default()
        });
        let second_factor = ProviderFactors::parse(&self.second_factor).unwrap_or_else(|| {
            errors.push(
                "second_factor",
                "Choose amr (as the provider's amr claim says), always or never for the second factor.",
            );
            ProviderFactors::default()
        });
        ProviderSettings {
            scopes,
            required_claims,
            admin_claims,
            allow_new_users: self.allow_new_users,
            enabled: self.enabled,
            groups_claim: groups_claim.to_owned(),
            groups_authoritative: self.groups_authoritative,
            token_auth_method: token_auth_method.to_owned(),
            sign_out_at_provider: self.sign_out_at_provider,
            link_by_email: self.link_by_email,
            auth_params,
            second_factor: second_factor.as_str().to_owned(),
        }
    }
}

impl ProviderSettings<Stored> {
    /// How a sign-in here counts towards the second-factor policy.
    pub fn factors(&self) -> ProviderFactors {
        ProviderFactors::parse(&self.second_factor).unwrap_or_default()
    }

    /// The settings as the editor shows them.
    pub fn typed(&self) -> ProviderSettings<Typed> {
        ProviderSettings {
            scopes: self.scopes.join(", "),
            required_claims: self.required_claims.join(", "),
            admin_claims: self.admin_claims.join(", "),
            allow_new_users: self.allow_new_users,
            enabled: self.enabled,
            groups_claim: self.groups_claim.clone(),
            groups_authoritative: self.groups_authoritative,
            token_auth_method: self.token_auth_method.clone(),
            sign_out_at_provider: self.sign_out_at_provider,
            link_by_email: self.link_by_email,
            auth_params: self.auth_params.to_text(),
            second_factor: self.second_factor.clone(),
        }
    }
}
