//! What a classified provider reply does to its request (DESIGN.md's kinds table): records
//! close or narrow it, invoices are approved or hold it, deficiencies reach the owner at once,
//! "no records" closes it, acknowledgments keep their ETA, redirects are offered to staff.

use chrono::{DateTime, Datelike, Utc};

use super::change::{Do, Planned};
use super::commands::store_file;
use super::intake::Intake;
use crate::core::approval::{self, InvoiceDecision};
use crate::core::classify::{Classification, Deficiency, Kind};
use crate::core::coverage;
use crate::core::dates;
use crate::core::eta;
use crate::core::fee_check::{self, InvoiceFacts, Verdict};
use crate::core::inbound::{Attachment, AutoSubmitted, InboundMail, OutgoingMail};
use crate::core::lifecycle::{self, Event, State};
use crate::core::money::format_cents;
use crate::core::notices::{self, quote};
use crate::core::provider::display_fax;
use crate::core::redirect;
use crate::core::statutes::ProviderKind;
use crate::store::RequestDetail;

/// The reply as read: its class, new text and the text of its PDFs.
pub(super) struct Reading<'a> {
    pub mail: &'a InboundMail,
    pub raw: &'a [u8],
    pub class: &'a Classification,
    pub new_text: &'a str,
    pub attachment_text: &'a str,
    /// How it was matched and classified, for the activity log.
    pub detail: String,
}

