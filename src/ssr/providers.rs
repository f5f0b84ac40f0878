//! OpenID Connect providers in the database. The client secret is stored encrypted and
//! leaves this module only through [`ProviderRow::client_secret`], for the token request.

use super::audit::{Actor, Entry};
use super::clock::now;
use super::db::{Db, is_unique_violation};
use super::order::PROVIDERS;
use super::secrets::{SecretBox, SecretError};
use super::settings;
use crate::audit::EventKind;
use crate::login_methods::{Lockout, LoginMethods};
use crate::on_pool;
use crate::provider::{
    AuthParams, LoginProvider, ProviderSettings, ProviderView, Stored, ValidProvider,
};
use std::sync::LazyLock;

/// Whether OpenID Connect sign-in is on (Settings → Users → Login Methods).
pub const OIDC_ENABLED: &str = "oidc_enabled";

/// A provider as stored. Not `Serialize`: it holds the encrypted client secret.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProviderRow {
    pub slug: String,
    pub name: String,
    pub logo: String,
    pub issuer_url: String,
    pub client_id: String,
    client_secret_enc: String,
    /// One column each ([`ProviderSettings::NAMES`]).
    #[sqlx(flatten)]
    pub settings: ProviderSettings,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A statement with its binds, on backend `DB`.
pub type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>;

/// How one setting's value lives in its column: as text or a boolean (`Db`, `String` or
/// `bool`, the types both backends share). Each setting's type says it once here;
/// [`ProviderSettings`] reads and binds every setting through it.
pub trait Column {
    type Db;
    fn from_db(value: Self::Db) -> Self;
    fn to_db(&self) -> Self::Db;
}

impl Column for bool {
    type Db = bool;
    fn from_db(value: bool) -> Self {
        value
    }
    fn to_db(&self) -> bool {
        *self
    }
}

impl Column for String {
    type Db = String;
    fn from_db(value: String) -> Self {
        value
    }
    fn to_db(&self) -> String {
        self.clone()
    }
}

/// Scopes and claim rules: space-separated (no item contains a space).
impl Column for Vec<String> {
    type Db = String;
    fn from_db(value: String) -> Self {
        value.split_whitespace().map(str::to_owned).collect()
    }
    fn to_db(&self) -> String {
        self.join(" ")
    }
}

/// One `key=value` per line (no value contains a line break).
impl Column for AuthParams {
    type Db = String;
    fn from_db(value: String) -> Self {
        AuthParams::from_stored(&value)
    }
    fn to_db(&self) -> String {
        self.to_text()
    }
}

impl ProviderRow {
    pub fn client_secret(&self, secrets: &SecretBox) -> Result<String, SecretError> {
        secrets.decrypt(&self.client_secret_enc, &self.slug)
    }

    /// The row a test sign-in works with: the editor's values, saved or not, with `secret`
    /// (encrypted here as a stored one would be, so the flow reads it the one way).
    pub fn for_test(valid: &ValidProvider, secrets: &SecretBox, secret: &str) -> ProviderRow {
        let t = now();
        ProviderRow {
            slug: valid.slug.clone(),
            name: valid.name.clone(),
            logo: valid.logo.clone(),
            issuer_url: valid.issuer_url.clone(),
            client_id: valid.client_id.clone(),
            client_secret_enc: secrets.encrypt(secret, &valid.slug),
            settings: valid.settings.clone(),
            position: 0,
            created_at: t,
            updated_at: t,
        }
    }

