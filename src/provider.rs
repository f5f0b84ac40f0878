//! OpenID Connect provider settings: the draft an administrator types, and the one function
//! that decides whether it may be stored. The editor runs it as the admin types; the server
//! runs it again before saving.

use crate::field::{FieldError, FieldErrors};
use crate::web_url::{Host, Url};
use serde::{Deserialize, Serialize};

pub mod auth_params;
pub mod settings;

pub use auth_params::AuthParams;
pub use settings::{ProviderSettings, Repr, Stored, Typed};

pub const NAME_MAX: usize = crate::field::NAME_MAX;
pub const SLUG_MAX: usize = 64;
pub const URL_MAX: usize = crate::field::URL_MAX;
pub const CLIENT_ID_MAX: usize = 255;
pub const CLIENT_SECRET_MAX: usize = 1024;
pub const SCOPES_MAX: usize = 1024;
pub const CLAIMS_MAX: usize = 1024;
/// A logo is shown on the login page for every visitor; keep data URIs small.
pub const LOGO_DATA_MAX: usize = 256 * 1024;
pub const DEFAULT_SCOPES: &str = "openid, profile, email";
/// Where most providers send groups (Authentik, Authelia, Pocket ID, Kanidm...).
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";

/// The provider editor's fields, as typed. Also the payload of the create/update server
/// functions and of `portcullis provider add|update`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderDraft {
    pub name: String,
    pub logo: String,
    pub issuer_url: String,
    pub client_id: String,
    /// Empty when editing means "keep the stored secret".
    pub client_secret: String,
    pub slug: String,
    /// Everything else, as typed (`draft[scopes]`, `draft[enabled]`... in the form).
    #[serde(flatten)]
    pub settings: ProviderSettings<Typed>,
    /// Not a field: the plain-http image origin the server allows (set by whoever
    /// validates, from its configuration; never taken from a form).
    #[serde(skip)]
    pub http_image_origin: Option<String>,
}

/// How to authenticate at the token endpoint. `auto` follows the provider's discovery
/// document (client_secret_basic unless it offers only client_secret_post).
pub const TOKEN_AUTH_METHODS: [&str; 3] = ["auto", "client_secret_basic", "client_secret_post"];

/// Whether the draft creates a provider (a secret is required) or edits one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// How strict the issuer rule is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerPolicy {
    /// Accept plain-http issuers on any host (an explicit server flag, for labs).
    pub allow_insecure: bool,
}

/// The server's rules an editor checks against as the administrator types (and the server
/// again before it saves): the issuer rule and the plain-http image origin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorRules {
    pub policy: IssuerPolicy,
    pub http_image_origin: Option<String>,
}

/// The one plain-http origin the pages' Content-Security-Policy lets images load from (a
/// LAN mirror of the icon catalogue), if any: a plain-http logo anywhere else would show
/// as a broken image, so it is refused when saved.
pub type HttpImageOrigin<'a> = Option<&'a str>;

/// A draft that passed [`ProviderDraft::validate`]: trimmed, normalised, safe to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProvider {
    pub name: String,
    pub logo: String,
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub slug: String,
    pub settings: ProviderSettings,
}

impl ProviderDraft {
    /// A new provider as the editor starts it: default scopes, enabled.
    pub fn new_default() -> Self {
        Self {
            settings: ProviderSettings::new_default(),
            ..Self::default()
        }
    }

