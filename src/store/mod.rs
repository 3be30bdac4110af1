//! The store: every line of SQL in medrec lives in this module. SQLite through sqlx, with the
//! migrations in `migrations/`, WAL and foreign keys on every pooled connection.
//!
//! Inbound mail and the answers it causes are written in one transaction ([`Store::ingest`]),
//! so a crash leaves either both or neither; the outbox rows are then sent by the daemon.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

/// Where an inbound message sits on its server, so a restart recognises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub mailbox: String,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
}

/// An inbound message as the store keeps it.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub place: Place,
    pub message_id: Option<&'a str>,
    pub sha256: &'a str,
    pub from: Option<&'a str>,
    pub subject: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub status: &'a str,
    pub status_note: Option<&'a str>,
    pub raw: &'a [u8],
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

/// What [`Store::ingest`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Stored as message row `id` (with its answer queued, if any).
    New { id: i64 },
    /// Seen before (same place, Message-ID or bytes); nothing written.
    Duplicate,
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
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

type Result<T> = std::result::Result<T, sqlx::Error>;

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::mail::files::create_private_dir(dir)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // One writer at a time keeps SQLite free of SQLITE_BUSY; reads are cheap enough.
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        crate::mail::files::make_private(path)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Whether the message at this place was stored before.
    pub async fn seen_place(&self, place: &Place) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM messages WHERE mailbox = ?1 AND uidvalidity IS ?2 AND uid = ?3")
            .bind(&place.mailbox)
            .bind(place.uidvalidity)
            .bind(place.uid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Stores an inbound message and, in the same transaction, queues its answer.
    pub async fn ingest(
        &self,
        msg: &NewInbound<'_>,
        answer: Option<&NewOutgoing<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Ingested> {
        let mut tx = self.pool.begin().await?;
        let dup = sqlx::query(
            "SELECT 1 FROM messages WHERE direction = 'in' AND (
                 (message_id IS NOT NULL AND message_id = ?1)
              OR (?1 IS NULL AND message_id IS NULL AND sha256 = ?2)
              OR (uid IS NOT NULL AND mailbox = ?3 AND uidvalidity IS ?4 AND uid = ?5))",
        )
        .bind(msg.message_id)
        .bind(msg.sha256)
        .bind(&msg.place.mailbox)
        .bind(msg.place.uidvalidity)
        .bind(msg.place.uid)
        .fetch_optional(&mut *tx)
        .await?;
        if dup.is_some() {
            return Ok(Ingested::Duplicate);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (direction, mailbox, uidvalidity, uid, message_id, sha256, from_addr,
                 subject, in_reply_to, status, status_note, raw, at)
             VALUES ('in', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
        )
        .bind(&msg.place.mailbox)
        .bind(msg.place.uidvalidity)
        .bind(msg.place.uid)
        .bind(msg.message_id)
        .bind(msg.sha256)
        .bind(msg.from)
        .bind(msg.subject)
        .bind(msg.in_reply_to)
        .bind(msg.status)
        .bind(msg.status_note)
        .bind(msg.raw)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(out) = answer {
            queue_email(&mut tx, out, now).await?;
        }
        tx.commit().await?;
        Ok(Ingested::New { id })
    }

    /// How many messages the bot has queued to `address` since `since` (the loop guard's count).
    pub async fn answers_to_since(&self, address: &str, since: DateTime<Utc>) -> Result<i64> {
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE direction = 'out' AND to_addrs = ?1 AND at >= ?2")
            .bind(address)
            .bind(since)
            .fetch_one(&self.pool)
            .await
    }

    /// Remembers a mailbox's UIDVALIDITY; returns the one stored before, if any.
    pub async fn note_uidvalidity(&self, mailbox: &str, uidvalidity: i64, now: DateTime<Utc>) -> Result<Option<i64>> {
        let before: Option<Option<i64>> = sqlx::query_scalar("SELECT uidvalidity FROM inbox_state WHERE mailbox = ?1")
            .bind(mailbox)
            .fetch_optional(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO inbox_state (mailbox, uidvalidity, last_poll) VALUES (?1, ?2, ?3)
             ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_poll = excluded.last_poll",
        )
        .bind(mailbox)
        .bind(uidvalidity)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(before.flatten())
    }

    /// Emails whose next attempt is due, oldest first.
    pub async fn due_emails(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<PendingEmail>> {
        let rows = sqlx::query(
            "SELECT o.id, m.message_id, o.envelope_from, o.recipients, m.raw, o.attempts, o.created_at
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

    pub async fn mark_sent(&self, outbox_id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE outbox SET state = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1")
            .bind(outbox_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
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

    /// Counts for tests and status output: (inbound messages, outbox pending, outbox sent).
    pub async fn counts(&self) -> Result<(i64, i64, i64)> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM messages WHERE direction = 'in'),
                    (SELECT count(*) FROM outbox WHERE state = 'pending'),
                    (SELECT count(*) FROM outbox WHERE state = 'sent')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }

    /// The status recorded for an inbound message, by Message-ID.
    pub async fn inbound_status(&self, message_id: &str) -> Result<Option<(String, Option<String>)>> {
        let row = sqlx::query("SELECT status, status_note FROM messages WHERE direction = 'in' AND message_id = ?1")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn queue_email(tx: &mut sqlx::SqliteConnection, out: &NewOutgoing<'_>, now: DateTime<Utc>) -> Result<i64> {
    let recipients = out.recipients.join(",");
    let message_row: i64 = sqlx::query_scalar(
        "INSERT INTO messages (direction, message_id, sha256, from_addr, to_addrs, subject, in_reply_to,
             status, raw, at)
         VALUES ('out', ?1, '', ?2, ?3, ?4, ?5, 'queued', ?6, ?7) RETURNING id",
    )
    .bind(out.message_id)
    .bind(out.envelope_from)
    .bind(&recipients)
    .bind(out.subject)
    .bind(out.in_reply_to)
    .bind(out.raw)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query_scalar(
        "INSERT INTO outbox (channel, message_id, envelope_from, recipients, next_attempt_at, created_at)
         VALUES ('email', ?1, ?2, ?3, ?4, ?4) RETURNING id",
    )
    .bind(message_row)
    .bind(out.envelope_from)
    .bind(&recipients)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
}
