//! Provider replies: match each to its request and file it there with its class, or send it to
//! staff for triage with the best candidates; and the staff's `FILE MR-n` answer to a triage
//! notice, which files the message after all.

use super::actions::Reading;
use super::intake::{Intake, Plan};
use crate::core::classify::{self, Kind};
use crate::core::inbound::{Attachment, InboundMail, OutgoingMail, answer_to};
use crate::core::matching::{self, Match, Reply};
use crate::core::message_id;
use crate::core::new_text;
use crate::core::reference::Reference;

/// Attachment text read for matching, at most this many bytes per message.
const ATTACHMENT_TEXT_LIMIT: usize = 200_000;

/// Files a provider's reply on its request, or plans a triage notice to staff. Automatic mail
/// (`triage_unmatched == false`) is filed when it matches and otherwise only stored: staff are
/// not asked to triage out-of-office notices.
pub(super) async fn plan(
    intake: &Intake,
    mail: &InboundMail,
    raw: &[u8],
    triage_unmatched: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Plan> {
    let domain = &intake.settings.firm.mail_domain;
    let threaded: Vec<Reference> =
        mail.in_reply_to.iter().chain(&mail.references).filter_map(|id| message_id::reference_of(id, domain)).collect();
    let text = new_text::new_text(&mail.text);
    // Each PDF is read once: its text serves both the matcher and the classifier.
    let pdf_texts = pdf_texts(&mail.attachments);
    let attachment_text = joined(&pdf_texts);
    let reply = Reply {
        sender: mail.from.as_deref().unwrap_or(""),
        threaded,
        subject: &mail.subject,
        new_text: &text,
        attachment_text: &attachment_text,
    };
    let open = intake.store.open_for_matching().await?;
    let class = classify::classify_with(mail, &|bytes| {
        pdf_texts.iter().find(|(pdf, _)| std::ptr::eq(*pdf, bytes)).and_then(|(_, text)| text.clone())
    });
    let sure = class.confidence >= intake.settings.triage_below_confidence;
    let unclear = !sure || class.kind == Kind::Other;
    match matching::match_reply(&reply, &open) {
        Match::Request { reference, how } if !unclear || !triage_unmatched => {
            let Some(request) = intake.store.request_detail(reference).await? else {
                return Ok(Plan::Store(crate::core::inbound::StoreReason::FromProvider));
            };
            let detail = format!(
                "{} (confidence {:.2}), matched by {how}: {}",
                describe(&class),
                class.confidence,
                class.reasons.join("; ")
            );
            let reading =
                Reading { mail, raw, class: &class, new_text: &text, attachment_text: &attachment_text, detail };
            let planned = super::actions::plan(intake, &request, &reading, now).await?;
            Ok(Plan::Change(Box::new(planned)))
        }
        Match::Request { reference, how } => {
            let candidates = vec![(reference, format!("matched by {how}, but it is unclear what the message is"))];
            let to = owners(intake, &candidates).await?;
            Ok(Plan::Triage(triage_notice(
                mail,
                raw,
                to,
                &candidates,
                &format!("{} with low confidence {:.2}", describe(&class), class.confidence),
            )))
        }
        Match::Unmatched { .. } if !triage_unmatched => {
            Ok(Plan::Store(crate::core::inbound::StoreReason::FromProvider))
        }
        Match::Unmatched { candidates } => {
            let to = owners(intake, &candidates).await?;
            if to.is_empty() {
                return Ok(Plan::Store(crate::core::inbound::StoreReason::FromProvider));
            }
            Ok(Plan::Triage(triage_notice(mail, raw, to, &candidates, &describe(&class))))
        }
    }
}

/// The owners of the candidate requests, else every staff member.
async fn owners(intake: &Intake, candidates: &[(Reference, String)]) -> anyhow::Result<Vec<String>> {
    let mut to: Vec<String> = Vec::new();
    for (reference, _) in candidates {
        if let Some(owner) = intake.store.request_owner(*reference).await?
            && !to.contains(&owner)
        {
            to.push(owner);
        }
    }
    if to.is_empty() {
        to = intake.settings.staff.iter().map(|s| s.address.clone()).collect();
    }
    Ok(to)
}

/// `invoice of $45.00`, `deficiency (signature)`, `records`: the class in words.
fn describe(c: &classify::Classification) -> String {
    match (c.deficiency, c.amount_cents) {
        (Some(d), _) => format!("{} ({})", c.kind.as_str(), d.as_str()),
        (None, Some(cents)) => format!("{} of {}", c.kind.as_str(), crate::core::money::format_cents(cents)),
        _ => c.kind.as_str().to_string(),
    }
}

/// The text of each PDF attachment, keyed by its bytes (the same slices the classifier is
/// handed), read once.
fn pdf_texts(attachments: &[Attachment]) -> Vec<(&[u8], Option<String>)> {
    attachments
        .iter()
        .filter(|a| a.looks_like_pdf())
        .map(|a| (a.bytes.as_slice(), crate::letters::pdf_text(&a.bytes).ok()))
        .collect()
}

/// The PDFs' text for matching, at most [`ATTACHMENT_TEXT_LIMIT`] bytes.
fn joined(texts: &[(&[u8], Option<String>)]) -> String {
    let mut out = String::new();
    for text in texts.iter().filter_map(|(_, t)| t.as_deref()) {
        if out.len() > ATTACHMENT_TEXT_LIMIT {
            break;
        }
        out.push_str(text);
        out.push('\n');
    }
    out
}

fn triage_notice(
    mail: &InboundMail,
    raw: &[u8],
    to: Vec<String>,
    candidates: &[(Reference, String)],
    kind: &str,
) -> OutgoingMail {
    let sender = mail.from.as_deref().unwrap_or("an unknown sender");
    let mut body = format!(
        "A message from {sender} (subject: {}) does not clearly belong to any request; it reads as {kind}. \
         The original is attached.\n\n",
        if mail.subject.is_empty() { "(none)" } else { &mail.subject }
    );
    if candidates.is_empty() {
        body.push_str("No open request looks like it.\n");
    } else {
        body.push_str("The closest requests:\n\n");
        for (reference, why) in candidates {
            body.push_str(&format!("  {reference}: {why}\n"));
        }
    }
    body.push_str("\nTo file it on a request, reply to this message with FILE MR-n (for example FILE MR-1001) as the first line.\n");
    let original =
        Attachment { filename: "original.eml".into(), content_type: "message/rfc822".into(), bytes: raw.to_vec() };
    OutgoingMail {
        attachments: vec![original],
        ..OutgoingMail::fresh(to, "Triage: a reply that matches no request", body)
    }
}

/// A staff `FILE MR-n`: files the message that the answered triage notice was about.
pub(super) async fn file(
    intake: &Intake,
    mail: &InboundMail,
    from: &str,
    reference: Reference,
) -> anyhow::Result<Plan> {
    let answer = |body: String| Plan::Answer(answer_to(mail, from, body));
    let regarding = match &mail.in_reply_to {
        Some(id) => intake.store.regarding(id).await?,
        None => None,
    };
    let Some(message_row) = regarding else {
        return Ok(answer(format!(
            "FILE {reference} files a message I sent you for triage: reply to that triage message with FILE {reference} \
             as the first line. This message is not a reply to one."
        )));
    };
    if intake.store.request_owner(reference).await?.is_none() {
        return Ok(answer(format!(
            "There is no request {reference}; nothing was filed. Check the number (LIST shows open requests)."
        )));
    }
    let body = format!("Filed on {reference}. It is in the request's history (HISTORY {reference}).");
    let mut out = answer_to(mail, from, body);
    out.reference = Some(reference);
    Ok(Plan::File { message_row, reference, answer: out })
}
