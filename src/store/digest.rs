//! What the schedule reads besides a request's facts: the package a follow-up re-attaches, the
//! email it threads to, the last log line of a kind, and the daily digest's lists.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{Result, Store};
use crate::core::reference::Reference;

/// One request in a digest.
#[derive(Debug, Clone)]
pub struct DigestRequest {
    pub reference: Reference,
    pub state: String,
    pub owner: String,
    pub patient_name: String,
    pub provider: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub follow_up_from: Option<DateTime<Utc>>,
    pub eta: Option<NaiveDate>,
    /// The earliest open due step: kind and time.
    pub next: Option<(String, DateTime<Utc>)>,
}

/// One line of "what went out" or "what arrived".
#[derive(Debug, Clone)]
pub struct Happened {
    pub reference: Reference,
    pub at: DateTime<Utc>,
    pub what: String,
}

impl Store {
    /// The package last sent for the request: file name and path.
    pub async fn package_document(&self, reference: Reference) -> Result<Option<(String, String)>> {
        sqlx::query_as(
            "SELECT filename, path FROM documents WHERE request_id = ?1 AND kind = 'package' ORDER BY id DESC LIMIT 1",
        )
        .bind(reference.0)
        .fetch_optional(&self.pool)
        .await
    }

    /// The Message-ID of the package email last sent to the provider, to thread follow-ups to.
    pub async fn package_message_id(&self, reference: Reference) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT m.message_id FROM outbox o JOIN messages m ON m.id = o.message_id
             WHERE o.request_id = ?1 AND o.purpose = 'submission' AND o.channel = 'email' ORDER BY o.id DESC LIMIT 1",
        )
        .bind(reference.0)
        .fetch_optional(&self.pool)
        .await
    }

    /// The request's last log line of `kind`: when, and what it says.
    pub async fn last_event(&self, reference: Reference, kind: &str) -> Result<Option<(DateTime<Utc>, String)>> {
        sqlx::query_as(
            "SELECT at, detail FROM request_events WHERE request_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
        )
        .bind(reference.0)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await
    }

    /// The requests a digest to `address` lists: its own that are not closed, and every
    /// request on hold when `approver`.
    pub async fn digest_requests(&self, address: &str, approver: bool) -> Result<Vec<DigestRequest>> {
        let rows = sqlx::query(
            "SELECT r.id, r.state, r.owner, r.patient_name, p.name, r.submitted_at, r.follow_up_from, r.eta,
                 (SELECT d.kind FROM due d WHERE d.request_id = r.id AND d.done_at IS NULL ORDER BY d.due_at LIMIT 1),
                 (SELECT min(d.due_at) FROM due d WHERE d.request_id = r.id AND d.done_at IS NULL)
             FROM requests r JOIN providers p ON p.id = r.provider_id
             WHERE r.state NOT IN ('received', 'no_records', 'cancelled')
               AND (r.owner = ?1 OR (?2 AND r.state = 'on_hold'))
             ORDER BY r.id",
        )
        .bind(address)
        .bind(approver)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: Option<String> = r.try_get(8)?;
                let at: Option<DateTime<Utc>> = r.try_get(9)?;
                Ok(DigestRequest {
                    reference: Reference(r.try_get(0)?),
                    state: r.try_get(1)?,
                    owner: r.try_get(2)?,
                    patient_name: r.try_get(3)?,
                    provider: r.try_get(4)?,
                    submitted_at: r.try_get(5)?,
                    follow_up_from: r.try_get(6)?,
                    eta: r.try_get(7)?,
                    next: kind.zip(at),
                })
            })
            .collect()
    }

    /// What went to providers on `address`'s requests in [since, until): packages, follow-ups,
    /// withdrawals, as the activity log says them.
    pub async fn went_out(&self, address: &str, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Happened>> {
        let rows = sqlx::query(
            "SELECT e.request_id, e.at, e.detail FROM request_events e JOIN requests r ON r.id = e.request_id
             WHERE r.owner = ?1 AND e.at >= ?2 AND e.at < ?3 AND e.kind IN ('submitted', 'follow_up', 'withdrawal')
             ORDER BY e.at, e.id",
        )
        .bind(address)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        happened(&rows)
    }

    /// What providers sent on `address`'s requests in [since, until), by kind.
    pub async fn arrived(&self, address: &str, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Happened>> {
        let rows = sqlx::query(
            "SELECT m.request_id, m.at, m.kind || ' from ' || coalesce(m.from_addr, 'fax')
             FROM messages m JOIN requests r ON r.id = m.request_id
             WHERE r.owner = ?1 AND m.direction = 'in' AND m.at >= ?2 AND m.at < ?3
               AND m.kind IN ('records', 'invoice', 'deficiency', 'no_records', 'acknowledgment', 'redirect', 'other')
             ORDER BY m.at, m.id",
        )
        .bind(address)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        happened(&rows)
    }
}

/// Rows of (request id, when, what).
fn happened(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<Happened>> {
    rows.iter()
        .map(|r| Ok(Happened { reference: Reference(r.try_get(0)?), at: r.try_get(1)?, what: r.try_get(2)? }))
        .collect()
}
