//! Patient identifiers that must never reach a log: [`Ssn`] and [`Dob`] print masked through
//! `Debug` and `Display`; the full value comes out only through an explicit method, for the
//! letter and the database.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::dates;

/// A US Social Security number, validated (SSA rules: area not 000, 666 or 9xx; group not 00;
/// serial not 0000).
#[derive(Clone, PartialEq, Eq)]
pub struct Ssn(String);

impl Ssn {
    /// Accepts `123-45-6789`, `123 45 6789` or `123456789`.
    pub fn parse(text: &str) -> Result<Ssn, String> {
        let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
        let others = text.chars().any(|c| !c.is_ascii_digit() && c != '-' && c != ' ');
        if digits.len() != 9 || others {
            return Err("an SSN has 9 digits, like 123-45-6789".into());
        }
        let (area, group, serial) = (&digits[..3], &digits[3..5], &digits[5..]);
        if area == "000" || area == "666" || area.starts_with('9') || group == "00" || serial == "0000" {
            return Err("that is not a valid SSN (no SSN starts with 000, 666 or 9, or has 00 or 0000 parts)".into());
        }
        Ok(Ssn(format!("{area}-{group}-{serial}")))
    }

    /// The full number, `123-45-6789`: for the letter and the database only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn last_four(&self) -> &str {
        &self.0[7..]
    }
}

impl fmt::Debug for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssn(***-**-{})", self.last_four())
    }
}

impl fmt::Display for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "***-**-{}", self.last_four())
    }
}

/// A date of birth.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Dob(NaiveDate);

impl Dob {
    /// A birth date in the past and at most 130 years ago.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Dob, String> {
        let date = dates::parse(text)?;
        if date > today {
            return Err(format!("{} is in the future", dates::us(date)));
        }
        if today.year() - date.year() > 130 {
            return Err(format!("{} is more than 130 years ago", dates::us(date)));
        }
        Ok(Dob(date))
    }

    pub fn expose(&self) -> NaiveDate {
        self.0
    }
}

impl fmt::Debug for Dob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dob(**/**/****)")
    }
}

impl fmt::Display for Dob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**/**/****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssn_forms_and_rules() {
        assert_eq!(Ssn::parse("123-45-6789").unwrap().expose(), "123-45-6789");
        assert_eq!(Ssn::parse("123456789").unwrap().expose(), "123-45-6789");
        assert_eq!(Ssn::parse(" 123 45 6789 ").unwrap().expose(), "123-45-6789");
        for bad in [
            "12345678",
            "1234567890",
            "000-12-3456",
            "666-12-3456",
            "923-12-3456",
            "123-00-4567",
            "123-45-0000",
            "12a-45-6789",
        ] {
            assert!(Ssn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers_print_masked() {
        let ssn = Ssn::parse("123-45-6789").unwrap();
        assert_eq!(format!("{ssn} {ssn:?}"), "***-**-6789 Ssn(***-**-6789)");
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let dob = Dob::parse("03/14/1985", today).unwrap();
        assert_eq!(format!("{dob} {dob:?}"), "**/**/**** Dob(**/**/****)");
        assert!(!format!("{dob:?}").contains("1985"));
    }

    #[test]
    fn dob_must_be_plausible() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(Dob::parse("2027-01-01", today).is_err());
        assert!(Dob::parse("1880-01-01", today).is_err());
        assert!(Dob::parse("March 14, 1985", today).is_ok());
    }
}
