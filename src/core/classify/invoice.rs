//! The amount an invoice asks for now: of all the amounts in a reply, the one whose label ranks
//! highest ("balance due" over "total" over "fee"), a later one winning ties; a total less what
//! was already paid when no balance is given; 0 for "no charge". Amounts are `$45`, `$ 45.00`,
//! `USD 312.50`, `312.50 USD`, or a bare `1,250.00` next to a money word. Rates ("$0.50 per
//! page") count only when nothing else does; limits ("invoices over $300.00 need approval")
//! never. Account numbers, suites, dates, phone numbers and page counts are not amounts: they
//! have no currency sign, no cents, or both.

use super::matcher::{self, Word};
use super::vocabulary::{AmountWord, Vocabulary};

/// Words before an amount that may label it.
const LABEL_WORDS: usize = 8;
/// Words after an amount that may qualify it ("per page", "is due", "paid").
const AFTER_WORDS: usize = 3;
/// Nothing a records office asks for is above this (ten million dollars), in cents.
const MAX_CENTS: i64 = 1_000_000_000;

/// The amount found and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub cents: i64,
    /// Explanation for the reasons, e.g. `"balance due" $70.00 in new text`.
    pub why: String,
    /// The rank of its label (0 for a computed or zero amount).
    pub rank: f64,
}

#[derive(Debug, Clone)]
struct Candidate {
    cents: i64,
    rank: f64,
    label: String,
    paid: bool,
    rate: bool,
    ignore: bool,
    /// Global order (part, position).
    order: (usize, usize),
    part: String,
}

/// Reads the amount now due from `parts` (label, text), in reading order.
pub fn read(parts: &[(&str, &str)], v: &Vocabulary) -> Option<Found> {
    let mut all = Vec::new();
    let mut zero_phrase = None;
    for (i, (label, text)) in parts.iter().enumerate() {
        all.extend(candidates(text, v).into_iter().map(|mut c| {
            c.order.0 = i;
            c.part = label.to_string();
            c
        }));
        if zero_phrase.is_none() {
            let words = matcher::words(text);
            zero_phrase = v.zero.find(&words).first().map(|h| (v.zero.source(h.phrase).to_string(), label.to_string()));
        }
    }
    let usable: Vec<&Candidate> = all.iter().filter(|c| !c.ignore).collect();
    let best = usable
        .iter()
        .filter(|c| !c.paid && !c.rate)
        .max_by(|a, b| a.rank.total_cmp(&b.rank).then(a.order.cmp(&b.order)))
        .copied();
    match best {
        Some(b) if b.cents > 0 || zero_phrase.is_none() => {
            let paid: i64 = usable.iter().filter(|c| c.paid).map(|c| c.cents).sum();
            let total_like = b.rank <= 5.5 && b.rank >= 5.0;
            if total_like && paid > 0 && paid < b.cents {
                return Some(Found {
                    cents: b.cents - paid,
                    why: format!(
                        "{} {} less {} already paid, in {}",
                        quote_label(&b.label),
                        super::super::money::format_cents(b.cents),
                        super::super::money::format_cents(paid),
                        b.part
                    ),
                    rank: b.rank,
                });
            }
            Some(Found {
                cents: b.cents,
                why: format!("{} {} in {}", quote_label(&b.label), super::super::money::format_cents(b.cents), b.part),
                rank: b.rank,
            })
        }
        _ => zero_phrase.map(|(phrase, part)| Found { cents: 0, why: format!("\"{phrase}\" in {part}"), rank: 0.0 }),
    }
}

fn quote_label(label: &str) -> String {
    if label.is_empty() { "an unlabelled amount".into() } else { format!("\"{label}\"") }
}

