//! A provider whose mailbox runs a real autoresponder (Dovecot Pigeonhole's Sieve `vacation`,
//! from `scripts/mail-servers.sh vacation`), and the bot, over the loopback mail servers: they
//! never loop. Both sides are shown, because the vacation by design never answers mail marked
//! `Auto-Submitted`, which all the bot's mail is:
//! (a) the request package reaches the provider once and its autoresponder does not answer it;
//! (b) an autoreply that does reach the bot (to a message a person sent from the bot's address,
//!     unmarked) is filed on its request as automatic and never answered.
//! Absence is bounded by markers sent through the same path, never by a fixed sleep.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{MailServers, answers_to, message, message_with_attachment};
use medrec::core::inbound::InboundMail;
use medrec::core::reference::Reference;

const LIMIT: Duration = Duration::from_secs(30);

/// `scripts/mail-servers.sh vacation ADDRESS`: that mailbox now answers every message the
/// vacation extension may answer. (`MailServers::script` passes one argument only.)
fn vacation(servers: &MailServers, address: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mail-servers.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(["vacation", address])
        .env("MAIL_ROOT", &servers.root)
        .stdin(Stdio::null())
        .output()
        .expect("run mail-servers.sh");
    assert!(out.status.success(), "mail-servers.sh vacation failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A staff `NEW` for `patient` at the test's provider, with a signed authorization attached.
fn new_request(staff: &str, bot: &str, patient: &str, id: &str) -> Vec<u8> {
    let form = format!(
        "NEW\nPatient: {patient}\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane\n    \
         Lexington, KY 40507\nProvider: Vacation Test Hospital\nFrom: 01/15/2026\n"
    );
    message_with_attachment(staff, bot, "NEW", id, &form, "authorization.pdf", &common::authorization_pdf())
}

/// Waits until Dovecot's log (under the rig's `log/`) has a line with all of `needles`: what
/// Pigeonhole decided about a message is written there, not in any mailbox.
fn wait_for_dovecot_log(servers: &MailServers, needles: &[&str]) -> String {
    let path = servers.root.join("log/dovecot.log");
    let deadline = Instant::now() + LIMIT;
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            return line.to_string();
        }
        assert!(Instant::now() < deadline, "no line with {needles:?} in {} within {LIMIT:?}", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_auto_replied(m: &InboundMail) -> bool {
    m.header("Auto-Submitted").is_some_and(|v| v.starts_with("auto-replied"))
}

/// `(status, kind, request_id)` of each inbound message from `sender`, and the recipients and
/// purpose of each outbox entry: what the bot stored and what it meant to send.
async fn stored(db: &Path, sender: &str) -> (Vec<(String, Option<String>, Option<i64>)>, Vec<(String, String)>) {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(db).read_only(true)).await.unwrap();
    let inbound =
        sqlx::query_as("SELECT status, kind, request_id FROM messages WHERE direction = 'in' AND from_addr = ?1")
            .bind(sender)
            .fetch_all(&pool)
            .await
            .unwrap();
    let outbox = sqlx::query_as("SELECT recipients, purpose FROM outbox ORDER BY id").fetch_all(&pool).await.unwrap();
    pool.close().await;
    (inbound, outbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_vacation_autoresponder_and_the_bot_never_loop() {
    let Some(servers) = common::mail_servers() else { return };
    let started = Instant::now();
    let setup = common::BotOnServers::new(&servers, "verified");
    let (bot, staff) = (setup.bot.clone(), setup.staff.clone());
    let provider = format!("roi-{}@provider.example", medrec::mail::compose::unique_token());
    vacation(&servers, &provider);
    setup.import_providers(&format!(
        "name,street,city,state,zip,email,preferred_method\nVacation Test Hospital,1 Example Way,Lexington,KY,40507,{provider},email\n"
    ));
    let mut provider_inbox = servers.open(&provider, "INBOX").await;
    let mut processed = servers.open(&bot, "Processed").await;
    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    let (daemon, idle) = setup.start();

    // (a) The package reaches the vacation mailbox, marked automatic, from the bot's own envelope
    // address: were it answered, the answer would come to the bot's inbox.
    servers.submit(&staff, &bot, &new_request(&staff, &bot, "Maria Sample", "<new-1@denhamlaw.example>")).await;
    let got = provider_inbox.wait_until(LIMIT, |m| !m.is_empty()).await;
    let package = &got[0];
    assert!(package.subject.starts_with("[MR-1001] Medical records request"), "{}", package.subject);
    assert_eq!(package.from.as_deref(), Some(bot.as_str()));
    assert_eq!(package.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(package.header("Return-Path"), Some(format!("<{bot}>").as_str()), "replies go to the envelope sender");
    let package_id = package.message_id.clone().unwrap();
    // The vacation did run for it, and declined: the RFC 3834 marker is what stops it.
    wait_for_dovecot_log(
        &servers,
        &[&format!("msgid={package_id}"), "discarding vacation response to auto-submitted message"],
    );

    // (b) A person cc's the provider from the bot's address without Auto-Submitted, over the same
    // submission port the bot uses. The vacation answers that one, to the bot.
    let cc_id = format!("<cc-{}@denhamlaw.example>", medrec::mail::compose::unique_token());
    let cc = message(
        &bot,
        &provider,
        "Re: [MR-1001] Medical records request",
        &cc_id,
        "Please include the emergency department records in MR-1001.\n",
        &[],
    );
    servers.submit(&bot, &provider, &cc).await;
    // Processed: only after the bot has stored the message and its effects.
    let taken = processed.wait_until(LIMIT, |m| !answers_to(m, &cc_id).is_empty()).await;
    let autoreply = answers_to(&taken, &cc_id)[0];
    assert_eq!(autoreply.from.as_deref(), Some(provider.as_str()));
    assert!(is_auto_replied(autoreply), "{:?}", autoreply.header("Auto-Submitted"));
    assert!(autoreply.subject.contains("[MR-1001]"), "{}", autoreply.subject);
    // The package was in the provider's mailbox, so its Sieve run was over, before the cc was
    // sent: an answer to it would have reached the bot before this one.
    let from_provider: Vec<&InboundMail> =
        taken.iter().filter(|m| m.from.as_deref() == Some(provider.as_str())).collect();
    assert_eq!(from_provider.len(), 1, "the bot received one autoreply, to the cc only");
    assert!(answers_to(&taken, &package_id).is_empty(), "the package was answered by the autoresponder");
    let received: Vec<String> = daemon.log_lines()[idle..]
        .iter()
        .filter(|l| l.contains("message received") && l.contains("provider.example"))
        .cloned()
        .collect();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].contains("status=filed") && received[0].contains("MR-1001"), "{}", received[0]);

    // Marker for "never answered": a second request's package, queued after anything the
    // autoreply caused, and sent through the same outbox, submission port and mailbox.
    servers.submit(&staff, &bot, &new_request(&staff, &bot, "Jane Roe", "<new-2@denhamlaw.example>")).await;
    let got = provider_inbox.wait_until(LIMIT, |m| m.iter().any(|x| x.subject.starts_with("[MR-1002]"))).await;
    let subjects: Vec<&str> = got.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(got.len(), 3, "package, cc, second package and nothing else: {subjects:?}");
    assert_eq!(got[1].message_id.as_deref(), Some(cc_id.as_str()));
    assert!(got[2].subject.starts_with("[MR-1002]"), "{subjects:?}");
    assert!(answers_to(&got, &autoreply.message_id.clone().unwrap()).is_empty(), "the bot answered the autoreply");
    let mails = staff_inbox
        .wait_until(LIMIT, |m| {
            !answers_to(m, "<new-1@denhamlaw.example>").is_empty()
                && !answers_to(m, "<new-2@denhamlaw.example>").is_empty()
        })
        .await;
    assert_eq!(mails.len(), 2, "two confirmations; no triage notice for the autoreply");
    assert!(daemon.stop().success());

    let db = setup.dir.path().join("var/medrec.db");
    let (inbound, outbox) = stored(&db, &provider).await;
    assert_eq!(inbound, vec![("filed".to_string(), Some("auto_reply".to_string()), Some(1001))]);
    let to_provider: Vec<&str> =
        outbox.iter().filter(|(to, _)| to.contains(&provider)).map(|(_, purpose)| purpose.as_str()).collect();
    assert_eq!(to_provider, ["submission", "submission"], "the bot meant to send the provider only its packages");
    let store = medrec::store::Store::open(&db).await.unwrap();
    let events = store.events(Reference(1001)).await.unwrap();
    store.close().await;
    let filed: Vec<&str> =
        events.iter().filter(|(_, kind, _, _)| kind == "reply_received").map(|(_, _, _, d)| d.as_str()).collect();
    assert_eq!(filed.len(), 1, "{events:?}");
    assert!(filed[0].starts_with("auto_reply"), "{}", filed[0]);
    eprintln!("autoresponder test took {:?}", started.elapsed());
}
