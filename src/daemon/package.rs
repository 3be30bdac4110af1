//! The request package: once a request is stored (state `preparing`), render its letter and
//! certification page around the signed authorization, keep the PDF, and queue it to the
//! provider (email, or fax with a cover sheet) together with the owner's confirmation. Requests
//! still `preparing` after a crash are finished at the next start.

use chrono::{DateTime, Utc};
use tracing::{error, info};

use super::intake::{Intake, outgoing};
use crate::core::answers::{self, Confirmation, ProviderRequest};
use crate::core::inbound::{Attachment, AutoSubmitted, OutgoingMail};
use crate::core::provider::{Method, display_fax};
use crate::core::reference::Reference;
use crate::core::{dates, money};
use crate::letters::{
    self, Channel, CoverData, LetterData, Letterhead, NoticeData, Patient, Provider, RecordRange, Staff, StatuteText,
};
use crate::store::{NewDocument, RequestDetail, Submission};

/// Prepares `reference`; on failure, logs it and tells the owner (the request stays
/// `preparing` and is tried again at the next start).
pub async fn prepare_or_report(intake: &Intake, reference: Reference) {
    if let Err(e) = prepare(intake, reference).await {
        error!(request = %reference, error = format!("{e:#}"), "could not build or queue the request package");
        if let Err(e2) = report_failure(intake, reference, &e).await {
            error!(request = %reference, error = format!("{e2:#}"), "could not tell the owner either");
        }
    }
}

/// Finishes every request left `preparing` (after a crash or a failed render).
pub async fn prepare_pending(intake: &Intake) {
    match intake.store.requests_in_state("preparing").await {
        Ok(pending) => {
            for reference in pending {
                prepare_or_report(intake, reference).await;
            }
        }
        Err(e) => error!(error = %e, "cannot read requests waiting for their package"),
    }
}

