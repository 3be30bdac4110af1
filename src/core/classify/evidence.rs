//! The parts of a message the classifier reads, each with the weight of where it stands: the
//! subject, the new text (quoted text, signatures and disclaimers removed), a forwarded message
//! (only when the sender wrote next to nothing), attachment text (the first page or so of each
//! PDF and text attachment) and attachment names. Our own request letter, wherever it turns up
//! (quoted, forwarded, attached or pasted into the new text), is left out.

use super::matcher::{self, Word};
use super::vocabulary::{Signal, Vocabulary};
use crate::core::inbound::InboundMail;
use crate::core::new_text;

/// Words of an attachment or forwarded message that are read (a letter's first page or so).
const ATTACHMENT_WORDS: usize = 600;
/// At most this many attachments are opened.
const MAX_ATTACHMENTS: usize = 12;
/// Text of delivery-report parts and returned messages kept for the bounce reader.
const REPORT_TEXT_LIMIT: usize = 256 * 1024;
/// Fewer new words than this and a forwarded message is read as the reply.
const FORWARD_BELOW_WORDS: usize = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Subject,
    NewText,
    Forwarded,
    Attachment,
    Filename,
}

/// One part of a message, as text and words.
#[derive(Debug, Clone)]
pub struct Part {
    pub zone: Zone,
    /// Where it is, for reasons: `subject`, `new text`, `invoice.pdf`…
    pub label: String,
    pub text: String,
    pub words: Vec<Word>,
}

impl Part {
    fn new(zone: Zone, label: impl Into<String>, text: String) -> Part {
        let words = matcher::words(&text);
        Part { zone, label: label.into(), text, words }
    }
}

/// Everything the engine reads from one message.
#[derive(Debug, Default)]
pub struct Evidence {
    pub parts: Vec<Part>,
    /// PDF (or image/document) attachments that are not our own letter.
    pub attachments: usize,
    /// Page count of the largest such PDF.
    pub max_pages: usize,
    /// Headers, body and report parts as one text, for the delivery-report reader.
    pub report_text: String,
    /// Text of returned or attached messages (`message/rfc822`), for the reference only.
    pub returned_text: String,
    /// Notes for the reasons ("quoted text is our request letter: ignored").
    pub notes: Vec<String>,
}

/// Reads `mail` into parts.
pub fn gather(mail: &InboundMail, v: &Vocabulary, pdf_text: &dyn Fn(&[u8]) -> Option<String>) -> Evidence {
    let mut ev = Evidence { report_text: report_text(mail), ..Evidence::default() };
    let subject = strip_subject_prefixes(&mail.subject);
    if !subject.is_empty() {
        ev.parts.push(Part::new(Zone::Subject, "subject", subject));
    }
    let body = if looks_like_html(&mail.text) { html_to_text(&mail.text) } else { mail.text.clone() };
    let split = new_text::split(&body);
    let (new, cut) = cut_at_ours(&split.new, v);
    if cut {
        ev.notes.push("our request letter pasted into the reply was left out".into());
    }
    let new_words = matcher::words(&new).len();
    if !new.trim().is_empty() {
        ev.parts.push(Part::new(Zone::NewText, "new text", new));
    }
    if !split.quoted.is_empty() {
        let quoted = matcher::words(&split.quoted);
        if has_ours(&quoted, v) {
            ev.notes.push("the quoted text is our own request (ignored)".into());
        } else {
            ev.notes.push("quoted text ignored".into());
        }
    }
    if let Some(forwarded) = split.forwarded.filter(|f| !f.trim().is_empty()) {
        let (fwd, cut) = cut_at_ours(&forwarded, v);
        if new_words < FORWARD_BELOW_WORDS && !fwd.trim().is_empty() {
            ev.notes.push("read the forwarded message (little new text above it)".into());
            ev.parts.push(Part::new(Zone::Forwarded, "forwarded message", first_words(&fwd, ATTACHMENT_WORDS)));
        } else if cut {
            ev.notes.push("the forwarded message is our own request (ignored)".into());
        }
    }
    for a in mail.attachments.iter().take(MAX_ATTACHMENTS) {
        attachment(&mut ev, a, v, pdf_text);
    }
    ev
}

fn attachment(
    ev: &mut Evidence,
    a: &crate::core::inbound::Attachment,
    v: &Vocabulary,
    pdf_text: &dyn Fn(&[u8]) -> Option<String>,
) {
    let ct = a.content_type.as_str();
    let name = a.filename.clone();
    if ct.starts_with("message/") || ct == "text/rfc822-headers" {
        let text = String::from_utf8_lossy(&a.bytes);
        push_limited(&mut ev.report_text, &text);
        push_limited(&mut ev.returned_text, &text);
        return;
    }
    let text = if a.looks_like_pdf() {
        pdf_text(&a.bytes)
    } else if ct.starts_with("text/") {
        let t = String::from_utf8_lossy(&a.bytes).into_owned();
        Some(if ct == "text/html" || looks_like_html(&t) { html_to_text(&t) } else { t })
    } else {
        None
    };
    if let Some(text) = &text {
        let words = matcher::words(&first_words(text, ATTACHMENT_WORDS));
        if has_ours(&words, v) {
            ev.notes.push(format!("attachment {name} is our own request (ignored)"));
            return;
        }
    }
    let is_document = a.looks_like_pdf()
        || ct.starts_with("image/")
        || ct.contains("word")
        || ct.contains("officedocument")
        || ct == "application/octet-stream";
    if is_document {
        ev.attachments += 1;
    }
    if let Some(text) = text {
        let pages = text.split('\x0c').filter(|p| !p.trim().is_empty()).count();
        ev.max_pages = ev.max_pages.max(pages);
        let first = first_words(&text, ATTACHMENT_WORDS);
        if !first.trim().is_empty() {
            ev.parts.push(Part::new(Zone::Attachment, name.clone(), first));
        }
    }
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s).to_string();
    ev.parts.push(Part::new(Zone::Filename, format!("file name {name}"), stem));
}

