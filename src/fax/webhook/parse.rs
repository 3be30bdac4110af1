//! Webhook bodies into [`WebhookEvent`]s. Telnyx: the JSON envelope of the spec's `FaxQueued`,
//! `FaxMediaProcessed`, `FaxSendingStarted`, `FaxDelivered` and `FaxFailed` schemas (plus
//! `fax.received` for inbound faxes, documented by Telnyx but absent from the spec). Sinch: the
//! `incomingFax` and `faxCompleted` webhooks, as multipart/form-data (a JSON `fax` part and a PDF
//! `file` part, the default) or as JSON with the file in base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{WebhookError, WebhookEvent};
use crate::fax::InboundMedia;
use crate::fax::multipart;
use crate::fax::sinch::SinchFax;
use crate::fax::status::telnyx_status;

/// The Telnyx event types handled: the outbound ones are the spec's `webhooks`; the inbound
/// ones come from Telnyx's docs (their statuses are in the spec's `Fax.status` enum).
pub const TELNYX_EVENTS: [&str; 8] = [
    "fax.queued",
    "fax.media.processed",
    "fax.sending.started",
    "fax.delivered",
    "fax.failed",
    "fax.receiving.started",
    "fax.media.processing.started",
    "fax.received",
];

/// The Sinch events handled (spec schema `WebhookEvents`).
pub const SINCH_EVENTS: [&str; 2] = ["INCOMING_FAX", "FAX_COMPLETED"];

#[derive(Deserialize)]
struct TelnyxWebhook {
    data: TelnyxEvent,
}

#[derive(Deserialize)]
struct TelnyxEvent {
    event_type: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    occurred_at: Option<String>,
    #[serde(default)]
    payload: TelnyxPayload,
}

#[derive(Default, Deserialize)]
struct TelnyxPayload {
    #[serde(default)]
    fax_id: Option<String>,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    failure_reason: Option<String>,
    #[serde(default)]
    page_count: Option<u32>,
    #[serde(default)]
    media_url: Option<String>,
    #[serde(default)]
    partial_content: Option<bool>,
}

/// Parses a Telnyx webhook body (after [`super::verify_telnyx`]).
pub fn parse_telnyx(raw: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let hook: TelnyxWebhook =
        serde_json::from_slice(raw).map_err(|e| WebhookError::Malformed(format!("not a Telnyx webhook: {e}")))?;
    let (event, p) = (hook.data.event_type, hook.data.payload);
    let occurred_at = hook.data.occurred_at.as_deref().map(time).transpose()?;
    let fax_id = || p.fax_id.clone().ok_or_else(|| WebhookError::Malformed(format!("{event} without a fax_id")));
    let status = match event.as_str() {
        "fax.received" => {
            let media_url = p
                .media_url
                .clone()
                .ok_or_else(|| WebhookError::Malformed("fax.received without a media_url".into()))?;
            return Ok(WebhookEvent::Inbound {
                gateway_id: fax_id()?,
                from: p.from.unwrap_or_default(),
                to: p.to.unwrap_or_default(),
                pages: p.page_count,
                media: InboundMedia::Url(media_url),
                partial: p.partial_content.unwrap_or(false),
            });
        }
        _ if p.direction.as_deref() == Some("inbound") => {
            return Ok(ignored(format!("{event} for an inbound fax (only fax.received is used)")));
        }
        "fax.queued" => "queued",
        "fax.media.processed" => "media.processed",
        "fax.sending.started" => "sending",
        "fax.delivered" => "delivered",
        "fax.failed" => "failed",
        other => return Ok(ignored(format!("Telnyx event {other} is not used"))),
    };
    Ok(WebhookEvent::Status {
        gateway_id: fax_id()?,
        status: telnyx_status(status, p.failure_reason.as_deref(), p.page_count),
        event_id: hook.data.id,
        occurred_at,
    })
}

/// A Sinch webhook, whichever content type it came in.
struct SinchHook {
    event: String,
    event_time: Option<String>,
    fax: Option<SinchFax>,
    /// The document, when it came along and is a PDF.
    file: Option<Vec<u8>>,
}

