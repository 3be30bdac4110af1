//! The daemon as an admin runs it: systemd notifications (READY, WATCHDOG, STOPPING), the HTTP
//! endpoints (/healthz, /readyz, /metrics), SIGTERM draining to exit 0, and SIGHUP reloading the
//! config only when it passes the checks. The binary runs as a subprocess on the embedded default.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Daemon, Embedded, http_get};

const STAFF: &str = "paralegal@denhamlaw.example";
const BOT: &str = "records@denhamlaw.example";

/// A stand-in for systemd's notification socket.
struct NotifySocket {
    _dir: tempfile::TempDir,
    path: String,
    socket: UnixDatagram,
}

impl NotifySocket {
    fn new() -> NotifySocket {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        NotifySocket { path: path.display().to_string(), _dir: dir, socket }
    }

    /// The next notification, within `limit`.
    fn next(&self, limit: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(limit)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Reads notifications until one contains `needle`; returns those read before it.
    fn until(&self, needle: &str, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        let mut before = Vec::new();
        loop {
            let left = deadline.checked_duration_since(Instant::now()).unwrap_or_default();
            match self.next(left.max(Duration::from_millis(1))) {
                Some(m) if m.contains(needle) => return before,
                Some(m) => before.push(m),
                None => panic!("no {needle:?} from medrec within {limit:?}; got {before:?}"),
            }
        }
    }
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
}

#[test]
fn systemd_hears_ready_then_watchdog_pings_then_stopping_and_sigterm_exits_zero() {
    let e = Embedded::new(false);
    let notify = NotifySocket::new();
    let daemon =
        Daemon::start_with(&e.config, &[], &[("NOTIFY_SOCKET", notify.path.as_str()), ("WATCHDOG_USEC", "400000")]);
    let before_ready = notify.until("READY=1", Duration::from_secs(60));
    assert!(before_ready.iter().any(|m| m.contains("STATUS=connecting to the inbox")), "{before_ready:?}");
    assert!(!before_ready.iter().any(|m| m.contains("READY=1")));
    // Pings come every WatchdogSec/2 while every loop keeps its promise.
    notify.until("WATCHDOG=1", Duration::from_secs(5));
    notify.until("WATCHDOG=1", Duration::from_secs(5));

    let addr = daemon.http_address();
    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(http_get(addr, "/readyz"), (200, "ready\n".to_string()));
    let (status, before) = http_get(addr, "/metrics");
    assert_eq!(status, 200);
    assert_eq!(metric(&before, "medrec_inbox_connected{"), 1.0);
    assert!(metric(&before, "medrec_inbox_last_poll_timestamp_seconds{") > 1.7e9, "{before}");
    assert!(!before.contains("medrec_messages_received_total{"), "{before}");

    // A HELP is received, answered and counted.
    e.drop_mail("help.eml", &common::message(STAFF, BOT, "HELP", "<help-1@denhamlaw.example>", "HELP\n", &[]));
    e.outbox_files(1);
    let (_, after) = http_get(addr, "/metrics");
    assert_eq!(metric(&after, "medrec_messages_received_total{kind=\"none\"}"), 1.0, "{after}");
    assert_eq!(metric(&after, "medrec_sends_total{channel=\"email\",result=\"sent\"}"), 1.0, "{after}");
    assert_eq!(metric(&after, "medrec_outbox_depth"), 0.0);
    assert_eq!(metric(&after, "medrec_webhook_rejections_total"), 0.0);
    assert_eq!(http_get(addr, "/webhooks/telnyx").0, 405, "the webhooks share the server");

    daemon.signal(libc::SIGTERM);
    notify.until("STOPPING=1", Duration::from_secs(30));
    let status = daemon.wait();
    assert_eq!(status.code(), Some(0), "SIGTERM must drain and exit 0");
}

#[test]
fn an_inbox_that_cannot_connect_keeps_the_daemon_alive_but_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let password = common::secret_file(dir.path(), "imap-password", "not-used");
    let closed = common::free_port();
    let sections = format!(
        "[inbox]\nsender_trust = \"unverified\"\n\n[inbox.imap]\nhost = \"127.0.0.1\"\nport = {closed}\ntls = \"none\"\n\
         user = \"bot\"\npassword_file = \"{}\"\nreconnect_max_secs = 1\ncommand_timeout_secs = 2\n\n\
         [outgoing.directory]\npath = \"var/mail/outbox\"\n",
        password.display()
    );
    let config = common::write_config(dir.path(), BOT, STAFF, &sections);
    let notify = NotifySocket::new();
    let daemon = Daemon::start_with(&config, &[], &[("NOTIFY_SOCKET", notify.path.as_str())]);
    let addr = daemon.http_address();
    daemon.wait_for_log("inbox connection failed; reconnecting", 0, Duration::from_secs(30));
    daemon.wait_for_log("reconnects=2", 0, Duration::from_secs(30));
    assert_eq!(http_get(addr, "/healthz").0, 200);
    let (status, body) = http_get(addr, "/readyz");
    assert_eq!(status, 503);
    assert!(
        body.contains(&format!("not ready: the inbox imap:bot@127.0.0.1:{closed}/INBOX is not connected")),
        "{body}"
    );
    let (_, metrics) = http_get(addr, "/metrics");
    assert!(metric(&metrics, "medrec_imap_reconnects_total{") >= 2.0, "{metrics}");
    assert_eq!(metric(&metrics, "medrec_inbox_connected{"), 0.0);
    assert_eq!(metric(&metrics, "medrec_inbox_last_poll_timestamp_seconds{"), 0.0);
    // What systemd heard so far: a status line, never READY.
    let mut heard = Vec::new();
    while let Some(m) = notify.next(Duration::from_millis(200)) {
        heard.push(m);
    }
    assert!(heard.iter().any(|m| m.contains("STATUS=connecting to the inbox")), "{heard:?}");
    assert!(!heard.iter().any(|m| m.contains("READY=1")), "{heard:?}");
    assert_eq!(daemon.stop().code(), Some(0));
}

