//! Faxes: sending due submissions through the gateway, following their delivery (webhooks, with
//! polling as the fallback), retrying line failures on our own schedule, telling the owner when
//! a fax fails for good, and handing inbound faxes to staff for triage with the PDF attached.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::intake::{Intake, outgoing};
use crate::core::inbound::{Attachment, AutoSubmitted, OutgoingMail};
use crate::core::provider::display_fax;
use crate::fax::webhook::WebhookEvent;
use crate::fax::{FailureClass, FaxError, FaxGateway, FaxJob, FaxStatus, InboundMedia, next_retry};
use crate::store::{Effect, FaxChange, NewInbound, Place, SentFax};

/// What a status report means for a fax that has had `attempts` attempts.
pub fn change_for(status: &FaxStatus, attempts: u32, schedule: &[Duration], now: DateTime<Utc>) -> FaxChange {
    match status {
        FaxStatus::Queued => FaxChange::Progress("queued"),
        FaxStatus::Sending => FaxChange::Progress("sending"),
        FaxStatus::Delivered { pages } => FaxChange::Delivered { pages: *pages },
        FaxStatus::Failed { class: FailureClass::Retryable, reason } => match next_retry(attempts, schedule) {
            Some(wait) => FaxChange::Retry {
                at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
                reason: reason.clone(),
            },
            None => FaxChange::Failed { reason: format!("{reason} (still failing after {attempts} attempts)") },
        },
        FaxStatus::Failed { class, reason } => {
            FaxChange::Failed { reason: format!("{reason} ({})", class_words(*class)) }
        }
    }
}

fn class_words(class: FailureClass) -> &'static str {
    match class {
        FailureClass::Retryable => "the line",
        FailureClass::BadNumber => "the fax number is invalid or out of service",
        FailureClass::BadDocument => "the gateway could not read the document",
        FailureClass::Account => "our fax account refused it",
        FailureClass::Other => "the gateway gave no usable reason",
    }
}

/// Sends every fax that is due. Each attempt is recorded, with a retry time, before it is made.
pub async fn send_due(intake: &Intake, gateway: &FaxGateway, cancel: &CancellationToken) -> anyhow::Result<()> {
    let now = intake.clock.now();
    for fax in intake.store.due_faxes(now, 10).await? {
        if cancel.is_cancelled() {
            break;
        }
        // Faxes are sent by the outbox sender's loop: each one reports in for it.
        intake.health.beat(super::deliver::LOOP, super::deliver::SEND_AT_MOST);
        if !intake.store.begin_attempt(fax.outbox_id, now + chrono::Duration::minutes(15), now).await? {
            let request = fax.request.map(|r| r.to_string());
            info!(outbox = fax.outbox_id, request, "fax not sent: withdrawn, its request was cancelled");
            continue;
        }
        let attempt = fax.attempts + 1;
        let pdf = tokio::fs::read(&fax.document_path).await?;
        let job_for = |n: i64| FaxJob {
            to: fax.to.clone(),
            pdf: pdf.clone(),
            reference: fax.request.map(|r| r.to_string()).unwrap_or_else(|| "medrec".into()),
            idempotency_key: format!("o{}-a{n}", fax.outbox_id),
        };
        // The last submit timed out: the gateway may have taken it. Follow that fax instead of
        // sending a second one.
        if let Some(since) = fax.uncertain_since {
            match gateway.find_sent(&job_for(fax.attempts), since).await {
                Ok(Some(found)) => {
                    intake.store.fax_accepted(fax.outbox_id, &found.gateway_id, intake.clock.now()).await?;
                    info!(outbox = fax.outbox_id, gateway_id = %found.gateway_id, "fax found at the gateway after a timeout; not sent again");
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    intake.store.fax_uncertain(fax.outbox_id, since, &e.to_string()).await?;
                    warn!(outbox = fax.outbox_id, error = %e, "cannot ask the gateway about a timed-out fax; not sending again yet");
                    continue;
                }
            }
        }
        let job = job_for(attempt);
        match gateway.submit(&job).await {
            Ok(submitted) => {
                intake.store.fax_accepted(fax.outbox_id, &submitted.gateway_id, intake.clock.now()).await?;
                info!(outbox = fax.outbox_id, request = ?fax.request.map(|r| r.to_string()), gateway = gateway.name(), gateway_id = %submitted.gateway_id, "fax accepted by the gateway");
                // The directory stand-in delivers at once; real gateways report later.
                if let FaxGateway::Directory(_) = gateway {
                    follow(intake, gateway, &submitted.gateway_id).await?;
                }
            }
            // A timeout may mean the gateway has it: the attempt stays recorded and is retried
            // at the time set above (see the closing note on duplicate sends).
            Err(FaxError::Transient(e)) => {
                intake.store.fax_uncertain(fax.outbox_id, now, &e).await?;
                warn!(outbox = fax.outbox_id, error = %e, "fax not accepted yet; will retry");
            }
            Err(FaxError::Permanent(e)) => {
                let sent = SentFax {
                    outbox_id: fax.outbox_id,
                    request: fax.request,
                    to: fax.to.clone(),
                    gateway_id: String::new(),
                    status: "failed".into(),
                    attempts: attempt,
                };
                apply(intake, &sent, FaxChange::Failed { reason: e.clone() }).await?;
                error!(outbox = fax.outbox_id, error = %e, "fax refused by the gateway");
            }
        }
    }
    Ok(())
}

