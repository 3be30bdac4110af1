//! An invoice checked against the provider's state copy-fee statute ([`super::statutes`]): over
//! the legal maximum, within it, advice only, or no statute to check against.
//!
//! The maximum is the page bands summed (a flat band counts once), then one search or handling
//! fee where the schedule has one, capped where electronic copies are capped (the cap includes
//! the search fee), raised to the schedule's minimum, plus a certification fee only when one was
//! asked for. Postage is not known here; the statutes that allow it allow actual cost, so the
//! notice says a difference may be postage. Fractions of a cent round in the provider's favour:
//! a flag never hinges on one.
//!
//! Only a schedule read from the statute itself, for the year in question, gives a verdict;
//! secondary sources, CPI-adjusted amounts for another year, electronic copies the statute does
//! not price, or a missing page count give advice. Kentucky's free first copy (KRS 422.317, to
//! the patient and the attorney the patient authorizes) needs no page count: anything billed
//! for it is an overcharge.

use super::money::format_cents;
use super::statutes::{self, Band, Certainty, Charge, Electronic, FeeSchedule, ProviderKind, Statute};

/// Pages beyond this are not a page count (an account number, a year).
const MAX_PAGES: u32 = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceFacts {
    pub amount_cents: i64,
    pub pages: Option<u32>,
    pub electronic: bool,
    pub certification_requested: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Billed more than the statute allows: flag it.
    Overcharge { allowed_cents: i64, billed_cents: i64, citation: &'static str, why: String },
    /// Within what the statute allows.
    Within { allowed_cents: i64, citation: &'static str },
    /// The rule is uncertain (secondary sources, CPI year unknown) or facts are missing (no page
    /// count): advice only.
    Advisory { citation: &'static str, why: String },
    /// No statute for the state in the table.
    Unknown { why: String },
}

/// `state`: the provider's two-letter state; `first_copy`: this is the first copy requested for
/// this patient from this provider.
pub fn check(
    state: Option<&str>,
    provider: ProviderKind,
    facts: &InvoiceFacts,
    first_copy: bool,
    year: i32,
) -> Verdict {
    let code = state.map(str::trim).unwrap_or("");
    let Some(statute) = statutes::for_state(code) else {
        let why = if code.is_empty() {
            "the provider's state is not known, so there is no copy-fee statute to check against".to_string()
        } else if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) {
            format!("there is no copy-fee statute for {} in the table", code.to_ascii_uppercase())
        } else {
            "the provider's state is not a two-letter code, so there is no statute to check against".to_string()
        };
        return Verdict::Unknown { why };
    };
    let (billed, citation) = (facts.amount_cents, statute.citation);
    if first_copy && statute.first_copy_free_for_patient_or_attorney {
        return if billed > 0 {
            Verdict::Overcharge { allowed_cents: 0, billed_cents: billed, citation, why: first_copy_why(statute) }
        } else {
            Verdict::Within { allowed_cents: 0, citation }
        };
    }
    let schedules = schedules_for(statute, provider);
    if schedules.is_empty() {
        let why = format!(
            "the table has no current amounts for {citation}, so review the invoice by hand: {}",
            statute.notes
        );
        return Verdict::Advisory { citation, why };
    }
    let Some(pages) = facts.pages.filter(|p| *p > 0) else {
        let rates: Vec<String> = schedules.iter().map(|f| rates_in_words(f, facts)).collect();
        let why = format!(
            "the invoice states no page count, which is needed to check it; the statute allows {}",
            rates.join("; or, ")
        );
        return Verdict::Advisory { citation, why };
    };
    let maxima: Vec<Maximum> = schedules.iter().map(|f| maximum(f, pages, facts, year)).collect();
    judge(&maxima, billed, citation, statute.fees.len() > 1)
}

/// The schedules that bind this provider: its own kind's, else the "any provider" one, else
/// all of them when the kind is not known (TX and FL price physicians and hospitals apart).
fn schedules_for(statute: &Statute, provider: ProviderKind) -> Vec<&'static FeeSchedule> {
    let of = |kind: ProviderKind| statute.fees.iter().filter(|f| f.provider == kind).collect::<Vec<_>>();
    let own = of(provider);
    if !own.is_empty() {
        return own;
    }
    let any = of(ProviderKind::Any);
    if !any.is_empty() { any } else { statute.fees.iter().collect() }
}

fn first_copy_why(statute: &Statute) -> String {
    format!(
        "the first copy is free to the patient and to the attorney the patient authorizes, with no added fees \
         (a mail or fax delivery charge only where free pick-up was offered); see {}",
        statute.source_note
    )
}

/// The most one schedule allows for this invoice, how, and why it is only advice if it is.
#[derive(Debug, Clone)]
struct Maximum {
    provider: ProviderKind,
    cents: i64,
    how: String,
    doubts: Vec<String>,
}

fn maximum(f: &FeeSchedule, pages: u32, facts: &InvoiceFacts, year: i32) -> Maximum {
    let mut doubts = Vec::new();
    if f.certainty == Certainty::Secondary {
        doubts.push("its amounts come from secondary sources".to_string());
    }
    if f.cpi_adjusted && f.amounts_year.map(i32::from) != Some(year) {
        doubts.push(match f.amounts_year {
            Some(y) => format!("its amounts change yearly with the CPI and the table has {y}'s, not {year}'s"),
            None => "its amounts change yearly with the CPI and the table's year is not known".to_string(),
        });
    }
    let (bands, percent, cap) = match (facts.electronic, f.electronic) {
        (true, Electronic::Bands { bands, cap_cents }) => (bands, 100, cap_cents),
        (true, Electronic::PercentOfPaper(p)) => (f.paper, u32::from(p), None),
        (true, Electronic::NotAddressed) => {
            doubts.push("the statute does not price electronic copies, so the paper rates were used".to_string());
            (f.paper, 100, None)
        }
        _ => (f.paper, 100, None),
    };
    let (mut cents, mut how) = pages_cost(bands, pages, percent);
    if let Some(search) = f.search_fee_cents {
        cents = cents.saturating_add(i64::from(search));
        how.push(format!("a {} search and handling fee", money(i64::from(search))));
    }
    if let Some(cap) = cap.map(i64::from).filter(|c| cents > *c) {
        cents = cap;
        how.push(format!("capped at {} for electronic copies", money(cap)));
    }
    if let Some(min) = f.minimum_cents.map(i64::from).filter(|m| cents < *m) {
        cents = min;
        how.push(format!("raised to the {} minimum", money(min)));
    }
    if let Some(cert) = f.certification_cents.filter(|_| facts.certification_requested) {
        cents = cents.saturating_add(i64::from(cert));
        how.push(format!("a {} certification", money(i64::from(cert))));
    }
    let how = format!("for {pages} {}: {}", if pages == 1 { "page" } else { "pages" }, how.join(", "));
    Maximum { provider: f.provider, cents, how, doubts }
}

/// The page bands summed, at `percent` of their rates (IL prices electronic copies at half).
fn pages_cost(bands: &[Band], pages: u32, percent: u32) -> (i64, Vec<String>) {
    let scale = |c: i64| c.saturating_mul(i64::from(percent)).saturating_add(99) / 100;
    let of =
        |c: u32| if percent == 100 { money(i64::from(c)) } else { format!("{percent}% of {}", money(i64::from(c))) };
    let (mut total, mut how, mut done) = (0i64, Vec::new(), 0u32);
    for band in bands {
        if pages <= done {
            break;
        }
        let upto = band.through_page.unwrap_or(u32::MAX).max(done);
        let last = pages.min(upto);
        let span = if last == done + 1 { format!("page {last}") } else { format!("pages {}-{last}", done + 1) };
        let (cents, words) = match band.charge {
            Charge::PerPage(c) => {
                let cents = scale(i64::from(last - done).saturating_mul(i64::from(c)));
                (cents, format!("{span} × {} = {}", of(c), money(cents)))
            }
            Charge::Flat(c) => (scale(i64::from(c)), format!("{span} for {} in all", of(c))),
        };
        total = total.saturating_add(cents);
        how.push(words);
        done = upto;
    }
    (total, how)
}

/// "$0.97 a page for pages 1-20, $0.83 for 21-100 …, plus a $25.88 search fee", for advice
/// without a page count.
fn rates_in_words(f: &FeeSchedule, facts: &InvoiceFacts) -> String {
    let bands = match (facts.electronic, f.electronic) {
        (true, Electronic::Bands { bands, .. }) => bands,
        _ => f.paper,
    };
    let mut done = 0u32;
    let mut parts = Vec::new();
    for band in bands {
        let span = match band.through_page {
            Some(p) => format!("pages {}-{p}", done + 1),
            None if done == 0 => "every page".to_string(),
            None => format!("pages after {done}"),
        };
        parts.push(match band.charge {
            Charge::PerPage(c) => format!("{} a page for {span}", money(i64::from(c))),
            Charge::Flat(c) => format!("{} in all for {span}", money(i64::from(c))),
        });
        done = band.through_page.unwrap_or(done);
    }
    if facts.electronic
        && let Electronic::PercentOfPaper(p) = f.electronic
    {
        parts.push(format!("at {p}% of those rates for electronic copies"));
    }
    let kind = match f.provider {
        ProviderKind::Any => String::new(),
        k => format!(" ({})", kind_word(k)),
    };
    let extra = f.search_fee_cents.map(|s| format!(", plus a {} search fee", money(i64::from(s))));
    format!("{}{}{kind}", parts.join(", "), extra.unwrap_or_default())
}

fn kind_word(k: ProviderKind) -> &'static str {
    match k {
        ProviderKind::Any => "any provider",
        ProviderKind::Physician => "physicians",
        ProviderKind::Hospital => "hospitals",
    }
}

