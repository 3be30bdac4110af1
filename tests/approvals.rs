//! Invoices, approvals and deficiencies over real Postfix + Dovecot: the approval request
//! reaches the approver's mailbox, forged approvals (no authentication, a self-written
//! `Authentication-Results`, an untrusted authserv-id) are not obeyed and the real staff member
//! is warned, a genuine `APPROVE` sends the invoice to billing; a deficiency reaches the owner
//! and `RESEND` with a new PDF brings the provider a new package.

mod common;

use std::time::{Duration, Instant};

use common::{MailServers, answers_to};
use medrec::core::inbound::InboundMail;
use medrec::core::reference::Reference;

const LIMIT: Duration = Duration::from_secs(60);

/// The bot on the loopback servers with one provider (email) and a billing mailbox.
struct Firm {
    servers: MailServers,
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
    bot: String,
    staff: String,
    provider: String,
    billing: String,
}

fn firm() -> Option<Firm> {
    let servers = common::mail_servers()?;
    let (bot, staff) = (common::unique_address("bot"), common::unique_address("staff"));
    let (provider, billing) = (common::unique_address("roi"), common::unique_address("billing"));
    let dir = tempfile::tempdir().unwrap();
    let sections = format!(
        "{}\n[invoices]\nbilling_address = \"{billing}\"\n",
        servers.bot_sections(dir.path(), &bot, "verified")
    );
    let config = common::write_config(dir.path(), &bot, &staff, &sections);
    common::import_providers(
        &config,
        &format!(
            "name,street,city,state,zip,email,preferred_method\nLoopback General Hospital,1 Test Way,Lexington,KY,40507,{provider},email\n"
        ),
    );
    Some(Firm { servers, _dir: dir, config, bot, staff, provider, billing })
}

impl Firm {
    /// Sends a NEW as the staff member; returns the package email as the provider received it.
    async fn new_request(&self) -> InboundMail {
        let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, \
                    Lexington, KY 40507\nProvider: Loopback General Hospital\nRecords: medical\nFrom: 01/15/2026\n";
        let raw = common::message_with_attachment(
            &self.staff,
            &self.bot,
            "NEW",
            "<new@denhamlaw.example>",
            form,
            "authorization.pdf",
            &common::authorization_pdf(),
        );
        self.servers.submit(&self.staff, &self.bot, &raw).await;
        let mut inbox = self.servers.open(&self.provider, "INBOX").await;
        let mails = inbox.wait_until(LIMIT, |m| !m.is_empty()).await;
        mails.into_iter().next().unwrap()
    }

    /// The provider answers the package (through the internet-facing port).
    async fn provider_reply(&self, package: &InboundMail, id: &str, body: &str, pdf: Option<(&str, Vec<u8>)>) {
        let in_reply_to = format!("In-Reply-To: {}\r\n", package.message_id.as_deref().unwrap());
        let raw = match pdf {
            Some((name, bytes)) => {
                let mut raw = in_reply_to.into_bytes();
                raw.extend(common::message_with_attachment(
                    &self.provider,
                    &self.bot,
                    "Re: request",
                    id,
                    body,
                    name,
                    &bytes,
                ));
                raw
            }
            None => common::message(&self.provider, &self.bot, "Re: request", id, body, &[in_reply_to.trim_end()]),
        };
        self.servers.relay(&self.provider, &self.bot, &raw).await;
    }

    async fn state(&self) -> String {
        let db = self.config.parent().unwrap().join("var/medrec.db");
        let store = medrec::store::Store::open(&db).await.unwrap();
        let state = store.request_detail(Reference(1001)).await.unwrap().map(|r| r.state);
        store.close().await;
        state.unwrap_or_default()
    }
}

fn subject_has(m: &[InboundMail], text: &str) -> Option<InboundMail> {
    m.iter().find(|m| m.subject.contains(text)).cloned()
}

