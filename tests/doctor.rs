//! `medrec doctor`, the real binary: the shipped embedded default passes every check; against
//! the loopback Postfix + Dovecot and the Telnyx mock (Prism, the vendor's OpenAPI document) the
//! IMAP login, SMTP login and fax credentials pass; a wrong IMAP password and a world-readable
//! documents directory fail with their fix and a non-zero exit; `--send-test-to` delivers exactly
//! one message, and without it nothing is sent.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// `medrec doctor --config CONFIG ARGS`: (exit success, stdout, stderr).
fn doctor(config: &Path, args: &[&str]) -> (bool, String, String) {
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_medrec"))
        .arg("doctor")
        .args(args)
        .arg("--config")
        .arg(config)
        .env("NO_COLOR", "1")
        .output()
        .expect("run medrec doctor");
    let (out, err) = (String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned());
    eprintln!("--- stdout ---\n{out}--- stderr ---\n{err}");
    (status.success(), out, err)
}

/// The checklist line starting with `prefix` (e.g. `[ ok ] IMAP login`).
fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
}

/// A bot on the loopback mail servers with its fax gateway on the Telnyx mock; `imap_password`
/// replaces the IMAP password (the SMTP one stays right).
fn bot_on_servers(
    servers: &common::MailServers,
    telnyx: &str,
    imap_password: Option<&str>,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let (bot, staff) = (common::unique_address("bot"), common::unique_address("staff"));
    let dir = tempfile::tempdir().unwrap();
    let mut sections = servers.bot_sections(dir.path(), &bot, "verified");
    if let Some(wrong) = imap_password {
        let right = dir.path().join("mail-password").display().to_string();
        let imap = common::secret_file(dir.path(), "imap-password", wrong);
        // The first password_file is the [inbox.imap] one.
        sections = sections.replacen(&right, &imap.display().to_string(), 1);
    }
    let config = common::write_config(dir.path(), &bot, &staff, &sections);
    let key = common::secret_file(dir.path(), "telnyx-key", "KEY0123456789");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[fax.directory]\npath = \"var/fax/outbox\"\n",
        &format!(
            "[fax.telnyx]\napi_key_file = \"{}\"\nconnection_id = \"234423\"\nfrom = \"+18595550199\"\n\
             base_url = \"{telnyx}\"\npublic_key = \"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=\"\ntimeout_secs = 20\n",
            key.display()
        ),
    );
    assert!(text.contains("[fax.telnyx]"), "the test config has no [fax.directory] section to replace");
    std::fs::write(&config, text).unwrap();
    (dir, config)
}

