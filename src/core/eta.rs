//! The date an acknowledgment promises: "by December 15, 2026", "Estimated completion:
//! 03/24/2026", "within 30 days", "please allow 10-15 business days", "by the end of next week".
//!
//! Durations count from the day the reply was received; business days skip Saturdays and
//! Sundays (holidays are not known). A range counts its upper end, and a date without a year
//! that has already passed this year is next year's — unless that puts it more than six months
//! out, which reads more like a past date (a visit, the request's own date) than a promise.
//!
//! Dates of birth, of service, of the request or of an authorization's expiry are not promises,
//! nor are durations like "signed within the last 90 days" or "the link expires in 30 days";
//! dates before the day received and more than a year ahead are dropped.
//!
//! When several remain, the ones tied to promise words ("by", "within", "allow", "expect",
//! "complete", "process", "turnaround") win over bare ones, and of those the latest wins:
//! "7-10 business days, rush requests 2 days" means 10, and following up before the latest date
//! the provider named only earns a second "we are working on it".

use super::new_text::at_most;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// Text beyond this many bytes is not read.
const MAX_TEXT: usize = 1024 * 1024;
/// A promise further out than this is not plausible.
const MAX_DAYS_AHEAD: u64 = 365;
/// A year-less date pushed into next year further than this is more likely in the past.
const MAX_ROLLOVER_DAYS: u64 = 183;
/// Words before a date or duration that tie it to a promise, and how far back they count.
const TIE_WINDOW: usize = 8;
const TIE_WORDS: &str = "by within allow expect expected estimated estimate complete completed completion process \
    processed processing turnaround ready receive before approximately about takes take until anticipate anticipated \
    target send sent mail mailed release released have around in up";
/// How far back a word may make a date something other than a promise ...
const EXCLUDE_WINDOW: usize = 5;
/// ... unless one of these comes first ("we received it and will send it by 3/20").
const ANCHORS: &str = "by before until expect expected estimated allow turnaround completion";
/// Words near a date that make it something other than a promise.
const NOT_A_PROMISE: &str = "dob birth born service services dos visit visits seen admitted admission discharged \
    treated treatment received dated signed expire expires expiration expired through thru submitted injury accident \
    loss dol surgery valid effective ago since last past payment pay paid invoice old older retain retained \
    retention link code payable password authorization authorizations prior every per after";

const MONTHS: &str = "january february march april may june july august september october november december";

/// The date by which the provider says the records will come, if the text says one.
pub fn read(text: &str, received_on: NaiveDate) -> Option<NaiveDate> {
    let toks = tokens(at_most(text, MAX_TEXT));
    let mut found: Vec<(bool, NaiveDate)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let hit = date_at(&toks, i, received_on)
            .or_else(|| duration_at(&toks, i, received_on))
            .or_else(|| relative_at(&toks, i, received_on));
        match hit {
            Some((end, date)) => {
                let ahead = (date - received_on).num_days();
                if !excluded(&toks, i, end) && (0..=MAX_DAYS_AHEAD as i64).contains(&ahead) {
                    found.push((tied(&toks, i), date));
                }
                i = end;
            }
            None => i += 1,
        }
    }
    found.into_iter().max().map(|(_, date)| date)
}

/// Whether `word` is one of the space-separated `words`.
fn among(words: &str, word: &str) -> bool {
    words.split(' ').any(|w| w == word)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    /// Digits, and how many there were (a year has four).
    Num(u32, usize),
    Punct(char),
    /// A sentence end: words across it are not read together.
    Stop,
}

