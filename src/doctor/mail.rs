//! The mail checks: the inbox (an IMAP login and its folders, or the local Maildir), the way
//! out (SMTP connection, TLS and login without sending, or the `.eml` directory), and on request
//! one test message. The test message goes straight to the transport, not through the outbox:
//! it tests the transport, belongs to no request, and must arrive while the admin waits.

use crate::config::{Imap, InboxSource, OutgoingTransport, Settings, Smtp, TlsMode};
use crate::core::inbound::{AutoSubmitted, OutgoingMail};
use crate::mail::compose::{self, Identity};
use crate::mail::imap::{ImapError, ImapInbox};
use crate::mail::send::{SendError, Sender};
use crate::store::PendingEmail;

use super::checklist::{Check, shell_word};

pub const TEST_SUBJECT: &str = "medrec doctor: test message";

/// The inbox check, IMAP or Maildir.
pub async fn inbox(settings: &Settings) -> Check {
    match &settings.inbox.source {
        InboxSource::Imap(imap) => imap_login(imap).await,
        InboxSource::Maildir { path, .. } => {
            let name = format!("Maildir inbox {}", path.display());
            let root = path.clone();
            let probed = tokio::task::spawn_blocking(move || -> std::io::Result<usize> {
                let maildir = crate::mail::maildir::Maildir::open(&root)?;
                for sub in ["tmp", "new", "cur"] {
                    // A dot-file: the inbox watcher skips those.
                    let probe = crate::mail::files::write_atomically(&root.join(sub), ".medrec-doctor-probe", b"")?;
                    std::fs::remove_file(probe)?;
                }
                Ok(maildir.waiting()?.len())
            })
            .await;
            match probed {
                Ok(Ok(waiting)) => {
                    Check::ok(name, format!("new/, cur/ and tmp/ writable; {waiting} message(s) waiting in new/"))
                }
                Ok(Err(e)) => Check::fail(
                    name,
                    format!("not usable: {e}"),
                    format!("make {} and its new/, cur/, tmp/ writable by this user", shell_word(path)),
                ),
                Err(e) => Check::fail(name, format!("the check itself failed: {e}"), "run `medrec doctor` again"),
            }
        }
    }
}

/// Logs in as the daemon does (which also creates the processed folder if missing and selects
/// the inbox folder), counts the folder's messages and logs out.
async fn imap_login(imap: &Imap) -> Check {
    let name = format!("IMAP login {} at {}:{}", imap.user, imap.host, imap.port);
    let inbox = match ImapInbox::new(imap) {
        Ok(inbox) => inbox,
        Err(e) => {
            return Check::fail(
                name,
                format!("{e:#}"),
                "check inbox.imap.password_file (or password_env) and inbox.imap.ca_file",
            );
        }
    };
    let mut connection = match inbox.connect().await {
        Ok(c) => c,
        Err(e) => return Check::fail(name, e.to_string(), imap_fix(imap, &e)),
    };
    let counted = connection.uids().await;
    connection.logout().await;
    match counted {
        Ok(uids) => Check::ok(
            name,
            format!(
                "{}, folder {} ({} messages), processed folder {}",
                tls_name(imap.tls),
                imap.folder,
                uids.len(),
                imap.processed_folder
            ),
        ),
        Err(e) => Check::fail(name, format!("logged in, but cannot list {}: {e}", imap.folder), imap_fix(imap, &e)),
    }
}

fn imap_fix(imap: &Imap, e: &ImapError) -> String {
    match e {
        ImapError::Login(_) => {
            format!("check inbox.imap.user ({}) and the password in {}", imap.user, imap.password)
        }
        ImapError::Connect(_) | ImapError::Timeout(_) => format!(
            "check inbox.imap.host, port and tls ({}), that the server is up and reachable from here, and \
             inbox.imap.ca_file if it uses a private CA",
            tls_name(imap.tls)
        ),
        ImapError::Protocol(_) => format!(
            "check that the folder inbox.imap.folder = \"{}\" exists and that the account may create \"{}\"",
            imap.folder, imap.processed_folder
        ),
    }
}

/// The way out, and the test message when `send_test_to` is given.
pub async fn outgoing(settings: &Settings, send_test_to: Option<&str>) -> Vec<Check> {
    let (name, fix) = match &settings.outgoing.transport {
        OutgoingTransport::Smtp(s) => smtp_name_and_fix(s),
        OutgoingTransport::Directory { path } => (
            format!("outgoing directory {}", path.display()),
            format!("make {} writable by this user", shell_word(path)),
        ),
    };
    let sender = match Sender::new(&settings.outgoing.transport) {
        Ok(sender) => sender,
        Err(e) => return vec![Check::fail(name, format!("{e:#}"), fix)],
    };
    let mut checks = vec![match sender.check().await {
        Ok(detail) => Check::ok(name, outgoing_detail(&settings.outgoing.transport, &detail)),
        Err(e) => Check::fail(name, e, fix),
    }];
    match send_test_to {
        Some(to) if checks[0].failed() => checks.push(Check::fail(
            format!("test message to {to}"),
            "not sent: the way out failed its check",
            "correct the line above first, then run `medrec doctor --send-test-to` again",
        )),
        Some(to) => checks.push(send_test(settings, &sender, to).await),
        None => {}
    }
    checks
}