async fn prepare(intake: &Intake, reference: Reference) -> anyhow::Result<()> {
    let Some(request) = intake.store.request_detail(reference).await? else { return Ok(()) };
    if request.state != "preparing" {
        return Ok(());
    }
    let now = intake.clock.now();
    let authorization = tokio::fs::read(&request.authorization_path).await?;
    // A bounce or a redirect may have chosen the channel; otherwise the provider's preference.
    let channel = match (request.next_channel.as_deref(), request.provider.entry.preferred_method) {
        (Some("email"), _) | (None, Method::Email) => Channel::Email,
        _ => Channel::Fax,
    };
    let data = letter_data(intake, &request, channel, now);
    let templates = intake.templates.clone();
    let cover = (channel == Channel::Fax).then(|| cover_data(intake, &request, &data));
    let started = std::time::Instant::now();
    let (package, faxed) = tokio::task::spawn_blocking(move || -> Result<_, letters::LetterError> {
        let package = letters::build_package(&templates, &data, &authorization)?;
        let faxed = match cover {
            Some(mut cover) => {
                cover.pages = package.pages + 1;
                let sheet = letters::render_cover(&templates, &cover)?;
                Some(letters::merge(&[&sheet, &package.pdf])?)
            }
            None => None,
        };
        Ok((package, faxed))
    })
    .await??;
    info!(request = %reference, pages = package.pages, render_ms = started.elapsed().as_millis() as u64, "package built");

    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let (sent_pdf, name) = match &faxed {
        Some(pdf) => (pdf.clone(), format!("{reference}-fax-{stamp}.pdf")),
        None => (package.pdf.clone(), format!("{reference}-request-{stamp}.pdf")),
    };
    let dir = intake.settings.documents.join(reference.to_string());
    let (d, n, bytes) = (dir.clone(), name.clone(), sent_pdf.clone());
    tokio::task::spawn_blocking(move || crate::mail::files::write_atomically(&d, &n, &bytes)).await??;
    let path = dir.join(&name).display().to_string();
    let sha = crate::mail::files::sha256_hex(&sent_pdf);
    let document = NewDocument {
        kind: "package",
        filename: &name,
        path: &path,
        content_type: "application/pdf",
        size: sent_pdf.len() as i64,
        sha256: &sha,
    };
    let attachment = Attachment { filename: name.clone(), content_type: "application/pdf".into(), bytes: sent_pdf };
    let provider = &request.provider.entry;
    let staff_name = staff(intake, &request.owner).name;
    let to_provider = match channel {
        Channel::Email => Some(intake.compose(
            &OutgoingMail {
                reference: Some(reference),
                attachments: vec![attachment.clone()],
                ..OutgoingMail::fresh(
                    vec![provider.email.clone().unwrap_or_default()],
                    format!("Medical records request - {}", request.patient_name),
                    answers::provider_request(&ProviderRequest {
                        patient: &request.patient_name,
                        reference: &reference.to_string(),
                        reply_to: &intake.settings.bot.address,
                        staff: &staff_name,
                        firm: &intake.settings.firm.name,
                        firm_phone: &intake.settings.firm.phone,
                    }),
                )
            },
            now,
        )?),
        Channel::Fax => None,
    };
    let fax_to = provider.fax.clone().unwrap_or_default();
    let submission = match &to_provider {
        Some(c) => Submission::Email(outgoing(c, None)),
        None => Submission::Fax { to: &fax_to },
    };
    let local = now.with_timezone(&intake.settings.firm.time_zone);
    let channel_words = match channel {
        Channel::Email => format!("email to {}", provider.email.as_deref().unwrap_or("-")),
        Channel::Fax => format!("fax to {}", display_fax(&fax_to)),
    };
    let confirmation = intake.compose(
        &OutgoingMail {
            to: vec![request.owner.clone()],
            subject: format!("Request sent to {} - {}", provider.name, request.patient_name),
            body: answers::confirmation(&Confirmation {
                reference: &reference.to_string(),
                patient: &request.patient_name,
                provider: &provider.name,
                channel: &channel_words,
                channel_is_fax: channel == Channel::Fax,
                queued: &local.format("%B %-d, %Y at %-I:%M %p %Z").to_string(),
                pages: package.pages + u32::from(faxed.is_some()),
            }),
            in_reply_to: request.origin_message_id.clone(),
            references: request.origin_message_id.clone().into_iter().collect(),
            reference: Some(reference),
            auto_submitted: AutoSubmitted::AutoReplied,
            attachments: vec![attachment],
        },
        now,
    )?;
    intake
        .store
        .queue_submission(
            reference,
            &document,
            &submission,
            &outgoing(&confirmation, request.origin_message_id.as_deref()),
            now,
        )
        .await?;
    intake.outbox_wake.notify_one();
    info!(request = %reference, channel = ?channel, "submission queued");
    Ok(())
}

async fn report_failure(intake: &Intake, reference: Reference, e: &anyhow::Error) -> anyhow::Result<()> {
    let Some(request) = intake.store.request_detail(reference).await? else { return Ok(()) };
    let now = intake.clock.now();
    let notice = intake.compose(
        &OutgoingMail {
            to: vec![request.owner.clone()],
            subject: "Request not sent yet".into(),
            body: format!(
                "I stored {reference} but could not build or queue its request package, so nothing has gone to the \
                 provider yet:\n\n    {e:#}\n\nI will try again when medrec next starts. If the problem is the \
                 authorization PDF or the provider's details, reply CANCEL {reference} and send a corrected NEW."
            ),
            in_reply_to: request.origin_message_id.clone(),
            references: request.origin_message_id.clone().into_iter().collect(),
            reference: Some(reference),
            auto_submitted: AutoSubmitted::AutoGenerated,
            attachments: Vec::new(),
        },
        now,
    )?;
    intake.store.queue_notice(&outgoing(&notice, None), Some(reference), now).await?;
    intake.outbox_wake.notify_one();
    Ok(())
}

/// The staff member's letter details; an owner missing from the config still gets a letter.
pub(super) fn staff(intake: &Intake, owner: &str) -> Staff {
    let s = intake.settings.staff.iter().find(|s| s.address == owner);
    Staff {
        name: s.map(|s| s.name.clone()).unwrap_or_else(|| owner.to_string()),
        email: owner.to_string(),
        direct_line: s.and_then(|s| s.phone.clone()).unwrap_or_else(|| intake.settings.firm.phone.clone()),
        title: s.and_then(|s| s.title.clone()).unwrap_or_else(|| "Paralegal".into()),
    }
}

