//! The provider directory's SQL.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store};
use crate::core::provider::{Candidate, Method, ProviderEntry};

/// A directory row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRow {
    pub id: i64,
    pub entry: ProviderEntry,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created(i64),
    Updated(i64),
    Unchanged(i64),
}

/// `SELECT <columns> FROM providers`, as a literal (sqlx takes only static SQL).
macro_rules! select {
    ($($rest:literal)?) => {
        concat!(
            "SELECT id, name, department, street, city, state, zip, phone, fax, email, preferred_method, notes FROM providers ",
            $($rest)?
        )
    };
}

fn row(r: &sqlx::sqlite::SqliteRow) -> Result<ProviderRow> {
    let method: String = r.try_get(10)?;
    Ok(ProviderRow {
        id: r.try_get(0)?,
        entry: ProviderEntry {
            name: r.try_get(1)?,
            department: r.try_get(2)?,
            street: r.try_get(3)?,
            city: r.try_get(4)?,
            state: r.try_get(5)?,
            zip: r.try_get(6)?,
            phone: r.try_get(7)?,
            fax: r.try_get(8)?,
            email: r.try_get(9)?,
            preferred_method: Method::parse(&method).unwrap_or(Method::Fax),
            notes: r.try_get(11)?,
        },
    })
}

impl Store {
    /// Adds an entry, or updates the one with the same name and city (case-insensitive).
    pub async fn upsert_provider(&self, e: &ProviderEntry, now: DateTime<Utc>) -> Result<Upserted> {
        let mut tx = self.write().await?;
        let existing = sqlx::query(select!(
            "WHERE lower(name) = lower(?1) AND lower(coalesce(city, '')) = lower(coalesce(?2, ''))"
        ))
        .bind(&e.name)
        .bind(&e.city)
        .fetch_optional(&mut *tx)
        .await?;
        let before = existing.as_ref().map(row).transpose()?;
        if let Some(old) = before.as_ref().filter(|old| old.entry == *e) {
            return Ok(Upserted::Unchanged(old.id));
        }
        // The conflict target is the natural key of migration 0001 (`providers_key`).
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO providers (name, department, street, city, state, zip, phone, fax, email,
                 preferred_method, notes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
             ON CONFLICT (lower(name), lower(coalesce(city, ''))) DO UPDATE SET
                 name = excluded.name, department = excluded.department, street = excluded.street,
                 city = excluded.city, state = excluded.state, zip = excluded.zip, phone = excluded.phone,
                 fax = excluded.fax, email = excluded.email, preferred_method = excluded.preferred_method,
                 notes = excluded.notes, updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(&e.name)
        .bind(&e.department)
        .bind(&e.street)
        .bind(&e.city)
        .bind(&e.state)
        .bind(&e.zip)
        .bind(&e.phone)
        .bind(&e.fax)
        .bind(&e.email)
        .bind(e.preferred_method.as_str())
        .bind(&e.notes)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let outcome = if before.is_some() { Upserted::Updated(id) } else { Upserted::Created(id) };
        tx.commit().await?;
        Ok(outcome)
    }

    /// The whole directory, by name.
    pub async fn providers(&self) -> Result<Vec<ProviderRow>> {
        let rows = sqlx::query(select!("ORDER BY name COLLATE NOCASE, city")).fetch_all(&self.pool).await?;
        rows.iter().map(row).collect()
    }

    pub async fn provider(&self, id: i64) -> Result<Option<ProviderRow>> {
        let r = sqlx::query(select!("WHERE id = ?1")).bind(id).fetch_optional(&self.pool).await?;
        r.as_ref().map(row).transpose()
    }

    /// Entries whose fax number is `e164` (an inbound fax's sender).
    pub async fn providers_by_fax(&self, e164: &str) -> Result<Vec<ProviderRow>> {
        let rows = sqlx::query(select!("WHERE fax = ?1")).bind(e164).fetch_all(&self.pool).await?;
        rows.iter().map(row).collect()
    }

    /// Names and cities for matching.
    pub async fn provider_candidates(&self) -> Result<Vec<Candidate>> {
        let rows = sqlx::query("SELECT id, name, city FROM providers").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(Candidate { id: r.try_get(0)?, name: r.try_get(1)?, city: r.try_get(2)? })).collect()
    }
}
