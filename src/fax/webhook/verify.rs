//! Is this webhook really from the gateway? Telnyx signs `{telnyx-timestamp}|{raw body}` with
//! Ed25519 (headers `telnyx-timestamp`, `telnyx-signature-ed25519`; spec `webhooks`); Sinch sends
//! no signature, only the HTTP Basic credentials we put in the callback URL (spec security
//! scheme `WebhookBasicAuth`). Pure: the caller passes `now`.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use subtle::ConstantTimeEq;

use super::WebhookError;

/// How far `telnyx-timestamp` may be from our clock, either way, before the webhook counts as a
/// replay (or our clock is wrong).
pub const TELNYX_TOLERANCE: TimeDelta = TimeDelta::minutes(5);

/// Checks a Telnyx webhook's signature over the raw bytes received (never re-serialised JSON)
/// with `verify_strict`, and that its timestamp is within [`TELNYX_TOLERANCE`] of `now`.
pub fn verify_telnyx(
    headers: &HeaderMap,
    raw_body: &[u8],
    public_key: &VerifyingKey,
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let header =
        |name: &str| headers.get(name).ok_or_else(|| WebhookError::Unauthenticated(format!("no {name} header")));
    let timestamp = header("telnyx-timestamp")?;
    let signature = header("telnyx-signature-ed25519")?;
    let seconds: i64 = timestamp
        .to_str()
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| WebhookError::Forbidden("telnyx-timestamp is not a Unix time".into()))?;
    let sent = DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| WebhookError::Forbidden("telnyx-timestamp is out of range".into()))?;
    if (now - sent).abs() > TELNYX_TOLERANCE {
        return Err(WebhookError::Forbidden(format!(
            "telnyx-timestamp is {}s away from our clock (at most {}s accepted)",
            (now - sent).num_seconds(),
            TELNYX_TOLERANCE.num_seconds()
        )));
    }
    let signature: [u8; 64] =
        STANDARD.decode(signature.as_bytes()).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
            WebhookError::Forbidden("telnyx-signature-ed25519 is not a base64 Ed25519 signature".into())
        })?;
    let mut message = Vec::with_capacity(timestamp.len() + 1 + raw_body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'|');
    message.extend_from_slice(raw_body);
    public_key
        .verify_strict(&message, &Signature::from_bytes(&signature))
        .map_err(|_| WebhookError::Forbidden("the Ed25519 signature does not match".into()))
}

/// Checks a Sinch webhook's HTTP Basic credentials; user and password are both compared in
/// constant time, so timing tells an attacker nothing about either.
pub fn verify_sinch(headers: &HeaderMap, expected_user: &str, expected_password: &str) -> Result<(), WebhookError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| WebhookError::Unauthenticated("no Authorization header".into()))?;
    let encoded = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials.trim())
        .ok_or_else(|| WebhookError::Unauthenticated("Authorization is not HTTP Basic".into()))?;
    let decoded = STANDARD
        .decode(encoded)
        .map_err(|_| WebhookError::Forbidden("Authorization Basic credentials are not base64".into()))?;
    let colon = decoded.iter().position(|b| *b == b':').unwrap_or(decoded.len());
    let (user, password) = (&decoded[..colon], decoded.get(colon + 1..).unwrap_or_default());
    let matches = user.ct_eq(expected_user.as_bytes()) & password.ct_eq(expected_password.as_bytes());
    if bool::from(matches) { Ok(()) } else { Err(WebhookError::Forbidden("wrong webhook credentials".into())) }
}
