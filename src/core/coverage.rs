//! Which of the requested record types a provider's records reply covers: received, coming on
//! physical media by mail (radiology films or a CD), or still missing, so the next follow-up
//! asks for exactly what is missing.
//!
//! The reply's new text is cut into clauses (sentences, `;`, "but", list lines), and in each
//! clause record-type mentions ("office notes", "itemized statement", "MRI films") are tied to
//! status cues ("attached", "will follow", "mailed separately", "not included"). A cue at the
//! start of a clause governs what follows it ("Attached are …"); a cue after a mention is its
//! predicate ("… will follow"). When a list sits between both ("Attached are the notes and
//! billing will follow"), the last item goes to the cue after it.
//!
//! Decisions, in order, for each requested type:
//! - received by an earlier reply: received;
//! - said to follow, to be requested elsewhere, or mailed separately: missing — except
//!   radiology images or physical media by mail, which is `awaiting_media`;
//! - said to be enclosed, or shown by a heading in the attachments ("ITEMIZED STATEMENT"):
//!   received;
//! - negated ("no radiology on file", "billing is not included"): missing. Whether there is
//!   really nothing to send is for staff to decide, not this reader;
//! - not named at all: received, unless the reply names other types as enclosed without
//!   saying "the requested records" (then the unnamed ones are missing), or says more records
//!   will follow.
//!
//! Attachment text only ever adds evidence of enclosure: its negations are ignored, and an
//! explicit "will follow" in the reply's own words wins over it.

use super::new_text::at_most;
use std::collections::HashMap;
use std::sync::LazyLock;

use super::new_request::RecordType;

/// Text beyond this many bytes of each input is not read (a records set can be huge).
const MAX_TEXT: usize = 2 * 1024 * 1024;
/// Filler words a cue may reach over to the mentions it governs.
const MAX_GAP: usize = 8;
/// A line shorter than this ends its clause (list lines, not hard-wrapped prose).
const SHORT_LINE: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coverage {
    pub received: Vec<RecordType>,
    /// Radiology films or a CD the provider is mailing.
    pub awaiting_media: Vec<RecordType>,
    pub missing: Vec<RecordType>,
}

impl Coverage {
    /// Nothing missing and nothing awaited by mail.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.awaiting_media.is_empty()
    }

    /// "radiology (films or CD by mail)", "billing and radiology": the gaps in words, for staff;
    /// empty when nothing is missing or awaited.
    pub fn gaps_in_words(&self) -> String {
        let mut gaps: Vec<String> = self.missing.iter().map(|t| t.as_str().to_string()).collect();
        for t in &self.awaiting_media {
            let how = if *t == RecordType::Radiology { "films or CD by mail" } else { "by mail" };
            gaps.push(format!("{} ({how})", t.as_str()));
        }
        match gaps.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// `requested`: what the request asked for; `already`: types received by earlier replies;
/// `new_text`: the reply's own new text; `attachment_text`: text of its PDFs.
pub fn judge(requested: &[RecordType], already: &[RecordType], new_text: &str, attachment_text: &str) -> Coverage {
    let said = read_reply(&tokens(at_most(new_text, MAX_TEXT)));
    let shown = shown_in_attachments(at_most(attachment_text, MAX_TEXT));
    let named_enclosed = said.outcomes.iter().any(|(_, o)| *o == Outcome::Received);
    let mut out = Coverage::default();
    let mut seen = Vec::new();
    for &t in requested {
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        let outcomes: Vec<Outcome> = said.outcomes.iter().filter(|(k, _)| *k == t).map(|(_, o)| *o).collect();
        let has = |o: Outcome| outcomes.contains(&o);
        let list = if already.contains(&t) {
            &mut out.received
        } else if has(Outcome::Missing) {
            &mut out.missing
        } else if has(Outcome::Awaiting) {
            &mut out.awaiting_media
        } else if has(Outcome::Received) || shown.contains(&t) {
            &mut out.received
        } else if has(Outcome::Negated) || said.generic_later || (named_enclosed && !said.generic_enclosed) {
            &mut out.missing
        } else {
            &mut out.received
        };
        list.push(t);
    }
    out
}

/// What the reply's words say about one mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Received,
    Awaiting,
    Missing,
    Negated,
}

