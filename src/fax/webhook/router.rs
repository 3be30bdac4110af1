//! The webhook endpoints, `POST /webhooks/telnyx` and `POST /webhooks/sinch`, for the daemon's
//! HTTP server: verify, parse, hand the event to the daemon through a channel and answer at once.
//! Refusals are counted (for metrics) and logged without the body. The channel never blocks a
//! gateway: when it is full we answer 503 and the gateway delivers again later.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;

use super::{WebhookError, WebhookEvent, parse_sinch, parse_telnyx, verify_sinch, verify_telnyx};
use crate::fax::FaxSettings;

/// Telnyx webhooks are small JSON documents (inbound faxes come as a link).
pub const TELNYX_BODY_LIMIT: usize = 256 * 1024;
/// Sinch webhooks carry the whole fax; a 350-page fax is tens of MB.
pub const SINCH_BODY_LIMIT: usize = 60 * 1024 * 1024;

/// The credentials Sinch must present.
#[derive(Clone)]
pub struct SinchWebhook {
    pub user: String,
    pub password: SecretString,
}

/// What the endpoints need: where events go, how to verify each gateway (an unconfigured
/// gateway's endpoint answers 404), the clock, and the count of refused requests.
#[derive(Clone)]
pub struct WebhookState {
    events: mpsc::Sender<WebhookEvent>,
    telnyx_key: Option<VerifyingKey>,
    sinch: Option<SinchWebhook>,
    clock: fn() -> DateTime<Utc>,
    rejected: Arc<AtomicU64>,
}

impl WebhookState {
    /// No gateway enabled yet; see [`WebhookState::telnyx`] and [`WebhookState::sinch`].
    pub fn new(events: mpsc::Sender<WebhookEvent>, clock: fn() -> DateTime<Utc>) -> WebhookState {
        WebhookState { events, telnyx_key: None, sinch: None, clock, rejected: Arc::new(AtomicU64::new(0)) }
    }

    /// The state for the configured gateway, reading the Sinch webhook password now.
    pub fn for_settings(
        settings: &FaxSettings,
        events: mpsc::Sender<WebhookEvent>,
        clock: fn() -> DateTime<Utc>,
    ) -> Result<WebhookState, String> {
        let state = WebhookState::new(events, clock);
        Ok(match settings {
            FaxSettings::Directory { .. } => state,
            FaxSettings::Telnyx(t) => state.telnyx(t.public_key),
            FaxSettings::Sinch(s) => {
                let password = s.webhook_password.load().map_err(|e| format!("fax.sinch webhook password: {e}"))?;
                state.sinch(SinchWebhook { user: s.webhook_user.clone(), password })
            }
        })
    }

    /// Accepts Telnyx webhooks signed with `public_key`.
    pub fn telnyx(mut self, public_key: VerifyingKey) -> WebhookState {
        self.telnyx_key = Some(public_key);
        self
    }

    /// Accepts Sinch webhooks with these Basic credentials.
    pub fn sinch(mut self, credentials: SinchWebhook) -> WebhookState {
        self.sinch = Some(credentials);
        self
    }

    /// Requests refused so far (failed verification).
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    fn refuse(&self, gateway: &str, e: WebhookError) -> Response {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(gateway, reason = %e, "webhook refused");
        match e {
            WebhookError::Unauthenticated(_) => {
                (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"medrec\"")]).into_response()
            }
            WebhookError::Forbidden(_) => StatusCode::FORBIDDEN.into_response(),
            WebhookError::Malformed(_) => StatusCode::BAD_REQUEST.into_response(),
        }
    }

    fn deliver(&self, gateway: &str, parsed: Result<WebhookEvent, WebhookError>) -> Response {
        let event = match parsed {
            Ok(WebhookEvent::Ignored { why }) => {
                tracing::debug!(gateway, why, "webhook ignored");
                return StatusCode::OK.into_response();
            }
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(gateway, reason = %e, "webhook unreadable");
                return StatusCode::BAD_REQUEST.into_response();
            }
        };
        match self.events.try_send(event) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(e) => {
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "event queue full",
                    mpsc::error::TrySendError::Closed(_) => "daemon not taking events",
                };
                tracing::warn!(gateway, why, "webhook deferred; the gateway will deliver it again");
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            }
        }
    }
}

/// `POST /webhooks/telnyx` and `POST /webhooks/sinch`, with their body limits.
pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route("/webhooks/telnyx", post(telnyx).layer(DefaultBodyLimit::max(TELNYX_BODY_LIMIT)))
        .route("/webhooks/sinch", post(sinch).layer(DefaultBodyLimit::max(SINCH_BODY_LIMIT)))
        .with_state(state)
}

async fn telnyx(State(state): State<WebhookState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(key) = &state.telnyx_key else { return StatusCode::NOT_FOUND.into_response() };
    if let Err(e) = verify_telnyx(&headers, &body, key, (state.clock)()) {
        return state.refuse("telnyx", e);
    }
    state.deliver("telnyx", parse_telnyx(&body))
}

/// Credentials are checked before the (possibly large) body is read.
async fn sinch(State(state): State<WebhookState>, request: Request) -> Response {
    let Some(expected) = &state.sinch else { return StatusCode::NOT_FOUND.into_response() };
    if let Err(e) = verify_sinch(request.headers(), &expected.user, expected.password.expose_secret()) {
        return state.refuse("sinch", e);
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("multipart/form-data")
        .to_string();
    let body = match axum::body::to_bytes(request.into_body(), SINCH_BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    state.deliver("sinch", parse_sinch(&content_type, &body))
}
