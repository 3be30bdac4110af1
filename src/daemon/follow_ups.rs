//! What each scheduled step of a request sends: the follow-up to the provider (a letter naming
//! the original request, with the original package attached again, by fax and by email where
//! both are known), the records-due notice and the escalation to the owner, and the approval,
//! deficiency and update reminders. Every step is a line in the request's activity log.

use chrono::{DateTime, Utc};

use super::change::{Do, Planned};
use super::commands::store_file;
use super::intake::Intake;
use crate::core::dates;
use crate::core::inbound::{Attachment, AutoSubmitted, OutgoingMail};
use crate::core::lifecycle::State;
use crate::core::money::format_cents;
use crate::core::provider::display_fax;
use crate::core::reminders::{self, About};
use crate::core::schedule::Step;
use crate::letters;
use crate::store::RequestDetail;

/// The change step `step` makes to `request` at `now`.
pub(super) async fn plan_step(
    intake: &Intake,
    request: &RequestDetail,
    step: Step,
    now: DateTime<Utc>,
) -> anyhow::Result<Planned> {
    let state = State::parse(&request.state).unwrap_or(State::Submitted);
    let mut p = Planned::new(request.reference, state);
    let about = about(intake, request, now);
    match step {
        Step::FollowUp(n) => follow_up(intake, request, n, &about, &mut p, now).await?,
        Step::Escalation => escalation(intake, request, &about, &mut p).await?,
        Step::ApprovalReminder(_) => approval_reminder(intake, request, &mut p).await?,
        Step::DeficiencyReminder(_) => deficiency_reminder(intake, request, &mut p).await?,
        Step::UpdateReminder(_) => update_reminder(intake, request, &mut p).await?,
    }
    Ok(p)
}

fn local_date(intake: &Intake, at: DateTime<Utc>) -> chrono::NaiveDate {
    at.with_timezone(&intake.settings.firm.time_zone).date_naive()
}

fn about(intake: &Intake, r: &RequestDetail, now: DateTime<Utc>) -> About {
    let sent = r.submitted_at.unwrap_or(r.created_at);
    let missing: Vec<&str> = r
        .record_status
        .iter()
        .filter(|(_, status)| status != "received")
        .map(|(kind, status)| if status == "awaiting_media" { "radiology media by mail" } else { kind.as_str() })
        .collect();
    // Nothing received at all: everything is outstanding, which goes without saying.
    let missing = if missing.len() == r.record_status.len() { String::new() } else { missing.join(", ") };
    About {
        reference: r.reference.to_string(),
        patient: r.patient_name.clone(),
        provider: r.provider.entry.name.clone(),
        sent: dates::long(local_date(intake, sent)),
        days: (local_date(intake, now) - local_date(intake, sent)).num_days(),
        missing,
    }
}

