//! `portcullis app ...` and `portcullis group ...`: the applications behind forward
//! authentication and administrator-assigned groups, from a shell, by the same rules as
//! Settings → Applications (one database: changes here show in the UI and the other way
//! round; a running server's check endpoint sees them within `apps::CACHE_TTL`).

use crate::cli::print_list;
use crate::config::Config;
use crate::serve::open_db;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use portcullis::apps::{AppDraft, check_group};
use portcullis::field::FieldError;
use portcullis::ssr::apps::{self, AppsError};
use portcullis::ssr::db::Db;
use portcullis::ssr::{groups, users};

/// Application fields; on `update`, an omitted flag keeps the stored value.
#[derive(Debug, Args)]
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
    pub icon: Option<String>,
    /// Personal access tokens may open it (`portcullis token create`) [default on add: false].
    #[arg(long)]
    pub allow_tokens: Option<bool>,
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
    fn apply(self, draft: &mut AppDraft) -> anyhow::Result<()> {
        if let Some(name) = self.name {
            draft.name = name;
        }
        if !self.urls.is_empty() {
            draft.urls = self.urls.join("\n");
        }
        let listed = !self.users.is_empty() || !self.groups.is_empty();
        if !self.users.is_empty() {
            draft.users = self.users.join(", ");
        }
        if !self.groups.is_empty() {
            draft.groups = self.groups.join("\n");
        }
        match self.access {
            Some(access) => draft.access = access,
            None if listed => draft.access = "listed".into(),
            None => {}
        }
        if let Some(icon) = self.icon {
            draft.icon = icon_value(&icon)?;
        }
        if let Some(allow) = self.allow_tokens {
            draft.allow_tokens = allow;
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
            let app = apps::create(&db, &valid).await.map_err(explain)?;
            println!("added application {} ({})", app.name, app.id);
        }
        AppCommand::Update { app, fields } => {
            let existing = found(&db, &app).await?;
            let mut draft = existing.view().draft();
            fields.apply(&mut draft)?;
            draft.http_image_origin = config.http_image_origin();
            let valid = draft.validate().map_err(|e| flag_errors(&e))?;
            let app = apps::update(&db, &existing.id, &valid)
                .await
                .map_err(explain)?;
            println!("updated application {} ({})", app.name, app.id);
        }
        AppCommand::Remove { app } => {
            let existing = found(&db, &app).await?;
            apps::delete(&db, &existing.id).await.map_err(explain)?;
            println!("removed application {} ({})", existing.name, existing.id);
        }
        AppCommand::List { json } => {
            let list: Vec<_> = apps::list(&db).await?.iter().map(|a| a.view()).collect();
            print_list(json, &list, &["ID", "NAME", "ACCESS", "URLS"], |a| {
                let mut access = a.access.to_string();
                if !a.users.is_empty() || !a.groups.is_empty() {
                    access = format!(
                        "{access} (users: {}; groups: {})",
                        a.users.join(", "),
                        a.groups.join(", ")
                    );
                }
                vec![a.id.clone(), a.name.clone(), access, a.urls.join(" ")]
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
            if groups::assign(&db, &u.id, group).await? {
                println!("{} is now in group {group}", u.username);
            } else {
                println!("{} was already in group {group}", u.username);
            }
        }
        GroupCommand::Unassign { user, group } => {
            let u = user_named(&db, &user).await?;
            if !groups::unassign(&db, &u.id, group.trim()).await? {
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
