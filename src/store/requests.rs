//! Requests, their record types, documents and activity log.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Row, SqliteConnection};

use super::outbox::{NewOutgoing, queue_email};
use super::{ProviderRow, Result, Store};
use crate::core::new_request::{RecordType, Requested};
use crate::core::reference::Reference;

/// A file kept under the documents directory.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub kind: &'a str,
    pub filename: &'a str,
    pub path: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
}

/// A checked new request, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewRequestRow<'a> {
    pub owner: &'a str,
    pub attorney: Option<&'a str>,
    pub provider_id: i64,
    pub patient_name: &'a str,
    pub patient_address: &'a str,
    pub patient_dob: NaiveDate,
    pub patient_ssn: &'a str,
    pub date_of_loss: Option<NaiveDate>,
    pub still_treating: bool,
    pub rush: bool,
    pub notes: Option<&'a str>,
    pub authorization_expires: Option<NaiveDate>,
    pub records: &'a [Requested],
    pub authorization: NewDocument<'a>,
}

/// An open request, as the duplicate check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub reference: Reference,
    pub state: String,
}

/// Everything about a request that the package and its messages need.
#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub reference: Reference,
    pub state: String,
    pub owner: String,
    pub attorney: Option<String>,
    pub provider: ProviderRow,
    pub patient_name: String,
    pub patient_address: String,
    pub patient_dob: NaiveDate,
    pub patient_ssn: String,
    pub records: Vec<Requested>,
    pub authorization_path: String,
    pub rush: bool,
    pub created_at: DateTime<Utc>,
    /// The `Message-ID` of the staff message that created it, for threading the confirmation.
    pub origin_message_id: Option<String>,
    /// How the package went (`fax`, `email`), once queued.
    pub channel: Option<String>,
    /// How the next package goes when not by the provider's preference.
    pub next_channel: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The date the provider promised the records by.
    pub eta: Option<NaiveDate>,
    pub authorization_expires: Option<NaiveDate>,
    /// Per requested record type: `requested`, `received` or `awaiting_media`.
    pub record_status: Vec<(RecordType, String)>,
}

