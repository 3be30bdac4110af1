//! The fax gateways against real things: the adapters' HTTP against Prism mock servers of the
//! vendors' own OpenAPI documents (`scripts/prism.sh up`; no mocks of our own for the contract),
//! webhook signatures with a real Ed25519 key, webhook payloads built field by field from the
//! specs' schemas (and a check that every vendor word the parser knows is in the spec), the
//! webhook router on a real socket, and the directory stand-in on a real file system.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::{Signer, SigningKey};
use medrec::config::SecretSource;
use medrec::fax::settings::{FaxSettings, SinchSettings, TelnyxSettings};
use medrec::fax::status::{SINCH_ERROR_TYPES, SINCH_NAMED_CODES, SINCH_STATUSES, TELNYX_STATUSES};
use medrec::fax::webhook::{
    SINCH_EVENTS, SinchWebhook, TELNYX_EVENTS, WebhookError, WebhookEvent, WebhookState, parse_sinch, parse_telnyx,
    router, verify_sinch, verify_telnyx,
};
use medrec::fax::{FailureClass, FaxError, FaxGateway, FaxJob, FaxStatus, Hooks, InboundMedia};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

// ---------------------------------------------------------------------------------------------
// The rig

/// True when running in CI, where a missing prerequisite is a failure, not a skip.
fn in_ci() -> bool {
    #[allow(clippy::disallowed_methods)]
    let ci = std::env::var("CI");
    ci.is_ok_and(|v| v == "true" || v == "1")
}

/// The Prism mock servers from `scripts/prism.sh up`, read from the env file it writes
/// (`$MEDREC_TEST_PRISM_ENV`); `None`, with a message, when they are not running (a failure in CI).
struct Prism {
    telnyx: String,
    sinch: String,
}

fn prism() -> Option<Prism> {
    #[allow(clippy::disallowed_methods)]
    let file = std::env::var("MEDREC_TEST_PRISM_ENV").ok();
    let Some(text) = file.as_deref().and_then(|f| std::fs::read_to_string(f).ok()) else {
        let msg = "skipped: no Prism mock servers (run `bash scripts/prism.sh up` and set \
                   MEDREC_TEST_PRISM_ENV=/tmp/medrec-prism/env, or run `bash scripts/test.sh`)";
        assert!(!in_ci(), "{msg}");
        eprintln!("{msg}");
        return None;
    };
    let vars: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k, v.trim_matches('"')))
        .collect();
    let get = |k: &str| vars.get(k).unwrap_or_else(|| panic!("{k} missing from the Prism env file")).to_string();
    Some(Prism { telnyx: get("PRISM_TELNYX_URL"), sinch: get("PRISM_SINCH_URL") })
}

/// One response the adapter saw: operation and path, status, Prism's `sl-violations` header.
type Observed = (String, u16, Option<String>);

/// Every response the adapter saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Observed>>>);