#[derive(Debug, Default)]
struct Said {
    outcomes: Vec<(RecordType, Outcome)>,
    /// "the requested records are attached": types it does not name came too.
    generic_enclosed: bool,
    /// "the remaining records will follow".
    generic_later: bool,
}

/// How a radiology mention arrives, which decides whether "by mail" means media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    /// Plain paper or electronic records ("office notes", "radiology").
    None,
    /// A written report ("MRI report"): never media.
    Report,
    /// Images, which may go by mail or by link.
    Images,
    /// Films, CDs, DVDs, drives: only ever by mail.
    Physical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Typed(RecordType, Media),
    /// "records", "documents", "the rest".
    Generic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CueKind {
    Enclosed,
    /// Will come later, by any route.
    Later,
    /// Will come by mail or courier.
    Mail,
    /// Was mailed (not in hand yet).
    MailedPast,
    /// Must be requested elsewhere or separately.
    Elsewhere,
    Not,
    /// "separately", "under separate cover": turns a delivery cue before it into "later".
    Separately,
}

/// Which mentions a cue may govern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Forward,
    Backward,
    /// Backward when it follows a mention (a predicate), forward otherwise.
    Both,
}

#[derive(Debug, Clone, Copy)]
enum What {
    Mention(Term),
    /// The flag: a delivery word that a following "separately" turns into "later" ("sent
    /// separately"; not "attached separately", which is still in this message).
    Cue(CueKind, Dir, bool),
}

#[derive(Debug, Clone, Copy)]
struct Item {
    start: usize,
    end: usize,
    clause: usize,
    what: What,
}

/// Words that name record types, longest match first. "medical" alone is not one ("St. Mark
/// Medical Center"); "medical and billing records" is handled on its own.
const MENTIONS: &[(Term, &str)] = {
    use Media::*;
    use RecordType::*;
    use Term::*;
    &[
        (
            Typed(Medical, None),
            "medical records, medical record, medical chart, medical file, medical documentation, clinical records, \
             clinical notes, office notes, office visit notes, visit notes, chart notes, progress notes, clinic \
             notes, physician notes, doctor notes, treatment notes, therapy notes, therapy records, nursing notes, \
             chart, charts, discharge summary, discharge summaries, operative report, operative reports, op note, \
             history and physical, consultation notes, lab results, labs, laboratory results, er records, emergency \
             room records, emergency department records, hospital records, run report, ambulance report",
        ),
        (
            Typed(Billing, None),
            "billing records, billing record, billing, bills, itemized bill, itemized bills, itemized billing, \
             itemized statement, itemized statements, itemization, itemized charges, billing statement, statement of \
             account, account statement, patient statement, ledger, ub 04, ub04, ub04s, ub 92, hcfa, cms 1500, \
             payment history, account history, financial records",
        ),
        (
            Typed(Radiology, None),
            "radiology, imaging, radiology records, imaging records, x ray, x rays, xray, xrays, mri, mris, ct scan, \
             ct scans, cat scan, ultrasound, mammogram",
        ),
        (
            Typed(Radiology, Report),
            "radiology report, radiology reports, imaging report, imaging reports, radiologist report, mri report, ct \
             report, x ray report, x ray reports, xray report",
        ),
        (Typed(Radiology, Images), "images, imaging studies, scans, dicom"),
        (
            Typed(Radiology, Physical),
            "films, film, cd, cds, cd rom, dvd, disc, discs, disk, flash drive, thumb drive, usb drive",
        ),
        (Generic, "records, record, documents, rest, remainder, remaining"),
    ]
};

/// Words after a mention that make it the name of an office, not of records.
const NOT_RECORDS_AFTER: &str = "department, dept, office, offices, center, centre, services, group, associates, \
    clinic, request, requests, questions, inquiries, staff, team, company, vendor, portal, fee, fees, address, \
    phone, number, specialist, manager, coordinator, director, section, unit, division, custodian, clerk, contact, \
    storage, management, system, systems, room";