    /// `links`: (linked accounts, unmatched ones), see [`linked_count`].
    pub fn view(&self, links: (i64, i64)) -> ProviderView {
        let (linked_accounts, unmatched_links) = links;
        ProviderView {
            slug: self.slug.clone(),
            name: self.name.clone(),
            logo: self.logo.clone(),
            issuer_url: self.issuer_url.clone(),
            client_id: self.client_id.clone(),
            has_client_secret: !self.client_secret_enc.is_empty(),
            settings: self.settings.clone(),
            position: self.position,
            linked_accounts,
            unmatched_links,
            redirect_uri: String::new(),
            post_logout_redirect_uri: String::new(),
            backchannel_logout_uri: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("no provider has the slug \"{0}\"")]
    NotFound(String),
    #[error("another provider already uses the slug \"{0}\"")]
    SlugTaken(String),
    #[error("a provider's slug cannot change after creation (linked accounts refer to it)")]
    SlugImmutable,
    #[error("the client secret is required")]
    SecretRequired,
    /// An edit changed the issuer or the client ID and left the secret empty: the stored
    /// secret was issued for the old ones ([`crate::provider::check_stored_secret`]).
    #[error("the issuer or client ID changed: enter the client secret again")]
    SecretAgain,
    #[error("the new order must name every provider exactly once")]
    BadOrder,
    #[error(
        "\"{0}\" is not an enabled provider: enable it (and OpenID Connect sign-in) before sending the sign-in page straight to it"
    )]
    NotEnabled(String),
    #[error(transparent)]
    Lockout(#[from] Lockout),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Rows are read by column name ([`ProviderRow`]), so a new column needs no change here.
const SELECT: &str = "SELECT * FROM oidc_providers";

pub async fn oidc_enabled(db: &Db) -> Result<bool, sqlx::Error> {
    settings::get_bool(db, OIDC_ENABLED, false).await
}

/// The current login methods, for the "at least one stays on" rule.
pub async fn login_methods(db: &Db) -> Result<crate::login_methods::LoginMethods, sqlx::Error> {
    let enabled: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM oidc_providers WHERE enabled = $1")
        .bind(true)
        .fetch_one(pool)
        .await)?;
    Ok(crate::login_methods::LoginMethods {
        local: settings::get_bool(db, settings::LOCAL_LOGIN, true).await?,
        oidc: oidc_enabled(db).await?,
        enabled_providers: enabled as usize,
    })
}

/// Turns OpenID Connect sign-in on or off (never the last way in).
pub async fn set_oidc_enabled(db: &Db, on: bool, by: &Actor) -> Result<(), ProviderError> {
    ensure_login_possible(db, |m| m.oidc = on).await?;
    settings::set_by(db, OIDC_ENABLED, if on { "true" } else { "false" }, by).await?;
    Ok(())
}

/// A provider with the OpenID Connect switch, read together: a sign-in needs both, and
/// asks once.
#[derive(sqlx::FromRow)]
struct RowWithSwitch {
    #[sqlx(flatten)]
    row: ProviderRow,
    oidc_switch: String,
}

/// Provider `slug` and whether OpenID Connect sign-in is on, in one round trip.
pub async fn get_for_sign_in(
    db: &Db,
    slug: &str,
) -> Result<Option<(ProviderRow, bool)>, sqlx::Error> {
    let sql = format!(
        "SELECT p.*, COALESCE((SELECT value FROM settings WHERE key = '{OIDC_ENABLED}'), 'false') \
         AS oidc_switch FROM oidc_providers p WHERE p.slug = $1"
    );
    let row: Option<RowWithSwitch> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await)?;
    Ok(row.map(|r| (r.row, r.oidc_switch == "true")))
}

pub async fn get(db: &Db, slug: &str) -> Result<Option<ProviderRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE slug = $1");
    on_pool!(db, pool => sqlx::query_as::<_, ProviderRow>(&sql).bind(slug).fetch_optional(pool).await)
}

/// Per provider: (slug, linked accounts, those among them from another issuer than the
/// provider's current one: kept, but no identity matches them any more).
const LINK_COUNTS: &str = "SELECT l.provider_slug, COUNT(*), \
     COALESCE(SUM(CASE WHEN l.issuer = p.issuer_url THEN 0 ELSE 1 END), 0) \
     FROM linked_identities l JOIN oidc_providers p ON p.slug = l.provider_slug";

/// (linked accounts, unmatched ones) of provider `slug`.
pub async fn linked_count(db: &Db, slug: &str) -> Result<(i64, i64), sqlx::Error> {
    let sql = format!("{LINK_COUNTS} WHERE l.provider_slug = $1 GROUP BY l.provider_slug");
    let row: Option<(String, i64, i64)> = on_pool!(db, pool => sqlx::query_as(&sql)
        .bind(slug)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map_or((0, 0), |(_, n, unmatched)| (n, unmatched)))
}

pub async fn get_view(db: &Db, slug: &str) -> Result<Option<ProviderView>, sqlx::Error> {
    match get(db, slug).await? {
        Some(row) => Ok(Some(row.view(linked_count(db, slug).await?))),
        None => Ok(None),
    }
}