#[tokio::test]
async fn forged_approvals_are_refused_and_a_real_one_sends_the_invoice_to_billing() {
    let Some(f) = firm() else { return };
    let daemon = common::Daemon::start(&f.config);
    daemon.wait_for_log("waiting for new mail", 0, Duration::from_secs(30));
    let package = f.new_request().await;
    let invoice = common::text_pdf(&[&["INVOICE", "Copies of medical records", "Amount due: $450.00"]]);
    f.provider_reply(
        &package,
        "<invoice@loopback-general.example>",
        "Please find attached our invoice. Payment is required before release of the records.\nAmount due: $450.00\n",
        Some(("invoice.pdf", invoice)),
    )
    .await;
    let mut staff_inbox = f.servers.open(&f.staff, "INBOX").await;
    let mails = staff_inbox.wait_until(LIMIT, |m| subject_has(m, "Approval needed").is_some()).await;
    let approval = subject_has(&mails, "Approval needed").unwrap();
    assert!(approval.text.contains("$450.00"), "{}", approval.text);
    assert!(approval.attachments.iter().any(|a| a.filename == "invoice.pdf"));
    assert_eq!(f.state().await, "on_hold");
    let approval_id = approval.message_id.clone().unwrap();
    let approve = |id: &str, extra: &[&str]| {
        let mut headers = vec![format!("In-Reply-To: {approval_id}")];
        headers.extend(extra.iter().map(|h| h.to_string()));
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        common::message(&f.staff, &f.bot, "Re: Approval needed", id, "APPROVE\n", &headers)
    };

    // 1. No authentication: from the internet with the staff address in From.
    f.servers.relay(&f.staff, &f.bot, &approve("<forged-1@elsewhere.example>", &[])).await;
    // 2. A self-written Authentication-Results claiming the trusted server's id.
    let claimed =
        format!("Authentication-Results: {}; dmarc=pass header.from=denhamlaw.example", f.servers.authserv_id);
    f.servers.relay(&f.staff, &f.bot, &approve("<forged-2@elsewhere.example>", &[&claimed])).await;
    // 3. Results from a server we do not trust.
    let untrusted = "Authentication-Results: mx.elsewhere.example; dmarc=pass header.from=denhamlaw.example";
    f.servers.relay(&f.staff, &f.bot, &approve("<forged-3@elsewhere.example>", &[untrusted])).await;
    let mails =
        staff_inbox.wait_until(LIMIT, |m| m.iter().filter(|m| m.subject.contains("Warning")).count() >= 3).await;
    let warning = subject_has(&mails, "Warning").unwrap();
    assert!(warning.text.contains("pass sender authentication"), "{}", warning.text);
    for id in ["<forged-1@elsewhere.example>", "<forged-2@elsewhere.example>", "<forged-3@elsewhere.example>"] {
        assert!(answers_to(&mails, id).is_empty(), "a forged APPROVE was answered");
    }
    assert_eq!(f.state().await, "on_hold", "a forged APPROVE lifted the hold");

    // The real one, through the authenticated submission port.
    f.servers.submit(&f.staff, &f.bot, &approve("<approve@denhamlaw.example>", &[])).await;
    let mails = staff_inbox.wait_until(LIMIT, |m| !answers_to(m, "<approve@denhamlaw.example>").is_empty()).await;
    let answer = answers_to(&mails, "<approve@denhamlaw.example>")[0];
    assert!(answer.text.contains("Approved"), "{}", answer.text);
    let mut billing = f.servers.open(&f.billing, "INBOX").await;
    let mails = billing.wait_until(LIMIT, |m| subject_has(m, "Pre-pay invoice $450.00").is_some()).await;
    let notice = subject_has(&mails, "Pre-pay invoice").unwrap();
    assert!(notice.attachments.iter().any(|a| a.filename == "invoice.pdf"));
    assert!(notice.text.contains(&f.staff), "says who approved: {}", notice.text);
    assert_eq!(f.state().await, "acknowledged");
    assert!(daemon.stop().success());
}

#[tokio::test]
async fn a_deficiency_reaches_the_owner_and_resend_brings_the_provider_a_new_package() {
    let Some(f) = firm() else { return };
    let daemon = common::Daemon::start(&f.config);
    daemon.wait_for_log("waiting for new mail", 0, Duration::from_secs(30));
    let package = f.new_request().await;
    let sent = Instant::now();
    f.provider_reply(
        &package,
        "<deficient@loopback-general.example>",
        "We cannot process this request: our facility requires its own authorization form, attached. Please \
         have the patient complete and sign it and resubmit.\n",
        Some(("facility-form.pdf", common::text_pdf(&[&["LOOPBACK GENERAL AUTHORIZATION FORM"]]))),
    )
    .await;
    let mut staff_inbox = f.servers.open(&f.staff, "INBOX").await;
    let mails = staff_inbox.wait_until(LIMIT, |m| subject_has(m, "Deficiency").is_some()).await;
    eprintln!("deficiency notice in the owner's mailbox after {:?}", sent.elapsed());
    let notice = subject_has(&mails, "Deficiency").unwrap();
    assert!(notice.text.contains("its own authorization form"), "{}", notice.text);
    assert!(notice.attachments.iter().any(|a| a.filename == "facility-form.pdf"));
    assert_eq!(f.state().await, "deficient");

    let form = common::text_pdf(&[&["LOOPBACK GENERAL AUTHORIZATION FORM", "Signed: Maria Sample"]]);
    let mut raw = format!("In-Reply-To: {}\r\n", notice.message_id.as_deref().unwrap()).into_bytes();
    raw.extend(common::message_with_attachment(
        &f.staff,
        &f.bot,
        "Re: Deficiency",
        "<resend@denhamlaw.example>",
        "RESEND\n",
        "facility-form-signed.pdf",
        &form,
    ));
    f.servers.submit(&f.staff, &f.bot, &raw).await;
    let mut provider = f.servers.open(&f.provider, "INBOX").await;
    let mails = provider.wait_until(LIMIT, |m| m.len() >= 2).await;
    let second = &mails[1];
    let pdf = second.attachments.iter().find(|a| a.looks_like_pdf()).expect("the new package");
    assert!(common::pdf_text(&pdf.bytes).contains("Signed: Maria Sample"));
    assert_eq!(f.state().await, "submitted");
    assert!(daemon.stop().success());
}
