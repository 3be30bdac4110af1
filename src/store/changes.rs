//! A change to one request and everything it causes (log lines, files, invoices, mail and faxes
//! to send), applied in the transaction that stores the message causing it. The change applies
//! only if the request is still in the state it was planned from; otherwise nothing is written
//! and the caller plans again.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::SqliteConnection;

use super::Result;
use super::outbox::{NewOutgoing, queue_email};
use super::requests::{NewDocument, event, insert_document};
use crate::core::reference::Reference;

/// What one message does to one request.
#[derive(Debug, Clone)]
pub struct RequestChange<'a> {
    pub reference: Reference,
    /// The state the plan was made in.
    pub from_state: &'a str,
    /// The new state, when it changes.
    pub to_state: Option<&'a str>,
    pub steps: Vec<Step<'a>>,
}

/// One effect of a [`RequestChange`]. "This message" is the inbound message being stored.
#[derive(Debug, Clone)]
pub enum Step<'a> {
    /// File this message on the request, with its class.
    File { kind: &'a str },
    /// A line in the activity log, about this message.
    Event { kind: &'a str, actor: &'a str, detail: String },
    /// Queue an email; `tag` marks what it is (`approval`, `billing`, …) on the message row.
    Email { out: NewOutgoing<'a>, purpose: &'a str, tag: Option<&'a str> },
    /// Queue a fax of `document` (stored with the request) to an E.164 number.
    Fax { to: &'a str, document: NewDocument<'a> },
    /// Keep a file that came with this message.
    Document(NewDocument<'a>),
    /// Record an invoice; earlier undecided ones are superseded.
    Invoice { amount_cents: i64, state: &'a str, fee_check: String, overcharge: bool },
    /// Decide the invoice waiting for approval.
    Decide { approved: bool, by: &'a str, reason: Option<&'a str> },
    /// Record types that arrived (`received`) or are coming by mail (`awaiting_media`).
    RecordTypes { received: Vec<&'a str>, awaiting_media: Vec<&'a str> },
    /// The date the provider promised the records by.
    Eta(NaiveDate),
    /// How the next package goes, when not by the provider's preference.
    NextChannel(Option<&'a str>),
    /// Why the request closed (a cancellation's reason).
    CloseReason(&'a str),
    /// Withdraw what still waits in the outbox for the provider (the package, a follow-up).
    /// `provider_told` is false when the plan says nothing had gone to the provider: the staff
    /// confirmation that it was sent is withdrawn too, and should a sender have taken the
    /// package meanwhile, the change does not apply and is planned again.
    Withdraw { provider_told: bool },
    /// Start a new request for updated records: same patient, provider and authorization, the
    /// same record types from `from` to the present, owned by `owner`.
    Update { from: NaiveDate, owner: &'a str },
}

/// Applies `change` inside `tx`; `message` is the stored inbound message (`None` for a step of
/// the schedule). Returns `None` when the request has left `from_state` (or a withdrawal found
/// the package on its way): the caller then drops `tx` and plans again. Else the request an
/// `Update` step created, if any.
pub(super) async fn apply(
    tx: &mut SqliteConnection,
    change: &RequestChange<'_>,
    message: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<Option<Reference>>> {
    let id = change.reference.0;
    let moved = sqlx::query(
        "UPDATE requests SET state = coalesce(?3, state), updated_at = ?4,
             closed_at = CASE WHEN ?3 IN ('received', 'no_records', 'cancelled') THEN ?4 ELSE closed_at END
         WHERE id = ?1 AND state = ?2",
    )
    .bind(id)
    .bind(change.from_state)
    .bind(change.to_state)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(None);
    }
    if let Some(to) = change.to_state.filter(|to| *to != change.from_state) {
        let detail = format!("{} -> {to}", change.from_state);
        event(tx, id, "state", "medrec", &detail, message, now).await?;
    }
    let mut created = None;
    for step in &change.steps {
        match step {
            Step::Update { from, owner } => {
                created = Some(super::requests::copy_for_update(tx, id, *from, owner, message, now).await?);
            }
            Step::Withdraw { provider_told } => {
                // Nothing went: the confirmation that the package was sent goes with it.
                let withdrawn = super::outbox::withdraw_for_provider(tx, id, !provider_told, now).await?;
                if !provider_told && super::outbox::package_may_have_gone(tx, id, now).await? {
                    return Ok(None);
                }
                if *provider_told && withdrawn > 0 {
                    let detail =
                        format!("withdrawn before it went to the provider: {withdrawn} package(s) or follow-up(s)");
                    event(tx, id, "withdrawal", "medrec", &detail, message, now).await?;
                }
            }
            _ => apply_step(tx, id, step, message, now).await?,
        }
    }
    Ok(Some(created))
}

async fn apply_step(
    tx: &mut SqliteConnection,
    id: i64,
    step: &Step<'_>,
    message: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    match step {
        Step::File { kind } => {
            sqlx::query("UPDATE messages SET request_id = ?2, kind = ?3 WHERE id = ?1")
                .bind(message)
                .bind(id)
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
        Step::Event { kind, actor, detail } => event(tx, id, kind, actor, detail, message, now).await?,
        Step::Email { out, purpose, tag } => {
            // The message row remembers what it is and which inbound message caused it.
            let outbox = queue_email(tx, out, purpose, Some(id), now).await?;
            sqlx::query(
                "UPDATE messages SET kind = ?2, regarding = ?3 WHERE id = (SELECT message_id FROM outbox WHERE id = ?1)",
            )
            .bind(outbox)
            .bind(tag)
            .bind(message)
            .execute(&mut *tx)
            .await?;
        }
        Step::Fax { to, document } => {
            let document = insert_document(tx, Some(id), None, document, now).await?;
            sqlx::query(
                "INSERT INTO outbox (channel, purpose, request_id, document_id, recipients, next_attempt_at, created_at)
                 VALUES ('fax', 'notice', ?1, ?2, ?3, ?4, ?4)",
            )
            .bind(id)
            .bind(document)
            .bind(to)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        Step::Document(d) => {
            insert_document(tx, Some(id), message, d, now).await?;
        }
        Step::Invoice { amount_cents, state, fee_check, overcharge } => {
            sqlx::query(
                "UPDATE invoices SET state = 'superseded', decided_at = ?2
                 WHERE request_id = ?1 AND state = 'pending_approval'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO invoices (request_id, message_id, amount_cents, state, decided_by, decided_at, fee_check,
                     overcharge, created_at)
                 VALUES (?1, ?2, ?3, ?4, CASE WHEN ?4 = 'approved' THEN 'medrec' END,
                     CASE WHEN ?4 = 'approved' THEN ?5 END, ?6, ?7, ?5)",
            )
            .bind(id)
            .bind(message)
            .bind(amount_cents)
            .bind(state)
            .bind(now)
            .bind(fee_check)
            .bind(overcharge)
            .execute(&mut *tx)
            .await?;
        }
        Step::Decide { approved, by, reason } => {
            sqlx::query(
                "UPDATE invoices SET state = ?2, decided_by = ?3, decided_at = ?4, reason = ?5
                 WHERE request_id = ?1 AND state = 'pending_approval'",
            )
            .bind(id)
            .bind(if *approved { "approved" } else { "declined" })
            .bind(by)
            .bind(now)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        }
        Step::RecordTypes { received, awaiting_media } => {
            for (types, status) in [(received, "received"), (awaiting_media, "awaiting_media")] {
                for t in types.iter() {
                    sqlx::query(
                        "UPDATE request_record_types SET status = ?3 WHERE request_id = ?1 AND record_type = ?2",
                    )
                    .bind(id)
                    .bind(t)
                    .bind(status)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        Step::Eta(date) => {
            sqlx::query("UPDATE requests SET eta = ?2 WHERE id = ?1").bind(id).bind(date).execute(&mut *tx).await?;
        }
        Step::NextChannel(channel) => {
            sqlx::query("UPDATE requests SET next_channel = ?2 WHERE id = ?1")
                .bind(id)
                .bind(channel)
                .execute(&mut *tx)
                .await?;
        }
        Step::Update { .. } | Step::Withdraw { .. } => {}
        Step::CloseReason(reason) => {
            sqlx::query("UPDATE requests SET close_reason = ?2 WHERE id = ?1")
                .bind(id)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}