async fn follow_up(
    intake: &Intake,
    r: &RequestDetail,
    n: u32,
    about: &About,
    p: &mut Planned,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let step = Step::FollowUp(n);
    let records_due = n == 2;
    let staff = super::package::staff(intake, &r.owner);
    let text = reminders::follow_up(&reminders::FollowUp {
        about: about.clone(),
        records_due,
        reply_to: intake.settings.bot.address.clone(),
        approval_limit: format_cents(intake.settings.approval_required_above_cents),
        staff: staff.name.clone(),
        firm: intake.settings.firm.name.clone(),
        firm_phone: intake.settings.firm.phone.clone(),
    });
    let package = match intake.store.package_document(r.reference).await? {
        Some((filename, path)) => {
            Some(Attachment { filename, content_type: "application/pdf".into(), bytes: tokio::fs::read(&path).await? })
        }
        None => None,
    };
    let title = if records_due { "Follow-up: records now due" } else { "Follow-up: please confirm receipt" };
    let letter = follow_up_letter(intake, r, now, title, &text).await?;
    let provider = &r.provider.entry;
    let mut channels = Vec::new();
    if let Some(fax) = &provider.fax {
        let mut parts: Vec<&[u8]> = vec![&letter];
        if let Some(pkg) = &package {
            parts.push(&pkg.bytes);
        }
        let body = letters::merge(&parts)?;
        let pages = letters::inspect_pdf(&body).map(|i| i.pages).unwrap_or(1);
        let cover = super::package::cover_for(intake, r, now, title, pages + 1);
        let templates = intake.templates.clone();
        let sheet = tokio::task::spawn_blocking(move || letters::render_cover(&templates, &cover)).await??;
        let pdf = letters::merge(&[&sheet, &body])?;
        let name = format!("{}-follow-up-{n}.pdf", r.reference);
        let file = store_file(intake, &r.reference.to_string(), &pdf_attachment(name, pdf)).await?;
        p.push(Do::Fax { to: fax.clone(), document: ("letter", file) });
        p.event("follow_up", "medrec", format!("{} by fax to {}", step.words(), display_fax(fax)));
        channels.push(format!("by fax to {}", display_fax(fax)));
    }
    if let Some(email) = &provider.email {
        let thread = intake.store.package_message_id(r.reference).await?;
        let mut attachments = vec![pdf_attachment(format!("{}-follow-up-{n}.pdf", r.reference), letter.clone())];
        attachments.extend(package.clone());
        let mail = intake.compose(
            &OutgoingMail {
                to: vec![email.clone()],
                subject: format!("{title} - medical records request - {}", r.patient_name),
                body: text.clone(),
                in_reply_to: thread.clone(),
                references: thread.clone().into_iter().collect(),
                reference: Some(r.reference),
                auto_submitted: AutoSubmitted::AutoGenerated,
                attachments,
            },
            now,
        )?;
        let detail = format!("{} by email to {email}, Message-ID {}", step.words(), mail.message_id);
        p.push(Do::Composed { mail, in_reply_to: thread, purpose: "notice", tag: Some("follow_up") });
        p.event("follow_up", "medrec", detail);
        channels.push(format!("by email to {email}"));
    }
    if channels.is_empty() {
        p.event("follow_up", "medrec", format!("{}: the directory has no fax or email for the provider", step.words()));
        channels.push("not possible: the directory has no fax or email for it; call them".into());
    }
    if records_due {
        let body = reminders::records_due(&reminders::RecordsDue {
            about: about.clone(),
            channels: channels.join(" and "),
            repeat_days: intake.settings.schedule.rules.repeat_days,
        });
        p.push(to_owner(r, "Records due", body, "records_due"));
        p.event("records_due", "medrec", format!("records due; {} told", r.owner));
    }
    Ok(())
}

fn pdf_attachment(filename: String, bytes: Vec<u8>) -> Attachment {
    Attachment { filename, content_type: "application/pdf".into(), bytes }
}

/// The follow-up as a letter on the letterhead: the email's text, paragraph by paragraph.
async fn follow_up_letter(
    intake: &Intake,
    r: &RequestDetail,
    now: DateTime<Utc>,
    title: &str,
    text: &str,
) -> anyhow::Result<Vec<u8>> {
    // The letter has its own greeting and signature: the paragraphs between the email's.
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .skip(1)
        .take_while(|p| !p.starts_with("Thank you"))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let data = super::package::notice_data(intake, r, now, title, paragraphs);
    let templates = intake.templates.clone();
    Ok(tokio::task::spawn_blocking(move || letters::render_notice(&templates, &data)).await??)
}

async fn escalation(intake: &Intake, r: &RequestDetail, about: &About, p: &mut Planned) -> anyhow::Result<()> {
    let facts = intake.store.schedule_facts(r.reference.0).await?;
    let follow_ups = facts
        .map_or(0, |f| f.done.keys().filter(|k| matches!(Step::from_key(k), Some(Step::FollowUp(_)))).count() as u32);
    let body = reminders::escalation(&reminders::Escalation {
        about: about.clone(),
        follow_ups,
        repeat_days: intake.settings.schedule.rules.repeat_days,
    });
    p.push(to_owner(r, "Decision needed: no records yet", body, "escalation"));
    p.event("escalation", "medrec", format!("no records after {} days; {} asked to decide", about.days, r.owner));
    Ok(())
}

