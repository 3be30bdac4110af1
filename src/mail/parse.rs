//! Reads raw mail bytes into the core's [`InboundMail`] with mail-parser. Never fails: bytes
//! that are not a message give `parsed: false`, and the raw bytes are kept by the caller.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use crate::core::inbound::{Attachment, InboundMail};

/// Parses `raw`. Broken MIME yields what could be read.
pub fn parse(raw: &[u8]) -> InboundMail {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return InboundMail::default();
    };
    let headers = msg.headers_raw().map(|(name, value)| (name.to_string(), unfold(value))).collect::<Vec<_>>();
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| !a.is_empty());
    let (content_type, report_type) = msg
        .root_part()
        .content_type()
        .map(|ct| {
            let full = match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            };
            (full.to_ascii_lowercase(), ct.attribute("report-type").map(|r| r.to_ascii_lowercase()))
        })
        .unwrap_or_else(|| ("text/plain".into(), None));
    // HTML-only mail: mail-parser breaks lines only at <br> and </p>; turn block elements
    // into lines and <blockquote> into `>` quoting so the new text can be told from quotes.
    let html_only = msg.html_body_count() > 0 && msg.text_bodies().all(|p| p.is_text_html());
    let text = if html_only {
        msg.body_html(0).map(|h| crate::core::classify::html_to_text(&h)).unwrap_or_default()
    } else {
        msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    };
    InboundMail {
        parsed: true,
        message_id: msg.message_id().map(|id| format!("<{}>", id.trim())),
        from,
        subject: msg.subject().unwrap_or("").trim().to_string(),
        in_reply_to: ids(msg.in_reply_to()).into_iter().next(),
        references: ids(msg.references()),
        headers,
        content_type,
        report_type,
        text,
        attachments: msg.attachments().map(attachment).collect(),
    }
}

fn attachment(part: &mail_parser::MessagePart<'_>) -> Attachment {
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_ascii_lowercase();
    let filename = part.attachment_name().unwrap_or("attachment").to_string();
    Attachment { filename, content_type, bytes: part.contents().to_vec() }
}

/// Message-IDs from an `In-Reply-To` or `References` value, with angle brackets.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    list.into_iter().map(|id| format!("<{}>", id.trim())).collect()
}

/// A raw header value on one line (RFC 5322 §2.2.3 unfolding), trimmed.
fn unfold(value: &str) -> String {
    value.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_the_core_needs() {
        let raw = b"From: \"Para Legal\" <Paralegal@DenhamLaw.example>\r\nTo: bot@denhamlaw.example\r\n\
Subject: HELP\r\nMessage-ID: <abc@x.example>\r\nIn-Reply-To: <p@x.example>\r\n\
References: <o@x.example>\r\n <p@x.example>\r\nAuto-Submitted: no\r\n\r\nHELP\r\n";
        let m = parse(raw);
        assert!(m.parsed);
        assert_eq!(m.from.as_deref(), Some("paralegal@denhamlaw.example"));
        assert_eq!(m.message_id.as_deref(), Some("<abc@x.example>"));
        assert_eq!(m.in_reply_to.as_deref(), Some("<p@x.example>"));
        assert_eq!(m.references, vec!["<o@x.example>", "<p@x.example>"]);
        assert_eq!(m.header("auto-submitted"), Some("no"));
        assert_eq!(m.text.trim(), "HELP");
        assert_eq!(m.content_type, "text/plain");
    }

    #[test]
    fn html_only_mail_keeps_its_lines_and_quotes() {
        let raw = b"From: roi@p.example\r\nSubject: Re: request\r\nContent-Type: text/html\r\n\r\n\
<div>Your reference</div><div>MR-1290</div><blockquote>Our old letter text</blockquote>";
        let m = parse(raw);
        assert!(
            m.text.contains("Your reference\nMR-1290") || m.text.contains("Your reference\n\nMR-1290"),
            "{:?}",
            m.text
        );
        assert!(m.text.contains("> Our old letter text"), "{:?}", m.text);
    }

    #[test]
    fn garbage_does_not_panic() {
        for raw in [&b""[..], b"\0\0\0", b"no headers at all", b"Subject: =?utf-8?q?=ZZ?=\r\n\r\n"] {
            let _ = parse(raw);
        }
    }
}
