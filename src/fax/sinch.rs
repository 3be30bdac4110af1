//! Sinch Fax API v3 (`https://fax.api.sinch.com`, spec `sinch-fax-v3.yaml`): send with
//! `POST /v3/projects/{projectId}/faxes` as multipart/form-data (`to`, the PDF in `file`,
//! `labels[...]`, `callbackUrl`), look up with `GET .../faxes/{id}`, download with
//! `GET .../faxes/{id}/file`. HTTP Basic with the access key id and secret.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::http::{FaxError, Hooks, Http};
use super::settings::SinchSettings;
use super::{FaxJob, FaxStatus, Submitted};

pub struct Sinch {
    http: Http,
    base_url: String,
    project_id: String,
    key_id: String,
    key_secret: SecretString,
    from: Option<String>,
    /// `callback_url` with the webhook credentials written in, as Sinch wants them.
    callback_url: Option<SecretString>,
    retry_schedule: Vec<Duration>,
}

impl std::fmt::Debug for Sinch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sinch")
            .field("base_url", &self.base_url)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

/// The fields of the spec's `Fax` schema we use (answers and webhooks alike).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SinchFax {
    pub id: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub number_of_pages: Option<u32>,
    #[serde(default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error_code: Option<i64>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub labels: std::collections::HashMap<String, String>,
}

impl SinchFax {
    pub fn status(&self) -> FaxStatus {
        super::status::sinch_status(
            self.status.as_deref().unwrap_or("QUEUED"),
            self.error_type.as_deref(),
            self.error_code,
            self.error_message.as_deref(),
            self.number_of_pages,
        )
    }
}

/// `{"faxes": [Fax], ...}` (spec schema `ListFaxesObject`).
#[derive(Deserialize)]
struct List {
    #[serde(default)]
    faxes: Vec<SinchFax>,
}

/// The send answer: one Fax, or (newer API versions, several recipients) an array of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(SinchFax),
    Many(Vec<SinchFax>),
}

impl Sinch {
    /// Reads the key secret and webhook password now, so a missing secret stops start-up.
    pub fn new(settings: &SinchSettings, hooks: Hooks) -> Result<Sinch, String> {
        let key_secret = settings.key_secret.load().map_err(|e| format!("fax.sinch key secret: {e}"))?;
        let callback_url = match &settings.callback_url {
            None => None,
            Some(url) => {
                let password =
                    settings.webhook_password.load().map_err(|e| format!("fax.sinch webhook password: {e}"))?;
                let mut url = url.clone();
                url.set_username(&settings.webhook_user)
                    .and_then(|()| url.set_password(Some(password.expose_secret())))
                    .map_err(|()| "fax.sinch.callback_url cannot carry credentials".to_string())?;
                Some(SecretString::from(url.to_string()))
            }
        };
        Ok(Sinch {
            http: Http::new("Sinch", settings.timeout, hooks)?,
            base_url: settings.base_url.clone(),
            project_id: settings.project_id.clone(),
            key_id: settings.key_id.clone(),
            key_secret,
            from: settings.from.clone(),
            callback_url,
            retry_schedule: settings.retry_schedule.clone(),
        })
    }

    pub fn retry_schedule(&self) -> &[Duration] {
        &self.retry_schedule
    }

    /// `POST /v3/projects/{projectId}/faxes` (operation `sendFax`), answered 200 with the Fax.
    pub async fn submit(&self, job: &FaxJob) -> Result<Submitted, FaxError> {
        let file = Part::bytes(job.pdf.clone())
            .file_name(format!("{}.pdf", job.reference))
            .mime_str("application/pdf")
            .map_err(|e| FaxError::Permanent(format!("Sinch send: {e}")))?;
        // Labels in multipart are `labels[key] = value` (spec schema `Labels`).
        let mut form = Form::new()
            .text("to", job.to.clone())
            .text("labels[reference]", job.reference.clone())
            .text("labels[idempotencyKey]", job.idempotency_key.clone())
            .part("file", file);
        if let Some(from) = &self.from {
            form = form.text("from", from.clone());
        }
        if let Some(url) = &self.callback_url {
            form = form.text("callbackUrl", url.expose_secret().to_string());
        }
        let request = self.authorized(self.http.client().post(self.url("faxes"))).multipart(form);
        let response = self.http.send("send", request).await?;
        let fax = match self.http.json::<OneOrMany>("send", response).await? {
            OneOrMany::One(fax) => fax,
            OneOrMany::Many(faxes) => faxes
                .into_iter()
                .next()
                .ok_or_else(|| FaxError::Permanent("Sinch send: accepted, but no fax in the answer".into()))?,
        };
        Ok(Submitted { gateway_id: fax.id })
    }