async fn approval_reminder(intake: &Intake, r: &RequestDetail, p: &mut Planned) -> anyhow::Result<()> {
    let Some(invoice) = intake.store.pending_invoice(r.reference).await? else {
        p.event("approval_reminder", "medrec", "no invoice waits for approval; nothing to remind".into());
        return Ok(());
    };
    let body = reminders::approval_reminder(&reminders::ApprovalReminder {
        reference: r.reference.to_string(),
        patient: r.patient_name.clone(),
        provider: r.provider.entry.name.clone(),
        amount: format_cents(invoice.amount_cents),
        since: dates::long(local_date(intake, invoice.created_at)),
    });
    let mut to = vec![r.owner.clone()];
    to.extend(intake.settings.invoices.approvers.iter().filter(|a| **a != r.owner).cloned());
    // Threaded to the approval request, and tagged as one: a one-word APPROVE reply works.
    let thread = intake.store.approval_messages(r.reference, invoice.created_at).await?.pop();
    let mut out = owner_mail(r, "Reminder: invoice waiting for approval", body);
    out.to = to.clone();
    out.in_reply_to = thread.clone();
    out.references = thread.into_iter().collect();
    p.push(Do::Email { out, purpose: "notice", tag: Some("approval") });
    p.event("approval_reminder", "medrec", format!("approval reminder to {}", to.join(", ")));
    Ok(())
}

async fn deficiency_reminder(intake: &Intake, r: &RequestDetail, p: &mut Planned) -> anyhow::Result<()> {
    let last = intake.store.last_event(r.reference, "deficiency").await?;
    let (since, reason) = match last {
        Some((at, detail)) => {
            let code = detail.trim_start_matches("deficiency: ").replace('_', " ");
            (dates::long(local_date(intake, at)), format!("what its deficiency notice asked for ({code})"))
        }
        None => ("its deficiency notice".into(), "what its deficiency notice asked for".into()),
    };
    let body = reminders::deficiency_reminder(&reminders::DeficiencyReminder {
        reference: r.reference.to_string(),
        patient: r.patient_name.clone(),
        provider: r.provider.entry.name.clone(),
        since,
        reason,
    });
    p.push(to_owner(r, "Reminder: deficiency open", body, "deficiency_reminder"));
    p.event("deficiency_reminder", "medrec", format!("deficiency reminder to {}", r.owner));
    Ok(())
}

async fn update_reminder(intake: &Intake, r: &RequestDetail, p: &mut Planned) -> anyhow::Result<()> {
    // Received is the state it is in: since when is the day the records came.
    let received = intake.store.schedule_facts(r.reference.0).await?.map_or(r.created_at, |f| f.state_since);
    let received = local_date(intake, received);
    let body = reminders::update_reminder(&reminders::UpdateReminder {
        reference: r.reference.to_string(),
        patient: r.patient_name.clone(),
        provider: r.provider.entry.name.clone(),
        received: dates::long(received),
        from: dates::us(received),
        days: intake.settings.schedule.rules.update_after_days,
    });
    p.push(to_owner(r, "Updated records?", body, "update_reminder"));
    p.event("update_reminder", "medrec", format!("update reminder to {}", r.owner));
    Ok(())
}

fn owner_mail(r: &RequestDetail, subject: &str, body: String) -> OutgoingMail {
    OutgoingMail {
        to: vec![r.owner.clone()],
        subject: format!("{subject} - {} - {}", r.provider.entry.name, r.patient_name),
        body,
        in_reply_to: r.origin_message_id.clone(),
        references: r.origin_message_id.clone().into_iter().collect(),
        reference: Some(r.reference),
        auto_submitted: AutoSubmitted::AutoGenerated,
        attachments: Vec::new(),
    }
}

fn to_owner(r: &RequestDetail, subject: &str, body: String, tag: &'static str) -> Do {
    Do::Email { out: owner_mail(r, subject, body), purpose: "notice", tag: Some(tag) }
}
