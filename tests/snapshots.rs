//! Snapshots of every email the bot sends so far, composed from fixed inputs and compared with
//! the files in `tests/snapshots/`. A change to a template shows up here as a diff to review.
//! After an intended change: `UPDATE_SNAPSHOTS=1 cargo test --test snapshots`, then read the diff.

use std::path::Path;

use chrono::DateTime;
use medrec::core::answers::{self, Confirmation, ProviderRequest};
use medrec::core::command;
use medrec::core::inbound::{Attachment, AutoSubmitted, OutgoingMail};
use medrec::core::new_request::{self, Problem};
use medrec::core::reference::Reference;
use medrec::mail::compose::{Identity, compose};

fn check(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.txt"));
    #[allow(clippy::disallowed_methods)]
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok();
    if update {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot {}; run with UPDATE_SNAPSHOTS=1 and review it", path.display()));
    assert_eq!(actual, expected, "{name} changed; if intended, run with UPDATE_SNAPSHOTS=1 and review the diff");
}

/// The message as a reader sees it: the headers that matter, then the decoded body.
fn as_read(mail: &OutgoingMail) -> String {
    let me = Identity {
        address: "records@denhamlaw.example".into(),
        name: "Denham Records Bot".into(),
        mail_domain: "denhamlaw.example".into(),
    };
    let c = compose(mail, &me, "fixedtoken0000000", DateTime::from_timestamp(1_795_435_200, 0).unwrap()).unwrap();
    let parsed = medrec::mail::parse::parse(&c.raw);
    let mut out = String::new();
    for h in [
        "From",
        "Reply-To",
        "To",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
    ] {
        if let Some(v) = parsed.header(h) {
            out.push_str(&format!("{h}: {v}\n"));
        }
    }
    for a in &parsed.attachments {
        out.push_str(&format!("Attachment: {} ({}, {} bytes)\n", a.filename, a.content_type, a.bytes.len()));
    }
    out.push('\n');
    out.push_str(&parsed.text.replace("\r\n", "\n"));
    out
}

fn reply(subject: &str, body: String, attachments: Vec<Attachment>) -> OutgoingMail {
    OutgoingMail {
        to: vec!["paralegal@denhamlaw.example".into()],
        subject: subject.into(),
        body,
        in_reply_to: Some("<staff-1@denhamlaw.example>".into()),
        references: vec!["<staff-1@denhamlaw.example>".into()],
        reference: None,
        auto_submitted: AutoSubmitted::AutoReplied,
        attachments,
    }
}

fn package() -> Attachment {
    Attachment {
        filename: "MR-1001-request-20261123T150000Z.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: vec![b'%'; 1234],
    }
}

#[test]
fn help_answer() {
    check("help", &as_read(&reply("Re: HELP", answers::help("Denham Records Bot"), vec![])));
}

#[test]
fn command_error_answers() {
    let typo = answers::command_error(&command::parse("STAUTS MR-1001").unwrap_err());
    check("command_error_typo", &as_read(&reply("Re: STAUTS MR-1001", typo, vec![])));
    let missing = answers::command_error(&command::parse("DECLINE").unwrap_err());
    check("command_error_missing_reason", &as_read(&reply("Re: [MR-1001] DECLINE", missing, vec![])));
}

#[test]
fn new_request_problem_answer() {
    let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/85\nSSN: 123-45\nAddress: 12 Example Lane, Lexington KY 40507\nProvider: Mayo Clinc\nFrom: 01/15/2026\n";
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut problems = new_request::parse(form, today).unwrap_err();
    problems.push(Problem {
        field: "Authorization",
        message: "no attachment: attach the signed HIPAA authorization as a PDF".into(),
    });
    let body = answers::new_request_problems(&problems, &new_request::corrected_example(form, &problems));
    check("new_request_problems", &as_read(&reply("Re: NEW", body, vec![])));
}

#[test]
fn new_request_duplicate_answer() {
    let body = answers::new_request_duplicate("Bluegrass Regional Hospital", &[("MR-1001".into(), "submitted".into())]);
    check("new_request_duplicate", &as_read(&reply("Re: NEW", body, vec![])));
}

#[test]
fn provider_request_email() {
    let mail = OutgoingMail {
        to: vec!["roi@bluegrass-regional.example".into()],
        subject: "Medical records request - Maria Sample".into(),
        body: answers::provider_request(&ProviderRequest {
            patient: "Maria Sample",
            reference: "MR-1001",
            reply_to: "records@denhamlaw.example",
            staff: "Demo Paralegal",
            firm: "Denham Property and Injury Law Firm",
            firm_phone: "859-900-2278",
        }),
        in_reply_to: None,
        references: vec![],
        reference: Some(Reference(1001)),
        auto_submitted: AutoSubmitted::AutoGenerated,
        attachments: vec![package()],
    };
    check("provider_request", &as_read(&mail));
}

#[test]
fn confirmation_email() {
    for (name, channel, fax) in [
        ("confirmation_email", "email to roi@bluegrass-regional.example", false),
        ("confirmation_fax", "fax to (859) 555-0121", true),
    ] {
        let body = answers::confirmation(&Confirmation {
            reference: "MR-1001",
            patient: "Maria Sample",
            provider: "Bluegrass Regional Hospital",
            channel,
            channel_is_fax: fax,
            queued: "November 23, 2026 at 10:00 AM EST",
            pages: 4,
        });
        let mut mail = reply("Request sent to Bluegrass Regional Hospital - Maria Sample", body, vec![package()]);
        mail.reference = Some(Reference(1001));
        check(name, &as_read(&mail));
    }
}