/// All providers in login-page order, with how many accounts are linked to each.
pub async fn list(db: &Db) -> Result<Vec<ProviderView>, sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY {}", PROVIDERS.order_by);
    let rows: Vec<ProviderRow> =
        on_pool!(db, pool => sqlx::query_as::<_, ProviderRow>(&sql).fetch_all(pool).await)?;
    let sql = format!("{LINK_COUNTS} GROUP BY l.provider_slug");
    let counts: Vec<(String, i64, i64)> =
        on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    Ok(rows
        .iter()
        .map(|r| {
            let (n, unmatched) = counts
                .iter()
                .find(|(s, _, _)| *s == r.slug)
                .map_or((0, 0), |(_, n, u)| (*n, *u));
            r.view((n, unmatched))
        })
        .collect())
}

/// What the login page shows: enabled providers, in order, when OpenID Connect is on.
/// An uploaded (data URI) logo becomes a URL of its own ([`logo_path`]) so the page stays
/// small and browsers cache the image.
pub async fn login_providers(db: &Db) -> Result<Vec<LoginProvider>, sqlx::Error> {
    if !oidc_enabled(db).await? {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT slug, name, logo, position, updated_at FROM oidc_providers WHERE enabled = $1 \
         ORDER BY position, slug")
        .bind(true)
        .fetch_all(pool)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(slug, name, logo, position, updated_at)| LoginProvider {
            logo: if logo.starts_with("data:") {
                logo_path(&slug, updated_at)
            } else {
                logo
            },
            slug,
            name,
            position,
        })
        .collect())
}

/// Where an uploaded logo is served; the edit time in the query makes it cacheable forever.
pub fn logo_path(slug: &str, updated_at: i64) -> String {
    format!("/api/v1/providers/{slug}/logo?v={updated_at}")
}

/// An uploaded image as stored (a `data:<type>;base64,` URI: a provider's logo, an
/// application's icon) as (media type, bytes); `None` for a URL or nothing.
pub(crate) fn uploaded_image(stored: &str) -> Option<(String, Vec<u8>)> {
    use base64::Engine;
    let (meta, data) = stored.strip_prefix("data:")?.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .ok()?;
    Some((mime.to_owned(), bytes))
}

/// An uploaded logo as (media type, bytes); `None` when the provider has no uploaded logo.
pub async fn uploaded_logo(db: &Db, slug: &str) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    stored_image(db, "SELECT logo FROM oidc_providers WHERE slug = $1", slug).await
}

/// The uploaded image (a `data:` URL) that `select` finds for `key`, as (media type, bytes);
/// `None` for no row, no image or an image URL: provider logos and application icons.
pub(crate) async fn stored_image(
    db: &Db,
    select: &str,
    key: &str,
) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let image: Option<String> = on_pool!(db, pool => sqlx::query_scalar(select)
        .bind(key)
        .fetch_optional(pool)
        .await)?;
    Ok(image.as_deref().and_then(uploaded_image))
}

/// The identity columns an administrator edits, in the order [`bind_fields!`] binds them
/// (`$2`...); the settings' columns follow ([`ProviderSettings::NAMES`], bound by
/// [`ProviderSettings::bind`]). Creating and updating share both.
const IDENTITY: [&str; 5] = [
    "name",
    "logo",
    "issuer_url",
    "client_id",
    "client_secret_enc",
];

/// Every edited column, identity then settings.
static FIELDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    IDENTITY
        .iter()
        .chain(ProviderSettings::<Stored>::NAMES)
        .copied()
        .collect()
});

macro_rules! bind_fields {
    ($query:expr, $p:expr, $sealed:expr) => {
        $p.settings.bind(
            $query
                .bind(&$p.name)
                .bind(&$p.logo)
                .bind(&$p.issuer_url)
                .bind(&$p.client_id)
                .bind($sealed),
        )
    };
}

/// `$1` is the slug, `$2..` the [`FIELDS`], then the time.
static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    let t = FIELDS.len() + 2;
    let params: Vec<String> = (2..t).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO oidc_providers (slug, {}, position, created_at, updated_at) VALUES ($1, {}, \
         (SELECT COALESCE(MAX(position), -1) + 1 FROM oidc_providers), ${t}, ${t})",
        FIELDS.join(", "),
        params.join(", ")
    )
});
static UPDATE_SQL: LazyLock<String> = LazyLock::new(|| {
    let t = FIELDS.len() + 2;
    let sets: Vec<String> = FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{f} = ${}", i + 2))
        .collect();
    format!(
        "UPDATE oidc_providers SET {}, updated_at = ${t} WHERE slug = $1",
        sets.join(", ")
    )
});

