//! Request references as staff and providers see them: `MR-1042`.

use std::fmt;
use std::str::FromStr;

/// The number that identifies a request, shown as `MR-<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference(pub i64);

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MR-{}", self.0)
    }
}

impl FromStr for Reference {
    type Err = String;

    /// Accepts `MR-1042`, `mr-1042` and `MR1042`; nothing else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let rest = s
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case("MR"))
            .map(|_| &s[2..])
            .ok_or_else(|| format!("`{s}` is not a request reference (like MR-1042)"))?;
        let digits = rest.strip_prefix('-').unwrap_or(rest);
        if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{s}` is not a request reference (like MR-1042)"));
        }
        digits.parse().map(Reference).map_err(|_| format!("`{s}` is not a request reference (like MR-1042)"))
    }
}

/// Finds the first `MR-<n>` in free text (a subject line, say), as a whole word.
pub fn find_in(text: &str) -> Option<Reference> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 3 < bytes.len() {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if starts_word && bytes[i].eq_ignore_ascii_case(&b'M') && bytes[i + 1].eq_ignore_ascii_case(&b'R') {
            let mut j = i + 2;
            if bytes[j] == b'-' {
                j += 1;
            }
            let start = j;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            let ends_word = j == bytes.len() || !bytes[j].is_ascii_alphanumeric();
            if j > start && ends_word && j - start <= 12 {
                return text[start..j].parse().ok().map(Reference);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        assert_eq!("MR-1042".parse(), Ok(Reference(1042)));
        assert_eq!("mr-7".parse(), Ok(Reference(7)));
        assert_eq!("MR1042".parse(), Ok(Reference(1042)));
        assert!("MR-".parse::<Reference>().is_err());
        assert!("1042".parse::<Reference>().is_err());
        assert!("MR-10x".parse::<Reference>().is_err());
        assert!("MR-99999999999999999999".parse::<Reference>().is_err());
    }

    #[test]
    fn finds_a_reference_in_a_subject() {
        assert_eq!(find_in("Re: [MR-1042] Records request"), Some(Reference(1042)));
        assert_eq!(find_in("records for mr-15."), Some(Reference(15)));
        assert_eq!(find_in("HUMMR-15 is not one"), None);
        assert_eq!(find_in("MR-15abc is not one"), None);
        assert_eq!(find_in("nothing here"), None);
        assert_eq!(find_in("MR"), None);
    }
}
