//! `portcullis keys ...`: the OpenID Provider's signing keys. `list` shows them (never key
//! material); `rotate` publishes a next key that signs after `--after`, `rotate --now`
//! replaces a leaked key at once. Running servers see a change at their next reload (within
//! a minute, `portcullis::ssr::op::keys::RELOAD_EVERY`).

use crate::cli::print_table;
use crate::config::Config;
use crate::serve::open_db;
use anyhow::bail;
use clap::Subcommand;
use portcullis::sessions::utc_minute;
use portcullis::ssr::clock;
use portcullis::ssr::db::Db;
use portcullis::ssr::op::keys::{self, DEFAULT_ROTATE_AFTER};
use portcullis::ssr::op::signer::Alg;
use portcullis::ssr::secrets::SecretBox;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys: kid, algorithm, state (next, current, retired) and dates.
    List {
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Publish a next key now; it signs after --after, when the current key retires and stays
    /// published until the tokens it signed have expired. --now replaces a leaked key at once.
    Rotate {
        /// Only this algorithm: rs256 or es256 [default: both].
        #[arg(long, value_parser = parse_alg)]
        alg: Option<Alg>,
        /// How long relying parties see the next key before it signs: 90s, 30m, 24h, 7d
        /// [default: 24h].
        #[arg(long, value_parser = parse_after, conflicts_with = "now")]
        after: Option<i64>,
        /// For a key that leaked: a fresh key signs at once and every other key of the
        /// algorithm leaves the JWKS at once (tokens they signed stop verifying).
        #[arg(long)]
        now: bool,
    },
}

fn parse_alg(s: &str) -> Result<Alg, String> {
    Alg::parse(s).ok_or_else(|| format!("{s:?} is not rs256 or es256"))
}

/// `<n>s`, `<n>m`, `<n>h` or `<n>d` (a bare number is seconds), in seconds.
fn parse_after(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (n, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 30m, 24h or 7d"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?} is not a duration like 90s, 30m, 24h or 7d")),
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("{s:?} is too long"))
}

pub async fn keys(config: &Config, cmd: KeysCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let result = run(&db, &config.secrets()?, cmd).await;
    db.close().await;
    result
}

async fn run(db: &Db, secrets: &SecretBox, cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::List { json } => {
            let list = keys::list(db).await?;
            if list.is_empty() && !json {
                println!("no keys yet: the server makes them when it first starts");
            } else {
                print_table(
                    json,
                    &list,
                    &[
                        ("KID", |k| k.kid.clone()),
                        ("ALG", |k| k.alg.clone()),
                        ("STATE", |k| k.state.clone()),
                        ("CREATED", |k| utc_minute(k.created_at)),
                        ("SIGNS FROM", |k| utc_minute(k.signs_from)),
                        ("UNPUBLISHED", |k| {
                            k.unpublish_at.map(utc_minute).unwrap_or_default()
                        }),
                    ],
                )?;
            }
        }
        KeysCommand::Rotate { alg, after, now } => {
            let algs = match alg {
                Some(alg) => vec![alg],
                None => Alg::ALL.to_vec(),
            };
            let at = clock::now();
            let mut failed = Vec::new();
            for alg in algs {
                let done = if now {
                    keys::rotate_now(db, secrets, alg, at).await
                } else {
                    let after = after.unwrap_or(DEFAULT_ROTATE_AFTER);
                    keys::rotate(db, secrets, alg, at, after).await
                };
                match done {
                    Ok(k) if now => println!(
                        "{} key {} signs now; earlier {} keys are deleted (running servers \
                         switch within a minute)",
                        k.alg, k.kid, k.alg
                    ),
                    Ok(k) => println!(
                        "published {} key {}; it signs from {}",
                        k.alg,
                        k.kid,
                        utc_minute(k.signs_from)
                    ),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            if !failed.is_empty() {
                bail!("{}", failed.join("\n"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_after;

    #[test]
    fn durations() {
        assert_eq!(parse_after("90"), Ok(90));
        assert_eq!(parse_after("90s"), Ok(90));
        assert_eq!(parse_after("30m"), Ok(1800));
        assert_eq!(parse_after("24h"), Ok(86_400));
        assert_eq!(parse_after("7d"), Ok(604_800));
        assert!(parse_after("1w").is_err());
        assert!(parse_after("-5s").is_err());
        assert!(parse_after("h").is_err());
    }
}
