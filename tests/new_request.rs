//! A staff `NEW` on the embedded default, end to end with the real binary: the provider
//! directory imported from the shipped sample, the request checked, the package built and
//! emailed to the provider, and the paralegal's confirmation, both as `.eml` files; a `NEW` with
//! problems gets one answer naming all of them and nothing reaches a provider.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Daemon;

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
const LIMIT: Duration = Duration::from_secs(60);

fn new_request(provider: &str, id: &str) -> Vec<u8> {
    let form = format!(
        "NEW\nPatient: Maria O'Brien-Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane\n    \
         Lexington, KY 40507\nProvider: {provider}\nRecords: medical, billing, radiology\nFrom: 01/15/2026\n\
         Date of loss: 01/15/2026\nAttorney: J. Denham\n"
    );
    common::message_with_attachment(STAFF, BOT, "NEW", id, &form, "authorization.pdf", &common::authorization_pdf())
}

#[test]
fn new_request_for_an_email_provider_reaches_provider_and_paralegal() {
    let e = common::Embedded::new(true);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    common::drop_mail(root, "1.new", &new_request("Bluegrass Regional Hospital", "<new-1@denhamlaw.example>"));
    let out = e.outbox(2);
    let to_provider = out
        .iter()
        .find(|m| m.header("To").is_some_and(|t| t.contains("roi@bluegrass-regional.example")))
        .expect("provider email");
    let confirmation = out.iter().find(|m| m.header("To").is_some_and(|t| t.contains(STAFF))).expect("confirmation");

    assert!(
        to_provider.subject.starts_with("[MR-1001] Medical records request - Maria O'Brien-Sample"),
        "{}",
        to_provider.subject
    );
    assert_eq!(to_provider.header("Auto-Submitted"), Some("auto-generated"));
    assert!(to_provider.message_id.as_deref().unwrap().starts_with("<mr-1001."));
    assert!(to_provider.header("Reply-To").unwrap().contains(BOT));
    for secret in ["123-45-6789", "6789", "03/14/1985", "1985"] {
        assert!(
            !to_provider.subject.contains(secret) && !to_provider.text.contains(secret),
            "{secret} in the provider email"
        );
    }
    assert_eq!(to_provider.attachments.len(), 1, "one PDF");
    let text = common::pdf_text(&to_provider.attachments[0].bytes);
    for needle in [
        "Maria O'Brien-Sample",
        "MR-1001",
        "KRS 422.317",
        "Denham Property and Injury Law Firm",
        "$300.00",
        "AUTHORIZATION FOR RELEASE",
    ] {
        assert!(text.contains(needle), "{needle} missing from the package text");
    }

    assert!(confirmation.subject.contains("[MR-1001]"), "{}", confirmation.subject);
    assert_eq!(confirmation.in_reply_to.as_deref(), Some("<new-1@denhamlaw.example>"));
    assert!(
        confirmation.text.contains("Bluegrass Regional Hospital") && confirmation.text.contains("email"),
        "{}",
        confirmation.text
    );
    assert_eq!(confirmation.attachments.len(), 1);
    assert_eq!(confirmation.attachments[0].bytes, to_provider.attachments[0].bytes, "the same package");
    let lines = daemon.log_lines();
    assert!(
        !lines.iter().any(|l| l.contains("O'Brien") || l.contains("123-45-6789") || l.contains("03/14/1985")),
        "patient data in the log"
    );
    assert!(daemon.stop().success());
}

#[test]
fn an_ohio_letter_cites_no_kentucky_statute() {
    let e = common::Embedded::new(true);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    common::drop_mail(root, "1.new", &new_request("Buckeye Imaging Center", "<new-oh@denhamlaw.example>"));
    let out = e.outbox(2);
    let to_provider =
        out.iter().find(|m| m.header("To").is_some_and(|t| t.contains("buckeye-imaging"))).expect("provider email");
    let text = common::pdf_text(&to_provider.attachments[0].bytes);
    assert!(text.contains("Buckeye Imaging Center") && text.contains("MR-1001"));
    assert!(!text.contains("KRS"), "an Ohio letter mentions KRS");
    assert!(daemon.stop().success());
}

#[test]
fn a_new_with_three_problems_gets_one_answer_and_nothing_is_sent() {
    let e = common::Embedded::new(true);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    // Bad SSN, a two-digit-year DOB, an unknown provider, and no attachment.
    let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/85\nSSN: 123-45\nAddress: 12 Example Lane, Lexington KY 40507\nProvider: Mayo Clinc\nFrom: 01/15/2026\n";
    common::drop_mail(root, "1.new", &common::message(STAFF, BOT, "NEW", "<new-bad@denhamlaw.example>", form, &[]));
    // A sentinel after it: once answered, the NEW before it has been taken.
    common::drop_mail(
        root,
        "2.help",
        &common::message(STAFF, BOT, "HELP", "<sentinel@denhamlaw.example>", "HELP\n", &[]),
    );
    let out = e.outbox(2);
    assert!(daemon.stop().success());
    let out_after = e.outbox(2);
    assert_eq!(out_after.len(), 2, "only the two answers; nothing to any provider");
    let answer =
        out.iter().find(|m| m.in_reply_to.as_deref() == Some("<new-bad@denhamlaw.example>")).expect("one answer");
    let text = answer.text.replace("\r\n", "\n");
    for field in ["- DOB:", "- SSN:", "- Provider:", "- Authorization:"] {
        assert!(text.contains(field), "{field} not named in:\n{text}");
    }
    assert!(text.contains("Nothing has been sent to any provider"));
    assert!(
        text.contains("    NEW\n    Patient: Maria Sample\n    DOB: 03/14/1985\n    SSN: 123-45-6789"),
        "corrected example: {text}"
    );
    assert!(!text.contains("SSN: 123-45\n"), "the wrong SSN is echoed");
    assert!(out.iter().all(|m| m.header("To").is_some_and(|t| t.contains(STAFF))));
}