/// How the package leaves.
#[derive(Debug, Clone)]
pub enum Submission<'a> {
    Email(NewOutgoing<'a>),
    Fax { to: &'a str },
}

impl Store {
    /// Open requests for the same patient (name and DOB) at the same provider.
    pub async fn open_requests_for(
        &self,
        patient_name: &str,
        dob: NaiveDate,
        provider_id: i64,
    ) -> Result<Vec<OpenRequest>> {
        let rows = sqlx::query(
            "SELECT id, state FROM requests
             WHERE lower(patient_name) = lower(?1) AND patient_dob = ?2 AND provider_id = ?3
               AND state NOT IN ('received', 'no_records', 'cancelled', 'failed')
             ORDER BY id",
        )
        .bind(patient_name)
        .bind(dob)
        .bind(provider_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(OpenRequest { reference: Reference(r.try_get(0)?), state: r.try_get(1)? })).collect()
    }

    /// Open requests as the reply matcher sees them.
    pub async fn open_for_matching(&self) -> Result<Vec<crate::core::matching::OpenRequest>> {
        let rows: Vec<(i64, Option<String>, String, NaiveDate)> = sqlx::query_as(
            "SELECT r.id, lower(p.email), r.patient_name, r.patient_dob FROM requests r JOIN providers p ON p.id = r.provider_id
             WHERE r.state NOT IN ('received', 'no_records', 'cancelled', 'failed') ORDER BY r.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, provider_email, patient_name, patient_dob)| crate::core::matching::OpenRequest {
                reference: Reference(id),
                provider_email,
                patient_name,
                patient_dob,
            })
            .collect())
    }

    /// Owners of open requests at the provider(s) whose fax number is `e164`.
    pub async fn open_owners_at_fax(&self, e164: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT r.owner FROM requests r JOIN providers p ON p.id = r.provider_id
             WHERE p.fax = ?1 AND r.state NOT IN ('received', 'no_records', 'cancelled', 'failed') ORDER BY r.owner",
        )
        .bind(e164)
        .fetch_all(&self.pool)
        .await
    }

    /// Whether a request with this reference exists, and its owner.
    pub async fn request_owner(&self, reference: Reference) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT owner FROM requests WHERE id = ?1")
            .bind(reference.0)
            .fetch_optional(&self.pool)
            .await
    }

    /// Requests in `state`, oldest first (e.g. `preparing`, to finish after a restart).
    pub async fn requests_in_state(&self, state: &str) -> Result<Vec<Reference>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM requests WHERE state = ?1 ORDER BY id")
            .bind(state)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(Reference).collect())
    }

    pub async fn request_detail(&self, reference: Reference) -> Result<Option<RequestDetail>> {
        let Some(r) = sqlx::query(
            "SELECT r.id, r.state, r.owner, r.attorney, r.provider_id, r.patient_name, r.patient_address,
                    r.patient_dob, r.patient_ssn, r.rush, r.created_at,
                    (SELECT path FROM documents d WHERE d.request_id = r.id AND d.kind = 'authorization'
                     ORDER BY d.id DESC LIMIT 1),
                    (SELECT message_id FROM messages m WHERE m.request_id = r.id AND m.direction = 'in'
                     ORDER BY m.id LIMIT 1),
                    r.channel, r.next_channel, r.submitted_at, r.eta, r.authorization_expires
             FROM requests r WHERE r.id = ?1",
        )
        .bind(reference.0)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let provider_id: i64 = r.try_get(4)?;
        let provider = self.provider(provider_id).await?.ok_or(sqlx::Error::RowNotFound)?;
        let kinds = sqlx::query(
            "SELECT record_type, from_date, to_date, status FROM request_record_types WHERE request_id = ?1",
        )
        .bind(reference.0)
        .fetch_all(&self.pool)
        .await?;
        let mut records = kinds
            .iter()
            .filter_map(|k| {
                let kind =
                    RecordType::ALL.into_iter().find(|t| k.try_get::<String, _>(0).is_ok_and(|v| v == t.as_str()))?;
                Some(Requested { kind, from: k.try_get(1).ok()?, to: k.try_get(2).ok()? })
            })
            .collect::<Vec<_>>();
        records.sort_by_key(|r| r.kind);
        let mut record_status: Vec<(RecordType, String)> = kinds
            .iter()
            .filter_map(|k| {
                let kind =
                    RecordType::ALL.into_iter().find(|t| k.try_get::<String, _>(0).is_ok_and(|v| v == t.as_str()))?;
                Some((kind, k.try_get(3).ok()?))
            })
            .collect();
        record_status.sort_by_key(|(k, _)| *k);
        Ok(Some(RequestDetail {
            reference,
            state: r.try_get(1)?,
            owner: r.try_get(2)?,
            attorney: r.try_get(3)?,
            provider,
            patient_name: r.try_get(5)?,
            patient_address: r.try_get(6)?,
            patient_dob: r.try_get(7)?,
            patient_ssn: r.try_get(8)?,
            rush: r.try_get(9)?,
            created_at: r.try_get(10)?,
            authorization_path: r.try_get::<Option<String>, _>(11)?.unwrap_or_default(),
            origin_message_id: r.try_get(12)?,
            channel: r.try_get(13)?,
            next_channel: r.try_get(14)?,
            submitted_at: r.try_get(15)?,
            eta: r.try_get(16)?,
            authorization_expires: r.try_get(17)?,
            records,
            record_status,
        }))
    }

    /// Stores the package and queues its submission and the owner's confirmation, in one
    /// transaction; the request moves from `preparing` to `submitting`.
    pub async fn queue_submission(
        &self,
        reference: Reference,
        package: &NewDocument<'_>,
        submission: &Submission<'_>,
        confirmation: &NewOutgoing<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let moved = sqlx::query(
            "UPDATE requests SET state = 'submitting', updated_at = ?2 WHERE id = ?1 AND state = 'preparing'",
        )
        .bind(reference.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            // Another pass already did it (e.g. a restart raced a slow render): nothing twice.
            return Ok(());
        }
        let document = insert_document(&mut tx, Some(reference.0), None, package, now).await?;
        let (channel, detail) = match submission {
            Submission::Email(mail) => {
                let id = queue_email(&mut tx, mail, "submission", Some(reference.0), now).await?;
                sqlx::query("UPDATE outbox SET document_id = ?2 WHERE id = ?1")
                    .bind(id)
                    .bind(document)
                    .execute(&mut *tx)
                    .await?;
                ("email", format!("package queued by email to {}", mail.recipients.join(", ")))
            }
            Submission::Fax { to } => {
                sqlx::query(
                    "INSERT INTO outbox (channel, purpose, request_id, document_id, recipients, next_attempt_at, created_at)
                     VALUES ('fax', 'submission', ?1, ?2, ?3, ?4, ?4)",
                )
                .bind(reference.0)
                .bind(document)
                .bind(to)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                ("fax", format!("package queued by fax to {to}"))
            }
        };
        sqlx::query("UPDATE requests SET channel = ?2, next_channel = NULL WHERE id = ?1")
            .bind(reference.0)
            .bind(channel)
            .execute(&mut *tx)
            .await?;
        queue_email(&mut tx, confirmation, "confirmation", Some(reference.0), now).await?;
        event(&mut tx, reference.0, "submission_queued", "medrec", &detail, None, now).await?;
        tx.commit().await
    }

    /// The activity log of a request, oldest first: (time, kind, actor, detail).
    pub async fn events(&self, reference: Reference) -> Result<Vec<(DateTime<Utc>, String, String, String)>> {
        let rows = sqlx::query("SELECT at, kind, actor, detail FROM request_events WHERE request_id = ?1 ORDER BY id")
            .bind(reference.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))).collect()
    }
}

