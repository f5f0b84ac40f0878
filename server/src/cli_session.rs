//! `portcullis session ...`: see and end signed-in sessions from a shell, by the same handles
//! the pages show (never a session's id, which is its cookie).

use crate::cli::print_table;
use crate::config::Config;
use crate::serve::open_db;
use anyhow::{Context, bail};
use clap::Subcommand;
use portcullis::sessions::utc_minute;
use portcullis::ssr::db::Db;
use portcullis::ssr::session::manage;
use portcullis::ssr::users::{self, UserRow};

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List a user's signed-in sessions.
    List {
        /// The user: username, email or id.
        #[arg(long)]
        user: String,
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// End a session by its handle (from `session list` or the pages), or every session of
    /// a user with `--user U --all`. The browser is signed out on its next request.
    Revoke {
        /// The session's handle.
        // A handle is random base64url and may begin with '-': taken as the value here, not
        // as a flag (a test saw "unexpected argument '-p'" once).
        #[arg(
            required_unless_present = "all",
            conflicts_with = "all",
            allow_hyphen_values = true
        )]
        handle: Option<String>,
        /// Only a session of this user (username, email or id); required with --all.
        #[arg(long, required_if_eq("all", "true"))]
        user: Option<String>,
        /// Every session of --user.
        #[arg(long)]
        all: bool,
    },
}

pub async fn find_user(db: &Db, who: &str) -> anyhow::Result<UserRow> {
    if let Some(user) = users::get(db, who).await? {
        return Ok(user);
    }
    users::find_by_identifier(db, who)
        .await?
        .with_context(|| format!("no user {who:?} (give a username, email or id)"))
}

pub async fn session(config: &Config, cmd: SessionCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let result = run(&db, cmd).await;
    db.close().await;
    result
}

async fn run(db: &Db, cmd: SessionCommand) -> anyhow::Result<()> {
    match cmd {
        SessionCommand::List { user, json } => {
            let user = find_user(db, &user).await?;
            let list = manage::list(db, Some(&user.id), None).await?;
            print_table(
                json,
                &list,
                &[
                    ("HANDLE", |s| s.handle.clone()),
                    ("SIGNED IN", |s| utc_minute(s.signed_in_at)),
                    ("LAST SEEN", |s| utc_minute(s.last_seen_at)),
                    ("WITH", |s| s.how.label().to_string()),
                    ("BROWSER", |s| s.browser.clone()),
                    ("APPS", |s| s.apps.join(", ")),
                ],
            )?;
        }
        SessionCommand::Revoke {
            handle: Some(handle),
            user,
            all: _,
        } => {
            let owner = match user {
                Some(u) => Some(find_user(db, &u).await?.id),
                None => None,
            };
            match manage::end(
                db,
                &handle,
                owner.as_deref(),
                None,
                &portcullis::ssr::audit::Actor::cli(),
            )
            .await?
            {
                Some(ended) => println!("ended session {handle} of user {}", ended.user_id),
                None => bail!("no such session: {handle}"),
            }
        }
        SessionCommand::Revoke {
            handle: None,
            user: Some(user),
            all: true,
        } => {
            let user = find_user(db, &user).await?;
            let by = portcullis::ssr::audit::Actor::cli();
            let n = manage::end_others(db, &user.id, "", &by).await?;
            println!("ended {n} session(s) of {}", user.username);
        }
        SessionCommand::Revoke { .. } => bail!("name a session's handle, or --user U --all"),
    }
    Ok(())
}
