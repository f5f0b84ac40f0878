//! The command line: `portcullis` (serve) and administrative subcommands.

use crate::config::{Config, Listen, Server, Site, Store, from_env};
use crate::serve;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use portcullis::account::NewAccount;
use portcullis::ssr::users::{self, CreateUserError};
use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Portcullis: a self-hosted sign-in with OpenID Connect",
    long_about = "Portcullis: a self-hosted sign-in with OpenID Connect.\n\n\
        Without a subcommand it serves the web application, configured by the environment \
        (`portcullis serve --help` lists the server's options). Every option can also be set \
        through the environment variable shown beside it; each command's help lists its own."
)]
pub struct Cli {
    #[command(flatten)]
    pub store: Store,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application (the default).
    Serve(ServeArgs),
    /// Manage local user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OpenID Connect providers (the same rules as the settings page).
    Provider {
        #[command(flatten)]
        site: Site,
        #[command(subcommand)]
        command: ProviderCommand,
    },
    /// Turn OpenID Connect sign-in on or off.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Manage the applications behind forward authentication.
    App {
        #[command(flatten)]
        site: Site,
        #[command(subcommand)]
        command: crate::cli_app::AppCommand,
    },
    /// Assign groups to users (the groups providers send come from their claims).
    #[command(subcommand)]
    Group(crate::cli_app::GroupCommand),
    /// See and end users' signed-in sessions.
    #[command(subcommand)]
    Session(crate::cli_session::SessionCommand),
    /// The OpenID Provider's signing keys: list them, rotate them.
    #[command(subcommand)]
    Keys(crate::cli_keys::KeysCommand),
    /// Personal access tokens (scripts through forward auth): make, list, revoke.
    #[command(subcommand)]
    Token(crate::cli_token::TokenCommand),
    /// The audit log: who did what, when, from where (`audit list`; `--json` exports it).
    #[command(subcommand)]
    Audit(crate::cli_audit::AuditCommand),
    /// Show or switch login methods; `login-methods local enable` restores password sign-in
    /// (break-glass, on the server).
    #[command(subcommand)]
    LoginMethods(crate::cli_login_methods::LoginMethodsCommand),
    /// Ask the running server (at `--listen`; 0.0.0.0 means this machine) whether it is
    /// healthy: exit 0 when `/healthz` answers 200, 1 otherwise. For a container's
    /// HEALTHCHECK, which then needs no shell or curl.
    Healthcheck {
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
        #[command(flatten)]
        listen: Listen,
    },
}

/// `serve`'s options: the site's and the server's own.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub site: Site,
    #[command(flatten)]
    pub server: Server,
}

impl Command {
    /// The configuration this command runs with: its own options as given, the others as
    /// the environment gives them to the server.
    fn config(&self, store: Store) -> anyhow::Result<Config> {
        let (site, server) = match self {
            Command::Serve(args) => (Some(args.site.clone()), Some(args.server.clone())),
            Command::Provider { site, .. } | Command::App { site, .. } => {
                (Some(site.clone()), None)
            }
            Command::Healthcheck { listen, .. } => {
                let server = Server {
                    listen: listen.clone(),
                    ..from_env()?
                };
                (None, Some(server))
            }
            _ => (None, None),
        };
        let site = site.map_or_else(from_env, Ok)?;
        let server = server.map_or_else(from_env, Ok)?;
        Config::new(store, site, server)
    }
}

/// Provider fields; on `update`, an omitted flag keeps the stored value.
#[derive(Debug, clap::Args, serde::Serialize)]
pub struct ProviderFields {
    /// Shown on the login button.
    #[arg(long)]
    pub name: Option<String>,
    /// An http(s) image URL or a data:image/...;base64,... image ("" for none).
    #[arg(long)]
    pub logo: Option<String>,
    /// Exactly as in the provider's discovery document.
    #[arg(long)]
    pub issuer_url: Option<String>,
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the client secret from standard input (one line).
    #[arg(long)]
    #[serde(skip)]
    pub client_secret_stdin: bool,
    /// The provider's settings.
    #[command(flatten)]
    #[serde(flatten)]
    pub settings: SettingsFlags,
}

