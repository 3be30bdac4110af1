//! The daily digest: on business days at `[schedule] digest_time`, each staff member gets their
//! open, on-hold, deficient and overdue requests (approvers: every request on hold), what went
//! to providers and what arrived since their last digest. A digest that would be empty is not
//! sent; one missed by more than half a day (the daemon was stopped) is skipped, not sent late.

use chrono::{DateTime, TimeDelta, Utc};
use tracing::info;

use super::intake::{Intake, outgoing};
use crate::core::dates;
use crate::core::inbound::OutgoingMail;
use crate::core::reminders::{self, Section};
use crate::store::{DigestRequest, Done, DueRow, Happened};

/// A digest later than this after its time is skipped.
const TOO_LATE: TimeDelta = TimeDelta::hours(12);

/// Plans each staff member's next digest (and drops those of people no longer on staff).
pub async fn plan(intake: &Intake, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(time) = intake.settings.schedule.digest_at else { return Ok(()) };
    let calendar = &intake.settings.schedule.calendar;
    let addresses: Vec<String> = intake.settings.staff.iter().map(|s| s.address.clone()).collect();
    intake.store.drop_digests_except(&addresses).await?;
    // From a minute back, so the digest due this very minute keeps its key.
    let at = calendar.next_business_time(now - TimeDelta::minutes(1), time);
    let date = at.with_timezone(&calendar.time_zone()).date_naive();
    for address in &addresses {
        intake.store.plan_digest(address, &format!("digest/{date}/{address}"), at).await?;
    }
    Ok(())
}

/// Sends (or skips) the digest of `row`; true when one went out.
pub async fn send(intake: &Intake, row: &DueRow, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let Some(address) = row.detail.as_deref() else {
        intake.store.skip_step(&row.key, "no address", now).await?;
        return Ok(false);
    };
    if now - row.at > TOO_LATE {
        intake.store.skip_step(&row.key, "missed: the daemon was not running at digest time", now).await?;
        return Ok(false);
    }
    let since = intake.store.last_digest(address).await?.unwrap_or(now - TimeDelta::hours(24));
    let approver = intake.settings.invoices.approvers.iter().any(|a| a == address);
    let requests = intake.store.digest_requests(address, approver).await?;
    let went_out = intake.store.went_out(address, since, now).await?;
    let arrived = intake.store.arrived(address, since, now).await?;
    if requests.is_empty() && went_out.is_empty() && arrived.is_empty() {
        intake.store.skip_step(&row.key, "nothing to report", now).await?;
        return Ok(false);
    }
    let tz = intake.settings.firm.time_zone;
    let sections = sections(intake, address, &requests, now);
    let counts: Vec<String> =
        sections.iter().map(|s| format!("{} {}", s.lines.len(), s.title.to_lowercase())).collect();
    let body = reminders::digest(&reminders::Digest {
        date: now.with_timezone(&tz).format("%A, %B %-d, %Y").to_string(),
        sections,
        since: since.with_timezone(&tz).format("%a %b %-d, %-I:%M %p").to_string(),
        went_out: went_out.iter().map(|h| happened(intake, h)).collect(),
        arrived: arrived.iter().map(|h| happened(intake, h)).collect(),
    });
    let counted = if counts.is_empty() { "nothing open".into() } else { counts.join(", ") };
    let subject = format!("Records requests digest: {counted}");
    let mail = intake.compose(&OutgoingMail::fresh(vec![address.to_string()], subject, body), now)?;
    let sent = intake.store.send_digest(&row.key, &outgoing(&mail, None), now).await? == Done::Done;
    if sent {
        info!(requests = requests.len(), "digest queued");
    }
    Ok(sent)
}

/// The digest's lists, in the order staff act on them.
const TITLES: [&str; 5] = [
    "On hold, invoice to approve",
    "Deficient, the provider needs something from us",
    "Failed, could not be delivered",
    "Overdue, records due date passed",
    "Open",
];

/// The digest's lists, empty ones left out.
fn sections(intake: &Intake, address: &str, requests: &[DigestRequest], now: DateTime<Utc>) -> Vec<Section> {
    let due_days = TimeDelta::days(intake.settings.schedule.rules.records_due_days);
    let section_of = |r: &DigestRequest| match r.state.as_str() {
        "on_hold" => 0,
        "deficient" => 1,
        "failed" => 2,
        "submitted" | "acknowledged" | "partial" if r.follow_up_from.is_some_and(|from| now - from > due_days) => 3,
        _ => 4,
    };
    TITLES
        .iter()
        .enumerate()
        .map(|(i, title)| Section {
            title: title.to_string(),
            lines: requests.iter().filter(|r| section_of(r) == i).map(|r| line(intake, address, r)).collect(),
        })
        .filter(|s| !s.lines.is_empty())
        .collect()
}

fn line(intake: &Intake, address: &str, r: &DigestRequest) -> String {
    let tz = intake.settings.firm.time_zone;
    let mut text = format!("{}  {}, {}", r.reference, r.patient_name, r.provider);
    if let Some(sent) = r.submitted_at {
        text.push_str(&format!(": sent {}", dates::us(sent.with_timezone(&tz).date_naive())));
    }
    if let Some(eta) = r.eta {
        text.push_str(&format!("; promised by {}", dates::us(eta)));
    }
    if let Some((kind, at)) = &r.next {
        text.push_str(&format!("; next: {} {}", next_words(kind), dates::us(at.with_timezone(&tz).date_naive())));
    }
    if r.owner != address {
        text.push_str(&format!(" ({})", r.owner));
    }
    text
}

/// A due kind as staff read it.
pub(super) fn next_words(kind: &str) -> &'static str {
    match kind {
        "follow_up" => "follow-up",
        "records_due" => "records-due follow-up",
        "escalation" => "escalation to the owner",
        "approval_reminder" => "approval reminder",
        "deficiency_reminder" => "deficiency reminder",
        "update_reminder" => "updated-records reminder",
        _ => "digest",
    }
}

fn happened(intake: &Intake, h: &Happened) -> String {
    let at = h.at.with_timezone(&intake.settings.firm.time_zone).format("%a %-I:%M %p");
    format!("{}  {at}  {}", h.reference, h.what)
}
