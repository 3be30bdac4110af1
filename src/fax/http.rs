//! The HTTP plumbing the two fax gateway adapters share: a reqwest client with a timeout on
//! every call, and the one place where HTTP outcomes become [`FaxError::Transient`] (try again
//! later) or [`FaxError::Permanent`] (a person must act). Bodies are read with a size cap and
//! never logged: fax documents and vendor answers may carry patient data.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};

/// A failed call to a fax gateway, classified where it happened; callers match on the variant,
/// never on the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaxError {
    /// Timeouts, connection errors, 408, 429 and 5xx: the same call may work later.
    #[error("temporary fax gateway failure: {0}")]
    Transient(String),
    /// Validation (400, 422), authentication (401, 403), payment (402), unknown ids (404), and
    /// jobs we refuse to send: repeating the call will not help.
    #[error("fax gateway refused: {0}")]
    Permanent(String),
}

impl FaxError {
    pub fn is_transient(&self) -> bool {
        matches!(self, FaxError::Transient(_))
    }
}

/// Called with every response's method + URL path, status and headers: lets the contract tests
/// check what the mock server thought of each request. Production code sets none.
pub type ResponseObserver = Arc<dyn Fn(&str, StatusCode, &HeaderMap) + Send + Sync>;

/// Test seams for the contract tests against Prism: extra request headers (`Prefer: code=429`
/// asks the mock for the spec's 429 answer; a replaced `Authorization` provokes a 401) and a
/// response observer. Empty in production.
#[derive(Clone, Default)]
pub struct Hooks {
    pub extra_headers: HeaderMap,
    pub on_response: Option<ResponseObserver>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("extra_headers", &self.extra_headers.keys().collect::<Vec<_>>())
            .field("on_response", &self.on_response.is_some())
            .finish()
    }
}

/// Largest JSON answer we read from a gateway API.
pub const MAX_JSON: usize = 1024 * 1024;
/// Largest fax document we download (Telnyx accepts 50 MB; inbound faxes of hundreds of pages
/// can be tens of MB).
pub const MAX_DOCUMENT: usize = 100 * 1024 * 1024;

/// One gateway's HTTP client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    vendor: &'static str,
    hooks: Hooks,
}