/// The verdict from each binding schedule's maximum (two when the provider's kind is unknown).
fn judge(maxima: &[Maximum], billed: i64, citation: &'static str, kinds_differ: bool) -> Verdict {
    let (Some(hi), Some(lo)) = (maxima.iter().max_by_key(|m| m.cents), maxima.iter().min_by_key(|m| m.cents)) else {
        return Verdict::Advisory { citation, why: "no fee schedule applies".into() };
    };
    // Which schedule a figure is from, when the statute prices kinds of provider apart.
    let whose = |m: &Maximum| match (kinds_differ, m.provider) {
        (true, ProviderKind::Any) | (false, _) => String::new(),
        (true, k) => format!(", by the schedule for {}", kind_word(k)),
    };
    let doubts: Vec<&str> = maxima.iter().flat_map(|m| &m.doubts).map(String::as_str).collect();
    if !doubts.is_empty() {
        let why = format!(
            "{}; by the table the most allowed is {} ({}{}), and {} was billed",
            dedup(doubts).join("; "),
            money(hi.cents),
            hi.how,
            whose(hi),
            money(billed)
        );
        return Verdict::Advisory { citation, why };
    }
    if billed > hi.cents {
        let why = format!("{}{}", hi.how, whose(hi));
        return Verdict::Overcharge { allowed_cents: hi.cents, billed_cents: billed, citation, why };
    }
    if billed <= lo.cents {
        return Verdict::Within { allowed_cents: lo.cents, citation };
    }
    let why = format!(
        "{} is within the {} allowed for {} but above the {} allowed for {}; it depends on what kind of provider \
         this is",
        money(billed),
        money(hi.cents),
        kind_word(hi.provider),
        money(lo.cents),
        kind_word(lo.provider)
    );
    Verdict::Advisory { citation, why }
}

