//! Where and how a provider wants the request sent instead: a fax number, an email address, a
//! web portal, and the release-of-information vendor when one is named ("All release of
//! information is handled by MediCopy. Please send your request to … or fax 800-555-0190").
//!
//! An address or number counts only near words that point the request somewhere ("send",
//! "submit", "forward", "please direct", "our new", "handled by"), so a signature's own email
//! or phone number is not taken for the new route; an email whose name says what it is for
//! (`roi@`, `records@`, `him@`) counts on its own. A number counts as a fax when it is labelled
//! one ("fax", "F:"), or when it is unlabelled and the request is to be sent to it; numbers
//! labelled phone, tel or call never do. Our own addresses and the provider's current ones
//! (`known`) are ignored, and so are links that are not portals (unsubscribe, privacy, images,
//! social media).

use super::new_text::at_most;
use super::provider::{display_fax, us_fax};

/// Text beyond this many bytes is not read.
const MAX_TEXT: usize = 1024 * 1024;
/// Bytes before a candidate read for directions ("please send your request to").
const CONTEXT_BYTES: usize = 240;
/// Words before a candidate that may direct the request to it.
const CONTEXT_WORDS: usize = 20;
/// Bytes before a number read for its label ("Fax:", "call us at").
const LABEL_BYTES: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Redirect {
    /// Lowercased.
    pub email: Option<String>,
    /// E.164, like `+18595550142`.
    pub fax: Option<String>,
    /// An https URL.
    pub portal: Option<String>,
    /// "Ciox/Datavant", "MRO", "Verisma", "ChartSwap", "Sharecare", … when named.
    pub vendor: Option<&'static str>,
}

impl Redirect {
    /// No email, fax or portal (a vendor alone gives no way to send).
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.fax.is_none() && self.portal.is_none()
    }

    /// One line per way, for a staff notice: "fax (859) 555-0142", "email roi@x.example",
    /// "portal https://…".
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(f) = &self.fax {
            out.push(format!("fax {}", display_fax(f)));
        }
        if let Some(e) = &self.email {
            out.push(format!("email {e}"));
        }
        if let Some(p) = &self.portal {
            out.push(format!("portal {p}"));
        }
        out
    }
}

/// Words that point a request somewhere.
/// Not "fax" or "email": those label a signature's lines as often as they direct anything.
const DIRECTIONS: &str = "send sent submit forward direct directed redirect resend route routed contact reach \
    handled handles processed processes maintained maintains kept keeps custodian new instead now vendor outsourced \
    requests request portal online through via visit directly should must";
/// Directions that make an unlabelled number a fax: you send paper to it, you do not call it.
const SEND_TO: &[&str] = &["send", "submit", "forward", "fax", "faxed", "direct", "directed", "redirect", "resend"];
const FAX_LABELS: &[&str] = &["fax", "faxed", "facsimile", "fx", "efax"];
const PHONE_LABELS: &[&str] =
    &["phone", "telephone", "tel", "ph", "call", "cell", "mobile", "voice", "office", "main", "toll", "direct"];
/// Parts of an email's local name that say it takes records requests.
const REQUEST_MAILBOXES: &[&str] =
    &["roi", "release", "releases", "records", "record", "medrec", "him", "hipaa", "requests", "request", "copies"];
const NO_REPLY: &[&str] = &["noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon", "postmaster"];
/// Links that are never a request portal.
const NOT_PORTALS: &str =
    "unsubscribe optout opt-out privacy cookie logo /images/ /img/ pixel tracking aka.ms maps.google google.com/maps";
const SOCIAL: &str = "facebook.com twitter.com x.com linkedin.com instagram.com youtube.com";
const FILES: &str = ".png .jpg .jpeg .gif .svg .ico .webp .css .js";
const PORTAL_WORDS: &[&str] = &["portal", "request", "requests", "roi", "release", "records", "hipaa"];
const VENDORS: &[(&str, &[&str])] = &[
    ("Ciox/Datavant", &["ciox", "cioxhealth", "datavant", "healthport", "smartrequest"]),
    ("MRO", &["mro", "mrocorp"]),
    ("Verisma", &["verisma"]),
    ("ChartSwap", &["chartswap"]),
    ("Sharecare", &["sharecare"]),
    ("ScanSTAT", &["scanstat"]),
    ("HealthMark Group", &["healthmark"]),
    ("MediCopy", &["medicopy"]),
    ("ChartRequest", &["chartrequest"]),
    ("IOD", &["iod", "iodincorporated"]),
    ("Cobius", &["cobius"]),
];