/// Parses a Sinch webhook body (after [`super::verify_sinch`]) given its Content-Type.
pub fn parse_sinch(content_type: &str, raw: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let hook = if let Some(boundary) = multipart::boundary(content_type) {
        sinch_multipart(raw, &boundary)?
    } else if content_type.trim().to_ascii_lowercase().starts_with("application/json") {
        sinch_json(raw)?
    } else {
        return Err(WebhookError::Malformed(format!(
            "Content-Type {content_type:?}: Sinch webhooks are multipart/form-data or application/json"
        )));
    };
    let occurred_at = hook.event_time.as_deref().map(time).transpose()?;
    let fax = |event: &str| hook.fax.ok_or_else(|| WebhookError::Malformed(format!("{event} without a fax")));
    match hook.event.as_str() {
        "INCOMING_FAX" => {
            let fax = fax("INCOMING_FAX")?;
            if fax.status.as_deref() == Some("FAILURE") {
                return Ok(ignored("an incoming fax that failed before it arrived".into()));
            }
            let media = match hook.file {
                Some(pdf) if !pdf.is_empty() => InboundMedia::Embedded(pdf),
                _ => InboundMedia::Stored { fax_id: fax.id.clone() },
            };
            Ok(WebhookEvent::Inbound {
                from: fax.from.unwrap_or_default(),
                to: fax.to.unwrap_or_default(),
                pages: fax.number_of_pages,
                gateway_id: fax.id,
                media,
                partial: false,
            })
        }
        // The file that comes along is our own outgoing document: dropped, never kept.
        "FAX_COMPLETED" => {
            let fax = fax("FAX_COMPLETED")?;
            Ok(WebhookEvent::Status { status: fax.status(), gateway_id: fax.id, event_id: None, occurred_at })
        }
        other => Ok(ignored(format!("Sinch event {other:?} is not used"))),
    }
}

fn sinch_multipart(raw: &[u8], boundary: &str) -> Result<SinchHook, WebhookError> {
    let parts = multipart::parse(raw, boundary).map_err(WebhookError::Malformed)?;
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    // `event` and `eventTime` may come as plain text or as JSON strings (spec `encoding`)
    let text = |name: &str| field(name).map(|p| String::from_utf8_lossy(p.body).trim().trim_matches('"').to_string());
    let fax = match field("fax") {
        Some(p) => Some(serde_json::from_slice(p.body).map_err(|e| malformed_fax(&e))?),
        None => None,
    };
    let file = field("file").filter(|p| p.body.starts_with(b"%PDF-")).map(|p| p.body.to_vec());
    let event = text("event").ok_or_else(|| WebhookError::Malformed("no event field".into()))?;
    Ok(SinchHook { event, event_time: text("eventTime"), fax, file })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SinchJson {
    event: String,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    fax: Option<serde_json::Value>,
    /// INCOMING_FAX: the document in base64, and its `fileType`.
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    file_type: Option<String>,
}

fn sinch_json(raw: &[u8]) -> Result<SinchHook, WebhookError> {
    let hook: SinchJson =
        serde_json::from_slice(raw).map_err(|e| WebhookError::Malformed(format!("not a Sinch webhook: {e}")))?;
    let fax = hook.fax.map(serde_json::from_value).transpose().map_err(|e| malformed_fax(&e))?;
    let file = match (hook.file, hook.file_type.as_deref()) {
        // anything but a PDF is fetched again through the API, which answers with a PDF
        (Some(b64), None | Some("PDF")) => {
            Some(STANDARD.decode(b64.trim()).map_err(|_| WebhookError::Malformed("the file is not base64".into()))?)
        }
        _ => None,
    };
    Ok(SinchHook { event: hook.event, event_time: hook.event_time, fax, file })
}

fn malformed_fax(e: &serde_json::Error) -> WebhookError {
    WebhookError::Malformed(format!("the fax object does not match the spec's Fax schema: {e}"))
}

fn time(text: &str) -> Result<DateTime<Utc>, WebhookError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| WebhookError::Malformed(format!("{text:?} is not an RFC 3339 time")))
}

fn ignored(why: String) -> WebhookEvent {
    WebhookEvent::Ignored { why }
}
