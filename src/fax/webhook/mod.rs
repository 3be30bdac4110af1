//! The gateways' webhooks: [`verify_telnyx`] (Ed25519 over `timestamp|raw body`) and
//! [`verify_sinch`] (HTTP Basic, compared in constant time), [`parse_telnyx`] and
//! [`parse_sinch`] into one [`WebhookEvent`] type — all pure — and [`router`], the axum routes
//! that run them and hand events to the daemon. Duplicates and out-of-order events are the
//! caller's to drop: each event carries what it needs (event id, time, [`FaxStatus::rank`]).

mod parse;
mod router;
mod verify;

use chrono::{DateTime, Utc};

pub use parse::{SINCH_EVENTS, TELNYX_EVENTS, parse_sinch, parse_telnyx};
pub use router::{SinchWebhook, WebhookState, router};
pub use verify::{TELNYX_TOLERANCE, verify_sinch, verify_telnyx};

use super::{FaxStatus, InboundMedia};

/// What a webhook told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// An outbound fax moved on.
    Status {
        gateway_id: String,
        status: FaxStatus,
        /// The vendor's id of this delivery (Telnyx `data.id`), for recognising duplicates.
        event_id: Option<String>,
        /// When it happened (Telnyx `occurred_at`, Sinch `eventTime`), for dropping stale events.
        occurred_at: Option<DateTime<Utc>>,
    },
    /// A fax came in.
    Inbound {
        gateway_id: String,
        from: String,
        to: String,
        pages: Option<u32>,
        media: InboundMedia,
        /// Telnyx `partial_content`: only part of the fax arrived.
        partial: bool,
    },
    /// Authentic but of no use to us (an intermediate inbound event, a type we do not handle).
    Ignored { why: String },
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No credentials or signature at all: answered 401.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// Wrong credentials, a bad signature or a stale timestamp: answered 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Authentic but unreadable: answered 400.
    #[error("malformed: {0}")]
    Malformed(String),
}