/// The amounts in one text.
fn candidates(text: &str, v: &Vocabulary) -> Vec<Candidate> {
    let words = matcher::words(text);
    let amounts = find_amounts(text);
    let mut out = Vec::new();
    let mut prev_end = 0usize;
    for (k, a) in amounts.iter().enumerate() {
        // The label window: words after the previous amount (or number) on the same line, or the
        // line above when the amount starts its line; one step further back when that is empty.
        let line_start = text[..a.start].rfind('\n').map_or(0, |i| i + 1);
        let from = line_start.max(prev_end);
        let mut before = words_between(&words, from, a.start);
        // A label does not reach across another number ("Total pages 120, rate $0.25").
        if let Some(p) = before.iter().rposition(|w| is_number(&w.text)) {
            before.drain(..=p);
        }
        if before.is_empty() {
            let from = if from > line_start {
                amounts[..k].iter().rev().nth(1).map_or(line_start, |p| p.end.max(line_start))
            } else {
                let prev_line_start = text[..line_start.saturating_sub(1)].rfind('\n').map_or(0, |i| i + 1);
                prev_line_start.max(prev_end)
            };
            before = words_between(&words, from, a.start);
            before.retain(|w| !is_number(&w.text));
        }
        let skip = before.len().saturating_sub(LABEL_WORDS);
        let before: Vec<Word> = before.into_iter().skip(skip).cloned().collect();
        let line_end = text[a.end..].find('\n').map_or(text.len(), |i| a.end + i);
        let next_start = amounts.get(k + 1).map_or(line_end, |n| n.start.min(line_end));
        let after: Vec<Word> =
            words_between(&words, a.end, next_start).into_iter().take(AFTER_WORDS).cloned().collect();
        prev_end = a.end;
        let mut c = Candidate {
            cents: a.cents,
            rank: if a.currency { 1.0 } else { 0.0 },
            label: String::new(),
            paid: false,
            rate: false,
            ignore: false,
            order: (0, a.start),
            part: String::new(),
        };
        for (window, is_after) in [(&before, false), (&after, true)] {
            for h in v.amount.find(window) {
                match v.amount.payload(h.phrase) {
                    AmountWord::Rank(r) if *r > c.rank => {
                        c.rank = *r;
                        c.label = v.amount.source(h.phrase).to_string();
                    }
                    AmountWord::Rank(_) => {}
                    // "$50.00 paid" but not "$50.00 must be paid".
                    AmountWord::Paid => c.paid = c.paid || !is_after || h.start == 0,
                    AmountWord::Rate => c.rate = c.rate || is_after || h.end == window.len(),
                    AmountWord::Ignore => c.ignore = c.ignore || !is_after,
                }
            }
        }
        // A bare number is an amount only next to a money word.
        if !a.currency && c.rank < 3.0 {
            continue;
        }
        out.push(c);
    }
    out
}

fn is_number(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_digit())
}

fn words_between(words: &[Word], from: usize, to: usize) -> Vec<&Word> {
    words.iter().filter(|w| w.start >= from && w.start < to).collect()
}

/// A number in the text that may be money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Amount {
    start: usize,
    end: usize,
    cents: i64,
    /// Written with `$` or `USD`.
    currency: bool,
}

/// Every well-formed number that has a currency mark or exactly two decimals.
fn find_amounts(text: &str) -> Vec<Amount> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit()
            || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.' || b[i - 1] == b','))
        {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b',' || b[i] == b'.') {
            i += 1;
        }
        // Trailing punctuation ends the sentence, not the number.
        let mut end = i;
        while end > start && (b[end - 1] == b'.' || b[end - 1] == b',') {
            end -= 1;
        }
        if i < b.len() && b[i].is_ascii_alphabetic() && !text[i..].to_ascii_lowercase().starts_with("usd") {
            continue; // "300th", "5mg", "2nd"
        }
        let number = &text[start..end];
        let Some((cents, decimals)) = parse_number(number) else { continue };
        let currency = has_currency_before(text, start) || has_currency_after(text, end);
        if currency || decimals == 2 {
            out.push(Amount { start: currency_start(text, start), end, cents, currency });
        }
    }
    out
}

