//! The request lifecycle on the embedded default, driven only by dropping emails into the inbox:
//! invoices approved or held and decided, deficiencies and RESEND, partial and complete records,
//! no records, and every staff command's happy path and one error path.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Daemon, Embedded};
use medrec::core::inbound::InboundMail;
use medrec::core::reference::Reference;

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
const BLUEGRASS: &str = "roi@bluegrass-regional.example";
const BUCKEYE: &str = "records@buckeye-imaging.example";

/// A running embedded daemon with one request (MR-1001) sent by email to `provider_name`.
struct Scene {
    e: Embedded,
    daemon: Option<Daemon>,
    /// The Message-ID of the package email to the provider.
    package_id: String,
    dropped: usize,
}

impl Scene {
    fn new(provider_name: &str, provider_email: &str, records: &str) -> Scene {
        let e = Embedded::new(true);
        let daemon = e.start();
        let form = format!(
            "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, Lexington, KY \
             40507\nProvider: {provider_name}\n{records}"
        );
        let raw = common::message_with_attachment(
            STAFF,
            BOT,
            "NEW",
            "<new@denhamlaw.example>",
            &form,
            "authorization.pdf",
            &common::authorization_pdf(),
        );
        e.drop_mail("0.new", &raw);
        let package = wait_for(&e, |m| to(m, provider_email));
        Scene { e, daemon: Some(daemon), package_id: package.message_id.clone().unwrap(), dropped: 0 }
    }

    fn drop(&mut self, raw: Vec<u8>) {
        self.dropped += 1;
        self.e.drop_mail(&format!("{}.eml", self.dropped), &raw);
    }

    /// A provider reply to the package, optionally with a PDF.
    fn reply(&mut self, from: &str, body: &str, pdf: Option<(&str, Vec<u8>)>) {
        let id = format!("<reply-{}@provider.example>", self.dropped);
        let raw = match pdf {
            Some((name, bytes)) => with_headers(
                common::message_with_attachment(from, BOT, "Re: records request", &id, body, name, &bytes),
                &[&format!("In-Reply-To: {}", self.package_id)],
            ),
            None => common::message(
                from,
                BOT,
                "Re: records request",
                &id,
                body,
                &[&format!("In-Reply-To: {}", self.package_id)],
            ),
        };
        self.drop(raw);
    }

    /// A staff command, as a reply to `answering` (a Message-ID) or fresh.
    fn command(&mut self, text: &str, answering: Option<&str>) -> String {
        let id = format!("<cmd-{}@denhamlaw.example>", self.dropped);
        let headers: Vec<String> = answering.map(|a| format!("In-Reply-To: {a}")).into_iter().collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        self.drop(common::message(STAFF, BOT, "Re: [MR-1001] your notice", &id, &format!("{text}\n"), &headers));
        id
    }

    /// The bot's answer to the staff message `id`.
    fn answer(&self, id: &str) -> InboundMail {
        wait_for(&self.e, |m| m.in_reply_to.as_deref() == Some(id))
    }

    async fn state(&self) -> String {
        let store = medrec::store::Store::open(&self.e.root().join("var/medrec.db")).await.unwrap();
        let state = store.request_detail(Reference(1001)).await.unwrap().unwrap().state;
        store.close().await;
        state
    }

    async fn events(&self) -> Vec<(String, String)> {
        events(self.e.root(), 1001).await
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        if let Some(d) = self.daemon.take() {
            assert!(d.stop().success() || std::thread::panicking());
        }
    }
}

async fn events(root: &Path, id: i64) -> Vec<(String, String)> {
    let store = medrec::store::Store::open(&root.join("var/medrec.db")).await.unwrap();
    let events = store.events(Reference(id)).await.unwrap();
    store.close().await;
    events.into_iter().map(|(_, kind, _, detail)| (kind, detail)).collect()
}

fn with_headers(raw: Vec<u8>, headers: &[&str]) -> Vec<u8> {
    let mut out: Vec<u8> = headers.iter().flat_map(|h| format!("{h}\r\n").into_bytes()).collect();
    out.extend(raw);
    out
}

fn to(m: &InboundMail, address: &str) -> bool {
    m.header("To").is_some_and(|t| t.contains(address))
}