/// One flag per provider setting (`portcullis::provider::ProviderSettings`), named as the
/// setting, so [`merge_flags`] maps them by name; on `update`, an omitted flag
/// keeps the stored value. A repeated flag fills a one-per-line setting.
#[derive(Debug, Default, clap::Args, serde::Serialize)]
pub struct SettingsFlags {
    /// Comma-separated; must include openid [default on add: openid, profile, email].
    #[arg(long)]
    pub scopes: Option<String>,
    /// Comma-separated claims that must be boolean true.
    #[arg(long)]
    pub required_claims: Option<String>,
    /// Comma-separated rules (the Required Claims syntax) that make a user signing in through
    /// this provider an administrator ("" for none: the provider grants no admin role).
    #[arg(long)]
    pub admin_claims: Option<String>,
    /// Create accounts for new identities.
    #[arg(long)]
    pub allow_new_users: Option<bool>,
    /// Show it on the login page.
    #[arg(long)]
    pub enabled: Option<bool>,
    /// The claim carrying the user's groups, a dotted path allowed (realm_access.roles)
    /// [default on add: groups; "" for none].
    #[arg(long)]
    pub groups_claim: Option<String>,
    /// Applications see this provider's groups as sent ("media"), like groups assigned in
    /// Portcullis, instead of "<slug>:media" [default on add: false]. Only for a provider
    /// where only administrators name groups (not Forgejo or Gitea organisations).
    #[arg(long)]
    pub groups_authoritative: Option<bool>,
    /// Token endpoint authentication: auto, client_secret_basic or client_secret_post.
    #[arg(long)]
    pub token_auth_method: Option<String>,
    /// Sign-out also signs out at the provider, when it has an end_session_endpoint
    /// [default on add: true].
    #[arg(long)]
    pub sign_out_at_provider: Option<bool>,
    /// Link a first sign-in to the local account with the same provider-verified email
    /// (never an administrator's; only a trusted email) [default on add: false]. Trusts
    /// the provider's email_verified: its emails are then trusted for linking and sent to
    /// applications as Remote-Email.
    #[arg(long)]
    pub link_by_email: Option<bool>,
    /// An extra authorization parameter, e.g. prompt=select_account, domain_hint=example.com,
    /// hd=example.com, kc_idp_hint=github; repeat for more. Replaces the stored list ("" for
    /// none). Parameters Portcullis sets or checks itself (state, scope, max_age...) are refused.
    #[arg(
        long = "auth-param",
        visible_alias = "auth-params",
        value_name = "NAME=VALUE"
    )]
    pub auth_params: Option<Vec<String>>,
    /// Whether a sign-in here counts as two factors where a second factor is required: amr
    /// (as the ID token's amr claim says), always or never [default on add: amr].
    #[arg(long, value_name = "amr|always|never")]
    pub second_factor: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Add a provider. The client secret comes from standard input.
    Add {
        /// Unique id (lowercase letters, digits, hyphens) [default: from the name].
        #[arg(long)]
        slug: Option<String>,
        #[command(flatten)]
        fields: ProviderFields,
    },
    /// Change a provider; omitted flags keep their values.
    Update {
        #[arg(long)]
        slug: String,
        #[command(flatten)]
        fields: ProviderFields,
    },
    /// Delete a provider and its linked accounts.
    Remove {
        #[arg(long)]
        slug: String,
    },
    /// List providers in login-page order.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    Enable,
    Disable,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local user. The password is read from standard input (one line); or, with
    /// --passkey-only, no password, and a one-time passkey enrolment link is printed.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Shown in the interface; defaults to the username.
        #[arg(long, default_value = "")]
        display_name: String,
        /// Read the password from standard input (required unless --passkey-only: passwords
        /// never go in argv).
        #[arg(long, required_unless_present = "passkey_only")]
        password_stdin: bool,
        /// No password: the account signs in with passkeys; prints a one-time link (24 hours)
        /// to enrol the first.
        #[arg(long, conflicts_with = "password_stdin")]
        passkey_only: bool,
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
    /// Break-glass: turn a user's one-time codes off (and drop their recovery codes), for
    /// someone who lost their authenticator and their recovery codes. Their next password
    /// sign-in asks for no code; they can set codes up again under Profile → Security.
    ResetSecondFactor {
        /// The user: username, email or id.
        #[arg(long)]
        user: String,
    },
    /// Print a one-time link (24 hours) that adds a passkey to a user's account and signs in
    /// with it: for passkey-only accounts, or anyone who lost theirs. A new link replaces the
    /// user's earlier one. Send it to the user over a channel you trust.
    PasskeyLink {
        /// The user: username, email or id.
        #[arg(long)]
        user: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Some(command) => command,
        None => Command::Serve(from_env()?),
    };
    let config = command.config(cli.store)?;
    config.trust_ca_file()?;
    // This process's commands and server write audit events unless the log is off.
    portcullis::ssr::audit::set_enabled(config.audit_retention_days > 0);
    match command {
        Command::Serve(_) => serve::run(config).await,
        Command::User(cmd) => user(&config, cmd).await,
        Command::Provider { command, .. } => crate::cli_provider::provider(&config, command).await,
        Command::Oidc(cmd) => crate::cli_provider::oidc(&config, cmd).await,
        Command::App { command, .. } => crate::cli_app::app(&config, command).await,
        Command::Group(cmd) => crate::cli_app::group(&config, cmd).await,
        Command::Session(cmd) => crate::cli_session::session(&config, cmd).await,
        Command::LoginMethods(cmd) => crate::cli_login_methods::login_methods(&config, cmd).await,
        Command::Keys(cmd) => crate::cli_keys::keys(&config, cmd).await,
        Command::Token(cmd) => crate::cli_token::token(&config, cmd).await,
        Command::Audit(cmd) => crate::cli_audit::audit(&config, cmd).await,
        Command::Healthcheck { timeout, .. } => healthcheck(&config, timeout).await,
    }
}

