//! The date forms staff type (`03/14/1985`, `3/14/1985`, `1985-03-14`, `March 14, 1985`,
//! `Mar 14 1985`, `14 March 1985`) and the US form letters print (`03/14/1985`).

use chrono::NaiveDate;

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

/// Parses one date; two-digit years are refused as ambiguous (is `03/14/25` 1925 or 2025?).
pub fn parse(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim().trim_end_matches('.');
    let bad = || format!("`{t}` is not a date I can read; write it like 03/14/1985 or 1985-03-14");
    if t.is_empty() {
        return Err("the date is empty; write it like 03/14/1985".into());
    }
    let numbers: Vec<&str> = t.split(['/', '-', '.']).map(str::trim).collect();
    if numbers.len() == 3 && numbers.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
        let n = |i: usize| numbers[i].parse::<u32>().map_err(|_| bad());
        let (y, m, d) = if numbers[0].len() == 4 { (n(0)?, n(1)?, n(2)?) } else { (n(2)?, n(0)?, n(1)?) };
        if numbers[0].len() != 4 && numbers[2].len() != 4 {
            return Err(format!("`{t}` has a two-digit year; write all four digits, like 03/14/1985"));
        }
        return NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| format!("`{t}` is not a real date"));
    }
    let words: Vec<String> =
        t.split([' ', ',']).filter(|w| !w.is_empty()).map(|w| w.trim_end_matches('.').to_ascii_lowercase()).collect();
    if words.len() != 3 {
        return Err(bad());
    }
    let month_of = |w: &str| MONTHS.iter().position(|m| w.len() >= 3 && m.starts_with(w)).map(|i| i as u32 + 1);
    let (month, day, year) = match (month_of(&words[0]), month_of(&words[1])) {
        (Some(m), _) => (m, &words[1], &words[2]),
        (None, Some(m)) => (m, &words[0], &words[2]),
        _ => return Err(bad()),
    };
    let day: u32 = day.trim_end_matches(|c: char| c.is_ascii_alphabetic()).parse().map_err(|_| bad())?;
    if year.len() != 4 {
        return Err(format!("`{t}` has no four-digit year; write it like March 14, 1985"));
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| format!("`{t}` is not a real date"))
}

/// `03/14/1985`.
pub fn us(date: NaiveDate) -> String {
    date.format("%m/%d/%Y").to_string()
}

/// `November 23, 2026`, for letter dates.
pub fn long(date: NaiveDate) -> String {
    date.format("%B %-d, %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn reads_the_common_forms() {
        for text in [
            "03/14/1985",
            "3/14/1985",
            "1985-03-14",
            "March 14, 1985",
            "Mar 14 1985",
            "14 March 1985",
            "mar. 14, 1985",
            "March 14th, 1985",
            "03-14-1985",
        ] {
            assert_eq!(parse(text), Ok(d(1985, 3, 14)), "{text}");
        }
    }

    #[test]
    fn refuses_ambiguous_and_impossible_dates() {
        assert!(parse("03/14/85").unwrap_err().contains("two-digit"));
        assert!(parse("02/30/2020").unwrap_err().contains("not a real date"));
        assert!(parse("yesterday").is_err());
        assert!(parse("").is_err());
        assert!(parse("Smarch 14, 1985").is_err());
    }

    #[test]
    fn prints_us_and_long_forms() {
        assert_eq!(us(d(1985, 3, 4)), "03/04/1985");
        assert_eq!(long(d(2026, 11, 3)), "November 3, 2026");
    }
}
