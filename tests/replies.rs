//! Provider replies on the embedded default, end to end: a reply to our request email is filed
//! on its request and logged; a reply nobody claims goes to staff for triage with the original
//! attached, and the staff's `FILE MR-n` answer files it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::Daemon;
use medrec::core::reference::Reference;

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
const PROVIDER: &str = "roi@bluegrass-regional.example";
const LIMIT: Duration = Duration::from_secs(60);

/// Starts the daemon and creates MR-1001 at the email-preferred Bluegrass Regional Hospital;
/// returns the daemon and the Message-ID of the request email.
fn with_request(e: &common::Embedded) -> (Daemon, String) {
    let daemon = e.start();
    let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, Lexington, KY 40507\nProvider: Bluegrass Regional Hospital\nFrom: 01/15/2026\n";
    let raw = common::message_with_attachment(
        STAFF,
        BOT,
        "NEW",
        "<new@denhamlaw.example>",
        form,
        "authorization.pdf",
        &common::authorization_pdf(),
    );
    e.drop_mail("0.new", &raw);
    let out = e.outbox(2);
    let request = out.iter().find(|m| m.header("To").is_some_and(|t| t.contains(PROVIDER))).expect("request email");
    (daemon, request.message_id.clone().unwrap())
}

async fn events(root: &Path) -> Vec<(String, String)> {
    let store = medrec::store::Store::open(&root.join("var/medrec.db")).await.unwrap();
    let events = store.events(Reference(1001)).await.unwrap();
    store.close().await;
    events.into_iter().map(|(_, kind, _, detail)| (kind, detail)).collect()
}

#[tokio::test]
async fn a_reply_to_our_request_email_is_filed_on_its_request() {
    let e = common::Embedded::new(true);
    let root = e.root();
    let (daemon, request_id) = with_request(&e);
    let reply = common::message(
        PROVIDER,
        BOT,
        "Re: your request",
        "<reply-1@bluegrass-regional.example>",
        "We received your request and are processing it.\n",
        &[&format!("In-Reply-To: {request_id}")],
    );
    common::drop_mail(root, "1.reply", &reply);
    let at = daemon.wait_for_log("status=filed", 0, LIMIT);
    assert!(daemon.log_lines()[at].contains("request=\"MR-1001\"") || daemon.log_lines()[at].contains("MR-1001"));
    assert!(daemon.stop().success());
    let events = events(root).await;
    let reply = events.iter().find(|(k, _)| k == "reply_received").expect("logged on the request");
    assert!(reply.1.contains("In-Reply-To"), "{}", reply.1);
    assert!(reply.1.starts_with("acknowledgment"), "the class is logged: {}", reply.1);
}

#[tokio::test]
async fn an_roi_desks_automatic_acknowledgment_is_filed_not_triaged() {
    let e = common::Embedded::new(true);
    let root = e.root();
    let (daemon, request_id) = with_request(&e);
    let auto = common::message(
        "noreply@bluegrass-regional.example",
        BOT,
        "Request received - MR-1001",
        "<auto-ack@bluegrass-regional.example>",
        "This is an automated message. Your request for medical records has been received and logged. \
         Please allow 10 business days for processing.\n",
        &["Auto-Submitted: auto-generated", &format!("In-Reply-To: {request_id}")],
    );
    common::drop_mail(root, "1.auto", &auto);
    // A sentinel after it: once answered, the acknowledgment has been taken.
    common::drop_mail(
        root,
        "2.help",
        &common::message(STAFF, BOT, "HELP", "<sentinel@denhamlaw.example>", "HELP\n", &[]),
    );
    let out = e.outbox(3);
    assert!(!out.iter().any(|m| m.subject.starts_with("Triage")), "an automatic acknowledgment went to triage");
    assert!(
        !out.iter().any(|m| m.header("To").is_some_and(|t| t.contains("bluegrass")) && m.subject.starts_with("Re:")),
        "answered a machine"
    );
    assert!(daemon.stop().success());
    let events = events(root).await;
    let filed = events.iter().find(|(k, _)| k == "reply_received").expect("filed on MR-1001");
    assert!(filed.1.starts_with("acknowledgment"), "{}", filed.1);
}

#[tokio::test]
async fn an_unclaimed_reply_goes_to_triage_and_file_files_it() {
    let e = common::Embedded::new(true);
    let root = e.root();
    let (daemon, _) = with_request(&e);
    let stray = common::message(
        "someone@unrelated.example",
        BOT,
        "Records",
        "<stray-1@unrelated.example>",
        "Please see attached.\n",
        &[],
    );
    common::drop_mail(root, "1.stray", &stray);
    let out = e.outbox(3);
    let triage = out.iter().find(|m| m.subject.starts_with("Triage")).expect("triage notice");
    assert!(triage.header("To").unwrap().contains(STAFF));
    assert_eq!(triage.attachments.len(), 1, "the original is attached");
    assert!(String::from_utf8_lossy(&triage.attachments[0].bytes).contains("stray-1@unrelated.example"));
    assert!(triage.text.contains("FILE MR-n"));

    let file = common::message(
        STAFF,
        BOT,
        "Re: Triage: a reply that matches no request",
        "<file-1@denhamlaw.example>",
        "FILE MR-1001\n\n> quoted triage text\n",
        &[&format!("In-Reply-To: {}", triage.message_id.clone().unwrap())],
    );
    common::drop_mail(root, "2.file", &file);
    let out = e.outbox(4);
    let answer =
        out.iter().find(|m| m.in_reply_to.as_deref() == Some("<file-1@denhamlaw.example>")).expect("answer to FILE");
    assert!(answer.text.contains("Filed on MR-1001"), "{}", answer.text);
    assert!(daemon.stop().success());
    assert!(events(root).await.iter().any(|(k, _)| k == "filed"));
}