/// The address to reach a server listening on `listen`: an unspecified address (0.0.0.0,
/// `::`) is reached through loopback.
pub fn healthcheck_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, listen.port()))
}

async fn healthcheck(config: &Config, timeout: u64) -> anyhow::Result<()> {
    let url = healthcheck_url(config.listen);
    let client = portcullis::ssr::oidc::http::builder()
        .timeout(Duration::from_secs(timeout.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("asking {url}"))?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        bail!("{url} answered {status}");
    }
    Ok(())
}

/// A listing's column: its header, and a row's cell in it.
pub type Column<T> = (&'static str, fn(&T) -> String);

/// [`print_list`] with the columns given as data, each header beside its cell.
pub fn print_table<T: serde::Serialize>(
    json: bool,
    list: &[T],
    columns: &[Column<T>],
) -> anyhow::Result<()> {
    let headers: Vec<&str> = columns.iter().map(|(header, _)| *header).collect();
    print_list(json, list, &headers, |row| {
        columns.iter().map(|(_, cell)| cell(row)).collect()
    })
}

/// A list as `list` commands print it: pretty JSON with `--json`, else a table: a header
/// line of `headers` and one `row` per item, each column as wide as its widest cell but the
/// last.
pub fn print_list<T: serde::Serialize>(
    json: bool,
    list: &[T],
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(list)?);
        return Ok(());
    }
    let mut lines = vec![headers.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    lines.extend(list.iter().map(row));
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            let cell = |l: &Vec<String>| l.get(i).map_or(0, |c| c.chars().count());
            lines.iter().map(cell).max().unwrap_or(0)
        })
        .collect();
    for cells in &lines {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < cells.len() {
                out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                out.push_str(cell);
            }
        }
        println!("{out}");
    }
    Ok(())
}

/// `target` with every flag given in `flags` in place of the field of its name, so that a new
/// field needs its flag and nothing here. A flag not given (`None`, or a repeatable flag not
/// used) keeps the field; a repeated flag fills a one-per-line field. Fields the target does
/// not serialize (`#[serde(skip)]`) come back as their defaults: set them afterwards.
pub fn merge_flags<T>(target: &T, flags: &impl serde::Serialize) -> anyhow::Result<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    use serde_json::Value;
    let mut merged = serde_json::to_value(target)?;
    let Value::Object(given) = serde_json::to_value(flags)? else {
        bail!("the flags are not a set of named values");
    };
    for (name, value) in given {
        merged[name] = match value {
            Value::Null => continue,
            Value::Array(lines) if lines.is_empty() => continue,
            Value::Array(lines) => Value::String(
                lines
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            value => value,
        };
    }
    Ok(serde_json::from_value(merged)?)
}