/// Words (lowercase), numbers and the punctuation dates are made of. "15th" is the number 15.
fn tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            let n = if digits.len() > 9 { u32::MAX } else { digits.parse().unwrap_or(u32::MAX) };
            out.push(Tok::Num(n, digits.len()));
            let mut suffix = String::new();
            while let Some(l) = chars.next_if(|l| l.is_ascii_alphabetic()) {
                suffix.push(l.to_ascii_lowercase());
            }
            if !suffix.is_empty() && !matches!(suffix.as_str(), "st" | "nd" | "rd" | "th") {
                out.push(Tok::Word(suffix));
            }
        } else if c.is_alphabetic() {
            let mut word: String = c.to_lowercase().collect();
            while let Some(l) = chars.next_if(|l| l.is_alphanumeric() && !l.is_ascii_digit()) {
                word.extend(l.to_lowercase());
            }
            out.push(Tok::Word(word));
        } else if matches!(c, '/' | '-' | '–' | '—' | ',') {
            out.push(Tok::Punct(if c == '/' || c == ',' { c } else { '-' }));
        } else if c == '.' && matches!(out.last(), Some(Tok::Word(w)) if w.len() <= 4 && month(w).is_some()) {
            out.push(Tok::Punct('.'));
        } else if matches!(c, '!' | '?' | ';')
            || (c == '.' && chars.peek().is_none_or(|n| n.is_whitespace()))
            || (c == '\n' && chars.peek().is_some_and(|n| matches!(n, '\n' | '\r')))
        {
            // A sentence ends, or a paragraph (a blank line).
            out.push(Tok::Stop);
        } else if c == '.' {
            out.push(Tok::Punct('.'));
        }
    }
    out
}

