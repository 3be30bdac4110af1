//! Staff commands that change one request: `NOTE`, `APPROVE`, `DECLINE`, `RESEND`, `RECEIVED`,
//! `CANCEL`, `UPDATE` and `REDIRECT`. Each checks the request's state with the core's state
//! machine, says why when the command does not fit, and otherwise plans the change with its
//! answer, logged on the request.

use chrono::{DateTime, Utc};

use super::actions::{billing, read_redirect, sendable};
use super::change::{Do, Planned};
use super::commands::store_file;
use super::intake::{Intake, Plan, StoredFile};
use super::status::no_such;
use crate::core::approval;
use crate::core::command::Command;
use crate::core::dates;
use crate::core::inbound::{Attachment, InboundMail, OutgoingMail, answer_to};
use crate::core::lifecycle::{self, Event, State};
use crate::core::message_id;
use crate::core::money::format_cents;
use crate::core::new_text;
use crate::core::notices;
use crate::core::provider::Method;
use crate::core::reference::{self, Reference};
use crate::letters;
use crate::store::RequestDetail;

/// The request a command is about: named on its line, else the bot message it answers, else
/// the subject's `[MR-n]`.
pub(super) fn target(intake: &Intake, named: Option<Reference>, mail: &InboundMail) -> Option<Reference> {
    let domain = &intake.settings.firm.mail_domain;
    named
        .or_else(|| {
            mail.in_reply_to
                .iter()
                .chain(mail.references.iter().rev())
                .find_map(|id| message_id::reference_of(id, domain))
        })
        .or_else(|| reference::find_in(&mail.subject))
}