    pub fn validate(
        &self,
        mode: Mode,
        policy: IssuerPolicy,
    ) -> Result<ValidProvider, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        let slug = if self.slug.trim().is_empty() && mode == Mode::Create {
            slugify(name)
        } else {
            self.slug.trim().to_owned()
        };
        errors.check(check_name(name));
        errors.check(check_logo_for(
            self.logo.trim(),
            self.http_image_origin.as_deref(),
        ));
        errors.check(check_issuer_url(self.issuer_url.trim(), policy));
        errors.check(check_client_id(self.client_id.trim()));
        let secret = self.client_secret.trim();
        errors.check(check_client_secret(secret, mode));
        errors.check(check_slug(&slug));
        let settings = self.settings.validate(&mut errors);
        errors.finish()?;
        Ok(ValidProvider {
            name: name.to_owned(),
            logo: self.logo.trim().to_owned(),
            issuer_url: self.issuer_url.trim().to_owned(),
            client_id: self.client_id.trim().to_owned(),
            client_secret: (!secret.is_empty()).then(|| secret.to_owned()),
            slug,
            settings,
        })
    }
}

/// The slug a name suggests: lowercase ASCII letters and digits, runs of anything else
/// become one hyphen, accents dropped ("Pocket ID" → "pocket-id", "Zoë's IdP" → "zoe-s-idp").
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    let mut pending_hyphen = false;
    for c in name.chars() {
        let mapped = fold_accent(c).to_ascii_lowercase();
        if mapped.is_ascii_alphanumeric() {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(mapped);
        } else {
            pending_hyphen = true;
        }
        if slug.len() >= SLUG_MAX {
            break;
        }
    }
    slug.truncate(SLUG_MAX);
    slug.trim_end_matches('-').to_owned()
}

fn fold_accent(c: char) -> char {
    match c {
        'à'..='å' | 'À'..='Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è'..='ë' | 'È'..='Ë' => 'e',
        'ì'..='ï' | 'Ì'..='Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' => 'o',
        'ù'..='ü' | 'Ù'..='Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        other => other,
    }
}

/// Comma-separated (spaces tolerated, empty items dropped, duplicates removed in order).
pub fn parse_list(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in s.split([',', ' ', '\t', '\n']).map(str::trim) {
        if !item.is_empty() && !out.iter().any(|x| x == item) {
            out.push(item.to_owned());
        }
    }
    out
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

pub fn check_name(name: &str) -> Result<(), FieldError> {
    crate::field::check_name(
        name,
        "Enter the name shown on the login button, e.g. \"Keycloak\".",
    )
}

pub fn check_slug(slug: &str) -> Result<(), FieldError> {
    let f = "slug";
    if slug.is_empty() {
        return Err(FieldError::new(
            f,
            "Enter a slug: lowercase letters, digits and hyphens, e.g. \"keycloak\".",
        ));
    }
    if slug.len() > SLUG_MAX {
        return Err(FieldError::new(
            f,
            format!("Use at most {SLUG_MAX} characters for the slug."),
        ));
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(FieldError::new(
            f,
            "Use only lowercase letters a-z, digits and hyphens in the slug.",
        ));
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err(FieldError::new(
            f,
            "Use single hyphens between letters or digits in the slug (not at the start or end).",
        ));
    }
    Ok(())
}

/// `https://...` (or plain http on a loopback host, or anywhere with the insecure flag), no
/// query or fragment (OpenID Connect Discovery §3). A trailing slash is kept as typed:
/// issuers are compared exactly.
pub fn check_issuer_url(value: &str, policy: IssuerPolicy) -> Result<(), FieldError> {
    let f = "issuer_url";
    if value.is_empty() {
        return Err(FieldError::new(
            f,
            "Enter the issuer URL, e.g. https://sso.example.com/realms/main.",
        ));
    }
    if value.len() > URL_MAX || has_control(value) || value.contains(char::is_whitespace) {
        return Err(FieldError::new(
            f,
            "Enter the issuer URL without spaces or control characters.",
        ));
    }
    let Ok(url) = Url::parse(value) else {
        return Err(FieldError::new(
            f,
            "Enter an absolute URL starting with https://.",
        ));
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new(f, "The issuer URL needs a host name."));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(FieldError::new(
            f,
            "Remove the query (?...) and fragment (#...) from the issuer URL.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            f,
            "Remove the user name and password from the issuer URL.",
        ));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if policy.allow_insecure || is_loopback(&url) => Ok(()),
        "http" => Err(FieldError::new(
            f,
            "Use https:// for the issuer (plain http is accepted only for localhost, or when the server runs with --allow-insecure-issuers).",
        )),
        _ => Err(FieldError::new(
            f,
            "Enter an absolute URL starting with https://.",
        )),
    }
}

