//! Intake of one inbound message: parse it, let the core decide, carry out staff commands that
//! need the store, and store the message together with its effects (an answer, or a new
//! request) in one transaction. A new request's package is then built and queued.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tracing::{info, warn};

use super::{commands, package};
use crate::config::Settings;
use crate::core::bounce::{self, Delivery};
use crate::core::inbound::{self, AutoSubmitted, Decision, InboundMail, OutgoingMail, Policy, StoreReason};
use crate::core::new_request::RequestForm;
use crate::core::reference::Reference;
use crate::letters::Templates;
use crate::mail::compose::{self, Composed, Identity};
use crate::mail::{files, parse};
use crate::store::{Effect, Ingested, NewDocument, NewInbound, NewOutgoing, NewRequestRow, Place, Store};

/// Everything intake needs, cloned into each inbox watcher.
#[derive(Clone)]
pub struct Intake {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub policy: Policy,
    pub me: Identity,
    pub templates: Arc<Templates>,
    pub outbox_wake: Arc<Notify>,
}

/// What to store with a message.
pub(super) enum Plan {
    Answer(OutgoingMail),
    Store(StoreReason),
    Create(PreparedRequest),
    /// A provider's reply, matched: file it on the request with its class.
    Reply {
        reference: Reference,
        kind: &'static str,
        detail: String,
    },
    /// A provider's reply nobody claims: this notice goes to staff.
    Triage(OutgoingMail),
    /// A staff `FILE MR-n`: file `message_row` there and answer.
    File {
        message_row: i64,
        reference: Reference,
        answer: OutgoingMail,
    },
}

/// A checked `NEW`, its authorization already kept under the documents directory.
pub(super) struct PreparedRequest {
    pub form: RequestForm,
    pub provider_id: i64,
    pub owner: String,
    pub authorization: StoredFile,
}

/// A file written under the documents directory.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub filename: String,
    pub path: String,
    pub size: i64,
    pub sha256: String,
}

impl Intake {
    pub fn new(store: Store, settings: Arc<Settings>, outbox_wake: Arc<Notify>) -> anyhow::Result<Intake> {
        let templates = match &settings.templates_dir {
            Some(dir) => Templates::from_dir(dir)?,
            None => Templates::builtin(),
        };
        Ok(Intake {
            store,
            policy: settings.policy(),
            me: Identity {
                address: settings.bot.address.clone(),
                name: settings.bot.name.clone(),
                mail_domain: settings.firm.mail_domain.clone(),
            },
            templates: Arc::new(templates),
            settings,
            outbox_wake,
        })
    }

    /// Takes one raw message found at `place`. Errors are store errors: the message must then
    /// stay where it is, to be taken again.
    pub async fn take(&self, place: Place, raw: &[u8]) -> anyhow::Result<Ingested> {
        let now = super::clock::now();
        let mail = parse::parse(raw);
        let recent = match mail.from.as_deref() {
            Some(from) => self.store.answers_to_since(from, now - chrono::Duration::hours(1)).await?,
            None => 0,
        };
        let plan = match inbound::decide(&mail, &self.policy, u32::try_from(recent).unwrap_or(u32::MAX)) {
            Decision::Answer(out) => Plan::Answer(out),
            Decision::Store(StoreReason::FromProvider) => super::replies::plan(self, &mail, raw, true).await?,
            Decision::Store(reason) => Plan::Store(reason),
            Decision::Act(cmd) => {
                let from = mail.from.clone().unwrap_or_default();
                commands::plan(self, cmd, &mail, &from, now).await?
            }
        };
        let bounced = match &plan {
            Plan::Store(StoreReason::Automatic(_)) => self.bounce_notices(&mail, raw, now).await?,
            _ => Vec::new(),
        };
        // Automatic mail that is not a returned submission (an out-of-office, an ROI desk's
        // automatic acknowledgment) is filed on its request when it clearly belongs to one.
        let plan = match plan {
            Plan::Store(StoreReason::Automatic(why)) if bounced.is_empty() && mail.from.is_some() => {
                match super::replies::plan(self, &mail, raw, false).await? {
                    filed @ Plan::Reply { .. } => filed,
                    _ => Plan::Store(StoreReason::Automatic(why)),
                }
            }
            other => other,
        };
        let outcome = self.store_with(&mail, place, raw, plan, bounced, now).await?;
        if let Ingested::New { request: Some(reference), .. } = outcome {
            package::prepare_or_report(self, reference).await;
        }
        Ok(outcome)
    }

