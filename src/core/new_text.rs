//! Finds the new text of a reply: what the sender wrote, without what they quoted, their
//! signature or their legal disclaimer. Commands are read from its first line; the reply
//! classifier reads the whole of it, and looks at a forwarded message only when the sender
//! wrote next to nothing above it.
//!
//! Quote markers recognised: `>` lines, "On … wrote:" attributions (also when wrapped over two
//! lines), Outlook's "From:/Sent:/To:/Subject:" header block (and its `____` rule), the
//! "-----Original Message-----" separators, forwarded-message banners, `-- ` signature
//! separators (RFC 3676 §4.3), "Sent from my …" lines; and the same markers inside a long line,
//! which is what HTML mail turns into once its tags are dropped. Disclaimer and
//! "external sender" banner paragraphs are removed wherever they stand.

/// The parts of a message body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// What the sender wrote (top-posted, or below the quote when they bottom-posted).
    pub new: String,
    /// Everything quoted below (or above) the new text, markers included.
    pub quoted: String,
    /// The body of a forwarded message, when the quote is a forward rather than a reply.
    pub forwarded: Option<String>,
}

/// The sender's own lines, top to bottom, up to the first quote marker or signature.
pub fn new_text(body: &str) -> String {
    split(body).new
}

/// The first non-empty line of the new text.
pub fn first_line(body: &str) -> String {
    let text = new_text(body);
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
}

/// What a line of the body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `>` quoted line.
    Quoted,
    /// A reply header ("On … wrote:", Outlook block, original-message rule).
    Reply,
    /// A forwarded-message banner.
    Forward,
    /// A signature separator or "Sent from my phone".
    Signature,
}

/// Splits `body` into new text, quoted text and a forwarded message.
pub fn split(body: &str) -> Split {
    let lines = expand_inline_markers(body);
    let lines = drop_disclaimers(&lines);
    let marker_at = |i: usize| marker(&lines, i);
    let mut new = Vec::new();
    let mut i = 0;
    let mut cut: Option<(usize, Marker)> = None;
    while i < lines.len() {
        if let Some(m) = marker_at(i) {
            cut = Some((i, m));
            break;
        }
        new.push(lines[i].trim_end());
        i += 1;
    }
    let has_words = |v: &[&str]| v.iter().any(|l| !l.trim().is_empty());
    let Some((at, m)) = cut else {
        return Split { new: join_trimmed(&new), quoted: String::new(), forwarded: None };
    };
    // Bottom-posting: nothing above the quote, so the new text is what follows it.
    if !has_words(&new) && matches!(m, Marker::Quoted | Marker::Reply) {
        let mut j = at;
        if m == Marker::Reply {
            j += 1;
        }
        while j < lines.len() && (lines[j].trim_start().starts_with('>') || lines[j].trim().is_empty()) {
            j += 1;
        }
        let mut below = Vec::new();
        while j < lines.len() && marker_at(j).is_none() {
            below.push(lines[j].trim_end());
            j += 1;
        }
        if has_words(&below) {
            let quoted: Vec<&str> = lines[at..].to_vec();
            return Split { new: join_trimmed(&below), quoted: quoted.join("\n"), forwarded: None };
        }
    }
    let rest = &lines[at..];
    let forwarded = (m == Marker::Forward).then(|| forwarded_body(&rest[1..]));
    Split { new: join_trimmed(&new), quoted: rest.join("\n"), forwarded }
}

fn join_trimmed(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.trim().is_empty()).map_or(start, |e| e + 1);
    lines[start..end.max(start)].join("\n")
}

/// A forwarded message without its header block (`From:`, `Date:`, `Subject:`, `To:` …).
fn forwarded_body(lines: &[&str]) -> String {
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim().trim_matches('*').to_ascii_lowercase();
        if t.is_empty() || is_header_line(&t) {
            i += 1;
        } else {
            break;
        }
    }
    let body: Vec<&str> = lines[i..].to_vec();
    // A forward inside the forward (or its own quote) is cut as usual.
    split(&body.join("\n")).new
}