/// The first outgoing message that satisfies `want`, waiting for it.
fn wait_for(e: &Embedded, want: impl Fn(&InboundMail) -> bool) -> InboundMail {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let dir = e.root().join("var/mail/outbox");
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
        files.sort();
        for f in files.iter().filter(|p| p.extension().is_some_and(|x| x == "eml")) {
            let m = medrec::mail::parse::parse(&std::fs::read(f).unwrap());
            if want(&m) {
                return m;
            }
        }
        assert!(Instant::now() < deadline, "no such outgoing message within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count(e: &Embedded, want: impl Fn(&InboundMail) -> bool) -> usize {
    let dir = e.root().join("var/mail/outbox");
    std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .filter(|p| want(&medrec::mail::parse::parse(&std::fs::read(p).unwrap())))
                .count()
        })
        .unwrap_or(0)
}

fn invoice_pdf(amount: &str) -> Vec<u8> {
    common::text_pdf(&[&["INVOICE", "Release of information fee", &format!("Amount due: {amount}"), "Pages: 120"]])
}

#[tokio::test]
async fn an_invoice_above_the_limit_holds_until_approved_and_a_revised_one_asks_again() {
    let mut s = Scene::new("Bluegrass Regional Hospital", BLUEGRASS, "Records: medical\nFrom: 01/15/2026\n");
    s.reply(
        BLUEGRASS,
        "Please find attached our invoice for the requested records. Payment is required before release.\nAmount due: $450.00\n",
        Some(("invoice.pdf", invoice_pdf("$450.00"))),
    );
    let approval = wait_for(&s.e, |m| m.subject.contains("Approval needed"));
    assert!(to(&approval, STAFF));
    assert!(approval.text.contains("$450.00") && approval.text.contains("ON HOLD"), "{}", approval.text);
    assert!(approval.attachments.iter().any(|a| a.filename == "invoice.pdf"), "the invoice is attached");
    assert_eq!(s.state().await, "on_hold");

    // A revised invoice supersedes it and asks again; approving the old message is refused.
    s.reply(
        BLUEGRASS,
        "Revised invoice attached; this replaces our earlier invoice.\nAmount due: $400.00\n",
        Some(("invoice-revised.pdf", invoice_pdf("$400.00"))),
    );
    let revised = wait_for(&s.e, |m| m.subject.contains("Approval needed") && m.text.contains("$400.00"));
    assert!(revised.text.contains("replaces the earlier one of $450.00"), "{}", revised.text);
    let old = s.command("APPROVE", approval.message_id.as_deref());
    let refused = s.answer(&old);
    assert!(refused.text.contains("revised invoice"), "{}", refused.text);
    assert_eq!(s.state().await, "on_hold");

    let ok = s.command("APPROVE", revised.message_id.as_deref());
    let answer = s.answer(&ok);
    assert!(answer.text.contains("Approved") && answer.text.contains("$400.00"), "{}", answer.text);
    let billing = wait_for(&s.e, |m| m.subject.contains("Pre-pay invoice $400.00"));
    assert!(billing.attachments.iter().any(|a| a.filename == "invoice-revised.pdf"));
    assert_eq!(s.state().await, "acknowledged");
    let events = s.events().await;
    assert!(events.iter().any(|(k, d)| k == "invoice_approved" && d.contains("$400.00")), "{events:?}");
    assert!(events.iter().any(|(k, d)| k == "state" && d == "on_hold -> acknowledged"), "{events:?}");

    // Nothing is on hold any more.
    let again = s.command("APPROVE MR-1001", None);
    assert!(s.answer(&again).text.contains("nothing is on hold"));
}

#[tokio::test]
async fn a_small_invoice_is_approved_without_asking() {
    let mut s = Scene::new("Buckeye Imaging Center", BUCKEYE, "Records: medical\nFrom: 01/15/2026\n");
    s.reply(
        BUCKEYE,
        "Attached is our invoice for the records you requested. Amount due: $45.00. Please remit payment.\n",
        Some(("invoice.pdf", invoice_pdf("$45.00"))),
    );
    let billing = wait_for(&s.e, |m| m.subject.contains("Pre-pay invoice $45.00"));
    assert!(billing.text.contains("automatically"), "{}", billing.text);
    assert_eq!(count(&s.e, |m| m.subject.contains("Approval needed")), 0);
    assert_eq!(s.state().await, "acknowledged");
}

