//! Applications behind forward authentication: the draft an administrator types, the one
//! function that decides whether it may be stored, which application a request URL
//! belongs to, and who may open it. Pure: the editor, the CLI, the check endpoint and the
//! return-URL rule share it.

use crate::field::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use std::fmt;

pub mod client;
pub mod request;
mod urls;

pub use client::{ClientDraft, ValidClient};

pub use urls::{AppUrl, URL_MAX, matching, parse_request_url};

pub const NAME_MAX: usize = crate::field::NAME_MAX;
pub const URLS_MAX: usize = 20;
pub const NAMES_MAX: usize = 200;
/// Longest user or group name in an access list (and longest group name anywhere).
pub const ENTRY_MAX: usize = 128;
/// Longest group entry in an access list: a provider's group as applications see it,
/// `<slug>:<group>` ([`provider_group`]).
pub const LISTED_GROUP_MAX: usize = crate::provider::SLUG_MAX + 1 + ENTRY_MAX;

/// Who may open an application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Every signed-in user.
    #[default]
    Users,
    /// Administrators only.
    Admins,
    /// The named users and members of the named groups.
    Listed,
}

impl Access {
    pub const ALL: [Access; 3] = [Access::Users, Access::Admins, Access::Listed];

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Users => "users",
            Access::Admins => "admins",
            Access::Listed => "listed",
        }
    }

    pub fn parse(s: &str) -> Option<Access> {
        Access::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }

    /// In words, for lists.
    pub fn label(self) -> &'static str {
        match self {
            Access::Users => "Every signed-in user",
            Access::Admins => "Administrators",
            Access::Listed => "Listed users and groups",
        }
    }

    /// What it means, for the editor.
    pub fn hint(self) -> &'static str {
        match self {
            Access::Users => "Anyone who can sign in to Portcullis.",
            Access::Admins => "Portcullis administrators only.",
            Access::Listed => {
                "The users and the members of the groups named below (groups assigned here or sent by a provider)."
            }
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The application editor's fields, as typed. Also the payload of `save_app` and of
/// `portcullis app add|update`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppDraft {
    pub name: String,
    /// One URL per line (commas and spaces separate too).
    pub urls: String,
    /// Empty, an https image URL, or an uploaded `data:image/...;base64,...` (the same
    /// rule as provider logos).
    pub icon: String,
    /// `users`, `admins` or `listed`.
    pub access: String,
    /// Comma-separated usernames (for `listed`).
    pub users: String,
    /// Comma-separated group names (for `listed`).
    pub groups: String,
    /// Personal access tokens may open it (forward auth reads them from `Authorization`).
    /// Read as a form's text too: the flattened `client` makes serde buffer the whole draft.
    #[serde(deserialize_with = "crate::provider::settings::flag")]
    pub allow_tokens: bool,
    /// Everyone who opens it must have signed in with two factors (or give the second one
    /// first: the step-up at `/second-factor`). Read as a form's text too.
    #[serde(deserialize_with = "crate::provider::settings::flag")]
    pub require_second_factor: bool,
    /// The "OpenID Connect" fields (`client::ClientDraft`), flattened.
    #[serde(flatten)]
    pub client: ClientDraft,
    /// Not a field: the plain-http image origin the server allows (see `ProviderDraft`).
    #[serde(skip)]
    pub http_image_origin: Option<String>,
}

/// A draft that passed [`AppDraft::validate`]: trimmed, normalised, safe to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidApp {
    pub settings: AppSettings,
    /// `Some` when the application is also an OpenID Connect client.
    pub client: Option<ValidClient>,
}

impl AppDraft {
    pub fn new_default() -> Self {
        Self {
            access: Access::Users.as_str().to_owned(),
            ..Self::default()
        }
    }

    pub fn validate(&self) -> Result<ValidApp, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        errors.check(check_name(name));
        let mut urls: Vec<AppUrl> = Vec::new();
        let items: Vec<&str> = split_items(&self.urls, &['\n', ',', ' ', '\t', '\r']);
        if items.is_empty() {
            errors.push(
                "urls",
                "Enter at least one URL the application is reached at, e.g. https://sonarr.home.example.",
            );
        } else if items.len() > URLS_MAX {
            errors.push("urls", format!("Use at most {URLS_MAX} URLs."));
        } else {
            for item in items {
                match AppUrl::parse(item) {
                    Ok(u) if urls.contains(&u) => {}
                    Ok(u) => urls.push(u),
                    Err(why) => {
                        errors.push("urls", why);
                        break;
                    }
                }
            }
        }
        let icon = self.icon.trim();
        errors.check(
            crate::provider::check_logo_for(icon, self.http_image_origin.as_deref())
                .map_err(|e| FieldError::new("icon", e.message)),
        );
        let access = match self.access.trim() {
            "" => Some(Access::Users),
            other => Access::parse(other),
        };
        if access.is_none() {
            errors.push(
                "access",
                "Choose who may open it: users (every signed-in user), admins or listed.",
            );
        }
        let users = split_items(&self.users, &[',', ' ', '\t', '\n']);
        let groups = split_items(&self.groups, &[',', '\n']);
        errors.check(check_names(
            "users",
            "user name",
            ENTRY_MAX,
            &self.users,
            &users,
        ));
        errors.check(check_names(
            "groups",
            "group name",
            LISTED_GROUP_MAX,
            &self.groups,
            &groups,
        ));
        if access == Some(Access::Listed) && users.is_empty() && groups.is_empty() {
            errors.push(
                "users",
                "Name at least one user or group who may open it, or choose another access option.",
            );
        }
        let client = if self.client.oidc {
            self.client.validate(&mut errors)
        } else {
            None
        };
        errors.finish()?;
        let access = access.unwrap_or_default();
        let keep = access == Access::Listed;
        Ok(ValidApp {
            settings: AppSettings {
                name: name.to_owned(),
                urls,
                icon: icon.to_owned(),
                access,
                users: if keep { dedup(users) } else { Vec::new() },
                groups: if keep { dedup(groups) } else { Vec::new() },
                allow_tokens: self.allow_tokens,
                require_second_factor: self.require_second_factor,
            },
            client,
        })
    }
}

