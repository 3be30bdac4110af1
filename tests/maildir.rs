//! The embedded default end to end with the real binary: a HELP dropped into the local Maildir
//! gives one `.eml` answer in the outbox directory, and nothing else is answered or repeated.

mod common;

use std::path::Path;
use std::time::Duration;

use common::Daemon;

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
const LIMIT: Duration = Duration::from_secs(20);

fn help(id: &str, extra: &[&str]) -> Vec<u8> {
    common::message(&format!("Demo Paralegal <{STAFF}>"), BOT, "HELP", id, "HELP\n", extra)
}

#[test]
fn dropped_help_is_answered_once_into_the_outbox() {
    let e = common::Embedded::new(false);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    assert!(root.join("var/mail/inbox/new").is_dir() && root.join("var/mail/inbox/tmp").is_dir());

    common::drop_mail(root, "1000.a.host", &help("<help-1@denhamlaw.example>", &[]));
    let files = e.outbox_files(1);
    let answer = medrec::mail::parse::parse(&std::fs::read(&files[0]).unwrap());
    assert_eq!(answer.from.as_deref(), Some(BOT));
    assert_eq!(answer.subject, "Re: HELP");
    assert_eq!(answer.in_reply_to.as_deref(), Some("<help-1@denhamlaw.example>"));
    assert_eq!(answer.header("Auto-Submitted"), Some("auto-replied"));
    assert!(answer.message_id.as_deref().unwrap().ends_with("@denhamlaw.example>"));
    assert!(answer.text.contains("PROVIDER FIND <text>"), "{}", answer.text);
    assert!(root.join("var/mail/inbox/cur/1000.a.host:2,S").exists(), "the original moves to cur/");
    assert!(std::fs::read_dir(root.join("var/mail/inbox/new")).unwrap().next().is_none());

    // Not answered: a provider (its mail goes to staff for triage instead), an auto-reply from a
    // staff address, and the same HELP again.
    let provider = common::message("roi@provider.example", BOT, "HELP", "<p-1@provider.example>", "HELP\n", &[]);
    common::drop_mail(root, "1001.b.host", &provider);
    common::drop_mail(root, "1002.c.host", &help("<auto-1@denhamlaw.example>", &["Auto-Submitted: auto-replied"]));
    common::drop_mail(root, "1003.d.host", &help("<help-1@denhamlaw.example>", &[]));
    // Maildir order is name order: the answer to this sentinel proves the three before it were taken.
    common::drop_mail(root, "1004.e.host", &help("<help-2@denhamlaw.example>", &[]));
    let files = e.outbox_files(3);
    assert_eq!(files.len(), 3, "the triage notice and the sentinel's answer");
    let out: Vec<_> = files.iter().map(|f| medrec::mail::parse::parse(&std::fs::read(f).unwrap())).collect();
    assert!(out.iter().all(|m| m.header("To").is_some_and(|t| t.contains(STAFF))), "nothing to the provider");
    assert!(out[1].subject.starts_with("Triage"), "{}", out[1].subject);
    assert_eq!(out[2].in_reply_to.as_deref(), Some("<help-2@denhamlaw.example>"));

    let status = daemon.stop();
    assert!(status.success(), "SIGTERM exits 0, got {status}");

    // A restarted daemon answers nothing again, but does answer new mail.
    let daemon = Daemon::start(config);
    common::drop_mail(root, "1005.f.host", &help("<help-3@denhamlaw.example>", &[]));
    let files = e.outbox_files(4);
    assert_eq!(files.len(), 4);
    assert!(daemon.stop().success());
    let lines = std::fs::read_dir(root.join("var/mail/inbox/cur")).unwrap().count();
    assert_eq!(lines, 6, "every message is kept in cur/");
}

#[test]
fn files_holding_patient_data_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let e = common::Embedded::new(false);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    common::drop_mail(root, "1.x", &help("<perm@denhamlaw.example>", &[]));
    let files = e.outbox_files(1);
    assert!(daemon.stop().success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&root.join("var/medrec.db")), 0o600);
    assert_eq!(mode(&root.join("var/documents")), 0o700);
    assert_eq!(mode(&files[0]), 0o600);
}

#[test]
fn a_sender_is_not_answered_more_often_than_the_hourly_limit() {
    let e = common::Embedded::new(false);
    let (root, config) = (e.root(), &e.config);
    let text = std::fs::read_to_string(config).unwrap();
    std::fs::write(
        config,
        text.replace("name = \"Denham Records Bot\"", "name = \"Denham Records Bot\"\nmax_answers_per_hour = 2"),
    )
    .unwrap();
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    for i in 1..=3 {
        common::drop_mail(root, &format!("{i}.x"), &help(&format!("<loop-{i}@denhamlaw.example>"), &[]));
    }
    daemon.wait_for_log("stored:rate_limited", 0, LIMIT);
    e.outbox_files(2);
    assert!(daemon.stop().success());
    assert_eq!(e.outbox_files(0).len(), 2, "the third HELP within the hour is stored, not answered");
}
