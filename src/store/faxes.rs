//! Faxes in the outbox: due submissions, what the gateway accepted, and their delivery status
//! as webhooks and polling report it.

use chrono::{DateTime, Utc};

use super::outbox::{NewOutgoing, queue_email};
use super::requests::event;
use super::{Result, Store};
use crate::core::reference::Reference;

/// A fax submission waiting to be sent (again).
#[derive(Debug, Clone)]
pub struct PendingFax {
    pub outbox_id: i64,
    pub request: Option<Reference>,
    pub to: String,
    pub document_path: String,
    pub attempts: i64,
    /// Set when the last submit timed out: the gateway may have the fax since then.
    pub uncertain_since: Option<DateTime<Utc>>,
}

/// A fax the gateway has, as we last heard of it.
#[derive(Debug, Clone)]
pub struct SentFax {
    pub outbox_id: i64,
    pub request: Option<Reference>,
    pub to: String,
    pub gateway_id: String,
    /// queued | sending | delivered | failed
    pub status: String,
    pub attempts: i64,
}

/// What a status report does to a fax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaxChange {
    /// Still on its way: the new status word.
    Progress(&'static str),
    Delivered {
        pages: Option<u32>,
    },
    /// Failed on the line; try again at this time.
    Retry {
        at: DateTime<Utc>,
        reason: String,
    },
    /// Failed for good; the owner is told with the notice.
    Failed {
        reason: String,
    },
}

impl Store {
    pub async fn due_faxes(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<PendingFax>> {
        let rows: Vec<PendingFaxRow> = sqlx::query_as(
            "SELECT o.id, o.request_id, o.recipients, d.path, o.attempts, o.uncertain_since
             FROM outbox o LEFT JOIN documents d ON d.id = o.document_id
             WHERE o.channel = 'fax' AND o.state = 'pending' AND o.next_attempt_at <= ?1
             ORDER BY o.next_attempt_at, o.id LIMIT ?2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(outbox_id, request, to, path, attempts, uncertain_since)| PendingFax {
                outbox_id,
                request: request.map(Reference),
                to,
                document_path: path.unwrap_or_default(),
                attempts,
                uncertain_since,
            })
            .collect())
    }

    /// The gateway took the fax: remember its id; delivery is reported later.
    pub async fn fax_accepted(&self, outbox_id: i64, gateway_id: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE outbox SET state = 'sent', gateway_id = ?2, fax_status = 'queued', sent_at = ?3, last_error = NULL,
                 uncertain_since = NULL, attempt_started_at = NULL
             WHERE id = ?1",
        )
        .bind(outbox_id)
        .bind(gateway_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let (request, step): (Option<i64>, Option<String>) =
            sqlx::query_as("SELECT request_id, step FROM outbox WHERE id = ?1")
                .bind(outbox_id)
                .fetch_one(&mut *tx)
                .await?;
        if let Some(request) = request {
            // A scheduled step's fax says which step it is: the log pairs the step with its fax id.
            let what = step.as_deref().and_then(crate::core::schedule::Step::from_key).map(|s| s.words());
            let detail = match what {
                Some(what) => format!("{what}: fax accepted by the gateway as {gateway_id}"),
                None => format!("fax accepted by the gateway as {gateway_id}"),
            };
            event(&mut tx, request, "fax_accepted", "medrec", &detail, None, now).await?;
        }
        tx.commit().await
    }