impl Http {
    /// A client whose every call (connect, send, read) ends after `timeout`.
    pub fn new(vendor: &'static str, timeout: Duration, hooks: Hooks) -> Result<Http, String> {
        crate::mail::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("medrec/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the {vendor} HTTP client: {e}"))?;
        Ok(Http { client, vendor, hooks })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request` (one attempt; retrying is the caller's decision) and returns the response
    /// if its status is 2xx, otherwise the classified error. `what` names the operation in
    /// messages ("send", "lookup").
    pub async fn send(&self, what: &str, request: RequestBuilder) -> Result<Response, FaxError> {
        let request = request.headers(self.hooks.extra_headers.clone());
        let response = request.send().await.map_err(|e| self.transport_error(what, &e))?;
        let status = response.status();
        if let Some(observe) = &self.hooks.on_response {
            observe(&format!("{what} {}", response.url().path()), status, response.headers());
        }
        if status.is_success() {
            return Ok(response);
        }
        // The vendor's error text helps whoever fixes a permanent failure; it is short and
        // about our request, not a document.
        let summary = read_capped(response, 16 * 1024).await.ok().and_then(|b| error_summary(&b));
        Err(classify_status(self.vendor, what, status, summary.as_deref()))
    }

    /// Reads a JSON answer.
    pub async fn json<T: serde::de::DeserializeOwned>(&self, what: &str, response: Response) -> Result<T, FaxError> {
        let body = read_capped(response, MAX_JSON).await.map_err(|e| self.read_error(what, e))?;
        serde_json::from_slice(&body).map_err(|e| {
            FaxError::Permanent(format!("{} {what}: unexpected answer (not the documented JSON: {e})", self.vendor))
        })
    }

    /// Reads a document, at most [`MAX_DOCUMENT`] bytes.
    pub async fn document(&self, what: &str, response: Response) -> Result<Vec<u8>, FaxError> {
        read_capped(response, MAX_DOCUMENT).await.map_err(|e| self.read_error(what, e))
    }

    fn transport_error(&self, what: &str, e: &reqwest::Error) -> FaxError {
        let vendor = self.vendor;
        if e.is_builder() {
            FaxError::Permanent(format!("{vendor} {what}: bad request: {e}"))
        } else if e.is_timeout() {
            FaxError::Transient(format!("{vendor} {what}: timed out"))
        } else if e.is_connect() {
            FaxError::Transient(format!("{vendor} {what}: cannot connect: {}", root_cause(e)))
        } else {
            FaxError::Transient(format!("{vendor} {what}: {}", root_cause(e)))
        }
    }

    fn read_error(&self, what: &str, e: ReadError) -> FaxError {
        match e {
            ReadError::TooLarge(limit) => {
                FaxError::Permanent(format!("{} {what}: answer larger than {} MB", self.vendor, limit / (1024 * 1024)))
            }
            ReadError::Http(e) if e.is_timeout() => FaxError::Transient(format!("{} {what}: timed out", self.vendor)),
            ReadError::Http(e) => {
                FaxError::Transient(format!("{} {what}: reading the answer: {}", self.vendor, root_cause(&e)))
            }
        }
    }
}

/// The deepest error message in a chain ("connection refused" rather than "error sending request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Classifies a non-2xx answer. Pure, so the table is unit-tested.
pub fn classify_status(vendor: &str, what: &str, status: StatusCode, summary: Option<&str>) -> FaxError {
    let detail = summary.map(|s| format!(" ({s})")).unwrap_or_default();
    let message = format!("{vendor} {what}: HTTP {status}{detail}");
    match status.as_u16() {
        408 | 429 | 500..=599 => FaxError::Transient(message),
        401 | 403 => FaxError::Permanent(format!("{message}; check the API credentials")),
        402 => FaxError::Permanent(format!("{message}; the account needs funds")),
        _ => FaxError::Permanent(message),
    }
}

/// A one-line summary of a vendor's error body: Telnyx `errors[0].title/detail`, Sinch
/// `message`, or an RFC 9457 problem's `title`/`detail`. Capped at 200 characters.
pub fn error_summary(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let first = v.get("errors").and_then(|e| e.get(0));
    let parts: Vec<String> = match first {
        Some(e) => [text(e, "title"), text(e, "detail")].into_iter().flatten().collect(),
        None => [text(&v, "title").or_else(|| text(&v, "message")), text(&v, "detail")].into_iter().flatten().collect(),
    };
    let joined = parts.join(": ");
    (!joined.is_empty()).then(|| joined.chars().take(200).collect())
}

enum ReadError {
    TooLarge(usize),
    Http(reqwest::Error),
}

async fn read_capped(mut response: Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Http)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(code: u16) -> bool {
        classify_status("Telnyx", "send", StatusCode::from_u16(code).unwrap(), None).is_transient()
    }

    #[test]
    fn status_codes_are_classified() {
        for transient in [408, 429, 500, 502, 503, 504] {
            assert!(class(transient), "{transient} should be transient");
        }
        for permanent in [400, 401, 402, 403, 404, 409, 413, 422] {
            assert!(!class(permanent), "{permanent} should be permanent");
        }
    }

    #[test]
    fn summaries_of_vendor_errors() {
        let telnyx = br#"{"errors":[{"code":"422","title":"Unprocessable Entity","detail":"bad to"}]}"#;
        assert_eq!(error_summary(telnyx).as_deref(), Some("Unprocessable Entity: bad to"));
        let sinch = br#"{"code":400,"status":"INVALID_ARGUMENT","message":"Bad request."}"#;
        assert_eq!(error_summary(sinch).as_deref(), Some("Bad request."));
        let problem = br#"{"type":"x","title":"Invalid request","status":422,"detail":"missing to"}"#;
        assert_eq!(error_summary(problem).as_deref(), Some("Invalid request: missing to"));
        assert_eq!(error_summary(b"<html>oops</html>"), None);
        let m = classify_status("Sinch", "send", StatusCode::UNAUTHORIZED, Some("nope")).to_string();
        assert!(m.contains("HTTP 401") && m.contains("(nope)") && m.contains("credentials"), "{m}");
    }
}