fn dedup(items: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// `$1,234.50`; amounts are clamped so the most negative one still prints.
fn money(cents: i64) -> String {
    format_cents(cents.max(-i64::MAX))
}

/// A paragraph for the staff notice: what was billed, what the law allows, the citation;
/// advisory verdicts say they are advisory.
pub fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Overcharge { allowed_cents, billed_cents, citation, why } => {
            let over = billed_cents.saturating_sub(*allowed_cents);
            let postage = if *allowed_cents > 0 {
                " If part of the difference is postage, the statute may allow actual postage on top."
            } else {
                ""
            };
            format!(
                "Likely overcharge: {} was billed, but {citation} allows at most {} — {why}. That is {} too much.{postage}",
                money(*billed_cents),
                money(*allowed_cents),
                money(over)
            )
        }
        Verdict::Within { allowed_cents, citation } => {
            format!("Within {citation}: it allows up to {} for this invoice.", money(*allowed_cents))
        }
        Verdict::Advisory { citation, why } => {
            format!("Advisory only, not a verdict ({citation}): {}.", why.trim_end_matches('.'))
        }
        Verdict::Unknown { why } => format!("No statute check: {}.", why.trim_end_matches('.')),
    }
}

/// The page count an invoice states ("245 pages", "Pages: 12", "12 pgs", "Qty 12 ... per page"),
/// if any. A labelled count ("Total pages: 245") wins over "245 pages", which wins over a
/// quantity on a per-page line; of several, the largest (a total is at least each part).
/// Band descriptions ("first 20 pages", "pages 21-100") and "Page 1 of 2" are not counts.
pub fn pages_in(text: &str) -> Option<u32> {
    let mut best: Option<(u8, u32)> = None;
    for line in text.lines().take(200_000) {
        let toks = line_tokens(line);
        for i in 0..toks.len() {
            let found = labelled(&toks, i)
                .map(|n| (3, n))
                .or_else(|| counted(&toks, i).map(|n| (2, n)))
                .or_else(|| quantity(&toks, i).filter(|_| per_page_line(&toks)).map(|n| (1, n)));
            if let Some(f) = found.filter(|(_, n)| (1..=MAX_PAGES).contains(n)) {
                best = best.max(Some(f));
            }
        }
    }
    best.map(|(_, n)| n)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(u32),
    Punct(char),
}

