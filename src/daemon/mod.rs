//! The daemon: wires the adapters to the core and runs them as tokio tasks under one
//! cancellation token. SIGTERM or SIGINT stops intake, lets in-flight work finish within the
//! configured deadline, and returns so the process exits 0.

mod actions;
mod bounces;
mod change;
pub mod clock;
mod commands;
pub mod deliver;
mod digest;
pub mod fax;
mod follow_ups;
pub mod intake;
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

/// Runs until SIGTERM/SIGINT.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let cancel = CancellationToken::new();
    let signals = tokio::spawn(stop_on_signal(cancel.clone()));
    let result = run_until(settings, cancel).await;
    signals.abort();
    result
}

/// Runs until `cancel` fires.
pub async fn run_until(settings: Settings, cancel: CancellationToken) -> anyhow::Result<()> {
    run_with_clock(settings, cancel, clock::Clock::system()).await
}

/// Runs until `cancel` fires, on `clock`: the entry point for tests that move time forward.
pub async fn run_with_clock(settings: Settings, cancel: CancellationToken, clock: clock::Clock) -> anyhow::Result<()> {
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
            let state = crate::fax::webhook::WebhookState::for_settings(&settings.fax, events.clone(), clock::now)
                .map_err(anyhow::Error::msg)?;
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
            info!(%addr, "webhook server listening");
            let stop = cancel.clone();
            Some(tokio::spawn(async move {
                let served = axum::serve(listener, crate::fax::webhook::router(state))
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
                if let Err(e) = served {
                    warn!(error = %e, "the webhook server stopped");
                }
            }))
        }
        None => None,
    };
    let fax_task =
        tokio::spawn(fax::track(intake.clone(), gateway.clone(), webhook_events, settings.fax_poll, cancel.clone()));
    let deliver_task = tokio::spawn(deliver::run(intake.clone(), sender, gateway, cancel.clone()));
    let schedule_task = tokio::spawn(schedule::run(intake.clone(), cancel.clone()));
    info!(version = env!("CARGO_PKG_VERSION"), "medrec ready");

    cancel.cancelled().await;
    info!(deadline_secs = settings.shutdown_deadline.as_secs(), "stopping: finishing work in hand");
    drop(events);
    let joined = tokio::time::timeout(settings.shutdown_deadline, async {
        let _ = inbox_task.await;
        let _ = deliver_task.await;
        let _ = fax_task.await;
        let _ = schedule_task.await;
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

async fn stop_on_signal(cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        warn!("cannot listen for signals; stop the daemon with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => info!(signal = "SIGTERM", "shutdown requested"),
        _ = int.recv() => info!(signal = "SIGINT", "shutdown requested"),
    }
    cancel.cancel();
}