pub async fn create(
    db: &Db,
    secrets: &SecretBox,
    p: &ValidProvider,
    by: &Actor,
) -> Result<ProviderView, ProviderError> {
    let secret = p
        .client_secret
        .as_deref()
        .ok_or(ProviderError::SecretRequired)?;
    let sealed = secrets.encrypt(secret, &p.slug);
    let entry = Entry::new(EventKind::ProviderCreated, by).target("provider", &p.slug, &p.name);
    on_pool!(db, pool => async {
        let mut tx = pool.begin().await?;
        bind_fields!(sqlx::query(&INSERT_SQL).bind(&p.slug), p, &sealed)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        crate::audit_write!(&mut *tx, &entry)?;
        tx.commit().await
    }.await)
    .map_err(|e| {
        if is_unique_violation(&e) {
            ProviderError::SlugTaken(p.slug.clone())
        } else {
            e.into()
        }
    })?;
    get_view(db, &p.slug)
        .await?
        .ok_or_else(|| ProviderError::NotFound(p.slug.clone()))
}

/// Saves an edit. The slug is fixed; an empty secret keeps the stored one, but only for
/// the same issuer and client ID ([`crate::provider::check_stored_secret`]). Disabling the
/// last way anyone can sign in is refused. What the provider vouched for goes as
/// [`Vouching::withdraw`] says.
pub async fn update(
    db: &Db,
    secrets: &SecretBox,
    slug: &str,
    p: &ValidProvider,
    by: &Actor,
) -> Result<ProviderView, ProviderError> {
    if p.slug != slug {
        return Err(ProviderError::SlugImmutable);
    }
    let existing = get(db, slug)
        .await?
        .ok_or_else(|| ProviderError::NotFound(slug.to_owned()))?;
    crate::provider::check_stored_secret(
        (&existing.issuer_url, &existing.client_id),
        &p.issuer_url,
        &p.client_id,
        p.client_secret.as_deref().unwrap_or(""),
    )
    .map_err(|_| ProviderError::SecretAgain)?;
    if existing.settings.enabled && !p.settings.enabled {
        ensure_login_possible(db, |m| m.enabled_providers -= 1).await?;
    }
    let sealed = match &p.client_secret {
        Some(secret) => secrets.encrypt(secret, slug),
        None => existing.client_secret_enc.clone(),
    };
    let mut fields = crate::audit::changed_fields(&Audited::of_row(&existing), &Audited::of(p));
    if p.client_secret.is_some() {
        fields.push("client_secret".to_owned());
    }
    let entry = Entry::new(EventKind::ProviderUpdated, by)
        .target("provider", slug, &p.name)
        .fields(fields);
    on_pool!(db, pool => async {
        let mut tx = pool.begin().await?;
        bind_fields!(sqlx::query(&UPDATE_SQL).bind(slug), p, &sealed)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        crate::audit_write!(&mut *tx, &entry)?;
        tx.commit().await
    }.await)?;
    Vouching::of_row(&existing)
        .withdraw(db, slug, &Vouching::of_valid(p))
        .await?;
    get_view(db, slug)
        .await?
        .ok_or_else(|| ProviderError::NotFound(slug.to_owned()))
}

/// A provider as its `provider_updated` event compares it: every field an edit may change
/// but the secret (which [`update`] names when a new one is given), by the names the
/// editor and the CLI use.
#[derive(serde::Serialize)]
struct Audited<'a> {
    name: &'a str,
    logo: &'a str,
    issuer_url: &'a str,
    client_id: &'a str,
    #[serde(flatten)]
    settings: &'a ProviderSettings,
}

impl<'a> Audited<'a> {
    fn of_row(r: &'a ProviderRow) -> Self {
        Audited {
            name: &r.name,
            logo: &r.logo,
            issuer_url: &r.issuer_url,
            client_id: &r.client_id,
            settings: &r.settings,
        }
    }

