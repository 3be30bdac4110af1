//! Measures how long a staff HELP takes over the real mail servers: from the HELP arriving in
//! the bot's Dovecot mailbox to the answer arriving in the staff mailbox, using the delivery
//! times Dovecot writes into Maildir file names (`<secs>.M<usecs>P…`). Needs the loopback servers:
//!
//!     bash scripts/mail-servers.sh up
//!     MEDREC_TEST_MAIL_ENV=/tmp/medrec-mail/env cargo bench --bench help_latency
//!
//! Prints the median, min and max of 20 rounds, and the daemon's resident memory after them.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{answers_to, message};

const ROUNDS: usize = 20;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(servers) = common::mail_servers() else { return };
    let setup = common::BotOnServers::new(&servers, "verified");
    let (bot, staff) = (setup.bot.clone(), setup.staff.clone());
    let mut staff_inbox = servers.open(&staff, "INBOX").await;
    let (daemon, _) = setup.start();

    let (mut server_side, mut client_side) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        let id = format!("<bench-{i}@denhamlaw.example>");
        let started = Instant::now();
        servers.submit(&staff, &bot, &message(&staff, &bot, "HELP", &id, "HELP\n", &[])).await;
        staff_inbox.wait_until(Duration::from_secs(30), |m| !answers_to(m, &id).is_empty()).await;
        client_side.push(started.elapsed().as_secs_f64() * 1000.0);
        let arrived = common::delivered_at(&common::maildir_of(&servers.root, &bot), &format!("Message-ID: {id}"));
        let answered = common::delivered_at(&common::maildir_of(&servers.root, &staff), &format!("In-Reply-To: {id}"));
        server_side.push((answered - arrived) * 1000.0);
    }
    let rss = rss_kib(daemon.pid());
    assert!(daemon.stop().success());
    report("HELP at Dovecot -> answer at Dovecot (ms)", &mut server_side);
    report("submission -> answer seen over IMAP (ms)", &mut client_side);
    println!("daemon RSS after {ROUNDS} rounds: {rss} KiB");
}

fn report(what: &str, v: &mut [f64]) {
    v.sort_by(f64::total_cmp);
    let median = (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0;
    println!("{what}: median {median:.1}, min {:.1}, max {:.1}, n={}", v[0], v[v.len() - 1], v.len());
}