const HEADER_NAMES: &[&str] = &[
    "from:",
    "sent:",
    "date:",
    "to:",
    "cc:",
    "subject:",
    "reply-to:",
    "importance:",
    "de :",
    "de:",
    "von:",
    "gesendet:",
    "an:",
    "betreff:",
    "envoyé :",
    "objet :",
    "enviado:",
    "para:",
    "asunto:",
];

fn is_header_line(lower: &str) -> bool {
    HEADER_NAMES.iter().any(|h| lower.starts_with(h))
}

fn marker(lines: &[&str], i: usize) -> Option<Marker> {
    let line = lines[i].trim();
    let lower = line.trim_matches('*').trim().to_lowercase();
    let next = || lines.get(i + 1).map(|l| l.trim().trim_matches('*').trim().to_lowercase()).unwrap_or_default();
    if line.starts_with('>') {
        return Some(Marker::Quoted);
    }
    if line == "--" || line == "-- " || lower.starts_with("sent from my ") || lower.starts_with("get outlook for ") {
        return Some(Marker::Signature);
    }
    if lower.starts_with("---------- forwarded message")
        || lower.starts_with("-------- forwarded message")
        || lower.starts_with("begin forwarded message")
        || lower.starts_with("----- forwarded message")
        || lower.starts_with("forwarded message")
        || (lower.starts_with("-----") && lower.contains("forwarded"))
    {
        return Some(Marker::Forward);
    }
    if lower.starts_with("-----original message-----")
        || lower.starts_with("----- original message")
        || lower.starts_with("-------- original message")
        || lower.starts_with("-----ursprüngliche nachricht")
        || lower.starts_with("-----message d'origine")
    {
        return Some(Marker::Reply);
    }
    if is_attribution(&lower) {
        return Some(Marker::Reply);
    }
    // "On Mon, 2 Mar 2026 at 10:04, Records Bot <records@…>" / "wrote:" wrapped over two lines.
    if lower.starts_with("on ") && lower.len() < 200 && !lower.ends_with('.') && next().ends_with("wrote:") {
        return Some(Marker::Reply);
    }
    // An Outlook rule line followed by a header block.
    if line.len() >= 10 && line.chars().all(|c| c == '_') && next().starts_with("from:") {
        return Some(Marker::Reply);
    }
    // An Outlook block glued into one line (HTML flattened to text).
    if lower.starts_with("from:") && (lower.contains(" sent:") || lower.contains(" date:")) && lower.contains('@') {
        return Some(Marker::Reply);
    }
    // Outlook's and Gmail's quoted headers: "From: Name <addr>" then "Sent:" or "Date:" (maybe
    // after a blank line). Not a `NEW` form's "From: 01/15/2026" followed by "To: present".
    if (lower.starts_with("from:") || lower.starts_with("de:") || lower.starts_with("von:"))
        && lines.iter().skip(i + 1).take(3).map(|l| l.trim().trim_matches('*').trim().to_lowercase()).any(|n| {
            n.starts_with("sent:") || n.starts_with("date:") || n.starts_with("gesendet:") || n.starts_with("enviado:")
        })
    {
        return Some(Marker::Reply);
    }
    None
}

/// "On <date>, <name> wrote:" and its translations.
fn is_attribution(lower: &str) -> bool {
    let ends = lower.ends_with("wrote:")
        || lower.ends_with("writes:")
        || lower.ends_with("a écrit :")
        || lower.ends_with("a écrit:")
        || lower.ends_with("schrieb:")
        || lower.ends_with("escribió:");
    ends && (lower.starts_with("on ")
        || lower.starts_with("le ")
        || lower.starts_with("am ")
        || lower.starts_with("el ")
        || lower.contains('@')
        || lower.len() < 120)
}