/// Words, numbers (`1,245` is one) and the punctuation counts sit next to.
fn line_tokens(line: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            loop {
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                let mut ahead = chars.clone();
                if ahead.next() == Some(',') && ahead.clone().take(3).filter(char::is_ascii_digit).count() == 3 {
                    let mut rest = ahead.clone();
                    rest.nth(2);
                    if !rest.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                        continue;
                    }
                }
                break;
            }
            out.push(Tok::Num(if digits.len() > 9 { u32::MAX } else { digits.parse().unwrap_or(u32::MAX) }));
        } else if c.is_alphabetic() {
            let mut word: String = c.to_lowercase().collect();
            while let Some(l) = chars.next_if(|l| l.is_alphabetic()) {
                word.extend(l.to_lowercase());
            }
            out.push(Tok::Word(word));
        } else if !c.is_whitespace() {
            out.push(Tok::Punct(c));
        }
    }
    out
}

fn word_at(toks: &[Tok], i: usize) -> &str {
    match toks.get(i) {
        Some(Tok::Word(w)) => w,
        _ => "",
    }
}

/// A number at `i` that does not start a range ("1-20", "21 to 100"), nor end one unless a
/// label's dash is before it ("Pages - 12").
fn lone_number(toks: &[Tok], i: usize, after_label: bool) -> Option<u32> {
    let Some(Tok::Num(n)) = toks.get(i) else { return None };
    let dash = |k: Option<usize>| k.and_then(|k| toks.get(k)).is_some_and(|t| matches!(t, Tok::Punct('-' | '–')));
    let ends_range = !after_label && dash(i.checked_sub(1));
    let range = dash(Some(i + 1)) || ends_range || matches!(word_at(toks, i + 1), "to" | "through" | "thru");
    (!range).then_some(*n)
}

