//! The database's health, for `medrec doctor` (and the write probe for `/readyz`): SQLite's own consistency check, the schema
//! version against the migrations this build knows, a write probe that changes nothing, and
//! how many requests there are (counts only: no patient data leaves this file).

use sqlx::Row;

use super::{Result, Store};

/// What [`Store::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseCheck {
    /// `PRAGMA quick_check`: `["ok"]` when the file is sound, else up to ten problems.
    pub integrity: Vec<String>,
    /// The newest migration applied to this database.
    pub schema_version: Option<i64>,
    /// The newest migration this build of medrec carries.
    pub latest_known: Option<i64>,
    pub requests: i64,
    /// Requests not yet finished (received, no records, cancelled or failed).
    pub open_requests: i64,
    /// Whether a write transaction could be started and a table created in it (then rolled
    /// back); the error text otherwise.
    pub writable: std::result::Result<(), String>,
}

impl DatabaseCheck {
    pub fn is_sound(&self) -> bool {
        self.integrity == ["ok"]
    }
}

impl Store {
    /// Checks the open database without changing it.
    pub async fn check(&self) -> Result<DatabaseCheck> {
        let integrity: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(10)").fetch_all(&self.pool).await?;
        let schema_version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success").fetch_one(&self.pool).await?;
        let counts = sqlx::query(
            "SELECT count(*),
                    coalesce(sum(state NOT IN ('received', 'no_records', 'cancelled', 'failed')), 0)
               FROM requests",
        )
        .fetch_one(&self.pool)
        .await?;
        let latest_known = sqlx::migrate!("./migrations").iter().map(|m| m.version).max();
        Ok(DatabaseCheck {
            integrity,
            schema_version,
            latest_known,
            requests: counts.try_get(0)?,
            open_requests: counts.try_get(1)?,
            writable: self.probe_write().await.map_err(|e| e.to_string()),
        })
    }

    /// Takes the write lock and creates a table, then rolls back: proves the file, its directory
    /// (for the WAL and shared-memory files) and the lock work, and leaves no trace. For
    /// `medrec doctor` and `/readyz`.
    pub async fn probe_write(&self) -> Result<()> {
        let mut tx = self.write().await?;
        let probe = sqlx::query("CREATE TABLE doctor_write_probe (x INTEGER)").execute(&mut *tx).await;
        let rolled_back = tx.rollback().await;
        probe?;
        rolled_back
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_database_is_sound_writable_and_unchanged_by_the_probe() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("medrec.db")).await.unwrap();
        let check = store.check().await.unwrap();
        assert!(check.is_sound(), "{check:?}");
        assert_eq!(check.writable, Ok(()));
        assert_eq!(check.schema_version, check.latest_known);
        assert!(check.schema_version.is_some());
        assert_eq!((check.requests, check.open_requests), (0, 0));
        // The probe's table was rolled back: a second probe can create it again.
        assert_eq!(store.check().await.unwrap().writable, Ok(()));
        let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'doctor_write_probe'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(tables, 0);
        store.close().await;
    }
}