    /// A submit that timed out: it is retried, but first the gateway is asked whether it arrived.
    pub async fn fax_uncertain(&self, outbox_id: i64, since: DateTime<Utc>, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET last_error = ?2, uncertain_since = coalesce(uncertain_since, ?3), attempt_started_at = NULL
             WHERE id = ?1",
        )
            .bind(outbox_id)
            .bind(error)
            .bind(since)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Faxes the gateway has and that have not yet been delivered or failed.
    pub async fn faxes_in_flight(&self) -> Result<Vec<SentFax>> {
        let rows = sqlx::query_as(
            "SELECT id, request_id, recipients, gateway_id, fax_status, attempts FROM outbox
             WHERE channel = 'fax' AND state = 'sent' AND fax_status NOT IN ('delivered', 'failed')",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(sent_fax).collect())
    }

    pub async fn fax_by_gateway_id(&self, gateway_id: &str) -> Result<Option<SentFax>> {
        let row = sqlx::query_as(
            "SELECT id, request_id, recipients, gateway_id, fax_status, attempts FROM outbox
             WHERE channel = 'fax' AND state = 'sent' AND gateway_id = ?1",
        )
        .bind(gateway_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(sent_fax))
    }

    /// Applies a status report to a fax, with the owner's notice when it failed for good.
    pub async fn apply_fax_change(
        &self,
        fax: &SentFax,
        change: &FaxChange,
        notice: Option<&NewOutgoing<'_>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let request = fax.request.map(|r| r.0);
        match change {
            FaxChange::Progress(status) => {
                sqlx::query("UPDATE outbox SET fax_status = ?2 WHERE id = ?1")
                    .bind(fax.outbox_id)
                    .bind(status)
                    .execute(&mut *tx)
                    .await?;
            }
            FaxChange::Delivered { pages } => {
                sqlx::query("UPDATE outbox SET fax_status = 'delivered' WHERE id = ?1")
                    .bind(fax.outbox_id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(r) = request {
                    sqlx::query(
                        "UPDATE requests SET state = 'submitted', submitted_at = ?2, updated_at = ?2 WHERE id = ?1 AND state = 'submitting'",
                    )
                    .bind(r)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let pages = pages.map(|p| format!(", {p} page(s)")).unwrap_or_default();
                    event(
                        &mut tx,
                        r,
                        "submitted",
                        "medrec",
                        &format!("package delivered by fax to {}{pages}", fax.to),
                        None,
                        now,
                    )
                    .await?;
                }
            }
            FaxChange::Retry { at, reason } => {
                sqlx::query(
                    "UPDATE outbox SET state = 'pending', gateway_id = NULL, fax_status = NULL, next_attempt_at = ?2,
                         last_error = ?3 WHERE id = ?1",
                )
                .bind(fax.outbox_id)
                .bind(at)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                if let Some(r) = request {
                    event(
                        &mut tx,
                        r,
                        "fax_retry",
                        "medrec",
                        &format!("fax to {} failed ({reason}); trying again", fax.to),
                        None,
                        now,
                    )
                    .await?;
                }
            }
            FaxChange::Failed { reason } => {
                sqlx::query(
                    "UPDATE outbox SET state = 'failed', fax_status = 'failed', last_error = ?2, attempt_started_at = NULL
                     WHERE id = ?1",
                )
                    .bind(fax.outbox_id)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                if let Some(r) = request {
                    sqlx::query(
                        "UPDATE requests SET state = 'failed', updated_at = ?2 WHERE id = ?1 AND state = 'submitting'",
                    )
                    .bind(r)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    event(
                        &mut tx,
                        r,
                        "fax_failed",
                        "medrec",
                        &format!("fax to {} failed for good: {reason}", fax.to),
                        None,
                        now,
                    )
                    .await?;
                }
            }
        }
        if let Some(n) = notice {
            queue_email(&mut tx, n, "notice", request, now).await?;
        }
        tx.commit().await
    }
}

type PendingFaxRow = (i64, Option<i64>, String, Option<String>, i64, Option<DateTime<Utc>>);
type SentFaxRow = (i64, Option<i64>, String, Option<String>, Option<String>, i64);

fn sent_fax((outbox_id, request, to, gateway_id, status, attempts): SentFaxRow) -> SentFax {
    SentFax {
        outbox_id,
        request: request.map(Reference),
        to,
        gateway_id: gateway_id.unwrap_or_default(),
        status: status.unwrap_or_else(|| "queued".into()),
        attempts,
    }
}