    fn of(p: &'a ValidProvider) -> Self {
        Audited {
            name: &p.name,
            logo: &p.logo,
            issuer_url: &p.issuer_url,
            client_id: &p.client_id,
            settings: &p.settings,
        }
    }
}

/// What a provider's users hold on its word (sessions signed in through it, the groups its
/// groups claim named) depends on these settings; [`Vouching::withdraw`] is the one rule
/// for what goes when they change, obeyed by every edit ([`update`], [`set_enabled`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Vouching<'a> {
    enabled: bool,
    issuer_url: &'a str,
    groups_claim: &'a str,
}

impl<'a> Vouching<'a> {
    fn of_row(row: &'a ProviderRow) -> Self {
        Vouching {
            enabled: row.settings.enabled,
            issuer_url: &row.issuer_url,
            groups_claim: &row.settings.groups_claim,
        }
    }

    fn of_valid(p: &'a ValidProvider) -> Self {
        Vouching {
            enabled: p.settings.enabled,
            issuer_url: &p.issuer_url,
            groups_claim: &p.settings.groups_claim,
        }
    }

    /// Disabling ends the sessions signed in through the provider.
    fn ends_sessions(&self, after: &Self) -> bool {
        self.enabled && !after.enabled
    }

    /// Its stored groups were vouched for by the provider as it was: a disabled provider
    /// vouches for nothing, another issuer is another authority (its users are other
    /// people), another groups claim names other groups. The next sign-in through it
    /// brings them anew.
    fn drops_groups(&self, after: &Self) -> bool {
        !after.enabled
            || self.issuer_url != after.issuer_url
            || self.groups_claim != after.groups_claim
    }

    /// Applies the rule after provider `slug` went from `self` to `after` (and a new issuer
    /// no longer vouches for the emails the old one set).
    async fn withdraw(&self, db: &Db, slug: &str, after: &Self) -> Result<(), sqlx::Error> {
        if self.ends_sessions(after) {
            super::session::store::end::for_provider(db, slug, None).await?;
        }
        if self.drops_groups(after) {
            super::groups::drop_from_provider(db, slug, None).await?;
        }
        if self.issuer_url != after.issuer_url {
            // The emails the old issuer set are not the new one's to vouch for.
            crate::exec!(db, super::users::FORGET_PROVIDER_EMAILS, slug)?;
        }
        Ok(())
    }
}

/// Refuses a change that would leave nobody a way to sign in.
pub async fn ensure_login_possible(
    db: &Db,
    change: impl FnOnce(&mut LoginMethods),
) -> Result<(), ProviderError> {
    let mut methods = login_methods(db).await?;
    change(&mut methods);
    Ok(methods.check()?)
}

/// Refuses disabling or deleting provider `slug` when it is the last way to sign in.
async fn ensure_can_drop(db: &Db, slug: &str) -> Result<(), ProviderError> {
    if get(db, slug).await?.is_some_and(|p| p.settings.enabled) {
        ensure_login_possible(db, |m| m.enabled_providers -= 1).await?;
    }
    Ok(())
}

/// Turns password sign-in on or off (never the last way in).
pub async fn set_local_login(db: &Db, on: bool, by: &Actor) -> Result<(), ProviderError> {
    ensure_login_possible(db, |m| m.local = on).await?;
    if !on {
        let mut methods = login_methods(db).await?;
        methods.local = false;
        let admins = super::admin_sync::admins_through_providers(db).await?;
        methods.check_local_off(admins as usize)?;
    }
    settings::set_by(
        db,
        settings::LOCAL_LOGIN,
        if on { "true" } else { "false" },
        by,
    )
    .await?;
    Ok(())
}

/// The provider `/login` goes straight to, as set (it shows only while that provider is
/// enabled: see `login_page`).
pub async fn auto_redirect(db: &Db) -> Result<Option<String>, sqlx::Error> {
    Ok(settings::get(db, settings::AUTO_REDIRECT)
        .await?
        .filter(|s| !s.is_empty()))
}

/// Sends `/login` straight to provider `slug` (which must be enabled, with OpenID Connect
/// sign-in on), or turns that off (`None`).
pub async fn set_auto_redirect(
    db: &Db,
    slug: Option<&str>,
    by: &Actor,
) -> Result<(), ProviderError> {
    if let Some(slug) = slug {
        let shown = login_providers(db).await?;
        if !shown.iter().any(|p| p.slug == slug) {
            return Err(ProviderError::NotEnabled(slug.to_owned()));
        }
    }
    settings::set_by(db, settings::AUTO_REDIRECT, slug.unwrap_or(""), by).await?;
    Ok(())
}