/// Asks the gateway about one fax and applies the answer.
async fn follow(intake: &Intake, gateway: &FaxGateway, gateway_id: &str) -> anyhow::Result<()> {
    let Some(fax) = intake.store.fax_by_gateway_id(gateway_id).await? else { return Ok(()) };
    match gateway.lookup(gateway_id).await {
        Ok(status) => update(intake, gateway, &fax, &status).await,
        Err(e) => {
            warn!(gateway_id, error = %e, "fax status lookup failed; asking again later");
            Ok(())
        }
    }
}

/// Applies a status to a fax unless it is older news than what we know.
async fn update(intake: &Intake, gateway: &FaxGateway, fax: &SentFax, status: &FaxStatus) -> anyhow::Result<()> {
    let current = match fax.status.as_str() {
        "sending" => FaxStatus::Sending,
        "delivered" => FaxStatus::Delivered { pages: None },
        "failed" => return Ok(()),
        _ => FaxStatus::Queued,
    };
    if !status.supersedes(&current) {
        return Ok(());
    }
    let change = change_for(status, fax.attempts.max(0) as u32, gateway.retry_schedule(), intake.clock.now());
    info!(outbox = fax.outbox_id, request = ?fax.request.map(|r| r.to_string()), change = ?change, "fax status");
    apply(intake, fax, change).await
}

async fn apply(intake: &Intake, fax: &SentFax, change: FaxChange) -> anyhow::Result<()> {
    let now = intake.clock.now();
    let notice = match (&change, fax.request) {
        (FaxChange::Failed { reason }, Some(reference)) => match intake.store.request_detail(reference).await? {
            Some(detail) => Some(intake.compose(
                &OutgoingMail {
                    to: vec![detail.owner.clone()],
                    subject: format!("Fax not delivered to {}", detail.provider.entry.name),
                    body: format!(
                        "The fax with {reference}'s request package to {} at {} could not be delivered:\n\n    {reason}\n\n\
                         The provider has not received the request. Check the fax number in the directory (PROVIDER FIND \
                         {}), or send the package another way.\n",
                        detail.provider.entry.name,
                        display_fax(&fax.to),
                        detail.provider.entry.name
                    ),
                    in_reply_to: detail.origin_message_id.clone(),
                    references: detail.origin_message_id.clone().into_iter().collect(),
                    reference: Some(reference),
                    auto_submitted: AutoSubmitted::AutoGenerated,
                    attachments: Vec::new(),
                },
                now,
            )?),
            None => None,
        },
        _ => None,
    };
    intake.store.apply_fax_change(fax, &change, notice.as_ref().map(|n| outgoing(n, None)).as_ref(), now).await?;
    if notice.is_some() || matches!(change, FaxChange::Retry { .. }) {
        intake.outbox_wake.notify_one();
    }
    Ok(())
}

/// Follows faxes in flight: webhook events as they come, and a poll of every fax in flight each
/// `poll` (the fallback when webhooks are off or lost).
pub async fn track(
    intake: Intake,
    gateway: Arc<FaxGateway>,
    mut events: mpsc::Receiver<WebhookEvent>,
    poll: Duration,
    cancel: CancellationToken,
) {
    loop {
        // Following one fax is a gateway call or two, each within the HTTP timeout.
        intake.health.beat("faxes", poll);
        let result = tokio::select! {
            Some(event) = events.recv() => on_event(&intake, &gateway, event).await,
            _ = tokio::time::sleep(poll) => poll_in_flight(&intake, &gateway).await,
            _ = cancel.cancelled() => return intake.health.finished("faxes"),
        };
        if let Err(e) = result {
            warn!(error = format!("{e:#}"), "following faxes failed; trying again shortly");
        }
    }
}

async fn poll_in_flight(intake: &Intake, gateway: &FaxGateway) -> anyhow::Result<()> {
    for fax in intake.store.faxes_in_flight().await? {
        follow(intake, gateway, &fax.gateway_id).await?;
    }
    Ok(())
}

async fn on_event(intake: &Intake, gateway: &FaxGateway, event: WebhookEvent) -> anyhow::Result<()> {
    match event {
        WebhookEvent::Status { gateway_id, status, .. } => match intake.store.fax_by_gateway_id(&gateway_id).await? {
            Some(fax) => update(intake, gateway, &fax, &status).await,
            None => {
                info!(gateway_id, "status for a fax we do not have (or one already settled); ignored");
                Ok(())
            }
        },
        WebhookEvent::Inbound { gateway_id, from, pages, media, partial, .. } => {
            inbound(intake, gateway, &gateway_id, &from, pages, &media, partial).await
        }
        WebhookEvent::Ignored { .. } => Ok(()),
    }
}

