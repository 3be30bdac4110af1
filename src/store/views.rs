//! What staff commands read: request lists, the invoice on hold and its approval messages,
//! earlier requests for the same patient, and notices already sent.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Result, Store};
use crate::core::command::ListFilter;
use crate::core::reference::Reference;

/// One line of a `LIST` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedRequest {
    pub reference: Reference,
    pub patient_name: String,
    pub provider: String,
    pub state: String,
    pub owner: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub eta: Option<NaiveDate>,
}

/// The invoice waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvoice {
    pub amount_cents: i64,
    pub created_at: DateTime<Utc>,
    pub fee_check: Option<String>,
    /// The stored message that brought it.
    pub message_row: Option<i64>,
}

/// A `LIST` row as selected: id, patient, provider, state, owner, submitted, ETA.
type ListRow = (i64, String, String, String, String, Option<DateTime<Utc>>, Option<NaiveDate>);
/// An invoice row as selected: amount, created, fee check, message.
type InvoiceRow = (i64, DateTime<Utc>, Option<String>, Option<i64>);

impl Store {
    /// Requests for `LIST`: open ones by filter; `overdue` means submitted before `due_before`
    /// (or past a promised date) and not yet received.
    pub async fn list_requests(
        &self,
        filter: ListFilter,
        owner: &str,
        due_before: DateTime<Utc>,
        today: NaiveDate,
        limit: i64,
    ) -> Result<Vec<ListedRequest>> {
        let filter = match filter {
            ListFilter::Open => "open",
            ListFilter::Held => "held",
            ListFilter::Deficient => "deficient",
            ListFilter::Overdue => "overdue",
            ListFilter::Mine => "mine",
        };
        let rows: Vec<ListRow> = sqlx::query_as(
            "SELECT r.id, r.patient_name, p.name, r.state, r.owner, r.submitted_at, r.eta
                 FROM requests r JOIN providers p ON p.id = r.provider_id
                 WHERE r.state NOT IN ('received', 'no_records', 'cancelled')
                   AND CASE ?1
                       WHEN 'held' THEN r.state = 'on_hold'
                       WHEN 'deficient' THEN r.state = 'deficient'
                       WHEN 'mine' THEN r.owner = ?2
                       WHEN 'overdue' THEN r.state IN ('submitted', 'acknowledged', 'partial')
                            AND ((r.eta IS NULL AND r.submitted_at < ?3) OR r.eta < ?4)
                       ELSE 1 END
                 ORDER BY r.id LIMIT ?5",
        )
        .bind(filter)
        .bind(owner)
        .bind(due_before)
        .bind(today)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, patient_name, provider, state, owner, submitted_at, eta)| ListedRequest {
                reference: Reference(id),
                patient_name,
                provider,
                state,
                owner,
                submitted_at,
                eta,
            })
            .collect())
    }

    /// The invoice of `reference` waiting for approval, if any.
    pub async fn pending_invoice(&self, reference: Reference) -> Result<Option<PendingInvoice>> {
        let row: Option<InvoiceRow> = sqlx::query_as(
            "SELECT amount_cents, created_at, fee_check, message_id FROM invoices
             WHERE request_id = ?1 AND state = 'pending_approval' ORDER BY id DESC LIMIT 1",
        )
        .bind(reference.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(amount_cents, created_at, fee_check, message_row)| PendingInvoice {
            amount_cents,
            created_at,
            fee_check,
            message_row,
        }))
    }

    /// The most recent invoice of `reference` in any state: (amount, state).
    pub async fn last_invoice(&self, reference: Reference) -> Result<Option<(i64, String)>> {
        sqlx::query_as("SELECT amount_cents, state FROM invoices WHERE request_id = ?1 ORDER BY id DESC LIMIT 1")
            .bind(reference.0)
            .fetch_optional(&self.pool)
            .await
    }

    /// Message-IDs of the approval requests sent for `reference` since `since` (the pending
    /// invoice's arrival): only a reply to one of these decides it.
    pub async fn approval_messages(&self, reference: Reference, since: DateTime<Utc>) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT message_id FROM messages
             WHERE direction = 'out' AND request_id = ?1 AND kind = 'approval' AND at >= ?2 ORDER BY id",
        )
        .bind(reference.0)
        .bind(since)
        .fetch_all(&self.pool)
        .await
    }

    /// What one of our messages was (its `kind` tag) and which request it was about.
    pub async fn our_message(&self, message_id: &str) -> Result<Option<(Option<String>, Option<Reference>)>> {
        let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT kind, request_id FROM messages WHERE direction = 'out' AND lower(message_id) = lower(?1)",
        )
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(kind, r)| (kind, r.map(Reference))))
    }

    /// Whether records for this patient already came from this provider on another request: a
    /// later invoice is then not for the first copy.
    pub async fn had_records_before(
        &self,
        patient_name: &str,
        dob: NaiveDate,
        provider_id: i64,
        except: Reference,
    ) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM requests r
             WHERE lower(r.patient_name) = lower(?1) AND r.patient_dob = ?2 AND r.provider_id = ?3 AND r.id <> ?4
               AND EXISTS (SELECT 1 FROM request_record_types t WHERE t.request_id = r.id AND t.status = 'received')",
        )
        .bind(patient_name)
        .bind(dob)
        .bind(provider_id)
        .bind(except.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// The raw bytes of a stored inbound message.
    pub async fn inbound_raw(&self, message_row: i64) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT raw FROM messages WHERE id = ?1 AND direction = 'in'")
            .bind(message_row)
            .fetch_optional(&self.pool)
            .await
    }

    /// How many notices tagged `kind` went to `address` since `since`.
    pub async fn notices_to_since(&self, address: &str, kind: &str, since: DateTime<Utc>) -> Result<i64> {
        sqlx::query_scalar(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND kind = ?1 AND to_addrs = ?2 AND at >= ?3",
        )
        .bind(kind)
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await
    }
}

/// One email in the outbox, as `outbox_emails` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEmail {
    pub message_id: String,
    pub recipients: String,
    /// `pending`, `sent`, `failed` or `withdrawn`.
    pub state: String,
    pub request: Option<Reference>,
}

impl Store {
    /// Every email in the outbox, oldest first: what the database says was sent to whom.
    pub async fn outbox_emails(&self) -> Result<Vec<OutboxEmail>> {
        let rows: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT m.message_id, o.recipients, o.state, o.request_id
             FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.channel = 'email' ORDER BY o.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(message_id, recipients, state, r)| OutboxEmail {
                message_id,
                recipients,
                state,
                request: r.map(Reference),
            })
            .collect())
    }
}