/// Non-empty trimmed items of `s` split on any of `seps`.
fn split_items<'a>(s: &'a str, seps: &[char]) -> Vec<&'a str> {
    s.split(seps)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect()
}

fn dedup(items: Vec<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.iter().any(|x| x == i) {
            out.push(i.to_owned());
        }
    }
    out
}

pub fn check_name(name: &str) -> Result<(), FieldError> {
    crate::field::check_name(
        name,
        "Enter the name shown on the start page, e.g. \"Sonarr\".",
    )
}

/// A group name as Portcullis stores it: no commas, no control characters, not empty, at
/// most [`ENTRY_MAX`] characters. Whether it also reaches applications in `Remote-Groups`
/// is [`travels_in_header`]'s stricter rule.
pub fn check_group(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Enter a group name, e.g. \"media\".".into());
    }
    if name.chars().count() > ENTRY_MAX {
        return Err(format!(
            "Use at most {ENTRY_MAX} characters for a group name."
        ));
    }
    if name.contains(',') || name.chars().any(char::is_control) {
        return Err(format!(
            "\"{name}\": a group name cannot contain commas or control characters (groups travel comma-separated)."
        ));
    }
    Ok(())
}

/// Whether group `name` reaches an application in `Remote-Groups` as the one group it is.
/// Apps do not all split the header on commas alone: Grafana's auth proxy splits on white
/// space too (and reads a value that starts with `[` as JSON), others on `;` or `|`, and
/// Python servers read the header as Latin-1, where a UTF-8 byte can be a no-break space.
/// So `kc:media admins`, named at a provider by whoever may make groups there, would read
/// as `kc:media` and `admins`: only ASCII letters, digits and `. _ - : @ / + = ~` travel.
/// A group with other characters still counts for Portcullis's own access rules; it is
/// left out of the header only.
pub fn travels_in_header(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:@/+=~".contains(&b))
}

fn check_names(
    field: &str,
    what: &str,
    max: usize,
    raw: &str,
    items: &[&str],
) -> Result<(), FieldError> {
    if raw.len() > NAMES_MAX * (max + 2) || items.len() > NAMES_MAX {
        return Err(FieldError::new(
            field,
            format!("Name at most {NAMES_MAX} entries."),
        ));
    }
    for item in items {
        if item.chars().count() > max || item.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                format!(
                    "\"{item}\" is not a {what}: use at most {max} characters, without control characters."
                ),
            ));
        }
    }
    Ok(())
}

/// An application: as stored and as the check endpoint knows it (`App`, its URLs parsed), or
/// as administrators see it in the list and the editor ([`AppView`], its URLs as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App<U = AppUrl> {
    pub id: String,
    #[serde(flatten)]
    pub settings: AppSettings<U>,
    pub position: i64,
    /// Last edit (Unix seconds): makes uploaded icon URLs cacheable.
    pub updated_at: i64,
}

/// An application's own settings: what a valid draft stores ([`ValidApp`]) and what a stored
/// one shows ([`App`]), its URLs parsed or, in an [`AppView`], as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSettings<U = AppUrl> {
    pub name: String,
    pub urls: Vec<U>,
    /// As stored: a URL or a `data:` image.
    pub icon: String,
    pub access: Access,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    /// Personal access tokens may open it.
    #[serde(default)]
    pub allow_tokens: bool,
    /// Everyone who opens it must have signed in with two factors.
    #[serde(default)]
    pub require_second_factor: bool,
}

impl AppSettings {
    /// The same settings, their URLs as administrators see them.
    pub fn view(&self) -> AppSettings<String> {
        AppSettings {
            name: self.name.clone(),
            urls: self.urls.iter().map(ToString::to_string).collect(),
            icon: self.icon.clone(),
            access: self.access,
            users: self.users.clone(),
            groups: self.groups.clone(),
            allow_tokens: self.allow_tokens,
            require_second_factor: self.require_second_factor,
        }
    }
}