/// Plans what `reading` does to `request`.
pub(super) async fn plan(
    intake: &Intake,
    request: &RequestDetail,
    reading: &Reading<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<Planned> {
    let state = State::parse(&request.state).unwrap_or(State::Submitted);
    let kind = reading.class.kind;
    let mut p = Planned::new(request.reference, state);
    p.push(Do::File { kind: kind.as_str() });
    p.event("reply_received", "provider", reading.detail.clone());
    let files = keep_attachments(intake, request, reading, &mut p).await?;
    let p = match kind {
        Kind::Records => records(intake, request, reading, p, &files)?,
        Kind::Invoice => invoice(intake, request, reading, p, &files, now).await?,
        Kind::Deficiency => deficiency(request, reading, p, &files),
        Kind::NoRecords => no_records(request, reading, p, &files),
        Kind::Acknowledgment => acknowledgment(intake, reading, p, now),
        Kind::Redirect => redirect_notice(intake, request, reading, p),
        // Logged only: out-of-office notices, and what the caller sends to triage.
        Kind::AutoReply | Kind::Bounce | Kind::Other => p,
    };
    Ok(p)
}

/// Keeps every attached file with the request, as `records`, `invoice`, `letter` or `other`.
async fn keep_attachments(
    intake: &Intake,
    request: &RequestDetail,
    reading: &Reading<'_>,
    p: &mut Planned,
) -> anyhow::Result<Vec<Attachment>> {
    let kind = match reading.class.kind {
        Kind::Records => "records",
        Kind::Invoice => "invoice",
        Kind::Deficiency | Kind::NoRecords | Kind::Redirect | Kind::Acknowledgment => "letter",
        _ => "other",
    };
    let folder = request.reference.to_string();
    for a in &reading.mail.attachments {
        let file = store_file(intake, &folder, a).await?;
        p.push(Do::Document { kind, file, content_type: a.content_type.clone() });
    }
    Ok(reading.mail.attachments.clone())
}

fn records(
    intake: &Intake,
    request: &RequestDetail,
    reading: &Reading<'_>,
    p: Planned,
    files: &[Attachment],
) -> anyhow::Result<Planned> {
    let requested: Vec<_> = request.records.iter().map(|r| r.kind).collect();
    let already: Vec<_> = request.record_status.iter().filter(|(_, s)| s == "received").map(|(k, _)| *k).collect();
    let coverage = coverage::judge(&requested, &already, reading.new_text, reading.attachment_text);
    let complete = coverage.is_complete();
    let to = lifecycle::next(p.from, Event::Records { complete }).unwrap_or(p.from);
    let mut p = p.to(to);
    p.push(Do::RecordTypes {
        received: coverage.received.iter().map(|k| k.as_str()).collect(),
        awaiting_media: coverage.awaiting_media.iter().map(|k| k.as_str()).collect(),
    });
    let detail = if complete {
        "records complete".to_string()
    } else {
        format!("records partial; still missing: {}", coverage.gaps_in_words())
    };
    p.event(if complete { "records_complete" } else { "records_partial" }, "provider", detail);
    let flag = (p.from == State::OnHold).then(|| {
        "the invoice on this request is still waiting for approval; the records are kept, but check the \
         invoice before using them (APPROVE or DECLINE on the approval message)."
            .to_string()
    });
    if let Some(f) = &flag {
        p.event("flag", "medrec", format!("records arrived with an unapproved invoice: {f}"));
    }
    let (attached, listed) = split_by_size(files, intake.settings.attach_records_up_to);
    let body = notices::records(&notices::RecordsNotice {
        reference: request.reference.to_string(),
        patient: request.patient_name.clone(),
        provider: request.provider.entry.name.clone(),
        complete,
        gaps: coverage.gaps_in_words(),
        received: coverage.received.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
        flag,
        attached: names(&attached),
        listed: names(&listed),
    });
    let subject = if complete { "Records received" } else { "Records partly received" };
    p.push(to_owner(request, subject, body, attached, "records"));
    Ok(p)
}

async fn invoice(
    intake: &Intake,
    request: &RequestDetail,
    reading: &Reading<'_>,
    p: Planned,
    files: &[Attachment],
    now: DateTime<Utc>,
) -> anyhow::Result<Planned> {
    let amount = reading.class.amount_cents;
    let entry = &request.provider.entry;
    let first_copy = !intake
        .store
        .had_records_before(&request.patient_name, request.patient_dob, request.provider.id, request.reference)
        .await?;
    let text = format!("{}\n{}", reading.new_text, reading.attachment_text);
    let facts = InvoiceFacts {
        amount_cents: amount.unwrap_or(0),
        pages: fee_check::pages_in(&text),
        electronic: false,
        certification_requested: true,
    };
    let provider_kind =
        if entry.name.to_ascii_lowercase().contains("hospital") { ProviderKind::Hospital } else { ProviderKind::Any };
    let local = now.with_timezone(&intake.settings.firm.time_zone);
    let verdict = match amount {
        Some(_) => fee_check::check(entry.state.as_deref(), provider_kind, &facts, first_copy, local.year()),
        None => Verdict::Unknown { why: "the invoice total could not be read".into() },
    };
    let overcharge = matches!(verdict, Verdict::Overcharge { .. });
    let fee_words = fee_check::describe(&verdict);
    let settings = &intake.settings;
    let decision = approval::decide(
        amount,
        settings.invoices.auto_approve_up_to_cents,
        settings.approval_required_above_cents,
        overcharge,
    );
    let amount_words = amount.map(format_cents).unwrap_or_else(|| "an unreadable amount".into());
    let superseded = intake.store.pending_invoice(request.reference).await?.map(|i| format_cents(i.amount_cents));
    let pdfs: Vec<Attachment> = files.iter().filter(|a| a.looks_like_pdf()).cloned().collect();
    let attached = !pdfs.is_empty();
    let attachments = if attached { pdfs } else { vec![original(reading.raw)] };
    let (state, to) = match &decision {
        InvoiceDecision::Hold(_) => ("pending_approval", Event::Invoice { needs_approval: true }),
        _ => ("approved", Event::Invoice { needs_approval: false }),
    };
    let to = lifecycle::next(p.from, to).unwrap_or(p.from);
    let mut p = p.to(to);
    p.push(Do::Invoice { amount_cents: amount.unwrap_or(0), state, fee_check: fee_words.clone(), overcharge });
    if overcharge {
        p.event("fee_flag", "medrec", fee_words.clone());
    }
    match decision {
        InvoiceDecision::Hold(why) => {
            let mut approvers = vec![request.owner.clone()];
            for a in &settings.invoices.approvers {
                if !approvers.contains(a) {
                    approvers.push(a.clone());
                }
            }
            p.event("on_hold", "medrec", format!("invoice of {amount_words} held for approval: {why}"));
            let body = notices::approval_request(&notices::ApprovalRequest {
                reference: request.reference.to_string(),
                patient: request.patient_name.clone(),
                provider: entry.name.clone(),
                amount: amount_words.clone(),
                why_held: why,
                fee_check: fee_words,
                superseded,
                attached,
                approvers: approvers.join(", "),
            });
            let mut out = mail(request, approvers, &format!("Approval needed: invoice {amount_words}"), body);
            out.attachments = attachments;
            p.push(Do::Email { out, purpose: "notice", tag: Some("approval") });
        }
        decision => {
            let how =
                format!("automatically (at or under {})", format_cents(settings.invoices.auto_approve_up_to_cents));
            p.event("invoice_approved", "medrec", format!("invoice of {amount_words} approved {how}"));
            p.push(billing(intake, request, &amount_words, &how, &fee_words, attachments));
            if decision == InvoiceDecision::ApproveAndTell {
                let body = format!(
                    "{} sent an invoice of {amount_words} for {} ({}). It is under the {} approval limit, so I \
                     approved it and sent it to billing for pre-payment.\n\nFee check: {fee_words}\n",
                    entry.name,
                    request.reference,
                    request.patient_name,
                    format_cents(settings.approval_required_above_cents)
                );
                p.push(to_owner(request, "Invoice approved", body, Vec::new(), "invoice"));
            }
        }
    }
    Ok(p)
}

/// The approved invoice, to billing for pre-payment (the owner when no billing address is set).
pub(super) fn billing(
    intake: &Intake,
    request: &RequestDetail,
    amount: &str,
    approved: &str,
    fee_check: &str,
    attachments: Vec<Attachment>,
) -> Do {
    let e = &request.provider.entry;
    let mut payee: Vec<String> = Vec::new();
    if let Some(d) = &e.department {
        payee.push(d.clone());
    }
    let place = [e.street.as_deref(), e.city.as_deref(), e.state.as_deref(), e.zip.as_deref()];
    payee.push(place.into_iter().flatten().collect::<Vec<_>>().join(", "));
    if let Some(f) = &e.fax {
        payee.push(format!("fax {}", display_fax(f)));
    }
    if let Some(m) = &e.email {
        payee.push(format!("email {m}"));
    }
    let body = notices::billing(&notices::Billing {
        reference: request.reference.to_string(),
        patient: request.patient_name.clone(),
        provider: e.name.clone(),
        payee,
        amount: amount.to_string(),
        approved: approved.to_string(),
        fee_check: fee_check.to_string(),
        owner: request.owner.clone(),
    });
    let to = intake.settings.invoices.billing_address.clone().unwrap_or_else(|| request.owner.clone());
    let mut out = mail(request, vec![to], &format!("Pre-pay invoice {amount}"), body);
    out.attachments = attachments;
    Do::Email { out, purpose: "notice", tag: Some("billing") }
}

fn deficiency(request: &RequestDetail, reading: &Reading<'_>, p: Planned, files: &[Attachment]) -> Planned {
    let reason = reading.class.deficiency.unwrap_or(Deficiency::Other);
    let to = lifecycle::next(p.from, Event::Deficiency).unwrap_or(p.from);
    let mut p = p.to(to);
    p.event("deficiency", "provider", format!("deficiency: {}", reason.as_str()));
    let channel = request
        .next_channel
        .clone()
        .or(request.channel.clone())
        .unwrap_or_else(|| request.provider.entry.preferred_method.as_str().to_string());
    let body = notices::deficiency(&notices::DeficiencyNotice {
        reference: request.reference.to_string(),
        patient: request.patient_name.clone(),
        provider: request.provider.entry.name.clone(),
        reason: reason_words(reason).to_string(),
        what_to_send: what_to_send(reason).to_string(),
        provider_words: quote(reading.new_text, 4000),
        attachments: names(files),
        channel,
    });
    let attachments = if files.is_empty() { vec![original(reading.raw)] } else { files.to_vec() };
    p.push(to_owner(request, "Deficiency: action needed", body, attachments, "deficiency"));
    p
}

fn no_records(request: &RequestDetail, reading: &Reading<'_>, p: Planned, files: &[Attachment]) -> Planned {
    let to = lifecycle::next(p.from, Event::NoRecords).unwrap_or(p.from);
    let mut p = p.to(to);
    p.push(Do::CloseReason("the provider has no records".into()));
    let body = notices::no_records(&notices::NoRecordsNotice {
        reference: request.reference.to_string(),
        patient: request.patient_name.clone(),
        provider: request.provider.entry.name.clone(),
        provider_words: quote(reading.new_text, 4000),
        attached: !files.is_empty(),
    });
    p.push(to_owner(request, "No records", body, files.to_vec(), "no_records"));
    p
}

fn acknowledgment(intake: &Intake, reading: &Reading<'_>, p: Planned, now: DateTime<Utc>) -> Planned {
    let to = lifecycle::next(p.from, Event::Acknowledgment).unwrap_or(p.from);
    let mut p = p.to(to);
    let today = now.with_timezone(&intake.settings.firm.time_zone).date_naive();
    let text = format!("{}\n{}", reading.new_text, reading.attachment_text);
    match eta::read(&text, today) {
        Some(date) => {
            p.push(Do::Eta(date));
            p.event("acknowledged", "provider", format!("the provider expects the records by {}", dates::us(date)));
        }
        None => p.event("acknowledged", "provider", "the provider is working on it (no date given)".into()),
    }
    p
}

fn redirect_notice(intake: &Intake, request: &RequestDetail, reading: &Reading<'_>, mut p: Planned) -> Planned {
    let r = read_redirect(intake, request, reading.new_text);
    let sendable = sendable(&r);
    p.event("redirect", "provider", format!("the provider asks for another route: {}", r.describe().join("; ")));
    let body = notices::redirect(&notices::RedirectNotice {
        reference: request.reference.to_string(),
        patient: request.patient_name.clone(),
        provider: request.provider.entry.name.clone(),
        vendor: r.vendor.map(str::to_string),
        ways: r.describe(),
        provider_words: quote(reading.new_text, 4000),
        sendable,
    });
    p.push(to_owner(request, "The provider wants it sent elsewhere", body, vec![original(reading.raw)], "redirect"));
    p
}

/// Where a redirect points, ignoring our own addresses and the provider's current ones.
pub(super) fn read_redirect(intake: &Intake, request: &RequestDetail, text: &str) -> redirect::Redirect {
    let e = &request.provider.entry;
    let settings = &intake.settings;
    let mut known: Vec<&str> = vec![&settings.bot.address];
    known.extend(settings.firm.fax.as_deref());
    known.extend(e.fax.as_deref());
    known.extend(e.email.as_deref());
    known.extend(settings.staff.iter().map(|s| s.address.as_str()));
    redirect::read(text, &known)
}

/// What a `REDIRECT` reply would set: the fax (preferred) or the email.
pub(super) fn sendable(r: &redirect::Redirect) -> String {
    match (&r.fax, &r.email) {
        (Some(f), _) => format!("fax {}", display_fax(f)),
        (None, Some(m)) => format!("email {m}"),
        (None, None) => String::new(),
    }
}

fn reason_words(d: Deficiency) -> &'static str {
    match d {
        Deficiency::FacilityForm => "the provider requires its own authorization form",
        Deficiency::PatientAddress => "the patient's address is missing or does not match its records",
        Deficiency::NameMismatch => "the patient's name does not match its records (alias or name change?)",
        Deficiency::AuthorizationExpired => "the authorization has expired",
        Deficiency::Signature => "the authorization is not signed (or the signature is not accepted)",
        Deficiency::MissingInformation => "information is missing from the request",
        Deficiency::LegalAuthority => "the provider wants proof of our legal authority",
        Deficiency::Other => "see the provider's words below",
    }
}

