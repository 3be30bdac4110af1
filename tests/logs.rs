//! The logs never carry patient data. A whole request runs on the embedded default (a mistyped
//! NEW, the request, its package, an invoice held and approved, a deficiency, the records, STATUS
//! and LIST, a malformed message) with a known patient name, date of birth and SSN, every module
//! logging at debug; then no captured line may contain any of them. Both log formats are run, and
//! the JSON one must be one JSON object per line with the request's reference on its events.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, Embedded};
use medrec::core::inbound::InboundMail;

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
const PROVIDER: &str = "roi@bluegrass-regional.example";

const NAME: &str = "Thaddeus Okonkwo-Vance";
const DOB: &str = "07/29/1961";
const SSN: &str = "538-27-6419";
/// The same facts as they may be written elsewhere (ISO date, bare SSN, surname alone).
const ALSO: [&str; 5] = ["1961-07-29", "538276419", "Okonkwo", "Thaddeus", "6419"];

struct Run {
    e: Embedded,
    daemon: Daemon,
    n: usize,
}

impl Run {
    fn drop(&mut self, raw: Vec<u8>) {
        self.n += 1;
        self.e.drop_mail(&format!("{}.eml", self.n), &raw);
    }

    /// The first outgoing message matching `want`.
    fn wait_for(&self, want: impl Fn(&InboundMail) -> bool) -> InboundMail {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = self
                .e
                .outbox_files(0)
                .iter()
                .map(|f| medrec::mail::parse::parse(&std::fs::read(f).unwrap()))
                .find(&want);
            if let Some(m) = found {
                return m;
            }
            assert!(Instant::now() < deadline, "no such outgoing message within 60 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn reply(&mut self, body: &str, pdf: Option<(&str, Vec<u8>)>, package: &str) {
        let id = format!("<reply-{}@bluegrass-regional.example>", self.n);
        let subject = format!("Re: records request for {NAME}");
        let mut raw = format!("In-Reply-To: {package}\r\n").into_bytes();
        raw.extend(match pdf {
            Some((name, bytes)) => common::message_with_attachment(PROVIDER, BOT, &subject, &id, body, name, &bytes),
            None => common::message(PROVIDER, BOT, &subject, &id, body, &[]),
        });
        self.drop(raw);
    }

    fn command(&mut self, text: &str, answering: Option<&str>) -> InboundMail {
        let id = format!("<cmd-{}@denhamlaw.example>", self.n);
        let headers: Vec<String> = answering.map(|a| format!("In-Reply-To: {a}")).into_iter().collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        self.drop(common::message(STAFF, BOT, &format!("Re: {NAME}"), &id, &format!("{text}\n"), &headers));
        self.wait_for(|m| m.in_reply_to.as_deref() == Some(id.as_str()))
    }
}

/// Runs the whole scenario with the daemon started with `flags`; returns its log lines.
fn scenario(flags: &[&str]) -> Vec<String> {
    let e = Embedded::new(true);
    let daemon = Daemon::start_with(&e.config, flags, &[("MEDREC_LOG", "debug")]);
    daemon.wait_for_log("watching the local Maildir inbox", 0, Duration::from_secs(30));
    let mut run = Run { e, daemon, n: 0 };
    let form = |provider: &str| {
        format!(
            "NEW\nPatient: {NAME}\nDOB: {DOB}\nSSN: {SSN}\nAddress: 77 Patient Row, Lexington, KY 40507\n\
             Provider: {provider}\nRecords: medical\nFrom: 01/15/2026\n"
        )
    };
    let new = |id: &str, body: &str| {
        common::message_with_attachment(
            STAFF,
            BOT,
            &format!("NEW {NAME}"),
            id,
            body,
            "authorization.pdf",
            &common::authorization_pdf(),
        )
    };
    // A typo first: answered with what is wrong, which quotes nothing of the patient's.
    run.drop(new("<new-typo@denhamlaw.example>", &form("Bluegras Regional Hosptal")));
    run.wait_for(|m| m.in_reply_to.as_deref() == Some("<new-typo@denhamlaw.example>"));
    run.drop(new("<new@denhamlaw.example>", &form("Bluegrass Regional Hospital")));
    let package = run.wait_for(|m| m.header("To").is_some_and(|t| t.contains(PROVIDER)));
    let package = package.message_id.unwrap();

    let invoice =
        common::text_pdf(&[&["INVOICE", &format!("Patient: {NAME}"), &format!("DOB: {DOB}"), "Amount due: $450.00"]]);
    run.reply(
        &format!("Invoice for {NAME} (DOB {DOB}) attached.\nAmount due: $450.00\n"),
        Some(("invoice.pdf", invoice)),
        &package,
    );
    let approval = run.wait_for(|m| m.subject.contains("Approval needed"));
    run.command("APPROVE", approval.message_id.as_deref());
    run.reply(
        &format!("We cannot process the request for {NAME}, SSN {SSN}: the authorization is not signed.\n"),
        None,
        &package,
    );
    run.wait_for(|m| m.subject.contains("Deficiency"));
    let records =
        common::text_pdf(&[&["MEDICAL RECORDS", &format!("Patient: {NAME}"), &format!("DOB: {DOB}  SSN: {SSN}")]]);
    run.reply(&format!("Enclosed are the complete records for {NAME}.\n"), Some(("records.pdf", records)), &package);
    run.wait_for(|m| m.subject.contains("received") && m.subject.contains("Records"));
    run.command("STATUS MR-1001", None);
    run.command("LIST", None);
    run.drop(
        format!("From: {STAFF}\r\nSubject: {NAME} {SSN}\r\nContent-Type: multipart/mixed\r\n\r\n{DOB}\r\n")
            .into_bytes(),
    );
    let before = run.daemon.log_lines().len();
    run.daemon.wait_for_log("message received", before.saturating_sub(1), Duration::from_secs(30));
    let lines = run.daemon.log_lines();
    assert_eq!(run.daemon.stop().code(), Some(0));
    lines
}

fn assert_no_patient_data(lines: &[String]) {
    assert!(lines.len() > 20, "the scenario logged only {} lines", lines.len());
    for line in lines {
        for secret in [NAME, DOB, SSN].iter().chain(ALSO.iter()) {
            assert!(!mentions(line, secret), "patient data {secret:?} in a log line: {line}");
        }
    }
}

/// Whether `line` holds `secret` as a whole: not as a run of digits inside a longer number, as
/// "6419" sits inside a timestamp such as "15:05:28.964190Z" or a timing in microseconds.
fn mentions(line: &str, secret: &str) -> bool {
    line.match_indices(secret).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + secret.len()..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        !(secret.starts_with(|c: char| c.is_ascii_digit()) && (glued(before) || glued(after)))
    })
}

