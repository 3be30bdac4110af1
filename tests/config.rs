//! The shipped configs pass `check-config`; broken ones fail with messages that name the key,
//! say what is accepted, and keep secrets out of the file.

use std::path::Path;
use std::process::Command;

fn check_config(path: &Path, credentials: Option<&Path>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_medrec"));
    cmd.args(["check-config", "--config"]).arg(path);
    if let Some(dir) = credentials {
        cmd.current_dir(dir);
    }
    let out = cmd.output().expect("run medrec");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn shipped(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(name)
}

#[test]
fn embedded_default_passes_without_warnings() {
    let (ok, text) = check_config(&shipped("medrec.toml"), None);
    assert!(ok, "{text}");
    assert!(text.contains("config OK"), "{text}");
    assert!(!text.contains("warning"), "{text}");
    assert!(text.contains("maildir"), "{text}");
}

#[test]
fn production_example_passes_and_reports_missing_secrets_as_warnings() {
    let (ok, text) = check_config(&shipped("medrec.example.toml"), None);
    assert!(ok, "{text}");
    assert!(text.contains("imap records@denhamlaw.example@imap.denhamlaw.example:993"), "{text}");
    assert!(text.contains("verified by mx.denhamlaw.example"), "{text}");
    assert!(text.contains("warning: secret not readable now"), "{text}");
}

#[test]
fn production_example_loads_into_typed_settings() {
    let settings = medrec::config::load(&shipped("medrec.example.toml")).expect("loads");
    assert_eq!(settings.firm.time_zone, chrono_tz::America::New_York);
    assert_eq!(settings.staff.len(), 2);
    let medrec::config::InboxSource::Imap(imap) = &settings.inbox.source else { panic!("imap inbox") };
    assert_eq!(imap.tls, medrec::config::TlsMode::Implicit);
    assert_eq!(imap.processed_folder, "Processed");
    let medrec::config::OutgoingTransport::Smtp(smtp) = &settings.outgoing.transport else { panic!("smtp") };
    assert_eq!(smtp.tls, medrec::config::TlsMode::StartTls);
}

#[test]
fn relative_paths_follow_the_config_file_not_the_working_directory() {
    let settings = medrec::config::load(&shipped("medrec.toml")).expect("loads");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(settings.database, std::path::absolute(root.join("var/medrec.db")).unwrap());
}

fn broken(dir: &Path, from: &str, to: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(shipped("medrec.example.toml")).unwrap();
    assert!(text.contains(from), "fixture text {from:?} not in the example config");
    let path = dir.join("broken.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

#[test]
fn an_unknown_key_fails_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check_config(&broken(dir.path(), "processed_folder =", "procesed_folder ="), None);
    assert!(!ok, "{text}");
    assert!(text.contains("unknown field `procesed_folder`"), "{text}");
    assert!(text.contains("processed_folder"), "the accepted keys are listed: {text}");
}

#[test]
fn bad_values_say_what_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check_config(&broken(dir.path(), "tls = \"starttls\"", "tls = \"sometimes\""), None);
    assert!(!ok);
    assert!(
        text.contains("outgoing.smtp.tls = \"sometimes\" is not accepted; use \"implicit\", \"starttls\" or \"none\""),
        "{text}"
    );
    let (ok, text) = check_config(&broken(dir.path(), "America/New_York", "Eastern"), None);
    assert!(!ok);
    assert!(text.contains("not an IANA time zone"), "{text}");
    let (ok, text) = check_config(&broken(dir.path(), "tls = \"implicit\"", "tls = \"none\""), None);
    assert!(!ok);
    assert!(text.contains("only for a loopback host"), "{text}");
}

#[test]
fn a_password_in_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) =
        check_config(&broken(dir.path(), "\ntimeout_secs = 30", "\ntimeout_secs = 30\npassword = \"hunter2\""), None);
    assert!(!ok);
    assert!(text.contains("secrets are not allowed in the config file"), "{text}");
    assert!(!text.contains("hunter2"), "the secret is echoed: {text}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(shipped("medrec.example.toml")).unwrap();
    let text = text
        .replace("state = \"KY\"", "state = \"Kentucky\"")
        .replace("log_format = \"human\"", "log_format = \"xml\"");
    let path = dir.path().join("two.toml");
    std::fs::write(&path, text).unwrap();
    let (ok, text) = check_config(&path, None);
    assert!(!ok);
    assert!(text.contains("2 problem(s)"), "{text}");
}

#[test]
fn world_readable_secret_files_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("pw");
    std::fs::write(&secret, "s3cret\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let source = medrec::config::SecretSource::File(secret.clone());
    assert!(source.load().unwrap_err().contains("readable by every user"));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(source.load().unwrap().expose_secret(), "s3cret");
}

#[test]
fn unverified_senders_on_a_remote_inbox_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) =
        check_config(&broken(dir.path(), "sender_trust = \"verified\"", "sender_trust = \"unverified\""), None);
    assert!(ok, "{text}");
    assert!(text.contains("warning: inbox.sender_trust = \"unverified\" with an IMAP inbox"), "{text}");
}

#[test]
fn migrate_creates_a_private_database() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(shipped("medrec.toml")).unwrap();
    let config = dir.path().join("medrec.toml");
    std::fs::write(&config, text.replace("../var/", "state/")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_medrec")).args(["migrate", "--config"]).arg(&config).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = dir.path().join("state/medrec.db");
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(dir.path().join("state")).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_missing_config_file_is_named() {
    let (ok, text) = check_config(Path::new("/nonexistent/medrec.toml"), None);
    assert!(!ok);
    assert!(text.contains("/nonexistent/medrec.toml") && text.contains("cannot read the file"), "{text}");
}

/// The production example with its secrets in `credentials/` beside it (as `/etc/medrec/credentials`).
fn example_with_credentials(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let config = dir.join("medrec.toml");
    std::fs::copy(shipped("medrec.example.toml"), &config).unwrap();
    std::fs::create_dir(dir.join("credentials")).unwrap();
    for name in ["imap-password", "smtp-password", "telnyx-api-key"] {
        let file = dir.join("credentials").join(name);
        std::fs::write(&file, "from-the-config-dir\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    config
}

#[test]
fn credentials_are_read_from_systemd_under_the_service_and_beside_the_config_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let config = example_with_credentials(dir.path());
    // Outside the service (admin commands): credentials/NAME beside the config file.
    let (ok, text) = check_config(&config, None);
    assert!(ok, "{text}");
    assert!(!text.contains("warning: secret not readable now"), "{text}");
    // Under the service: $CREDENTIALS_DIRECTORY, which here lacks them, so they are named as missing.
    let systemd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_medrec"))
        .args(["check-config", "--config"])
        .arg(&config)
        .env("CREDENTIALS_DIRECTORY", systemd.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{}/imap-password", systemd.path().display())), "{text}");
    assert!(!text.contains("from-the-config-dir"), "secrets are never printed: {text}");
}

#[test]
fn root_is_refused_on_state_that_belongs_to_the_service_user() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    // nobody (65534) stands in for the service user.
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    let text = std::fs::read_to_string(shipped("medrec.toml")).unwrap();
    let config = dir.path().join("medrec.toml");
    std::fs::write(&config, text.replace("../var/", "state/")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_medrec")).args(["migrate", "--config"]).arg(&config).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("run this as that user (sudo -u nobody medrec"), "{stderr}");
    assert_eq!(std::fs::read_dir(&state).unwrap().count(), 0, "root created nothing there");
}