/// `1,250.00` → (125000, 2); `45` → (4500, 0). Commas must group thousands.
fn parse_number(s: &str) -> Option<(i64, usize)> {
    let (int, dec) = match s.split_once('.') {
        Some((i, d)) if !d.contains('.') && !d.contains(',') => (i, d),
        Some(_) => return None,
        None => (s, ""),
    };
    if int.is_empty() || !(dec.is_empty() || dec.len() == 2) {
        return None;
    }
    let groups: Vec<&str> = int.split(',').collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    let digits: String = groups.concat();
    if digits.len() > 10 {
        return None;
    }
    let cents =
        super::super::money::parse_cents(&format!("{digits}.{}", if dec.is_empty() { "00" } else { dec })).ok()?;
    (cents <= MAX_CENTS).then_some((cents, dec.len()))
}

fn has_currency_before(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', '\u{a0}']);
    let lower_tail: String =
        before.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect::<String>().to_ascii_lowercase();
    before.ends_with('$') || lower_tail.ends_with("usd") || lower_tail.ends_with("us$")
}

fn has_currency_after(text: &str, end: usize) -> bool {
    let after = text[end..].trim_start_matches([' ', '\u{a0}']).to_ascii_lowercase();
    after.starts_with("usd") || after.starts_with("dollars")
}

/// Where the amount starts, its currency mark included (so label windows end before it).
fn currency_start(text: &str, start: usize) -> usize {
    let before = text[..start].trim_end_matches([' ', '\u{a0}']);
    if let Some(b) = before.strip_suffix('$') {
        return b.strip_suffix("US").unwrap_or(b).len();
    }
    let lower = before.to_ascii_lowercase();
    if lower.ends_with("usd") {
        return before.len() - 3;
    }
    start
}

#[cfg(test)]
mod tests {
    use super::super::vocabulary;
    use super::*;

    fn amount(text: &str) -> Option<i64> {
        read(&[("new text", text)], vocabulary::get()).map(|f| f.cents)
    }

    #[test]
    fn the_usual_formats() {
        assert_eq!(amount("The fee for the records is $45.00."), Some(4500));
        assert_eq!(amount("Amount: USD 312.50"), Some(31250));
        assert_eq!(amount("Total Due: 1,250.00"), Some(125_000));
        assert_eq!(amount("Please remit $ 85 to the address below."), Some(8500));
        assert_eq!(amount("Total 99.10 USD"), Some(9910));
    }

    #[test]
    fn balances_deposits_and_totals() {
        assert_eq!(amount("Total charges: $120.00\nDeposit received: $50.00\nBalance due: $70.00"), Some(7000));
        assert_eq!(amount("Total: $120.00\nLess deposit paid: $50.00"), Some(7000));
        assert_eq!(amount("Copies: 240 pages at $0.25 per page\nTotal due: $60.00"), Some(6000));
        assert_eq!(amount("Estimated cost: $38.50. Records released once paid."), Some(3850));
    }

    #[test]
    fn numbers_that_are_not_money() {
        assert_eq!(amount("100 Main Street, Suite 300, Lexington KY 40507. Call 859-555-0100."), None);
        assert_eq!(amount("Invoice #20261042, account 4410023, 12/03/2026, 312 pages"), None);
        assert_eq!(amount("Invoices greater than $300.00 require prior approval."), None);
        assert_eq!(amount("Copies are $0.50 per page."), None);
    }

    #[test]
    fn no_charge_is_zero() {
        assert_eq!(amount("There is no charge for this request."), Some(0));
        assert_eq!(amount("Amount due: $0.00"), Some(0));
        assert_eq!(amount("The first copy is free of charge; the balance due is $12.00"), Some(1200));
    }

    #[test]
    fn garbage_does_not_panic() {
        for t in ["$", "$$$", "1,2,3.4.5", "$9999999999999999999999", "USD", "€ 5,00", "$\u{a0}", "1.", ",5"] {
            let _ = amount(t);
        }
    }
}