fn what_to_send(d: Deficiency) -> &'static str {
    match d {
        Deficiency::FacilityForm => "the provider's own form (usually attached), completed and signed by the client",
        Deficiency::PatientAddress => "an authorization showing the patient's full address as the provider has it",
        Deficiency::NameMismatch => "an authorization in the name the provider has (or with the alias), signed",
        Deficiency::AuthorizationExpired => "a newly signed and dated HIPAA authorization",
        Deficiency::Signature => "the HIPAA authorization signed (wet or valid e-signature) and dated by the client",
        Deficiency::MissingInformation => "the details the provider lists below, on a corrected authorization",
        Deficiency::LegalAuthority => {
            "proof of authority: the letter of representation, or POA / estate papers for a representative"
        }
        Deficiency::Other => "what the provider asks for below",
    }
}

/// A notice to the request's owner, in the thread of the request.
fn to_owner(
    request: &RequestDetail,
    subject: &str,
    body: String,
    attachments: Vec<Attachment>,
    tag: &'static str,
) -> Do {
    let mut out = mail(request, vec![request.owner.clone()], subject, body);
    out.attachments = attachments;
    Do::Email { out, purpose: "notice", tag: Some(tag) }
}

fn mail(request: &RequestDetail, to: Vec<String>, subject: &str, body: String) -> OutgoingMail {
    OutgoingMail {
        to,
        subject: format!("{subject} - {}", request.provider.entry.name),
        body,
        in_reply_to: request.origin_message_id.clone(),
        references: request.origin_message_id.clone().into_iter().collect(),
        reference: Some(request.reference),
        auto_submitted: AutoSubmitted::AutoGenerated,
        attachments: Vec::new(),
    }
}

/// The provider's message itself, attached.
pub(super) fn original(raw: &[u8]) -> Attachment {
    Attachment { filename: "original.eml".into(), content_type: "message/rfc822".into(), bytes: raw.to_vec() }
}

/// Files to attach (in order, while the total stays within `limit` bytes) and the rest.
fn split_by_size(files: &[Attachment], limit: u64) -> (Vec<Attachment>, Vec<Attachment>) {
    let mut total = 0u64;
    files.iter().cloned().partition(|f| {
        total += f.bytes.len() as u64;
        total <= limit
    })
}

fn names(files: &[Attachment]) -> String {
    files.iter().map(|f| f.filename.as_str()).collect::<Vec<_>>().join(", ")
}
