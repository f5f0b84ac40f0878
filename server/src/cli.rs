//! The command line: `portcullis` (serve) and administrative subcommands.

use crate::config::Config;
use crate::serve;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use portcullis::account::NewAccount;
use portcullis::ssr::users::{self, CreateUserError};
use std::io::BufRead;

#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Portcullis: a self-hosted sign-in with OpenID Connect",
    long_about = "Portcullis: a self-hosted sign-in with OpenID Connect.\n\n\
        Without a subcommand it serves the web application. Every option can also be set \
        through the environment variable shown beside it."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Manage local user accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local user. The password is read from standard input (one line).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Shown in the interface; defaults to the username.
        #[arg(long, default_value = "")]
        display_name: String,
        /// Read the password from standard input (required: passwords never go in argv).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// List users.
    List {
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run(cli.config).await,
        Command::User(cmd) => user(&cli.config, cmd).await,
    }
}

async fn user(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let db = serve::open_db(config).await?;
    match cmd {
        UserCommand::Add {
            username,
            email,
            display_name,
            password_stdin: _,
            admin,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let account = NewAccount {
                username,
                email,
                display_name,
                password,
            };
            let account = match account.validate() {
                Ok(a) => a,
                Err(errors) => {
                    let lines: Vec<String> = errors
                        .iter()
                        .map(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message))
                        .collect();
                    bail!("invalid user:\n  {}", lines.join("\n  "));
                }
            };
            match users::create(&db, &account, admin, false).await {
                Ok(user) => println!(
                    "created {} {} ({})",
                    if user.is_admin {
                        "administrator"
                    } else {
                        "user"
                    },
                    user.username,
                    user.id
                ),
                Err(CreateUserError::Taken(field)) => bail!("that {field} is already taken"),
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List { json } => {
            let list = users::list(&db).await?;
            let views: Vec<_> = list.iter().map(|u| u.view()).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                println!("{:<36}  {:<20}  {:<30}  ROLE", "ID", "USERNAME", "EMAIL");
                for u in views {
                    println!(
                        "{:<36}  {:<20}  {:<30}  {}",
                        u.id,
                        u.username,
                        u.email.unwrap_or_default(),
                        if u.admin { "admin" } else { "user" }
                    );
                }
            }
        }
    }
    db.close().await;
    Ok(())
}
