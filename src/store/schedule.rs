//! What is due when (the `due` table): each request's next steps, planned by the core from the
//! facts read here, and the daily digests. A step is done in the transaction that queues what it
//! sends, and its key is unique, so no restart or repeated sweep sends it twice.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Row, SqliteConnection};

use super::changes::{RequestChange, apply};
use super::outbox::{NewOutgoing, queue_email};
use super::{Result, Store};
use crate::core::lifecycle::State;
use crate::core::reference::Reference;
use crate::core::schedule::{Due, Facts};

/// One open row of the `due` table.
#[derive(Debug, Clone)]
pub struct DueRow {
    /// `None` for a digest.
    pub request: Option<Reference>,
    pub kind: String,
    pub key: String,
    pub at: DateTime<Utc>,
    /// A digest's staff address.
    pub detail: Option<String>,
}

/// What doing a due step came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Done,
    /// It had been done already (another sweep, or before a restart).
    AlreadyDone,
    /// The request changed while the step was prepared: plan again.
    Stale,
}

impl Store {
    /// Requests changed since the scheduler last looked (`updated_at` at or after `mark`), with
    /// their `updated_at`, oldest first.
    pub async fn requests_changed_since(&self, mark: Option<DateTime<Utc>>) -> Result<Vec<(i64, DateTime<Utc>)>> {
        // Two statements: `?1 IS NULL OR …` would keep SQLite from searching the index by range.
        let rows = match mark {
            None => {
                sqlx::query("SELECT id, updated_at FROM requests ORDER BY updated_at, id").fetch_all(&self.pool).await?
            }
            Some(mark) => {
                sqlx::query("SELECT id, updated_at FROM requests WHERE updated_at >= ?1 ORDER BY updated_at, id")
                    .bind(mark)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    pub async fn schedule_mark(&self, name: &str) -> Result<Option<DateTime<Utc>>> {
        sqlx::query_scalar("SELECT at FROM schedule_marks WHERE name = ?1").bind(name).fetch_optional(&self.pool).await
    }

    pub async fn set_schedule_mark(&self, name: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO schedule_marks (name, at) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET at = ?2")
            .bind(name)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// What the schedule of request `id` depends on.
    pub async fn schedule_facts(&self, id: i64) -> Result<Option<Facts>> {
        let mut conn = self.pool.acquire().await?;
        facts(&mut conn, id).await
    }

    /// Plans every request in `ids` with `plan` and stores the result as its open due rows, in
    /// one transaction.
    pub async fn replan(&self, ids: &[i64], plan: impl Fn(&Facts) -> Vec<Due>) -> Result<()> {
        let mut tx = self.write().await?;
        for &id in ids {
            let due = match facts(&mut tx, id).await? {
                Some(f) => plan(&f),
                None => Vec::new(),
            };
            set_due(&mut tx, id, &due).await?;
        }
        tx.commit().await
    }

    /// Open due rows at or before `now`, earliest first.
    pub async fn due_now(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueRow>> {
        let rows = sqlx::query(
            "SELECT request_id, kind, key, due_at, detail FROM due
             WHERE done_at IS NULL AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(due_row).collect()
    }

    /// Every open due row, earliest first (`medrec due`), or those of one request (`STATUS`).
    pub async fn due_list(&self, request: Option<Reference>, limit: i64) -> Result<Vec<DueRow>> {
        let rows = sqlx::query(
            "SELECT request_id, kind, key, due_at, detail FROM due
             WHERE done_at IS NULL AND (?1 IS NULL OR request_id = ?1) ORDER BY due_at, id LIMIT ?2",
        )
        .bind(request.map(|r| r.0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(due_row).collect()
    }

    /// When the earliest open step is due.
    pub async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>> {
        sqlx::query_scalar("SELECT min(due_at) FROM due WHERE done_at IS NULL").fetch_one(&self.pool).await
    }

    /// Does the step `key` by applying `change` (its mail, faxes and log lines), all in one
    /// transaction. Every outbox entry it queues is keyed by the step, channel and recipient.
    pub async fn do_step(&self, key: &str, change: &RequestChange<'_>, now: DateTime<Utc>) -> Result<Done> {
        let mut tx = self.write().await?;
        if !claim(&mut tx, key, None, now).await? {
            return Ok(Done::AlreadyDone);
        }
        let before: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM outbox").fetch_one(&mut *tx).await?;
        if apply(&mut tx, change, None, now).await?.is_none() {
            return Ok(Done::Stale);
        }
        sqlx::query("UPDATE outbox SET step = ?2 || '/' || channel || '/' || recipients WHERE id > ?1")
            .bind(before)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Done::Done)
    }

    /// Marks the step `key` done without sending anything (a digest with nothing to report, or
    /// one too late to be of use), saying why.
    pub async fn skip_step(&self, key: &str, why: &str, now: DateTime<Utc>) -> Result<Done> {
        let mut tx = self.write().await?;
        let claimed = claim(&mut tx, key, Some(why), now).await?;
        tx.commit().await?;
        Ok(if claimed { Done::Done } else { Done::AlreadyDone })
    }

    /// Makes sure the digest `key` for `address` is planned at `at`.
    pub async fn plan_digest(&self, address: &str, key: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO due (request_id, kind, due_at, key, detail) VALUES (NULL, 'digest', ?1, ?2, ?3)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(at)
        .bind(key)
        .bind(address)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Drops planned digests of addresses no longer on the staff list.
    pub async fn drop_digests_except(&self, addresses: &[String]) -> Result<()> {
        let keep = serde_json::to_string(addresses).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "DELETE FROM due WHERE kind = 'digest' AND done_at IS NULL
             AND detail NOT IN (SELECT value FROM json_each(?1))",
        )
        .bind(keep)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the last digest to `address` went out.
    pub async fn last_digest(&self, address: &str) -> Result<Option<DateTime<Utc>>> {
        sqlx::query_scalar("SELECT max(done_at) FROM due WHERE kind = 'digest' AND detail = ?1")
            .bind(address)
            .fetch_one(&self.pool)
            .await
    }

    /// Sends the digest `key`: marks it done and queues its email, in one transaction.
    pub async fn send_digest(&self, key: &str, out: &NewOutgoing<'_>, now: DateTime<Utc>) -> Result<Done> {
        let mut tx = self.write().await?;
        if !claim(&mut tx, key, None, now).await? {
            return Ok(Done::AlreadyDone);
        }
        let outbox = queue_email(&mut tx, out, "notice", None, now).await?;
        sqlx::query("UPDATE outbox SET step = ?2 || '/email/' || recipients WHERE id = ?1")
            .bind(outbox)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE messages SET kind = 'digest' WHERE id = (SELECT message_id FROM outbox WHERE id = ?1)")
            .bind(outbox)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Done::Done)
    }
}

/// Marks the open due row `key` done; false when it was done already (or is gone).
async fn claim(tx: &mut SqliteConnection, key: &str, why: Option<&str>, now: DateTime<Utc>) -> Result<bool> {
    let claimed =
        sqlx::query("UPDATE due SET done_at = ?2, detail = coalesce(?3, detail) WHERE key = ?1 AND done_at IS NULL")
            .bind(key)
            .bind(now)
            .bind(why)
            .execute(&mut *tx)
            .await?;
    Ok(claimed.rows_affected() == 1)
}

fn due_row(r: &sqlx::sqlite::SqliteRow) -> Result<DueRow> {
    Ok(DueRow {
        request: r.try_get::<Option<i64>, _>(0)?.map(Reference),
        kind: r.try_get(1)?,
        key: r.try_get(2)?,
        at: r.try_get(3)?,
        detail: r.try_get(4)?,
    })
}

async fn facts(conn: &mut SqliteConnection, id: i64) -> Result<Option<Facts>> {
    let Some(r) = sqlx::query(
        "SELECT state, coalesce(state_since, updated_at), follow_up_from, eta, still_treating,
             EXISTS (SELECT 1 FROM request_events WHERE request_id = ?1 AND kind = 'update_requested')
         FROM requests WHERE id = ?1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let state: String = r.try_get(0)?;
    let Some(state) = State::parse(&state) else { return Ok(None) };
    let done: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT key, done_at FROM due WHERE request_id = ?1 AND done_at IS NOT NULL AND key IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(Facts {
        reference: id,
        state,
        state_since: r.try_get(1)?,
        follow_up_from: r.try_get(2)?,
        eta: r.try_get::<Option<NaiveDate>, _>(3)?,
        still_treating: r.try_get(4)?,
        updated: r.try_get(5)?,
        done: done.into_iter().collect::<HashMap<_, _>>(),
    }))
}

/// Replaces the open due rows of request `id` with `due`.
async fn set_due(tx: &mut SqliteConnection, id: i64, due: &[Due]) -> Result<()> {
    sqlx::query("DELETE FROM due WHERE request_id = ?1 AND done_at IS NULL").bind(id).execute(&mut *tx).await?;
    for d in due {
        sqlx::query(
            "INSERT INTO due (request_id, kind, due_at, key) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING",
        )
        .bind(id)
        .bind(d.step.kind())
        .bind(d.at)
        .bind(&d.key)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