/// `known`: addresses and fax numbers (any format) to ignore: ours and the provider's current ones.
pub fn read(text: &str, known: &[&str]) -> Redirect {
    let text = at_most(text, MAX_TEXT);
    let known_emails: Vec<String> = known.iter().filter(|k| k.contains('@')).map(|k| k.trim().to_lowercase()).collect();
    let known_faxes: Vec<String> = known.iter().filter_map(|k| us_fax(k).ok()).collect();
    let email = best(emails(text).into_iter().filter(|(_, e)| !known_emails.contains(e)), text, email_bonus);
    let fax = best(faxes(text).into_iter().filter(|(_, f)| !known_faxes.contains(f)), text, |_| 0);
    let portal = best(portals(text).into_iter(), text, portal_bonus);
    let vendor = vendor(text);
    Redirect { email, fax, portal, vendor }
}

/// The byte index at or before `i` that starts a character.
fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Whether `word` is one of the space-separated `words`.
fn among(words: &str, word: &str) -> bool {
    words.split(' ').any(|w| w == word)
}

/// Lowercase words of `text`, split on anything but letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Words of the paragraph before byte `at`, at most [`CONTEXT_WORDS`].
fn context(text: &str, at: usize) -> Vec<String> {
    let start = floor(text, at.saturating_sub(CONTEXT_BYTES));
    let before = &text[start..floor(text, at)];
    let paragraph = before.rfind("\n\n").or_else(|| before.rfind("\n\r\n")).map(|p| p + 1).unwrap_or(0);
    let mut w = words(&before[paragraph..]);
    let skip = w.len().saturating_sub(CONTEXT_WORDS);
    w.drain(..skip);
    w
}

/// The candidate with the most directions before it (earliest on ties); none without any.
fn best(found: impl Iterator<Item = (usize, String)>, text: &str, bonus: impl Fn(&str) -> usize) -> Option<String> {
    let mut top: Option<(usize, String)> = None;
    for (at, value) in found {
        let score = context(text, at).iter().filter(|w| among(DIRECTIONS, w)).count() + bonus(&value);
        if score > 0 && top.as_ref().is_none_or(|(s, _)| score > *s) {
            top = Some((score, value));
        }
    }
    top.map(|(_, v)| v)
}

fn email_bonus(email: &str) -> usize {
    let local = email.split('@').next().unwrap_or("");
    let named = local.split(['.', '_', '-', '+']).any(|p| REQUEST_MAILBOXES.contains(&p));
    if named { 2 } else { 0 }
}

fn portal_bonus(url: &str) -> usize {
    let lower = url.to_lowercase();
    PORTAL_WORDS.iter().filter(|w| lower.contains(*w)).count().min(2)
}

/// Email addresses and where they start.
fn emails(text: &str) -> Vec<(usize, String)> {
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let mut out = Vec::new();
    for (at, _) in text.match_indices('@') {
        let start = text[..at].char_indices().rev().take_while(|(_, c)| local(*c)).last().map(|(i, _)| i);
        let end =
            text[at + 1..].char_indices().find(|(_, c)| !domain(*c)).map(|(i, _)| at + 1 + i).unwrap_or(text.len());
        let Some(start) = start else { continue };
        let address = text[start..end].trim_start_matches(['.', '\'']).trim_end_matches(['.', '-']).to_lowercase();
        let (l, d) = address.split_once('@').unwrap_or(("", ""));
        let tld_ok = d.rsplit('.').next().is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
        if !l.is_empty() && d.contains('.') && tld_ok && !NO_REPLY.iter().any(|n| l.starts_with(n)) {
            out.push((start, address));
        }
    }
    out
}

/// Fax numbers (E.164) and where they start: labelled fax, or unlabelled and sent to.
fn faxes(text: &str) -> Vec<(usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = matches!(b[i], b'0'..=b'9' | b'(' | b'+') && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        let Some((end, digits)) = starts.then(|| number_at(b, i)).flatten() else {
            i += 1;
            continue;
        };
        if let Ok(fax) = us_fax(&digits) {
            let is_fax = match label(text, i, end) {
                Some(Label::Fax) => true,
                Some(Label::Phone) => false,
                None => context(text, i).iter().rev().take(10).any(|w| SEND_TO.contains(&w.as_str())),
            };
            if is_fax {
                out.push((i, fax));
            }
        }
        i = end;
    }
    out
}

