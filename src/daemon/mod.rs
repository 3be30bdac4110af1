//! The daemon: wires the adapters to the core and runs them as tokio tasks under one
//! cancellation token. SIGTERM or SIGINT stops intake, lets in-flight work finish within the
//! configured deadline, and returns so the process exits 0. SIGHUP reads the config again and,
//! when it passes the same checks as `check-config`, restarts the tasks with it; when it does not,
//! the daemon says why and goes on with the config it has.

mod actions;
mod bounces;
mod change;
pub mod clock;
mod commands;
pub mod deliver;
mod digest;
pub mod fax;
mod follow_ups;
pub mod health;
pub mod http;
pub mod intake;
mod metrics;
pub mod notify;
pub mod package;
mod replies;
mod request_commands;
pub mod schedule;
mod status;
pub mod watch;

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{InboxSource, Settings};
use crate::mail::imap::ImapInbox;
use crate::mail::maildir::Maildir;
use crate::mail::send::Sender;
use crate::store::Store;

/// Runs until SIGTERM/SIGINT, reloading the config on SIGHUP.
pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let systemd = notify::Systemd::from_environment();
    let (mut term, mut int, mut hup) =
        (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?, signal(SignalKind::hangup())?);
    loop {
        let round = CancellationToken::new();
        let mut task =
            tokio::spawn(run_round(settings.clone(), round.clone(), clock::Clock::system(), systemd.clone()));
        let next = loop {
            tokio::select! {
                ended = &mut task => return ended?,
                _ = term.recv() => info!(signal = "SIGTERM", "shutdown requested"),
                _ = int.recv() => info!(signal = "SIGINT", "shutdown requested"),
                _ = hup.recv() => match crate::config::load(&settings.source) {
                    Ok(next) if next.unreadable_secrets().is_empty() => break next,
                    Ok(next) => {
                        let problems = next.unreadable_secrets().join("; ");
                        warn!(problems, "config not reloaded: a secret cannot be read; going on with the running config");
                        continue;
                    }
                    Err(e) => {
                        let problems = e.to_string().lines().skip(1).map(str::trim).collect::<Vec<_>>().join("; ");
                        warn!(problems, "config not reloaded: the file has problems; going on with the running config");
                        continue;
                    }
                },
            }
            systemd.notify("STOPPING=1");
            round.cancel();
            return task.await?;
        };
        info!(config = %next.source.display(), "SIGHUP: config reloaded; restarting the tasks with it");
        systemd.notify("RELOADING=1");
        round.cancel();
        task.await??;
        settings = next;
    }
}

/// Runs until `cancel` fires.
pub async fn run_until(settings: Settings, cancel: CancellationToken) -> anyhow::Result<()> {
    run_with_clock(settings, cancel, clock::Clock::system()).await
}

/// Runs until `cancel` fires, on `clock`: the entry point for tests that move time forward.
pub async fn run_with_clock(settings: Settings, cancel: CancellationToken, clock: clock::Clock) -> anyhow::Result<()> {
    run_round(settings, cancel, clock, notify::Systemd::default()).await
}

/// One run of every task with one config, until `cancel`.
async fn run_round(
    settings: Settings,
    cancel: CancellationToken,
    clock: clock::Clock,
    systemd: notify::Systemd,
) -> anyhow::Result<()> {
    crate::mail::tls::install_crypto_provider();
    crate::mail::files::create_private_dir(&settings.documents)
        .with_context(|| format!("creating {}", settings.documents.display()))?;
    let gateway = Arc::new(
        crate::fax::FaxGateway::new(&settings.fax).map_err(anyhow::Error::msg).context("setting up the fax gateway")?,
    );
    let store = Store::open(&settings.database)
        .await
        .with_context(|| format!("opening the database {}", settings.database.display()))?;
    let sender = Sender::new(&settings.outgoing.transport).context("setting up outgoing mail")?;
    let outbox_wake = Arc::new(Notify::new());
    let settings = Arc::new(settings);
    let intake = intake::Intake::new(store.clone(), settings.clone(), outbox_wake.clone(), clock)?;
    // Fonts and the Typst library load once, before the first letter is due.
    tokio::task::spawn_blocking(crate::letters::warm_up);
    package::prepare_pending(&intake).await;
    let inbox_task = match &settings.inbox.source {
        InboxSource::Maildir { path, poll_interval } => {
            let maildir = Maildir::open(path).with_context(|| format!("opening the Maildir {}", path.display()))?;
            tokio::spawn(watch::maildir(maildir, intake.clone(), *poll_interval, cancel.clone()))
        }
        InboxSource::Imap(imap) => {
            let inbox = ImapInbox::new(imap).context("setting up the IMAP inbox")?;
            tokio::spawn(watch::imap(inbox, intake.clone(), imap.clone(), cancel.clone()))
        }
    };
    let (events, webhook_events) = tokio::sync::mpsc::channel(256);
    let http_task = match settings.http_listen {
        Some(addr) => {
            let webhooks = crate::fax::webhook::WebhookState::for_settings(&settings.fax, events.clone(), clock::now)
                .map_err(anyhow::Error::msg)?;
            let state = http::HttpState {
                store: store.clone(),
                health: intake.health.clone(),
                webhooks,
                clock: intake.clock.clone(),
                started: clock::now(),
            };
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
            info!(addr = %listener.local_addr()?, "http server listening (/healthz, /readyz, /metrics, fax webhooks)");
            let stop = cancel.clone();
            Some(tokio::spawn(async move {
                let served = axum::serve(listener, http::router(state))
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
                if let Err(e) = served {
                    warn!(error = %e, "the http server stopped");
                }
            }))
        }
        None => None,
    };
    let fax_task =
        tokio::spawn(fax::track(intake.clone(), gateway.clone(), webhook_events, settings.fax_poll, cancel.clone()));
    let deliver_task = tokio::spawn(deliver::run(intake.clone(), sender, gateway, cancel.clone()));
    let schedule_task = tokio::spawn(schedule::run(intake.clone(), cancel.clone()));
    let watchdog_task = tokio::spawn(notify::watchdog(systemd.clone(), intake.health.clone(), cancel.clone()));
    systemd.notify("STATUS=connecting to the inbox");
    tokio::select! {
        _ = intake.health.wait_connected() => {
            info!(version = env!("CARGO_PKG_VERSION"), "medrec ready");
            systemd.notify("READY=1\nSTATUS=running");
        }
        _ = cancel.cancelled() => {}
    }

    cancel.cancelled().await;
    info!(deadline_secs = settings.shutdown_deadline.as_secs(), "stopping: finishing work in hand");
    drop(events);
    let joined = tokio::time::timeout(settings.shutdown_deadline, async {
        let _ = inbox_task.await;
        let _ = deliver_task.await;
        let _ = fax_task.await;
        let _ = schedule_task.await;
        let _ = watchdog_task.await;
        if let Some(t) = http_task {
            let _ = t.await;
        }
    })
    .await;
    if joined.is_err() {
        warn!("work did not finish within the shutdown deadline; it resumes at the next start");
    }
    store.close().await;
    info!("stopped");
    Ok(())
}
