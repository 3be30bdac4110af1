//! The systemd unit, checked statically: `systemd-analyze verify` accepts it, its hardening
//! scores "OK" or better in `systemd-analyze security --offline`, and the directives the daemon
//! relies on are there. Skipped with a message where systemd-analyze is not installed.

use std::path::Path;
use std::process::Command;

fn unit_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/medrec.service")).unwrap()
}

/// The unit with its binary path pointed at the one this build made (verify checks it exists).
fn unit_here(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("medrec.service");
    std::fs::write(&path, unit_text().replace("/usr/local/bin/medrec", env!("CARGO_BIN_EXE_medrec"))).unwrap();
    path
}

fn analyze() -> Option<Command> {
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(out) if out.status.success() => Some(Command::new("systemd-analyze")),
        _ => {
            eprintln!("skipped: systemd-analyze is not installed");
            None
        }
    }
}

#[test]
fn the_unit_declares_what_the_daemon_relies_on() {
    let unit = unit_text();
    let directives: Vec<&str> = unit.lines().map(str::trim).filter(|l| !l.starts_with('#')).collect();
    for wanted in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=2min",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=medrec",
        "ConfigurationDirectory=medrec",
        "LoadCredential=imap-password:/etc/medrec/credentials/imap-password",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "SystemCallFilter=@system-service",
        "UMask=0077",
    ] {
        assert!(directives.contains(&wanted), "systemd/medrec.service lacks {wanted}");
    }
    // Every command is absolute and names the config: nothing depends on the working directory.
    for exec in directives.iter().filter(|l| l.starts_with("Exec")) {
        let command = exec.split_once('=').unwrap().1;
        assert!(command.starts_with('/'), "{exec}");
        if command.contains("/medrec ") {
            assert!(command.contains("--config /etc/medrec/medrec.toml"), "{exec}");
        }
    }
    // The stop timeout leaves room for the daemon's own drain deadline (20 s by default).
    assert!(directives.contains(&"TimeoutStopSec=45s"));
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let Some(mut cmd) = analyze() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = cmd.arg("verify").arg(unit_here(dir.path())).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify failed:\n{stderr}");
    let complaints: Vec<&str> = stderr.lines().filter(|l| l.contains("medrec.service")).collect();
    assert!(complaints.is_empty(), "systemd-analyze verify complains:\n{stderr}");
}

#[test]
fn the_unit_is_hardened_to_an_ok_exposure() {
    let Some(mut cmd) = analyze() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = cmd.args(["security", "--offline=yes", "--no-pager"]).arg(unit_here(dir.path())).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("Overall exposure level")).unwrap_or_else(|| panic!("{text}"));
    let score: f64 = line.split(':').nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    eprintln!("{line}");
    assert!(score <= 2.0, "exposure {score} is above 2.0 (\"OK\"):\n{text}");
}
