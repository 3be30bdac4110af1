//! Intake of one inbound message: parse it, let the core decide, compose any answer, and store
//! the message together with its queued answer in one transaction.

use std::sync::Arc;

use tokio::sync::Notify;
use tracing::{info, warn};

use crate::core::inbound::{self, Decision, Policy, StoreReason};
use crate::mail::compose::{self, Identity};
use crate::mail::{files, parse};
use crate::store::{Ingested, NewInbound, NewOutgoing, Place, Store};

/// Everything intake needs, cloned into each inbox watcher.
#[derive(Clone)]
pub struct Intake {
    pub store: Store,
    pub policy: Policy,
    pub me: Identity,
    pub outbox_wake: Arc<Notify>,
}

impl Intake {
    /// Takes one raw message found at `place`. Errors are store errors: the message must then
    /// stay where it is, to be taken again.
    pub async fn take(&self, place: Place, raw: &[u8]) -> anyhow::Result<Ingested> {
        let now = super::clock::now();
        let mail = parse::parse(raw);
        let recent = match mail.from.as_deref() {
            Some(from) => self.store.answers_to_since(from, now - chrono::Duration::hours(1)).await?,
            None => 0,
        };
        let decision = inbound::decide(&mail, &self.policy, u32::try_from(recent).unwrap_or(u32::MAX));
        let (composed, status, note) = match &decision {
            Decision::Answer(out) => match compose::compose(out, &self.me, &compose::unique_token(), now) {
                Ok(c) => (Some(c), "answered".to_string(), None),
                Err(e) => (None, "stored".to_string(), Some(format!("could not compose the answer: {e}"))),
            },
            Decision::Store(reason) => (None, format!("stored:{}", reason.code()), note_for(reason)),
        };
        let answer = composed.as_ref().map(|c| NewOutgoing {
            message_id: &c.message_id,
            envelope_from: &c.envelope_from,
            recipients: &c.recipients,
            subject: &c.subject,
            in_reply_to: mail.message_id.as_deref(),
            raw: &c.raw,
        });
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
        let outcome = self.store.ingest(&record, answer.as_ref(), now).await?;
        // Logs carry the sender's domain only: subjects and bodies may name patients.
        let sender_domain = mail.from.as_deref().and_then(|f| f.rsplit_once('@')).map(|(_, d)| d).unwrap_or("-");
        match outcome {
            Ingested::New { id } => {
                info!(message_row = id, sender_domain, status = %status, size = raw.len(), "message received");
                if let (Some(n), true) = (&note, composed.is_none() && matches!(decision, Decision::Answer(_))) {
                    warn!(message_row = id, problem = %n, "message stored without its answer");
                }
                if answer.is_some() {
                    self.outbox_wake.notify_one();
                }
            }
            Ingested::Duplicate => info!(sender_domain, "message seen before; not taken again"),
        }
        Ok(outcome)
    }
}

fn note_for(reason: &StoreReason) -> Option<String> {
    match reason {
        StoreReason::Automatic(why) => Some(why.to_string()),
        StoreReason::StaffNotAuthenticated(why) => Some(why.clone()),
        _ => None,
    }
}
