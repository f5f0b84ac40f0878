use clap::Parser;
use portcullis_server::cli::{self, Cli, Command};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

// Server-side rendering allocates many short-lived strings; mimalloc serves them faster
// than the system allocator and returns memory to the OS more readily.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, None | Some(Command::Serve(_))));
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs as plain text, or one JSON object per line with `PORTCULLIS_LOG_FORMAT=json` (for
/// log collectors). The server logs to standard output, as containers expect; the
/// administrative subcommands log to standard error, keeping their output (tables, JSON)
/// on standard output clean.
fn init_logging(serving: bool) {
    let filter = EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let format = std::env::var("PORTCULLIS_LOG_FORMAT").unwrap_or_default();
    let json = match format.trim().to_ascii_lowercase().as_str() {
        "json" => true,
        "" | "text" => false,
        other => {
            eprintln!(
                "portcullis: PORTCULLIS_LOG_FORMAT={other:?} is not text or json; using text"
            );
            false
        }
    };
    // Colours only on a terminal: a container's log (a pipe) gets plain text.
    let ansi = if serving {
        std::io::stdout().is_terminal()
    } else {
        std::io::stderr().is_terminal()
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    match (json, serving) {
        (true, true) => builder.json().with_writer(std::io::stdout).init(),
        (true, false) => builder.json().with_writer(std::io::stderr).init(),
        (false, true) => builder.with_writer(std::io::stdout).init(),
        (false, false) => builder.with_writer(std::io::stderr).init(),
    }
}
