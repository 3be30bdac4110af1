//! Measures how fast a deficiency reaches its owner over the real mail servers: from the
//! provider's reply arriving in the bot's Dovecot mailbox to the deficiency notice arriving in
//! the owner's, by the delivery times Dovecot writes into Maildir file names. Needs the loopback
//! servers:
//!
//!     bash scripts/mail-servers.sh up
//!     MEDREC_TEST_MAIL_ENV=/tmp/medrec-mail/env cargo bench --bench deficiency_latency
//!
//! Creates 20 requests, then answers each with a deficiency, one at a time; prints the median,
//! min and max.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

const ROUNDS: usize = 20;
const LIMIT: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(servers) = common::mail_servers() else { return };
    let setup = common::BotOnServers::new(&servers, "verified");
    let (bot, staff) = (setup.bot.clone(), setup.staff.clone());
    let provider = common::unique_address("roi");
    setup.import_providers(&format!(
        "name,street,city,state,zip,email,preferred_method\nLoopback General Hospital,1 Test Way,Lexington,KY,40507,{provider},email\n"
    ));
    let (daemon, _) = setup.start();
    for i in 0..ROUNDS {
        let form = format!(
            "NEW\nPatient: Patient{i} Sample\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 12 Example Lane, \
             Lexington, KY 40507\nProvider: Loopback General Hospital\nRecords: medical\nFrom: 01/15/2026\n"
        );
        let raw = common::message_with_attachment(
            &staff,
            &bot,
            "NEW",
            &format!("<new-{i}@denhamlaw.example>"),
            &form,
            "authorization.pdf",
            &common::authorization_pdf(),
        );
        servers.submit(&staff, &bot, &raw).await;
    }
    let mut provider_inbox = servers.open(&provider, "INBOX").await;
    let packages = provider_inbox.wait_until(LIMIT, |m| m.len() >= ROUNDS).await;
    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    let mut ms = Vec::new();
    for package in &packages {
        let reference = package.subject.split(']').next().unwrap().trim_start_matches('[').to_string();
        let id = format!("<deficiency-{reference}@loopback-general.example>");
        let body = "We are unable to process this request: the authorization is not signed. Please resubmit \
                    with a signed HIPAA authorization.\n";
        let in_reply_to = format!("In-Reply-To: {}", package.message_id.as_deref().unwrap());
        let raw = common::message(&provider, &bot, "Re: request", &id, body, &[&in_reply_to]);
        servers.relay(&provider, &bot, &raw).await;
        let needle = format!("[{reference}] Deficiency");
        staff_inbox.wait_until(LIMIT, |m| m.iter().any(|m| m.subject.contains(&needle))).await;
        let arrived = common::delivered_at(&common::maildir_of(&servers.root, &bot), &format!("Message-ID: {id}"));
        let notified = common::delivered_at(&common::maildir_of(&servers.root, &staff), &needle);
        ms.push((notified - arrived) * 1000.0);
    }
    assert!(daemon.stop().success());
    ms.sort_by(f64::total_cmp);
    let median = (ms[ms.len() / 2 - 1] + ms[ms.len() / 2]) / 2.0;
    println!(
        "deficiency at Dovecot -> owner's notice at Dovecot (ms): median {median:.1}, min {:.1}, max {:.1}, n={}",
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
}