/// Words that say where a mentioned type is, and which way they reach.
const CUES: &[(CueKind, Dir, &str)] = {
    use CueKind::*;
    use Dir::*;
    &[
        (
            Enclosed,
            Both,
            "attached, attachment, attachments, enclosed, included, uploaded, released, provided, sent, delivered, \
             emailed, faxed, available, ready",
        ),
        (Enclosed, Forward, "attaching, enclosing, including, includes, here are, here is, find, contains"),
        (
            Later,
            Backward,
            "will follow, to follow, follows, still, later, at a later date, in process, in progress, outstanding, \
             soon, shortly, next week, arrive",
        ),
        (Later, Both, "pending, forthcoming, not yet, yet to, waiting, coming"),
        (Later, Forward, "awaiting, sending, forwarding"),
        (
            Mail,
            Both,
            "by mail, via mail, in the mail, by us mail, via us mail, by regular mail, by post, via usps, by usps, \
             via fedex, by fedex, by courier, will mail, will ship",
        ),
        (Mail, Forward, "mailing, shipping"),
        (MailedPast, Both, "mailed, shipped"),
        (Elsewhere, Both, "contact, separate request, picked up, pick up, pickup"),
        (
            Elsewhere,
            Backward,
            "handled by, maintained by, kept by, held by, processed by, managed by, be requested, requested from, \
             request from, requested separately, upon request, on request, available upon request, available on \
             request, if requested, directly from",
        ),
        (Elsewhere, Forward, "please request, need to request, must request"),
        (Not, Both, "not, none, never, unable, cannot"),
        (Not, Forward, "no, without, except, excluding, other than, neither, nor"),
        (Not, Backward, "excluded"),
        (
            Separately,
            Both,
            "separately, separate cover, under separate cover, separate email, separate e mail, separate envelope, \
             separate package, separate mailing",
        ),
    ]
};

/// Future and passive forms built from verbs: "be sent", "being mailed", "will send".
const LATER_PARTICIPLES: &str = "sent, released, provided, forwarded, faxed, emailed, uploaded, delivered, included, \
    prepared, processed, copied, burned, pulled, compiled, available, coming";
const LATER_VERBS: &str = "send, release, provide, forward, fax, email, upload, deliver, arrive, come, include";

/// The phrases of a comma-separated table entry.
fn list(phrases: &str) -> impl Iterator<Item = &str> {
    phrases.split(',').map(str::trim).filter(|p| !p.is_empty())
}

/// Phrases indexed by their first word, longest first.
struct Table {
    by_first: HashMap<String, Vec<(Vec<String>, What)>>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut all: Vec<(String, What)> = Vec::new();
    for (t, phrases) in MENTIONS {
        all.extend(list(phrases).map(|p| (p.to_string(), What::Mention(*t))));
    }
    for (k, d, phrases) in CUES {
        for p in list(phrases) {
            let mergeable = *k == CueKind::MailedPast || (*k == CueKind::Enclosed && !p.starts_with("attach"));
            all.push((p.to_string(), What::Cue(*k, *d, mergeable)));
        }
    }
    for v in list(LATER_PARTICIPLES) {
        for pre in ["be", "being", "to be"] {
            all.push((format!("{pre} {v}"), What::Cue(CueKind::Later, Dir::Both, false)));
        }
    }
    for v in ["mailed", "shipped"] {
        for pre in ["be", "being", "to be"] {
            all.push((format!("{pre} {v}"), What::Cue(CueKind::Mail, Dir::Both, false)));
        }
    }
    for v in list(LATER_VERBS) {
        for pre in ["will", "to"] {
            all.push((format!("{pre} {v}"), What::Cue(CueKind::Later, Dir::Both, false)));
        }
    }
    let mut by_first: HashMap<String, Vec<(Vec<String>, What)>> = HashMap::new();
    for (phrase, what) in all {
        let words: Vec<String> = phrase.split_whitespace().map(str::to_string).collect();
        if let Some(first) = words.first() {
            by_first.entry(first.clone()).or_default().push((words, what));
        }
    }
    for list in by_first.values_mut() {
        list.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    }
    Table { by_first }
});

/// A lowercase word and the clause it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tok {
    word: String,
    clause: usize,
}

