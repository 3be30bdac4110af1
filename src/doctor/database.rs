//! The database check: opens it as the daemon does (creating and migrating it if needed), then
//! asks the store for SQLite's consistency check, the schema version and a write probe that
//! changes nothing. Afterwards, who may read the database and its directory.

use std::path::Path;

use super::checklist::{Check, shell_word};
use super::local::private_on_disk;
use crate::store::Store;
use crate::store::health::DatabaseCheck;

/// Every database check: the database itself, then the privacy of its files and directory.
pub async fn checks(path: &Path) -> Vec<Check> {
    let existed = path.exists();
    let mut checks = vec![match Store::open(path).await {
        Ok(store) => {
            let found = store.check().await;
            store.close().await;
            match found {
                Ok(found) => verdict(path, existed, &found),
                Err(e) => Check::fail(database_name(path), format!("cannot be read: {e}"), restore_fix()),
            }
        }
        Err(e) => Check::fail(
            database_name(path),
            format!("cannot be opened: {e:#}"),
            format!(
                "check that this user owns {} and may write in its directory; `medrec migrate` creates it",
                shell_word(path)
            ),
        ),
    }];
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && d.is_dir()) {
        checks.push(private_on_disk("state directory", dir));
    }
    if path.is_file() {
        checks.push(private_on_disk("database file", path));
        // The write-ahead log holds recent changes, patient data included.
        for suffix in ["-wal", "-shm"] {
            let side = path.with_file_name(format!("{}{suffix}", file_name(path)));
            if side.is_file() {
                checks.push(private_on_disk("database file", &side));
            }
        }
    }
    checks
}

/// The verdict on what the store reported. Pure.
pub fn verdict(path: &Path, existed: bool, found: &DatabaseCheck) -> Check {
    let name = database_name(path);
    if !found.is_sound() {
        return Check::fail(
            name,
            format!("SQLite's check found damage: {}", found.integrity.join("; ")),
            restore_fix(),
        );
    }
    if let Err(e) = &found.writable {
        return Check::fail(
            name,
            format!("cannot be written: {e}"),
            format!(
                "check that this user may write {0} and its directory, that the disk is not full or read-only, \
                 and that no other program holds it locked",
                shell_word(path)
            ),
        );
    }
    let version = |v: Option<i64>| v.map_or("none".to_string(), |v| v.to_string());
    let created = if existed { "" } else { "created just now; " };
    Check::ok(
        name,
        format!(
            "{created}integrity ok, writable, schema {} (this medrec knows {}); {} requests, {} open",
            version(found.schema_version),
            version(found.latest_known),
            found.requests,
            found.open_requests
        ),
    )
}

fn database_name(path: &Path) -> String {
    format!("database {}", path.display())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn restore_fix() -> String {
    "stop the daemon and restore the database from a backup (keep a copy of the damaged file)".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Outcome;

    fn found() -> DatabaseCheck {
        DatabaseCheck {
            integrity: vec!["ok".into()],
            schema_version: Some(3),
            latest_known: Some(3),
            requests: 12,
            open_requests: 4,
            writable: Ok(()),
        }
    }

    #[test]
    fn a_sound_database_reports_counts_only() {
        let c = verdict(Path::new("/srv/medrec/medrec.db"), true, &found());
        assert_eq!(
            c,
            Check::ok(
                "database /srv/medrec/medrec.db",
                "integrity ok, writable, schema 3 (this medrec knows 3); 12 requests, 4 open"
            )
        );
        let fresh = verdict(Path::new("/srv/medrec/medrec.db"), false, &found());
        assert!(matches!(fresh.outcome, Outcome::Ok(d) if d.starts_with("created just now; ")));
    }

    #[test]
    fn damage_and_a_read_only_database_fail() {
        let damaged =
            DatabaseCheck { integrity: vec!["*** in database main *** Page 4 is never used".into()], ..found() };
        let c = verdict(Path::new("/srv/m.db"), true, &damaged);
        assert!(matches!(&c.outcome, Outcome::Fail(what, fix) if what.contains("Page 4") && fix.contains("backup")));
        let read_only = DatabaseCheck { writable: Err("attempt to write a readonly database".into()), ..found() };
        let c = verdict(Path::new("/srv/m.db"), true, &read_only);
        assert!(matches!(&c.outcome, Outcome::Fail(what, _) if what.contains("readonly")));
    }
}
