//! A planned change to a request, owned, as replies and commands build it: the state move and
//! the effects (log lines, files, invoices, mail, faxes). Intake composes its mail and hands it
//! to the store as one [`RequestChange`], written with the message that caused it.

use chrono::{DateTime, NaiveDate, Utc};

use super::intake::{Intake, StoredFile, outgoing};
use crate::core::inbound::OutgoingMail;
use crate::core::lifecycle::State;
use crate::core::reference::Reference;
use crate::mail::compose::Composed;
use crate::store::{NewDocument, RequestChange, Step};

/// What one message does to one request.
#[derive(Debug, Clone)]
pub struct Planned {
    pub reference: Reference,
    pub from: State,
    pub to: Option<State>,
    pub steps: Vec<Do>,
}

/// One effect, owned (see [`Step`] for what each does).
#[derive(Debug, Clone)]
pub enum Do {
    File {
        kind: &'static str,
    },
    Event {
        kind: &'static str,
        actor: String,
        detail: String,
    },
    Email {
        out: OutgoingMail,
        purpose: &'static str,
        tag: Option<&'static str>,
    },
    /// An email composed already, when its Message-ID must go in a log line of the same change.
    Composed {
        mail: Composed,
        in_reply_to: Option<String>,
        purpose: &'static str,
        tag: Option<&'static str>,
    },
    Fax {
        to: String,
        document: (&'static str, StoredFile),
    },
    Document {
        kind: &'static str,
        file: StoredFile,
        content_type: String,
    },
    Invoice {
        amount_cents: i64,
        state: &'static str,
        fee_check: String,
        overcharge: bool,
    },
    Decide {
        approved: bool,
        by: String,
        reason: Option<String>,
    },
    RecordTypes {
        received: Vec<&'static str>,
        awaiting_media: Vec<&'static str>,
    },
    Eta(NaiveDate),
    NextChannel(Option<&'static str>),
    CloseReason(String),
    /// See [`Step::Withdraw`].
    Withdraw {
        provider_told: bool,
    },
    Update {
        from: NaiveDate,
        owner: String,
    },
}

impl Planned {
    pub fn new(reference: Reference, from: State) -> Planned {
        Planned { reference, from, to: None, steps: Vec::new() }
    }

    /// Moves to `to` (no-op when already there).
    pub fn to(mut self, to: State) -> Planned {
        self.to = (to != self.from).then_some(to);
        self
    }

    pub fn push(&mut self, step: Do) {
        self.steps.push(step);
    }

    pub fn event(&mut self, kind: &'static str, actor: &str, detail: String) {
        self.steps.push(Do::Event { kind, actor: actor.to_string(), detail });
    }

    /// The state after this change.
    pub fn state_after(&self) -> State {
        self.to.unwrap_or(self.from)
    }

    /// Whether it queues anything to send.
    pub fn sends(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Do::Email { .. } | Do::Composed { .. } | Do::Fax { .. }))
    }
}

/// The change's mail, composed, in step order.
pub struct ComposedMail {
    mail: Vec<Option<Composed>>,
}

/// Composes every email of `planned` (each gets its Message-ID and bytes now).
pub fn compose(intake: &Intake, planned: &Planned, now: DateTime<Utc>) -> anyhow::Result<ComposedMail> {
    let mail = planned
        .steps
        .iter()
        .map(|s| match s {
            Do::Email { out, .. } => intake.compose(out, now).map(Some),
            _ => Ok(None),
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(ComposedMail { mail })
}

/// The store's view of `planned`, borrowing the composed mail.
pub fn for_store<'a>(planned: &'a Planned, composed: &'a ComposedMail) -> RequestChange<'a> {
    let steps = planned
        .steps
        .iter()
        .zip(&composed.mail)
        .map(|(s, c)| match (s, c) {
            (Do::Email { purpose, tag, out }, Some(c)) => {
                Step::Email { out: outgoing(c, out.in_reply_to.as_deref()), purpose, tag: *tag }
            }
            (Do::Email { .. }, None) => unreachable!("every email step was composed"),
            (Do::Composed { mail, in_reply_to, purpose, tag }, _) => {
                Step::Email { out: outgoing(mail, in_reply_to.as_deref()), purpose, tag: *tag }
            }
            (Do::File { kind }, _) => Step::File { kind },
            (Do::Event { kind, actor, detail }, _) => Step::Event { kind, actor, detail: detail.clone() },
            (Do::Fax { to, document: (kind, f) }, _) => {
                Step::Fax { to, document: document(kind, f, "application/pdf") }
            }
            (Do::Document { kind, file, content_type }, _) => Step::Document(document(kind, file, content_type)),
            (Do::Invoice { amount_cents, state, fee_check, overcharge }, _) => Step::Invoice {
                amount_cents: *amount_cents,
                state,
                fee_check: fee_check.clone(),
                overcharge: *overcharge,
            },
            (Do::Decide { approved, by, reason }, _) => {
                Step::Decide { approved: *approved, by, reason: reason.as_deref() }
            }
            (Do::RecordTypes { received, awaiting_media }, _) => {
                Step::RecordTypes { received: received.clone(), awaiting_media: awaiting_media.clone() }
            }
            (Do::Eta(d), _) => Step::Eta(*d),
            (Do::NextChannel(c), _) => Step::NextChannel(*c),
            (Do::CloseReason(r), _) => Step::CloseReason(r),
            (Do::Withdraw { provider_told }, _) => Step::Withdraw { provider_told: *provider_told },
            (Do::Update { from, owner }, _) => Step::Update { from: *from, owner },
        })
        .collect();
    RequestChange {
        reference: planned.reference,
        from_state: planned.from.as_str(),
        to_state: planned.to.map(State::as_str),
        steps,
    }
}

fn document<'a>(kind: &'a str, f: &'a StoredFile, content_type: &'a str) -> NewDocument<'a> {
    NewDocument { kind, filename: &f.filename, path: &f.path, content_type, size: f.size, sha256: &f.sha256 }
}