/// Cuts text into words, numbering clauses: sentence ends, `;`, "but"/"however", blank lines,
/// list lines and short lines end a clause. "don't" is read as "not", "we'll" as "we will".
fn tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut clause = 0;
    let mut prev_short = false;
    for line in text.lines() {
        let trimmed = line.trim();
        let bullet = trimmed.starts_with(['-', '*', '•', '·', '–']);
        if trimmed.is_empty() || bullet || prev_short {
            clause += 1;
        }
        prev_short = trimmed.chars().count() < SHORT_LINE && !trimmed.ends_with([',', '&']);
        let mut word = String::new();
        let mut chars = trimmed.chars().peekable();
        while let Some(c) = chars.next() {
            let next = chars.peek().copied();
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
                continue;
            }
            if matches!(c, '\'' | '’') && !word.is_empty() && next.is_some_and(char::is_alphanumeric) {
                word.push('\'');
                continue;
            }
            push_word(&mut out, &mut word, &mut clause);
            let ends = match c {
                '.' => next.is_none_or(char::is_whitespace),
                '!' | '?' | ';' => true,
                _ => false,
            };
            if ends {
                clause += 1;
            }
        }
        push_word(&mut out, &mut word, &mut clause);
    }
    out
}

fn push_word(out: &mut Vec<Tok>, word: &mut String, clause: &mut usize) {
    let w = std::mem::take(word);
    if w.is_empty() {
        return;
    }
    if matches!(w.as_str(), "but" | "however" | "although" | "though" | "whereas") {
        *clause += 1;
        return;
    }
    let mut push = |s: &str| out.push(Tok { word: s.to_string(), clause: *clause });
    match w.split_once('\'') {
        Some((stem, "t")) if stem.ends_with('n') => push("not"),
        Some((stem, "ll")) => {
            push(stem);
            push("will");
        }
        Some((stem, _)) => push(stem),
        None => push(&w),
    }
}

/// Mentions and cues in reading order, each the longest phrase at its place.
fn items(toks: &[Tok]) -> Vec<Item> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let found = TABLE.by_first.get(&toks[i].word).and_then(|list| {
            list.iter().find(|(words, _)| {
                toks.get(i..i + words.len())
                    .is_some_and(|run| run.iter().zip(words).all(|(t, w)| t.word == *w && t.clause == toks[i].clause))
            })
        });
        match found {
            Some((words, what)) if !excluded(toks, i, words.len(), what) => {
                out.push(Item { start: i, end: i + words.len(), clause: toks[i].clause, what: *what });
                i += words.len();
            }
            _ => {
                if medical_in_a_list(toks, i) {
                    let what = What::Mention(Term::Typed(RecordType::Medical, Media::None));
                    out.push(Item { start: i, end: i + 1, clause: toks[i].clause, what });
                }
                i += 1;
            }
        }
    }
    merge_adjacent(out)
}

/// "medical" in "medical and billing records", where the noun comes later.
fn medical_in_a_list(toks: &[Tok], i: usize) -> bool {
    let word = |k: usize| toks.get(k).filter(|t| t.clause == toks[i].clause).map(|t| t.word.as_str());
    word(i) == Some("medical")
        && matches!(word(i + 1), Some("and" | "or"))
        && matches!(word(i + 2), Some("billing" | "bills" | "radiology" | "imaging"))
}

/// A mention that names an office ("billing department", "St. Mark Medical Center"), or
/// "records" in "for your records".
fn excluded(toks: &[Tok], at: usize, len: usize, what: &What) -> bool {
    let What::Mention(_) = what else { return false };
    let after = toks.get(at + len).map(|t| t.word.as_str()).unwrap_or("");
    let before = |k: usize| at.checked_sub(k).and_then(|j| toks.get(j)).map(|t| t.word.as_str()).unwrap_or("");
    list(NOT_RECORDS_AFTER).any(|w| w == after)
        || (before(1) == "your" && before(2) == "for")
        || (before(1) == "on" && toks[at].word.starts_with("record"))
        || (before(1) == "of" && before(2) == "custodian")
}

/// Joins what belongs together: "mailed separately" and "sent via USPS" (a delivery that is
/// not this one), and "MRI films" (one radiology mention, as media).
fn merge_adjacent(items: Vec<Item>) -> Vec<Item> {
    let mut out: Vec<Item> = Vec::new();
    for it in items {
        if let Some(prev) = out.last_mut()
            && prev.clause == it.clause
            && let Some(what) = merged(prev.what, it.what, it.start - prev.end)
        {
            prev.what = what;
            prev.end = it.end;
            continue;
        }
        out.push(it);
    }
    out
}

