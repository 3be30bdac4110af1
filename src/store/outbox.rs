//! The outbox: effects waiting to leave, with their attempts and retry times.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store};
use crate::core::reference::Reference;

/// An outgoing email, already rendered, to be queued.
#[derive(Debug, Clone)]
pub struct NewOutgoing<'a> {
    pub message_id: &'a str,
    pub envelope_from: &'a str,
    pub recipients: &'a [String],
    pub subject: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub raw: &'a [u8],
}

/// One email waiting in the outbox.
#[derive(Debug, Clone)]
pub struct PendingEmail {
    pub outbox_id: i64,
    pub message_id: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    /// The request it is about, for the log.
    pub request: Option<Reference>,
}

impl Store {
    /// Queues a notice the bot sends on its own (not an answer), optionally about a request.
    pub async fn queue_notice(
        &self,
        out: &NewOutgoing<'_>,
        request: Option<Reference>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        queue_email(&mut tx, out, "notice", request.map(|r| r.0), now).await?;
        tx.commit().await
    }

    /// Emails whose next attempt is due, oldest first.
    pub async fn due_emails(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<PendingEmail>> {
        let rows = sqlx::query(
            "SELECT o.id, m.message_id, o.envelope_from, o.recipients, m.raw, o.attempts, o.created_at, o.request_id
             FROM outbox o JOIN messages m ON m.id = o.message_id
             WHERE o.channel = 'email' AND o.state = 'pending' AND o.next_attempt_at <= ?1
             ORDER BY o.next_attempt_at, o.id LIMIT ?2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(PendingEmail {
                    outbox_id: r.try_get(0)?,
                    message_id: r.try_get(1)?,
                    envelope_from: r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                    recipients: split_list(&r.try_get::<String, _>(3)?),
                    raw: r.try_get(4)?,
                    attempts: r.try_get(5)?,
                    created_at: r.try_get(6)?,
                    request: r.try_get::<Option<i64>, _>(7)?.map(Reference),
                })
            })
            .collect()
    }

    /// When the next pending outbox entry falls due, if any.
    pub async fn next_outbox_due(&self) -> Result<Option<DateTime<Utc>>> {
        sqlx::query_scalar("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await
    }

    /// Records an attempt before it is made, with the time of the retry should it not finish:
    /// a crash mid-send then retries later instead of losing the entry.
    pub async fn begin_attempt(&self, outbox_id: i64, retry_at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2 WHERE id = ?1")
            .bind(outbox_id)
            .bind(retry_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks an entry sent; a sent submission moves its request from `submitting` to
    /// `submitted` and is written to its activity log.
    pub async fn mark_sent(&self, outbox_id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE outbox SET state = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1")
            .bind(outbox_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let submission: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT request_id, channel, recipients FROM outbox WHERE id = ?1 AND purpose = 'submission' AND request_id IS NOT NULL",
        )
        .bind(outbox_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((request, channel, recipients)) = submission {
            sqlx::query(
                "UPDATE requests SET state = 'submitted', submitted_at = ?2, updated_at = ?2
                 WHERE id = ?1 AND state = 'submitting'",
            )
            .bind(request)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = format!("package sent by {channel} to {recipients}");
            super::requests::event(&mut tx, request, "submitted", "medrec", &detail, None, now).await?;
        }
        tx.commit().await
    }

    /// Keeps the entry pending; the retry time was set by [`Store::begin_attempt`].
    pub async fn mark_retry(&self, outbox_id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET last_error = ?2 WHERE id = ?1")
            .bind(outbox_id)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn mark_failed(&self, outbox_id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1")
            .bind(outbox_id)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Stores an outgoing email and its outbox entry; returns the outbox id. `purpose` is one of
/// `answer`, `submission`, `confirmation`, `notice`.
pub(super) async fn queue_email(
    tx: &mut sqlx::SqliteConnection,
    out: &NewOutgoing<'_>,
    purpose: &str,
    request: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let recipients = out.recipients.join(",");
    let message_row: i64 = sqlx::query_scalar(
        "INSERT INTO messages (direction, message_id, sha256, from_addr, to_addrs, subject, in_reply_to,
             request_id, status, raw, at)
         VALUES ('out', ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9) RETURNING id",
    )
    .bind(out.message_id)
    .bind(crate::mail::files::sha256_hex(out.raw))
    .bind(out.envelope_from)
    .bind(&recipients)
    .bind(out.subject)
    .bind(out.in_reply_to)
    .bind(request)
    .bind(out.raw)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query_scalar(
        "INSERT INTO outbox (channel, purpose, request_id, message_id, envelope_from, recipients, next_attempt_at,
             created_at)
         VALUES ('email', ?5, ?6, ?1, ?2, ?3, ?4, ?4) RETURNING id",
    )
    .bind(message_row)
    .bind(out.envelope_from)
    .bind(&recipients)
    .bind(now)
    .bind(purpose)
    .bind(request)
    .fetch_one(&mut *tx)
    .await
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
}