    /// For a report that returns submissions of ours: a notice to each request's owner.
    async fn bounce_notices(
        &self,
        mail: &InboundMail,
        raw: &[u8],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(Reference, Composed, String)>> {
        let text = String::from_utf8_lossy(raw);
        let Some(report) = bounce::read(mail, &text).filter(|r| r.delivery == Delivery::Failed) else {
            return Ok(Vec::new());
        };
        let mut notices = Vec::new();
        for (reference, id) in bounce::our_messages(&text, &self.settings.firm.mail_domain, mail.message_id.as_deref())
        {
            // Only a returned submission is news for the owner; a returned notice must not
            // cause another notice (that would be a loop).
            let Some((purpose, Some(request), recipients)) = self.store.sent_message(&id).await? else { continue };
            if purpose != "submission" {
                continue;
            }
            let Some(detail) = self.store.request_detail(request).await? else { continue };
            let why = report.diagnostic.clone().unwrap_or_else(|| "the receiving server gave no reason".into());
            let provider = &detail.provider.entry.name;
            let body = format!(
                "The email with {reference}'s request package to {provider} ({recipients}) came back undelivered:\n\n    \
                 {why}\n\nThe provider has not received the request. Check the address in the directory (PROVIDER \
                 FIND {provider}), or send the package another way.\n"
            );
            let notice = self.compose(
                &OutgoingMail {
                    to: vec![detail.owner.clone()],
                    subject: format!("Request not delivered to {provider}"),
                    body,
                    in_reply_to: detail.origin_message_id.clone(),
                    references: detail.origin_message_id.clone().into_iter().collect(),
                    reference: Some(reference),
                    auto_submitted: AutoSubmitted::AutoGenerated,
                    attachments: Vec::new(),
                },
                now,
            )?;
            notices.push((reference, notice, format!("the package email to {recipients} bounced: {why}")));
        }
        Ok(notices)
    }

    async fn store_with(
        &self,
        mail: &InboundMail,
        place: Place,
        raw: &[u8],
        plan: Plan,
        bounced: Vec<(Reference, Composed, String)>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Ingested> {
        let (mut status, mut note) = ("answered".to_string(), None);
        let composed: Option<Composed> = match &plan {
            Plan::Answer(out) | Plan::Triage(out) | Plan::File { answer: out, .. } => match self.compose(out, now) {
                Ok(c) => Some(c),
                Err(e) => {
                    (status, note) = ("stored".into(), Some(format!("could not compose the answer: {e}")));
                    None
                }
            },
            Plan::Store(reason) => {
                (status, note) = (format!("stored:{}", reason.code()), note_for(reason));
                None
            }
            Plan::Create(_) => {
                status = "request_created".into();
                None
            }
            Plan::Reply { reference, kind, .. } => {
                (status, note) = ("filed".into(), Some(format!("{kind} reply on {reference}")));
                None
            }
        };
        if let (Plan::Triage(_), Some(_)) = (&plan, &composed) {
            status = "triage".into();
        }
        let address = match &plan {
            Plan::Create(p) => p.form.address.join("\n"),
            _ => String::new(),
        };
        let effect = match (&plan, &composed) {
            _ if !bounced.is_empty() => {
                note = Some(format!(
                    "returned {}",
                    bounced.iter().map(|(r, _, _)| r.to_string()).collect::<Vec<_>>().join(", ")
                ));
                Effect::Bounced(bounced.iter().map(|(r, c, d)| (*r, outgoing(c, None), d.clone())).collect())
            }
            (Plan::Triage(_), Some(c)) => Effect::Triage(outgoing(c, None)),
            (Plan::File { message_row, reference, .. }, Some(c)) => Effect::File {
                message_row: *message_row,
                reference: *reference,
                answer: outgoing(c, mail.message_id.as_deref()),
            },
            (_, Some(c)) => Effect::Answer(outgoing(c, mail.message_id.as_deref())),
            (Plan::Reply { reference, kind, detail }, None) => {
                Effect::Reply { reference: *reference, kind, detail: detail.clone() }
            }
            (Plan::Create(p), _) => Effect::NewRequest(NewRequestRow {
                owner: &p.owner,
                attorney: p.form.attorney.as_deref(),
                provider_id: p.provider_id,
                patient_name: &p.form.patient_name,
                patient_address: &address,
                patient_dob: p.form.dob.expose(),
                patient_ssn: p.form.ssn.expose(),
                date_of_loss: p.form.date_of_loss,
                still_treating: p.form.still_treating,
                rush: p.form.rush,
                notes: p.form.notes.as_deref(),
                authorization_expires: p.form.authorization_expires,
                records: &p.form.records,
                authorization: NewDocument {
                    kind: "authorization",
                    filename: &p.authorization.filename,
                    path: &p.authorization.path,
                    content_type: "application/pdf",
                    size: p.authorization.size,
                    sha256: &p.authorization.sha256,
                },
            }),
            _ => Effect::Nothing,
        };
        let sha = files::sha256_hex(raw);
        let record = NewInbound {
            place,
            message_id: mail.message_id.as_deref(),
            sha256: &sha,
            from: mail.from.as_deref(),
            subject: &mail.subject,
            in_reply_to: mail.in_reply_to.as_deref(),
            status: &status,
            status_note: note.as_deref(),
            raw,
        };
        let outcome = self.store.ingest(&record, &effect, now).await?;
        // Logs carry the sender's domain only: subjects and bodies may name patients.
        let sender_domain = mail.from.as_deref().and_then(|f| f.rsplit_once('@')).map(|(_, d)| d).unwrap_or("-");
        match outcome {
            Ingested::New { id, request } => {
                let request = match &plan {
                    Plan::Reply { reference, .. } | Plan::File { reference, .. } => Some(*reference),
                    _ => request,
                }
                .map(|r| r.to_string());
                info!(message_row = id, sender_domain, status = %status, request, size = raw.len(), "message received");
                if let (Plan::Answer(_), None, Some(n)) = (&plan, &composed, &note) {
                    warn!(message_row = id, problem = %n, "message stored without its answer");
                }
                if composed.is_some() || !bounced.is_empty() {
                    self.outbox_wake.notify_one();
                }
            }
            Ingested::Duplicate => info!(sender_domain, "message seen before; not taken again"),
        }
        Ok(outcome)
    }

    pub(super) fn compose(&self, out: &OutgoingMail, now: DateTime<Utc>) -> anyhow::Result<Composed> {
        compose::compose(out, &self.me, &compose::unique_token(), now)
    }
}

/// The store's view of a composed message.
pub(super) fn outgoing<'a>(c: &'a Composed, in_reply_to: Option<&'a str>) -> NewOutgoing<'a> {
    NewOutgoing {
        message_id: &c.message_id,
        envelope_from: &c.envelope_from,
        recipients: &c.recipients,
        subject: &c.subject,
        in_reply_to,
        raw: &c.raw,
    }
}

fn note_for(reason: &StoreReason) -> Option<String> {
    match reason {
        StoreReason::Automatic(why) => Some(why.to_string()),
        StoreReason::StaffNotAuthenticated(why) => Some(why.clone()),
        _ => None,
    }
}
