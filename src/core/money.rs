//! Money as whole cents: parsing what people write (`$1,234.50`, `300`) and printing it the way
//! letters do (`$1,234.50`).

/// Parses a dollar amount into cents.
pub fn parse_cents(text: &str) -> Result<i64, String> {
    let t = text.trim().trim_start_matches('$').replace(',', "");
    let bad = || format!("`{}` is not an amount in dollars (like 300.00)", text.trim());
    let (dollars, cents) = t.split_once('.').unwrap_or((&t, "0"));
    if dollars.is_empty()
        || !dollars.bytes().all(|b| b.is_ascii_digit())
        || cents.len() > 2
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let dollars: i64 = dollars.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    dollars.checked_mul(100).and_then(|d| d.checked_add(cents)).ok_or_else(bad)
}

/// `$1,234.50`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let (dollars, rest) = (cents.abs() / 100, cents.abs() % 100);
    let digits = dollars.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{rest:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!(parse_cents("300.00"), Ok(30_000));
        assert_eq!(parse_cents("$1,234.5"), Ok(123_450));
        assert_eq!(parse_cents("300"), Ok(30_000));
        assert!(parse_cents("three hundred").is_err());
        assert!(parse_cents("1.234").is_err());
        assert_eq!(format_cents(30_000), "$300.00");
        assert_eq!(format_cents(123_456_789), "$1,234,567.89");
        assert_eq!(format_cents(5), "$0.05");
    }
}