const PAGE_WORDS: &[&str] = &["pages", "page", "pgs", "pg", "pp"];

/// "Pages: 12", "Total pages 245", "Number of pages - 12", "Page count: 12".
fn labelled(toks: &[Tok], i: usize) -> Option<u32> {
    let w = |k: usize| word_at(toks, i + k);
    let label_len = match (w(0), w(1), w(2)) {
        ("number" | "no" | "total", "of", "pages" | "pgs") => 3,
        ("total" | "pages", "pages" | "copied" | "released" | "produced" | "printed" | "scanned", _) => 2,
        ("page" | "pg", "count" | "total", _) => 2,
        ("pages" | "pgs", ..) => 1,
        _ => {
            let hash = matches!(toks.get(i), Some(Tok::Punct('#')));
            return (hash && w(1) == "of" && matches!(w(2), "pages" | "pgs"))
                .then(|| after_label(toks, i + 3))
                .flatten();
        }
    };
    after_label(toks, i + label_len)
}

fn after_label(toks: &[Tok], mut at: usize) -> Option<u32> {
    while matches!(toks.get(at), Some(Tok::Punct(':' | '-' | '=' | '#' | '.'))) {
        at += 1;
    }
    lone_number(toks, at, true)
}

/// "245 pages", "12 pgs", "(245 total pages)", not "first 20 pages" or "page 1 of 3 pages".
fn counted(toks: &[Tok], i: usize) -> Option<u32> {
    let n = lone_number(toks, i, false)?;
    let filler = matches!(word_at(toks, i + 1), "total" | "printed" | "copied" | "paper" | "scanned" | "electronic");
    let unit = word_at(toks, i + 1 + usize::from(filler));
    let before = i.checked_sub(1).map(|k| word_at(toks, k)).unwrap_or("");
    let partial = matches!(
        before,
        "first"
            | "next"
            | "additional"
            | "remaining"
            | "over"
            | "each"
            | "per"
            | "to"
            | "after"
            | "beyond"
            | "of"
            | "under"
            | "than"
            | "last"
    );
    (PAGE_WORDS.contains(&unit) && (unit != "page" || n == 1) && !partial).then_some(n)
}

/// "Qty 12", "Quantity: 12".
fn quantity(toks: &[Tok], i: usize) -> Option<u32> {
    matches!(word_at(toks, i), "qty" | "quantity").then(|| after_label(toks, i + 1)).flatten()
}

