//! The numbers `/metrics` and `/readyz` read from the database: messages by kind, sends by
//! channel and result, the outbox's depth and age, requests by state, follow-ups sent.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store};

/// A count with its labels, e.g. (`["email", "sent"]`, 12).
pub type Counted = (Vec<String>, i64);

/// What the database says right now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatabaseCounts {
    /// Inbound messages by classification (`none` when not a provider's reply).
    pub received_by_kind: Vec<Counted>,
    /// Outbox entries by channel and result (`sent`, `failed`, `pending`, `withdrawn`).
    pub sends: Vec<Counted>,
    pub outbox_pending: i64,
    /// When the oldest pending entry was queued.
    pub outbox_oldest: Option<DateTime<Utc>>,
    pub requests_by_state: Vec<Counted>,
    /// Follow-ups sent to providers, by channel.
    pub follow_ups_sent: Vec<Counted>,
}

impl Store {
    pub async fn figures(&self) -> Result<DatabaseCounts> {
        let mut conn = self.pool.acquire().await?;
        let labelled = |rows: Vec<sqlx::sqlite::SqliteRow>, labels: usize| -> Vec<Counted> {
            rows.iter()
                .map(|r| ((0..labels).map(|i| r.get::<String, _>(i)).collect(), r.get::<i64, _>(labels)))
                .collect()
        };
        let received = sqlx::query(
            "SELECT coalesce(kind, 'none'), count(*) FROM messages WHERE direction = 'in' GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(&mut *conn)
        .await?;
        let sends = sqlx::query("SELECT channel, state, count(*) FROM outbox GROUP BY 1, 2 ORDER BY 1, 2")
            .fetch_all(&mut *conn)
            .await?;
        let pending = sqlx::query("SELECT count(*), min(created_at) FROM outbox WHERE state = 'pending'")
            .fetch_one(&mut *conn)
            .await?;
        let states =
            sqlx::query("SELECT state, count(*) FROM requests GROUP BY 1 ORDER BY 1").fetch_all(&mut *conn).await?;
        let follow_ups = sqlx::query(
            "SELECT o.channel, count(*) FROM outbox o JOIN requests r ON r.id = o.request_id
             WHERE o.state = 'sent' AND o.step IS NOT NULL AND o.recipients <> r.owner
               AND (o.step LIKE 'MR-%/follow\\_up/%' ESCAPE '\\' OR o.step LIKE 'MR-%/records\\_due/%' ESCAPE '\\')
             GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(DatabaseCounts {
            received_by_kind: labelled(received, 1),
            sends: labelled(sends, 2),
            outbox_pending: pending.get(0),
            outbox_oldest: pending.try_get(1)?,
            requests_by_state: labelled(states, 1),
            follow_ups_sent: labelled(follow_ups, 1),
        })
    }
}