fn merged(a: What, b: What, gap: usize) -> Option<What> {
    use CueKind::*;
    match (a, b) {
        (What::Cue(kind, dir, true), What::Cue(Separately, ..)) if gap <= 3 => {
            Some(What::Cue(if kind == MailedPast { Mail } else { Later }, dir, false))
        }
        (What::Cue(Later | MailedPast | Enclosed, dir, m), What::Cue(Mail, ..)) if gap <= 2 => {
            Some(What::Cue(Mail, dir, m))
        }
        (What::Mention(Term::Typed(t, x)), What::Mention(Term::Typed(u, y))) if t == u && gap == 0 => {
            let rank =
                |m: Media| [Media::Report, Media::None, Media::Images, Media::Physical].iter().position(|r| *r == m);
            Some(What::Mention(Term::Typed(t, if rank(y) > rank(x) { y } else { x })))
        }
        _ => None,
    }
}

/// Reads every clause: which cue governs each run of mentions.
fn read_reply(toks: &[Tok]) -> Said {
    let all = items(toks);
    let mut said = Said::default();
    let mut i = 0;
    while i < all.len() {
        if !matches!(all[i].what, What::Mention(_)) {
            i += 1;
            continue;
        }
        let clause = all[i].clause;
        let mut j = i;
        while all.get(j + 1).is_some_and(|n| matches!(n.what, What::Mention(_)) && n.clause == clause) {
            j += 1;
        }
        let run = &all[i..=j];
        let left = i.checked_sub(1).and_then(|k| reach(&all, k, &run[0], true));
        let right = reach(&all, j + 1, &run[run.len() - 1], false);
        for (n, m) in run.iter().enumerate() {
            let last = n + 1 == run.len();
            let cue = match (left, right) {
                (Some(l), Some(r)) if l.strong && run.len() == 1 => {
                    let left_wins = l.gap < r.gap || (l.gap == r.gap && l.kind == CueKind::Not);
                    Some(if left_wins { l.kind } else { r.kind })
                }
                (Some(l), Some(r)) if l.strong => Some(if last { r.kind } else { l.kind }),
                (_, Some(r)) => Some(r.kind),
                (l, None) => l.map(|l| l.kind),
            };
            if let (What::Mention(term), Some(cue)) = (m.what, cue) {
                record(&mut said, term, cue);
            }
        }
        i = j + 1;
    }
    said
}

/// A cue that can govern a run of mentions, and how far away it is.
#[derive(Debug, Clone, Copy)]
struct Reach {
    kind: CueKind,
    gap: usize,
    /// False for a predicate reaching on past its own subject ("X is attached, along with Y"):
    /// it yields to a cue after the run.
    strong: bool,
}

/// Whether the item at `k` is a cue that governs the run whose first (`forward`) or last
/// mention is `edge`.
fn reach(all: &[Item], k: usize, edge: &Item, forward: bool) -> Option<Reach> {
    let cue = all.get(k)?;
    let What::Cue(kind, dir, _) = cue.what else { return None };
    let predicate = k.checked_sub(1).is_some_and(|p| {
        matches!(all[p].what, What::Mention(_)) && cue.start - all[p].end <= MAX_GAP && all[p].clause == cue.clause
    });
    let (gap, limit, strong) = if forward {
        let limit = if kind == CueKind::Not && dir == Dir::Forward { 3 } else { MAX_GAP };
        let strong = dir == Dir::Forward || (dir == Dir::Both && !predicate);
        (edge.start.saturating_sub(cue.end), limit, strong)
    } else {
        (cue.start.saturating_sub(edge.end), MAX_GAP, true)
    };
    let allowed = match dir {
        Dir::Forward => forward,
        Dir::Backward => !forward,
        Dir::Both => forward || predicate,
    };
    (allowed && cue.clause == edge.clause && gap <= limit).then_some(Reach { kind, gap, strong })
}

fn record(said: &mut Said, term: Term, cue: CueKind) {
    let (t, media) = match term {
        Term::Typed(t, m) => (t, m),
        Term::Generic => {
            match cue {
                CueKind::Enclosed | CueKind::MailedPast => said.generic_enclosed = true,
                CueKind::Later | CueKind::Mail | CueKind::Separately => said.generic_later = true,
                CueKind::Elsewhere | CueKind::Not => {}
            }
            return;
        }
    };
    let radiology_media = t == RecordType::Radiology && media != Media::Report;
    let outcome = match cue {
        CueKind::Enclosed => Outcome::Received,
        CueKind::MailedPast if radiology_media => Outcome::Awaiting,
        CueKind::MailedPast => Outcome::Received,
        CueKind::Mail if radiology_media => Outcome::Awaiting,
        CueKind::Later | CueKind::Separately if media == Media::Physical => Outcome::Awaiting,
        CueKind::Mail | CueKind::Later | CueKind::Separately | CueKind::Elsewhere => Outcome::Missing,
        CueKind::Not => Outcome::Negated,
    };
    said.outcomes.push((t, outcome));
}