#[test]
fn a_secret_inside_a_longer_number_is_not_a_mention() {
    assert!(!mentions(r#""timestamp":"2026-11-23T15:05:28.964190Z""#, "6419"));
    assert!(!mentions("elapsed_secs=0.0000064190", "6419"));
    assert!(mentions("SSN ending 6419 on file", "6419"));
    assert!(mentions("ssn=6419", "6419"));
    assert!(mentions("patient Okonkwo-Vance", "Okonkwo"));
}

#[test]
fn human_logs_carry_no_patient_data() {
    let lines = scenario(&[]);
    assert_no_patient_data(&lines);
    assert!(lines.iter().any(|l| l.contains("package built") && l.contains("request=MR-1001")), "{lines:#?}");
}

#[test]
fn json_logs_are_one_object_per_line_with_the_reference_and_no_patient_data() {
    let lines = scenario(&["--log-json"]);
    assert_no_patient_data(&lines);
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let about_request = |message: &str| {
        events.iter().any(|e| {
            e["fields"]["message"].as_str().is_some_and(|m| m.contains(message)) && e["fields"]["request"] == "MR-1001"
        })
    };
    for message in ["package built", "submission queued", "message received", "email sent"] {
        assert!(about_request(message), "no {message:?} line naming MR-1001");
    }
}