/// An inbound fax: kept as a message (its PDF attached) and sent to staff for triage, naming
/// the provider whose fax number sent it when the directory knows it.
async fn inbound(
    intake: &Intake,
    gateway: &FaxGateway,
    gateway_id: &str,
    from: &str,
    pages: Option<u32>,
    media: &InboundMedia,
    partial: bool,
) -> anyhow::Result<()> {
    let pdf =
        gateway.download(media).await.map_err(|e| anyhow::anyhow!("downloading inbound fax {gateway_id}: {e}"))?;
    let now = intake.clock.now();
    let providers = intake.store.providers_by_fax(from).await?;
    let sender = match providers.as_slice() {
        [] => format!("{} (not in the provider directory)", display_fax(from)),
        [one] => format!("{} ({})", one.entry.name, display_fax(from)),
        many => format!(
            "{} ({})",
            many.iter().map(|p| p.entry.name.as_str()).collect::<Vec<_>>().join(" or "),
            display_fax(from)
        ),
    };
    let id = format!("<fax-{}@{}>", gateway_id.replace(['<', '>', '@', ' '], ""), intake.settings.firm.mail_domain);
    let name = format!("fax-{}.pdf", now.format("%Y%m%dT%H%M%SZ"));
    let raw = fax_as_message(&id, from, &name, &pdf, intake, now)?;
    let mut to: Vec<String> = intake.store.open_owners_at_fax(from).await?;
    if to.is_empty() {
        to = intake.settings.staff.iter().map(|s| s.address.clone()).collect();
    }
    let partial = if partial { " Only part of the fax arrived." } else { "" };
    let pages = pages.map(|p| format!("{p} page(s)")).unwrap_or_else(|| "a fax".into());
    let notice = intake.compose(
        &OutgoingMail {
            attachments: vec![Attachment { filename: name, content_type: "application/pdf".into(), bytes: pdf }],
            ..OutgoingMail::fresh(
                to,
                format!("Fax received from {sender}"),
                format!(
                    "{pages} came in by fax from {sender}.{partial} The PDF is attached.\n\nTo file it on a request, \
                     reply to this message with FILE MR-n (for example FILE MR-1001) as the first line.\n"
                ),
            )
        },
        now,
    )?;
    let sha = crate::mail::files::sha256_hex(&raw);
    let record = NewInbound {
        place: Place { mailbox: format!("fax:{}", gateway.name()), uidvalidity: None, uid: None },
        message_id: Some(&id),
        sha256: &sha,
        from: Some(from),
        subject: "inbound fax",
        in_reply_to: None,
        status: "triage",
        status_note: None,
        raw: &raw,
    };
    let outcome = intake.store.ingest(&record, &Effect::Triage(outgoing(&notice, None)), now).await?;
    info!(gateway_id, outcome = ?outcome, "inbound fax taken");
    intake.outbox_wake.notify_one();
    Ok(())
}

/// The fax kept as an email-shaped message, so it is stored, matched and filed like one.
fn fax_as_message(
    id: &str,
    from: &str,
    name: &str,
    pdf: &[u8],
    intake: &Intake,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<u8>> {
    use lettre::message::header::ContentType;
    use lettre::message::{Attachment as Part, MultiPart, SinglePart};
    let digits: String = from.chars().filter(|c| c.is_ascii_digit()).collect();
    let sender = format!("fax-{digits}@fax.invalid");
    let message = lettre::Message::builder()
        .from(sender.parse()?)
        .to(intake.settings.bot.address.parse()?)
        .subject(format!("Fax from {}", display_fax(from)))
        .message_id(Some(id.to_string()))
        .date(now.into())
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(format!("Inbound fax from {}.", display_fax(from))))
                .singlepart(Part::new(name.to_string()).body(pdf.to_vec(), ContentType::parse("application/pdf")?)),
        )?;
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn line_failures_are_retried_on_schedule_then_given_up() {
        let schedule = [Duration::from_secs(900), Duration::from_secs(3600)];
        let busy = FaxStatus::Failed { class: FailureClass::Retryable, reason: "busy".into() };
        assert_eq!(
            change_for(&busy, 1, &schedule, now()),
            FaxChange::Retry { at: now() + chrono::Duration::minutes(15), reason: "busy".into() }
        );
        assert_eq!(
            change_for(&busy, 2, &schedule, now()),
            FaxChange::Retry { at: now() + chrono::Duration::hours(1), reason: "busy".into() }
        );
        assert!(matches!(change_for(&busy, 3, &schedule, now()), FaxChange::Failed { .. }));
    }

    #[test]
    fn bad_numbers_and_documents_fail_at_once() {
        let bad = FaxStatus::Failed { class: FailureClass::BadNumber, reason: "receiver_unallocated_number".into() };
        let FaxChange::Failed { reason } = change_for(&bad, 1, &[Duration::from_secs(60)], now()) else { panic!() };
        assert!(reason.contains("invalid or out of service"));
        assert_eq!(
            change_for(&FaxStatus::Delivered { pages: Some(4) }, 1, &[], now()),
            FaxChange::Delivered { pages: Some(4) }
        );
    }
}