/// Whether `url` names this machine (`localhost` or a loopback address).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub fn check_client_id(value: &str) -> Result<(), FieldError> {
    let f = "client_id";
    if value.is_empty() {
        return Err(FieldError::new(
            f,
            "Enter the client ID registered at the provider.",
        ));
    }
    if value.len() > CLIENT_ID_MAX || has_control(value) {
        return Err(FieldError::new(
            f,
            format!(
                "Enter a client ID of at most {CLIENT_ID_MAX} characters, without control characters."
            ),
        ));
    }
    Ok(())
}

pub fn check_client_secret(value: &str, mode: Mode) -> Result<(), FieldError> {
    let f = "client_secret";
    if value.is_empty() {
        return match mode {
            Mode::Create => Err(FieldError::new(
                f,
                "Enter the client secret the provider issued for this client.",
            )),
            Mode::Update => Ok(()),
        };
    }
    if value.len() > CLIENT_SECRET_MAX || has_control(value) {
        return Err(FieldError::new(
            f,
            format!(
                "Enter a client secret of at most {CLIENT_SECRET_MAX} characters, without control characters."
            ),
        ));
    }
    Ok(())
}

/// What the editor, the server and the CLI say when an edit changes the issuer or the
/// client ID but leaves the secret empty.
pub const SECRET_AGAIN: &str = "The issuer or client ID changed: enter the client secret again.";

/// Whether the secret stored for `stored` (issuer URL, client ID) may serve an edit that
/// names `issuer_url` and `client_id` (as typed): only when both are unchanged. A client
/// secret was issued by one issuer for one client; it never goes to another (Save, Test
/// sign-in and `provider update` obey this one rule).
pub fn keeps_stored_secret(stored: (&str, &str), issuer_url: &str, client_id: &str) -> bool {
    issuer_url.trim() == stored.0 && client_id.trim() == stored.1
}

/// An edit of a stored provider (`stored`: its issuer URL and client ID) with `secret` as
/// typed: an empty secret means "keep the stored one", which [`keeps_stored_secret`]
/// allows only for the same issuer and client.
pub fn check_stored_secret(
    stored: (&str, &str),
    issuer_url: &str,
    client_id: &str,
    secret: &str,
) -> Result<(), FieldError> {
    if secret.trim().is_empty() && !keeps_stored_secret(stored, issuer_url, client_id) {
        return Err(FieldError::new("client_secret", SECRET_AGAIN));
    }
    Ok(())
}

/// [`check_logo_for`] with no plain-http image origin allowed.
pub fn check_logo(value: &str) -> Result<(), FieldError> {
    check_logo_for(value, None)
}