#[tokio::test]
async fn a_kentucky_invoice_for_the_first_copy_is_flagged_as_an_overcharge() {
    let mut s = Scene::new("Bluegrass Regional Hospital", BLUEGRASS, "Records: medical\nFrom: 01/15/2026\n");
    s.reply(
        BLUEGRASS,
        "Attached is our invoice for the requested records. Amount due: $45.00. Payment required before release.\n",
        Some(("invoice.pdf", invoice_pdf("$45.00"))),
    );
    let held = wait_for(&s.e, |m| m.subject.contains("Approval needed"));
    assert!(held.text.contains("KRS 422.317"), "{}", held.text);
    assert!(held.text.contains("overcharged"), "{}", held.text);
    assert_eq!(s.state().await, "on_hold");
}

#[tokio::test]
async fn a_deficiency_reaches_the_owner_and_resend_sends_a_new_package() {
    let mut s = Scene::new("Bluegrass Regional Hospital", BLUEGRASS, "Records: medical\nFrom: 01/15/2026\n");
    s.reply(
        BLUEGRASS,
        "We are unable to process your request. The HIPAA authorization is not signed by the patient. Please \
         resubmit with a signed authorization.\n",
        None,
    );
    let notice = wait_for(&s.e, |m| m.subject.contains("Deficiency"));
    assert!(to(&notice, STAFF));
    assert!(notice.text.contains("not signed"), "the provider's words: {}", notice.text);
    assert!(notice.text.contains("RESEND"), "{}", notice.text);
    assert_eq!(s.state().await, "deficient");

    // RESEND with a PDF that does not open is refused, saying why.
    let bad = "<resend-bad@denhamlaw.example>".to_string();
    s.drop(with_headers(
        common::message_with_attachment(STAFF, BOT, "Re: deficiency", &bad, "RESEND\n", "signed.pdf", b"not a pdf"),
        &[&format!("In-Reply-To: {}", notice.message_id.as_deref().unwrap())],
    ));
    assert!(s.answer(&bad).text.contains("signed.pdf"), "names the broken file");

    let good = "<resend@denhamlaw.example>".to_string();
    let signed = common::text_pdf(&[&["AUTHORIZATION", "Signed: Maria Sample", "Date: 11/20/2026"]]);
    s.drop(with_headers(
        common::message_with_attachment(STAFF, BOT, "Re: deficiency", &good, "RESEND\n", "signed.pdf", &signed),
        &[&format!("In-Reply-To: {}", notice.message_id.as_deref().unwrap())],
    ));
    assert!(s.answer(&good).text.contains("Rebuilding"));
    // The provider receives a second package, which carries the new document.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&s.e, |m| to(m, BLUEGRASS) && m.subject.contains("Medical records request")) < 2 {
        assert!(Instant::now() < deadline, "no second package");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = wait_for(&s.e, |m| {
        to(m, BLUEGRASS)
            && m.message_id.as_deref() != Some(s.package_id.as_str())
            && m.subject.contains("Medical records request")
    });
    let package = second.attachments.iter().find(|a| a.looks_like_pdf()).expect("package attached");
    assert!(common::pdf_text(&package.bytes).contains("Signed: Maria Sample"));
    let events = s.events().await;
    assert!(events.iter().any(|(k, _)| k == "resend"), "{events:?}");
}

#[tokio::test]
async fn records_without_radiology_are_partial_and_name_what_is_missing() {
    let mut s =
        Scene::new("Buckeye Imaging Center", BUCKEYE, "Records: medical, billing, radiology\nFrom: 01/15/2026\n");
    let records =
        common::text_pdf(&[&["PROGRESS NOTES", "Office visit 02/01/2026"], &["ITEMIZED STATEMENT", "Total $0.00"]]);
    s.reply(
        BUCKEYE,
        "Enclosed are the medical records and the itemized billing statement you requested. The radiology report \
         will follow under separate cover.\n",
        Some(("records.pdf", records)),
    );
    let notice = wait_for(&s.e, |m| m.subject.contains("Records partly received"));
    assert!(notice.text.contains("Still missing: radiology"), "{}", notice.text);
    assert!(notice.attachments.iter().any(|a| a.filename == "records.pdf"));
    assert_eq!(s.state().await, "partial");
}