fn per_page_line(toks: &[Tok]) -> bool {
    toks.iter().any(|t| matches!(t, Tok::Word(w) if PAGE_WORDS.contains(&w.as_str()) || w == "copies" || w == "copy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(amount_cents: i64, pages: Option<u32>) -> InvoiceFacts {
        InvoiceFacts { amount_cents, pages, electronic: false, certification_requested: false }
    }

    fn any(state: &str, f: &InvoiceFacts, first: bool, year: i32) -> Verdict {
        check(Some(state), ProviderKind::Any, f, first, year)
    }

    #[test]
    fn kentucky_first_copy_is_free_to_the_attorney() {
        for amount in [1, 650, 45_000] {
            for pages in [None, Some(0), Some(12)] {
                let v = any("KY", &facts(amount, pages), true, 2026);
                let Verdict::Overcharge { allowed_cents: 0, billed_cents, citation: "KRS 422.317", why } = &v else {
                    panic!("{v:?}");
                };
                assert_eq!(*billed_cents, amount);
                assert!(why.contains("first copy is free to the patient and to the attorney the patient authorizes"));
                assert!(why.contains("Eriksen"));
                let words = describe(&v);
                assert!(words.contains("KRS 422.317") && words.contains("allows at most $0.00"), "{words}");
                assert!(!words.contains("postage on top"));
            }
        }
        assert_eq!(
            any("ky", &facts(0, None), true, 2026),
            Verdict::Within { allowed_cents: 0, citation: "KRS 422.317" }
        );
    }

    #[test]
    fn kentucky_later_copies_are_a_dollar_a_page() {
        let ky = |amount| any("KY", &facts(amount, Some(120)), false, 2026);
        assert_eq!(ky(12_000), Verdict::Within { allowed_cents: 12_000, citation: "KRS 422.317" });
        let Verdict::Overcharge { allowed_cents: 12_000, billed_cents: 15_000, why, .. } = ky(15_000) else { panic!() };
        assert!(why.contains("pages 1-120 × $1.00 = $120.00"), "{why}");
        let Verdict::Advisory { why, .. } = any("KY", &facts(5_000, None), false, 2026) else { panic!() };
        assert!(why.contains("no page count") && why.contains("$1.00 a page"), "{why}");
    }

    #[test]
    fn tennessee_flat_band_then_per_page() {
        // $25 covers pages 1-5, then $0.50 a page.
        assert_eq!(
            any("TN", &facts(2_500, Some(3)), false, 2026),
            Verdict::Within { allowed_cents: 2_500, citation: "Tenn. Code Ann. § 63-2-102" }
        );
        assert!(matches!(
            any("TN", &facts(2_501, Some(5)), false, 2026),
            Verdict::Overcharge { allowed_cents: 2_500, .. }
        ));
        assert!(matches!(
            any("TN", &facts(3_000, Some(15)), false, 2026),
            Verdict::Within { allowed_cents: 3_000, .. }
        ));
        let mut f = facts(5_000, Some(15));
        f.certification_requested = true;
        assert!(matches!(any("TN", &f, false, 2026), Verdict::Within { allowed_cents: 5_000, .. }));
        // Electronic: $5 for the first ten pages, $0.25 after, at most $25.
        f.electronic = true;
        f.pages = Some(500);
        assert!(matches!(
            any("TN", &f, false, 2026),
            Verdict::Overcharge { allowed_cents: 4_500, billed_cents: 5_000, .. }
        ));
    }

    #[test]
    fn georgia_tiers_with_search_and_certification_fees() {
        // 20 × $0.97 + 80 × $0.83 + 20 × $0.66 + $25.88 search = $124.88; + $9.70 certification.
        let mut f = facts(12_488, Some(120));
        assert!(matches!(any("GA", &f, false, 2024), Verdict::Within { allowed_cents: 12_488, .. }));
        f.amount_cents = 12_489;
        let v = any("GA", &f, false, 2024);
        let Verdict::Overcharge { allowed_cents: 12_488, why, .. } = &v else { panic!("{v:?}") };
        assert!(why.contains("pages 21-100 × $0.83 = $66.40") && why.contains("$25.88 search"), "{why}");
        assert!(describe(&v).contains("That is $0.01 too much"));
        f.certification_requested = true;
        assert!(matches!(any("GA", &f, false, 2024), Verdict::Within { allowed_cents: 13_458, .. }));
        // The same invoice in a year the table does not have is advice, with the figure.
        let v = any("GA", &facts(20_000, Some(120)), false, 2026);
        let Verdict::Advisory { citation: "O.C.G.A. § 31-33-3", why } = &v else { panic!("{v:?}") };
        assert!(why.contains("2024's, not 2026's") && why.contains("$124.88") && why.contains("$200.00"), "{why}");
        assert!(describe(&v).starts_with("Advisory only"));
    }

    #[test]
    fn pennsylvania_band_edges() {
        let pa = |pages, amount| any("PA", &facts(amount, Some(pages)), false, 2025);
        // 20 × $1.94 + $28.74 = $67.54; page 21 adds $1.44; page 61 adds $0.50.
        assert!(matches!(pa(20, 6_754), Verdict::Within { allowed_cents: 6_754, .. }));
        assert!(matches!(pa(21, 6_898), Verdict::Within { allowed_cents: 6_898, .. }));
        assert!(matches!(pa(61, 12_564), Verdict::Within { allowed_cents: 12_564, .. }));
        assert!(matches!(pa(61, 12_565), Verdict::Overcharge { .. }));
    }

    #[test]
    fn illinois_electronic_copies_are_half_the_paper_rate() {
        // Paper, 60 pages: 25 × $1.30 + 25 × $0.87 + 10 × $0.43 + $34.72 = $93.27.
        let mut f = facts(9_327, Some(60));
        assert!(matches!(any("IL", &f, false, 2024), Verdict::Within { allowed_cents: 9_327, .. }));
        // Electronic: half of each band ($16.25 + $10.88 rounded up + $2.15), plus the same $34.72.
        f.electronic = true;
        let v = any("IL", &f, false, 2024);
        let Verdict::Overcharge { allowed_cents: 6_400, why, .. } = &v else { panic!("{v:?}") };
        assert!(why.contains("pages 1-25 × 50% of $1.30 = $16.25"), "{why}");
        f.amount_cents = 6_400;
        assert!(matches!(any("IL", &f, false, 2024), Verdict::Within { allowed_cents: 6_400, .. }));
    }

    #[test]
    fn electronic_caps_and_minimums() {
        // WV electronic: $0.20 a page plus $20 search, at most $150 in all.
        let mut f = facts(15_000, Some(1_000));
        f.electronic = true;
        let Verdict::Within { allowed_cents: 15_000, .. } = any("WV", &f, false, 2026) else { panic!() };
        // NC: at least $10 may be charged even for two pages.
        assert!(matches!(any("NC", &facts(1_000, Some(2)), false, 2026), Verdict::Within { allowed_cents: 1_000, .. }));
        assert!(matches!(any("NC", &facts(1_001, Some(2)), false, 2026), Verdict::Overcharge { .. }));
    }

    #[test]
    fn uncertain_rules_and_missing_facts_are_advice_only() {
        // Secondary sources (OH), an unknown CPI year (MI), the electronic rule unread (NY).
        for (state, electronic) in [("OH", false), ("MI", false), ("VA", false), ("NY", true)] {
            let mut f = facts(99_999, Some(50));
            f.electronic = electronic;
            let v = any(state, &f, false, 2026);
            assert!(matches!(&v, Verdict::Advisory { why, .. } if why.contains("most allowed")), "{state}: {v:?}");
        }
        let Verdict::Advisory { citation: "Cal. Evid. Code § 1158", why } =
            any("CA", &facts(5_000, Some(10)), false, 2026)
        else {
            panic!()
        };
        assert!(why.contains("review the invoice by hand"));
        let Verdict::Advisory { why, .. } = any("GA", &facts(5_000, None), false, 2024) else { panic!() };
        assert!(why.contains("page count") && why.contains("$0.97 a page for pages 1-20"), "{why}");
    }

    #[test]
    fn texas_depends_on_the_kind_of_provider() {
        // 30 pages: physicians $25 + 10 × $0.50 = $30; hospitals $30 + 20 × $1.00 = $50.
        let tx = |kind, amount| check(Some("TX"), kind, &facts(amount, Some(30)), false, 2026);
        assert!(matches!(tx(ProviderKind::Physician, 3_001), Verdict::Overcharge { allowed_cents: 3_000, .. }));
        assert!(matches!(tx(ProviderKind::Hospital, 3_001), Verdict::Within { allowed_cents: 5_000, .. }));
        assert!(matches!(tx(ProviderKind::Any, 3_000), Verdict::Within { allowed_cents: 3_000, .. }));
        let v = tx(ProviderKind::Any, 4_000);
        assert!(matches!(&v, Verdict::Advisory { why, .. } if why.contains("what kind of provider")), "{v:?}");
        let Verdict::Overcharge { why, .. } = tx(ProviderKind::Any, 6_000) else { panic!() };
        assert!(why.contains("by the schedule for hospitals"), "{why}");
    }

    #[test]
    fn states_not_in_the_table_are_unknown() {
        for state in [Some("ZZ"), Some("wa"), None, Some(""), Some("Kentucky"), Some("✓✓")] {
            let v = check(state, ProviderKind::Any, &facts(5_000, Some(10)), true, 2026);
            let Verdict::Unknown { why } = &v else { panic!("{state:?}: {v:?}") };
            assert!(!why.is_empty());
            assert!(describe(&v).starts_with("No statute check: "));
        }
        let Verdict::Unknown { why } = check(Some(" wa "), ProviderKind::Any, &facts(1, None), false, 2026) else {
            panic!()
        };
        assert!(why.contains("WA"));
    }

    #[test]
    fn describe_says_what_was_billed_and_allowed() {
        let v = Verdict::Overcharge { allowed_cents: 2_500, billed_cents: 4_000, citation: "X § 1", why: "w".into() };
        assert_eq!(
            describe(&v),
            "Likely overcharge: $40.00 was billed, but X § 1 allows at most $25.00 — w. That is $15.00 too much. If \
             part of the difference is postage, the statute may allow actual postage on top."
        );
        let v = Verdict::Within { allowed_cents: 2_500, citation: "X § 1" };
        assert_eq!(describe(&v), "Within X § 1: it allows up to $25.00 for this invoice.");
    }

    #[test]
    fn huge_and_odd_facts_do_not_overflow() {
        for state in ["KY", "TN", "GA", "IL", "WV", "TX", "NC"] {
            for pages in [Some(u32::MAX), Some(1), None] {
                let f = InvoiceFacts { amount_cents: i64::MAX, pages, electronic: true, certification_requested: true };
                let _ = describe(&check(Some(state), ProviderKind::Any, &f, false, i32::MIN));
                let f = InvoiceFacts { amount_cents: i64::MIN, ..f };
                let _ = describe(&check(Some(state), ProviderKind::Hospital, &f, true, i32::MAX));
            }
        }
    }

    #[test]
    fn reads_page_counts() {
        for (text, want) in [
            ("Copies of medical records (245 pages)", Some(245)),
            ("Pages: 12", Some(12)),
            ("Records released: 12 pgs", Some(12)),
            ("Total pages 1,245\nAmount due $312.50", Some(1_245)),
            ("Number of pages - 88", Some(88)),
            ("# of pages: 30", Some(30)),
            ("Page count: 7", Some(7)),
            ("Description   Qty 12   $0.50 per page   $6.00", Some(12)),
            ("Quantity: 40 copies @ $1.00", Some(40)),
            ("84 pp. released electronically", Some(84)),
            ("First 20 pages @ $0.97 = $19.40\nPages 21-100 @ $0.83\n120 total pages", Some(120)),
            ("Records: 200 pages\nBilling: 45 pages", Some(200)),
            ("Pages copied: 56 ... first 20 pages at $1.94, 21-56 at $1.44 (36 pages)", Some(56)),
            ("Page 1 of 2\nInvoice 88812\nBalance due $45.00", None),
            ("Please remit $25.00 within 30 days.", None),
            ("Account 4481234 page", None),
            ("Records: 1 page", Some(1)),
            ("", None),
        ] {
            assert_eq!(pages_in(text), want, "{text}");
        }
    }

    #[test]
    fn page_counts_never_panic() {
        for text in ["pages:", "pages: -", "9,99", "1,", ",123 pages", "99999999999999 pages", "é pages 𝟏𝟐", "Qty"]
        {
            let _ = pages_in(text);
        }
        assert_eq!(pages_in("4,294,967,296 pages"), None);
        assert_eq!(pages_in(&"245 pages ".repeat(200_000)), Some(245));
    }
}