/// Plans `cmd` from staff member `from`.
pub(super) async fn plan(
    intake: &Intake,
    cmd: Command,
    mail: &InboundMail,
    from: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Plan> {
    let answer = |body: String| Plan::Answer(answer_to(mail, from, body));
    let named = match &cmd {
        Command::Note { reference, .. }
        | Command::Approve(reference)
        | Command::Decline { reference, .. }
        | Command::Resend(reference)
        | Command::Received(reference)
        | Command::Cancel { reference, .. }
        | Command::Update { reference, .. }
        | Command::Redirect(reference) => *reference,
        _ => None,
    };
    let word = cmd.info().word;
    let Some(reference) = target(intake, named, mail) else {
        return Ok(answer(format!(
            "Which request? Reply to one of my messages about it, or name it: {} (for example {word} MR-1042{}).",
            cmd.info().usage,
            match word {
                "NOTE" => " Called ROI, chart is being pulled",
                "DECLINE" | "CANCEL" => " client settled",
                "UPDATE" => " from 06/01/2026",
                _ => "",
            }
        )));
    };
    let Some(request) = intake.store.request_detail(reference).await? else { return Ok(answer(no_such(reference))) };
    let Some(state) = State::parse(&request.state) else { anyhow::bail!("{reference} has an unknown state") };
    let refused = |why: String| Ok(answer(format!("{word} was not carried out on {reference}: {why}.")));
    let planned = match cmd {
        Command::Note { text, .. } => {
            let mut p = Planned::new(reference, state);
            p.event("note", from, text);
            Ok((p, format!("Noted on {reference}. HISTORY {reference} shows the log.")))
        }
        Command::Approve(named) => decide(intake, &request, state, mail, from, named, None, now).await?,
        Command::Decline { reference: named, reason } => {
            decide(intake, &request, state, mail, from, named, Some(reason), now).await?
        }
        Command::Resend(_) => resend(intake, &request, state, mail, from).await?,
        Command::Received(_) => match lifecycle::next(state, Event::MarkedReceived) {
            Ok(to) => {
                let mut p = Planned::new(reference, state).to(to);
                let all = request.records.iter().map(|r| r.kind.as_str()).collect();
                p.push(Do::RecordTypes { received: all, awaiting_media: Vec::new() });
                p.event("received", from, "records marked received by staff".into());
                Ok((p, format!("{reference} is marked received and closed; follow-ups stop.")))
            }
            Err(r) => Err(r.0),
        },
        Command::Cancel { reason, .. } => cancel(intake, &request, state, from, &reason, now).await?,
        Command::Update { from: date, .. } => update(intake, &request, state, from, &date, now),
        Command::Redirect(_) => redirect(intake, &request, state, mail, from, now).await?,
        other => anyhow::bail!("{} is not a request command", other.info().word),
    };
    let (mut p, body) = match planned {
        Ok(done) => done,
        Err(why) => return refused(why),
    };
    p.event("command", from, format!("{word}: answered"));
    let mut out = answer_to(mail, from, body);
    out.reference = Some(reference);
    p.push(Do::Email { out, purpose: "answer", tag: None });
    Ok(Plan::Change(Box::new(p)))
}

type Outcome = Result<(Planned, String), String>;

/// `APPROVE` (reason `None`) or `DECLINE <reason>` of the invoice on hold.
#[allow(clippy::too_many_arguments)]
async fn decide(
    intake: &Intake,
    request: &RequestDetail,
    state: State,
    mail: &InboundMail,
    from: &str,
    named: Option<Reference>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let reference = request.reference;
    let Some(invoice) = intake.store.pending_invoice(reference).await?.filter(|_| state == State::OnHold) else {
        return Ok(Err(format!("nothing is on hold on it (it is {})", state.words())));
    };
    if !approval::may_decide(from, &request.owner, &intake.settings.invoices.approvers) {
        return Ok(Err(format!("only the request's owner ({}) or an approver may decide its invoice", request.owner)));
    }
    // The highest-value command: it must answer the approval message of this invoice, or name
    // the request on its own line.
    let current = intake.store.approval_messages(reference, invoice.created_at).await?;
    let answers_current =
        mail.in_reply_to.iter().chain(&mail.references).any(|id| current.iter().any(|c| c.eq_ignore_ascii_case(id)));
    if !answers_current && named.is_none() {
        let answers_older = match &mail.in_reply_to {
            Some(id) => {
                matches!(intake.store.our_message(id).await?, Some((Some(kind), Some(r))) if kind == "approval" && r == reference)
            }
            None => false,
        };
        return Ok(Err(if answers_older {
            "a revised invoice arrived after the approval message you answered; reply to the newer approval \
             request (or write the command with the request, like APPROVE MR-1042)"
                .into()
        } else {
            format!(
                "an approval must answer the approval message, or name the request on the command line, like {} {reference}",
                if reason.is_some() { "DECLINE" } else { "APPROVE" }
            )
        }));
    }
    let complete = request.record_status.iter().all(|(_, s)| s == "received");
    let any_received = request.record_status.iter().any(|(_, s)| s == "received");
    let to = match lifecycle::next(state, Event::Released { complete, any_received }) {
        Ok(to) => to,
        Err(r) => return Ok(Err(r.0)),
    };
    let amount = format_cents(invoice.amount_cents);
    let mut p = Planned::new(reference, state).to(to);
    p.push(Do::Decide { approved: reason.is_none(), by: from.to_string(), reason: reason.clone() });
    let body = match &reason {
        None => {
            let tz = intake.settings.firm.time_zone;
            let how = format!("by {from} on {}", dates::long(now.with_timezone(&tz).date_naive()));
            p.event("invoice_approved", from, format!("invoice of {amount} approved"));
            let invoice_files = match invoice.message_row {
                Some(row) => invoice_pdfs(intake, row).await?,
                None => Vec::new(),
            };
            let fee = invoice.fee_check.clone().unwrap_or_else(|| "not available".into());
            let billing_to = intake.settings.invoices.billing_address.clone().unwrap_or_else(|| request.owner.clone());
            p.push(billing(intake, request, &amount, &how, &fee, invoice_files));
            format!(
                "Approved: the invoice of {amount} on {reference} went to {billing_to} for pre-payment. The hold is \
                 lifted; {reference} is now {}.",
                to.words()
            )
        }
        Some(why) => {
            p.event("invoice_declined", from, format!("invoice of {amount} declined: {why}"));
            format!(
                "Declined: the invoice of {amount} on {reference} will not be paid ({why}). The hold is lifted; \
                 {reference} is now {}. The provider has not been told; to withdraw the request, reply CANCEL <reason>.",
                to.words()
            )
        }
    };
    Ok(Ok((p, body)))
}

/// The PDFs of the stored message that brought an invoice.
async fn invoice_pdfs(intake: &Intake, message_row: i64) -> anyhow::Result<Vec<Attachment>> {
    let Some(raw) = intake.store.inbound_raw(message_row).await? else { return Ok(Vec::new()) };
    let mail = crate::mail::parse::parse(&raw);
    Ok(mail.attachments.into_iter().filter(|a| a.looks_like_pdf()).collect())
}

/// `RESEND`: the package rebuilt (with the attached PDFs as the corrected documents) and sent
/// again by the same channel.
async fn resend(
    intake: &Intake,
    request: &RequestDetail,
    state: State,
    mail: &InboundMail,
    from: &str,
) -> anyhow::Result<Outcome> {
    let to = match lifecycle::next(state, Event::Resend) {
        Ok(to) => to,
        Err(r) => return Ok(Err(r.0)),
    };
    let reference = request.reference;
    let mut p = Planned::new(reference, state).to(to);
    let pdfs: Vec<&Attachment> = mail.attachments.iter().filter(|a| a.looks_like_pdf()).collect();
    let mut problems = Vec::new();
    for pdf in &pdfs {
        if let Err(problem) = letters::inspect_pdf(&pdf.bytes) {
            problems.push(format!("`{}`: {problem}", pdf.filename));
        }
    }
    if !problems.is_empty() {
        return Ok(Err(format!(
            "{}; attach the corrected document(s) as PDFs that open, and send RESEND again",
            problems.join("; ")
        )));
    }
    let documents = if pdfs.is_empty() {
        "the documents it had".to_string()
    } else {
        let file = corrected_documents(intake, reference, &pdfs).await?;
        p.push(Do::Document { kind: "authorization", file, content_type: "application/pdf".into() });
        format!("the attached {}", pdfs.iter().map(|a| a.filename.as_str()).collect::<Vec<_>>().join(", "))
    };
    let channel = request.next_channel.clone().unwrap_or_else(|| match request.provider.entry.preferred_method {
        Method::Email => "email".into(),
        _ => "fax".into(),
    });
    p.event("resend", from, format!("package rebuilt with {documents} to send again by {channel}"));
    Ok(Ok((
        p,
        format!(
            "Rebuilding {reference}'s package with {documents}; it goes to {} by {channel}, and the confirmation \
             follows with the new package attached.",
            request.provider.entry.name
        ),
    )))
}

/// The corrected documents as one PDF, kept under the request's folder.
async fn corrected_documents(
    intake: &Intake,
    reference: Reference,
    pdfs: &[&Attachment],
) -> anyhow::Result<StoredFile> {
    let merged = if pdfs.len() == 1 {
        pdfs[0].bytes.clone()
    } else {
        let parts: Vec<Vec<u8>> = pdfs.iter().map(|a| a.bytes.clone()).collect();
        tokio::task::spawn_blocking(move || letters::merge(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>()))
            .await??
    };
    let name = if pdfs.len() == 1 { pdfs[0].filename.clone() } else { "corrected-documents.pdf".into() };
    let attachment = Attachment { filename: name, content_type: "application/pdf".into(), bytes: merged };
    store_file(intake, &reference.to_string(), &attachment).await
}

/// `CANCEL <reason>`: closed, and the provider told the request is withdrawn when it has it.
async fn cancel(
    intake: &Intake,
    request: &RequestDetail,
    state: State,
    from: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let to = match lifecycle::next(state, Event::Cancel) {
        Ok(to) => to,
        Err(r) => return Ok(Err(r.0)),
    };
    let reference = request.reference;
    let mut p = Planned::new(reference, state).to(to);
    p.push(Do::CloseReason(reason.to_string()));
    p.event("cancelled", from, format!("cancelled: {reason}"));
    let provider = &request.provider.entry;
    // A package still waiting to go is withdrawn; one that went (or is going) gets a withdrawal.
    let gone = intake.store.package_may_have_gone(reference, now).await?;
    p.push(Do::Withdraw { provider_told: gone });
    let told = match (gone, request.channel.as_deref()) {
        (false, _) if state == State::Submitting => {
            p.event("withdrawal", "medrec", "the package waiting to go was withdrawn; nothing was sent".into());
            "Nothing had gone to the provider yet: the package waiting to go is withdrawn.".to_string()
        }
        (false, _) => "Nothing had gone to the provider yet.".to_string(),
        (true, Some("fax")) if provider.fax.is_some() => {
            let fax = provider.fax.clone().unwrap_or_default();
            let pdf = withdrawal_letter(intake, request, now).await?;
            p.push(Do::Fax { to: fax.clone(), document: ("letter", pdf) });
            p.event("withdrawal", "medrec", format!("withdrawal letter queued by fax to {fax}"));
            format!("{} is told by fax that the request is withdrawn.", provider.name)
        }
        (true, _) => match &provider.email {
            Some(address) => {
                p.push(Do::Email {
                    out: withdrawal_email(intake, request, address, now),
                    purpose: "notice",
                    tag: Some("withdrawal"),
                });
                p.event("withdrawal", "medrec", format!("withdrawal queued by email to {address}"));
                format!("{} is told by email that the request is withdrawn.", provider.name)
            }
            None => format!("The directory has no fax or email for {}: tell it yourself.", provider.name),
        },
    };
    Ok(Ok((p, format!("{reference} is cancelled ({reason}). {told}"))))
}

fn withdrawal_words(intake: &Intake, request: &RequestDetail, now: DateTime<Utc>) -> notices::Withdrawal {
    let tz = intake.settings.firm.time_zone;
    let staff = intake.settings.staff.iter().find(|s| s.address == request.owner);
    notices::Withdrawal {
        reference: request.reference.to_string(),
        patient: request.patient_name.clone(),
        sent: dates::long(request.submitted_at.unwrap_or(now).with_timezone(&tz).date_naive()),
        reply_to: intake.settings.bot.address.clone(),
        staff: staff.map(|s| s.name.clone()).unwrap_or_else(|| request.owner.clone()),
        firm: intake.settings.firm.name.clone(),
        firm_phone: intake.settings.firm.phone.clone(),
    }
}

fn withdrawal_email(intake: &Intake, request: &RequestDetail, to: &str, now: DateTime<Utc>) -> OutgoingMail {
    let body = notices::withdrawal(&withdrawal_words(intake, request, now));
    OutgoingMail {
        reference: Some(request.reference),
        ..OutgoingMail::fresh(vec![to.to_string()], format!("Request withdrawn - {}", request.patient_name), body)
    }
}

/// The withdrawal as a one-page letter for the fax.
async fn withdrawal_letter(intake: &Intake, request: &RequestDetail, now: DateTime<Utc>) -> anyhow::Result<StoredFile> {
    let words = withdrawal_words(intake, request, now);
    let data = super::package::notice_data(
        intake,
        request,
        now,
        "Request withdrawn",
        vec![
            format!(
                "On {} we sent you a request for this patient's records, reference {}. Please withdraw it: we no \
                 longer need the records, and no further work or charges should be made on it.",
                words.sent, words.reference
            ),
            "If you have already prepared records or an invoice, please let us know, quoting our reference."
                .to_string(),
        ],
    );
    let templates = intake.templates.clone();
    let pdf = tokio::task::spawn_blocking(move || letters::render_notice(&templates, &data)).await??;
    let name = format!("{}-withdrawal.pdf", request.reference);
    let attachment = Attachment { filename: name, content_type: "application/pdf".into(), bytes: pdf };
    store_file(intake, &request.reference.to_string(), &attachment).await
}

/// `UPDATE from <date>`: a new request for updated records, same patient and provider.
fn update(
    intake: &Intake,
    request: &RequestDetail,
    state: State,
    from: &str,
    date: &str,
    now: DateTime<Utc>,
) -> Outcome {
    let reference = request.reference;
    let today = now.with_timezone(&intake.settings.firm.time_zone).date_naive();
    let since = dates::parse(date).map_err(|e| format!("{e} (for example UPDATE from 06/01/2026)"))?;
    if since > today {
        return Err(format!("{} is in the future; updated records start from a past date", dates::us(since)));
    }
    if state == State::Preparing {
        return Err("its own package is still being prepared".into());
    }
    if let Some(expires) = request.authorization_expires.filter(|e| *e < today) {
        return Err(format!(
            "its authorization expired on {}; send a NEW request with a newly signed authorization",
            dates::us(expires)
        ));
    }
    let mut p = Planned::new(reference, state);
    p.push(Do::Update { from: since, owner: from.to_string() });
    Ok((
        p,
        format!(
            "A new request for updated records from {} at {} is being prepared, with {reference}'s authorization. \
             Its confirmation, with its own MR number, follows in a moment.",
            dates::us(since),
            request.provider.entry.name
        ),
    ))
}

/// `REDIRECT`, in answer to a redirect notice: the directory takes the provider's new fax or
/// email, and the package goes there.
async fn redirect(
    intake: &Intake,
    request: &RequestDetail,
    state: State,
    mail: &InboundMail,
    from: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let original = match &mail.in_reply_to {
        Some(id) => match intake.store.our_message(id).await? {
            Some((Some(kind), Some(r))) if kind == "redirect" && r == request.reference => {
                intake.store.regarding(id).await?
            }
            _ => None,
        },
        None => None,
    };
    let Some(raw) = (match original {
        Some(row) => intake.store.inbound_raw(row).await?,
        None => None,
    }) else {
        return Ok(Err(
            "REDIRECT answers my notice that the provider wants the request sent elsewhere; reply to that notice"
                .into(),
        ));
    };
    let provider_mail = crate::mail::parse::parse(&raw);
    let r = read_redirect(intake, request, &new_text::new_text(&provider_mail.text));
    let target = sendable(&r);
    if target.is_empty() {
        return Ok(Err("the provider's message names no fax number or email address I can send to; send it yourself and record it with NOTE".into()));
    }
    let to = match lifecycle::next(state, Event::Resend) {
        Ok(to) => to,
        Err(why) => return Ok(Err(why.0)),
    };
    let mut entry = request.provider.entry.clone();
    let channel = match (&r.fax, &r.email) {
        (Some(fax), _) => {
            entry.fax = Some(fax.clone());
            entry.preferred_method = Method::Fax;
            "fax"
        }
        (None, Some(email)) => {
            entry.email = Some(email.clone());
            entry.preferred_method = Method::Email;
            "email"
        }
        (None, None) => unreachable!("sendable was not empty"),
    };
    intake.store.upsert_provider(&entry, now).await?;
    let mut p = Planned::new(request.reference, state).to(to);
    p.push(Do::NextChannel(Some(channel)));
    p.event("redirect", from, format!("directory updated for {}: {target}; package sent again there", entry.name));
    Ok(Ok((
        p,
        format!(
            "Updated {} in the directory ({target}, preferred). {}'s package is rebuilt and goes there now; the \
             confirmation follows.",
            entry.name, request.reference
        ),
    )))
}