#[tokio::test]
async fn no_records_closes_the_request() {
    let mut s = Scene::new("Bluegrass Regional Hospital", BLUEGRASS, "Records: medical\nFrom: 01/15/2026\n");
    s.reply(BLUEGRASS, "After a diligent search, we have no records for this patient for the dates requested.\n", None);
    let notice = wait_for(&s.e, |m| m.subject.contains("No records"));
    assert!(notice.text.contains("no records"), "{}", notice.text);
    assert_eq!(s.state().await, "no_records");
    let id = s.command("RESEND", None);
    assert!(s.answer(&id).text.contains("no records"), "a closed request refuses RESEND");
}

#[tokio::test]
async fn staff_commands_answer_and_refuse_with_reasons() {
    let mut s = Scene::new("Bluegrass Regional Hospital", BLUEGRASS, "Records: medical, billing\nFrom: 01/15/2026\n");

    let id = s.command("STATUS", None);
    let status = s.answer(&id);
    assert!(status.text.contains("MR-1001: Maria Sample at Bluegrass Regional Hospital"), "{}", status.text);
    let id = s.command("STATUS MR-9999", None);
    assert!(s.answer(&id).text.contains("no request MR-9999"));

    let id = s.command("NOTE Called ROI, they are pulling the chart", None);
    assert!(s.answer(&id).text.contains("Noted on MR-1001"));
    let id = s.command("NOTE", None);
    assert!(s.answer(&id).text.contains("NOTE needs"));

    let id = s.command("HISTORY", None);
    let history = s.answer(&id);
    assert!(history.text.contains("Called ROI, they are pulling the chart"), "{}", history.text);
    assert!(history.text.contains("created"), "{}", history.text);

    let id = s.command("LIST", None);
    assert!(s.answer(&id).text.contains("MR-1001"));
    let id = s.command("LIST held", None);
    assert!(s.answer(&id).text.contains("none"));
    let id = s.command("LIST everything", None);
    assert!(s.answer(&id).text.contains("open, held, deficient, overdue, mine"));

    let id = s.command("DECLINE", None);
    assert!(s.answer(&id).text.contains("DECLINE needs a reason"));
    let id = s.command("APPROVE", None);
    assert!(s.answer(&id).text.contains("nothing is on hold"));

    let id = s.command("UPDATE from 13/45/2026", None);
    assert!(s.answer(&id).text.contains("not carried out"));

    let id = s.command("RECEIVED", None);
    assert!(s.answer(&id).text.contains("marked received"));
    assert_eq!(s.state().await, "received");
    let id = s.command("CANCEL client settled", None);
    assert!(s.answer(&id).text.contains("closed"), "CANCEL on a received request is refused");

    // UPDATE makes a new request for the same patient and provider, and sends it.
    let id = s.command("UPDATE from 06/01/2026", None);
    assert!(s.answer(&id).text.contains("updated records from 06/01/2026"));
    wait_for(&s.e, |m| to(m, BLUEGRASS) && m.subject.contains("MR-1002"));
    let new = events(s.e.root(), 1002).await;
    assert!(new.iter().any(|(k, d)| k == "created" && d.contains("MR-1001")), "{new:?}");
}

#[tokio::test]
async fn cancel_tells_the_provider_the_request_is_withdrawn() {
    let mut s = Scene::new("Bluegrass Regional Hospital", BLUEGRASS, "Records: medical\nFrom: 01/15/2026\n");
    let id = s.command("CANCEL client settled", None);
    assert!(s.answer(&id).text.contains("cancelled (client settled)"));
    let withdrawal = wait_for(&s.e, |m| to(m, BLUEGRASS) && m.subject.contains("Request withdrawn"));
    assert!(withdrawal.text.contains("withdraw our request"));
    assert_eq!(withdrawal.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(s.state().await, "cancelled");
}
