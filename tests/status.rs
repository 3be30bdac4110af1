//! STATUS tells staff what happens next: once the package has gone, the records' due date (day
//! 30) and the next step of each schedule (follow-up 1 on day 14, the escalation to the owner on
//! day 60), on business days in the firm's time zone; once the request is closed, none of them.

mod common;

use chrono::{Datelike, NaiveDate, Weekday};
use common::desk::{Desk, answer_to};
use tokio_util::sync::CancellationToken;

/// The date in a STATUS line such as "  Next step: follow-up 1 (…), Mon 12/07/2026 9:00 AM EST".
fn date_in(line: &str) -> NaiveDate {
    let date = line.split_whitespace().find(|w| w.len() == 10 && w.as_bytes()[2] == b'/').expect(line);
    NaiveDate::parse_from_str(date, "%m/%d/%Y").unwrap()
}

#[tokio::test]
async fn status_names_the_next_steps_and_drops_them_once_closed() {
    let mut d = Desk::new().await;
    d.new_request("Bluegrass Regional Hospital").await;
    d.send_all().await;
    assert_eq!(d.state().await, "submitted");
    let request = d.store.request_detail(medrec::core::reference::Reference(1001)).await.unwrap().unwrap();
    let sent = request.submitted_at.unwrap().with_timezone(&d.intake.settings.firm.time_zone).date_naive();
    medrec::daemon::schedule::sweep(&d.intake, &CancellationToken::new()).await.unwrap();

    d.command("STATUS MR-1001", "<status-1@denhamlaw.example>").await;
    let mails = d.send_all().await;
    let status = &answer_to(&mails, "<status-1@denhamlaw.example>").text;
    let line = |label: &str| {
        status.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("no {label}: {status}"))
    };
    assert_eq!(date_in(line("Due:")), sent + chrono::Days::new(30), "{status}");

    let next = line("Next step:");
    assert!(next.contains("follow-up 1 (did the provider receive the request?)"), "{status}");
    // A weekend, a holiday or a time after hours moves a step to a later business day.
    let first = date_in(next);
    let day_14 = sent + chrono::Days::new(14);
    assert!(first >= day_14 && first <= day_14 + chrono::Days::new(5), "{first} is not the business day from {day_14}");
    assert!(!matches!(first.weekday(), Weekday::Sat | Weekday::Sun), "{first} is a weekend");

    let then = line("Then:");
    assert!(then.contains("escalation to the owner (no records yet)"), "{status}");
    let second = date_in(then);
    let day_60 = sent + chrono::Days::new(60);
    assert!(
        second >= day_60 && second <= day_60 + chrono::Days::new(5),
        "{second} is not the business day from {day_60}"
    );

    d.command("CANCEL MR-1001 client settled", "<cancel@denhamlaw.example>").await;
    medrec::daemon::schedule::sweep(&d.intake, &CancellationToken::new()).await.unwrap();
    d.command("STATUS MR-1001", "<status-2@denhamlaw.example>").await;
    let mails = d.send_all().await;
    let status = &answer_to(&mails, "<status-2@denhamlaw.example>").text;
    assert!(status.contains("cancelled (closed)"), "{status}");
    for gone in ["Next step:", "Then:", "Due:"] {
        assert!(!status.contains(gone), "a closed request still shows {gone:?}: {status}");
    }
}
