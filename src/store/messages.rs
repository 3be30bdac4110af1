//! Inbound messages: stored once, recognised again by place, Message-ID or bytes.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::outbox::{NewOutgoing, queue_email};
use super::requests::{NewRequestRow, insert_request};
use super::{Result, Store};
use crate::core::reference::Reference;

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

/// What storing an inbound message also does, in the same transaction.
#[derive(Debug, Clone)]
pub enum Effect<'a> {
    Nothing,
    Answer(NewOutgoing<'a>),
    /// Create a request (state `preparing`) and queue this acknowledgement to its owner.
    NewRequest(NewRequestRow<'a>),
    /// A reply no request claims: send it to staff for triage (the notice is about this message).
    Triage(NewOutgoing<'a>),
    /// Changes to requests (a reply acted on, a staff command carried out) and their effects.
    Change(Vec<super::changes::RequestChange<'a>>),
    /// A notice the bot sends on its own about this message, tagged with what it is.
    Notice {
        out: NewOutgoing<'a>,
        tag: &'a str,
    },
    /// A staff `FILE MR-n`: file the message the staff member answered on that request, and answer.
    File {
        message_row: i64,
        reference: Reference,
        answer: NewOutgoing<'a>,
    },
}

/// What [`Store::ingest`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Stored as message row `id`; `request` is the request it created, if any.
    New { id: i64, request: Option<Reference> },
    /// Seen before (same place, Message-ID or bytes); nothing written.
    Duplicate,
    /// The request changed since the plan was made; nothing written: plan again.
    Stale,
}

impl Store {
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
    pub async fn ingest(&self, msg: &NewInbound<'_>, effect: &Effect<'_>, now: DateTime<Utc>) -> Result<Ingested> {
        let mut tx = self.write().await?;
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
        let request = match effect {
            Effect::Nothing => None,
            Effect::Answer(out) => {
                queue_email(&mut tx, out, "answer", None, now).await?;
                None
            }
            Effect::NewRequest(row) => Some(insert_request(&mut tx, row, id, now).await?),
            Effect::Triage(notice) => {
                let outbox = queue_email(&mut tx, notice, "notice", None, now).await?;
                sqlx::query(
                    "UPDATE messages SET regarding = ?2 WHERE id = (SELECT message_id FROM outbox WHERE id = ?1)",
                )
                .bind(outbox)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                None
            }
            Effect::File { message_row, reference, answer } => {
                sqlx::query("UPDATE messages SET request_id = ?2 WHERE id = ?1")
                    .bind(message_row)
                    .bind(reference.0)
                    .execute(&mut *tx)
                    .await?;
                let detail = "filed on this request by staff (FILE)";
                super::requests::event(
                    &mut tx,
                    reference.0,
                    "filed",
                    msg.from.unwrap_or("staff"),
                    detail,
                    Some(*message_row),
                    now,
                )
                .await?;
                queue_email(&mut tx, answer, "answer", Some(reference.0), now).await?;
                None
            }
            Effect::Change(changes) => {
                let mut created = None;
                for change in changes {
                    match super::changes::apply(&mut tx, change, Some(id), now).await? {
                        Some(c) => created = created.or(c),
                        None => return Ok(Ingested::Stale),
                    }
                }
                created
            }
            Effect::Notice { out, tag } => {
                let outbox = queue_email(&mut tx, out, "notice", None, now).await?;
                sqlx::query(
                    "UPDATE messages SET kind = ?2, regarding = ?3 WHERE id = (SELECT message_id FROM outbox WHERE id = ?1)",
                )
                .bind(outbox)
                .bind(tag)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                None
            }
        };
        tx.commit().await?;
        Ok(Ingested::New { id, request })
    }

    /// How many answers (not confirmations or notices) the bot has queued to `address` since
    /// `since`: the loop guard's count.
    pub async fn answers_to_since(&self, address: &str, since: DateTime<Utc>) -> Result<i64> {
        sqlx::query_scalar(
            "SELECT count(*) FROM messages m JOIN outbox o ON o.message_id = m.id
             WHERE m.direction = 'out' AND o.purpose = 'answer' AND m.to_addrs = ?1 AND m.at >= ?2",
        )
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await
    }

    /// The inbound message one of our notices was about (a triage notice's original).
    pub async fn regarding(&self, our_message_id: &str) -> Result<Option<i64>> {
        let row: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT regarding FROM messages WHERE direction = 'out' AND lower(message_id) = lower(?1)",
        )
        .bind(our_message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.flatten())
    }

    /// What one of our sent messages was for: (purpose, request, recipients).
    pub async fn sent_message(&self, message_id: &str) -> Result<Option<(String, Option<Reference>, String)>> {
        let row: Option<(String, Option<i64>, String)> = sqlx::query_as(
            "SELECT o.purpose, o.request_id, o.recipients FROM messages m JOIN outbox o ON o.message_id = m.id
             WHERE m.direction = 'out' AND lower(m.message_id) = lower(?1)",
        )
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(p, r, to)| (p, r.map(Reference), to)))
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

    /// The status recorded for an inbound message, by Message-ID.
    pub async fn inbound_status(&self, message_id: &str) -> Result<Option<(String, Option<String>)>> {
        let row = sqlx::query("SELECT status, status_note FROM messages WHERE direction = 'in' AND message_id = ?1")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}