/// Empty, an https URL (or an http one on `http_origin`, the only plain-http origin the
/// pages may load images from), or a `data:image/{png,jpeg,webp,gif,svg+xml};base64,...`.
pub fn check_logo_for(value: &str, http_origin: HttpImageOrigin) -> Result<(), FieldError> {
    let f = "logo";
    if value.is_empty() {
        return Ok(());
    }
    if let Some(rest) = value.strip_prefix("data:") {
        let Some((meta, data)) = rest.split_once(',') else {
            return Err(FieldError::new(
                f,
                "This data URI has no data: paste a whole data:image/...;base64,... value.",
            ));
        };
        let mime = meta.strip_suffix(";base64").unwrap_or("");
        if !matches!(
            mime,
            "image/png" | "image/jpeg" | "image/webp" | "image/gif" | "image/svg+xml"
        ) {
            return Err(FieldError::new(
                f,
                "Use a base64 PNG, JPEG, WebP, GIF or SVG image (data:image/png;base64,...), or an https:// URL.",
            ));
        }
        if value.len() > LOGO_DATA_MAX {
            return Err(FieldError::new(
                f,
                format!(
                    "This image is too large for a logo (at most {} KB); use a smaller image or a URL.",
                    LOGO_DATA_MAX / 1024
                ),
            ));
        }
        let valid_b64 = !data.is_empty()
            && data.len() % 4 == 0
            && data
                .trim_end_matches('=')
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        if !valid_b64 {
            return Err(FieldError::new(f, "The image data is not valid base64."));
        }
        return Ok(());
    }
    if value.len() > URL_MAX || has_control(value) || value.contains(char::is_whitespace) {
        return Err(FieldError::new(
            f,
            "Enter the logo URL without spaces or control characters.",
        ));
    }
    match Url::parse(value) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some() => Ok(()),
        Ok(u) if u.scheme() == "http" && u.host_str().is_some() => match http_origin {
            Some(origin) if u.origin().ascii_serialization() == origin => Ok(()),
            Some(origin) => Err(FieldError::new(
                f,
                format!(
                    "Use an https:// image URL: browsers here load plain-http images only from {origin} (the icon mirror), so this logo would show as a broken image."
                ),
            )),
            None => Err(FieldError::new(
                f,
                "Use an https:// image URL: browsers here do not load plain-http images, so this logo would show as a broken image.",
            )),
        },
        _ => Err(FieldError::new(
            f,
            "Use an https:// image URL or a data:image/...;base64,... image.",
        )),
    }
}

pub fn check_scopes(raw: &str, scopes: &[String]) -> Result<(), FieldError> {
    let f = "scopes";
    if raw.len() > SCOPES_MAX {
        return Err(FieldError::new(
            f,
            format!("Use at most {SCOPES_MAX} characters for the scopes."),
        ));
    }
    // RFC 6749 §3.3: scope tokens are printable ASCII except space, '"' and '\'.
    if let Some(bad) = scopes.iter().find(|s| {
        !s.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    }) {
        return Err(FieldError::new(
            f,
            format!("\"{bad}\" is not a valid scope name."),
        ));
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(FieldError::new(
            f,
            "Include the \"openid\" scope (e.g. \"openid, profile, email\").",
        ));
    }
    Ok(())
}

pub fn check_claims(raw: &str, claims: &[String]) -> Result<(), FieldError> {
    check_rules("required_claims", "required claims", raw, claims)
}

/// Claim rules in field `f` (Required Claims, Admin Claims): one syntax, one parser.
pub fn check_rules(f: &str, what: &str, raw: &str, claims: &[String]) -> Result<(), FieldError> {
    if raw.len() > CLAIMS_MAX {
        return Err(FieldError::new(
            f,
            format!("Use at most {CLAIMS_MAX} characters for the {what}."),
        ));
    }
    // The same parser the sign-in evaluates with (src/claims.rs).
    for rule in claims {
        crate::claims::Rule::parse(rule).map_err(|e| FieldError::new(f, e))?;
    }
    Ok(())
}

/// The Groups claim: empty (no groups from this provider) or one claim name, a dotted path
/// allowed (`groups`, `realm_access.roles`): the names Required Claims accept.
pub fn check_groups_claim(value: &str) -> Result<(), FieldError> {
    let f = "groups_claim";
    if value.is_empty() {
        return Ok(());
    }
    match crate::claims::Rule::parse(value) {
        Ok(crate::claims::Rule::True(_)) if value.len() <= 255 => Ok(()),
        _ => Err(FieldError::new(
            f,
            "Enter one claim name, e.g. groups, or a dotted path such as realm_access.roles (letters, digits, '_', '-', ':', '/'); leave it empty for no groups from this provider.",
        )),
    }
}

/// Where every provider's redirect URI starts: the login page.
pub fn redirect_uri_base(public_url: &str) -> String {
    format!("{}/login", public_url.trim_end_matches('/'))
}

