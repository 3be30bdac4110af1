//! The request state machine: which state a request moves to on each event, or why the event
//! does not fit the state it is in. Pure; the shell stores the new state in the same
//! transaction as the effects.

use std::fmt;

/// Where a request stands. Stored as [`State::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Stored; its package is being built.
    Preparing,
    /// The package is queued to the provider.
    Submitting,
    /// The provider has the package; nothing back yet.
    Submitted,
    /// The provider confirmed it is working on the request.
    Acknowledged,
    /// An invoice above the approval limit waits for a decision.
    OnHold,
    /// The provider refused the request as it is; staff must correct it.
    Deficient,
    /// Some of the requested records arrived.
    Partial,
    Received,
    NoRecords,
    Cancelled,
    /// The package could not be delivered by any channel.
    Failed,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Preparing,
        State::Submitting,
        State::Submitted,
        State::Acknowledged,
        State::OnHold,
        State::Deficient,
        State::Partial,
        State::Received,
        State::NoRecords,
        State::Cancelled,
        State::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Preparing => "preparing",
            State::Submitting => "submitting",
            State::Submitted => "submitted",
            State::Acknowledged => "acknowledged",
            State::OnHold => "on_hold",
            State::Deficient => "deficient",
            State::Partial => "partial",
            State::Received => "received",
            State::NoRecords => "no_records",
            State::Cancelled => "cancelled",
            State::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// How staff read it: "on hold (invoice to approve)".
    pub fn words(self) -> &'static str {
        match self {
            State::Preparing => "being prepared",
            State::Submitting => "being sent to the provider",
            State::Submitted => "sent, waiting for the provider",
            State::Acknowledged => "acknowledged by the provider, waiting for records",
            State::OnHold => "on hold (invoice to approve)",
            State::Deficient => "deficient (the provider needs something from us)",
            State::Partial => "partly received",
            State::Received => "received (closed)",
            State::NoRecords => "closed: the provider has no records",
            State::Cancelled => "cancelled (closed)",
            State::Failed => "failed: the package could not be delivered",
        }
    }

    /// Received, no records or cancelled: nothing more happens.
    pub fn is_closed(self) -> bool {
        matches!(self, State::Received | State::NoRecords | State::Cancelled)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happens to a request: a provider's reply, a staff command, a delivery report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Records arrived; `complete` when nothing requested is still missing or awaited.
    Records {
        complete: bool,
    },
    /// An invoice arrived; `needs_approval` when it is above the approval limit.
    Invoice {
        needs_approval: bool,
    },
    /// The held invoice was approved or declined; `complete` tells whether all records are in.
    Released {
        complete: bool,
        any_received: bool,
    },
    Deficiency,
    NoRecords,
    Acknowledgment,
    /// Staff send the package again (`RESEND`, a redirect, the other channel after a bounce).
    Resend,
    /// The package could not be delivered and there is no other channel.
    Undeliverable,
    /// Staff mark the records received.
    MarkedReceived,
    Cancel,
}

/// Why an event does not fit, written for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The state after `event`, or why the event does not apply in `state`.
pub fn next(state: State, event: Event) -> Result<State, Refusal> {
    use State::*;
    let refuse = |why: &str| Err(Refusal(why.to_string()));
    if state.is_closed() && !matches!(event, Event::Records { .. }) {
        return refuse(match state {
            Received => {
                "the records were received and the request is closed; for updated records use UPDATE from <date>"
            }
            NoRecords => "the provider answered that it has no records, and the request is closed",
            _ => "the request is cancelled",
        });
    }
    match event {
        // Records are always kept; a closed request keeps its state (late extra pages), a held
        // one stays held until its invoice is decided.
        Event::Records { .. } if state.is_closed() || state == OnHold => Ok(state),
        Event::Records { complete: true } => Ok(Received),
        Event::Records { complete: false } => Ok(Partial),
        Event::Invoice { needs_approval: true } => Ok(OnHold),
        Event::Invoice { needs_approval: false } if state == OnHold => Ok(OnHold),
        Event::Invoice { needs_approval: false } => Ok(match state {
            Submitted | Submitting | Deficient | Failed => Acknowledged,
            other => other,
        }),
        Event::Released { .. } if state != OnHold => refuse("nothing is on hold on this request"),
        Event::Released { complete: true, .. } => Ok(Received),
        Event::Released { any_received: true, .. } => Ok(Partial),
        Event::Released { .. } => Ok(Acknowledged),
        Event::Deficiency => Ok(Deficient),
        Event::NoRecords => Ok(NoRecords),
        Event::Acknowledgment => Ok(match state {
            Submitting | Submitted | Failed => Acknowledged,
            other => other,
        }),
        Event::Resend => match state {
            Preparing | Submitting => refuse("the package is being sent right now; wait for the confirmation"),
            OnHold => refuse("an invoice is waiting for approval; APPROVE or DECLINE it first"),
            _ => Ok(Preparing),
        },
        Event::Undeliverable => Ok(Failed),
        Event::MarkedReceived => match state {
            OnHold => refuse("an invoice is waiting for approval; APPROVE or DECLINE it first"),
            _ => Ok(Received),
        },
        Event::Cancel => Ok(Cancelled),
    }
}