/// An application as administrators see it: its URLs normalised, e.g.
/// `https://sonarr.home.example/`.
pub type AppView = App<String>;

impl App {
    /// Whether a signed-in user may open it. Usernames compare case-insensitively (as at
    /// sign-in), group names exactly (as providers send them).
    pub fn allows(&self, is_admin: bool, username: &str, groups: &[String]) -> bool {
        let s = &self.settings;
        allows(s.access, &s.users, &s.groups, is_admin, username, groups)
    }

    /// How the administrator's list shows it.
    pub fn view(&self) -> AppView {
        AppView {
            id: self.id.clone(),
            settings: self.settings.view(),
            position: self.position,
            updated_at: self.updated_at,
        }
    }

    /// An application reached at `urls`, open to every signed-in user.
    #[cfg(test)]
    pub(crate) fn for_test(id: &str, urls: &[&str]) -> App {
        App {
            id: id.into(),
            settings: AppSettings {
                name: id.into(),
                urls: urls.iter().map(|u| AppUrl::parse(u).unwrap()).collect(),
                icon: String::new(),
                access: Access::Users,
                users: vec![],
                groups: vec![],
                allow_tokens: false,
                require_second_factor: false,
            },
            position: 0,
            updated_at: 0,
        }
    }

    /// How the start page shows it; an uploaded icon becomes a URL of its own.
    pub fn tile(&self) -> AppTile {
        let s = &self.settings;
        AppTile {
            id: self.id.clone(),
            name: s.name.clone(),
            // Never a stored URL that no longer reads (`AppUrl::unreadable`) as a link.
            url: s
                .urls
                .iter()
                .find(|u| u.unreadable.is_none())
                .map(ToString::to_string)
                .unwrap_or_default(),
            icon: if s.icon.starts_with("data:") {
                icon_path(&self.id, self.updated_at)
            } else {
                s.icon.clone()
            },
        }
    }
}

/// Where an uploaded application icon is served (public: the start page and tiles show it);
/// the edit time in the query makes it cacheable for good.
pub fn icon_path(id: &str, updated_at: i64) -> String {
    format!("/api/v1/apps/{id}/icon?v={updated_at}")
}

/// The access rule, on its parts.
pub fn allows(
    access: Access,
    users: &[String],
    groups: &[String],
    is_admin: bool,
    username: &str,
    user_groups: &[String],
) -> bool {
    match access {
        Access::Users => true,
        Access::Admins => is_admin,
        Access::Listed => {
            users.iter().any(|u| u.eq_ignore_ascii_case(username))
                || groups.iter().any(|g| user_groups.contains(g))
        }
    }
}

/// The groups a provider's groups claim names: an array of strings, or one string. Entries
/// that could not travel in `Remote-Groups` (commas, control characters, too long) are
/// dropped, as are duplicates.
pub fn claim_groups(value: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    let items: Vec<&str> = match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    };
    dedup(
        items
            .into_iter()
            .map(str::trim)
            .filter(|g| check_group(g).is_ok())
            .collect(),
    )
}

/// The groups provider `groups_claim` (a dotted path allowed; empty: none) names in
/// `claims`, as the provider sent them ([`claim_groups`]). Stored so at each sign-in;
/// applications see each through [`provider_group`].
pub fn groups_in_claims(
    groups_claim: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    let path = groups_claim.trim();
    if path.is_empty() {
        return Vec::new();
    }
    claim_groups(crate::claims::lookup(claims, path))
}

/// How a group that provider `slug` sent reaches applications (access lists,
/// `Remote-Groups`): `<slug>:<group>`, apart from the groups assigned in Portcullis and
/// from every other provider's, so that whoever can name a group at the provider (a
/// Forgejo or Gitea organisation) cannot take an assigned group's applications. As sent
/// only when the administrator marked that provider's groups as authoritative. The one
/// place this is decided: the check, the portal, the users page and Test sign-in read
/// groups through it.
pub fn provider_group(slug: &str, group: &str, authoritative: bool) -> String {
    if authoritative {
        group.to_owned()
    } else {
        format!("{slug}:{group}")
    }
}

impl AppView {
    /// The editor's starting point for this application.
    pub fn draft(&self) -> AppDraft {
        let s = &self.settings;
        AppDraft {
            name: s.name.clone(),
            urls: s.urls.join("\n"),
            icon: s.icon.clone(),
            access: s.access.as_str().to_owned(),
            users: s.users.join(", "),
            groups: s.groups.join(", "),
            allow_tokens: s.allow_tokens,
            require_second_factor: s.require_second_factor,
            client: ClientDraft::default(),
            http_image_origin: None,
        }
    }
}

/// An administrator-assigned group of a user (the assigned-groups list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct GroupAssignment {
    pub user_id: String,
    pub username: String,
    pub group: String,
}

/// An application on a user's start page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppTile {
    pub id: String,
    pub name: String,
    /// Where the tile links to: the application's first URL.
    pub url: String,
    /// An image URL (an uploaded icon is served by Portcullis), or empty.
    pub icon: String,
}

#[cfg(test)]
mod tests;