/// Provider `slug`'s own redirect URI, to register at that provider. Each provider has its
/// own so that a callback can be accepted only on the URI of the provider that started the
/// attempt (RFC 9700 section 4.4, mix-up). A path, not a query: Entra and Google take paths
/// everywhere, query strings not in every account type.
pub fn redirect_uri(public_url: &str, slug: &str) -> String {
    format!("{}/{slug}", redirect_uri_base(public_url))
}

/// Where provider `slug` sends the browser back after signing out there
/// (`post_logout_redirect_uri`, OpenID Connect RP-Initiated Logout 1.0).
pub fn post_logout_redirect_uri(public_url: &str, slug: &str) -> String {
    format!("{}/signed-out", redirect_uri(public_url, slug))
}

/// Where provider `slug` posts logout tokens (OpenID Connect Back-Channel Logout 1.0).
pub fn backchannel_logout_uri(public_url: &str, slug: &str) -> String {
    format!(
        "{}/api/v1/oidc/{slug}/backchannel-logout",
        public_url.trim_end_matches('/')
    )
}

/// A provider as administrators see it. The client secret is write-only: only whether
/// one is set ever leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderView {
    pub slug: String,
    pub name: String,
    pub logo: String,
    pub issuer_url: String,
    pub client_id: String,
    pub has_client_secret: bool,
    #[serde(flatten)]
    pub settings: ProviderSettings,
    pub position: i64,
    pub linked_accounts: i64,
    /// Linked accounts from an earlier issuer of this provider: kept for the administrator
    /// to see and remove, but no sign-in matches them.
    #[serde(default)]
    pub unmatched_links: i64,
    /// This provider's redirect URI (filled in by the server, which knows the public URL).
    #[serde(default)]
    pub redirect_uri: String,
    /// Where the provider sends the browser back after signing out there (to register).
    #[serde(default)]
    pub post_logout_redirect_uri: String,
    /// Where the provider posts logout tokens (to register as the back-channel logout URI).
    #[serde(default)]
    pub backchannel_logout_uri: String,
}

impl ProviderView {
    pub fn with_redirect_uri(mut self, public_url: &str) -> Self {
        self.redirect_uri = redirect_uri(public_url, &self.slug);
        self.post_logout_redirect_uri = post_logout_redirect_uri(public_url, &self.slug);
        self.backchannel_logout_uri = backchannel_logout_uri(public_url, &self.slug);
        self
    }

    /// The editor's starting point for this provider (secret left empty: keep it).
    pub fn draft(&self) -> ProviderDraft {
        ProviderDraft {
            name: self.name.clone(),
            logo: self.logo.clone(),
            issuer_url: self.issuer_url.clone(),
            client_id: self.client_id.clone(),
            client_secret: String::new(),
            slug: self.slug.clone(),
            settings: self.settings.typed(),
            http_image_origin: None,
        }
    }
}

/// What the login page shows for a provider, and nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginProvider {
    pub slug: String,
    pub name: String,
    pub logo: String,
    pub position: i64,
}

#[cfg(test)]
mod tests;

/// What "Test connection" found at an issuer, in words an administrator can act on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// Discovery and keys are usable for sign-in.
    pub ok: bool,
    /// One sentence: what works, or exactly what is wrong.
    pub summary: String,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub signing_keys: usize,
    pub scopes_supported: Vec<String>,
    pub signing_algorithms: Vec<String>,
    /// `Some(true)` when the provider lists S256 among its PKCE methods.
    pub pkce_s256: Option<bool>,
    pub token_auth_methods: Vec<String>,
    /// Where signing out at the provider goes (RP-Initiated Logout); without one,
    /// "Sign out at the provider too" has no effect.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// Things that work but deserve a look (e.g. a requested scope it does not list).
    pub warnings: Vec<String>,
    pub elapsed_ms: u64,
}