#[cfg(test)]
mod tests {
    use super::State::*;
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_words() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("open"), None);
    }

    #[test]
    fn invoices_hold_only_above_the_limit() {
        assert_eq!(next(Submitted, Event::Invoice { needs_approval: true }), Ok(OnHold));
        assert_eq!(next(Submitted, Event::Invoice { needs_approval: false }), Ok(Acknowledged));
        assert_eq!(next(Partial, Event::Invoice { needs_approval: false }), Ok(Partial));
        // A revised small invoice does not release a hold by itself.
        assert_eq!(next(OnHold, Event::Invoice { needs_approval: false }), Ok(OnHold));
        assert_eq!(next(OnHold, Event::Invoice { needs_approval: true }), Ok(OnHold));
    }

    #[test]
    fn a_decision_releases_the_hold_to_what_has_arrived() {
        assert_eq!(next(OnHold, Event::Released { complete: false, any_received: false }), Ok(Acknowledged));
        assert_eq!(next(OnHold, Event::Released { complete: false, any_received: true }), Ok(Partial));
        assert_eq!(next(OnHold, Event::Released { complete: true, any_received: true }), Ok(Received));
        let Err(Refusal(why)) = next(Submitted, Event::Released { complete: false, any_received: false }) else {
            panic!()
        };
        assert!(why.contains("nothing is on hold"));
    }

    #[test]
    fn records_complete_partial_and_while_held() {
        assert_eq!(next(Acknowledged, Event::Records { complete: true }), Ok(Received));
        assert_eq!(next(Submitted, Event::Records { complete: false }), Ok(Partial));
        assert_eq!(next(Partial, Event::Records { complete: true }), Ok(Received));
        assert_eq!(next(OnHold, Event::Records { complete: true }), Ok(OnHold));
        assert_eq!(next(Received, Event::Records { complete: true }), Ok(Received));
        assert_eq!(next(Cancelled, Event::Records { complete: false }), Ok(Cancelled));
    }

    #[test]
    fn closed_requests_refuse_everything_but_late_records() {
        for closed in [Received, NoRecords, Cancelled] {
            for e in [Event::Resend, Event::Cancel, Event::MarkedReceived, Event::Deficiency] {
                assert!(next(closed, e).is_err(), "{closed:?} {e:?}");
            }
        }
        let Err(Refusal(why)) = next(Received, Event::Resend) else { panic!() };
        assert!(why.contains("UPDATE"));
    }

    #[test]
    fn resend_waits_for_a_send_in_progress_and_for_a_held_invoice() {
        assert_eq!(next(Deficient, Event::Resend), Ok(Preparing));
        assert_eq!(next(Failed, Event::Resend), Ok(Preparing));
        assert!(next(Submitting, Event::Resend).is_err());
        assert!(next(OnHold, Event::Resend).is_err());
        assert!(next(OnHold, Event::MarkedReceived).is_err());
    }

    #[test]
    fn acknowledgments_do_not_undo_progress() {
        assert_eq!(next(Submitted, Event::Acknowledgment), Ok(Acknowledged));
        assert_eq!(next(Partial, Event::Acknowledgment), Ok(Partial));
        assert_eq!(next(Deficient, Event::Acknowledgment), Ok(Deficient));
        assert_eq!(next(Acknowledged, Event::Deficiency), Ok(Deficient));
        assert_eq!(next(Submitted, Event::NoRecords), Ok(NoRecords));
        assert_eq!(next(Submitted, Event::Undeliverable), Ok(Failed));
        assert_eq!(next(Deficient, Event::Cancel), Ok(Cancelled));
    }
}
