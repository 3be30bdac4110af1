//! Telnyx Programmable Fax (`https://api.telnyx.com/v2`, spec `telnyx-fax.yaml`): send with
//! `POST /faxes` as multipart/form-data (schema `SendFaxMultipartRequest`, the PDF in
//! `contents`; never a public `media_url`), look up with `GET /faxes/{id}`, and fetch inbound
//! documents from the `media_url` of `fax.received`. Bearer API key.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::http::{FaxError, Hooks, Http};
use super::settings::TelnyxSettings;
use super::{FaxJob, FaxStatus, Submitted};

/// Telnyx refuses multipart `contents` above 20 MB (spec: `SendFaxMultipartRequest.contents`).
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;

pub struct Telnyx {
    http: Http,
    base_url: String,
    api_key: SecretString,
    connection_id: String,
    from: String,
    quality: Option<String>,
    retry_schedule: Vec<Duration>,
}

impl std::fmt::Debug for Telnyx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telnyx").field("base_url", &self.base_url).field("from", &self.from).finish_non_exhaustive()
    }
}

/// `{"data": Fax}` (spec: Send Fax Response, Get Fax Response).
#[derive(Deserialize)]
struct Envelope {
    data: Fax,
}

/// `{"data": [Fax], "meta": ...}` (spec: List Faxes Response).
#[derive(Deserialize)]
struct List {
    data: Vec<Fax>,
}

/// The fields of the spec's `Fax` schema we use. `failure_reason` and `page_count` are not in
/// the schema but are read when the live API sends them (the webhooks carry them).
#[derive(Deserialize)]
struct Fax {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    failure_reason: Option<String>,
    #[serde(default)]
    page_count: Option<u32>,
    #[serde(default)]
    client_state: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

impl Telnyx {
    /// Reads the API key now, so a missing secret stops start-up.
    pub fn new(settings: &TelnyxSettings, hooks: Hooks) -> Result<Telnyx, String> {
        let api_key = settings.api_key.load().map_err(|e| format!("fax.telnyx API key: {e}"))?;
        Ok(Telnyx {
            http: Http::new("Telnyx", settings.timeout, hooks)?,
            base_url: settings.base_url.clone(),
            api_key,
            connection_id: settings.connection_id.clone(),
            from: settings.from.clone(),
            quality: settings.quality.clone(),
            retry_schedule: settings.retry_schedule.clone(),
        })
    }

    pub fn retry_schedule(&self) -> &[Duration] {
        &self.retry_schedule
    }

    /// `POST /faxes` (operation `SendFax`), answered `202 {"data": Fax}`.
    pub async fn submit(&self, job: &FaxJob) -> Result<Submitted, FaxError> {
        if job.pdf.len() > MAX_UPLOAD {
            return Err(FaxError::Permanent(format!(
                "the document is {} MB; Telnyx takes at most 20 MB per upload",
                job.pdf.len() / (1024 * 1024)
            )));
        }
        let contents = Part::bytes(job.pdf.clone())
            .file_name(format!("{}.pdf", job.reference))
            .mime_str("application/pdf")
            .map_err(|e| FaxError::Permanent(format!("Telnyx send: {e}")))?;
        let mut form = Form::new()
            .text("connection_id", self.connection_id.clone())
            .text("from", self.from.clone())
            .text("to", job.to.clone())
            // Not listed in SendFaxMultipartRequest (which allows extra fields); documented for
            // the JSON request and echoed in every webhook, so Telnyx's logs show our reference.
            .text("client_state", base64::engine::general_purpose::STANDARD.encode(&job.reference))
            .part("contents", contents);
        if let Some(q) = &self.quality {
            form = form.text("quality", q.clone());
        }
        let request =
            self.http.client().post(format!("{}/faxes", self.base_url)).bearer_auth(self.key()).multipart(form);
        let response = self.http.send("send", request).await?;
        let answer: Envelope = self.http.json("send", response).await?;
        Ok(Submitted { gateway_id: answer.data.id })
    }

    /// `GET /faxes/{id}` (operation `ViewFax`).
    pub async fn lookup(&self, gateway_id: &str) -> Result<FaxStatus, FaxError> {
        if !is_uuid(gateway_id) {
            return Err(FaxError::Permanent(format!("{gateway_id:?} is not a Telnyx fax id (a UUID)")));
        }
        let request = self.http.client().get(format!("{}/faxes/{gateway_id}", self.base_url)).bearer_auth(self.key());
        let response = self.http.send("lookup", request).await?;
        let fax = self.http.json::<Envelope>("lookup", response).await?.data;
        let status = fax.status.as_deref().unwrap_or("queued");
        Ok(super::status::telnyx_status(status, fax.failure_reason.as_deref(), fax.page_count))
    }

