//! The outbox sender: sends what is due, oldest first, and sleeps until the next entry falls
//! due or intake wakes it. Each attempt is recorded, with its retry time, before it is made.

use std::sync::Arc;
use std::time::Duration;

use super::clock::Clock;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::Outgoing;
use crate::fax::FaxGateway;
use crate::mail::send::{SendError, Sender};
use crate::store::{PendingEmail, Store};

const FIRST_RETRY: Duration = Duration::from_secs(30);
const IDLE_CHECK: Duration = Duration::from_secs(60);
/// The outbox sender's name for the watchdog.
pub(super) const LOOP: &str = "outbox";
/// Longest one email or fax hand-over may take (beyond the watchdog's grace).
pub(super) const SEND_AT_MOST: Duration = Duration::from_secs(300);

pub async fn run(intake: super::intake::Intake, sender: Sender, gateway: Arc<FaxGateway>, cancel: CancellationToken) {
    let (store, wake, clock, health) =
        (intake.store.clone(), intake.outbox_wake.clone(), intake.clock.clone(), intake.health.clone());
    loop {
        // A burst of sends reports in per entry; see `send_one`.
        health.beat(LOOP, SEND_AT_MOST);
        if let Err(e) = send_due(&intake, &sender, &cancel).await {
            warn!(error = %e, "reading the outbox failed; trying again shortly");
        }
        if let Err(e) = super::fax::send_due(&intake, &gateway, &cancel).await {
            warn!(error = format!("{e:#}"), "sending faxes failed; trying again shortly");
        }
        if cancel.is_cancelled() {
            return health.finished(LOOP);
        }
        let pause = match store.next_outbox_due().await {
            Ok(Some(at)) => (at - clock.now()).to_std().unwrap_or(Duration::ZERO).min(IDLE_CHECK),
            Ok(None) => IDLE_CHECK,
            Err(_) => Duration::from_secs(5),
        };
        health.beat(LOOP, pause);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = wake.notified() => {}
            _ = cancel.cancelled() => return health.finished(LOOP),
        }
    }
}

/// Sends every email that is due, oldest first, until none is or `cancel` fires.
pub async fn send_due(
    intake: &super::intake::Intake,
    sender: &Sender,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let (store, settings, clock) = (&intake.store, &intake.settings.outgoing, &intake.clock);
    loop {
        let due = store.due_emails(clock.now(), 20).await?;
        if due.is_empty() {
            return Ok(());
        }
        for email in due {
            if cancel.is_cancelled() {
                return Ok(());
            }
            intake.health.beat(LOOP, SEND_AT_MOST);
            send_one(store, sender, settings, clock, &email).await?;
        }
    }
}

async fn send_one(
    store: &Store,
    sender: &Sender,
    settings: &Outgoing,
    clock: &Clock,
    email: &PendingEmail,
) -> anyhow::Result<()> {
    let now = clock.now();
    let request = email.request.map(|r| r.to_string());
    if !store.begin_attempt(email.outbox_id, retry_at(now, email.attempts, settings.retry_max), now).await? {
        info!(outbox = email.outbox_id, request, "email not sent: withdrawn, its request was cancelled");
        return Ok(());
    }
    match sender.send(email).await {
        Ok(()) => {
            store.mark_sent(email.outbox_id, clock.now()).await?;
            info!(outbox = email.outbox_id, request, attempts = email.attempts + 1, "email sent");
        }
        Err(SendError::Transient(e)) if gave_up(email, now, settings) => {
            store.mark_failed(email.outbox_id, &e).await?;
            error!(outbox = email.outbox_id, request, error = %e, "email not sent: still failing after the retry period");
        }
        Err(SendError::Transient(e)) => {
            store.mark_retry(email.outbox_id, &e).await?;
            warn!(outbox = email.outbox_id, request, error = %e, "email not sent yet; will retry");
        }
        Err(SendError::Permanent(e)) => {
            store.mark_failed(email.outbox_id, &e).await?;
            error!(outbox = email.outbox_id, request, error = %e, "email refused for good");
        }
    }
    Ok(())
}

fn gave_up(email: &PendingEmail, now: DateTime<Utc>, settings: &Outgoing) -> bool {
    (now - email.created_at).to_std().is_ok_and(|age| age >= settings.give_up_after)
}

/// When to retry after `attempts` earlier attempts: 30 s doubling, capped, with jitter.
fn retry_at(now: DateTime<Utc>, attempts: i64, cap: Duration) -> DateTime<Utc> {
    let doubled = FIRST_RETRY.saturating_mul(1u32 << attempts.clamp(0, 16) as u32).min(cap);
    let delay = super::watch::jitter(doubled);
    now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_the_cap() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let cap = Duration::from_secs(3600);
        let first = (retry_at(now, 0, cap) - now).num_seconds();
        assert!((24..=36).contains(&first), "{first}");
        let fifth = (retry_at(now, 4, cap) - now).num_seconds();
        assert!((384..=576).contains(&fifth), "{fifth}");
        let late = (retry_at(now, 40, cap) - now).num_seconds();
        assert!((2880..=4320).contains(&late), "{late}");
    }
}