fn letterhead(intake: &Intake) -> Letterhead {
    let f = &intake.settings.firm;
    Letterhead {
        name: f.name.clone(),
        street: f.street.clone(),
        city: f.city.clone(),
        state: f.state.clone(),
        zip: f.zip.clone(),
        phone: f.phone.clone(),
        website: f.website.clone(),
        fax: f.fax.as_deref().map(display_fax),
    }
}

fn letter_data(intake: &Intake, r: &RequestDetail, channel: Channel, now: DateTime<Utc>) -> LetterData {
    let p = &r.provider.entry;
    let today = now.with_timezone(&intake.settings.firm.time_zone).date_naive();
    LetterData {
        firm: letterhead(intake),
        staff: staff(intake, &r.owner),
        attorney: r.attorney.clone().unwrap_or_default(),
        date: dates::long(today),
        reference: r.reference.to_string(),
        reply_to: intake.settings.bot.address.clone(),
        provider: Provider {
            name: p.name.clone(),
            department: p.department.clone(),
            street: p.street.clone().unwrap_or_default(),
            city: p.city.clone().unwrap_or_default(),
            state: p.state.clone().unwrap_or_default(),
            zip: p.zip.clone().unwrap_or_default(),
            fax: p.fax.as_deref().map(display_fax),
            email: p.email.clone(),
        },
        channel,
        patient: Patient {
            name: r.patient_name.clone(),
            address_lines: r.patient_address.lines().map(str::to_string).collect(),
            dob: dates::us(r.patient_dob),
            ssn: r.patient_ssn.clone(),
        },
        records: r
            .records
            .iter()
            .map(|x| RecordRange {
                label: x.kind.label().to_string(),
                from: dates::us(x.from),
                to: x.to.map(dates::us).unwrap_or_else(|| "Present".into()),
            })
            .collect(),
        facility: p.name.clone(),
        approval_limit: money::format_cents(intake.settings.approval_required_above_cents),
        statute: p.state.as_deref().and_then(StatuteText::for_state),
    }
}

/// A one-page letter to the provider about `r` (a withdrawal, a follow-up).
pub(super) fn notice_data(
    intake: &Intake,
    r: &RequestDetail,
    now: DateTime<Utc>,
    title: &str,
    paragraphs: Vec<String>,
) -> NoticeData {
    let channel = match r.channel.as_deref() {
        Some("email") => Channel::Email,
        _ => Channel::Fax,
    };
    let letter = letter_data(intake, r, channel, now);
    NoticeData {
        firm: letter.firm,
        staff: letter.staff,
        date: letter.date,
        reference: letter.reference,
        reply_to: letter.reply_to,
        provider: letter.provider,
        patient_name: r.patient_name.clone(),
        patient_dob: dates::us(r.patient_dob),
        title: title.to_string(),
        paragraphs,
    }
}

/// A fax cover sheet about `r`, under `subject`, for `pages` pages in all.
pub(super) fn cover_for(
    intake: &Intake,
    r: &RequestDetail,
    now: DateTime<Utc>,
    subject: &str,
    pages: u32,
) -> CoverData {
    let data = letter_data(intake, r, Channel::Fax, now);
    CoverData { subject: subject.to_string(), pages, ..cover_data(intake, r, &data) }
}

fn cover_data(intake: &Intake, r: &RequestDetail, data: &LetterData) -> CoverData {
    let firm = &intake.settings.firm;
    CoverData {
        firm: data.firm.clone(),
        from: data.staff.name.clone(),
        fax_back: firm.fax.as_deref().map(display_fax).unwrap_or_else(|| firm.phone.clone()),
        to_name: r.provider.entry.name.clone(),
        to_department: r.provider.entry.department.clone(),
        to_fax: data.provider.fax.clone().unwrap_or_default(),
        date: data.date.clone(),
        pages: 0,
        reference: data.reference.clone(),
        reply_to: data.reply_to.clone(),
        subject: "Medical records request".into(),
    }
}
