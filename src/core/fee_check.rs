//! An invoice against the state's copy-fee statute (`statutes.rs`): the most the law allows for
//! the pages billed, and whether the invoice is a likely overcharge. Uncertain rules (secondary
//! sources, CPI amounts for another year) and missing facts (no page count) only advise.

use super::money::format_cents;
use super::statutes::{Band, Certainty, Charge, Electronic, FeeSchedule, ProviderKind, for_state};

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
    /// The rule is uncertain or facts are missing: advice only.
    Advisory { citation: &'static str, why: String },
    /// No statute for the state in the table.
    Unknown { why: String },
}

/// `state`: the provider's two-letter state; `first_copy`: the first copy requested for this
/// patient from this provider; `year`: the year the invoice is checked in (CPI-adjusted amounts).
pub fn check(
    state: Option<&str>,
    provider: ProviderKind,
    facts: &InvoiceFacts,
    first_copy: bool,
    year: i32,
) -> Verdict {
    let Some(statute) = state.and_then(for_state) else {
        return Verdict::Unknown {
            why: format!("no copy-fee statute on file for {}", state.unwrap_or("the provider's state")),
        };
    };
    let citation = statute.citation;
    let billed = facts.amount_cents;
    if statute.first_copy_free_for_patient_or_attorney && first_copy {
        if billed > 0 {
            return Verdict::Overcharge {
                allowed_cents: 0,
                billed_cents: billed,
                citation,
                why: format!(
                    "{citation} gives the patient's first copy free, and the free copy extends to the attorney the \
                     patient authorizes"
                ),
            };
        }
        return Verdict::Within { allowed_cents: 0, citation };
    }
    let Some(schedule) = schedule_for(statute.fees, provider) else {
        return Verdict::Advisory { citation, why: "the statute sets no amounts we can check against".into() };
    };
    let Some(pages) = facts.pages else {
        return Verdict::Advisory { citation, why: "the invoice states no page count, which the check needs".into() };
    };
    let allowed = allowed_cents(schedule, pages, facts);
    let uncertain = schedule.certainty == Certainty::Secondary
        || (schedule.cpi_adjusted && schedule.amounts_year.is_some_and(|y| i32::from(y) != year));
    if uncertain {
        return Verdict::Advisory {
            citation,
            why: format!(
                "the amounts on file are uncertain or for another year; by them, {pages} pages may cost up to {}",
                format_cents(allowed)
            ),
        };
    }
    if billed > allowed {
        Verdict::Overcharge {
            allowed_cents: allowed,
            billed_cents: billed,
            citation,
            why: format!("{citation} allows at most {} for {pages} pages", format_cents(allowed)),
        }
    } else {
        Verdict::Within { allowed_cents: allowed, citation }
    }
}

fn schedule_for(fees: &[FeeSchedule], provider: ProviderKind) -> Option<&FeeSchedule> {
    fees.iter()
        .find(|f| f.provider == provider)
        .or_else(|| fees.iter().find(|f| f.provider == ProviderKind::Any))
        .or_else(|| fees.first())
}

/// The most `schedule` allows for `pages`, with the search fee and a requested certification.
fn allowed_cents(schedule: &FeeSchedule, pages: u32, facts: &InvoiceFacts) -> i64 {
    let (bands, cap): (Vec<Band>, Option<u32>) = match (facts.electronic, schedule.electronic) {
        (true, Electronic::Bands { bands, cap_cents }) => (bands.to_vec(), cap_cents),
        (true, Electronic::PercentOfPaper(p)) => (
            schedule
                .paper
                .iter()
                .map(|b| Band {
                    through_page: b.through_page,
                    charge: match b.charge {
                        Charge::PerPage(c) => Charge::PerPage(c * u32::from(p) / 100),
                        Charge::Flat(c) => Charge::Flat(c * u32::from(p) / 100),
                    },
                })
                .collect(),
            None,
        ),
        _ => (schedule.paper.to_vec(), None),
    };
    let mut total: i64 = 0;
    let mut from = 1u32;
    for band in &bands {
        if from > pages {
            break;
        }
        let to = band.through_page.unwrap_or(u32::MAX).min(pages);
        total += match band.charge {
            Charge::PerPage(c) => i64::from(c) * i64::from(to - from + 1),
            Charge::Flat(c) => i64::from(c),
        };
        from = to.saturating_add(1);
    }
    total += i64::from(schedule.search_fee_cents.unwrap_or(0));
    if facts.certification_requested {
        total += i64::from(schedule.certification_cents.unwrap_or(0));
    }
    if let Some(min) = schedule.minimum_cents {
        total = total.max(i64::from(min));
    }
    match cap {
        Some(cap) => total.min(i64::from(cap)),
        None => total,
    }
}