/// Adds a staff member to the config file.
fn add_staff(config: &Path, address: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    let staff = format!("[[staff]]\naddress = \"{address}\"\nname = \"New Hire\"\ntitle = \"Paralegal\"\n\n[storage]");
    std::fs::write(config, text.replacen("[storage]", &staff, 1)).unwrap();
}

#[test]
fn sighup_takes_a_changed_config_that_passes_the_checks_and_keeps_the_old_one_otherwise() {
    const HIRE: &str = "new.hire@denhamlaw.example";
    let e = Embedded::new(false);
    let daemon = e.start();
    let help = |n: u32| common::message(HIRE, BOT, "HELP", &format!("<hire-{n}@denhamlaw.example>"), "HELP\n", &[]);

    // Not on staff yet: kept and passed to staff for triage; the sender gets no answer.
    e.drop_mail("1.eml", &help(1));
    let at = daemon.wait_for_log("message received", 0, Duration::from_secs(30));
    assert!(daemon.log_lines()[at].contains("status=triage"), "{}", daemon.log_lines()[at]);
    let answered = |mails: &[medrec::core::inbound::InboundMail], n: u32| {
        let id = format!("<hire-{n}@denhamlaw.example>");
        mails.iter().any(|m| m.in_reply_to.as_deref() == Some(&id) && m.header("To").is_some_and(|t| t.contains(HIRE)))
    };
    assert!(!answered(&e.outbox(1), 1));

    add_staff(&e.config, HIRE);
    daemon.signal(libc::SIGHUP);
    let at = daemon.wait_for_log("config reloaded", at, Duration::from_secs(30));
    let at = daemon.wait_for_log("medrec ready", at, Duration::from_secs(30));
    e.drop_mail("2.eml", &help(2));
    let mails = e.outbox(2);
    assert!(answered(&mails, 2), "the new staff member's HELP is answered after the reload");
    assert!(!answered(&mails, 1));

    // A broken edit: the daemon says why and goes on with what it has.
    let good = std::fs::read_to_string(&e.config).unwrap();
    std::fs::write(&e.config, good.replace("[bot]", "[bot]\ntypo_key = 1")).unwrap();
    daemon.signal(libc::SIGHUP);
    let at = daemon.wait_for_log("config not reloaded", at, Duration::from_secs(30));
    assert!(daemon.log_lines()[at].contains("typo_key"), "{}", daemon.log_lines()[at]);
    e.drop_mail("3.eml", &help(3));
    assert!(answered(&e.outbox(3), 3), "still running on the config it had");

    // A valid file whose secret cannot be read: the running config stays too.
    let maildir = "[inbox.maildir]\npath = \"../var/mail/inbox\"\npoll_interval_ms = 250";
    assert!(good.contains(maildir));
    let imap = "[inbox.imap]\nhost = \"127.0.0.1\"\nport = 143\ntls = \"none\"\nuser = \"bot\"\npassword_file = \"/nonexistent/imap-password\"";
    std::fs::write(&e.config, good.replace(maildir, imap)).unwrap();
    daemon.signal(libc::SIGHUP);
    let at = daemon.wait_for_log("config not reloaded: a secret cannot be read", at, Duration::from_secs(30));
    assert!(daemon.log_lines()[at].contains("/nonexistent/imap-password"), "{}", daemon.log_lines()[at]);
    e.drop_mail("4.eml", &help(4));
    assert!(answered(&e.outbox(4), 4), "still running on the config it had");
    assert_eq!(daemon.stop().code(), Some(0));
}

#[test]
fn the_daemon_refuses_to_start_with_a_secret_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let password = common::secret_file(dir.path(), "imap-password", "hunter2-secret");
    std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o644)).unwrap();
    let sections = format!(
        "[inbox]\nsender_trust = \"unverified\"\n\n[inbox.imap]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
         user = \"bot\"\npassword_file = \"{}\"\n\n[outgoing.directory]\npath = \"var/mail/outbox\"\n",
        common::free_port(),
        password.display()
    );
    let config = common::write_config(dir.path(), BOT, STAFF, &sections);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_medrec"))
        .args(["run", "--config"])
        .arg(&config)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is readable by every user; make it private"), "{stderr}");
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
}
