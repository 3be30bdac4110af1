//! Intake of one inbound message: parse it, let the core decide, carry out staff commands that
//! need the store, and store the message together with its effects (an answer, or a new
//! request) in one transaction. A new request's package is then built and queued.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tracing::{info, warn};

use super::change::{self, Planned};
use super::{commands, package};
use crate::config::Settings;
use crate::core::inbound::{self, Decision, InboundMail, OutgoingMail, Policy, StoreReason};
use crate::core::lifecycle::State;
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
    /// Wakes the scheduler: a request changed.
    pub schedule_wake: Arc<Notify>,
    pub clock: super::clock::Clock,
    /// Loop liveness and inbox state, for `/readyz`, `/metrics` and the watchdog.
    pub health: Arc<super::health::Health>,
}

/// What to store with a message.
pub(super) enum Plan {
    Answer(OutgoingMail),
    Store(StoreReason),
    Create(PreparedRequest),
    /// A change to a request: a reply acted on, or a staff command carried out (with its answer).
    Change(Box<Planned>),
    /// A notice about this message to a staff member (someone tried to act as them).
    Notice {
        out: OutgoingMail,
        tag: &'static str,
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
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        outbox_wake: Arc<Notify>,
        clock: super::clock::Clock,
    ) -> anyhow::Result<Intake> {
        let templates = match &settings.templates_dir {
            Some(dir) => Templates::from_dir(dir)?,
            None => Templates::builtin(),
        };
        Ok(Intake {
            store,
            schedule_wake: Arc::new(Notify::new()),
            clock,
            policy: settings.policy(),
            me: Identity {
                address: settings.bot.address.clone(),
                name: settings.bot.name.clone(),
                mail_domain: settings.firm.mail_domain.clone(),
            },
            templates: Arc::new(templates),
            settings,
            outbox_wake,
            health: Arc::new(super::health::Health::new()),
        })
    }

    /// Takes one raw message found at `place`. Errors are store errors: the message must then
    /// stay where it is, to be taken again.
    pub async fn take(&self, place: Place, raw: &[u8]) -> anyhow::Result<Ingested> {
        let mail = parse::parse(raw);
        // A request that changes between planning and storing (another inbox, a fax report)
        // makes the store refuse the plan; planning again sees the new state.
        for _ in 0..3 {
            match self.take_once(&place, raw, &mail).await? {
                Ingested::Stale => continue,
                done => return Ok(done),
            }
        }
        anyhow::bail!("the request kept changing while this message was being acted on; it stays to be taken again")
    }

    async fn take_once(&self, place: &Place, raw: &[u8], mail: &InboundMail) -> anyhow::Result<Ingested> {
        let place = place.clone();
        let now = self.clock.now();
        let recent = match mail.from.as_deref() {
            Some(from) => self.store.answers_to_since(from, now - chrono::Duration::hours(1)).await?,
            None => 0,
        };
        let plan = match inbound::decide(mail, &self.policy, u32::try_from(recent).unwrap_or(u32::MAX)) {
            Decision::Answer(out) => Plan::Answer(out),
            Decision::Store(StoreReason::FromProvider) => super::replies::plan(self, mail, raw, true, now).await?,
            Decision::Store(StoreReason::StaffNotAuthenticated(why)) => self.impersonation(mail, why, now).await?,
            Decision::Store(reason) => Plan::Store(reason),
            Decision::Act(cmd) => {
                let from = mail.from.clone().unwrap_or_default();
                commands::plan(self, cmd, mail, &from, now).await?
            }
        };
        let bounced = match &plan {
            Plan::Store(StoreReason::Automatic(_)) => super::bounces::plan(self, mail, raw, now).await?,
            _ => Vec::new(),
        };
        // Automatic mail that is not a returned submission (an out-of-office, an ROI desk's
        // automatic acknowledgment) is filed on its request when it clearly belongs to one.
        let plan = match plan {
            Plan::Store(StoreReason::Automatic(why)) if bounced.is_empty() && mail.from.is_some() => {
                match super::replies::plan(self, mail, raw, false, now).await? {
                    filed @ Plan::Change(_) => filed,
                    _ => Plan::Store(StoreReason::Automatic(why)),
                }
            }
            other => other,
        };
        // Requests to (re)build: a resend, a redirect, the other channel after a bounce.
        let mut rebuild: Vec<Reference> = bounced
            .iter()
            .chain(match &plan {
                Plan::Change(p) => std::slice::from_ref(p.as_ref()),
                _ => &[],
            })
            .filter(|p| p.state_after() == State::Preparing)
            .map(|p| p.reference)
            .collect();
        let outcome = self.store_with(mail, place, raw, plan, bounced, now).await?;
        if let Ingested::New { request: created, .. } = outcome {
            rebuild.extend(created);
            for reference in rebuild {
                package::prepare_or_report(self, reference).await;
            }
        }
        Ok(outcome)
    }

