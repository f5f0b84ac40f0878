//! `portcullis token ...`: personal access tokens from a shell, by the same rules as the
//! profile page (`portcullis::tokens`): make one for a user (printed once), list a user's,
//! revoke any.

use crate::cli::print_table;
use crate::config::Config;
use crate::serve::open_db;
use anyhow::{Context, bail};
use clap::Subcommand;
use portcullis::sessions::utc_minute;
use portcullis::ssr::db::Db;
use portcullis::ssr::{apps, tokens, users};
use portcullis::tokens::TokenDraft;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for a user and print it (the only time it is shown).
    Create {
        /// The owner: a username or email.
        #[arg(long)]
        user: String,
        /// What uses it, e.g. "backup script".
        #[arg(long)]
        name: String,
        /// An application it may open, by id or name (repeat); the application must allow
        /// tokens (`portcullis app update <app> --allow-tokens true`).
        #[arg(long = "app", required = true)]
        apps: Vec<String>,
        /// Days until it expires: 7, 30, 90, 365, or 0 for never [default: 90].
        #[arg(long, default_value = "90")]
        expires_in_days: String,
    },
    /// List a user's tokens (never the tokens themselves).
    List {
        /// A username or email.
        #[arg(long)]
        user: String,
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (from `token list`); forward auth refuses it at once.
    Revoke { id: String },
}

pub async fn token(config: &Config, cmd: TokenCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let result = run(&db, cmd).await;
    db.close().await;
    result
}

async fn owner(db: &Db, who: &str) -> anyhow::Result<users::UserRow> {
    users::find_by_identifier(db, who)
        .await?
        .with_context(|| format!("no user is called {who:?}"))
}

async fn run(db: &Db, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            user,
            name,
            apps: wanted,
            expires_in_days,
        } => {
            let user = owner(db, &user).await?;
            let mut ids = Vec::new();
            for a in &wanted {
                let app = apps::find(db, a)
                    .await?
                    .with_context(|| format!("no application is called or numbered {a:?}"))?;
                if !app.settings.allow_tokens {
                    bail!(
                        "{} does not allow tokens: `portcullis app update {} --allow-tokens true` first",
                        app.settings.name,
                        app.id
                    );
                }
                ids.push(app.id);
            }
            let draft = TokenDraft {
                name,
                expires_in_days,
                apps: ids,
            };
            let valid = draft.validate().map_err(|errors| {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message))
                    .collect();
                anyhow::anyhow!("{}", lines.join("\n"))
            })?;
            let (view, token) = tokens::create(
                db,
                &user.id,
                &valid,
                true,
                &portcullis::ssr::audit::Actor::cli(),
            )
            .await?;
            eprintln!(
                "token {} ({}) for {}; shown this once:",
                view.id, view.name, user.username
            );
            println!("{token}");
        }
        TokenCommand::List { user, json } => {
            let user = owner(db, &user).await?;
            let all = apps::list(db).await?;
            let name = |id: &str| {
                all.iter()
                    .find(|a| a.id == id)
                    .map(|a| a.settings.name.clone())
            };
            let list = tokens::list(db, &user.id, name).await?;
            print_table(
                json,
                &list,
                &[
                    ("ID", |t| t.id.clone()),
                    ("NAME", |t| t.name.clone()),
                    ("ENDS IN", |t| format!("…{}", t.hint)),
                    ("APPS", |t| t.apps.join(", ")),
                    ("CREATED", |t| utc_minute(t.created_at)),
                    ("EXPIRES", |t| {
                        t.expires_at
                            .map(utc_minute)
                            .unwrap_or_else(|| "never".into())
                    }),
                    ("LAST USED", |t| {
                        t.last_used_at.map(utc_minute).unwrap_or_default()
                    }),
                ],
            )?;
        }
        TokenCommand::Revoke { id } => {
            tokens::revoke(db, &id, None, &portcullis::ssr::audit::Actor::cli()).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