fn push_limited(out: &mut String, text: &str) {
    if out.len() < REPORT_TEXT_LIMIT {
        let room = REPORT_TEXT_LIMIT - out.len();
        out.push('\n');
        out.push_str(crate::core::new_text::at_most(text, room));
    }
}

/// Headers and body as text, as the delivery-report reader expects the raw message.
fn report_text(mail: &InboundMail) -> String {
    let mut out = String::new();
    for (name, value) in &mail.headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    push_limited(&mut out, &mail.text);
    out
}

/// The first `n` words of `text`, as text (cut at a word start).
fn first_words(text: &str, n: usize) -> String {
    let words = matcher::words(text);
    match words.get(n) {
        Some(w) => text[..w.start].to_string(),
        None => text.to_string(),
    }
}

fn has_ours(words: &[Word], v: &Vocabulary) -> bool {
    v.text.find(words).iter().any(|h| v.text.payload(h.phrase).contains(&Signal::Ours))
}

/// `text` up to the first phrase of our own letters; and whether it was cut.
fn cut_at_ours(text: &str, v: &Vocabulary) -> (String, bool) {
    let words = matcher::words(text);
    let first = v.text.find(&words).into_iter().find(|h| v.text.payload(h.phrase).contains(&Signal::Ours));
    match first {
        Some(h) => (text[..words[h.start].start].to_string(), true),
        None => (text.to_string(), false),
    }
}

/// The subject without `Re:`/`Fwd:`/`AW:` prefixes.
fn strip_subject_prefixes(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "sv:", "antw:", "re :", "fw :"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => return s.to_string(),
        }
    }
}

/// Text that is really HTML (a `text/plain` part holding markup, or an HTML attachment).
fn looks_like_html(text: &str) -> bool {
    let head = &text[..text.len().min(2048)];
    let lower = head.to_ascii_lowercase();
    lower.contains("<html")
        || lower.contains("<body")
        || (lower.contains("<div") && lower.contains("</div>"))
        || (lower.contains("<p>") && lower.contains("</p>"))
}

/// HTML to text: block elements end lines, `<blockquote>` becomes `>` quoting, tags, scripts and
/// styles are dropped, common entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut quote_depth = 0usize;
    let mut skip_until: Option<&'static str> = None;
    while let Some(lt) = rest.find('<') {
        if skip_until.is_none() {
            push_text(&mut out, &rest[..lt], quote_depth);
        }
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..gt].trim().to_ascii_lowercase();
        rest = &after[gt + 1..];
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let closing = tag.starts_with('/');
        if let Some(end) = skip_until {
            if closing && name == end {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "style" | "script" | "head" | "title" if !closing => {
                skip_until = Some(match name.as_str() {
                    "style" => "style",
                    "script" => "script",
                    "head" => "head",
                    _ => "title",
                })
            }
            "blockquote" => {
                quote_depth = if closing { quote_depth.saturating_sub(1) } else { quote_depth + 1 };
                newline(&mut out, quote_depth);
            }
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "ul" | "ol"
            | "hr" => newline(&mut out, quote_depth),
            "td" | "th" => out.push(' '),
            _ => {}
        }
    }
    if skip_until.is_none() {
        push_text(&mut out, rest, quote_depth);
    }
    out
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push('>');
    }
    if depth > 0 {
        out.push(' ');
    }
}

fn push_text(out: &mut String, text: &str, depth: usize) {
    let decoded = decode_entities(text);
    let mut last_space = out.ends_with([' ', '\n']);
    for c in decoded.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            if out.ends_with('\n') && depth > 0 {
                newline_prefix(out, depth);
            }
            out.push(c);
            last_space = false;
        }
    }
}

fn newline_prefix(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('>');
    }
    out.push(' ');
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&e| e <= 8);
        let decoded = end.and_then(|e| entity(&after[..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" | "#39" => '\'',
        "nbsp" | "#160" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "rsquo" | "lsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        "dollar" | "#36" => '$',
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_blocks_become_lines_and_blockquotes_quotes() {
        let html = "<html><head><style>p{}</style></head><body><div>Invoice&nbsp;attached.</div><div>Total: &#36;45.00</div><blockquote><div>Dear Medical Records Custodian</div></blockquote></body></html>";
        let text = html_to_text(html);
        assert!(text.contains("Invoice attached.\n"), "{text:?}");
        assert!(text.contains("Total: $45.00"), "{text:?}");
        assert!(text.contains("> Dear Medical"), "{text:?}");
        assert!(!text.contains("p{}"));
    }

    #[test]
    fn subject_prefixes_go() {
        assert_eq!(strip_subject_prefixes("RE: Fwd: [MR-1] x"), "[MR-1] x");
        assert_eq!(strip_subject_prefixes("Records"), "Records");
    }

    #[test]
    fn broken_html_does_not_panic() {
        for html in ["<", "<div", "&", "&#xZZZZ;", "&#99999999;", "<blockquote></blockquote></blockquote>", "<style>"] {
            let _ = html_to_text(html);
            let _ = decode_entities(html);
        }
    }
}