    /// A message from a staff address that failed authentication: kept, not obeyed, and the real
    /// staff member is told (at most a few times an hour, so a flood does not become one).
    async fn impersonation(&self, mail: &InboundMail, why: String, now: DateTime<Utc>) -> anyhow::Result<Plan> {
        let address = mail.from.clone().unwrap_or_default();
        let recent = self.store.notices_to_since(&address, "impersonation", now - chrono::Duration::hours(1)).await?;
        if recent >= i64::from(self.policy.max_answers_per_hour.min(3)) {
            return Ok(Plan::Store(StoreReason::StaffNotAuthenticated(why)));
        }
        let local = now.with_timezone(&self.settings.firm.time_zone);
        let body = crate::core::notices::impersonation(&crate::core::notices::Impersonation {
            address: address.clone(),
            received: local.format("%B %-d, %Y at %-I:%M %p %Z").to_string(),
            subject: if mail.subject.is_empty() { "(none)".into() } else { mail.subject.clone() },
            why,
        });
        Ok(Plan::Notice {
            out: OutgoingMail::fresh(vec![address], "Warning: a message in your name was not obeyed", body),
            tag: "impersonation",
        })
    }

    async fn store_with(
        &self,
        mail: &InboundMail,
        place: Place,
        raw: &[u8],
        plan: Plan,
        bounced: Vec<Planned>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Ingested> {
        let (mut status, mut note) = ("answered".to_string(), None);
        let composed: Option<Composed> = match &plan {
            Plan::Answer(out) | Plan::Triage(out) | Plan::File { answer: out, .. } | Plan::Notice { out, .. } => {
                match self.compose(out, now) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        (status, note) = ("stored".into(), Some(format!("could not compose the answer: {e}")));
                        None
                    }
                }
            }
            Plan::Store(reason) => {
                (status, note) = (format!("stored:{}", reason.code()), note_for(reason));
                None
            }
            Plan::Create(_) => {
                status = "request_created".into();
                None
            }
            Plan::Change(p) => {
                // A provider's reply is filed; a staff command is answered.
                note = p.steps.iter().find_map(|s| match s {
                    change::Do::File { kind } => Some(format!("{kind} reply on {}", p.reference)),
                    _ => None,
                });
                if note.is_some() {
                    status = "filed".into();
                }
                None
            }
        };
        match (&plan, &composed) {
            (Plan::Triage(_), Some(_)) => status = "triage".into(),
            (Plan::Notice { tag, .. }, Some(_)) => status = format!("stored:staff_not_authenticated ({tag} notice)"),
            _ => {}
        }
        let changes: Vec<&Planned> = match &plan {
            Plan::Change(p) => vec![p.as_ref()],
            _ => bounced.iter().collect(),
        };
        if !bounced.is_empty() {
            note = Some(format!(
                "returned {}",
                bounced.iter().map(|p| p.reference.to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        let mails = changes.iter().map(|p| change::compose(self, p, now)).collect::<anyhow::Result<Vec<_>>>()?;
        let address = match &plan {
            Plan::Create(p) => p.form.address.join("\n"),
            _ => String::new(),
        };
        let effect = match (&plan, &composed) {
            _ if !changes.is_empty() => {
                Effect::Change(changes.iter().zip(&mails).map(|(p, m)| change::for_store(p, m)).collect())
            }
            (Plan::Triage(_), Some(c)) => Effect::Triage(outgoing(c, None)),
            (Plan::Notice { tag, .. }, Some(c)) => Effect::Notice { out: outgoing(c, None), tag },
            (Plan::File { message_row, reference, .. }, Some(c)) => Effect::File {
                message_row: *message_row,
                reference: *reference,
                answer: outgoing(c, mail.message_id.as_deref()),
            },
            (_, Some(c)) => Effect::Answer(outgoing(c, mail.message_id.as_deref())),
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
                    Plan::Change(p) => Some(p.reference),
                    Plan::File { reference, .. } => Some(*reference),
                    _ => request,
                }
                .map(|r| r.to_string());
                let state = changes.first().and_then(|p| p.to).map(|s| s.as_str());
                info!(message_row = id, sender_domain, status = %status, request, state, size = raw.len(), "message received");
                if let (Plan::Answer(_), None, Some(n)) = (&plan, &composed, &note) {
                    warn!(message_row = id, problem = %n, "message stored without its answer");
                }
                if composed.is_some() || changes.iter().any(|p| p.sends()) {
                    self.outbox_wake.notify_one();
                }
                if !changes.is_empty() {
                    self.schedule_wake.notify_one();
                }
            }
            Ingested::Duplicate => info!(sender_domain, "message seen before; not taken again"),
            Ingested::Stale => info!(sender_domain, "request changed meanwhile; planning the message again"),
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
