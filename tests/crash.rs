//! SIGKILL in the middle of a send burst, over real Postfix + Dovecot: twenty new requests go in,
//! the daemon is killed while their packages and confirmations are going out, and started again.
//! Afterwards every request exists once, every email the database holds is sent, and what each
//! provider's and the staff member's mailbox received matches the database exactly, Message-ID
//! for Message-ID. Email is at-least-once by nature (a kill after the server took a message but
//! before the database recorded it sends it again on restart, with the same Message-ID), so at
//! most the one email in flight at the kill may arrive twice; nothing may be missing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::Daemon;
use medrec::core::reference::Reference;

const REQUESTS: usize = 20;
const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_mid_burst_resumes_without_losing_or_repeating_mail() {
    let Some(servers) = common::mail_servers() else { return };
    let (bot, staff) = (common::unique_address("bot"), common::unique_address("staff"));
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), &bot, &staff, &servers.bot_sections(dir.path(), &bot, "verified"));
    let providers: Vec<String> = (0..REQUESTS).map(|_| common::unique_address("roi")).collect();
    let mut csv = "name,street,city,state,zip,email,preferred_method\n".to_string();
    for (k, address) in providers.iter().enumerate() {
        csv.push_str(&format!("Loopback Clinic {k},{k} Test Way,Lexington,KY,40507,{address},email\n"));
    }
    common::import_providers(&config, &csv);

    let daemon = Daemon::start(&config);
    daemon.wait_for_log("waiting for new mail", 0, LIMIT);
    let pdf = common::authorization_pdf();
    for k in 0..REQUESTS {
        let form = format!(
            "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, Lexington, KY \
             40507\nProvider: Loopback Clinic {k}\nRecords: medical\nFrom: 01/15/2026\n"
        );
        let id = format!("<new-{k}@denhamlaw.example>");
        let raw = common::message_with_attachment(&staff, &bot, "NEW", &id, &form, "auth.pdf", &pdf);
        servers.submit(&staff, &bot, &raw).await;
    }
    // Kill once a few emails have gone: the rest of the burst is in hand or still queued.
    let mut from = 0;
    for _ in 0..3 {
        from = daemon.wait_for_log("email sent", from, LIMIT) + 1;
    }
    daemon.kill();
    let db = dir.path().join("var/medrec.db");
    let store = medrec::store::Store::open(&db).await.unwrap();
    let sent_at_kill = store.outbox_emails().await.unwrap().iter().filter(|e| e.state == "sent").count();
    store.close().await;
    assert!(sent_at_kill < 2 * REQUESTS, "the kill came after the burst ({sent_at_kill} sent); it proves nothing");

    let daemon = Daemon::start(&config);
    daemon.wait_for_log("waiting for new mail", 0, LIMIT);
    // Every package and confirmation sent, as the database says.
    let deadline = Instant::now() + LIMIT;
    let emails = loop {
        let store = medrec::store::Store::open(&db).await.unwrap();
        let emails = store.outbox_emails().await.unwrap();
        store.close().await;
        if emails.len() >= 2 * REQUESTS && emails.iter().all(|e| e.state == "sent") {
            break emails;
        }
        assert!(Instant::now() < deadline, "not everything was sent after the restart: {emails:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(daemon.stop().code(), Some(0));

    // Each request exactly once, each with one package and one confirmation.
    let store = medrec::store::Store::open(&db).await.unwrap();
    for k in 0..REQUESTS as i64 {
        assert!(store.request_detail(Reference(1001 + k)).await.unwrap().is_some(), "MR-{} lost", 1001 + k);
    }
    assert!(store.request_detail(Reference(1001 + REQUESTS as i64)).await.unwrap().is_none(), "a request twice");
    store.close().await;
    assert_eq!(emails.len(), 2 * REQUESTS, "{emails:#?}");

    // What the mailboxes received, against what the database says was sent to them.
    let mut expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for e in &emails {
        expected.entry(e.recipients.as_str()).or_default().insert(e.message_id.clone());
    }
    let mut repeated = 0;
    for (address, ids) in &expected {
        let mut inbox = servers.open(address, "INBOX").await;
        let mails = inbox.wait_until(LIMIT, |m| m.len() >= ids.len()).await;
        let received: Vec<String> = mails.iter().filter_map(|m| m.message_id.clone()).collect();
        let distinct: BTreeSet<String> = received.iter().cloned().collect();
        assert_eq!(&distinct, ids, "{address} received other mail than the database sent it");
        repeated += received.len() - distinct.len();
    }
    assert_eq!(expected.len(), REQUESTS + 1, "twenty providers and the staff member");
    assert!(repeated <= 1, "{repeated} emails arrived twice; only the one in flight at the kill may");
}
