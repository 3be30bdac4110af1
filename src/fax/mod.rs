//! Fax gateways: Telnyx, Sinch Fax API v3, and a directory of PDFs as the local stand-in.
//!
//! [`FaxGateway`] is a closed enum over the three; the daemon calls [`FaxGateway::submit`],
//! [`FaxGateway::lookup`] (the polling fallback for webhooks), [`FaxGateway::find_sent`] (before
//! any resend after a timeout) and [`FaxGateway::download`] (inbound faxes). Every HTTP call has a timeout and every
//! failure arrives classified as [`FaxError::Transient`] or [`FaxError::Permanent`]; a fax that
//! failed on the line is a [`FaxStatus::Failed`] with a [`FailureClass`], and [`next_retry`]
//! says when to try again. The [`webhook`] module verifies and parses the gateways' callbacks
//! (pure functions) and serves them with axum. PDFs are uploaded, never exposed at a public URL,
//! and no document or vendor body is ever logged.
//!
//! - [`status`]: the normalised status and the pure vendor-to-status mappings;
//! - [`telnyx`], [`sinch`], [`directory`]: one adapter each; [`http`]: their shared client;
//! - [`settings`]: the `[fax]` config section; [`retry`]: our retry schedule.

pub mod directory;
pub mod http;
mod multipart;
pub mod retry;
pub mod settings;
pub mod sinch;
pub mod status;
pub mod telnyx;
pub mod webhook;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use directory::Directory;
pub use http::{FaxError, Hooks};
pub use retry::next_retry;
pub use settings::FaxSettings;
pub use sinch::Sinch;
pub use status::{FailureClass, FaxStatus};
pub use telnyx::Telnyx;

/// One fax to send.
#[derive(Clone)]
pub struct FaxJob {
    /// The recipient, E.164 (`+18595550100`).
    pub to: String,
    /// The whole document, one PDF.
    pub pdf: Vec<u8>,
    /// Our request reference (`MR-1001`), shown to the gateway as Telnyx `client_state` /
    /// Sinch `labels[reference]` so its dashboard can be searched. Letters, digits, `-`, `_`.
    pub reference: String,
    /// Unique per (request, attempt): names the stand-in's file and is a Sinch label, so a
    /// resend after a crash can be recognised. Letters, digits, `-`, `_`.
    pub idempotency_key: String,
}

impl std::fmt::Debug for FaxJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaxJob")
            .field("to", &self.to)
            .field("pdf", &format_args!("{} bytes", self.pdf.len()))
            .field("reference", &self.reference)
            .field("idempotency_key", &self.idempotency_key)
            .finish()
    }
}

/// The gateway accepted the fax; `gateway_id` finds it again (lookups, webhooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub gateway_id: String,
}

/// Where an inbound fax's document is.
#[derive(Clone, PartialEq, Eq)]
pub enum InboundMedia {
    /// Telnyx `fax.received` `media_url`: a short-lived link fetched without our API key.
    Url(String),
    /// The document came inside the webhook (Sinch's `file` part or base64 `file`).
    Embedded(Vec<u8>),
    /// Kept by the gateway: Sinch `GET /v3/projects/{projectId}/faxes/{id}/file`.
    Stored { fax_id: String },
}

impl std::fmt::Debug for InboundMedia {
    // Media links carry access tokens and documents carry patient data: show neither.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InboundMedia::Url(u) => {
                let host = reqwest::Url::parse(u).ok().and_then(|u| u.host_str().map(str::to_string));
                write!(f, "Url(https://{}/…)", host.unwrap_or_default())
            }
            InboundMedia::Embedded(b) => write!(f, "Embedded({} bytes)", b.len()),
            InboundMedia::Stored { fax_id } => write!(f, "Stored {{ fax_id: {fax_id:?} }}"),
        }
    }
}

/// The configured fax gateway.
#[derive(Debug)]
pub enum FaxGateway {
    Telnyx(Telnyx),
    Sinch(Sinch),
    Directory(Directory),
}

impl FaxGateway {
    /// Builds the gateway, reading its secrets now so a missing one stops start-up.
    pub fn new(settings: &FaxSettings) -> Result<FaxGateway, String> {
        FaxGateway::with_hooks(settings, Hooks::default())
    }

    /// [`FaxGateway::new`] with test hooks (extra headers, a response observer).
    pub fn with_hooks(settings: &FaxSettings, hooks: Hooks) -> Result<FaxGateway, String> {
        Ok(match settings {
            FaxSettings::Directory { path } => FaxGateway::Directory(Directory::new(path)?),
            FaxSettings::Telnyx(t) => FaxGateway::Telnyx(Telnyx::new(t, hooks)?),
            FaxSettings::Sinch(s) => FaxGateway::Sinch(Sinch::new(s, hooks)?),
        })
    }

