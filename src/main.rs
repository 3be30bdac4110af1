//! The `medrec` command: runs the daemon, checks the config, migrates the database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use medrec::config::{self, LogFormat, Settings};

#[derive(Parser)]
#[command(name = "medrec", version, about = "Runs a law firm's medical-records requests by email and fax")]
struct Cli {
    /// The config file [default: ./config/medrec.toml if present, else /etc/medrec/medrec.toml]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon until SIGTERM or SIGINT.
    Run,
    /// Validate the config, print a summary (no secrets), exit non-zero on error.
    CheckConfig,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Check everything medrec needs and print a checklist with what to fix: the config, the
    /// time zone, the database, file permissions, secrets, the IMAP login and folders, SMTP
    /// login, the fax gateway (a read-only call). Sends no mail unless --send-test-to; exits
    /// non-zero if any check fails.
    Doctor {
        /// Also send one short test message from the bot to this address.
        #[arg(long, value_name = "ADDRESS")]
        send_test_to: Option<String>,
    },
    /// What is due and when: each request's next follow-up or reminder, and the digests.
    Due {
        /// Show at most this many steps.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// The provider directory.
    #[command(subcommand)]
    Providers(ProvidersCommand),
    /// Classify stored replies (`.eml` files, `-` for stdin) offline; needs no config file.
    Classify {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "FILE.eml")]
        files: Vec<PathBuf>,
    },
    /// Copy the database and documents into a new folder under DIR, while the daemon runs.
    Backup { dir: PathBuf },
    /// Put a backup back: only while the daemon is stopped; refuses to overwrite an existing
    /// database unless --force.
    Restore {
        /// The backup folder (`medrec-backup-…`).
        from: PathBuf,
        /// Move the existing database and documents aside (`<name>.before-restore-<time>`) first.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ProvidersCommand {
    /// Add or update providers from a CSV file whose header names the columns: name, department,
    /// street, city, state, zip, phone, fax, email, preferred_method (fax|email|mail|portal), notes.
    Import { file: PathBuf },
    /// Print the directory.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Classify { json, files } = &cli.command {
        return medrec::classify_cli::run(*json, files);
    }
    let path = config::choose_path(cli.config.as_deref());
    let settings = match config::load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::CheckConfig => check_config(&settings),
        Command::Migrate => with_runtime(&settings, cli.log_json, migrate),
        Command::Doctor { send_test_to } => with_runtime(&settings, cli.log_json, |s| async move {
            if medrec::doctor::run(&s, send_test_to.as_deref()).await {
                Ok(())
            } else {
                anyhow::bail!("some checks failed (see the [FAIL] lines above)")
            }
        }),
        Command::Providers(ProvidersCommand::Import { file }) => {
            with_runtime(&settings, cli.log_json, |s| async move {
                let store = medrec::store::Store::open(&s.database).await?;
                let all_good = medrec::admin::import_providers(&store, &file).await?;
                store.close().await;
                if all_good { Ok(()) } else { anyhow::bail!("some rows were not imported (see above)") }
            })
        }
        Command::Providers(ProvidersCommand::List) => with_runtime(&settings, cli.log_json, |s| async move {
            let store = medrec::store::Store::open(&s.database).await?;
            medrec::admin::list_providers(&store).await?;
            store.close().await;
            Ok(())
        }),
        Command::Due { limit } => with_runtime(&settings, cli.log_json, |s| async move {
            let store = medrec::store::Store::open(&s.database).await?;
            medrec::admin::show_due(&store, &s, limit).await?;
            store.close().await;
            Ok(())
        }),
        Command::Backup { dir } => with_runtime(&settings, cli.log_json, |s| async move {
            println!("{}", medrec::backup::backup(&s, &dir).await?);
            Ok(())
        }),
        Command::Restore { from, force } => with_runtime(&settings, cli.log_json, |s| async move {
            println!("{}", medrec::backup::restore(&s, &from, force).await?);
            Ok(())
        }),
        Command::Classify { .. } => unreachable!("classify runs before the config is loaded"),
        Command::Run => with_runtime(&settings, cli.log_json, |s| async move { medrec::daemon::run(s).await }),
    }
}

fn check_config(settings: &Settings) -> ExitCode {
    println!("{}", settings.summary());
    for w in settings.warnings() {
        println!("warning: {w}");
    }
    println!("config OK");
    ExitCode::SUCCESS
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let store = medrec::store::Store::open(&settings.database).await?;
    store.close().await;
    tracing::info!("database is up to date");
    Ok(())
}

fn with_runtime<F, Fut>(settings: &Settings, log_json: bool, work: F) -> ExitCode
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    if let Err(e) = medrec::admin::refuse_root_on_service_state(&settings.database) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    // Database, WAL files, documents and outbox files hold patient data: owner-only.
    // SAFETY: umask only changes this process's file-creation mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    init_logging(if log_json { LogFormat::Json } else { settings.log_format });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work(settings.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "medrec stopped on an error");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("MEDREC_LOG").unwrap_or_else(|_| EnvFilter::new("medrec=info,warn"));
    // Colours only on a terminal: the journal and log files get plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
}
