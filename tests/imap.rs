//! The real path: a staff HELP submitted to Postfix reaches the bot's Dovecot mailbox; the
//! running daemon answers over SMTP submission; the answer reaches the staff mailbox with the
//! bot's headers; the original is in `Processed`; a restarted daemon does not answer again.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, answers_to, message};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_help_is_answered_over_real_mail_servers() {
    let Some(servers) = common::mail_servers() else { return };
    let setup = common::BotOnServers::new(&servers, "verified");
    let (bot, staff) = (setup.bot.clone(), setup.staff.clone());
    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    let (daemon, _) = setup.start();

    let sent_at = Instant::now();
    let help = message(&staff, &bot, "HELP", "<help-1@denhamlaw.example>", "HELP\n", &[]);
    servers.submit(&staff, &bot, &help).await;
    let mails = staff_inbox.wait_until(LIMIT, |m| !answers_to(m, "<help-1@denhamlaw.example>").is_empty()).await;
    eprintln!("HELP answered in {:?} (submission to answer in the staff mailbox)", sent_at.elapsed());

    let answer = answers_to(&mails, "<help-1@denhamlaw.example>")[0];
    assert_eq!(answer.from.as_deref(), Some(bot.as_str()));
    assert_eq!(answer.subject, "Re: HELP");
    assert_eq!(answer.header("Auto-Submitted"), Some("auto-replied"));
    assert_eq!(answer.references, vec!["<help-1@denhamlaw.example>".to_string()]);
    assert!(answer.header("Reply-To").is_some_and(|r| r.contains(&bot)));
    let id = answer.message_id.as_deref().unwrap();
    assert!(id.starts_with("<medrec.") && id.ends_with("@denhamlaw.example>"), "{id}");
    for word in
        ["NEW", "STATUS", "LIST", "HISTORY", "APPROVE", "DECLINE", "RESEND", "CANCEL", "FILE MR-n", "PROVIDER ADD"]
    {
        assert!(answer.text.contains(word), "HELP answer lacks {word}");
    }

    let mut bot_inbox = servers.open(&bot, "INBOX").await;
    let mut processed = servers.open(&bot, "Processed").await;
    let kept = processed.all().await;
    assert!(
        kept.iter().any(|m| m.message_id.as_deref() == Some("<help-1@denhamlaw.example>")),
        "original not in Processed"
    );

    // Not answered: a provider's mail and a forged staff From over the unauthenticated port.
    let provider = "roi@provider.example";
    let patient = "Records for Jane Roe, DOB 03/14/1985";
    let from_provider = message(provider, &bot, patient, "<p-1@provider.example>", "Jane Roe 03/14/1985\n", &[]);
    servers.relay(provider, &bot, &from_provider).await;
    let forged = message(&staff, &bot, "HELP", "<forged-1@denhamlaw.example>", "HELP\n", &[]);
    servers.relay(&staff, &bot, &forged).await;
    processed.wait_until(LIMIT, |m| m.len() == 3).await;

    let lines = daemon.log_lines();
    assert!(lines.iter().any(|l| l.contains("status=triage")), "the provider's mail went to staff for triage");
    assert!(!lines.iter().any(|l| l.contains("Jane Roe") || l.contains("03/14/1985")), "patient data in the log");
    assert!(daemon.stop().success(), "SIGTERM exits 0");

    // Restarted, the daemon answers new mail and nothing it already took.
    let daemon = Daemon::start(&setup.config);
    let again = message(&staff, &bot, "HELP", "<help-2@denhamlaw.example>", "HELP\n", &[]);
    servers.submit(&staff, &bot, &again).await;
    let mails = staff_inbox.wait_until(LIMIT, |m| !answers_to(m, "<help-2@denhamlaw.example>").is_empty()).await;
    assert_eq!(mails.len(), 4, "one answer per HELP, one triage notice, one warning about the forgery");
    let warning = mails.iter().find(|m| m.subject.starts_with("Warning")).expect("the real staff member is warned");
    assert!(warning.in_reply_to.is_none(), "the forgery itself is not answered");
    assert_eq!(mails.iter().filter(|m| m.subject.starts_with("Triage")).count(), 1);
    assert_eq!(answers_to(&mails, "<help-1@denhamlaw.example>").len(), 1);
    assert!(bot_inbox.all().await.is_empty(), "everything taken moved to Processed");
    assert!(daemon.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_request_reaches_the_providers_mailbox_and_the_paralegals() {
    let Some(servers) = common::mail_servers() else { return };
    let setup = common::BotOnServers::new(&servers, "verified");
    let (bot, staff) = (setup.bot.clone(), setup.staff.clone());
    let provider = format!("roi-{}@provider.example", medrec::mail::compose::unique_token());
    setup.import_providers(&format!("name,street,city,state,zip,fax,email,preferred_method\nTest Regional Hospital,1 Example Way,Lexington,KY,40507,859-555-0111,{provider},email\n"));
    let mut provider_inbox = servers.open(&provider, "INBOX").await;
    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    let (daemon, _) = setup.start();

    let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane\n    Lexington, KY 40507\nProvider: Test Regional Hospital\nFrom: 01/15/2026\n";
    let raw = common::message_with_attachment(
        &staff,
        &bot,
        "NEW",
        "<new-imap@denhamlaw.example>",
        form,
        "authorization.pdf",
        &common::authorization_pdf(),
    );
    servers.submit(&staff, &bot, &raw).await;

    let got = provider_inbox.wait_until(LIMIT, |m| !m.is_empty()).await;
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert!(request.subject.starts_with("[MR-1001] Medical records request - Maria Sample"), "{}", request.subject);
    assert_eq!(request.attachments.len(), 1);
    let text = common::pdf_text(&request.attachments[0].bytes);
    assert!(text.contains("Maria Sample") && text.contains("MR-1001") && text.contains("KRS 422.317"));
    let mails = staff_inbox.wait_until(LIMIT, |m| !answers_to(m, "<new-imap@denhamlaw.example>").is_empty()).await;
    let confirmation = answers_to(&mails, "<new-imap@denhamlaw.example>")[0];
    assert!(confirmation.subject.contains("[MR-1001]"));
    assert_eq!(confirmation.attachments[0].bytes, request.attachments[0].bytes);
    assert!(daemon.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounced_submission_is_reported_to_the_owner_once() {
    let Some(servers) = common::mail_servers() else { return };
    let setup = common::BotOnServers::new(&servers, "verified");
    let (bot, staff) = (setup.bot.clone(), setup.staff.clone());
    // The rig refuses `nosuchuser` at delivery, so Postfix returns a real DSN to the bot.
    setup.import_providers("name,street,city,state,zip,email,preferred_method\nGone Clinic,1 Example Way,Lexington,KY,40507,nosuchuser@provider.example,email\n");
    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    let (daemon, _) = setup.start();
    let form = "NEW\nPatient: Maria Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, Lexington, KY 40507\nProvider: Gone Clinic\nFrom: 01/15/2026\n";
    let raw = common::message_with_attachment(
        &staff,
        &bot,
        "NEW",
        "<new-bounce@denhamlaw.example>",
        form,
        "authorization.pdf",
        &common::authorization_pdf(),
    );
    servers.submit(&staff, &bot, &raw).await;

    let is_notice = |m: &medrec::core::inbound::InboundMail| m.subject.contains("Request not delivered");
    let mails = staff_inbox.wait_until(LIMIT, |m| m.iter().any(is_notice)).await;
    let notice = mails.iter().find(|m| is_notice(m)).unwrap();
    assert!(notice.subject.contains("[MR-1001]"), "{}", notice.subject);
    assert!(notice.text.contains("nosuchuser@provider.example") && notice.text.contains("5.1.1"), "{}", notice.text);
    assert_eq!(notice.header("Auto-Submitted"), Some("auto-generated"));
    // The bounce itself is kept in Processed, and it is never answered.
    let mut processed = servers.open(&bot, "Processed").await;
    processed.wait_until(LIMIT, |m| m.iter().any(|x| x.content_type == "multipart/report")).await;
    // Confirmation + notice, and nothing else, in the staff mailbox.
    let sentinel = message(&staff, &bot, "HELP", "<after-bounce@denhamlaw.example>", "HELP\n", &[]);
    servers.submit(&staff, &bot, &sentinel).await;
    let mails = staff_inbox.wait_until(LIMIT, |m| !answers_to(m, "<after-bounce@denhamlaw.example>").is_empty()).await;
    assert_eq!(mails.iter().filter(|m| is_notice(m)).count(), 1, "one notice per bounce");
    assert_eq!(mails.len(), 3, "confirmation, notice, HELP answer");
    assert!(daemon.stop().success());
}