/// Inserts a request with its record types, authorization and first log entry (inside the
/// transaction that stores the `NEW` message `message_row`).
pub(super) async fn insert_request(
    tx: &mut SqliteConnection,
    row: &NewRequestRow<'_>,
    message_row: i64,
    now: DateTime<Utc>,
) -> Result<Reference> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO requests (state, owner, attorney, provider_id, patient_name, patient_address, patient_dob,
             patient_ssn, date_of_loss, still_treating, rush, notes, authorization_expires, created_at, updated_at)
         VALUES ('preparing', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13) RETURNING id",
    )
    .bind(row.owner)
    .bind(row.attorney)
    .bind(row.provider_id)
    .bind(row.patient_name)
    .bind(row.patient_address)
    .bind(row.patient_dob)
    .bind(row.patient_ssn)
    .bind(row.date_of_loss)
    .bind(row.still_treating)
    .bind(row.rush)
    .bind(row.notes)
    .bind(row.authorization_expires)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    for r in row.records {
        sqlx::query(
            "INSERT INTO request_record_types (request_id, record_type, from_date, to_date) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(id)
        .bind(r.kind.as_str())
        .bind(r.from)
        .bind(r.to)
        .execute(&mut *tx)
        .await?;
    }
    insert_document(tx, Some(id), Some(message_row), &row.authorization, now).await?;
    sqlx::query("UPDATE messages SET request_id = ?2 WHERE id = ?1")
        .bind(message_row)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    event(tx, id, "created", row.owner, "request created from a NEW message", Some(message_row), now).await?;
    Ok(Reference(id))
}

pub(super) async fn insert_document(
    tx: &mut SqliteConnection,
    request: Option<i64>,
    message: Option<i64>,
    d: &NewDocument<'_>,
    now: DateTime<Utc>,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO documents (request_id, message_id, kind, filename, path, content_type, size, sha256, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
    )
    .bind(request)
    .bind(message)
    .bind(d.kind)
    .bind(d.filename)
    .bind(d.path)
    .bind(d.content_type)
    .bind(d.size)
    .bind(d.sha256)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

/// A new request for updated records: a copy of request `from` (patient, provider, attorney,
/// authorization) asking for the same record types from `since` to the present. Logged on both.
pub(super) async fn copy_for_update(
    tx: &mut SqliteConnection,
    from: i64,
    since: NaiveDate,
    owner: &str,
    message_row: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Reference> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO requests (state, owner, attorney, provider_id, patient_name, patient_address, patient_dob,
             patient_ssn, date_of_loss, still_treating, rush, notes, authorization_expires, created_at, updated_at)
         SELECT 'preparing', ?2, attorney, provider_id, patient_name, patient_address, patient_dob, patient_ssn,
             date_of_loss, still_treating, 0, notes, authorization_expires, ?3, ?3
         FROM requests WHERE id = ?1 RETURNING id",
    )
    .bind(from)
    .bind(owner)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO request_record_types (request_id, record_type, from_date, to_date)
         SELECT ?2, record_type, ?3, NULL FROM request_record_types WHERE request_id = ?1",
    )
    .bind(from)
    .bind(id)
    .bind(since)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO documents (request_id, message_id, kind, filename, path, content_type, size, sha256, created_at)
         SELECT ?2, message_id, kind, filename, path, content_type, size, sha256, ?3 FROM documents
         WHERE id = (SELECT max(id) FROM documents WHERE request_id = ?1 AND kind = 'authorization')",
    )
    .bind(from)
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let detail = format!("updated records from {since} requested as MR-{id}");
    event(tx, from, "update_requested", owner, &detail, message_row, now).await?;
    let detail = format!("request for updated records from {since}, following MR-{from}");
    event(tx, id, "created", owner, &detail, message_row, now).await?;
    Ok(Reference(id))
}

/// Appends to a request's activity log.
pub(super) async fn event(
    tx: &mut SqliteConnection,
    request: i64,
    kind: &str,
    actor: &str,
    detail: &str,
    message: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_events (request_id, at, kind, actor, detail, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(request)
    .bind(now)
    .bind(kind)
    .bind(actor)
    .bind(detail)
    .bind(message)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
