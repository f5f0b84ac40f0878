//! `portcullis app ...` and `portcullis group ...`: the applications behind forward
//! authentication and administrator-assigned groups, from a shell, by the same rules as
//! Settings → Applications (one database: changes here show in the UI and the other way
//! round; a running server's check endpoint sees them within `apps::CACHE_TTL`).

use crate::cli::{merge_flags, print_list};
use crate::config::Config;
use crate::serve::open_db;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use portcullis::apps::{AppDraft, check_group};
use portcullis::field::FieldError;
use portcullis::ssr::apps::{self, AppsError};
use portcullis::ssr::db::Db;
use portcullis::ssr::op::clients;
use portcullis::ssr::{groups, users};

/// Application fields, named as `AppDraft`'s; on `update`, an omitted flag keeps the stored
/// value.
#[derive(Debug, Args, serde::Serialize)]
pub struct AppFields {
    /// Shown on the start page.
    #[arg(long)]
    pub name: Option<String>,
    /// Where the application is reached: `https://host[:port][/path]` (repeat for several;
    /// on update, the given URLs replace the stored ones).
    #[arg(long = "url")]
    pub urls: Vec<String>,
    /// Who may open it: `users` (every signed-in user), `admins`, or `listed` (the
    /// `--user`s and `--group`s) [default on add: users, or listed when users or groups are
    /// given].
    #[arg(long)]
    pub access: Option<String>,
    /// A user who may open it (repeat; replaces the stored list on update).
    #[arg(long = "user")]
    pub users: Vec<String>,
    /// A group whose members may open it (repeat; replaces the stored list on update).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// An https image URL, or a PNG/JPEG/WebP/GIF/SVG file to upload (stored like an
    /// uploaded provider logo); `""` removes it.
    #[arg(long)]
    #[serde(skip)]
    pub icon: Option<String>,
    /// Personal access tokens may open it (`portcullis token create`) [default on add: false].
    #[arg(long)]
    pub allow_tokens: Option<bool>,
    /// Everyone who opens it must have signed in with two factors, or give the second one
    /// first [default on add: false].
    #[arg(long)]
    pub require_second_factor: Option<bool>,
    #[command(flatten)]
    #[serde(flatten)]
    pub client: ClientFlags,
}

/// The application as an OpenID Connect client (`docs/openid-provider.md`); on `update`, an
/// omitted flag keeps the stored value. A `--redirect-uri` makes it a client.
#[derive(Debug, Args, serde::Serialize)]
pub struct ClientFlags {
    /// Where the application receives its sign-in code, exactly as it sends it (repeat for
    /// several; replaces the stored list on update). Makes the application a client.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// The client ID [default: made from the name]; it cannot change once used.
    #[arg(long)]
    pub client_id: Option<String>,
    /// How it authenticates at the token endpoint: `basic` (client_secret_basic, the
    /// default), `post` (client_secret_post) or `none` (a public client with PKCE). A new
    /// secret is printed once.
    #[arg(long)]
    pub client_auth: Option<String>,
    /// A scope it may receive (repeat): openid, profile, email, groups, offline_access
    /// [default: openid profile email groups].
    #[arg(long = "scope")]
    #[serde(rename = "client_scopes")]
    pub scopes: Vec<String>,
    /// RS256 (the default) or ES256.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    /// Where it may send people after sign-out (repeat; replaces the stored list).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens go (`""` removes it).
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// Whether it may use the device flow.
    #[arg(long)]
    pub device_flow: Option<bool>,
    /// Whether people are asked to consent before their data goes to it.
    #[arg(long)]
    pub consent: Option<bool>,
    /// It is no OpenID Connect client any more (its client ID and secret are deleted).
    #[arg(long, conflicts_with = "redirect_uris")]
    #[serde(skip)]
    pub no_oidc: bool,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Add an application.
    Add {
        #[command(flatten)]
        fields: AppFields,
    },
    /// Change an application (by id or name); omitted flags keep their values.
    Update {
        app: String,
        #[command(flatten)]
        fields: AppFields,
    },
    /// Remove an application (by id or name).
    Remove { app: String },
    /// Make a new client secret for an OpenID Connect application (by id or name) and print
    /// it once; the old one stops working at once.
    Secret { app: String },
    /// List applications in start-page order.
    List {
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Assign a group to a user (by username or email).
    Assign {
        #[arg(long)]
        user: String,
        #[arg(long)]
        group: String,
    },
    /// Take an assigned group from a user.
    Unassign {
        #[arg(long)]
        user: String,
        #[arg(long)]
        group: String,
    },
    /// List assigned groups (of everyone, or of one user).
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl AppFields {
    /// Applies the given flags over `draft` (by name, [`merge_flags`]); `--access` defaults
    /// to `listed` when users or groups are given, and an icon file becomes a data URI.
    fn apply(self, draft: &mut AppDraft) -> anyhow::Result<()> {
        *draft = merge_flags(draft, &self)?;
        if self.access.is_none() && (!self.users.is_empty() || !self.groups.is_empty()) {
            draft.access = "listed".into();
        }
        if let Some(icon) = self.icon {
            draft.icon = icon_value(&icon)?;
        }
        if self.client.no_oidc {
            draft.client.oidc = false;
        } else if !self.client.redirect_uris.is_empty() {
            draft.client.oidc = true;
        }
        Ok(())
    }
}

/// A URL (or empty) as given; a path to an image file becomes a data URI.
fn icon_value(icon: &str) -> anyhow::Result<String> {
    use base64::Engine;
    let icon = icon.trim();
    if icon.is_empty() || icon.starts_with("https://") || icon.starts_with("http://") {
        return Ok(icon.to_owned());
    }
    if icon.starts_with("data:") {
        return Ok(icon.to_owned());
    }
    let path = std::path::Path::new(icon);
    let mime = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        _ => bail!("--icon: give an https:// image URL or a .png, .jpg, .webp, .gif or .svg file"),
    };
    let bytes =
        std::fs::read(path).with_context(|| format!("--icon: reading {}", path.display()))?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("data:{mime};base64,{data}"))
}

