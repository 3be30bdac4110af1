//! Turns the core's [`OutgoingMail`] into the bytes of an RFC 5322 message with lettre, with the
//! headers every bot message carries: our `Message-ID` (encoding the request reference),
//! `[MR-n]` in the subject, `Reply-To` the bot, `Auto-Submitted` (RFC 3834) and threading.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment as LettreAttachment, Mailbox, Mailboxes, MultiPart, SinglePart};

use crate::core::inbound::OutgoingMail;
use crate::core::message_id;

/// A composed message, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Composed {
    pub message_id: String,
    pub subject: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
}

/// Who the bot is on the wire.
#[derive(Debug, Clone)]
pub struct Identity {
    pub address: String,
    pub name: String,
    pub mail_domain: String,
}

/// Composes `mail`; `unique` makes the `Message-ID` unique and is drawn by the caller.
pub fn compose(mail: &OutgoingMail, me: &Identity, unique: &str, now: DateTime<Utc>) -> anyhow::Result<Composed> {
    let id = message_id::make(mail.reference, unique, &me.mail_domain);
    let subject = match mail.reference {
        Some(r) if !mail.subject.contains(&format!("[{r}]")) => format!("[{r}] {}", mail.subject),
        _ => mail.subject.clone(),
    };
    let bot = Mailbox::new(Some(me.name.clone()), me.address.parse()?);
    let mut to = Mailboxes::new();
    for addr in &mail.to {
        to.push(Mailbox::new(None, addr.parse()?));
    }
    let mut builder = Message::builder()
        .from(bot.clone())
        .reply_to(bot)
        .mailbox(lettre::message::header::To::from(to))
        .subject(subject.clone())
        .message_id(Some(id.clone()))
        .date(now.into())
        .header(AutoSubmitted(mail.auto_submitted.as_str().to_string()))
        // Asks Exchange and Outlook not to send their auto-replies to us (MS-OXCMAIL 2.2.3.2.14).
        .header(AutoResponseSuppress("All".into()));
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(parent.clone());
    }
    if !mail.references.is_empty() {
        builder = builder.references(mail.references.join(" "));
    }
    let message = if mail.attachments.is_empty() {
        builder.header(ContentType::TEXT_PLAIN).body(mail.body.clone())?
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(mail.body.clone()));
        for a in &mail.attachments {
            let kind = ContentType::parse(&a.content_type).unwrap_or(ContentType::parse("application/octet-stream")?);
            parts = parts.singlepart(LettreAttachment::new(a.filename.clone()).body(a.bytes.clone(), kind));
        }
        builder.multipart(parts)?
    };
    Ok(Composed {
        message_id: id,
        subject,
        envelope_from: me.address.clone(),
        recipients: mail.to.clone(),
        raw: message.formatted(),
    })
}

/// A random token for `Message-ID`s: 16 base-36 characters.
pub fn unique_token() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..16).map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char).collect()
}

macro_rules! text_header {
    ($ty:ident, $name:literal) => {
        #[derive(Debug, Clone)]
        struct $ty(String);

        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($ty(s.to_string()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(AutoSubmitted, "Auto-Submitted");
text_header!(AutoResponseSuppress, "X-Auto-Response-Suppress");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::inbound::AutoSubmitted as Kind;
    use crate::core::reference::Reference;

    fn me() -> Identity {
        Identity {
            address: "records@denhamlaw.example".into(),
            name: "Records Bot".into(),
            mail_domain: "denhamlaw.example".into(),
        }
    }

    #[test]
    fn carries_the_bot_headers_and_threading() {
        let mail = OutgoingMail {
            to: vec!["paralegal@denhamlaw.example".into()],
            subject: "Re: status".into(),
            body: "Hello — ünïcode".into(),
            in_reply_to: Some("<a@x.example>".into()),
            references: vec!["<o@x.example>".into(), "<a@x.example>".into()],
            reference: Some(Reference(1042)),
            auto_submitted: Kind::AutoReplied,
            attachments: Vec::new(),
        };
        let c = compose(&mail, &me(), "tok", DateTime::from_timestamp(1_790_000_000, 0).unwrap()).unwrap();
        assert_eq!(c.message_id, "<mr-1042.tok@denhamlaw.example>");
        assert_eq!(c.subject, "[MR-1042] Re: status");
        let parsed = super::super::parse::parse(&c.raw);
        assert_eq!(parsed.message_id.as_deref(), Some("<mr-1042.tok@denhamlaw.example>"));
        assert_eq!(parsed.in_reply_to.as_deref(), Some("<a@x.example>"));
        assert_eq!(parsed.references, vec!["<o@x.example>", "<a@x.example>"]);
        assert_eq!(parsed.header("Auto-Submitted"), Some("auto-replied"));
        assert!(parsed.header("Reply-To").unwrap().contains("records@denhamlaw.example"));
        assert_eq!(parsed.subject, "[MR-1042] Re: status");
        assert_eq!(parsed.text.trim(), "Hello — ünïcode");
    }

    #[test]
    fn attachments_travel_intact() {
        let pdf = crate::core::inbound::Attachment {
            filename: "MR-7 request.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"%PDF-1.7 \x00\xff binary".to_vec(),
        };
        let mail = OutgoingMail {
            to: vec!["roi@provider.example".into()],
            subject: "Medical records request".into(),
            body: "Please find our request attached.".into(),
            in_reply_to: None,
            references: vec![],
            reference: Some(Reference(7)),
            auto_submitted: Kind::AutoGenerated,
            attachments: vec![pdf.clone()],
        };
        let c = compose(&mail, &me(), "t", DateTime::from_timestamp(1_790_000_000, 0).unwrap()).unwrap();
        let parsed = super::super::parse::parse(&c.raw);
        assert_eq!(parsed.attachments, vec![pdf]);
        assert_eq!(parsed.text.trim(), "Please find our request attached.");
        assert_eq!(parsed.header("Auto-Submitted"), Some("auto-generated"));
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(unique_token(), unique_token());
        assert_eq!(unique_token().len(), 16);
    }
}