#[test]
fn the_embedded_default_passes_every_check() {
    let embedded = common::Embedded::new(false);
    let (ok, out, _) = doctor(&embedded.config, &[]);
    assert!(ok, "doctor failed on the embedded default");
    assert!(!out.contains("[FAIL]") && !out.contains("[warn]"), "{out}");
    for prefix in [
        "[ ok ] config ",
        "[ ok ] time zone: firm.time_zone America/New_York",
        "[ ok ] database ",
        "[ ok ] documents directory ",
        "[ ok ] Maildir inbox ",
        "[ ok ] outgoing directory ",
        "[ ok ] fax directory ",
    ] {
        line(&out, prefix);
    }
    assert!(out.trim_end().ends_with("checks passed"), "{out}");
    // No test message without --send-test-to.
    let outbox = embedded.root().join("var/mail/outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(files.is_empty(), "the outbox holds {files:?}");
}

#[test]
fn real_servers_and_the_telnyx_mock_pass() {
    let Some(servers) = common::mail_servers() else { return };
    let Some(telnyx) = common::prism_telnyx_url() else { return };
    let (_dir, config) = bot_on_servers(&servers, &telnyx, None);
    let (ok, out, _) = doctor(&config, &[]);
    let imap = line(&out, "[ ok ] IMAP login bot-");
    assert!(imap.contains("STARTTLS, folder INBOX (0 messages), processed folder Processed"), "{imap}");
    let smtp = line(&out, &format!("[ ok ] SMTP authentication at {}:{}", servers.host, servers.submission_port));
    assert!(smtp.contains("logged in as bot-"), "{smtp}");
    line(&out, "[ ok ] secret inbox.imap.password: file ");
    line(&out, "[ ok ] secret fax.telnyx.api_key: file ");
    let fax = line(&out, "[ ok ] fax gateway Telnyx");
    assert!(fax.contains("API key accepted"), "{fax}");
    assert!(!out.contains("[FAIL]"), "{out}");
    assert!(ok, "doctor failed");
    assert!(!out.contains("KEY0123456789"), "the API key was printed");
}

#[test]
fn a_wrong_imap_password_fails_with_a_fix_and_is_never_printed() {
    let Some(servers) = common::mail_servers() else { return };
    let Some(telnyx) = common::prism_telnyx_url() else { return };
    let wrong = "wrong-Pa55word-7f3k";
    let (_dir, config) = bot_on_servers(&servers, &telnyx, Some(wrong));
    let (ok, out, err) = doctor(&config, &[]);
    assert!(!ok, "doctor passed with a wrong IMAP password");
    let imap = line(&out, "[FAIL] IMAP login bot-");
    assert!(imap.contains("login refused"), "{imap}");
    assert!(imap.contains("— fix: check inbox.imap.user") && imap.contains("imap-password"), "{imap}");
    // Only the IMAP line fails: SMTP has the right password.
    line(&out, "[ ok ] SMTP authentication at ");
    assert_eq!(out.lines().filter(|l| l.starts_with("[FAIL]")).count(), 1, "{out}");
    assert!(!out.contains(wrong) && !err.contains(wrong), "the password was printed");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_to_delivers_exactly_one_message_and_without_it_nothing_is_sent() {
    let Some(servers) = common::mail_servers() else { return };
    let Some(telnyx) = common::prism_telnyx_url() else { return };
    let (_dir, config) = bot_on_servers(&servers, &telnyx, None);
    let admin = common::unique_address("admin");
    let mut mailbox = servers.open(&admin, "INBOX").await;

    let (ok, out, _) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || doctor(&config, &[])
    })
    .await
    .unwrap();
    assert!(ok && !out.contains("test message to"), "{out}");

    let (ok, out, _) = tokio::task::spawn_blocking({
        let (config, admin) = (config.clone(), admin.clone());
        move || doctor(&config, &["--send-test-to", &admin])
    })
    .await
    .unwrap();
    assert!(ok, "doctor --send-test-to failed");
    line(&out, &format!("[ ok ] test message to {admin}: accepted by "));

    let mails = mailbox.wait_until(Duration::from_secs(60), |m| !m.is_empty()).await;
    // Give a stray second message (from the run without the flag) time to arrive too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = if mails.len() == 1 { mailbox.all().await } else { mails };
    assert_eq!(mails.len(), 1, "{:?}", mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
    let mail = &mails[0];
    assert_eq!(mail.subject, "medrec doctor: test message");
    assert!(mail.from.as_deref().is_some_and(|f| f.starts_with("bot-")), "{:?}", mail.from);
    let auto = mail.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("auto-submitted")).map(|(_, v)| v.as_str());
    assert_eq!(auto, Some("auto-generated"));
}

#[test]
fn a_world_readable_documents_directory_is_flagged_with_the_chmod_to_run() {
    let embedded = common::Embedded::new(false);
    let documents = embedded.root().join("var/documents");
    std::fs::create_dir_all(&documents).unwrap();
    std::fs::set_permissions(&documents, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (ok, out, _) = doctor(&embedded.config, &[]);
    assert!(!ok, "doctor passed with a world-readable documents directory");
    let flagged = line(&out, &format!("[FAIL] documents directory {}", documents.display()));
    assert!(flagged.contains("mode 0755"), "{flagged}");
    assert!(flagged.ends_with(&format!("— fix: chmod 700 {}", documents.display())), "{flagged}");
}
