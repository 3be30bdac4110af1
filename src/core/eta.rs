//! The date by which an acknowledgment says the records will come: an explicit date ("by
//! December 15, 2026", "12/15/2026") or a duration ("within 30 days", "10-15 business days",
//! "2-3 weeks", taking the upper end). Business days skip weekends.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The date by which the provider says the records will come, if the text says one. Dates in
/// the past, more than a year ahead, or labelled as birth or service dates are ignored; of
/// several, the latest is taken (the provider's own outer bound).
pub fn read(text: &str, received_on: NaiveDate) -> Option<NaiveDate> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut found: Vec<NaiveDate> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let clean = w.trim_matches(|c: char| !c.is_alphanumeric());
        // Durations: "30 days", "10-15 business days", "2 to 3 weeks", "one week".
        let unit_at = |k: usize| words.get(k).map(|u| u.trim_matches(|c: char| !c.is_alphanumeric()));
        let (amount, next) = match (number(clean), words.get(i + 1), words.get(i + 2)) {
            (Some(_), Some(&"to" | &"-" | &"or"), Some(b)) => {
                (number(b.trim_matches(|c: char| !c.is_alphanumeric())), i + 3)
            }
            (Some(n), _, _) => (Some(n), i + 1),
            (None, _, _) => match clean.split_once('-').map(|(_, b)| number(b)) {
                Some(Some(n)) => (Some(n), i + 1),
                _ => (None, i + 1),
            },
        };
        if let Some(n) = amount.filter(|n| (1..=365).contains(n)) {
            let (business, unit) = match unit_at(next) {
                Some("business" | "working") => (true, unit_at(next + 1)),
                other => (false, other),
            };
            let date = match unit {
                Some("day" | "days") if business => Some(add_business_days(received_on, n)),
                Some("day" | "days") => received_on.checked_add_days(Days::new(n.into())),
                Some("week" | "weeks") => received_on.checked_add_days(Days::new(u64::from(n) * 7)),
                _ => None,
            };
            found.extend(date);
        }
        // Explicit dates, unless labelled as a birth or service date just before.
        let context = words[i.saturating_sub(4)..i].join(" ");
        if context.contains("dob") || context.contains("birth") || context.contains("service") {
            continue;
        }
        if let Some(d) = numeric_date(clean) {
            found.push(d);
        } else if let Some(month) = month(clean)
            && let Some(day) =
                words.get(i + 1).and_then(|d| d.trim_matches(|c: char| !c.is_ascii_digit()).parse::<u32>().ok())
        {
            let year = words
                .get(i + 2)
                .and_then(|y| y.trim_matches(|c: char| !c.is_ascii_digit()).parse::<i32>().ok())
                .filter(|y| *y > 1900);
            let d = match year {
                Some(y) => NaiveDate::from_ymd_opt(y, month, day),
                None => NaiveDate::from_ymd_opt(received_on.year(), month, day)
                    .map(|d| if d < received_on { d.with_year(d.year() + 1).unwrap_or(d) } else { d }),
            };
            found.extend(d);
        }
    }
    let latest = received_on.checked_add_days(Days::new(365))?;
    found.into_iter().filter(|d| *d >= received_on && *d <= latest).max()
}

fn number(w: &str) -> Option<u32> {
    w.parse().ok().or(match w {
        "one" | "a" => Some(1),
        "two" => Some(2),
        "three" => Some(3),
        "four" => Some(4),
        "five" => Some(5),
        "six" => Some(6),
        "ten" => Some(10),
        _ => None,
    })
}

fn numeric_date(w: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = w.split(['/', '-']).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let n = |i: usize| parts[i].parse::<u32>().ok();
    if parts[0].len() == 4 {
        NaiveDate::from_ymd_opt(parts[0].parse().ok()?, n(1)?, n(2)?)
    } else if parts[2].len() == 4 {
        NaiveDate::from_ymd_opt(parts[2].parse().ok()?, n(0)?, n(1)?)
    } else {
        None
    }
}

fn month(w: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    // The full name, or its first three letters ("Dec", "Sept" too).
    let m = MONTHS
        .iter()
        .position(|m| w == *m || (w.len() >= 3 && m.starts_with(w)) || (w == "sept" && *m == "september"))?;
    Some(m as u32 + 1)
}

fn add_business_days(from: NaiveDate, n: u32) -> NaiveDate {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn durations_take_the_upper_end() {
        let monday = on(2026, 11, 23);
        assert_eq!(read("Please allow 30 days for processing.", monday), Some(on(2026, 12, 23)));
        assert_eq!(read("We expect to complete it in 10-15 business days.", monday), Some(on(2026, 12, 14)));
        assert_eq!(read("Allow 7 to 10 business days.", monday), Some(on(2026, 12, 7)));
        assert_eq!(read("Expect them within 2-3 weeks.", monday), Some(on(2026, 12, 14)));
        assert_eq!(read("within one week", monday), Some(on(2026, 11, 30)));
    }

    #[test]
    fn explicit_dates_but_not_birth_or_service_dates() {
        let today = on(2026, 11, 23);
        assert_eq!(read("Records will be sent by December 15, 2026.", today), Some(on(2026, 12, 15)));
        assert_eq!(read("on or before 12/15/2026", today), Some(on(2026, 12, 15)));
        assert_eq!(read("Expected Jan 5", today), Some(on(2027, 1, 5)));
        assert_eq!(read("Patient DOB 03/14/1985; date of service 12/01/2026", today), None);
        assert_eq!(read("We received your request.", today), None);
        assert_eq!(read("by 01/01/2030", today), None, "more than a year ahead");
    }

    #[test]
    fn odd_input_does_not_panic() {
        let _ = read(&"9999-99-99 - to days business ".repeat(500), on(2026, 1, 1));
        let _ = read("99999999999999999999 days", on(2026, 1, 1));
    }
}
