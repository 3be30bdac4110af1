//! The daemon: wires the adapters to the core and runs them as tokio tasks under one
//! cancellation token. SIGTERM or SIGINT stops intake, lets in-flight work finish within the
//! configured deadline, and returns so the process exits 0.

pub mod clock;
mod commands;
pub mod deliver;
pub mod intake;
pub mod package;
mod replies;
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

/// Runs until `cancel` fires; the entry point for tests too.
pub async fn run_until(settings: Settings, cancel: CancellationToken) -> anyhow::Result<()> {
    crate::mail::tls::install_crypto_provider();
    crate::mail::files::create_private_dir(&settings.documents)
        .with_context(|| format!("creating {}", settings.documents.display()))?;
    let crate::config::Fax::Directory { path: fax_dir } = &settings.fax;
    crate::mail::files::create_private_dir(fax_dir).with_context(|| format!("creating {}", fax_dir.display()))?;
    let store = Store::open(&settings.database)
        .await
        .with_context(|| format!("opening the database {}", settings.database.display()))?;
    let sender = Sender::new(&settings.outgoing.transport).context("setting up outgoing mail")?;
    let outbox_wake = Arc::new(Notify::new());
    let settings = Arc::new(settings);
    let intake = intake::Intake::new(store.clone(), settings.clone(), outbox_wake.clone())?;
    // Fonts and the Typst library load once, before the first letter is due.
    tokio::task::spawn_blocking(crate::letters::warm_up);
    package::prepare_pending(&intake).await;
    let inbox_task = match &settings.inbox.source {
        InboxSource::Maildir { path, poll_interval } => {
            let maildir = Maildir::open(path).with_context(|| format!("opening the Maildir {}", path.display()))?;
            tokio::spawn(watch::maildir(maildir, intake, *poll_interval, cancel.clone()))
        }
        InboxSource::Imap(imap) => {
            let inbox = ImapInbox::new(imap).context("setting up the IMAP inbox")?;
            tokio::spawn(watch::imap(inbox, intake, imap.clone(), cancel.clone()))
        }
    };
    let deliver_task =
        tokio::spawn(deliver::run(store.clone(), sender, outbox_wake, settings.outgoing.clone(), cancel.clone()));
    info!(version = env!("CARGO_PKG_VERSION"), "medrec ready");

    cancel.cancelled().await;
    info!(deadline_secs = settings.shutdown_deadline.as_secs(), "stopping: finishing work in hand");
    let joined = tokio::time::timeout(settings.shutdown_deadline, async {
        let _ = inbox_task.await;
        let _ = deliver_task.await;
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