impl Seen {
    fn hooks(&self, extra: &[(&str, &str)]) -> Hooks {
        let mut extra_headers = HeaderMap::new();
        for (k, v) in extra {
            extra_headers.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        let log = self.0.clone();
        let on_response: medrec::fax::http::ResponseObserver = Arc::new(move |what, status, headers| {
            let violations = headers.get("sl-violations").map(|v| v.to_str().unwrap_or("?").to_string());
            log.lock().unwrap().push((what.to_string(), status.as_u16(), violations));
        });
        Hooks { extra_headers, on_response: Some(on_response) }
    }

    /// Asserts Prism found nothing wrong with any request and answered every one with 2xx.
    fn assert_clean(&self, calls: usize) {
        let seen = self.0.lock().unwrap();
        assert_eq!(seen.len(), calls, "responses seen: {seen:?}");
        for (what, status, violations) in seen.iter() {
            assert_eq!(violations, &None, "{what}: the mock server reports spec violations");
            assert!((200..300).contains(status), "{what}: HTTP {status}");
        }
    }
}

const SIGNING_KEY: [u8; 32] = [7; 32];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn job() -> FaxJob {
    FaxJob {
        to: "+18595550100".into(),
        pdf: PDF.to_vec(),
        reference: "MR-1001".into(),
        idempotency_key: "o7-a1".into(),
    }
}

fn telnyx(base_url: &str, dir: &Path, hooks: Hooks) -> FaxGateway {
    let settings = FaxSettings::Telnyx(TelnyxSettings {
        api_key: SecretSource::File(common::secret_file(dir, "telnyx-key", "KEY0123456789")),
        connection_id: "234423".into(),
        from: "+18595550199".into(),
        base_url: base_url.into(),
        public_key: SigningKey::from_bytes(&SIGNING_KEY).verifying_key(),
        quality: Some("high".into()),
        timeout: Duration::from_secs(10),
        retry_schedule: medrec::fax::retry::DEFAULT_SCHEDULE.to_vec(),
    });
    FaxGateway::with_hooks(&settings, hooks).expect("telnyx gateway")
}

fn sinch(base_url: &str, dir: &Path, hooks: Hooks) -> FaxGateway {
    let settings = FaxSettings::Sinch(SinchSettings {
        project_id: "3acb7ae1-cf3d-4112-ba5e-3a9d8c71cd47".into(),
        key_id: "key-id".into(),
        key_secret: SecretSource::File(common::secret_file(dir, "sinch-secret", "s3cret")),
        from: Some("+18595550199".into()),
        base_url: base_url.into(),
        callback_url: Some("https://medrec.example/webhooks/sinch".parse().unwrap()),
        webhook_user: "sinch".into(),
        webhook_password: SecretSource::File(common::secret_file(dir, "sinch-webhook", "hook-pass")),
        timeout: Duration::from_secs(10),
        retry_schedule: medrec::fax::retry::DEFAULT_SCHEDULE.to_vec(),
    });
    FaxGateway::with_hooks(&settings, hooks).expect("sinch gateway")
}

fn spec(name: &str) -> Option<String> {
    common::spec_file(name).map(|p| std::fs::read_to_string(p).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Contract: the adapters' requests against the vendors' specs (Prism)

#[tokio::test]
async fn telnyx_send_and_lookup_follow_the_spec() {
    let Some(prism) = prism() else { return };
    let dir = tempfile::tempdir().unwrap();
    let seen = Seen::default();
    let gateway = telnyx(&prism.telnyx, dir.path(), seen.hooks(&[]));
    let sent = gateway.submit(&job()).await.expect("multipart SendFax accepted");
    // Prism answers with the spec's example Fax
    assert_eq!(sent.gateway_id, "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0");
    assert_eq!(gateway.lookup(&sent.gateway_id).await, Ok(FaxStatus::Queued));
    // ListFaxes with deepObject filters; the spec's example fax has someone else's client_state
    assert_eq!(gateway.find_sent(&job(), now()).await, Ok(None));
    seen.assert_clean(3);
}

#[tokio::test]
async fn sinch_send_lookup_and_download_follow_the_spec() {
    let Some(prism) = prism() else { return };
    let dir = tempfile::tempdir().unwrap();
    let seen = Seen::default();
    let gateway = sinch(&prism.sinch, dir.path(), seen.hooks(&[]));
    let sent = gateway.submit(&job()).await.expect("multipart sendFax accepted");
    assert!(sent.gateway_id.bytes().all(|b| b.is_ascii_alphanumeric()), "{sent:?}");
    // Prism builds answers from the schema here (see scripts/prism.sh): status QUEUED
    assert_eq!(gateway.lookup(&sent.gateway_id).await, Ok(FaxStatus::Queued), "getFaxInfoPerId");
    let stored = InboundMedia::Stored { fax_id: sent.gateway_id.clone() };
    let document = gateway.download(&stored).await.expect("getFaxFilebyId answered");
    assert!(!document.is_empty());
    // getFaxes with the labels object exploded into the query; no fax carries our label
    assert_eq!(gateway.find_sent(&job(), now()).await, Ok(None));
    seen.assert_clean(4);
}

#[tokio::test]
async fn telnyx_errors_are_classified_as_the_spec_answers_them() {
    let Some(prism) = prism() else { return };
    let dir = tempfile::tempdir().unwrap();
    // `Prefer: code=N` makes Prism answer with the spec's response for N (422, or `default`)
    for (code, transient) in
        [("422", false), ("401", false), ("403", false), ("402", false), ("429", true), ("500", true), ("503", true)]
    {
        let seen = Seen::default();
        let gateway = telnyx(&prism.telnyx, dir.path(), seen.hooks(&[("prefer", &format!("code={code}"))]));
        let error = gateway.submit(&job()).await.expect_err(code);
        assert_eq!(error.is_transient(), transient, "HTTP {code} → {error:?}");
        assert!(error.to_string().contains(&format!("HTTP {code}")), "{error}");
        assert_eq!(seen.0.lock().unwrap()[0].2, None, "HTTP {code}: the request itself was valid");
    }
    let gateway = telnyx(&prism.telnyx, dir.path(), Seen::default().hooks(&[("prefer", "code=404")]));
    let missing = gateway.lookup("0ccc7b54-4df3-4bca-a65a-3da1ecc777f0").await;
    assert!(matches!(missing, Err(FaxError::Permanent(_))), "{missing:?}");
}

#[tokio::test]
async fn sinch_refusals_are_permanent() {
    let Some(prism) = prism() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The Sinch spec defines no error responses, so Prism can only refuse on its own: 401 for a
    // request that does not meet the security scheme (here a replaced Authorization header).
    let seen = Seen::default();
    let gateway = sinch(&prism.sinch, dir.path(), seen.hooks(&[("authorization", "Token not-basic")]));
    let error = gateway.submit(&job()).await.expect_err("refused");
    assert!(matches!(&error, FaxError::Permanent(m) if m.contains("HTTP 401")), "{error:?}");
    assert_eq!(seen.0.lock().unwrap()[0].1, 401);
}

#[tokio::test]
async fn telnyx_media_is_fetched_without_the_api_key() {
    // Telnyx's inbound `media_url` is a pre-signed storage link, not part of the API spec; a
    // loopback server stands in for the storage host and reports what it was sent.
    use axum::http::HeaderMap as AxumHeaders;
    let auth_seen = Arc::new(Mutex::new(None::<bool>));
    let log = auth_seen.clone();
    let app = axum::Router::new().route(
        "/media/fax.pdf",
        axum::routing::get(move |headers: AxumHeaders| async move {
            *log.lock().unwrap() = Some(headers.contains_key("authorization"));
            ([("content-type", "application/pdf")], PDF)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let gateway = telnyx("https://api.telnyx.invalid/v2", dir.path(), Hooks::default());
    let media = InboundMedia::Url(format!("http://{addr}/media/fax.pdf?X-Amz-Signature=abc"));
    assert_eq!(gateway.download(&media).await.unwrap(), PDF);
    assert_eq!(*auth_seen.lock().unwrap(), Some(false), "the API key must not go to the storage host");
    let plain = InboundMedia::Url("http://files.example/fax.pdf".into());
    assert!(matches!(gateway.download(&plain).await, Err(FaxError::Permanent(_))), "plain http off loopback");
}

#[tokio::test]
async fn unreachable_and_silent_gateways_are_transient_failures() {
    let dir = tempfile::tempdir().unwrap();
    // a port nobody listens on
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let error = telnyx(&format!("http://{closed}"), dir.path(), Hooks::default()).submit(&job()).await;
    assert!(matches!(&error, Err(FaxError::Transient(_))), "{error:?}");
    // a server that accepts and never answers: the configured timeout ends the call
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let mut settings = sinch_settings_for_timeout(&format!("http://{addr}"), dir.path());
    settings.timeout = Duration::from_secs(1);
    let gateway = FaxGateway::new(&FaxSettings::Sinch(settings)).unwrap();
    let started = std::time::Instant::now();
    let error = gateway.lookup("01HDF5S9P29WC29J578J8EKC1C").await;
    assert!(matches!(&error, Err(FaxError::Transient(m)) if m.contains("timed out")), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

fn sinch_settings_for_timeout(base_url: &str, dir: &Path) -> SinchSettings {
    SinchSettings {
        project_id: "p1".into(),
        key_id: "key-id".into(),
        key_secret: SecretSource::File(common::secret_file(dir, "sinch-secret-2", "s3cret")),
        from: None,
        base_url: base_url.into(),
        callback_url: None,
        webhook_user: "sinch".into(),
        webhook_password: SecretSource::File(common::secret_file(dir, "sinch-webhook-2", "hook-pass")),
        timeout: Duration::from_secs(10),
        retry_schedule: vec![],
    }
}

// ---------------------------------------------------------------------------------------------
// The directory stand-in

#[tokio::test]
async fn the_directory_gateway_writes_the_pdf_and_reports_it_delivered() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("fax/outbox");
    let gateway = FaxGateway::new(&FaxSettings::Directory { path: outbox.clone() }).unwrap();
    let sent = gateway.submit(&job()).await.unwrap();
    assert_eq!(sent.gateway_id, "MR-1001-o7-a1.pdf");
    let file = outbox.join(&sent.gateway_id);
    assert_eq!(std::fs::read(&file).unwrap(), PDF);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let names: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no temporary file left behind: {names:?}");
    assert_eq!(gateway.lookup(&sent.gateway_id).await, Ok(FaxStatus::Delivered { pages: None }));
    assert_eq!(gateway.find_sent(&job(), now()).await, Ok(Some(sent.clone())));
    let other_attempt = FaxJob { idempotency_key: "o7-a2".into(), ..job() };
    assert_eq!(gateway.find_sent(&other_attempt, now()).await, Ok(None));
    // the same attempt again rewrites the same file
    assert_eq!(gateway.submit(&job()).await.unwrap(), sent);
    for unknown in ["MR-9-x.pdf", "../outbox/MR-1001-o7-a1.pdf", ".MR-1001-o7-a1.pdf.tmp"] {
        assert!(matches!(gateway.lookup(unknown).await, Err(FaxError::Permanent(_))), "{unknown}");
    }
    let not_a_pdf = FaxJob { pdf: b"hello".to_vec(), ..job() };
    assert!(matches!(gateway.submit(&not_a_pdf).await, Err(FaxError::Permanent(_))));
}

// ---------------------------------------------------------------------------------------------
// Webhook authenticity

/// Headers of a Telnyx webhook sent at `sent`, signed with `key` over `timestamp|body`.
fn telnyx_headers(key: &SigningKey, body: &[u8], sent: DateTime<Utc>) -> HeaderMap {
    let timestamp = sent.timestamp().to_string();
    let mut message = format!("{timestamp}|").into_bytes();
    message.extend_from_slice(body);
    let signature = STANDARD.encode(key.sign(&message).to_bytes());
    let mut h = HeaderMap::new();
    h.insert("telnyx-timestamp", timestamp.parse().unwrap());
    h.insert("telnyx-signature-ed25519", signature.parse().unwrap());
    h.insert("content-type", "application/json".parse().unwrap());
    h
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T15:08:30Z").unwrap().with_timezone(&Utc)
}

#[test]
fn telnyx_signatures_are_checked_over_the_raw_body() {
    let key = SigningKey::from_bytes(&SIGNING_KEY);
    let public = key.verifying_key();
    let body = telnyx_delivered().into_bytes();
    let headers = telnyx_headers(&key, &body, now());
    assert_eq!(verify_telnyx(&headers, &body, &public, now()), Ok(()));
    // 4 minutes either way is fine
    assert_eq!(verify_telnyx(&headers, &body, &public, now() + TimeDelta::minutes(4)), Ok(()));
    assert_eq!(verify_telnyx(&headers, &body, &public, now() - TimeDelta::minutes(4)), Ok(()));

    let mut flipped_body = body.clone();
    flipped_body[40] ^= 0x01;
    assert!(matches!(verify_telnyx(&headers, &flipped_body, &public, now()), Err(WebhookError::Forbidden(_))));

    let mut signature = STANDARD.decode(headers["telnyx-signature-ed25519"].as_bytes()).unwrap();
    signature[10] ^= 0x01;
    let mut forged = headers.clone();
    forged.insert("telnyx-signature-ed25519", STANDARD.encode(&signature).parse().unwrap());
    assert!(matches!(verify_telnyx(&forged, &body, &public, now()), Err(WebhookError::Forbidden(_))));

    let old = telnyx_headers(&key, &body, now() - TimeDelta::minutes(6));
    assert!(
        matches!(verify_telnyx(&old, &body, &public, now()), Err(WebhookError::Forbidden(m)) if m.contains("360s"))
    );
    let future = telnyx_headers(&key, &body, now() + TimeDelta::minutes(6));
    assert!(matches!(verify_telnyx(&future, &body, &public, now()), Err(WebhookError::Forbidden(_))));

    // a timestamp changed after signing breaks the signature, not just the window
    let mut moved = headers.clone();
    moved.insert("telnyx-timestamp", (now().timestamp() + 1).to_string().parse().unwrap());
    assert!(matches!(verify_telnyx(&moved, &body, &public, now()), Err(WebhookError::Forbidden(_))));

    for missing in ["telnyx-signature-ed25519", "telnyx-timestamp"] {
        let mut h = headers.clone();
        h.remove(missing);
        assert!(matches!(verify_telnyx(&h, &body, &public, now()), Err(WebhookError::Unauthenticated(_))), "{missing}");
    }
    let other_key = SigningKey::from_bytes(&[8; 32]).verifying_key();
    assert!(verify_telnyx(&headers, &body, &other_key, now()).is_err());
}

fn basic(user: &str, password: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("authorization", format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))).parse().unwrap());
    h
}

#[test]
fn sinch_webhooks_need_the_basic_credentials() {
    assert_eq!(verify_sinch(&basic("sinch", "hook-pass"), "sinch", "hook-pass"), Ok(()));
    assert!(matches!(
        verify_sinch(&basic("sinch", "hook-pasS"), "sinch", "hook-pass"),
        Err(WebhookError::Forbidden(_))
    ));
    assert!(matches!(verify_sinch(&basic("sinch", ""), "sinch", "hook-pass"), Err(WebhookError::Forbidden(_))));
    assert!(matches!(
        verify_sinch(&basic("other", "hook-pass"), "sinch", "hook-pass"),
        Err(WebhookError::Forbidden(_))
    ));
    assert!(matches!(verify_sinch(&HeaderMap::new(), "sinch", "hook-pass"), Err(WebhookError::Unauthenticated(_))));
    let mut bearer = HeaderMap::new();
    bearer.insert("authorization", "Bearer hook-pass".parse().unwrap());
    assert!(matches!(verify_sinch(&bearer, "sinch", "hook-pass"), Err(WebhookError::Unauthenticated(_))));
}

// ---------------------------------------------------------------------------------------------
// Webhook payloads. Telnyx fixtures follow the spec's `FaxDelivered` / `FaxFailed` /
// `FaxQueued` / `FaxMediaProcessed` / `FaxSendingStarted` schemas field by field (envelope `data`
// {event_type, id, occurred_at, payload, record_type} + `meta`); `fax.received` follows Telnyx's
// docs (it is not in the spec). Sinch fixtures follow the `incomingFax` / `faxCompleted`
// webhooks: `event`, `eventTime` and a `Fax` object, multipart or JSON.

fn telnyx_event(event_type: &str, status: &str, extra: &str) -> String {
    format!(
        r#"{{"data":{{"event_type":"{event_type}","id":"95479a2e-b947-470a-a88f-2da6dd07ae0f","occurred_at":"2026-11-23T15:08:22.039204Z","payload":{{"client_state":"TVItMTAwMQ==","connection_id":"234423","direction":"outbound","fax_id":"f8338808-3dc6-4f2b-942a-5d1f39255784","from":"+18595550199","status":"{status}","to":"+18595550100","user_id":"19a75cea-02c6-4b9a-84fa-c9bc8341feb8"{extra}}},"record_type":"event"}},"meta":{{"attempt":1,"delivered_to":"https://medrec.example/webhooks/telnyx"}}}}"#
    )
}

fn telnyx_delivered() -> String {
    telnyx_event("fax.delivered", "delivered", r#","call_duration_secs":25,"page_count":3"#)
}

#[test]
fn telnyx_webhooks_become_events() {
    let at = DateTime::parse_from_rfc3339("2026-11-23T15:08:22.039204Z").unwrap().with_timezone(&Utc);
    let status = |body: String| match parse_telnyx(body.as_bytes()).unwrap() {
        WebhookEvent::Status { gateway_id, status, event_id, occurred_at } => {
            assert_eq!(gateway_id, "f8338808-3dc6-4f2b-942a-5d1f39255784");
            assert_eq!(event_id.as_deref(), Some("95479a2e-b947-470a-a88f-2da6dd07ae0f"));
            assert_eq!(occurred_at, Some(at));
            status
        }
        other => panic!("not a status: {other:?}"),
    };
    assert_eq!(status(telnyx_event("fax.queued", "queued", "")), FaxStatus::Queued);
    assert_eq!(status(telnyx_event("fax.media.processed", "media.processed", "")), FaxStatus::Queued);
    assert_eq!(status(telnyx_event("fax.sending.started", "sending", "")), FaxStatus::Sending);
    assert_eq!(status(telnyx_delivered()), FaxStatus::Delivered { pages: Some(3) });
    assert_eq!(
        status(telnyx_event("fax.failed", "failed", r#","failure_reason":"receiver_no_response""#)),
        FaxStatus::Failed { class: FailureClass::Retryable, reason: "receiver_no_response".into() }
    );
    assert!(matches!(
        status(telnyx_event("fax.failed", "failed", r#","failure_reason":"receiver_unallocated_number""#)),
        FaxStatus::Failed { class: FailureClass::BadNumber, .. }
    ));

    let received = r#"{"data":{"event_type":"fax.received","id":"0b7c8d4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e","occurred_at":"2026-11-23T16:00:00Z","payload":{"connection_id":"234423","direction":"inbound","fax_id":"b1c2d3e4-0000-4000-8000-000000000001","from":"+18595550123","to":"+18595550199","media_url":"https://s3.amazonaws.com/faxes-prod/in.pdf?X-Amz-Signature=x","page_count":12,"partial_content":false,"status":"received","user_id":"19a75cea-02c6-4b9a-84fa-c9bc8341feb8"},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://medrec.example/webhooks/telnyx"}}"#;
    match parse_telnyx(received.as_bytes()).unwrap() {
        WebhookEvent::Inbound { gateway_id, from, to, pages, media, partial } => {
            assert_eq!(gateway_id, "b1c2d3e4-0000-4000-8000-000000000001");
            assert_eq!((from.as_str(), to.as_str(), pages, partial), ("+18595550123", "+18595550199", Some(12), false));
            assert!(matches!(media, InboundMedia::Url(u) if u.starts_with("https://s3.amazonaws.com/")));
        }
        other => panic!("not inbound: {other:?}"),
    }
    let inbound_progress = telnyx_event("fax.sending.started", "sending", "").replace("outbound", "inbound");
    assert!(matches!(parse_telnyx(inbound_progress.as_bytes()), Ok(WebhookEvent::Ignored { .. })));
    let unknown = telnyx_event("fax.brand.new", "queued", "");
    assert!(matches!(parse_telnyx(unknown.as_bytes()), Ok(WebhookEvent::Ignored { .. })));
    assert!(matches!(parse_telnyx(b"{\"data\":"), Err(WebhookError::Malformed(_))));
    let no_id = telnyx_delivered().replace("\"fax_id\"", "\"fax\"");
    assert!(matches!(parse_telnyx(no_id.as_bytes()), Err(WebhookError::Malformed(_))));
}

const SINCH_INBOUND_FAX: &str = r#"{"id":"01HDFHACK1YN7CCDYRA6ZRMA8Z","direction":"INBOUND","from":"+18595550123","to":"+18595550199","numberOfPages":4,"status":"COMPLETED","price":{"amount":"0.00","currencyCode":"USD"},"createTime":"2026-11-23T16:25:57Z","completedTime":"2026-11-23T16:26:57Z","projectId":"3acb7ae1-cf3d-4112-ba5e-3a9d8c71cd47","serviceId":"01GVRB50KEQFFE1SGMPFRNBG6J"}"#;
const SINCH_FAILED_FAX: &str = r#"{"id":"01HDF5S9P29WC29J578J8EKC1C","direction":"OUTBOUND","from":"+18595550199","to":"+18595550100","numberOfPages":4,"status":"FAILURE","createTime":"2026-11-23T16:25:57Z","completedTime":"2026-11-23T16:29:57Z","errorType":"CALL_ERROR","errorCode":17,"errorMessage":"Busy","retryCount":3,"projectId":"3acb7ae1-cf3d-4112-ba5e-3a9d8c71cd47","serviceId":"01GVRB50KEQFFE1SGMPFRNBG6J"}"#;

/// A multipart body as Sinch sends it: `event`, `eventTime`, the JSON `fax` part, a PDF `file`.
fn sinch_multipart(event: &str, fax: &str) -> (String, Vec<u8>) {
    let b = "----sinch7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\n{event}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"eventTime\"\r\n\r\n2026-11-23T16:30:00Z\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"fax\"\r\nContent-Type: application/json\r\n\r\n{fax}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fax.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(PDF);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[test]
fn sinch_webhooks_become_events() {
    let (content_type, body) = sinch_multipart("INCOMING_FAX", SINCH_INBOUND_FAX);
    let inbound = parse_sinch(&content_type, &body).unwrap();
    assert_eq!(
        inbound,
        WebhookEvent::Inbound {
            gateway_id: "01HDFHACK1YN7CCDYRA6ZRMA8Z".into(),
            from: "+18595550123".into(),
            to: "+18595550199".into(),
            pages: Some(4),
            media: InboundMedia::Embedded(PDF.to_vec()),
            partial: false,
        }
    );

    let json = format!(
        r#"{{"event":"INCOMING_FAX","eventTime":"2026-11-23T16:30:00Z","fax":{SINCH_INBOUND_FAX},"file":"{}","fileType":"PDF"}}"#,
        STANDARD.encode(PDF)
    );
    assert_eq!(parse_sinch("application/json", json.as_bytes()).unwrap(), inbound);
    let without_file =
        format!(r#"{{"event":"INCOMING_FAX","eventTime":"2026-11-23T16:30:00Z","fax":{SINCH_INBOUND_FAX}}}"#);
    assert!(matches!(
        parse_sinch("application/json; charset=utf-8", without_file.as_bytes()).unwrap(),
        WebhookEvent::Inbound { media: InboundMedia::Stored { fax_id }, .. } if fax_id == "01HDFHACK1YN7CCDYRA6ZRMA8Z"
    ));

    let (content_type, body) = sinch_multipart("FAX_COMPLETED", SINCH_FAILED_FAX);
    let at = DateTime::parse_from_rfc3339("2026-11-23T16:30:00Z").unwrap().with_timezone(&Utc);
    assert_eq!(
        parse_sinch(&content_type, &body).unwrap(),
        WebhookEvent::Status {
            gateway_id: "01HDF5S9P29WC29J578J8EKC1C".into(),
            status: FaxStatus::Failed { class: FailureClass::Retryable, reason: "CALL_ERROR 17: Busy".into() },
            event_id: None,
            occurred_at: Some(at),
        }
    );
    let delivered = SINCH_FAILED_FAX.replace("\"FAILURE\"", "\"COMPLETED\"");
    let json = format!(
        r#"{{"event":"FAX_COMPLETED","eventTime":"2026-11-23T16:30:00Z","fax":{delivered},"files":[{{"file":"{}","fileType":"PDF"}}]}}"#,
        STANDARD.encode(PDF)
    );
    assert!(matches!(
        parse_sinch("application/json", json.as_bytes()).unwrap(),
        WebhookEvent::Status { status: FaxStatus::Delivered { pages: Some(4) }, .. }
    ));
    assert!(matches!(parse_sinch("text/plain", b"x"), Err(WebhookError::Malformed(_))));
    assert!(matches!(parse_sinch(&content_type, b"--nope"), Err(WebhookError::Malformed(_))));
}

/// Every key of a JSON document, recursively.
fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

/// The text of one component schema: from `    Name:` to the next line indented 4 or fewer.
fn schema<'a>(spec: &'a str, name: &str) -> &'a str {
    let header = format!("\n    {name}:\n");
    let start = spec.find(&header).unwrap_or_else(|| panic!("no schema {name}")) + 1;
    let mut end = start + header.len() - 1;
    for line in spec[end..].split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if !line.trim().is_empty() && indent <= 4 {
            break;
        }
        end += line.len();
    }
    &spec[start..end]
}

#[test]
fn every_vendor_word_the_parser_knows_is_in_the_spec() {
    let (Some(telnyx), Some(sinch)) = (spec("telnyx-fax.yaml"), spec("sinch-fax-v3.yaml")) else { return };
    // outbound Telnyx events are the spec's webhooks; inbound ones are only in Telnyx's docs,
    // but their statuses are in the spec's Fax.status enum
    let webhooks = &telnyx[telnyx.find("\nwebhooks:\n").expect("webhooks section")..];
    for event in TELNYX_EVENTS {
        match event {
            "fax.received" | "fax.receiving.started" | "fax.media.processing.started" => {}
            e => assert!(webhooks.contains(&format!("\n  {e}:\n")), "Telnyx webhook {e} is not in the spec"),
        }
    }
    let fax_status = schema(&telnyx, "Fax");
    for status in TELNYX_STATUSES.iter().chain(&["received", "receiving", "media.processing"]) {
        assert!(fax_status.contains(&format!("- {status}\n")), "Telnyx status {status} is not in Fax.status");
    }
    for (name, words) in [
        ("WebhookEvents", &SINCH_EVENTS[..]),
        ("FaxStatus", &SINCH_STATUSES[..]),
        ("ErrorType", &SINCH_ERROR_TYPES[..]),
    ] {
        let text = schema(&sinch, name);
        for w in words {
            assert!(text.contains(&format!("- {w}\n")), "Sinch {name} has no {w}");
        }
    }
    for (name, code) in SINCH_NAMED_CODES {
        assert!(schema(&sinch, name).contains(&format!("'{code}': ")), "Sinch {name} lists no code {code}");
    }
    // the fixtures use the specs' field names
    for body in [telnyx_delivered(), telnyx_event("fax.failed", "failed", r#","failure_reason":"rejected""#)] {
        let mut names = Vec::new();
        keys(&serde_json::from_str(&body).unwrap(), &mut names);
        for k in names {
            assert!(telnyx.contains(&format!(" {k}:")), "Telnyx fixture field {k} is not in the spec");
        }
    }
    for fax in [SINCH_INBOUND_FAX, SINCH_FAILED_FAX] {
        let mut names = Vec::new();
        keys(&serde_json::from_str(fax).unwrap(), &mut names);
        let fax_schema = schema(&sinch, "Fax");
        for k in names.iter().filter(|k| !["amount", "currencyCode"].contains(&k.as_str())) {
            assert!(fax_schema.contains(&format!("\n        {k}:\n")), "Sinch fixture field {k} is not in Fax");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The router on a real socket

#[tokio::test]
async fn the_router_passes_on_verified_events_only() {
    medrec::mail::tls::install_crypto_provider();
    let key = SigningKey::from_bytes(&SIGNING_KEY);
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let state = WebhookState::new(tx, medrec::daemon::clock::now)
        .telnyx(key.verifying_key())
        .sinch(SinchWebhook { user: "sinch".into(), password: "hook-pass".to_string().into() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    let body = telnyx_delivered();
    let post = |headers: HeaderMap, body: Vec<u8>, path: &str| {
        client.post(format!("{base}{path}")).headers(headers).body(body).send()
    };
    for _ in 0..2 {
        let signed = telnyx_headers(&key, body.as_bytes(), medrec::daemon::clock::now());
        assert_eq!(post(signed, body.clone().into_bytes(), "/webhooks/telnyx").await.unwrap().status(), 200);
    }
    let forged_key = SigningKey::from_bytes(&[9; 32]);
    let forged = telnyx_headers(&forged_key, body.as_bytes(), medrec::daemon::clock::now());
    assert_eq!(post(forged, body.clone().into_bytes(), "/webhooks/telnyx").await.unwrap().status(), 403);
    let unsigned = post(HeaderMap::new(), body.clone().into_bytes(), "/webhooks/telnyx").await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let garbage = b"{\"not\":\"telnyx\"}".to_vec();
    let signed_garbage = telnyx_headers(&key, &garbage, medrec::daemon::clock::now());
    assert_eq!(post(signed_garbage, garbage, "/webhooks/telnyx").await.unwrap().status(), 400);

    // Sinch: credentials are checked before the body is read
    let (content_type, fax) = sinch_multipart("FAX_COMPLETED", SINCH_FAILED_FAX);
    let mut headers = basic("sinch", "hook-pass");
    headers.insert("content-type", content_type.parse().unwrap());
    assert_eq!(post(headers.clone(), fax.clone(), "/webhooks/sinch").await.unwrap().status(), 200);
    headers.insert("authorization", basic("sinch", "wrong")["authorization"].clone());
    assert_eq!(post(headers, fax.clone(), "/webhooks/sinch").await.unwrap().status(), 403);
    let anonymous = post(HeaderMap::new(), fax, "/webhooks/sinch").await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));

    let mut events = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
        events.push(e);
    }
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], events[1], "the duplicate is delivered as is; the daemon drops it by event id");
    assert!(matches!(&events[0], WebhookEvent::Status { status: FaxStatus::Delivered { pages: Some(3) }, .. }));
    assert!(matches!(&events[2], WebhookEvent::Status { status: FaxStatus::Failed { .. }, .. }));
    assert_eq!(state.rejected(), 4, "forged, unsigned, wrong password, anonymous");
}

#[tokio::test]
async fn an_unconfigured_gateway_has_no_webhook() {
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    let state = WebhookState::for_settings(&FaxSettings::Directory { path: "/nonexistent".into() }, tx, now).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    medrec::mail::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    for path in ["/webhooks/telnyx", "/webhooks/sinch"] {
        let answer = client.post(format!("{base}{path}")).body("{}").send().await.unwrap();
        assert_eq!(answer.status(), 404, "{path}");
    }
}