/// Long lines (HTML bodies flattened to text) split before any quote marker inside them, so the
/// line rules above see the marker at the start of a line.
fn expand_inline_markers(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let lines: Vec<&str> = body.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let mut rest = *line;
        // "…signature From: Bot <bot@x>" then "Sent: …" on the next line.
        let next = lines.get(i + 1).map(|n| n.trim_start().to_ascii_lowercase()).unwrap_or_default();
        if next.starts_with("sent:") || next.starts_with("date:") {
            let lower = rest.to_ascii_lowercase();
            if let Some(at) =
                lower.rfind("from:").filter(|&a| a > 0 && lower[a..].contains('@') && rest.is_char_boundary(a))
            {
                out.push(&rest[..at]);
                rest = &rest[at..];
            }
        }
        while rest.len() > 120 {
            match inline_marker(rest) {
                Some(at) if at > 0 => {
                    out.push(&rest[..at]);
                    rest = &rest[at..];
                }
                _ => break,
            }
        }
        out.push(rest);
    }
    out
}

/// Where a quote marker starts inside `line` (never at 0).
fn inline_marker(line: &str) -> Option<usize> {
    let lower = line.to_ascii_lowercase();
    let mut best: Option<usize> = None;
    let mut take = |at: Option<usize>| {
        if let Some(at) = at.filter(|&a| a > 0 && line.is_char_boundary(a)) {
            best = Some(best.map_or(at, |b: usize| b.min(at)));
        }
    };
    take(lower.find("-----original message-----"));
    take(lower.find("---------- forwarded message"));
    take(lower.find("begin forwarded message"));
    // "From: X Sent: Y": an Outlook block glued into one line.
    if let Some(from) = lower.match_indices("from:").map(|(i, _)| i).find(|&i| {
        let tail = &lower[i..lower.len().min(i + 300)];
        tail.contains(" sent:") || tail.contains(" date:")
    }) {
        take(Some(from));
    }
    // "On <…> wrote:" within 200 characters.
    if let Some(w) = lower.find(" wrote:") {
        let window_start = w.saturating_sub(200);
        if let Some(on) = lower[window_start..w].rfind("on ").map(|o| o + window_start) {
            let starts_word = on == 0 || !lower.as_bytes()[on - 1].is_ascii_alphanumeric();
            if starts_word {
                take(Some(on));
            }
        }
    }
    best
}

/// Phrases that open a legal disclaimer or an "external sender" banner.
const DISCLAIMER_STARTS: &[&str] = &[
    "confidentiality notice",
    "confidentiality statement",
    "confidential notice",
    "privileged and confidential",
    "this e-mail and any",
    "this email and any",
    "this message and any",
    "this e-mail message",
    "this email message",
    "this communication",
    "this electronic",
    "the information contained in this",
    "the information in this e-mail",
    "the information in this email",
    "if you are not the intended recipient",
    "if you have received this",
    "disclaimer:",
    "notice:",
    "important notice",
    "hipaa notice",
    "caution: this email",
    "caution: external",
    "[external]",
    "external email",
    "this email originated from outside",
    "this message originated from outside",
];

/// Words that confirm a paragraph opening like a disclaimer really is one.
const DISCLAIMER_CONFIRM: &[&str] = &[
    "confidential",
    "intended recipient",
    "privileged",
    "outside of the organization",
    "outside the organization",
    "click links",
    "external sender",
    "external email",
    "phishing",
];

/// Drops each paragraph (up to a blank line) that opens like a disclaimer or banner and reads
/// like one.
fn drop_disclaimers<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        let lower = t.trim_matches(['*', '_']).trim().to_lowercase();
        if t.is_empty() || lower.starts_with('>') || !DISCLAIMER_STARTS.iter().any(|d| lower.starts_with(d)) {
            out.push(lines[i]);
            i += 1;
            continue;
        }
        let end = lines[i..].iter().position(|l| l.trim().is_empty()).map_or(lines.len(), |e| e + i);
        let paragraph = lines[i..end].join(" ").to_lowercase();
        if DISCLAIMER_CONFIRM.iter().any(|c| paragraph.contains(c)) {
            i = end;
        } else {
            out.push(lines[i]);
            i += 1;
        }
    }
    out
}

