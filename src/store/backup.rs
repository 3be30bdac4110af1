//! The SQL behind `medrec backup` and `medrec restore`: a consistent copy of the live database
//! (`VACUUM INTO`), and what restore needs to know about a database file no daemon has open —
//! is it intact, which schema version, which documents it points at — and the one change it
//! makes to a restored copy: moving document paths to where this machine keeps documents.

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};

use super::Store;

/// A file the database says is kept under the documents directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRef {
    /// As stored: an absolute path under the documents directory of the machine that wrote it.
    pub path: String,
    pub sha256: String,
    pub size: i64,
}

/// What [`inspect`] found in a database file.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// `PRAGMA integrity_check`'s answer: `["ok"]` when the file is sound.
    pub integrity: Vec<String>,
    /// The latest migration applied.
    pub schema_version: i64,
    pub requests: i64,
    pub documents: Vec<DocumentRef>,
}

impl Inspected {
    pub fn is_intact(&self) -> bool {
        self.integrity == ["ok"]
    }
}

impl Store {
    /// Writes a consistent snapshot of the database to `target`, which must not exist.
    /// `VACUUM INTO` reads inside one read transaction, so the daemon keeps writing meanwhile
    /// (WAL: readers and the writer do not block each other) and the copy holds every
    /// transaction committed before it began and none after. The copy is switched to the
    /// rollback journal, so it is one self-contained file with no `-wal`/`-shm` beside it;
    /// `Store::open` turns WAL back on after a restore.
    pub async fn copy_into(&self, target: &Path) -> anyhow::Result<()> {
        let name = target.to_str().context("the backup path is not valid UTF-8")?;
        // The file name is a bound parameter (VACUUM INTO takes any expression), never SQL text.
        sqlx::query("VACUUM INTO ?1").bind(name).execute(&self.pool).await.context("VACUUM INTO")?;
        // Opening for writing sets the journal mode (see `open_file`).
        open_file(target, false).await?.close().await?;
        Ok(())
    }
}

/// The newest schema version this build of medrec knows.
pub fn latest_schema_version() -> i64 {
    sqlx::migrate!("./migrations").iter().map(|m| m.version).max().unwrap_or(0)
}

/// Checks the database file at `path`, read-only: integrity, schema version, its documents.
/// Meant for a copy no one else has open (a backup, or one being restored).
pub async fn inspect(path: &Path) -> anyhow::Result<Inspected> {
    let mut conn = open_file(path, true).await?;
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await?;
    let schema_version: i64 =
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .context("reading the schema version (is this a medrec database?)")?;
    let requests: i64 = sqlx::query_scalar("SELECT count(*) FROM requests").fetch_one(&mut conn).await?;
    let documents = sqlx::query("SELECT path, sha256, size FROM documents ORDER BY id")
        .fetch_all(&mut conn)
        .await?
        .iter()
        .map(|r| Ok(DocumentRef { path: r.try_get(0)?, sha256: r.try_get(1)?, size: r.try_get(2)? }))
        .collect::<sqlx::Result<Vec<_>>>()?;
    conn.close().await?;
    Ok(Inspected { integrity, schema_version, requests, documents })
}

/// In the database file at `path`, rewrites document paths under the directory `from` to the
/// same place under `to` (a restore onto a machine whose documents live elsewhere). Returns how
/// many rows changed.
pub async fn move_documents(path: &Path, from: &Path, to: &Path) -> anyhow::Result<u64> {
    let (from, to) = (from.to_str().context("path not UTF-8")?, to.to_str().context("path not UTF-8")?);
    let prefix = format!("{}/", from.trim_end_matches('/'));
    let mut conn = open_file(path, false).await?;
    // substr, not LIKE: a documents path may hold `%` or `_`.
    let changed = sqlx::query(
        "UPDATE documents SET path = ?2 || substr(path, length(?1) + 1) WHERE substr(path, 1, length(?1)) = ?1",
    )
    .bind(&prefix)
    .bind(format!("{}/", to.trim_end_matches('/')))
    .execute(&mut conn)
    .await?
    .rows_affected();
    conn.close().await?;
    Ok(changed)
}

/// One connection to a database file that must already exist, in the rollback-journal mode the
/// copies are kept in.
async fn open_file(path: &Path, read_only: bool) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str("sqlite:")?.filename(path).read_only(read_only);
    let options = if read_only { options } else { options.journal_mode(SqliteJournalMode::Delete) };
    options.connect().await.with_context(|| format!("opening {}", path.display()))
}
