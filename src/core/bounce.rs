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
        recipients: recipients(mail, raw),
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

/// The failed addresses: the RFC 3464 fields, else `X-Failed-Recipients`, else what the prose
/// names (see [`prose_recipients`]).
fn recipients(mail: &InboundMail, raw: &str) -> Vec<String> {
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
    if out.is_empty() {
        for (name, value) in &mail.headers {
            if name.eq_ignore_ascii_case("X-Failed-Recipients") {
                for a in value.split(',').filter_map(address_in) {
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
            }
        }
    }
    if out.is_empty() {
        out = prose_recipients(mail, raw);
    }
    out
}

/// Phrases after which (on the same line or the next few) non-standard reports name the
/// address that failed.
const RECIPIENT_LEADS: &[&str] = &[
    "following address",
    "following recipient",
    "following list of recipients",
    "these recipients",
    "not delivered to",
    "not be delivered to",
    "could not be delivered",
    "unable to deliver message to",
    "unable to deliver your message to",
    "wasn't able to deliver",
    "did not reach",
    "delivery to the following",
    "unknown user:",
    "user unknown:",
    "target mail address",
    "recipient address:",
    "failed recipient",
    "undeliverable to",
];

/// The failed recipient named in a report's prose: after a lead phrase; in an SMTP reply line
/// (`550 5.1.1 <addr>... User unknown`); on a line of its own; or, last, in the returned
/// message's `To:`. The report's own sender and recipient are never it.
fn prose_recipients(mail: &InboundMail, raw: &str) -> Vec<String> {
    let mut own: Vec<String> = mail.from.iter().cloned().collect();
    for (name, value) in &mail.headers {
        if name.eq_ignore_ascii_case("To") || name.eq_ignore_ascii_case("Return-Path") {
            own.extend(value.split(',').filter_map(address_in));
        }
    }
    let ok = |a: &String| !own.contains(a);
    // The report's own header block is not prose.
    let body = raw.split_once("\n\n").map_or(raw, |(_, b)| b);
    let lines: Vec<&str> = body.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let lower = line.to_ascii_lowercase();
        if let Some(lead) = RECIPIENT_LEADS.iter().find_map(|l| lower.find(l).map(|at| at + l.len())) {
            let same_line = std::iter::once(&line[lead.min(line.len())..]);
            let found = same_line
                .chain(lines.iter().skip(i + 1).take(6).copied())
                .flat_map(|l| l.split_whitespace().filter_map(address_in).collect::<Vec<_>>())
                .find(ok);
            if let Some(a) = found {
                return vec![a];
            }
        }
    }
    let smtp_reply = |l: &&&str| {
        let t = l.trim_start();
        t.len() > 4 && (t.starts_with('5') || t.starts_with('4')) && t.as_bytes()[..3].iter().all(u8::is_ascii_digit)
    };
    let in_reply = lines
        .iter()
        .filter(smtp_reply)
        .flat_map(|l| l.split_whitespace().filter_map(address_in).collect::<Vec<_>>())
        .find(ok);
    let alone = || {
        lines
            .iter()
            .take_while(|l| !l.starts_with("Received:"))
            .filter_map(|l| address_in(l.trim()))
            .filter(|a| lines.iter().any(|l| l.trim().trim_matches(['<', '>']).eq_ignore_ascii_case(a)))
            .find(ok)
    };
    let returned_to = || {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix("To:").or_else(|| l.strip_prefix("to:")))
            .flat_map(|v| v.split(',').filter_map(address_in).collect::<Vec<_>>())
            .find(ok)
    };
    in_reply.or_else(alone).or_else(returned_to).into_iter().collect()
}

/// The email address in `text` (`<a@b.example>`, `"a@b.example":`, `mailto:`…), lowercased.
fn address_in(text: &str) -> Option<String> {
    let at = text.find('@')?;
    let is_addr = |c: char| c.is_ascii_alphanumeric() || "._%+-=".contains(c);
    let start = text[..at].rfind(|c: char| !is_addr(c)).map_or(0, |i| i + 1);
    let end = text[at + 1..].find(|c: char| !is_addr(c)).map_or(text.len(), |i| at + 1 + i);
    let local = &text[start..at];
    let domain = text[at + 1..end].trim_end_matches('.');
    if local.is_empty() || !domain.contains('.') || domain.starts_with('.') {
        return None;
    }
    Some(format!("{local}@{domain}").to_ascii_lowercase())
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
    fn prose_reports_name_their_recipient() {
        let mut mail = report("failure notice", "mailer-daemon@mx.example", "text/plain", None);
        mail.headers.push(("To".into(), "records@denhamlaw.example".into()));
        let raw = "To: records@denhamlaw.example\n\nHi. This is the qmail-send program.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error.\n\n<roi@provider.example>:\n550 5.1.1 <roi@provider.example>... User unknown\n";
        assert_eq!(read(&mail, raw).unwrap().recipients, vec!["roi@provider.example"]);
        let raw = "To: records@denhamlaw.example\n\nDelivery has failed to these recipients or groups:\nroi@provider.example<mailto:roi@provider.example>\n";
        assert_eq!(read(&mail, raw).unwrap().recipients, vec!["roi@provider.example"]);
        mail.headers.push(("X-Failed-Recipients".into(), "a@b.example, c@d.example".into()));
        assert_eq!(read(&mail, "550 5.1.1 user unknown").unwrap().recipients, vec!["a@b.example", "c@d.example"]);
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