/// A North American number at `i`: `(859) 555-0142`, `859.555.0142`, `+1 859 555 0142`,
/// `1-800-555-0190`, `8595550142`. Returns where it ends and its digits.
fn number_at(b: &[u8], i: usize) -> Option<(usize, String)> {
    let mut j = i;
    let mut digits = String::new();
    if b[j] == b'+' || (b[j] == b'1' && b.get(j + 1).is_some_and(|c| b" -.".contains(c))) {
        j += usize::from(b[j] == b'+');
        if b.get(j) != Some(&b'1') {
            return None;
        }
        digits.push('1');
        j = separator(b, j + 1);
    }
    let paren = b.get(j) == Some(&b'(');
    j = take_digits(b, j + usize::from(paren), 3, &mut digits)?;
    if paren {
        if b.get(j) != Some(&b')') {
            return None;
        }
        j += 1;
    }
    j = take_digits(b, separator(b, j), 3, &mut digits)?;
    j = take_digits(b, separator(b, j), 4, &mut digits)?;
    (!b.get(j).is_some_and(u8::is_ascii_digit)).then_some((j, digits))
}

fn separator(b: &[u8], mut j: usize) -> usize {
    let start = j;
    while j < b.len() && j - start < 3 && b" -.".contains(&b[j]) {
        j += 1;
    }
    j
}