#[tokio::test]
async fn new_request_for_a_fax_provider_lands_in_the_fax_outbox_with_a_cover_sheet() {
    let e = common::Embedded::new(true);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    common::drop_mail(root, "1.new", &new_request("Central Kentucky Orthopedics", "<new-fax@denhamlaw.example>"));
    daemon.wait_for_log("fax status", 0, LIMIT);
    let out = e.outbox(1);
    assert_eq!(out.len(), 1, "only the confirmation goes by email");
    assert!(out[0].text.contains("fax to (859) 555-0121"), "{}", out[0].text);
    let faxes: Vec<PathBuf> =
        std::fs::read_dir(root.join("var/fax/outbox")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(faxes.len(), 1, "{faxes:?}");
    let pdf = std::fs::read(&faxes[0]).unwrap();
    let text = common::pdf_text(&pdf);
    let cover = text.split('\u{c}').next().unwrap();
    assert!(cover.contains("FAX") && cover.contains("(859) 555-0121") && cover.contains("MR-1001"), "cover: {cover}");
    assert!(text.contains("KRS 422.317") && text.contains("Maria O'Brien-Sample"));
    assert_eq!(out[0].attachments[0].bytes, pdf, "the confirmation carries what was faxed");
    assert!(daemon.stop().success());

    let store = medrec::store::Store::open(&root.join("var/medrec.db")).await.unwrap();
    let detail = store.request_detail(medrec::core::reference::Reference(1001)).await.unwrap().unwrap();
    assert_eq!(detail.state, "submitted");
    let events = store.events(medrec::core::reference::Reference(1001)).await.unwrap();
    assert!(
        events.iter().any(|(_, kind, _, detail)| kind == "submitted" && detail.contains("delivered by fax")),
        "{events:?}"
    );
}

#[test]
fn importing_the_directory_twice_changes_nothing() {
    let e = common::Embedded::new(true);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/providers.sample.csv");
    let out = e.medrec(&["providers", "import", &sample.display().to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 added, 0 updated, 4 unchanged"), "{stdout}");
    let list = e.medrec(&["providers", "list"]);
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("4 provider(s)") && list.contains("(859) 555-0121"), "{list}");
}

#[test]
fn provider_add_and_find_by_email() {
    let e = common::Embedded::new(true);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    let add = "PROVIDER ADD\nName: Lakeside Family Clinic\nStreet: 5 Shore Rd\nCity: Richmond\nState: KY\nZip: 40475\nFax: (859) 555-0150\nPreferred method: fax\n";
    common::drop_mail(root, "1.add", &common::message(STAFF, BOT, "PROVIDER ADD", "<add@denhamlaw.example>", add, &[]));
    let bad = "PROVIDER ADD\nName: Nowhere Clinic\nFax: 12\nColour: blue\n";
    common::drop_mail(root, "2.bad", &common::message(STAFF, BOT, "PROVIDER ADD", "<bad@denhamlaw.example>", bad, &[]));
    common::drop_mail(
        root,
        "3.find",
        &common::message(STAFF, BOT, "PROVIDER FIND lakesde richmond", "<find@denhamlaw.example>", "", &[]),
    );
    let out = e.outbox(3);
    let answer =
        |id: &str| out.iter().find(|m| m.in_reply_to.as_deref() == Some(id)).unwrap().text.replace("\r\n", "\n");
    assert!(
        answer("<add@denhamlaw.example>").contains("Added #5:\n\n#5 Lakeside Family Clinic"),
        "{}",
        answer("<add@denhamlaw.example>")
    );
    let bad = answer("<bad@denhamlaw.example>");
    assert!(
        bad.contains("Fax: `12` is not a US fax number")
            && bad.contains("`Colour` is not a provider field")
            && bad.contains("PROVIDER ADD\n    Name:"),
        "{bad}"
    );
    let found = answer("<find@denhamlaw.example>");
    assert!(found.contains("#5 Lakeside Family Clinic") && found.contains("fax (859) 555-0150"), "{found}");
    assert!(daemon.stop().success());
}

#[test]
fn a_duplicate_request_needs_new_confirm() {
    let e = common::Embedded::new(true);
    let (root, config) = (e.root(), &e.config);
    let daemon = Daemon::start(config);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    common::drop_mail(root, "1.new", &new_request("Bluegrass Regional Hospital", "<first@denhamlaw.example>"));
    e.outbox(2);
    common::drop_mail(root, "2.new", &new_request("Bluegrass Regional Hospital", "<again@denhamlaw.example>"));
    let out = e.outbox(3);
    let warning =
        out.iter().find(|m| m.in_reply_to.as_deref() == Some("<again@denhamlaw.example>")).expect("a warning");
    assert!(warning.text.contains("MR-1001") && warning.text.contains("NEW CONFIRM"), "{}", warning.text);
    let confirmed = new_request("Bluegrass Regional Hospital", "<confirm@denhamlaw.example>");
    let confirmed = String::from_utf8(confirmed).unwrap().replacen("\r\n\r\nNEW\r\n", "\r\n\r\nNEW CONFIRM\r\n", 1);
    assert!(confirmed.contains("NEW CONFIRM"), "the test could not mark the form");
    common::drop_mail(root, "3.new", confirmed.as_bytes());
    let out = e.outbox(5);
    assert!(out.iter().any(|m| m.subject.contains("[MR-1002]")), "the confirmed duplicate became MR-1002");
    assert!(daemon.stop().success());
}