    /// `GET /v3/projects/{projectId}/faxes/{id}` (operation `getFaxInfoPerId`).
    pub async fn lookup(&self, gateway_id: &str) -> Result<FaxStatus, FaxError> {
        check_id(gateway_id)?;
        let request = self.authorized(self.http.client().get(self.url(&format!("faxes/{gateway_id}"))));
        let response = self.http.send("lookup", request).await?;
        Ok(self.http.json::<SinchFax>("lookup", response).await?.status())
    }

    /// Finds the fax an attempt created when its send timed out: `GET .../faxes` (operation
    /// `getFaxes`) for outbound faxes to `job.to`, filtered by our `idempotencyKey` label (sent
    /// as the spec's exploded `labels` query object, and checked again here).
    pub async fn find_sent(&self, job: &FaxJob) -> Result<Option<Submitted>, FaxError> {
        let query = [
            ("direction", "OUTBOUND"),
            ("to", job.to.as_str()),
            ("idempotencyKey", job.idempotency_key.as_str()),
            ("pageSize", "100"),
        ];
        let request = self.authorized(self.http.client().get(self.url("faxes"))).query(&query);
        let response = self.http.send("find", request).await?;
        let list = self.http.json::<List>("find", response).await?;
        let mut ours = list.faxes.into_iter().filter(|f| f.labels.get("idempotencyKey") == Some(&job.idempotency_key));
        Ok(ours.next().map(|f| Submitted { gateway_id: f.id }))
    }

    /// `GET /v3/projects/{projectId}/faxes/{id}/file` (operation `getFaxFilebyId`): the PDF.
    pub async fn download(&self, fax_id: &str) -> Result<Vec<u8>, FaxError> {
        check_id(fax_id)?;
        let request = self
            .authorized(self.http.client().get(self.url(&format!("faxes/{fax_id}/file"))))
            .header(reqwest::header::ACCEPT, "application/pdf");
        let response = self.http.send("download", request).await?;
        self.http.document("download", response).await
    }

    /// Proves the access key and project id work without changing anything (for `medrec doctor`):
    /// `GET .../faxes` (operation `getFaxes`) asking for one fax; the answer is read and ignored.
    pub async fn check(&self) -> Result<String, FaxError> {
        let request = self.authorized(self.http.client().get(self.url("faxes"))).query(&[("pageSize", "1")]);
        let response = self.http.send("check", request).await?;
        self.http.json::<serde_json::Value>("check", response).await?;
        Ok(format!("{}: access key accepted for project {} (GET faxes)", self.base_url, self.project_id))
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/v3/projects/{}/{tail}", self.base_url, self.project_id)
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(&self.key_id, Some(self.key_secret.expose_secret()))
    }
}

/// Sinch fax ids are ULIDs; anything else must not reach a URL path.
fn check_id(id: &str) -> Result<(), FaxError> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(FaxError::Permanent(format!("{id:?} is not a Sinch fax id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fax_ids_never_reach_the_path_unchecked() {
        assert!(check_id("01HDF5S9P29WC29J578J8EKC1C").is_ok());
        assert!(check_id("../services").is_err());
        assert!(check_id("").is_err());
    }

    #[test]
    fn send_answers_of_either_shape() {
        let one: OneOrMany = serde_json::from_str(r#"{"id":"01A","status":"QUEUED"}"#).unwrap();
        assert!(matches!(one, OneOrMany::One(f) if f.id == "01A"));
        let many: OneOrMany = serde_json::from_str(r#"[{"id":"01B"}]"#).unwrap();
        assert!(matches!(many, OneOrMany::Many(v) if v[0].id == "01B"));
    }
}