/// A paragraph for the staff notice.
pub fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Overcharge { allowed_cents, billed_cents, citation, why } => format!(
            "LIKELY OVERCHARGE: billed {}, but {why} (at most {}); cite {citation} when disputing it.",
            format_cents(*billed_cents),
            format_cents(*allowed_cents)
        ),
        Verdict::Within { allowed_cents, citation } => {
            format!("within {citation} (at most {} for what was billed).", format_cents(*allowed_cents))
        }
        Verdict::Advisory { citation, why } => format!("advisory only under {citation}: {why}."),
        Verdict::Unknown { why } => format!("not checked: {why}."),
    }
}

/// The page count an invoice states ("245 pages", "Pages: 12", "12 pgs"), if any.
pub fn pages_in(text: &str) -> Option<u32> {
    let lower = text.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| c.is_whitespace() || c == ':' || c == '#').filter(|w| !w.is_empty()).collect();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if matches!(w, "pages" | "page" | "pgs" | "pg" | "pages)" | "page(s") {
            let number = |s: &str| {
                s.trim_matches(|c: char| !c.is_ascii_digit()).parse::<u32>().ok().filter(|n| (1..100_000).contains(n))
            };
            if let Some(n) = i.checked_sub(1).and_then(|j| number(words[j])) {
                return Some(n);
            }
            if let Some(n) = words.get(i + 1).and_then(|s| number(s)) {
                return Some(n);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(cents: i64, pages: Option<u32>) -> InvoiceFacts {
        InvoiceFacts { amount_cents: cents, pages, electronic: false, certification_requested: false }
    }

    #[test]
    fn kentucky_first_copy_is_free_to_the_attorney() {
        let v = check(Some("KY"), ProviderKind::Any, &facts(4_500, Some(20)), true, 2026);
        let Verdict::Overcharge { allowed_cents: 0, citation, ref why, .. } = v else { panic!("{v:?}") };
        assert_eq!(citation, "KRS 422.317");
        assert!(why.contains("attorney"));
        assert!(describe(&v).contains("KRS 422.317"));
        // A second copy: $1.00 a page.
        assert!(matches!(
            check(Some("KY"), ProviderKind::Any, &facts(2_000, Some(20)), false, 2026),
            Verdict::Within { allowed_cents: 2_000, .. }
        ));
        assert!(matches!(
            check(Some("KY"), ProviderKind::Any, &facts(2_500, Some(20)), false, 2026),
            Verdict::Overcharge { allowed_cents: 2_000, .. }
        ));
    }

    #[test]
    fn tennessee_flat_band_then_per_page() {
        // $25 for pages 1-5, then $0.50 a page: 10 pages = $27.50.
        let v = check(Some("TN"), ProviderKind::Any, &facts(2_750, Some(10)), false, 2026);
        assert!(matches!(v, Verdict::Within { allowed_cents: 2_750, .. } | Verdict::Advisory { .. }), "{v:?}");
    }

    #[test]
    fn missing_facts_and_unknown_states_only_advise() {
        assert!(matches!(
            check(Some("TN"), ProviderKind::Any, &facts(9_999, None), false, 2026),
            Verdict::Advisory { .. }
        ));
        assert!(matches!(
            check(Some("ZZ"), ProviderKind::Any, &facts(1, Some(1)), false, 2026),
            Verdict::Unknown { .. }
        ));
        assert!(matches!(check(None, ProviderKind::Any, &facts(1, Some(1)), false, 2026), Verdict::Unknown { .. }));
    }

    #[test]
    fn page_counts_are_read() {
        assert_eq!(pages_in("Copies: 245 pages @ $0.50"), Some(245));
        assert_eq!(pages_in("Pages: 12\nTotal $30.00"), Some(12));
        assert_eq!(pages_in("12 pgs"), Some(12));
        assert_eq!(pages_in("Amount due: $45.00"), None);
        assert_eq!(pages_in(""), None);
    }
}