    /// Finds the fax an attempt created when its send timed out: `GET /faxes` (operation
    /// `ListFaxes`) filtered to outbound faxes to `job.to` created since `since`, keeping those
    /// whose `client_state` is ours (or absent). Telnyx has no idempotency key for faxes, so two
    /// candidates are reported as a permanent error (a person checks the portal) rather than guessed.
    pub async fn find_sent(&self, job: &FaxJob, since: DateTime<Utc>) -> Result<Option<Submitted>, FaxError> {
        let since_text = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let query = [
            ("filter[direction][eq]", "outbound"),
            ("filter[to][eq]", job.to.as_str()),
            ("filter[created_at][gte]", since_text.as_str()),
            ("page[size]", "20"),
        ];
        let request = self.http.client().get(format!("{}/faxes", self.base_url)).query(&query).bearer_auth(self.key());
        let response = self.http.send("find", request).await?;
        let faxes = self.http.json::<List>("find", response).await?.data;
        let ours = base64::engine::general_purpose::STANDARD.encode(&job.reference);
        match candidates(faxes, &ours, since).as_slice() {
            [] => Ok(None),
            [fax] => Ok(Some(Submitted { gateway_id: fax.id.clone() })),
            many => Err(FaxError::Permanent(format!(
                "{} faxes to {} since {since_text} may be this attempt; check the Telnyx portal before resending",
                many.len(),
                job.to
            ))),
        }
    }

    /// Fetches an inbound fax from its `media_url`: a pre-signed link, so no API key is sent
    /// (it must not leak to the storage host). Links expire after minutes; an expired one
    /// answers 403 (Permanent) and needs `POST /faxes/{id}/actions/refresh`.
    pub async fn download(&self, media_url: &str) -> Result<Vec<u8>, FaxError> {
        let url = reqwest::Url::parse(media_url)
            .map_err(|_| FaxError::Permanent("Telnyx download: the media_url is not a URL".into()))?;
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(FaxError::Permanent("Telnyx download: the media_url is not https".into()));
        }
        let response = self.http.send("download", self.http.client().get(url)).await?;
        self.http.document("download", response).await
    }

    /// Proves the API key works without changing anything (for `medrec doctor`): `GET /faxes`
    /// (operation `ListFaxes`) asking for one fax; the answer is read as JSON and then ignored.
    pub async fn check(&self) -> Result<String, FaxError> {
        let request = self
            .http
            .client()
            .get(format!("{}/faxes", self.base_url))
            .query(&[("page[size]", "1")])
            .bearer_auth(self.key());
        let response = self.http.send("check", request).await?;
        self.http.json::<serde_json::Value>("check", response).await?;
        Ok(format!("{}: API key accepted (GET /faxes)", self.base_url))
    }

    fn key(&self) -> &str {
        self.api_key.expose_secret()
    }
}

/// The listed faxes that may be ours: our `client_state` (or none echoed), created since `since`
/// (the server filters too; this guards against a server that ignores the filter).
fn candidates(faxes: Vec<Fax>, ours: &str, since: DateTime<Utc>) -> Vec<Fax> {
    faxes
        .into_iter()
        .filter(|f| f.client_state.as_deref().is_none_or(|c| c == ours))
        .filter(|f| {
            let created = f.created_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            created.is_none_or(|t| t >= since)
        })
        .collect()
}

/// 8-4-4-4-12 hex digits: what the spec's `format: uuid` id accepts.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_our_recent_faxes_are_candidates() {
        let fax = |id: &str, state: Option<&str>, created: &str| super::Fax {
            id: id.into(),
            status: None,
            failure_reason: None,
            page_count: None,
            client_state: state.map(str::to_string),
            created_at: Some(created.into()),
        };
        let since = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc();
        let listed = vec![
            fax("ours", Some("TVItMTAwMQ=="), "2026-11-23T10:00:05Z"),
            fax("someone-else", Some("TVItMTAwMg=="), "2026-11-23T10:00:06Z"),
            fax("older", Some("TVItMTAwMQ=="), "2026-11-23T09:59:59Z"),
            fax("no-state", None, "2026-11-23T10:01:00+00:00"),
        ];
        let ids: Vec<String> = super::candidates(listed, "TVItMTAwMQ==", since).into_iter().map(|f| f.id).collect();
        assert_eq!(ids, ["ours", "no-state"]);
    }

    #[test]
    fn fax_ids_are_uuids() {
        assert!(super::is_uuid("0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"));
        assert!(!super::is_uuid("0ccc7b54-4df3-4bca-a65a-3da1ecc777f"));
        assert!(!super::is_uuid("../../faxes"));
        assert!(!super::is_uuid("MR-1001-a1.pdf"));
    }
}
