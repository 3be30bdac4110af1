//! Faxes through the daemon with the Telnyx adapter against Prism (serving Telnyx's published
//! OpenAPI document): a `NEW` for a fax-preferred provider is submitted; a signed `fax.delivered`
//! webhook marks the request submitted, a forged one is refused; a signed `fax.received` brings
//! the provider's fax to staff for triage with its PDF.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Daemon;
use ed25519_dalek::{Signer, SigningKey};
use medrec::core::reference::Reference;

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";
const LIMIT: Duration = Duration::from_secs(60);

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

/// The embedded default with Telnyx (at Prism) as the fax gateway and the webhook server on.
fn setup(telnyx: &str, port: u16) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let api_key = common::secret_file(dir.path(), "telnyx-key", "KEYtest123");
    let public = STANDARD.encode(key().verifying_key().to_bytes());
    let shipped = std::fs::read_to_string(repo.join("config/medrec.toml")).unwrap();
    let head = shipped.split("\n[fax.directory]").next().unwrap();
    let config = format!(
        "{head}\n[fax.telnyx]\napi_key_file = \"{}\"\nconnection_id = \"1293384261075731499\"\nfrom = \"+18595550199\"\n\
         base_url = \"{telnyx}\"\npublic_key = \"{public}\"\ntimeout_secs = 10\n\n[http]\nlisten = \"127.0.0.1:{port}\"\n\
         fax_poll_secs = 3600\n",
        api_key.display()
    );
    let path = dir.path().join("config/medrec.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_medrec"))
        .args(["providers", "import"])
        .arg(repo.join("config/providers.sample.csv"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (dir, path)
}

fn drop_mail(root: &Path, name: &str, raw: &[u8]) {
    let inbox = root.join("var/mail/inbox");
    std::fs::write(inbox.join("tmp").join(name), raw).unwrap();
    std::fs::rename(inbox.join("tmp").join(name), inbox.join("new").join(name)).unwrap();
}

async fn post_signed(port: u16, body: &str, signing_key: &SigningKey) -> u16 {
    medrec::mail::tls::install_crypto_provider();
    let ts = medrec::daemon::clock::now().timestamp().to_string();
    let signature = STANDARD.encode(signing_key.sign(format!("{ts}|{body}").as_bytes()).to_bytes());
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/webhooks/telnyx"))
        .header("content-type", "application/json")
        .header("telnyx-timestamp", ts)
        .header("telnyx-signature-ed25519", signature)
        .body(body.to_string())
        .send()
        .await
        .expect("webhook POST")
        .status()
        .as_u16()
}

fn gateway_id(daemon: &Daemon, line: usize) -> String {
    let l = &daemon.log_lines()[line];
    l.split("gateway_id=").nth(1).unwrap().split_whitespace().next().unwrap().trim_matches('"').to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fax_submitted_to_telnyx_is_confirmed_by_a_signed_webhook() {
    let Some(telnyx) = common::prism_telnyx_url() else { return };
    let port = common::free_port();
    let (dir, config) = setup(&telnyx, port);
    let root = dir.path();
    let daemon = Daemon::start(&config);
    daemon.wait_for_log("http server listening", 0, LIMIT);
    daemon.wait_for_log("watching the local Maildir inbox", 0, LIMIT);
    let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, Lexington, KY 40507\nProvider: Central Kentucky Orthopedics\nFrom: 01/15/2026\n";
    let raw = common::message_with_attachment(
        STAFF,
        BOT,
        "NEW",
        "<new-fax@denhamlaw.example>",
        form,
        "authorization.pdf",
        &common::authorization_pdf(),
    );
    drop_mail(root, "1.new", &raw);
    let accepted = daemon.wait_for_log("fax accepted by the gateway", 0, LIMIT);
    let id = gateway_id(&daemon, accepted);
    assert!(!id.is_empty());

    let delivered = format!(
        r#"{{"data":{{"event_type":"fax.delivered","id":"e1","occurred_at":"{}","record_type":"event","payload":{{"fax_id":"{id}","direction":"outbound","from":"+18595550199","to":"+18595550121","page_count":4,"status":"delivered"}}}},"meta":{{"attempt":1}}}}"#,
        medrec::daemon::clock::now().to_rfc3339()
    );
    assert_eq!(
        post_signed(port, &delivered, &SigningKey::from_bytes(&[7u8; 32])).await,
        403,
        "a forged signature is refused"
    );
    assert_eq!(post_signed(port, &delivered, &key()).await, 200);
    assert_eq!(post_signed(port, &delivered, &key()).await, 200, "a repeat is accepted and changes nothing");
    daemon.wait_for_log("Delivered", accepted, LIMIT);
    assert!(daemon.stop().success());

    let store = medrec::store::Store::open(&root.join("var/medrec.db")).await.unwrap();
    assert_eq!(store.request_detail(Reference(1001)).await.unwrap().unwrap().state, "submitted");
    let events = store.events(Reference(1001)).await.unwrap();
    assert_eq!(events.iter().filter(|(_, kind, _, _)| kind == "submitted").count(), 1, "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_fax_reaches_staff_with_its_pdf() {
    let Some(telnyx) = common::prism_telnyx_url() else { return };
    let port = common::free_port();
    let (dir, config) = setup(&telnyx, port);
    let root = dir.path();
    // Where Telnyx would keep the received document: a short-lived URL, here served by the test.
    let pdf = common::authorization_pdf();
    let served = pdf.clone();
    let media = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let media_port = media.local_addr().unwrap().port();
    tokio::spawn(async move {
        let app = axum::Router::new().route("/fax.pdf", axum::routing::get(move || async move { served }));
        axum::serve(media, app).await.unwrap();
    });
    let daemon = Daemon::start(&config);
    daemon.wait_for_log("http server listening", 0, LIMIT);
    let received = format!(
        r#"{{"data":{{"event_type":"fax.received","id":"e2","occurred_at":"{}","record_type":"event","payload":{{"fax_id":"in-1","direction":"inbound","from":"+18595550121","to":"+18595550199","page_count":1,"status":"received","media_url":"http://127.0.0.1:{media_port}/fax.pdf"}}}},"meta":{{"attempt":1}}}}"#,
        medrec::daemon::clock::now().to_rfc3339()
    );
    assert_eq!(post_signed(port, &received, &key()).await, 200);
    let deadline = Instant::now() + LIMIT;
    let notice = loop {
        let files: Vec<PathBuf> = std::fs::read_dir(root.join("var/mail/outbox"))
            .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
            .unwrap_or_default();
        if let Some(f) = files.first() {
            break medrec::mail::parse::parse(&std::fs::read(f).unwrap());
        }
        assert!(Instant::now() < deadline, "no triage notice for the inbound fax");
        std::thread::sleep(Duration::from_millis(25));
    };
    assert!(notice.subject.contains("Fax received from Central Kentucky Orthopedics"), "{}", notice.subject);
    assert!(notice.header("To").unwrap().contains(STAFF));
    assert_eq!(notice.attachments.len(), 1);
    assert_eq!(notice.attachments[0].bytes, pdf);
    assert!(daemon.stop().success());
}

#[tokio::test]
async fn regression_a_fax_that_timed_out_but_arrived_is_not_sent_twice() {
    use medrec::fax::FaxJob;

    let mut d = common::desk::Desk::new().await;
    d.new_request("Central Kentucky Orthopedics").await;
    let now = medrec::daemon::clock::now();
    let fax = d.store.due_faxes(now, 10).await.unwrap().pop().expect("a fax is due");

    // Attempt 1 reached the gateway, but our side saw a timeout.
    let pdf = std::fs::read(&fax.document_path).unwrap();
    let job = FaxJob {
        to: fax.to.clone(),
        pdf,
        reference: "MR-1001".into(),
        idempotency_key: format!("o{}-a1", fax.outbox_id),
    };
    d.gateway.submit(&job).await.unwrap();
    assert!(d.store.begin_attempt(fax.outbox_id, now - chrono::Duration::seconds(1), now).await.unwrap());
    d.store.fax_uncertain(fax.outbox_id, now - chrono::Duration::seconds(10), "timed out").await.unwrap();

    medrec::daemon::fax::send_due(&d.intake, &d.gateway, &tokio_util::sync::CancellationToken::new()).await.unwrap();
    let faxes = d.faxes();
    assert_eq!(faxes.len(), 1, "the fax was sent a second time: {faxes:?}");
    assert!(d.store.due_faxes(medrec::daemon::clock::now(), 10).await.unwrap().is_empty());
    assert!(d.store.fax_by_gateway_id(&faxes[0]).await.unwrap().is_some(), "the fax found is followed");
}
