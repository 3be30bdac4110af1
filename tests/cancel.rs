//! CANCEL while the package still waits in the outbox: it is withdrawn, not sent, and staff are
//! told nothing went. A package already on its way gets a withdrawal notice instead, and a
//! package retried after its request was cancelled is withdrawn when the sender takes it. The
//! daemon's own intake, store and senders are driven one step at a time, so the package can be
//! held in the outbox exactly where each case needs it.

mod common;

use common::desk::{BLUEGRASS, Desk, STAFF, answer_to};
use medrec::core::reference::Reference;
use medrec::store::{Effect, Ingested, NewInbound, Place, RequestChange, Step};

#[tokio::test]
async fn a_package_still_waiting_is_withdrawn_and_nothing_reaches_the_provider() {
    let mut d = Desk::new().await;
    d.new_request("Bluegrass Regional Hospital").await;
    d.command("CANCEL MR-1001 client settled", "<cancel@denhamlaw.example>").await;
    assert_eq!(d.state().await, "cancelled");

    let sent = d.send_all().await;
    let answer = answer_to(&sent, "<cancel@denhamlaw.example>");
    assert!(
        answer.text.contains("Nothing had gone to the provider yet: the package waiting to go is withdrawn."),
        "{}",
        answer.text
    );
    assert!(!sent.iter().any(|m| m.header("To").is_some_and(|t| t.contains(BLUEGRASS))), "the provider got mail");
    assert!(!sent.iter().any(|m| m.subject.contains("Request sent to")), "staff were told it was sent");
    assert_eq!(sent.len(), 1, "only the answer to CANCEL leaves");
    assert_eq!(d.count("email", "withdrawn").await, 2, "the package and its confirmation");
    assert_eq!(d.store.next_outbox_due().await.unwrap(), None, "nothing is left to send");
    let events = d.store.events(Reference(1001)).await.unwrap();
    assert!(events.iter().any(|(_, kind, _, detail)| kind == "withdrawal" && detail.contains("nothing was sent")));
}

#[tokio::test]
async fn a_package_on_its_way_when_cancelled_gets_a_withdrawal_notice() {
    let mut d = Desk::new().await;
    d.new_request("Bluegrass Regional Hospital").await;
    let package = d.take_package_for_sending("email").await;
    d.command("CANCEL MR-1001 client settled", "<cancel@denhamlaw.example>").await;
    assert_eq!(d.state().await, "cancelled");
    // The hand-over finishes after the cancellation.
    d.store.mark_sent(package, medrec::daemon::clock::now()).await.unwrap();

    let sent = d.send_all().await;
    let answer = answer_to(&sent, "<cancel@denhamlaw.example>");
    assert!(answer.text.contains("is told by email that the request is withdrawn"), "{}", answer.text);
    let to_provider: Vec<_> = sent.iter().filter(|m| m.header("To").is_some_and(|t| t.contains(BLUEGRASS))).collect();
    assert_eq!(to_provider.len(), 1, "the withdrawal (the package itself was handed over outside this test)");
    assert!(to_provider[0].subject.contains("Request withdrawn"));
    assert_eq!(d.state().await, "cancelled", "a late hand-over does not reopen the request");
}

#[tokio::test]
async fn a_package_fax_retried_after_the_cancellation_is_withdrawn_when_taken() {
    let mut d = Desk::new().await;
    d.new_request("Central Kentucky Orthopedics").await;
    let package = d.take_package_for_sending("fax").await;
    d.command("CANCEL MR-1001 client settled", "<cancel@denhamlaw.example>").await;
    assert_eq!(d.state().await, "cancelled");
    // That attempt failed on the line; the retry comes due after the request was cancelled.
    d.store.mark_retry(package, "busy").await.unwrap();

    let sent = d.send_all().await;
    let answer = answer_to(&sent, "<cancel@denhamlaw.example>");
    assert!(answer.text.contains("is told by fax that the request is withdrawn"), "{}", answer.text);
    let faxes = d.faxes();
    assert_eq!(faxes.len(), 1, "only the withdrawal letter is faxed: {faxes:?}");
    assert_eq!(d.count("fax", "withdrawn").await, 1, "the package");
    assert_eq!(d.store.next_outbox_due().await.unwrap(), None);
}

#[tokio::test]
async fn a_withdrawal_planned_before_a_sender_took_the_package_is_planned_again() {
    let mut d = Desk::new().await;
    d.new_request("Bluegrass Regional Hospital").await;
    // Planned while nothing had gone ...
    assert!(!d.store.package_may_have_gone(Reference(1001), medrec::daemon::clock::now()).await.unwrap());
    let nothing_went = RequestChange {
        reference: Reference(1001),
        from_state: "submitting",
        to_state: Some("cancelled"),
        steps: vec![Step::Withdraw { provider_told: false }],
    };
    // ... and stored after the sender took the package.
    d.take_package_for_sending("email").await;
    let now = medrec::daemon::clock::now();
    assert!(d.store.package_may_have_gone(Reference(1001), now).await.unwrap());
    let raw = b"Subject: CANCEL MR-1001\r\n\r\nCANCEL MR-1001 client settled\r\n";
    let cancel = NewInbound {
        place: Place { mailbox: "test".into(), uidvalidity: Some(1), uid: Some(99) },
        message_id: Some("<cancel@denhamlaw.example>"),
        sha256: "0",
        from: Some(STAFF),
        subject: "CANCEL MR-1001",
        in_reply_to: None,
        status: "answered",
        status_note: None,
        raw,
    };
    let stored = d.store.ingest(&cancel, &Effect::Change(vec![nothing_went.clone()]), now).await.unwrap();
    assert_eq!(stored, Ingested::Stale);
    assert_eq!(d.state().await, "submitting", "nothing of the stale plan was kept");
    assert_eq!(d.count("email", "withdrawn").await, 0);

    // Planned again, it tells the provider and withdraws only what had not left.
    let told = RequestChange { steps: vec![Step::Withdraw { provider_told: true }], ..nothing_went };
    let stored = d.store.ingest(&cancel, &Effect::Change(vec![told]), now).await.unwrap();
    assert!(matches!(stored, Ingested::New { .. }), "{stored:?}");
    assert_eq!(d.state().await, "cancelled");
    assert_eq!(d.count("email", "withdrawn").await, 0, "the package on its way and its confirmation stay");
}
