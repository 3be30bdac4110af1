//! Checks on this machine alone: the config's warnings, the time zone, who may read the
//! database, the documents and the secret files. The verdicts are pure functions of what
//! `stat` says ([`Facts`]), so they are unit-tested; the few functions that look at the disk
//! are at the bottom.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::checklist::{Check, shell_word};
use crate::config::{SecretSource, Settings};

/// What `stat` says about a path, as far as privacy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The permission bits (`0o700`).
    pub mode: u32,
    pub uid: u32,
    pub is_dir: bool,
}

/// The config loaded (or `medrec doctor` would not run), and each of its warnings.
pub fn config(settings: &Settings) -> Vec<Check> {
    let path = settings.source.display().to_string();
    let mut checks = vec![Check::ok(format!("config {path}"), "loaded and valid")];
    for warning in settings.warnings() {
        checks.push(Check::warn("config", warning, format!("edit {path} (`medrec check-config` re-checks it)")));
    }
    checks
}

/// The firm's time zone and its time now. The machine's own zone is shown for information
/// only: business days and hours are always computed in the firm's zone.
pub fn time_zone(tz: chrono_tz::Tz, now: DateTime<Utc>, machine: Option<&str>) -> Check {
    let there = now.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z (UTC%:z)");
    let machine = match machine {
        Some(m) if m == tz.name() => "; this machine uses the same zone".to_string(),
        Some(m) => format!("; this machine uses {m}, which is fine: dates and business hours use {tz}"),
        None => "; this machine's own zone is unknown (no /etc/localtime)".to_string(),
    };
    Check::ok("time zone", format!("firm.time_zone {tz}, now {there} there{machine}"))
}

/// `path` should be readable by the user running medrec only: a directory `0700`, a file `0600`.
/// Others able to read it fail the check; its group, or another owner, warn.
pub fn private(name: &str, path: &Path, facts: Facts, me: u32) -> Check {
    let name = format!("{name} {}", path.display());
    let (expected, verb) = if facts.is_dir { (0o700, "list and read") } else { (0o600, "read") };
    let chmod = format!("chmod {expected:o} {}", shell_word(path));
    let mode = facts.mode & 0o7777;
    if mode & 0o007 != 0 {
        return Check::fail(name, format!("mode {mode:04o}: every user on this machine can {verb} it"), chmod);
    }
    if mode & 0o070 != 0 {
        return Check::warn(name, format!("mode {mode:04o}: its group can {verb} it"), chmod);
    }
    if facts.uid != me {
        return Check::warn(
            name,
            format!("owned by uid {}, not by uid {me} who runs this", facts.uid),
            format!("run `medrec doctor` as the service user, or `chown {me} {}`", shell_word(path)),
        );
    }
    Check::ok(name, format!("private (mode {mode:04o}, owned by uid {me})"))
}

/// A secret named in the config: where it comes from and whether it is private and readable.
/// `loaded` is the outcome of reading it (the value itself is never seen here).
pub fn secret(key: &str, source: &SecretSource, facts: Option<Facts>, loaded: Result<(), String>, me: u32) -> Check {
    let name = format!("secret {key}");
    let fix = match source {
        SecretSource::File(p) => format!(
            "put the secret on the first line of {0}, then `chmod 600 {0}` (or use a systemd credential)",
            shell_word(p)
        ),
        SecretSource::Env(v) => format!("set {v} in the service's environment (systemd: a credential or Environment=)"),
    };
    if let Err(e) = loaded {
        return Check::fail(name, e, fix);
    }
    match (source, facts) {
        (SecretSource::File(path), Some(facts)) => {
            let check = private(&name, path, facts, me);
            match check.outcome {
                super::Outcome::Ok(_) => Check::ok(name, format!("{source}, private, readable")),
                outcome => Check { name, outcome },
            }
        }
        _ => Check::ok(name, format!("{source}, set")),
    }
}

// --- the shell: looks at the disk ---

/// The effective user id of this process.
pub fn me() -> u32 {
    crate::mail::files::effective_uid()
}

pub fn facts(path: &Path) -> std::io::Result<Facts> {
    let meta = std::fs::metadata(path)?;
    Ok(Facts { mode: meta.permissions().mode(), uid: meta.uid(), is_dir: meta.is_dir() })
}

/// [`private`] for a path on disk; a path that cannot be examined fails.
pub fn private_on_disk(name: &str, path: &Path) -> Check {
    match facts(path) {
        Ok(f) => private(name, path, f, me()),
        Err(e) => Check::fail(
            format!("{name} {}", path.display()),
            format!("cannot examine it: {e}"),
            "check that the path exists and that this user may enter its parent directories",
        ),
    }
}

