//! Where and how a provider wants the request sent instead: a fax number, an email address or a
//! portal, and the release-of-information vendor when one is named.

use super::provider::{display_fax, us_fax};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Redirect {
    /// Lowercased.
    pub email: Option<String>,
    /// E.164.
    pub fax: Option<String>,
    /// An https URL.
    pub portal: Option<String>,
    pub vendor: Option<&'static str>,
}

impl Redirect {
    /// No email, fax or portal.
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.fax.is_none() && self.portal.is_none()
    }

    /// One line per way, for a staff notice.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.fax.as_deref().map(|f| format!("fax {}", display_fax(f))));
        out.extend(self.email.as_deref().map(|e| format!("email {e}")));
        out.extend(self.portal.as_deref().map(|p| format!("portal {p}")));
        out
    }
}

const VENDORS: &[(&str, &str)] = &[
    ("ciox", "Ciox/Datavant"),
    ("datavant", "Ciox/Datavant"),
    ("healthport", "Ciox/Datavant"),
    ("mro", "MRO"),
    ("verisma", "Verisma"),
    ("chartswap", "ChartSwap"),
    ("sharecare", "Sharecare"),
    ("iod", "IOD"),
];

/// `known`: addresses and fax numbers (any format) to ignore: ours and the provider's current ones.
pub fn read(text: &str, known: &[&str]) -> Redirect {
    let known_faxes: Vec<String> = known.iter().filter_map(|k| us_fax(k).ok()).collect();
    let known_mail: Vec<String> = known.iter().map(|k| k.to_lowercase()).collect();
    let mut r = Redirect::default();
    for line in text.lines() {
        let lower = line.to_lowercase();
        for word in lower.split_whitespace() {
            let w =
                word.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\'') || c == '.');
            if r.email.is_none() && is_email(w) && !known_mail.contains(&w.to_string()) {
                r.email = Some(w.to_string());
            }
            if r.portal.is_none()
                && w.starts_with("https://")
                && !["unsubscribe", "privacy", ".png", ".jpg"].iter().any(|x| w.contains(x))
            {
                r.portal = Some(w.to_string());
            }
        }
        // A fax number on a line that says fax (phone lines are skipped).
        if r.fax.is_none() && lower.contains("fax") {
            let after = &lower[lower.find("fax").unwrap_or(0)..];
            if let Some(number) = first_number(after).and_then(|n| us_fax(&n).ok())
                && !known_faxes.contains(&number)
            {
                r.fax = Some(number);
            }
        }
        if r.vendor.is_none() {
            r.vendor = VENDORS
                .iter()
                .find(|(k, _)| lower.split(|c: char| !c.is_alphanumeric()).any(|w| w == *k))
                .map(|(_, v)| *v);
        }
    }
    r
}

fn is_email(w: &str) -> bool {
    w.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
}

/// The first run of digits and separators that holds 10 or 11 digits.
fn first_number(text: &str) -> Option<String> {
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once('$')) {
        if c.is_ascii_digit() || (matches!(c, '-' | '.' | '(' | ')' | ' ') && !current.is_empty()) {
            current.push(c);
            continue;
        }
        let digits = current.chars().filter(char::is_ascii_digit).count();
        if (10..=11).contains(&digits) {
            return Some(current.trim().to_string());
        }
        current.clear();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_fax_and_vendor_are_read_and_known_ones_ignored() {
        let r = read(
            "Our release of information is handled by Ciox Health. Please fax requests to (859) 555-0142.\n\
             Phone: 859-555-0100. Questions: roi@bluegrass-regional.example",
            &["roi@bluegrass-regional.example", "859-555-0111"],
        );
        assert_eq!(r.fax.as_deref(), Some("+18595550142"));
        assert_eq!(r.email, None);
        assert_eq!(r.vendor, Some("Ciox/Datavant"));
        assert_eq!(r.describe(), vec!["fax (859) 555-0142".to_string()]);
    }

    #[test]
    fn email_and_portal() {
        let r =
            read("Please submit through https://portal.chartswap.example/request or email requests@mro.example.", &[]);
        assert_eq!(r.email.as_deref(), Some("requests@mro.example"));
        assert_eq!(r.portal.as_deref(), Some("https://portal.chartswap.example/request"));
        assert!(!r.is_empty());
        assert!(read("We received your request.", &[]).is_empty());
    }

    #[test]
    fn odd_input_does_not_panic() {
        let _ = read(&"fax ((((( 1-1-1 @@ https:// é".repeat(300), &["x"]);
    }
}