    /// `telnyx`, `sinch` or `directory`: for logs and the store.
    pub fn name(&self) -> &'static str {
        match self {
            FaxGateway::Telnyx(_) => "telnyx",
            FaxGateway::Sinch(_) => "sinch",
            FaxGateway::Directory(_) => "directory",
        }
    }

    /// Sends one fax (one attempt). A `Transient` error after the request left (a timeout) may
    /// still mean the gateway accepted it.
    pub async fn submit(&self, job: &FaxJob) -> Result<Submitted, FaxError> {
        check_job(job)?;
        match self {
            FaxGateway::Telnyx(t) => t.submit(job).await,
            FaxGateway::Sinch(s) => s.submit(job).await,
            FaxGateway::Directory(d) => d.submit(job).await,
        }
    }

    /// Where the fax `gateway_id` stands now.
    pub async fn lookup(&self, gateway_id: &str) -> Result<FaxStatus, FaxError> {
        match self {
            FaxGateway::Telnyx(t) => t.lookup(gateway_id).await,
            FaxGateway::Sinch(s) => s.lookup(gateway_id).await,
            FaxGateway::Directory(d) => d.lookup(gateway_id),
        }
    }

    /// After a `submit` that failed with [`FaxError::Transient`] (a timeout may mean the gateway
    /// took it), finds the fax that attempt created, so it is followed rather than sent twice.
    /// `since` is when the attempt started. `Ok(None)`: nothing arrived; send again.
    pub async fn find_sent(&self, job: &FaxJob, since: DateTime<Utc>) -> Result<Option<Submitted>, FaxError> {
        match self {
            FaxGateway::Telnyx(t) => t.find_sent(job, since).await,
            FaxGateway::Sinch(s) => s.find_sent(job).await,
            FaxGateway::Directory(d) => Ok(d.find_sent(job)),
        }
    }

    /// An inbound fax's document (PDF).
    pub async fn download(&self, media: &InboundMedia) -> Result<Vec<u8>, FaxError> {
        match (self, media) {
            (_, InboundMedia::Embedded(bytes)) => Ok(bytes.clone()),
            (FaxGateway::Telnyx(t), InboundMedia::Url(url)) => t.download(url).await,
            (FaxGateway::Sinch(s), InboundMedia::Stored { fax_id }) => s.download(fax_id).await,
            (gateway, media) => {
                Err(FaxError::Permanent(format!("{media:?} cannot be downloaded from the {} gateway", gateway.name())))
            }
        }
    }

    /// Proves the gateway can be used without sending anything (for `medrec doctor`): a
    /// read-only API call with the credentials, or for the directory a probe file written and
    /// removed. `Ok` says what was proven.
    pub async fn check(&self) -> Result<String, FaxError> {
        match self {
            FaxGateway::Telnyx(t) => t.check().await,
            FaxGateway::Sinch(s) => s.check().await,
            FaxGateway::Directory(d) => {
                let dir = d.path().to_path_buf();
                tokio::task::spawn_blocking(move || {
                    // A dot-file: nothing reading the folder takes it for a fax.
                    let probe = crate::mail::files::write_atomically(&dir, ".medrec-doctor-probe", b"")?;
                    std::fs::remove_file(probe)
                })
                .await
                .map_err(|e| FaxError::Transient(format!("fax directory writer failed: {e}")))?
                .map(|()| "writable (faxes are written there as PDFs, not sent)".to_string())
                .map_err(|e| FaxError::Permanent(format!("cannot write into {}: {e}", d.path().display())))
            }
        }
    }

    /// The waits between attempts after a retryable failure.
    pub fn retry_schedule(&self) -> &[Duration] {
        match self {
            FaxGateway::Telnyx(t) => t.retry_schedule(),
            FaxGateway::Sinch(s) => s.retry_schedule(),
            FaxGateway::Directory(_) => &retry::DEFAULT_SCHEDULE,
        }
    }
}

/// E.164: `+`, then 8 to 15 digits, the first not 0.
pub fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
}

/// A reference or key we put into file names, form fields and labels.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Refuses a job no gateway could send, before anything goes out.
fn check_job(job: &FaxJob) -> Result<(), FaxError> {
    if !is_e164(&job.to) {
        return Err(FaxError::Permanent(format!("fax number {:?} is not E.164 (like +18595550100)", job.to)));
    }
    if !job.pdf.starts_with(b"%PDF-") {
        return Err(FaxError::Permanent("the document is not a PDF".into()));
    }
    if !is_token(&job.reference) || !is_token(&job.idempotency_key) {
        return Err(FaxError::Permanent(format!(
            "reference {:?} / idempotency key {:?}: use letters, digits, '-' and '_' only",
            job.reference, job.idempotency_key
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> FaxJob {
        FaxJob {
            to: "+18595550100".into(),
            pdf: b"%PDF-1.7\n...".to_vec(),
            reference: "MR-1001".into(),
            idempotency_key: "o42-a1".into(),
        }
    }

    #[test]
    fn e164_numbers() {
        assert!(is_e164("+18595550100"));
        assert!(is_e164("+442071838750"));
        for bad in ["18595550100", "+1859555010O", "+0123456789", "+1234567", "+1234567890123456", "+1 859 555 0100"] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn jobs_are_checked_before_sending() {
        assert_eq!(check_job(&job()), Ok(()));
        let bad = [
            FaxJob { to: "859-555-0100".into(), ..job() },
            FaxJob { pdf: b"GIF89a".to_vec(), ..job() },
            FaxJob { reference: "../MR-1".into(), ..job() },
            FaxJob { idempotency_key: String::new(), ..job() },
        ];
        for j in bad {
            assert!(matches!(check_job(&j), Err(FaxError::Permanent(_))), "{j:?}");
        }
    }

    #[test]
    fn debug_output_hides_documents_and_media_links() {
        let shown = format!("{:?}", job());
        assert!(shown.contains("12 bytes") && !shown.contains("PDF"), "{shown}");
        let url = InboundMedia::Url("https://s3.amazonaws.com/f.pdf?X-Amz-Signature=abc".into());
        assert_eq!(format!("{url:?}"), "Url(https://s3.amazonaws.com/…)");
        assert_eq!(format!("{:?}", InboundMedia::Embedded(vec![1, 2])), "Embedded(2 bytes)");
    }
}