fn word(toks: &[Tok], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

fn num(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    match toks.get(i) {
        Some(Tok::Num(n, len)) => Some((*n, *len)),
        _ => None,
    }
}

fn is(toks: &[Tok], i: usize, p: char) -> bool {
    toks.get(i) == Some(&Tok::Punct(p))
}

/// `dec`, `sept`, `december`.
fn month(w: &str) -> Option<u32> {
    if w.len() < 3 {
        return None;
    }
    let m = MONTHS.split(' ').position(|m| m.starts_with(w)).or((w == "sept").then_some(8))?;
    Some(m as u32 + 1)
}

/// A calendar date starting at `i`: `12/15/2026`, `12/15`, `2026-12-15`, `Dec. 15, 2026`,
/// `15 December 2026`. Returns where it ends.
fn date_at(toks: &[Tok], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    if let Some((y, 4)) = num(toks, i)
        && is(toks, i + 1, '-')
        && let (Some((m, _)), true, Some((d, _))) = (num(toks, i + 2), is(toks, i + 3, '-'), num(toks, i + 4))
    {
        return Some((i + 5, NaiveDate::from_ymd_opt(y as i32, m, d)?));
    }
    if let Some((m, 1..=2)) = num(toks, i)
        && let Some(sep) = ['/', '-'].into_iter().find(|p| is(toks, i + 1, *p))
        && let Some((d, 1..=2)) = num(toks, i + 2)
    {
        return match (is(toks, i + 3, sep), num(toks, i + 4)) {
            (true, Some((y, 4))) => Some((i + 5, NaiveDate::from_ymd_opt(y as i32, m, d)?)),
            (true, Some((y, 2))) => Some((i + 5, NaiveDate::from_ymd_opt(2000 + y as i32, m, d)?)),
            _ if sep == '/' && !unit_follows(toks, i + 3) => Some((i + 3, year_less(m, d, today)?)),
            _ => None,
        };
    }
    if let Some(m) = word(toks, i).and_then(month) {
        let at = if is(toks, i + 1, '.') { i + 2 } else { i + 1 };
        let (d, 1..=2) = num(toks, at)? else { return None };
        return with_year(toks, at + 1, m, d, today);
    }
    if let Some((d, 1..=2)) = num(toks, i) {
        let at = if word(toks, i + 1) == Some("of") { i + 2 } else { i + 1 };
        let m = word(toks, at).and_then(month)?;
        let at = if is(toks, at + 1, '.') { at + 2 } else { at + 1 };
        return with_year(toks, at, m, d, today);
    }
    None
}

/// The optional `, 2026` after a month and day.
fn with_year(toks: &[Tok], at: usize, m: u32, d: u32, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let comma = usize::from(is(toks, at, ','));
    match num(toks, at + comma) {
        Some((y, 4)) => Some((at + comma + 1, NaiveDate::from_ymd_opt(y as i32, m, d)?)),
        _ => Some((at, year_less(m, d, today)?)),
    }
}

/// This year's date, or next year's if this year's has passed and next year's is near.
fn year_less(m: u32, d: u32, today: NaiveDate) -> Option<NaiveDate> {
    let this = NaiveDate::from_ymd_opt(today.year(), m, d)?;
    if this >= today {
        return Some(this);
    }
    let next = NaiveDate::from_ymd_opt(today.year() + 1, m, d)?;
    ((next - today).num_days() <= MAX_ROLLOVER_DAYS as i64).then_some(next)
}

fn unit_follows(toks: &[Tok], i: usize) -> bool {
    let w = |k| word(toks, k).unwrap_or("");
    unit(w(i)).is_some() || (matches!(w(i), "business" | "working" | "calendar" | "work") && unit(w(i + 1)).is_some())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Hour,
    Day,
    Week,
    Month,
}

fn unit(w: &str) -> Option<Unit> {
    match w {
        "hour" | "hours" | "hrs" | "hr" => Some(Unit::Hour),
        "day" | "days" => Some(Unit::Day),
        "week" | "weeks" | "wk" | "wks" => Some(Unit::Week),
        "month" | "months" => Some(Unit::Month),
        _ => None,
    }
}

/// A count in words or digits: "10", "ten", "a", "a couple of".
fn quantity(toks: &[Tok], i: usize) -> Option<(usize, u32)> {
    if let Some((n, len)) = num(toks, i) {
        return (len <= 4).then_some((i + 1, n));
    }
    let w = word(toks, i)?;
    if matches!(w, "a" | "an") && word(toks, i + 1) == Some("couple") {
        return Some((if word(toks, i + 2) == Some("of") { i + 3 } else { i + 2 }, 2));
    }
    let words = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    let n = match w {
        "a" | "an" => 1,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "sixty" => 60,
        "ninety" => 90,
        _ => words.iter().position(|x| *x == w)? as u32 + 1,
    };
    Some((i + 1, n))
}

/// A duration starting at `i`: "30 days", "10-15 business days", "7 to 10 working days",
/// "two weeks", "a month", "24-48 hours". A range counts its upper end.
fn duration_at(toks: &[Tok], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let (mut at, mut n) = quantity(toks, i)?;
    let article = matches!(word(toks, i), Some("a" | "an"));
    if (is(toks, at, '-') || matches!(word(toks, at), Some("to" | "or" | "through")))
        && let Some((end, upper)) = quantity(toks, at + 1)
    {
        (at, n) = (end, n.max(upper));
    }
    let business = matches!(word(toks, at), Some("business" | "working" | "work"));
    if business || word(toks, at) == Some("calendar") {
        at += 1;
    }
    let u = unit(word(toks, at)?)?;
    if article && !tied(toks, i) {
        return None;
    }
    let date = match u {
        Unit::Hour => today.checked_add_days(Days::new(u64::from(n).div_ceil(24))),
        Unit::Day if business => add_business_days(today, n),
        Unit::Day => today.checked_add_days(Days::new(u64::from(n))),
        Unit::Week => today.checked_add_days(Days::new(u64::from(n).saturating_mul(7))),
        Unit::Month => today.checked_add_months(Months::new(n)),
    }?;
    Some((at + 1, date))
}

/// `n` working days after `from`, Monday to Friday. From a weekend, counting starts as if from
/// the Friday before (the first working day is Monday).
fn add_business_days(from: NaiveDate, n: u32) -> Option<NaiveDate> {
    if n == 0 || n > 400 {
        return (n == 0).then_some(from);
    }
    let back = match from.weekday() {
        Weekday::Sat => 1,
        Weekday::Sun => 2,
        _ => 0,
    };
    let mut date = from.checked_sub_days(Days::new(back))?.checked_add_days(Days::new(u64::from(n / 5) * 7))?;
    for _ in 0..n % 5 {
        date = date.succ_opt()?;
        if date.weekday() == Weekday::Sat {
            date = date.checked_add_days(Days::new(2))?;
        }
    }
    Some(date)
}

/// "by Friday", "the end of next week", "next week", "end of the month", "tomorrow".
fn relative_at(toks: &[Tok], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let w = |k| word(toks, k).unwrap_or("");
    let friday = |weeks: u64| {
        let to_friday = (Weekday::Fri.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
        today.checked_add_days(Days::new(u64::from(to_friday) + weeks * 7))
    };
    match (w(i), w(i + 1), w(i + 2)) {
        ("end", "of", "next") if w(i + 3) == "week" => Some((i + 4, friday(1)?)),
        ("end", "of", "the" | "this") if w(i + 3) == "week" => Some((i + 4, friday(0)?)),
        ("end", "of", "next") if w(i + 3) == "month" => Some((i + 4, last_of_month(today, 1)?)),
        ("end", "of", "the" | "this") if w(i + 3) == "month" => Some((i + 4, last_of_month(today, 0)?)),
        ("next", "week", _) => Some((i + 2, friday(1)?)),
        ("tomorrow", ..) if tied(toks, i) => Some((i + 1, today.succ_opt()?)),
        (day, ..) if matches!(w(i.wrapping_sub(1)), "by" | "on" | "before" | "until" | "next") => {
            let wd = weekday(day)?;
            let ahead = (wd.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
            Some((i + 1, today.checked_add_days(Days::new(u64::from(if ahead == 0 { 7 } else { ahead })))?))
        }
        _ => None,
    }
}

fn weekday(w: &str) -> Option<Weekday> {
    let days = [
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
    ];
    days.iter().find(|(name, _)| *name == w).map(|(_, d)| *d)
}

fn last_of_month(today: NaiveDate, months_ahead: u32) -> Option<NaiveDate> {
    let first = today.with_day(1)?.checked_add_months(Months::new(months_ahead + 1))?;
    first.pred_opt()
}

/// Words of the same sentence before `i`, nearest first.
fn before(toks: &[Tok], i: usize) -> impl Iterator<Item = &str> {
    toks[..i.min(toks.len())].iter().rev().take_while(|t| **t != Tok::Stop).filter_map(|t| match t {
        Tok::Word(w) => Some(w.as_str()),
        _ => None,
    })
}

fn tied(toks: &[Tok], i: usize) -> bool {
    before(toks, i).take(TIE_WINDOW).any(|w| among(TIE_WORDS, w) || w.starts_with("expect"))
}

/// A date of birth or service, an expiry, a signature window: such a word shortly before it
/// (looking back no further than an anchor like "by"), or right after it ("90 days old").
fn excluded(toks: &[Tok], start: usize, end: usize) -> bool {
    let near_before =
        before(toks, start).take(EXCLUDE_WINDOW).take_while(|w| !among(ANCHORS, w)).any(|w| among(NOT_A_PROMISE, w));
    let after = toks[end.min(toks.len())..]
        .iter()
        .take(3)
        .take_while(|t| **t != Tok::Stop)
        .any(|t| matches!(t, Tok::Word(w) if matches!(w.as_str(), "ago" | "old" | "prior")));
    near_before || after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A Tuesday.
    const TODAY: (i32, u32, u32) = (2026, 3, 10);

    fn eta(text: &str) -> Option<NaiveDate> {
        read(text, d(TODAY.0, TODAY.1, TODAY.2))
    }

    #[test]
    fn reads_explicit_dates() {
        for (text, want) in [
            ("Your records will be sent by December 15, 2026.", d(2026, 12, 15)),
            ("We expect to complete your request on or before 12/15/2026.", d(2026, 12, 15)),
            ("Estimated completion: 2026-04-02", d(2026, 4, 2)),
            ("Expected completion date is 3/20.", d(2026, 3, 20)),
            ("The records should be ready by Dec. 15.", d(2026, 12, 15)),
            ("Please expect them no later than the 3rd of April.", d(2026, 4, 3)),
            ("Target date: April 1st, 2026", d(2026, 4, 1)),
            ("We will mail them on 04-15-26.", d(2026, 4, 15)),
            ("Request #12345 received 3/9/26. Status: pending. Est. completion 3/27/26.", d(2026, 3, 27)),
            ("The records will be mailed on Monday, March 16, 2026.", d(2026, 3, 16)),
        ] {
            assert_eq!(eta(text), Some(want), "{text}");
        }
    }

    #[test]
    fn reads_durations_from_the_day_received() {
        for (text, want) in [
            ("Please allow up to 30 days for processing.", d(2026, 4, 9)),
            (
                "We have received your request and it is being processed. Please allow 10 to 15 business days.",
                d(2026, 3, 31),
            ),
            ("Typical turnaround time is 7-10 business days.", d(2026, 3, 24)),
            ("You should have them in 2-3 weeks.", d(2026, 3, 31)),
            ("We'll get these out to you within one week.", d(2026, 3, 17)),
            ("Turnaround: 30 days", d(2026, 4, 9)),
            ("Got it, thanks. We'll get these out to you in about two weeks.", d(2026, 3, 24)),
            ("Requests are completed within 24-48 hours.", d(2026, 3, 12)),
            ("Processing takes a month or so.", d(2026, 4, 10)),
            ("We will process your request within thirty (30) days of receipt, as required by law.", d(2026, 4, 9)),
            ("Your request has been received. Please allow 4-6 weeks for processing. DOB: 03/15/1975.", d(2026, 4, 21)),
        ] {
            assert_eq!(eta(text), Some(want), "{text}");
        }
    }

    #[test]
    fn business_days_skip_weekends() {
        let friday = d(2026, 3, 13);
        assert_eq!(add_business_days(friday, 1), Some(d(2026, 3, 16)));
        assert_eq!(add_business_days(friday, 5), Some(d(2026, 3, 20)));
        assert_eq!(add_business_days(d(2026, 3, 14), 1), Some(d(2026, 3, 16)));
        assert_eq!(add_business_days(d(2026, 3, 14), 5), Some(d(2026, 3, 20)));
        assert_eq!(read("within 3 business days", friday), Some(d(2026, 3, 18)));
    }

    #[test]
    fn reads_week_and_month_ends_and_weekdays() {
        assert_eq!(eta("You should have the records by the end of next week."), Some(d(2026, 3, 20)));
        assert_eq!(eta("We hope to finish by the end of the week."), Some(d(2026, 3, 13)));
        assert_eq!(eta("It will be processed by the end of the month."), Some(d(2026, 3, 31)));
        assert_eq!(eta("They will go out by Friday."), Some(d(2026, 3, 13)));
        assert_eq!(eta("They will go out by Tuesday."), Some(d(2026, 3, 17)));
        assert_eq!(eta("Our office is closed Friday."), None);
    }

    #[test]
    fn a_year_less_date_already_past_is_next_year_only_when_near() {
        assert_eq!(read("We expect to complete it by Jan 5.", d(2026, 12, 20)), Some(d(2027, 1, 5)));
        assert_eq!(read("Expected by 1/5", d(2026, 12, 20)), Some(d(2027, 1, 5)));
        assert_eq!(eta("Your request of 3/2 will be completed soon."), None);
    }

    #[test]
    fn birth_service_and_request_dates_are_not_promises() {
        for text in [
            "Patient: Jane Roe, DOB 04/12/2026",
            "Records for dates of service 01/04/2026 through 12/30/2026 are being processed.",
            "Your request MR-1213 was received on 03/10/2026 and is currently being processed.",
            "The authorization expires 06/30/2026.",
            "Authorizations must be signed within the last 90 days.",
            "The download link expires in 30 days.",
            "We need an authorization dated within 60 days.",
            "Invoices are payable within 30 days.",
            "Records older than 10 years were destroyed.",
            "The patient was seen 2 weeks ago.",
            "Your request was submitted on March 12, 2026.",
            "Reply by 2027-06-01 for a rush.",
            "We received it on 02/14/2026 and will process it by 03/01/2026.",
            "Thank you for your request. We will be in touch.",
        ] {
            assert_eq!(eta(text), None, "{text}");
        }
    }

    #[test]
    fn several_dates_prefer_the_promise_and_then_the_latest() {
        let text = "Request received 03/09/2026 for DOB 01/02/1980. Standard turnaround is 7-10 business days; \
                    rush requests are completed within 2 days.";
        assert_eq!(eta(text), Some(d(2026, 3, 24)));
        let text = "Your appointment on 3/30 is unrelated. We expect to complete the request by 3/20.";
        assert_eq!(eta(text), Some(d(2026, 3, 20)));
        let text = "Records request 26-00419 placed in our queue. Estimated completion: 03/24/2026.";
        assert_eq!(eta(text), Some(d(2026, 3, 24)));
    }

    #[test]
    fn nothing_or_nonsense_gives_none_and_never_panics() {
        assert_eq!(eta(""), None);
        assert_eq!(eta("Please allow 999999999999 business days."), None);
        assert_eq!(eta("Expected by 13/45/2026 or 02/30/2026."), None);
        assert_eq!(eta("Expected 4294967295 days / 99999 months / 400 weeks"), None);
        let odd = "١٢/١٥/٢٠٢٦ ۱۲ days 𝟏𝟐 days Dec.\u{0}15 – — , / . by Dec. ";
        let _ = eta(odd);
        let _ = read("within 30 days", NaiveDate::MAX);
        let _ = read("by December 31", NaiveDate::MAX);
        let _ = read("end of next month", NaiveDate::MIN);
        let huge = "We will process this within 30 days. ".repeat(60_000);
        assert_eq!(eta(&huge), Some(d(2026, 4, 9)));
    }
}
