//! Is a daemon using this database? Restore must not pull the database out from under one.
//! Best effort, from two honest but incomplete signals:
//!
//! 1. SQLite's own locks. Every connection with a WAL database open holds a shared POSIX lock
//!    on bytes 120..=128 of its `-shm` file (the read/write slots and the "dead-man switch",
//!    `UNIX_SHM_BASE`/`UNIX_SHM_DMS` in SQLite's `os_unix.c`); `F_GETLK` asks the kernel who
//!    holds one without taking it. Catches any process with the database open right now: the
//!    daemon, `medrec due`, an `sqlite3` shell. Misses a daemon whose pool has closed its idle
//!    connection (sqlx closes one idle for 10 minutes, and any after 30, and opens another when
//!    next needed), and locks taken on another machine (a network file system).
//! 2. The process table: a `medrec … run` whose config file is this one (the same file, by
//!    device and inode). Catches the idle daemon. Misses a daemon of another user (its `/proc`
//!    entries are closed to us), one run through a renamed binary, or one whose different config
//!    names the same database.
//!
//! Hence the README's first step: `systemctl stop medrec`.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::config::{LOCAL_CONFIG, SYSTEM_CONFIG, Settings};

/// Says who appears to be using the database of `settings`, if anyone does.
pub fn holder(settings: &Settings) -> Option<String> {
    if let Some(pid) = shm_lock_holder(&super::sibling(&settings.database, "-shm")) {
        // The kernel says 0 for a process outside our PID namespace.
        let who = if pid > 0 { format!("process {pid}") } else { "another process".to_string() };
        return Some(format!("the database {} is open in {who}", settings.database.display()));
    }
    daemon_with_config(&settings.source)
        .map(|pid| format!("the daemon (`medrec run` with {}) is running as process {pid}", settings.source.display()))
}

/// The process holding a lock on the WAL index's lock bytes, if another process does.
fn shm_lock_holder(shm: &Path) -> Option<i32> {
    let file = fs::File::open(shm).ok()?;
    // SAFETY: `flock` is a plain C struct; all zeroes is a valid value.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    lock.l_start = 120;
    lock.l_len = 9;
    // SAFETY: F_GETLK only reads and fills `lock`, which outlives the call, for a file we opened.
    let answered = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) } == 0;
    (answered && lock.l_type != libc::F_UNLCK as libc::c_short).then_some(lock.l_pid)
}

/// A `medrec … run` process (not this one) that loads the config file `config`.
fn daemon_with_config(config: &Path) -> Option<u32> {
    let ours = fs::metadata(config).ok()?;
    let me = std::process::id();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else { continue };
        let args: Vec<&str> = cmdline.split(|b| *b == 0).filter_map(|a| std::str::from_utf8(a).ok()).collect();
        let is_medrec = args.first().and_then(|a| Path::new(a).file_name()).is_some_and(|n| n == "medrec");
        if pid == me || !is_medrec || !args.contains(&"run") {
            continue;
        }
        let Ok(cwd) = fs::read_link(entry.path().join("cwd")) else { continue };
        let theirs = fs::metadata(config_of(&args, &cwd));
        if theirs.is_ok_and(|m| m.dev() == ours.dev() && m.ino() == ours.ino()) {
            return Some(pid);
        }
    }
    None
}

/// The config file a `medrec` command line started in `cwd` loads (as `config::choose_path`).
fn config_of(args: &[&str], cwd: &Path) -> PathBuf {
    let given = args.windows(2).find(|w| w[0] == "--config").map(|w| w[1]);
    match given.or_else(|| args.iter().find_map(|a| a.strip_prefix("--config="))) {
        Some(path) => cwd.join(path),
        None if cwd.join(LOCAL_CONFIG).exists() => cwd.join(LOCAL_CONFIG),
        None => PathBuf::from(SYSTEM_CONFIG),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_a_command_line_loads() {
        let cwd = Path::new("/nonexistent-cwd");
        assert_eq!(config_of(&["medrec", "run", "--config", "c.toml"], cwd), cwd.join("c.toml"));
        assert_eq!(config_of(&["medrec", "--config=/etc/x.toml", "run"], cwd), Path::new("/etc/x.toml"));
        assert_eq!(config_of(&["medrec", "run"], cwd), Path::new(SYSTEM_CONFIG));
    }

    #[test]
    fn an_idle_daemon_is_found_by_its_command_line() {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().unwrap();
        let (config, other) = (dir.path().join("medrec.toml"), dir.path().join("other.toml"));
        fs::write(&config, "").unwrap();
        fs::write(&other, "").unwrap();
        // Stands in for `medrec run --config …` holding no database connection.
        let mut fake = std::process::Command::new("sh")
            .arg0("medrec")
            .args(["-c", "sleep 30; true", "run", "--config"])
            .arg(&config)
            .spawn()
            .unwrap();
        // Right after exec the kernel may still show an empty command line: look a few times.
        let found = (0..100).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            daemon_with_config(&config)
        });
        let not_ours = daemon_with_config(&other);
        fake.kill().unwrap();
        fake.wait().unwrap();
        assert_eq!(found, Some(fake.id()));
        assert_eq!(not_ours, None);
    }
}
