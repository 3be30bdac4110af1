//! Delivery reports: whether a message is a bounce (a final failure) or only a delay warning,
//! for whom, why, and which of our own messages it returns. RFC 3464 reports
//! (`multipart/report; report-type=delivery-status`) carry `Action:`, `Final-Recipient:` and
//! `Diagnostic-Code:` fields; the many non-standard MTA formats say the same in prose, so the
//! prose is read too. Our messages are found by their `Message-ID`s, which carry the request.

use super::inbound::InboundMail;
use super::message_id;
use super::reference::Reference;

/// A final failure or a warning that delivery is still being tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Failed,
    Delayed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub delivery: Delivery,
    /// The addresses that failed, when the report names them.
    pub recipients: Vec<String>,
    /// The first diagnostic line, e.g. `smtp; 550 5.1.1 User unknown`.
    pub diagnostic: Option<String>,
}

const FAILURE_SUBJECTS: &[&str] = &[
    "undeliver",
    "delivery status notification",
    "delivery failure",
    "delivery has failed",
    "mail delivery failed",
    "mail delivery failure",
    "returned mail",
    "failure notice",
    "could not be delivered",
    "delivery notification",
    "nondeliverable",
    "non-delivery",
    "message not delivered",
    "mail system error",
    "automatic bounce",
    "warning: message",
    "mail delivery system",
    "rejected",
];
const SYSTEM_SENDERS: &[&str] = &["mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon"];
const DELAY_MARKERS: &[&str] = &[
    "action: delayed",
    "warning message only",
    "you do not need to resend",
    "will continue trying",
    "will retry",
    "still trying",
    "delivery delayed",
    "has been delayed",
    "(delay)",
];

/// Reads `mail` as a delivery report; `None` when it is not one. `raw` is the whole message as
/// text (reports quote the original's headers, and delivery-status parts are not body text).
pub fn read(mail: &InboundMail, raw: &str) -> Option<Report> {
    let subject = mail.subject.to_ascii_lowercase();
    let sender = mail.from.as_deref().and_then(|f| f.split('@').next()).unwrap_or("").to_ascii_lowercase();
    let is_dsn = mail.content_type == "multipart/report" && mail.report_type.as_deref() == Some("delivery-status");
    let from_system =
        SYSTEM_SENDERS.iter().any(|s| sender == *s) || mail.header("Return-Path").is_some_and(|v| v.trim() == "<>");
    let failure_subject = FAILURE_SUBJECTS.iter().any(|s| subject.contains(s));
    if !(is_dsn
        || (from_system && (failure_subject || raw_mentions_failure(raw)))
        || (failure_subject && raw_mentions_failure(raw)))
    {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    let delayed =
        DELAY_MARKERS.iter().any(|m| lower.contains(m) || subject.contains(m)) && !lower.contains("action: failed");
    Some(Report {
        delivery: if delayed { Delivery::Delayed } else { Delivery::Failed },
        recipients: recipients(raw),
        diagnostic: field(raw, "diagnostic-code:").or_else(|| field(raw, "status: 5")),
    })
}

fn raw_mentions_failure(raw: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    [
        "final-recipient:",
        "permanent error",
        "permanent fatal error",
        "user unknown",
        "could not be delivered",
        "delivery to the following",
        "undeliverable",
        "550 ",
        "554 ",
        "5.1.1",
        "mailbox full",
        "quota exceeded",
        "failed permanently",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// The value after the first line starting with `name` (case-insensitive).
fn field(raw: &str, name: &str) -> Option<String> {
    raw.lines().map(str::trim).find(|l| l.to_ascii_lowercase().starts_with(name)).map(|l| {
        let value = if name.ends_with(':') { &l[name.len()..] } else { l.split_once(':').map(|(_, v)| v).unwrap_or(l) };
        value.trim().to_string()
    })
}

fn recipients(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim) {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("final-recipient:").or_else(|| lower.strip_prefix("original-recipient:")) {
            let address = v.rsplit(';').next().unwrap_or(v).trim().trim_matches(['<', '>']).to_string();
            if address.contains('@') && !out.contains(&address) {
                out.push(address);
            }
        }
    }
    out
}

/// Our own messages a report returns: every `<mr-N.…@domain>` in the raw text except the
/// report's own `Message-ID`, as (request, Message-ID).
pub fn our_messages(raw: &str, domain: &str, own_id: Option<&str>) -> Vec<(Reference, String)> {
    let mut out: Vec<(Reference, String)> = Vec::new();
    let lower = raw.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(start) = rest.find("<mr-") {
        let candidate = &rest[start..];
        let Some(end) = candidate.find('>') else { break };
        let id = &candidate[..=end];
        if own_id != Some(id)
            && let Some(reference) = message_id::reference_of(id, domain)
            && !out.iter().any(|(_, seen)| seen == id)
        {
            out.push((reference, id.to_string()));
        }
        rest = &candidate[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(subject: &str, from: &str, ctype: &str, report_type: Option<&str>) -> InboundMail {
        InboundMail {
            parsed: true,
            from: Some(from.into()),
            subject: subject.into(),
            content_type: ctype.into(),
            report_type: report_type.map(String::from),
            ..InboundMail::default()
        }
    }

    #[test]
    fn a_standard_dsn_names_recipient_and_diagnostic() {
        let raw = "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; roi@provider.example\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\nMessage-ID: <mr-1001.abc@denhamlaw.example>\n";
        let mail = report(
            "Undelivered Mail Returned to Sender",
            "mailer-daemon@mx.example",
            "multipart/report",
            Some("delivery-status"),
        );
        let r = read(&mail, raw).unwrap();
        assert_eq!(r.delivery, Delivery::Failed);
        assert_eq!(r.recipients, vec!["roi@provider.example"]);
        assert_eq!(r.diagnostic.as_deref(), Some("smtp; 550 5.1.1 User unknown"));
        assert_eq!(
            our_messages(raw, "denhamlaw.example", None),
            vec![(Reference(1001), "<mr-1001.abc@denhamlaw.example>".into())]
        );
    }

    #[test]
    fn a_delay_warning_is_not_a_failure() {
        let raw = "Action: delayed\nFinal-Recipient: rfc822; roi@provider.example\n";
        let mail = report(
            "Delivery Status Notification (Delay)",
            "mailer-daemon@mx.example",
            "multipart/report",
            Some("delivery-status"),
        );
        assert_eq!(read(&mail, raw).unwrap().delivery, Delivery::Delayed);
    }

    #[test]
    fn ordinary_mail_is_not_a_report() {
        let mail = report("Re: records for MR-1001", "roi@provider.example", "text/plain", None);
        assert_eq!(read(&mail, "Please find the records attached."), None);
    }

    #[test]
    fn the_reports_own_id_and_other_domains_are_skipped() {
        let raw =
            "Message-ID: <mr-5.x@denhamlaw.example>\nReferences: <mr-6.y@other.example> <mr-7.z@denhamlaw.example>";
        let found = our_messages(raw, "denhamlaw.example", Some("<mr-5.x@denhamlaw.example>"));
        assert_eq!(found, vec![(Reference(7), "<mr-7.z@denhamlaw.example>".into())]);
    }
}