/// At most `max` bytes of `text`, cut on a character boundary: readers of provider mail bound
/// their work on huge messages with it.
pub fn at_most(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_usual_quote_markers() {
        assert_eq!(first_line("\n\n  HELP  \nthanks\n"), "HELP");
        assert_eq!(new_text("STATUS\n\nOn Mon, 2 Mar 2026, Bot wrote:\n> NEW\n"), "STATUS");
        assert_eq!(new_text("APPROVE\n-----Original Message-----\nFrom: x"), "APPROVE");
        assert_eq!(new_text("RECEIVED\nFrom: Bot <b@x.example>\nSent: Monday\nTo: me"), "RECEIVED");
        assert_eq!(new_text("OK\n\nFrom: Bot <b@x.example>\nDate: Mon, 2 Mar 2026\nSubject: x"), "OK");
        assert_eq!(new_text("NOTE called them\n-- \nJane\nParalegal"), "NOTE called them");
        assert_eq!(first_line("> quoted only"), "");
    }

    #[test]
    fn regression_new_form_from_and_to_lines_are_not_an_outlook_header() {
        let form = "NEW\nPatient: Jane Doe\nFrom: 01/15/2026\nTo: present\nProvider: X";
        assert_eq!(new_text(form), form);
    }

    #[test]
    fn a_from_line_inside_text_is_not_a_quote() {
        assert_eq!(new_text("NOTE From: the ROI desk\nmore"), "NOTE From: the ROI desk\nmore");
    }

    #[test]
    fn wrapped_attribution_and_outlook_rule() {
        let body =
            "Invoice attached.\n\nOn Mon, Mar 2, 2026 at 10:04 AM Records Bot <records@x.example>\nwrote:\n> Dear";
        assert_eq!(new_text(body), "Invoice attached.");
        let body = "See attached.\n________________________________\nFrom: Records Bot\nSent: Monday\n";
        assert_eq!(new_text(body), "See attached.");
        let body = "Done.\n\n*From:* Records Bot <r@x.example>\n*Sent:* Monday\n";
        assert_eq!(new_text(body), "Done.");
    }

    #[test]
    fn bottom_posted_replies_keep_the_text_below_the_quote() {
        let body = "On Mon, 2 Mar 2026, Bot wrote:\n> Please send the records.\n\nThey are attached.\n\n-- \nAnn";
        let s = split(body);
        assert_eq!(s.new, "They are attached.");
        assert!(s.quoted.contains("Please send"));
    }

    #[test]
    fn disclaimers_and_banners_are_dropped_wherever_they_stand() {
        let body = "CAUTION: External email. Do not click links.\n\nWe received your request.\n\nCONFIDENTIALITY NOTICE: This message may contain records.\nIf you are not the intended recipient…\n\nOn Mon, Bot wrote:\n> invoice";
        assert_eq!(new_text(body), "We received your request.");
    }

    #[test]
    fn a_forward_keeps_the_forwarded_body_apart() {
        let body = "FYI\n\n---------- Forwarded message ---------\nFrom: ROI <roi@x.example>\nDate: Mon\nSubject: Invoice\nTo: me\n\nThe balance due is $45.00.\n\nOn Sun, Bot wrote:\n> request";
        let s = split(body);
        assert_eq!(s.new, "FYI");
        assert_eq!(s.forwarded.as_deref(), Some("The balance due is $45.00."));
    }

    #[test]
    fn html_flattened_into_one_line_is_cut_at_the_inline_marker() {
        let body = "Please find the invoice attached. Thank you, Medical Records Department From: Records Bot <records@x.example> Sent: Monday, March 2, 2026 10:04 AM To: roi@y.example Subject: [MR-5] Medical records request Dear Medical Records Custodian, invoices greater than $300.00 require prior approval.";
        assert_eq!(new_text(body), "Please find the invoice attached. Thank you, Medical Records Department");
    }
}