/// Reads one line from standard input, without its line ending.
pub fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading the {what} from standard input"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Field errors as command-line advice: `--flag: message`.
pub fn field_errors(what: &str, errors: &[portcullis::field::FieldError]) -> anyhow::Error {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message))
        .collect();
    anyhow::anyhow!("invalid {what}:\n  {}", lines.join("\n  "))
}

async fn user(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let db = serve::open_db(config).await?;
    match cmd {
        UserCommand::Add {
            username,
            email,
            display_name,
            password_stdin: _,
            passkey_only,
            admin,
        } => {
            let password = if passkey_only {
                String::new()
            } else {
                read_stdin_line("password")?
            };
            let account = NewAccount {
                username,
                email,
                display_name,
                password,
            };
            let account = if passkey_only {
                account.validate_passkey_only()
            } else {
                account.validate()
            }
            .map_err(|errors| field_errors("user", &errors))?;
            match users::create(
                &db,
                &account,
                admin,
                false,
                &portcullis::ssr::audit::Actor::cli(),
            )
            .await
            {
                Ok(user) => {
                    println!(
                        "created {} {} ({})",
                        if user.is_admin {
                            "administrator"
                        } else {
                            "user"
                        },
                        user.username,
                        user.id
                    );
                    if passkey_only {
                        print_passkey_link(config, &db, &user).await?;
                    }
                }
                Err(CreateUserError::Taken(field)) => bail!("that {field} is already taken"),
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List { json } => {
            let list = users::list(&db).await?;
            let views: Vec<_> = list.iter().map(|u| u.view()).collect();
            print_list(json, &views, &["ID", "USERNAME", "EMAIL", "ROLE"], |u| {
                let (email, role) = (u.email.clone(), if u.admin { "admin" } else { "user" });
                vec![
                    u.id.clone(),
                    u.username.clone(),
                    email.unwrap_or_default(),
                    role.into(),
                ]
            })?;
        }
        UserCommand::PasskeyLink { user } => {
            let user = crate::cli_session::find_user(&db, &user).await?;
            print_passkey_link(config, &db, &user).await?;
        }
        UserCommand::ResetSecondFactor { user } => {
            let user = crate::cli_session::find_user(&db, &user).await?;
            if portcullis::ssr::totp::remove(&db, &user.id, &portcullis::ssr::audit::Actor::cli())
                .await?
            {
                println!("removed the one-time codes of {}", user.username);
            } else {
                println!("{} had no one-time codes", user.username);
            }
        }
    }
    db.close().await;
    Ok(())
}

/// Makes `user`'s one-time passkey enrolment link and prints it.
async fn print_passkey_link(
    config: &Config,
    db: &portcullis::ssr::db::Db,
    user: &users::UserRow,
) -> anyhow::Result<()> {
    use portcullis::ssr::passkeys::{ENROLMENT_PATH, Passkeys, new_enrolment};
    let base = config.public_url();
    if Passkeys::new(&base).is_none() {
        bail!(
            "passkeys need a host name in --public-url (now {base}): browsers take no IP address as a passkey's site"
        );
    }
    let token = new_enrolment(db, &user.id, &portcullis::ssr::audit::Actor::cli()).await?;
    println!(
        "passkey enrolment link for {} (works once, for 24 hours):\n{base}{ENROLMENT_PATH}?token={token}",
        user.username
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::healthcheck_url;

    #[test]
    fn healthcheck_reaches_an_unspecified_address_through_loopback() {
        let url = |s: &str| healthcheck_url(s.parse().unwrap());
        assert_eq!(url("0.0.0.0:3000"), "http://127.0.0.1:3000/healthz");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080/healthz");
        assert_eq!(url("10.0.0.5:3000"), "http://10.0.0.5:3000/healthz");
    }

    /// Session handles are random base64url: one that begins with '-' is still the handle.
    #[test]
    fn a_session_handle_may_begin_with_a_hyphen() {
        use super::{Cli, Command};
        use crate::cli_session::SessionCommand;
        use clap::Parser;
        let cli = Cli::try_parse_from(["portcullis", "session", "revoke", "-pQx3_k9"]).unwrap();
        match cli.command {
            Some(Command::Session(SessionCommand::Revoke { handle, .. })) => {
                assert_eq!(handle.as_deref(), Some("-pQx3_k9"))
            }
            other => panic!("parsed as {other:?}"),
        }
    }
}