fn smtp_name_and_fix(s: &Smtp) -> (String, String) {
    let place = format!("{}:{}", s.host, s.port);
    let login = match (&s.user, &s.password) {
        (Some(user), Some(password)) => format!("outgoing.smtp.user ({user}) and the password in {password}; "),
        _ => String::new(),
    };
    let name = if login.is_empty() { format!("SMTP at {place}") } else { format!("SMTP authentication at {place}") };
    let fix = format!(
        "check {login}outgoing.smtp.host, port and tls ({}); and outgoing.smtp.ca_file if the server uses a private CA",
        tls_name(s.tls)
    );
    (name, fix)
}

fn outgoing_detail(transport: &OutgoingTransport, detail: &str) -> String {
    match transport {
        OutgoingTransport::Smtp(s) => match &s.user {
            Some(user) if s.password.is_some() => format!("{}, logged in as {user}; {detail}", tls_name(s.tls)),
            _ => format!("{}, no login configured; {detail}", tls_name(s.tls)),
        },
        OutgoingTransport::Directory { .. } => format!("{detail} (mail is written as .eml files, not sent)"),
    }
}

/// Sends the one test message through `sender`.
async fn send_test(settings: &Settings, sender: &Sender, to: &str) -> Check {
    let name = format!("test message to {to}");
    let me = Identity {
        address: settings.bot.address.clone(),
        name: settings.bot.name.clone(),
        mail_domain: settings.firm.mail_domain.clone(),
    };
    let now = crate::daemon::clock::now();
    let composed = match compose::compose(&test_message(to, &settings.firm.name), &me, &compose::unique_token(), now) {
        Ok(c) => c,
        Err(e) => return Check::fail(name, format!("cannot compose it: {e}"), "give an address like you@example.com"),
    };
    // Outbox ids start at 1: id 0 names the file of a directory outbox without clashing.
    let email = PendingEmail {
        outbox_id: 0,
        message_id: composed.message_id,
        envelope_from: composed.envelope_from,
        recipients: composed.recipients,
        raw: composed.raw,
        attempts: 0,
        created_at: now,
        request: None,
    };
    match (sender.send(&email).await, &settings.outgoing.transport) {
        (Ok(()), OutgoingTransport::Smtp(s)) => Check::ok(
            name,
            format!("accepted by {}:{} from {}; look for \"{TEST_SUBJECT}\" there", s.host, s.port, me.address),
        ),
        (Ok(()), OutgoingTransport::Directory { path }) => Check::ok(
            name,
            format!("written to {} as 00000000.eml (the directory outbox sends nothing)", path.display()),
        ),
        (Err(SendError::Transient(e)), _) => Check::fail(
            name,
            format!("not accepted (a temporary failure): {e}"),
            "try again in a minute; if it persists, see the line above",
        ),
        (Err(SendError::Permanent(e)), _) => Check::fail(
            name,
            format!("refused: {e}"),
            "see the line above; a refused recipient means the server will not take mail for it from the bot",
        ),
    }
}

/// The test message: from the bot, `Auto-Submitted: auto-generated`, about nothing but itself.
pub fn test_message(to: &str, firm: &str) -> OutgoingMail {
    OutgoingMail {
        to: vec![to.to_string()],
        subject: TEST_SUBJECT.into(),
        body: format!(
            "This is a test message from `medrec doctor`, the records bot of {firm}.\n\n\
             It arrived, so the bot's outgoing mail works. Nothing needs to be done; you may delete it.\n"
        ),
        in_reply_to: None,
        references: vec![],
        reference: None,
        auto_submitted: AutoSubmitted::AutoGenerated,
        attachments: vec![],
    }
}

fn tls_name(tls: TlsMode) -> &'static str {
    match tls {
        TlsMode::Implicit => "implicit TLS",
        TlsMode::StartTls => "STARTTLS",
        TlsMode::None => "no TLS (loopback)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_message_is_auto_generated_and_about_nothing_else() {
        let m = test_message("admin@denhamlaw.example", "Denham Law");
        assert_eq!(m.subject, TEST_SUBJECT);
        assert_eq!(m.auto_submitted, AutoSubmitted::AutoGenerated);
        assert_eq!((m.reference, m.attachments.len()), (None, 0));
        assert!(m.body.contains("Denham Law"));
    }

    #[test]
    fn smtp_fixes_name_the_keys_to_check_and_never_the_secret() {
        let s = Smtp {
            host: "mail.example".into(),
            port: 587,
            tls: TlsMode::StartTls,
            user: Some("records@denhamlaw.example".into()),
            password: Some(crate::config::SecretSource::File("/etc/medrec/smtp".into())),
            ca_file: None,
            timeout: std::time::Duration::from_secs(10),
        };
        let (name, fix) = smtp_name_and_fix(&s);
        assert_eq!(name, "SMTP authentication at mail.example:587");
        assert!(fix.contains("the password in file /etc/medrec/smtp") && fix.contains("STARTTLS"), "{fix}");
        let (name, fix) = smtp_name_and_fix(&Smtp { user: None, password: None, ..s });
        assert_eq!(name, "SMTP at mail.example:587");
        assert!(!fix.contains("password"), "{fix}");
    }
}