fn take_digits(b: &[u8], j: usize, n: usize, into: &mut String) -> Option<usize> {
    let run = b.get(j..j + n)?;
    run.iter().all(u8::is_ascii_digit).then(|| {
        into.extend(run.iter().map(|d| char::from(*d)));
        j + n
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Fax,
    Phone,
}

/// The label nearest before the number on its line ("Fax:", "call us at", "F:"), else right
/// after it ("(fax)").
fn label(text: &str, start: usize, end: usize) -> Option<Label> {
    let before = &text[floor(text, start.saturating_sub(LABEL_BYTES))..start];
    let line = &before[before.rfind('\n').map(|p| p + 1).unwrap_or(0)..];
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (i, c) in line.char_indices() {
        match spans.last_mut() {
            Some((_, e)) if c.is_alphanumeric() && *e == i => *e = i + c.len_utf8(),
            _ if c.is_alphanumeric() => spans.push((i, i + c.len_utf8())),
            _ => {}
        }
    }
    for (s, e) in spans.into_iter().rev() {
        let w = line[s..e].to_lowercase();
        let colon = line[e..].trim_start().starts_with([':', '.', '#']);
        if FAX_LABELS.contains(&w.as_str()) || (w == "f" && colon) {
            return Some(Label::Fax);
        }
        if PHONE_LABELS.contains(&w.as_str()) || (matches!(w.as_str(), "p" | "t" | "o") && colon) {
            return Some(Label::Phone);
        }
    }
    let after = text[end..floor(text, end + 12)].to_lowercase();
    let after = after.trim_start();
    if after.starts_with("(f)") || after.starts_with("(fax)") || after.starts_with("fax") {
        return Some(Label::Fax);
    }
    (after.starts_with("(p)") || after.starts_with("(phone)") || after.starts_with("(tel")).then_some(Label::Phone)
}

/// Links that may be portals, as https URLs, and where they start.
fn portals(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let prefixes = ["https://", "http://", "www."];
    // The next place of each prefix, found again only once passed (a rescan per link would be
    // quadratic in a long text full of links).
    let mut next: Vec<Option<usize>> = prefixes.iter().map(|p| lower.find(p)).collect();
    let mut from = 0;
    loop {
        for (n, p) in next.iter_mut().zip(prefixes) {
            if n.is_some_and(|at| at < from) {
                *n = lower[from..].find(p).map(|f| from + f);
            }
        }
        let Some(at) = next.iter().flatten().min().copied() else { break };
        let end =
            text[at..].find(|c: char| c.is_whitespace() || "<>\"'()[]{}|".contains(c)).map_or(text.len(), |e| at + e);
        from = end.max(at + 1);
        let raw = text[at..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if at > 0 && (lower[..at].ends_with('@') || lower[..at].ends_with("://") || lower[..at].ends_with('.')) {
            continue;
        }
        let scheme = ["https://", "http://"]
            .iter()
            .find(|p| raw.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p)))
            .map_or(0, |p| p.len());
        let rest = &raw[scheme..];
        if is_portal(rest) {
            out.push((at, format!("https://{rest}")));
        }
    }
    out
}

/// A link (without its scheme) that may be a portal: not a social site, an image or script,
/// an unsubscribe or privacy page.
fn is_portal(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    let host = lower.split(['/', '?', '#']).next().unwrap_or("");
    let file = lower.split(['?', '#']).next().unwrap_or("");
    host.contains('.')
        && !host.contains('@')
        && !NOT_PORTALS.split(' ').any(|n| lower.contains(n))
        && !SOCIAL.split(' ').any(|d| host == d || host.strip_suffix(d).is_some_and(|h| h.ends_with('.')))
        && !FILES.split(' ').any(|e| file.ends_with(e))
}

/// The first release-of-information vendor named in the text or in an address.
fn vendor(text: &str) -> Option<&'static str> {
    let w = words(text);
    let chart_swap = w.windows(2).position(|p| p[0] == "chart" && p[1] == "swap");
    let first = w.iter().position(|x| VENDORS.iter().any(|(_, keys)| keys.contains(&x.as_str())));
    match (first, chart_swap) {
        (_, Some(c)) if first.is_none_or(|f| c < f) => Some("ChartSwap"),
        (Some(f), _) => VENDORS.iter().find(|(_, keys)| keys.contains(&w[f].as_str())).map(|(name, _)| *name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vendor_with_an_email_and_a_fax() {
        let text = "Hello, we do not process records requests in this office. All release of information is \
                    handled by MediCopy. Please send your request to Requests@MediCopy.example or fax 800-555-0190.";
        let r = read(text, &["records@denhamlaw.example", "(859) 555-0142"]);
        assert_eq!(r.email.as_deref(), Some("requests@medicopy.example"));
        assert_eq!(r.fax.as_deref(), Some("+18005550190"));
        assert_eq!(r.vendor, Some("MediCopy"));
        assert_eq!(r.describe(), ["fax (800) 555-0190", "email requests@medicopy.example"]);
        assert!(!r.is_empty());
    }

    #[test]
    fn a_portal_and_a_fax_with_the_phone_skipped() {
        let text = "Thank you for your email. University Health does not accept records requests by email. Please \
                    submit your request through our online request portal at https://records.universityhealth.example/roi. \
                    or fax it to (210) 555-0177. Questions? Call us at (210) 555-0100.";
        let r = read(text, &[]);
        assert_eq!(r.portal.as_deref(), Some("https://records.universityhealth.example/roi"));
        assert_eq!(r.fax.as_deref(), Some("+12105550177"));
        assert_eq!(r.email, None);
        assert_eq!(r.describe()[1], "portal https://records.universityhealth.example/roi");
    }

    #[test]
    fn a_vendor_portal_and_fax_with_its_phone_line_skipped() {
        let text = "Effective immediately, all ROI requests are processed by Ciox Health. Submit requests online at \
                    https://www.cioxhealth.com/request-records or fax to 1 (877) 555-0133. Phone inquiries: \
                    877-555-0134.";
        let r = read(text, &[]);
        assert_eq!(r.fax.as_deref(), Some("+18775550133"));
        assert_eq!(r.portal.as_deref(), Some("https://www.cioxhealth.com/request-records"));
        assert_eq!(r.vendor, Some("Ciox/Datavant"));
        assert_eq!(r.describe(), ["fax (877) 555-0133", "portal https://www.cioxhealth.com/request-records"]);
    }

    #[test]
    fn the_new_fax_and_not_the_signature_lines() {
        let text = "Please resend to our HIM fax: 865.555.0123. Our old fax number is no longer in service.\n\n\
                    Thank you,\nMary\nMercy Clinic | T: 865.555.0100 | F: 865.555.0101 | mary@mercyclinic.example";
        assert_eq!(read(text, &[]), Redirect { fax: Some("+18655550123".into()), ..Redirect::default() });
    }

    #[test]
    fn labelled_numbers_on_one_line() {
        let text = "Requests for imaging must now be sent to Central Imaging Records.\n\
                    Phone: 502.555.0110  Fax: 502.555.0111  Email: imagingroi@centralimaging.example";
        let r = read(text, &[]);
        assert_eq!(r.fax.as_deref(), Some("+15025550111"));
        assert_eq!(r.email.as_deref(), Some("imagingroi@centralimaging.example"));
        let text = "Please redirect your request. P: 615-555-0140 | F: 615-555-0141";
        assert_eq!(read(text, &[]).fax.as_deref(), Some("+16155550141"));
        let text = "Our records are now handled off site; please forward the request to 1-859-555-0123 (fax).";
        assert_eq!(read(text, &[]).fax.as_deref(), Some("+18595550123"));
    }

    #[test]
    fn an_unlabelled_number_is_a_fax_only_when_the_request_goes_to_it() {
        let r = read("Please send the request to 859 555 0166 attention HIM.", &[]);
        assert_eq!(r.fax.as_deref(), Some("+18595550166"));
        let text = "Dr. Sanders retired and the practice closed in 2024. The charts were transferred to Central \
                    Records Storage LLC. Contact them directly at 502-555-0100.";
        let r = read(text, &[]);
        assert_eq!(r.fax, None);
        assert!(r.is_empty());
    }

    #[test]
    fn our_own_and_the_providers_current_addresses_are_ignored() {
        let text = "This office is the wrong department. Please send requests to him@westside.example, \
                    not to billing@westside.example or records@denhamlaw.example. Fax (859) 555-0142 is yours; \
                    our new fax is 859-555-0199, the old one 859-555-0100 is closed.";
        let known = ["records@denhamlaw.example", "Billing@Westside.example", "+18595550142", "859.555.0100"];
        let r = read(text, &known);
        assert_eq!(r.email.as_deref(), Some("him@westside.example"));
        assert_eq!(r.fax.as_deref(), Some("+18595550199"));
    }

    #[test]
    fn a_signature_is_not_a_new_route() {
        let text = "Please submit your request through the portal.\n\nThanks,\nKim Alvarez\nkim.alvarez@clinic.example\n\
                    Phone 859-555-0130 | Fax 859-555-0131";
        let r = read(text, &[]);
        assert_eq!(r, Redirect::default());
        assert!(r.is_empty());
        assert!(r.describe().is_empty());
    }

    #[test]
    fn links_that_are_not_portals_are_skipped() {
        let text = "Please use our portal: www.StJoseph.example/ROI-Request\n\n\
                    Unsubscribe: https://mail.stjoseph.example/unsubscribe?id=1 | https://stjoseph.example/privacy\n\
                    <img src=\"https://stjoseph.example/images/logo.png\"> Get Outlook for iOS https://aka.ms/o0ukef";
        let r = read(text, &[]);
        assert_eq!(r.portal.as_deref(), Some("https://www.StJoseph.example/ROI-Request"));
        let r = read("Submit it at http://requests.example.org/start, thanks.", &[]);
        assert_eq!(r.portal.as_deref(), Some("https://requests.example.org/start"));
        let r = read("Please submit online: HTTPS://roi.box.com/request.jsp?site=2", &[]);
        assert_eq!(r.portal.as_deref(), Some("https://roi.box.com/request.jsp?site=2"));
        assert_eq!(read("Follow us to request updates: https://www.facebook.com/stjoseph", &[]).portal, None);
    }

    #[test]
    fn names_the_vendor() {
        for (text, vendor) in [
            ("Our release of information is handled by Ciox Health.", "Ciox/Datavant"),
            ("Release of information is outsourced to Datavant.", "Ciox/Datavant"),
            ("Please submit through the MRO requester portal.", "MRO"),
            ("Records requests go through Verisma.", "Verisma"),
            ("Use Chart Swap to submit.", "ChartSwap"),
            ("Submit at https://release.cioxhealth.example/start", "Ciox/Datavant"),
            ("Sharecare handles our ROI.", "Sharecare"),
        ] {
            assert_eq!(read(text, &[]).vendor, Some(vendor), "{text}");
        }
        assert_eq!(read("Send it to roi@hospital.example", &[]).vendor, None);
        assert_eq!(read("We are a microorganism lab", &[]).vendor, None);
    }

    #[test]
    fn never_panics_on_odd_or_huge_input() {
        for text in [
            "@",
            "@@@",
            "a@",
            "@b.c",
            "(",
            "+",
            "+1",
            "(859",
            "(859)",
            "1-",
            "www.",
            "https://",
            "é@é.é",
            "Fax: é",
            "fax 8595550142\u{301}",
            "F:(859)555-0142",
            "ﬀ@ﬀ.com www.ﬀ",
        ] {
            let _ = read(text, &[text]);
        }
        let huge = "Please send to roi@x.example or fax 859-555-0100 https://p.example/r ".repeat(30_000);
        let r = read(&huge, &[]);
        assert_eq!(r.fax.as_deref(), Some("+18595550100"));
        let _ = read(&"@".repeat(100_000), &[]);
        let _ = read(&"9".repeat(100_000), &[]);
    }
}