/// Field errors as the flags that set those fields.
fn flag_errors(errors: &[FieldError]) -> anyhow::Error {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            let flag = match e.field.as_str() {
                "urls" => "url",
                "users" => "user",
                "groups" => "group",
                "redirect_uris" => "redirect-uri",
                "post_logout_redirect_uris" => "post-logout-redirect-uri",
                "client_scopes" => "scope",
                "client_id" => "client-id",
                "client_auth" => "client-auth",
                "id_token_alg" => "id-token-alg",
                "backchannel_logout_uri" => "backchannel-logout-uri",
                other => other,
            };
            format!("--{flag}: {}", e.message)
        })
        .collect();
    anyhow::anyhow!("invalid application:\n  {}", lines.join("\n  "))
}

fn explain(e: AppsError) -> anyhow::Error {
    match e {
        AppsError::Db(e) => anyhow::Error::new(e).context("database"),
        other => anyhow::anyhow!("{other}"),
    }
}

fn client_error(e: clients::ClientsError) -> anyhow::Error {
    match e {
        clients::ClientsError::Db(e) => anyhow::Error::new(e).context("database"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Stores the application's client settings and prints its client ID, and a new secret once.
async fn save_client(
    db: &Db,
    app: &portcullis::apps::App,
    valid: &portcullis::apps::ValidApp,
) -> anyhow::Result<()> {
    let secret = clients::save(db, &app.id, &app.settings.name, valid.client.as_ref())
        .await
        .map_err(client_error)?;
    if let Some(c) = clients::get(db, &app.id).await? {
        println!("client ID: {}", c.view.client_id);
    }
    if let Some(secret) = secret {
        println!("client secret (shown only this once):\n{secret}");
    }
    Ok(())
}

async fn found(db: &Db, app: &str) -> anyhow::Result<portcullis::apps::App> {
    apps::find(db, app)
        .await?
        .with_context(|| format!("no application is called or numbered \"{app}\""))
}

pub async fn app(config: &Config, cmd: AppCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    match cmd {
        AppCommand::Add { fields } => {
            let mut draft = AppDraft::new_default();
            fields.apply(&mut draft)?;
            draft.http_image_origin = config.http_image_origin();
            let valid = draft.validate().map_err(|e| flag_errors(&e))?;
            if let Some(c) = &valid.client {
                clients::check(&db, None, c).await.map_err(client_error)?;
            }
            let app = apps::create(&db, &valid, &portcullis::ssr::audit::Actor::cli())
                .await
                .map_err(explain)?;
            println!("added application {} ({})", app.settings.name, app.id);
            save_client(&db, &app, &valid).await?;
        }
        AppCommand::Update { app, fields } => {
            let existing = found(&db, &app).await?;
            let mut draft = existing.view().draft();
            if let Some(c) = clients::get(&db, &existing.id).await? {
                draft.client = c.view.draft();
            }
            fields.apply(&mut draft)?;
            draft.http_image_origin = config.http_image_origin();
            let valid = draft.validate().map_err(|e| flag_errors(&e))?;
            if let Some(c) = &valid.client {
                clients::check(&db, Some(&existing.id), c)
                    .await
                    .map_err(client_error)?;
            }
            let app = apps::update(
                &db,
                &existing.id,
                &valid,
                &portcullis::ssr::audit::Actor::cli(),
            )
            .await
            .map_err(explain)?;
            println!("updated application {} ({})", app.settings.name, app.id);
            save_client(&db, &app, &valid).await?;
        }
        AppCommand::Remove { app } => {
            let existing = found(&db, &app).await?;
            apps::delete(&db, &existing.id, &portcullis::ssr::audit::Actor::cli())
                .await
                .map_err(explain)?;
            println!(
                "removed application {} ({})",
                existing.settings.name, existing.id
            );
        }
        AppCommand::Secret { app } => {
            let existing = found(&db, &app).await?;
            let secret =
                clients::rotate_secret(&db, &existing.id, &portcullis::ssr::audit::Actor::cli())
                    .await
                    .map_err(client_error)?;
            println!(
                "new client secret of {} (shown only this once; the old one no longer works):\n{secret}",
                existing.settings.name
            );
        }
        AppCommand::List { json } => {
            let list: Vec<_> = apps::list(&db).await?.iter().map(|a| a.view()).collect();
            print_list(json, &list, &["ID", "NAME", "ACCESS", "URLS"], |a| {
                let mut access = a.settings.access.to_string();
                if !a.settings.users.is_empty() || !a.settings.groups.is_empty() {
                    access = format!(
                        "{access} (users: {}; groups: {})",
                        a.settings.users.join(", "),
                        a.settings.groups.join(", ")
                    );
                }
                vec![
                    a.id.clone(),
                    a.settings.name.clone(),
                    access,
                    a.settings.urls.join(" "),
                ]
            })?;
        }
    }
    db.close().await;
    Ok(())
}

async fn user_named(db: &Db, name: &str) -> anyhow::Result<users::UserRow> {
    users::find_by_identifier(db, name.trim())
        .await?
        .with_context(|| format!("no user is called \"{name}\""))
}

pub async fn group(config: &Config, cmd: GroupCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    match cmd {
        GroupCommand::Assign { user, group } => {
            let group = group.trim();
            check_group(group).map_err(|m| anyhow::anyhow!("--group: {m}"))?;
            let u = user_named(&db, &user).await?;
            if groups::assign(&db, &u.id, group, &portcullis::ssr::audit::Actor::cli()).await? {
                println!("{} is now in group {group}", u.username);
            } else {
                println!("{} was already in group {group}", u.username);
            }
        }
        GroupCommand::Unassign { user, group } => {
            let u = user_named(&db, &user).await?;
            if !groups::unassign(
                &db,
                &u.id,
                group.trim(),
                &portcullis::ssr::audit::Actor::cli(),
            )
            .await?
            {
                bail!("{} has no assigned group \"{}\"", u.username, group.trim());
            }
            println!("{} is no longer in group {}", u.username, group.trim());
        }
        GroupCommand::List { user, json } => {
            let who = match &user {
                Some(name) => Some(user_named(&db, name).await?.id),
                None => None,
            };
            let list = groups::assignments(&db, who.as_deref()).await?;
            print_list(json, &list, &["USER", "GROUP"], |a| {
                vec![a.username.clone(), a.group.clone()]
            })?;
        }
    }
    db.close().await;
    Ok(())
}