/// Headings that show a record type is in the attachments: at the start of a line or in
/// capitals ("ITEMIZED STATEMENT"), and not negated on the same line ("No radiology report").
const HEADINGS: &[(RecordType, &str)] = {
    use RecordType::*;
    &[
        (
            Medical,
            "progress note, progress notes, office visit, chief complaint, history of present illness, discharge \
             summary, operative report, history and physical, assessment and plan, review of systems, nursing notes, \
             patient care report, emergency department record",
        ),
        (
            Billing,
            "itemized statement, itemized bill, itemized charges, statement of account, patient ledger, account \
             ledger, ub 04, ub04, cms 1500, hcfa 1500, charge detail, revenue code",
        ),
        (
            Radiology,
            "radiology report, imaging report, diagnostic imaging, department of radiology, interpreting radiologist",
        ),
    ]
};

fn shown_in_attachments(text: &str) -> Vec<RecordType> {
    let mut shown = Vec::new();
    for line in text.lines() {
        if shown.len() == RecordType::ALL.len() {
            break;
        }
        let words: Vec<(String, bool)> = line
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| (w.to_lowercase(), !w.chars().any(char::is_lowercase)))
            .collect();
        for (t, heading) in HEADINGS.iter().flat_map(|(t, hs)| list(hs).map(move |h| (t, h))) {
            if shown.contains(t) {
                continue;
            }
            let h: Vec<&str> = heading.split(' ').collect();
            let hit = (0..words.len()).any(|i| {
                let run = words.get(i..i + h.len());
                let matched = run.is_some_and(|r| r.iter().zip(&h).all(|((w, _), x)| w == x));
                let heading_like = i == 0 || run.is_some_and(|r| r.iter().all(|(_, caps)| *caps));
                let negated = words[i.saturating_sub(3)..i]
                    .iter()
                    .any(|(w, _)| matches!(w.as_str(), "no" | "not" | "none" | "without"));
                matched && heading_like && !negated
            });
            if hit {
                shown.push(*t);
            }
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use RecordType::*;

    const ALL: [RecordType; 3] = [Medical, Billing, Radiology];

    fn cov(received: &[RecordType], awaiting: &[RecordType], missing: &[RecordType]) -> Coverage {
        Coverage { received: received.to_vec(), awaiting_media: awaiting.to_vec(), missing: missing.to_vec() }
    }

    #[test]
    fn a_reply_naming_no_type_covers_everything_requested() {
        for text in [
            "Attached are the requested records.",
            "Records attached.",
            "Hi Dana, here you go. Let me know if anything is missing.",
            "The records for Sofia Ramirez have been released. See the attached PDF.",
            "",
        ] {
            let c = judge(&ALL, &[], text, "");
            assert_eq!(c, cov(&ALL, &[], &[]), "{text}");
            assert!(c.is_complete());
            assert_eq!(c.gaps_in_words(), "");
        }
    }

    #[test]
    fn a_cd_mailed_separately_is_awaited_not_missing() {
        for text in [
            "Please find attached the medical records and itemized billing statement. The radiology CD will be \
             mailed separately.",
            "Attached are medical and billing records, with the radiology CD to be mailed separately.",
            "Enclosed are the office notes and the UB-04.\n\nRadiology images will be mailed to your office on a CD.",
            "Office notes and itemized bill attached; we are mailing the MRI films under separate cover.",
            "Here are the chart notes and the patient ledger. The imaging disc was mailed separately today.",
        ] {
            let c = judge(&ALL, &[], text, "");
            assert_eq!(c, cov(&[Medical, Billing], &[Radiology], &[]), "{text}");
            assert!(!c.is_complete());
            assert_eq!(c.gaps_in_words(), "radiology (films or CD by mail)");
        }
    }

    #[test]
    fn media_by_post_in_other_words() {
        for text in [
            "Attached are the records. The images are on a CD which we will mail to your office.",
            "The records have been uploaded to the portal. Radiology films will be sent via USPS.",
            "Records are attached. Note: the CD of images was mailed to your office yesterday.",
        ] {
            assert_eq!(judge(&ALL, &[], text, ""), cov(&[Medical, Billing], &[Radiology], &[]), "{text}");
        }
        let text = "Records attached. The x-ray images can be picked up at our front desk or mailed upon request.";
        assert_eq!(judge(&ALL, &[], text, ""), cov(&[Medical, Billing], &[], &[Radiology]));
    }

    #[test]
    fn records_said_to_follow_are_missing() {
        for text in [
            "Attached are the office notes and the itemized statement. Radiology will follow.",
            "The medical records and billing are attached; the radiology report is still pending.",
            "Attached are the medical records and billing records, but the imaging reports will be sent next week.",
            "Medical records - enclosed\nBilling - enclosed\nRadiology - to follow",
            "Enclosed: chart notes, itemized bill. X-ray reports are being processed and will be sent shortly.",
        ] {
            assert_eq!(judge(&ALL, &[], text, ""), cov(&[Medical, Billing], &[], &[Radiology]), "{text}");
        }
    }

    #[test]
    fn naming_only_some_types_leaves_the_others_missing() {
        for text in [
            "Please find attached the medical records for Li Wen, dates of service 01/04/2025 through 06/30/2025.",
            "Here are the chart notes for Aiden from both visits, see the PDF.",
            "Attached are the patient's office visit notes and lab results from St. Mark Medical Center.",
        ] {
            let c = judge(&[Medical, Billing], &[], text, "");
            assert_eq!(c, cov(&[Medical], &[], &[Billing]), "{text}");
            assert_eq!(c.gaps_in_words(), "billing");
        }
    }

    #[test]
    fn the_requested_records_with_a_named_type_cover_the_rest_too() {
        let text = "Attached are the requested records and the itemized billing statement for Ms. Dubois.";
        assert_eq!(judge(&ALL, &[], text, ""), cov(&ALL, &[], &[]));
    }

    #[test]
    fn types_received_earlier_stay_received() {
        let c = judge(&[Medical, Billing], &[Billing], "Attached are the office notes.", "");
        assert_eq!(c, cov(&[Medical, Billing], &[], &[]));
        let c = judge(&ALL, &[Radiology], "Attached is the itemized statement. Office notes will follow.", "");
        assert_eq!(c, cov(&[Billing, Radiology], &[], &[Medical]));
        // Earlier receipt wins over a reply that now says it will follow.
        let c = judge(&[Radiology], &[Radiology], "Radiology will follow.", "");
        assert_eq!(c, cov(&[Radiology], &[], &[]));
    }

    #[test]
    fn negated_and_elsewhere_types_are_missing_for_staff_to_decide() {
        let cases = [
            "Attached are the office notes and itemized statement. We have no radiology on file for this patient.",
            "Attached are the office notes and bills; imaging is not included.",
            "All records except the imaging are attached, along with the itemized bill and chart.",
            "Office notes and billing attached. Radiology films are kept by the imaging center; please request \
             them from St. Joseph directly.",
            "The chart and itemized statement are attached. MRI films are available upon request.",
            "The office notes and billing statement are attached. We don't have any x-rays for her.",
        ];
        for text in cases {
            assert_eq!(judge(&ALL, &[], text, ""), cov(&[Medical, Billing], &[], &[Radiology]), "{text}");
        }
        for text in [
            "Records attached. Billing records are handled by our business office, please contact them.",
            "Please see attached for the requested records. Billing is handled by a separate company, Med Billing \
             Solutions, phone 555-555-0100.",
            "The hospital bills will be faxed separately; the chart is attached.",
        ] {
            assert_eq!(judge(&[Medical, Billing], &[], text, ""), cov(&[Medical], &[], &[Billing]), "{text}");
        }
    }

    #[test]
    fn a_list_split_between_two_cues_gives_the_last_item_to_the_later_cue() {
        let text = "Attached are the medical records and billing will follow.";
        assert_eq!(judge(&[Medical, Billing], &[], text, ""), cov(&[Medical], &[], &[Billing]));
        let text = "The radiology CD will be mailed and the office notes and itemized statement are enclosed.";
        assert_eq!(judge(&ALL, &[], text, ""), cov(&[Medical, Billing], &[Radiology], &[]));
    }

    #[test]
    fn a_report_now_and_films_later_is_still_awaiting_media() {
        let text = "The MRI report is attached along with the office notes and itemized bill. The films will be \
                    mailed on a disc.";
        assert_eq!(judge(&ALL, &[], text, ""), cov(&[Medical, Billing], &[Radiology], &[]));
        // A paper report by mail is not media: still missing.
        let text = "Office notes and billing attached. The radiology report will be mailed.";
        assert_eq!(judge(&ALL, &[], text, ""), cov(&[Medical, Billing], &[], &[Radiology]));
    }

    #[test]
    fn more_records_to_follow_leaves_every_unnamed_type_missing() {
        let text = "Here is the first part of the records. The remaining records will follow next week.";
        assert_eq!(judge(&[Medical, Billing], &[], text, ""), cov(&[], &[], &[Medical, Billing]));
    }

    #[test]
    fn attachment_headings_count_as_enclosed_but_their_negations_do_not_remove() {
        let pdf = "Riverside Family Practice\nITEMIZED STATEMENT\nDate  Code  Description  Charge\n";
        let c = judge(&[Medical, Billing], &[], "Attached are the office notes.", pdf);
        assert_eq!(c, cov(&[Medical, Billing], &[], &[]));
        let pdf = "Progress Note\nChief complaint: neck pain\nNo radiology report on file.\n";
        assert_eq!(judge(&ALL, &[], "Attached are the requested records.", pdf), cov(&ALL, &[], &[]));
        let pdf = "Patient: Jane Roe\nRADIOLOGY REPORT\nEXAM: MRI lumbar spine\nIMPRESSION: ...";
        let text = "Attached are the chart notes and the itemized bill.";
        assert_eq!(judge(&ALL, &[], text, pdf), cov(&ALL, &[], &[]));
        // The reply's own "will follow" wins over a page that mentions the type.
        let text = "Attached are the office notes; the itemized statement will follow.";
        let pdf = "itemized statement requested from billing office";
        assert_eq!(judge(&[Medical, Billing], &[], text, pdf), cov(&[Medical], &[], &[Billing]));
    }

    #[test]
    fn our_own_letter_in_the_attachments_is_no_evidence() {
        let letter = "This request includes, but is not limited to, the following: A certified copy of any and all\n\
                      official medical records, charts, laboratory results, physician notes and orders, billing\n\
                      records from both the hospital and physician bills, radiology reports, and radiology images.";
        let c = judge(&ALL, &[], "Attached are the medical records.", letter);
        assert_eq!(c, cov(&[Medical], &[], &[Billing, Radiology]));
        assert_eq!(c.gaps_in_words(), "billing and radiology");
    }

    #[test]
    fn offices_named_after_record_types_are_not_mentions() {
        let text = "Attached are the requested records. Questions? Call the billing department or the St. Mark \
                    Imaging Center.";
        assert_eq!(judge(&ALL, &[], text, ""), cov(&ALL, &[], &[]));
    }

    #[test]
    fn only_requested_types_appear_once_each_in_request_order() {
        let c = judge(&[Billing, Billing], &[Radiology], "Attached are the office notes and itemized bill.", "");
        assert_eq!(c, cov(&[Billing], &[], &[]));
        assert_eq!(judge(&[], &[Medical], "anything", "at all"), Coverage::default());
    }

    #[test]
    fn gaps_read_as_a_list() {
        assert_eq!(cov(&[], &[], &[Medical, Billing, Radiology]).gaps_in_words(), "medical, billing and radiology");
        assert_eq!(cov(&[], &[Radiology], &[Billing]).gaps_in_words(), "billing and radiology (films or CD by mail)");
        assert!(cov(&[Medical], &[], &[]).is_complete());
    }

    #[test]
    fn never_panics_on_odd_or_huge_input() {
        let odd = "é’'’ n't '\u{0}\u{feff} ; . - * • \r\n\r\n radiology ’ll 𝔘 CD\u{2028} will be mailed separately";
        let _ = judge(&ALL, &[], odd, odd);
        let huge = "Attached are the office notes; radiology will follow. ".repeat(100_000);
        let c = judge(&ALL, &[], &huge, &"ITEMIZED STATEMENT ñ\n".repeat(200_000));
        assert_eq!(c, cov(&[Medical, Billing], &[], &[Radiology]));
        let _ = judge(&ALL, &[], &"é".repeat(MAX_TEXT + 1), "");
    }
}
