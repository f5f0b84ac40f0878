//! `portcullis audit list`: the audit log from a shell, by the same filters as Settings →
//! Audit log (`portcullis::ssr::audit::list`); with `--json`, one JSON object per line (JSON
//! Lines), the export.

use crate::cli::print_list;
use crate::config::Config;
use crate::serve::open_db;
use anyhow::bail;
use clap::Subcommand;
use portcullis::audit::{AuditEvent, AuditFilter, EventKind, MAX_LIMIT};
use portcullis::sessions::{parse_utc_date, utc_datetime};
use portcullis::ssr::audit;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first: a table, or JSON Lines with --json (an export:
    /// `portcullis audit list --json --limit 0 > audit.jsonl`).
    List {
        /// Events by or about this user: a username, email or id.
        #[arg(long)]
        user: Option<String>,
        /// Only this kind of event, e.g. sign_in_failed.
        #[arg(long, value_parser = parse_event)]
        event: Option<EventKind>,
        /// From this day on (YYYY-MM-DD, UTC).
        #[arg(long, value_parser = parse_day)]
        since: Option<i64>,
        /// Up to this day, inclusive (YYYY-MM-DD, UTC).
        #[arg(long, value_parser = parse_day)]
        until: Option<i64>,
        /// At most this many events; 0 for all.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print one JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_event(s: &str) -> Result<EventKind, String> {
    EventKind::parse(s).ok_or_else(|| {
        let names: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
        format!("no such event; one of: {}", names.join(", "))
    })
}

fn parse_day(s: &str) -> Result<i64, String> {
    parse_utc_date(s).ok_or_else(|| "a date as YYYY-MM-DD, e.g. 2026-12-01".to_owned())
}

pub async fn audit(config: &Config, cmd: AuditCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let AuditCommand::List {
        user,
        event,
        since,
        until,
        limit,
        json,
    } = cmd;
    if let (Some(s), Some(u)) = (since, until)
        && u < s
    {
        bail!("--until must not be before --since");
    }
    let filter = AuditFilter {
        user,
        event,
        since,
        until: until.map(|d| d + 86_400),
        page: None,
        limit: MAX_LIMIT,
    };
    let max = if limit == 0 {
        u64::MAX
    } else {
        u64::from(limit)
    };
    let events = audit::all(&db, &filter, max).await;
    db.close().await;
    let events = events?;
    if json {
        print!("{}", audit::json_lines(&events));
        return Ok(());
    }
    let headers = ["TIME", "EVENT", "ACTOR", "CLIENT", "TARGET", "DETAILS"];
    print_list(false, &events, &headers, |e: &AuditEvent| {
        vec![
            utc_datetime(e.at),
            e.event.name().to_owned(),
            e.by.actor.clone(),
            e.by.client.clone().unwrap_or_else(|| "-".into()),
            e.target.clone().unwrap_or_else(|| "-".into()),
            e.details_line(),
        ]
    })
}
