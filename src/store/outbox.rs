//! The outbox: effects waiting to leave, with their attempts and retry times.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store};
use crate::core::reference::Reference;

/// A pending outbox entry for the request's provider (its package, or a follow-up the schedule
/// queued to anyone but the request's owner), then `$rest`; as a literal (sqlx takes only
/// static SQL).
macro_rules! update_pending_for_the_provider {
    ($set:literal, $rest:literal) => {
        concat!(
            "UPDATE outbox SET ",
            $set,
            " WHERE state = 'pending' AND (outbox.purpose = 'submission' OR (outbox.step IS NOT NULL
                 AND outbox.recipients <> (SELECT owner FROM requests WHERE id = outbox.request_id))) AND ",
            $rest
        )
    };
}

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

    /// Whether the package of `request` has reached, or may have reached, its provider (see
    /// [`package_may_have_gone`]): a cancellation then tells the provider it is withdrawn.
    pub async fn package_may_have_gone(&self, request: Reference, now: DateTime<Utc>) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        package_may_have_gone(&mut conn, request.0, now).await
    }

    /// Takes an entry for an attempt, recording it before it is made with the time of the retry
    /// should it not finish: a crash mid-send then retries later instead of losing the entry.
    /// Returns false, and sends nothing, when the entry is no longer pending, or when it goes to
    /// the provider about a request cancelled since it was queued (it is withdrawn then).
    pub async fn begin_attempt(&self, outbox_id: i64, retry_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write().await?;
        sqlx::query(update_pending_for_the_provider!(
            "state = 'withdrawn', last_error = ?2",
            "id = ?1 AND (SELECT state FROM requests WHERE id = outbox.request_id) = 'cancelled'"
        ))
        .bind(outbox_id)
        .bind(WITHDRAWN)
        .execute(&mut *tx)
        .await?;
        let taken = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, attempt_started_at = ?3
             WHERE id = ?1 AND state = 'pending'",
        )
        .bind(outbox_id)
        .bind(retry_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Marks an entry sent; a sent submission moves its request from `submitting` to
    /// `submitted` and is written to its activity log.
    pub async fn mark_sent(&self, outbox_id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = ?2, last_error = NULL, attempt_started_at = NULL WHERE id = ?1",
        )
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
        sqlx::query("UPDATE outbox SET last_error = ?2, attempt_started_at = NULL WHERE id = ?1")
            .bind(outbox_id)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn mark_failed(&self, outbox_id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET state = 'failed', last_error = ?2, attempt_started_at = NULL WHERE id = ?1")
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

/// Why a withdrawn entry was not sent, in its `last_error`.
const WITHDRAWN: &str = "withdrawn: the request was cancelled before it went";

/// How long an attempt may run before its entry counts as abandoned (a crash mid-send) rather
/// than on its way. Above the longest attempt either sender makes.
const ON_ITS_WAY_FOR: chrono::Duration = chrono::Duration::minutes(15);

/// Withdraws what waits in the outbox for the provider of request `id`, except an entry on its
/// way at this moment, which the provider will have; with `confirmation`, the confirmation to
/// staff that the package was sent too. Returns how many entries for the provider were withdrawn.
pub(super) async fn withdraw_for_provider(
    tx: &mut sqlx::SqliteConnection,
    id: i64,
    confirmation: bool,
    now: DateTime<Utc>,
) -> Result<u64> {
    let for_provider = sqlx::query(update_pending_for_the_provider!(
        "state = 'withdrawn', last_error = ?3",
        "request_id = ?1 AND (attempt_started_at IS NULL OR attempt_started_at <= ?2)"
    ))
    .bind(id)
    .bind(now - ON_ITS_WAY_FOR)
    .bind(WITHDRAWN)
    .execute(&mut *tx)
    .await?;
    if confirmation {
        sqlx::query(
            "UPDATE outbox SET state = 'withdrawn', last_error = ?3
             WHERE request_id = ?1 AND state = 'pending' AND purpose = 'confirmation'
               AND (attempt_started_at IS NULL OR attempt_started_at <= ?2)",
        )
        .bind(id)
        .bind(now - ON_ITS_WAY_FOR)
        .bind(WITHDRAWN)
        .execute(&mut *tx)
        .await?;
    }
    Ok(for_provider.rows_affected())
}

/// Whether request `id`'s package has reached, or may have reached, its provider: it was
/// delivered, handed over, is on its way, or a fax submit timed out and may have arrived.
pub(super) async fn package_may_have_gone(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM requests WHERE id = ?1 AND submitted_at IS NOT NULL)
             OR EXISTS (SELECT 1 FROM outbox WHERE request_id = ?1 AND purpose = 'submission'
                 AND (state = 'sent' OR uncertain_since IS NOT NULL
                      OR (state = 'pending' AND attempt_started_at > ?2)))",
    )
    .bind(id)
    .bind(now - ON_ITS_WAY_FOR)
    .fetch_one(&mut *conn)
    .await
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
}
