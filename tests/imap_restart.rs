//! The IMAP server restarts while the daemon waits in IDLE: the daemon reconnects and takes
//! the mail that arrived meanwhile, once. Its own test binary, because stopping Dovecot would
//! disturb tests running beside it.

mod common;

use std::time::Duration;

use common::{answers_to, message};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_reconnects_after_an_imap_restart_and_takes_mail_once() {
    let Some(servers) = common::mail_servers() else { return };
    // While Dovecot (also the SASL server) is down, only unauthenticated relay can queue mail, so
    // this inbox trusts From as written; sender checks are covered by the other IMAP test.
    let setup = common::BotOnServers::new(&servers, "unverified");
    let (bot, staff) = (setup.bot.clone(), setup.staff.clone());
    let (daemon, idle) = setup.start();

    servers.script("stop-imap");
    let lost = daemon.wait_for_log("reconnecting", idle, LIMIT);
    // Postfix queues this while Dovecot's LMTP is down and delivers it once Dovecot is back.
    let help = message(&staff, &bot, "HELP", "<during-restart@denhamlaw.example>", "HELP\n", &[]);
    servers.relay(&staff, &bot, &help).await;
    servers.script("start-imap");
    daemon.wait_for_log("inbox connected", lost, LIMIT);

    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    staff_inbox.wait_until(LIMIT, |m| !answers_to(m, "<during-restart@denhamlaw.example>").is_empty()).await;
    // A sentinel after it: once it is answered, any repeat of the first answer would be there too.
    let sentinel = message(&staff, &bot, "HELP", "<after-restart@denhamlaw.example>", "HELP\n", &[]);
    servers.relay(&staff, &bot, &sentinel).await;
    let mails = staff_inbox.wait_until(LIMIT, |m| !answers_to(m, "<after-restart@denhamlaw.example>").is_empty()).await;
    assert_eq!(answers_to(&mails, "<during-restart@denhamlaw.example>").len(), 1, "answered exactly once");
    assert_eq!(mails.len(), 2);

    let mut processed = servers.open(&bot, "Processed").await;
    assert_eq!(processed.all().await.len(), 2, "both originals in Processed");
    assert!(daemon.stop().success());
}