/// The machine's zone: the target of `/etc/localtime` below `zoneinfo/`, else `/etc/timezone`.
pub fn machine_time_zone() -> Option<String> {
    let link = std::fs::read_link("/etc/localtime").ok();
    let from_link = link.as_ref().and_then(|l| l.to_str()).and_then(|l| l.split_once("zoneinfo/")).map(|(_, z)| z);
    match from_link {
        Some(zone) => Some(zone.to_string()),
        None => std::fs::read_to_string("/etc/timezone").ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
    }
}

/// The checks of every secret in the config.
pub fn secrets(settings: &Settings) -> Vec<Check> {
    settings
        .secret_sources()
        .into_iter()
        .map(|(key, source)| {
            let facts = match source {
                SecretSource::File(p) => facts(p).ok(),
                SecretSource::Env(_) => None,
            };
            secret(key, source, facts, source.load().map(drop), me())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Outcome;

    const ME: u32 = 1000;

    fn dir(mode: u32) -> Facts {
        Facts { mode, uid: ME, is_dir: true }
    }

    #[test]
    fn private_directories_and_files_pass() {
        let c = private("documents directory", Path::new("/srv/medrec/documents"), dir(0o40700), ME);
        assert_eq!(c, Check::ok("documents directory /srv/medrec/documents", "private (mode 0700, owned by uid 1000)"));
        let file = Facts { mode: 0o100600, uid: ME, is_dir: false };
        assert!(matches!(private("database file", Path::new("/srv/m.db"), file, ME).outcome, Outcome::Ok(_)));
    }

    #[test]
    fn a_world_readable_documents_directory_fails_with_the_chmod_to_run() {
        let c = private("documents directory", Path::new("/srv/medrec/documents"), dir(0o755), ME);
        assert_eq!(
            c.outcome,
            Outcome::Fail(
                "mode 0755: every user on this machine can list and read it".into(),
                "chmod 700 /srv/medrec/documents".into()
            )
        );
        let file = Facts { mode: 0o644, uid: ME, is_dir: false };
        let c = private("database file", Path::new("/srv/my db"), file, ME);
        assert!(matches!(&c.outcome, Outcome::Fail(_, fix) if fix == "chmod 600 '/srv/my db'"), "{c:?}");
    }

    #[test]
    fn group_access_and_another_owner_warn() {
        let c = private("state directory", Path::new("/srv/medrec"), dir(0o750), ME);
        assert!(
            matches!(&c.outcome, Outcome::Warn(what, fix) if what.contains("group") && fix == "chmod 700 /srv/medrec")
        );
        let c = private("state directory", Path::new("/srv/medrec"), dir(0o700), 0);
        assert!(matches!(&c.outcome, Outcome::Warn(what, fix) if what.contains("uid 1000") && fix.contains("chown 0")));
    }

    #[test]
    fn secrets_say_where_they_come_from_and_never_what_they_are() {
        let file = SecretSource::File("/etc/medrec/smtp".into());
        let facts = Facts { mode: 0o600, uid: ME, is_dir: false };
        let c = secret("outgoing.smtp.password", &file, Some(facts), Ok(()), ME);
        assert_eq!(c, Check::ok("secret outgoing.smtp.password", "file /etc/medrec/smtp, private, readable"));
        let c = secret("outgoing.smtp.password", &file, Some(Facts { mode: 0o640, ..facts }), Ok(()), ME);
        assert!(matches!(&c.outcome, Outcome::Warn(_, fix) if fix == "chmod 600 /etc/medrec/smtp"), "{c:?}");
        let env = SecretSource::Env("TELNYX_KEY".into());
        let c = secret("fax.telnyx.api_key", &env, None, Err("environment variable TELNYX_KEY is not set".into()), ME);
        assert!(
            matches!(&c.outcome, Outcome::Fail(what, fix) if what.contains("not set") && fix.contains("TELNYX_KEY"))
        );
    }

    #[test]
    fn the_time_zone_line_shows_the_firms_time() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T15:04:00Z").unwrap().to_utc();
        let ny = chrono_tz::America::New_York;
        let c = time_zone(ny, now, Some("Etc/UTC"));
        assert_eq!(
            c.outcome,
            Outcome::Ok(
                "firm.time_zone America/New_York, now 2026-11-23 10:04 EST (UTC-05:00) there; this machine uses \
                 Etc/UTC, which is fine: dates and business hours use America/New_York"
                    .into()
            )
        );
        let same = time_zone(ny, now, Some("America/New_York"));
        assert!(matches!(same.outcome, Outcome::Ok(d) if d.ends_with("this machine uses the same zone")));
    }
}