/// Enables or disables a provider (never the last way in). Disabling ends the sessions
/// that were signed in through it and drops its groups ([`Vouching::withdraw`]).
pub async fn set_enabled(
    db: &Db,
    slug: &str,
    enabled: bool,
    by: &Actor,
) -> Result<(), ProviderError> {
    if !enabled {
        ensure_can_drop(db, slug).await?;
    }
    let entry = Entry::new(EventKind::ProviderUpdated, by)
        .target("provider", slug, slug)
        .fields(vec!["enabled".to_owned()])
        .detail("enabled", enabled);
    let n = crate::exec_audited!(
        db,
        &entry,
        "UPDATE oidc_providers SET enabled = $2, updated_at = $3 WHERE slug = $1",
        slug,
        enabled,
        now()
    )?;
    if n == 0 {
        return Err(ProviderError::NotFound(slug.to_owned()));
    }
    // Only the switch changes; the issuer and groups claim are whatever they are.
    let before = Vouching {
        enabled: !enabled,
        issuer_url: "",
        groups_claim: "",
    };
    before
        .withdraw(db, slug, &Vouching { enabled, ..before })
        .await?;
    Ok(())
}

/// Deletes a provider, its linked accounts and the sessions signed in through it (never the
/// last way in); returns how many links went with it.
pub async fn delete(db: &Db, slug: &str, by: &Actor) -> Result<i64, ProviderError> {
    ensure_can_drop(db, slug).await?;
    let name = get(db, slug)
        .await?
        .map_or_else(|| slug.to_owned(), |p| p.name);
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let links =
            crate::exec_on!(&mut *tx, "DELETE FROM linked_identities WHERE provider_slug = $1", slug)?;
        let gone = crate::exec_on!(&mut *tx, "DELETE FROM oidc_providers WHERE slug = $1", slug)?;
        if gone == 0 {
            return Err(ProviderError::NotFound(slug.to_owned()));
        }
        sqlx::query("DELETE FROM sessions WHERE provider_slug = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        // Its groups must not outlive it (see groups::drop_from_provider).
        sqlx::query("DELETE FROM user_groups WHERE source = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        // Nor its word on the emails it set.
        sqlx::query(super::users::FORGET_PROVIDER_EMAILS)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        let entry = Entry::new(EventKind::ProviderDeleted, by)
            .target("provider", slug, &name)
            .detail("links", links);
        crate::audit_write!(&mut *tx, &entry)?;
        tx.commit().await?;
        // Its sessions ended: their applications are told (back-channel logout).
        super::op::logout::wake();
        Ok(links as i64)
    })
}

/// Moves one provider a place up (`-1`) or down (`+1`) in the login-page order.
pub async fn shift(db: &Db, slug: &str, by: i64) -> Result<(), ProviderError> {
    PROVIDERS.shift(db, slug, by).await
}

#[cfg(test)]
mod tests {
    use super::Vouching;

    #[test]
    fn what_goes_when_a_provider_changes() {
        let before = Vouching {
            enabled: true,
            issuer_url: "https://sso.example/a",
            groups_claim: "groups",
        };
        // Only these three count: a new name, client ID or scopes is `same` here.
        let same = before;
        assert!(!before.ends_sessions(&same) && !before.drops_groups(&same));
        let disabled = Vouching {
            enabled: false,
            ..before
        };
        assert!(before.ends_sessions(&disabled) && before.drops_groups(&disabled));
        let other_issuer = Vouching {
            issuer_url: "https://sso.example/b",
            ..before
        };
        assert!(!before.ends_sessions(&other_issuer) && before.drops_groups(&other_issuer));
        let other_claim = Vouching {
            groups_claim: "realm_access.roles",
            ..before
        };
        assert!(before.drops_groups(&other_claim));
        let no_claim = Vouching {
            groups_claim: "",
            ..before
        };
        assert!(before.drops_groups(&no_claim));
        // Enabling takes nothing.
        let enabling = Vouching {
            enabled: false,
            ..before
        };
        assert!(!enabling.ends_sessions(&before) && !enabling.drops_groups(&before));
    }
}
