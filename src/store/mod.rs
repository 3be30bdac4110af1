//! The store: every line of SQL in medrec lives in this module and its files, one per subject
//! (`messages`, `outbox`, `providers`, `requests`). SQLite through sqlx, with the migrations in
//! `migrations/`, WAL and foreign keys on every pooled connection.
//!
//! A change and the effects it causes are written in one transaction (e.g. [`Store::ingest`]
//! stores a message with its queued answer), so a crash leaves either both or neither.

pub mod backup;
mod changes;
mod digest;
mod faxes;
pub mod health;
mod messages;
mod metrics;
mod outbox;
mod providers;
mod requests;
mod schedule;
mod views;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

pub use changes::{RequestChange, Step};
pub use digest::{DigestRequest, Happened};
pub use faxes::{FaxChange, PendingFax, SentFax};
pub use messages::{Effect, Ingested, NewInbound, Place};
pub use metrics::{Counted, DatabaseCounts};
pub use outbox::{NewOutgoing, PendingEmail};
pub use providers::{ProviderRow, Upserted};
pub use requests::{NewDocument, NewRequestRow, OpenRequest, RequestDetail, Submission};
pub use schedule::{Done, DueRow};
pub use views::{ListedRequest, OutboxEmail, PendingInvoice};

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

    /// A write transaction. `BEGIN IMMEDIATE` takes the write lock first (waiting up to the busy
    /// timeout), so a transaction that reads then writes never fails half-way because another
    /// process (the daemon, `medrec due`) wrote meanwhile.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
