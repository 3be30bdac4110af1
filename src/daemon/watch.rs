//! The inbox watchers: take every waiting message through intake, then mark it processed on
//! its server (IMAP: move to `Processed`; Maildir: `new/` → `cur/`) only after the store has
//! committed it. A crash between the two leaves the message waiting; the next pass recognises
//! it (by place or Message-ID) and only moves it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::intake::Intake;
use crate::config::Imap;
use crate::mail::imap::{Connection, ImapInbox, Wake};
use crate::mail::maildir::Maildir;
use crate::store::Place;

/// Watches a local Maildir, looking at `new/` every `poll`.
pub async fn maildir(maildir: Maildir, intake: Intake, poll: Duration, cancel: CancellationToken) {
    let mailbox = maildir.mailbox_name();
    let health = intake.health.clone();
    health.inbox_named(&mailbox);
    info!("watching the local Maildir inbox");
    loop {
        health.beat(LOOP, poll);
        match maildir_pass(&maildir, &mailbox, &intake, &cancel).await {
            Ok(()) => {
                health.inbox_connected();
                health.inbox_polled(intake.clock.now());
            }
            Err(e) => {
                health.inbox_lost(false);
                warn!(error = %e, "reading the Maildir inbox failed; trying again shortly");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = cancel.cancelled() => return health.finished(LOOP),
        }
    }
}

/// The inbox watcher's name for the watchdog.
const LOOP: &str = "inbox";

async fn maildir_pass(
    maildir: &Maildir,
    mailbox: &str,
    intake: &Intake,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    for entry in maildir.waiting()? {
        if cancel.is_cancelled() {
            break;
        }
        let raw = maildir.read(&entry)?;
        let place = Place { mailbox: mailbox.to_string(), uidvalidity: None, uid: None };
        intake.take(place, &raw).await?;
        maildir.mark_processed(&entry)?;
    }
    Ok(())
}

/// Watches an IMAP folder, reconnecting with capped, jittered backoff whenever the connection
/// fails; never returns before `cancel`.
pub async fn imap(inbox: ImapInbox, intake: Intake, settings: Imap, cancel: CancellationToken) {
    let health = intake.health.clone();
    health.inbox_named(&inbox.mailbox_name());
    let mut delay = Duration::from_secs(1);
    while !cancel.is_cancelled() {
        let mut connected = false;
        // Connect, log in, select: three commands, each within the command timeout.
        health.beat(LOOP, settings.command_timeout * 3);
        match imap_session(&inbox, &intake, &settings, &cancel, &mut connected).await {
            Ok(()) => return health.finished(LOOP),
            Err(e) => {
                if connected {
                    delay = Duration::from_secs(1);
                }
                health.inbox_lost(true);
                let wait = jitter(delay);
                let reconnects = health.inbox().reconnects;
                warn!(error = %e, retry_in_ms = wait.as_millis() as u64, reconnects, "inbox connection failed; reconnecting");
                health.beat(LOOP, wait);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = cancel.cancelled() => return health.finished(LOOP),
                }
                delay = (delay * 2).min(settings.reconnect_max);
            }
        }
    }
}

async fn imap_session(
    inbox: &ImapInbox,
    intake: &Intake,
    settings: &Imap,
    cancel: &CancellationToken,
    connected: &mut bool,
) -> anyhow::Result<()> {
    let mut conn = inbox.connect().await?;
    *connected = true;
    let mailbox = inbox.mailbox_name();
    let before = intake.store.note_uidvalidity(&mailbox, conn.uidvalidity.into(), intake.clock.now()).await?;
    if before.is_some_and(|b| b != i64::from(conn.uidvalidity)) {
        info!(
            uidvalidity = conn.uidvalidity,
            "the folder's UIDVALIDITY changed; messages are recognised by Message-ID"
        );
    }
    info!(uidvalidity = conn.uidvalidity, "inbox connected");
    intake.health.inbox_connected();
    let mut announced = false;
    loop {
        imap_pass(&mut conn, &mailbox, intake, cancel).await?;
        intake.health.inbox_polled(intake.clock.now());
        if cancel.is_cancelled() {
            conn.logout().await;
            return Ok(());
        }
        if !announced {
            info!("waiting for new mail");
            announced = true;
        }
        // IDLE (or the poll pause) ends within its timeout, and DONE within the command timeout.
        let longest = settings.idle_timeout.max(settings.poll_interval) + settings.command_timeout;
        intake.health.beat(LOOP, longest);
        let (next, wake) = conn.wait(cancel, settings.idle_timeout, settings.poll_interval).await?;
        conn = next;
        if wake == Wake::Cancelled {
            conn.logout().await;
            return Ok(());
        }
    }
}

async fn imap_pass(
    conn: &mut Connection,
    mailbox: &str,
    intake: &Intake,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    for uid in conn.uids().await? {
        if cancel.is_cancelled() {
            break;
        }
        let place =
            Place { mailbox: mailbox.to_string(), uidvalidity: Some(conn.uidvalidity.into()), uid: Some(uid.into()) };
        intake.health.beat(LOOP, Duration::ZERO);
        if !intake.store.seen_place(&place).await? {
            let Some(raw) = conn.fetch(uid).await? else { continue };
            intake.take(place, &raw).await?;
        }
        conn.move_to_processed(uid).await?;
    }
    Ok(())
}

/// `d` ± 20 %, so many daemons (or retries) do not fire in step.
pub fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.8 + fastrand::f64() * 0.4)
}
