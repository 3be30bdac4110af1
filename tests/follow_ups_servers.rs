//! The day-14 follow-up and the morning digest over real Postfix + Dovecot, with the daemon run
//! in this process on a clock the test moves: the provider's mailbox gets the follow-up (threaded
//! to the package, the package attached again), the fax goes to the fax stand-in, and the staff
//! member's mailbox gets a digest naming the request and the follow-up that went out.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use medrec::core::inbound::InboundMail;
use medrec::core::reference::Reference;
use medrec::daemon::clock::Clock;
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(60);

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn subject_has(mails: &[InboundMail], text: &str) -> usize {
    mails.iter().filter(|m| m.subject.contains(text)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_day_14_follow_up_and_the_digest_reach_real_mailboxes() {
    let Some(servers) = common::mail_servers() else { return };
    let (bot, staff, provider) =
        (common::unique_address("bot"), common::unique_address("staff"), common::unique_address("roi"));
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), &bot, &staff, &servers.bot_sections(dir.path(), &bot, "verified"));
    common::import_providers(
        &config,
        &format!(
            "name,street,city,state,zip,fax,email,preferred_method\n\
             Loopback General Hospital,1 Test Way,Lexington,KY,40507,859-555-0111,{provider},email\n"
        ),
    );

    // Monday October 5, 10:00 in New York: the request goes out.
    let clock = Clock::system();
    clock.set(at("2026-10-05T14:00:00Z"));
    let cancel = CancellationToken::new();
    let settings = medrec::config::load(&config).unwrap();
    let daemon = tokio::spawn(medrec::daemon::run_with_clock(settings, cancel.clone(), clock.clone()));
    let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, \
                Lexington, KY 40507\nProvider: Loopback General Hospital\nRecords: medical\nFrom: 01/15/2026\n";
    let pdf = common::authorization_pdf();
    let raw = common::message_with_attachment(&staff, &bot, "NEW", "<new@denhamlaw.example>", form, "auth.pdf", &pdf);
    servers.submit(&staff, &bot, &raw).await;
    let mut provider_inbox = servers.open(&provider, "INBOX").await;
    let package = provider_inbox.wait_until(LIMIT, |m| !m.is_empty()).await.remove(0);
    let db = dir.path().join("var/medrec.db");
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let store = medrec::store::Store::open(&db).await.unwrap();
        let state = store.request_detail(Reference(1001)).await.unwrap().unwrap().state;
        store.close().await;
        if state == "submitted" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "MR-1001 never became submitted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Day 14, Monday October 19 10:05: the follow-up reaches the provider's mailbox.
    clock.set(at("2026-10-19T14:05:00Z"));
    let mails = provider_inbox.wait_until(LIMIT, |m| subject_has(m, "Follow-up") == 1).await;
    let follow_up = mails.iter().find(|m| m.subject.contains("Follow-up")).unwrap();
    assert_eq!(follow_up.in_reply_to, package.message_id);
    assert!(follow_up.subject.contains("[MR-1001]"), "{}", follow_up.subject);
    assert_eq!(follow_up.attachments.len(), 2, "the follow-up letter and the original package");
    assert_eq!(follow_up.header("Auto-Submitted"), Some("auto-generated"));
    let faxes: Vec<_> = std::fs::read_dir(dir.path().join("var/fax/outbox")).unwrap().collect();
    assert_eq!(faxes.len(), 1, "one follow-up fax");

    // Tuesday October 20, 07:31: the morning digest reaches the staff member.
    clock.set(at("2026-10-20T11:31:00Z"));
    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    let mails = staff_inbox.wait_until(LIMIT, |m| subject_has(m, "Records requests digest") == 1).await;
    let digest = mails.iter().find(|m| m.subject.contains("Records requests digest")).unwrap();
    let text = digest.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("MR-1001 Maria Sample, Loopback General Hospital: sent 10/05/2026"), "{text}");
    assert!(text.contains("follow-up 1 (did the provider receive the request?) by email to"), "{text}");
    assert!(text.contains("next: records-due follow-up 11/04/2026"), "{text}");
    cancel.cancel();
    daemon.await.unwrap().unwrap();
    // Nothing went twice.
    assert_eq!(subject_has(&provider_inbox.all().await, "Follow-up"), 1);
}
