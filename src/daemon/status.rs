//! The read-only staff commands: `STATUS`, `LIST` and `HISTORY`, answered from the store.

use chrono::{DateTime, Utc};

use super::intake::Intake;
use crate::core::command::ListFilter;
use crate::core::dates;
use crate::core::lifecycle::State;
use crate::core::money::format_cents;
use crate::core::provider::display_fax;
use crate::core::reference::Reference;

/// Where `reference` stands, in a few lines.
pub(super) async fn status(intake: &Intake, reference: Reference, now: DateTime<Utc>) -> anyhow::Result<String> {
    let Some(r) = intake.store.request_detail(reference).await? else { return Ok(no_such(reference)) };
    let tz = intake.settings.firm.time_zone;
    let state = State::parse(&r.state).map(State::words).unwrap_or("unknown");
    let p = &r.provider.entry;
    let mut out = format!("{reference}: {} at {}\n\n", r.patient_name, p.name);
    out.push_str(&format!("  State:     {state}\n"));
    out.push_str(&format!("  Owner:     {}\n", r.owner));
    if let Some(a) = &r.attorney {
        out.push_str(&format!("  Attorney:  {a}\n"));
    }
    out.push_str(&format!("  Created:   {}\n", dates::us(r.created_at.with_timezone(&tz).date_naive())));
    if let Some(at) = r.submitted_at {
        let how = match r.channel.as_deref() {
            Some("fax") => format!("by fax to {}", p.fax.as_deref().map(display_fax).unwrap_or_default()),
            Some("email") => format!("by email to {}", p.email.as_deref().unwrap_or("-")),
            _ => String::new(),
        };
        out.push_str(&format!("  Sent:      {} {how}\n", dates::us(at.with_timezone(&tz).date_naive())));
    }
    let records: Vec<String> = r
        .record_status
        .iter()
        .map(|(kind, status)| {
            let status = match status.as_str() {
                "awaiting_media" => "coming by mail (films/CD)",
                other => other,
            };
            format!("{} {status}", kind.as_str())
        })
        .collect();
    out.push_str(&format!("  Records:   {}\n", records.join("; ")));
    if let Some(i) = intake.store.pending_invoice(reference).await? {
        out.push_str(&format!("  Invoice:   {} waiting for approval\n", format_cents(i.amount_cents)));
    } else if let Some((amount, state)) = intake.store.last_invoice(reference).await? {
        out.push_str(&format!("  Invoice:   {} {}\n", format_cents(amount), state.replace('_', " ")));
    }
    if let Some(eta) = r.eta {
        out.push_str(&format!("  Expected:  by {} (the provider's estimate)\n", dates::us(eta)));
    }
    let due_days = chrono::Duration::days(intake.settings.schedule.rules.records_due_days);
    if let Some(at) = r.submitted_at
        && State::parse(&r.state).is_some_and(|s| !s.is_closed())
    {
        let due = (at + due_days).with_timezone(&tz).date_naive();
        let overdue = if at + due_days < now { " (overdue)" } else { "" };
        out.push_str(&format!("  Due:       records due {}{overdue}\n", dates::us(due)));
    }
    for (i, step) in intake.store.due_list(Some(reference), 3).await?.iter().enumerate() {
        let label = if i == 0 { "Next step:" } else { "Then:     " };
        let words = crate::core::schedule::Step::from_key(&step.key).map_or_else(|| step.kind.clone(), |s| s.words());
        let at = step.at.with_timezone(&tz).format("%a %m/%d/%Y %-I:%M %p %Z");
        out.push_str(&format!("  {label} {words}, {at}\n"));
    }
    let events = intake.store.events(reference).await?;
    out.push_str("\nLatest activity:\n");
    for (at, kind, actor, detail) in events.iter().rev().take(5).rev() {
        out.push_str(&format!("  {}  {kind} ({actor}): {detail}\n", at.with_timezone(&tz).format("%m/%d %H:%M")));
    }
    out.push_str(&format!("\nHISTORY {reference} shows the whole log.\n"));
    Ok(out)
}

/// The requests `filter` selects, one per line.
pub(super) async fn list(
    intake: &Intake,
    filter: ListFilter,
    from: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    const LIMIT: i64 = 200;
    let tz = intake.settings.firm.time_zone;
    let due_before = now - chrono::Duration::days(intake.settings.schedule.rules.records_due_days);
    let today = now.with_timezone(&tz).date_naive();
    let rows = intake.store.list_requests(filter, from, due_before, today, LIMIT + 1).await?;
    let what = match filter {
        ListFilter::Open => "Open requests",
        ListFilter::Held => "Requests on hold (invoice to approve)",
        ListFilter::Deficient => "Deficient requests",
        ListFilter::Overdue => "Overdue requests (records not in by their due date, or past the provider's date)",
        ListFilter::Mine => "Your open requests",
    };
    if rows.is_empty() {
        return Ok(format!("{what}: none.\n"));
    }
    let mut out = format!(
        "{what}: {}\n\n",
        if rows.len() as i64 > LIMIT { format!("the first {LIMIT}") } else { rows.len().to_string() }
    );
    for r in rows.iter().take(LIMIT as usize) {
        let state = State::parse(&r.state).map(State::words).unwrap_or("unknown");
        let sent = r
            .submitted_at
            .map(|t| format!(", sent {}", dates::us(t.with_timezone(&tz).date_naive())))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}  {} at {}: {state}{sent} [{}]\n",
            r.reference, r.patient_name, r.provider, r.owner
        ));
    }
    out.push_str("\nSTATUS MR-n shows one request.\n");
    Ok(out)
}

/// The whole activity log of `reference`.
pub(super) async fn history(intake: &Intake, reference: Reference) -> anyhow::Result<String> {
    if intake.store.request_owner(reference).await?.is_none() {
        return Ok(no_such(reference));
    }
    let tz = intake.settings.firm.time_zone;
    let events = intake.store.events(reference).await?;
    let mut out = format!("Activity log of {reference} ({} entries), times {}:\n\n", events.len(), tz.name());
    for (at, kind, actor, detail) in &events {
        out.push_str(&format!("{}  {kind} ({actor})\n    {detail}\n", at.with_timezone(&tz).format("%Y-%m-%d %H:%M")));
    }
    Ok(out)
}

pub(super) fn no_such(reference: Reference) -> String {
    format!("There is no request {reference}. LIST shows the open ones.")
}
