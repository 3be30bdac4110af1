//! The `NEW` form: `Key: value` lines from a staff message parsed into a checked
//! [`RequestForm`], or into every problem at once, each with what to write instead.
//! Keys are case-insensitive and tolerate extra spaces and a trailing colon; `Address` may
//! continue on indented lines.

use chrono::NaiveDate;

use super::dates;
use super::patient::{Dob, Ssn};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    Medical,
    Billing,
    Radiology,
}

impl RecordType {
    pub const ALL: [RecordType; 3] = [RecordType::Medical, RecordType::Billing, RecordType::Radiology];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Medical => "medical",
            RecordType::Billing => "billing",
            RecordType::Radiology => "radiology",
        }
    }

    /// `Medical Records`, as the letter says it.
    pub fn label(self) -> &'static str {
        match self {
            RecordType::Medical => "Medical Records",
            RecordType::Billing => "Billing Records",
            RecordType::Radiology => "Radiology Records",
        }
    }
}

/// What is requested of one record type; `to: None` means "to present".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requested {
    pub kind: RecordType,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// A complete, checked new request (the provider still to be looked up by name).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestForm {
    pub patient_name: String,
    pub dob: Dob,
    pub ssn: Ssn,
    pub address: Vec<String>,
    pub provider: String,
    pub records: Vec<Requested>,
    pub date_of_loss: Option<NaiveDate>,
    pub attorney: Option<String>,
    pub still_treating: bool,
    pub rush: bool,
    pub notes: Option<String>,
    pub authorization_expires: Option<NaiveDate>,
}

/// One thing wrong with a form, for the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> Problem {
    Problem { field, message: message.into() }
}

/// The form's keys, as written in the example.
pub const KEYS: &[&str] = &[
    "Patient",
    "DOB",
    "SSN",
    "Address",
    "Provider",
    "Records",
    "From",
    "Medical from",
    "Billing from",
    "Radiology from",
    "To",
    "Date of loss",
    "Attorney",
    "Still treating",
    "Rush",
    "Notes",
    "Authorization expires",
];

fn canonical_key(key: &str) -> Option<&'static str> {
    let squeezed =
        key.split_whitespace().collect::<Vec<_>>().join(" ").trim_end_matches(':').trim().to_ascii_lowercase();
    let alias = match squeezed.as_str() {
        "patient name" | "name" | "client" => "patient",
        "date of birth" | "birthdate" | "birth date" | "d.o.b." => "dob",
        "social" | "social security" | "social security number" | "ss#" => "ssn",
        "facility" | "provider name" => "provider",
        "records requested" | "record types" => "records",
        "dol" | "loss date" => "date of loss",
        "authorization expiration" | "auth expires" => "authorization expires",
        other => other,
    }
    .to_string();
    KEYS.iter().find(|k| k.to_ascii_lowercase() == alias).copied()
}

/// Splits the form into (key, value) pairs; unknown keys and stray lines become problems.
fn lines(text: &str) -> (Vec<(&'static str, String)>, Vec<Problem>) {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    let mut problems = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if let Some((key, value)) = line.split_once(':')
            && let Some(k) = canonical_key(key)
        {
            let value = value.trim_start_matches(':').trim().to_string();
            pairs.push((k, value));
            continue;
        }
        match pairs.last_mut() {
            Some(("Address", v)) | Some(("Notes", v)) if indented || !line.contains(':') => {
                v.push('\n');
                v.push_str(line.trim());
            }
            _ => {
                let key = line.split_once(':').map(|(k, _)| k.trim()).unwrap_or(line.trim());
                if line.trim().eq_ignore_ascii_case("new") || line.trim().to_ascii_lowercase().starts_with("new ") {
                    continue;
                }
                problems.push(problem(
                    "form",
                    format!("`{key}` is not a field I know; the fields are {}", KEYS.join(", ")),
                ));
            }
        }
    }
    (pairs, problems)
}

fn yes_no(field: &'static str, value: &str, problems: &mut Vec<Problem>) -> bool {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" => true,
        "no" | "n" | "false" | "" => false,
        other => {
            problems.push(problem(field, format!("`{other}` is not yes or no")));
            false
        }
    }
}

/// The last value given for `key` (one of [`KEYS`]), as written, even when the form has problems.
pub fn value_of(text: &str, key: &str) -> Option<String> {
    let (pairs, _) = lines(text);
    pairs.into_iter().rev().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v).filter(|v| !v.trim().is_empty())
}

/// Parses and checks a `NEW` form. `today` is the firm's local date.
pub fn parse(text: &str, today: NaiveDate) -> Result<RequestForm, Vec<Problem>> {
    let (pairs, mut problems) = lines(text);
    let get = |k: &str| pairs.iter().rev().find(|(key, _)| *key == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let date = |field: &'static str, problems: &mut Vec<Problem>| -> Option<NaiveDate> {
        let value = get(field)?;
        dates::parse(value).map_err(|e| problems.push(problem(field, e))).ok()
    };

    let patient_name = get("Patient").map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "));
    match &patient_name {
        None => problems.push(problem("Patient", "the patient's full name is missing")),
        Some(n) if n.split_whitespace().count() < 2 => problems
            .push(problem("Patient", format!("`{n}` looks like one name; give the full name as on the authorization"))),
        _ => {}
    }
    let dob = match get("DOB") {
        None => {
            problems.push(problem("DOB", "the date of birth is missing"));
            None
        }
        Some(v) => Dob::parse(v, today).map_err(|e| problems.push(problem("DOB", e))).ok(),
    };
    let ssn = match get("SSN") {
        None => {
            problems.push(problem("SSN", "the Social Security number is missing"));
            None
        }
        Some(v) => Ssn::parse(v).map_err(|e| problems.push(problem("SSN", e))).ok(),
    };
    let address: Vec<String> =
        get("Address").map(|a| a.lines().map(|l| l.trim().to_string()).collect()).unwrap_or_default();
    if address.is_empty() {
        problems.push(problem("Address", "the patient's address is missing"));
    } else if !address.iter().any(|l| l.chars().any(|c| c.is_ascii_digit())) {
        problems
            .push(problem("Address", "the address has no street number or ZIP code; give the full mailing address"));
    }
    let provider = get("Provider").map(str::to_string);
    if provider.is_none() {
        problems.push(problem(
            "Provider",
            "the provider is missing; give its name from the directory (PROVIDER FIND helps)",
        ));
    }
    let kinds = match get("Records") {
        None => RecordType::ALL.to_vec(),
        Some(v) => record_types(v).unwrap_or_else(|e| {
            problems.push(problem("Records", e));
            Vec::new()
        }),
    };
    let date_of_loss = date("Date of loss", &mut problems);
    let from_all = date("From", &mut problems);
    let to = match get("To") {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("present") || v.eq_ignore_ascii_case("now") => None,
        Some(_) => date("To", &mut problems),
    };
    let mut records = Vec::new();
    for kind in kinds {
        let field = match kind {
            RecordType::Medical => "Medical from",
            RecordType::Billing => "Billing from",
            RecordType::Radiology => "Radiology from",
        };
        let Some(from) = date(field, &mut problems).or(from_all).or(date_of_loss) else {
            if get(field).is_none() && get("From").is_none() {
                problems.push(problem(
                    field,
                    format!("no start date for {}: give From (or {field}, or Date of loss)", kind.label()),
                ));
            }
            continue;
        };
        if from > today {
            problems.push(problem(field, format!("{} is in the future", dates::us(from))));
        } else if to.is_some_and(|t| t < from) {
            problems.push(problem("To", format!("To is before the start date {}", dates::us(from))));
        }
        records.push(Requested { kind, from, to });
    }
    let authorization_expires = date("Authorization expires", &mut problems);
    if let Some(exp) = authorization_expires
        && exp < today
    {
        problems.push(problem(
            "Authorization expires",
            format!(
                "the authorization expired on {}; providers refuse expired authorizations — attach a new one",
                dates::us(exp)
            ),
        ));
    }
    let still_treating = get("Still treating").is_some_and(|v| yes_no("Still treating", v, &mut problems));
    let rush = get("Rush").is_some_and(|v| yes_no("Rush", v, &mut problems));
    if !problems.is_empty() {
        problems.dedup();
        return Err(problems);
    }
    Ok(RequestForm {
        patient_name: patient_name.unwrap_or_default(),
        dob: dob.expect("checked above"),
        ssn: ssn.expect("checked above"),
        address,
        provider: provider.unwrap_or_default(),
        records,
        date_of_loss,
        attorney: get("Attorney").map(str::to_string),
        still_treating,
        rush,
        notes: get("Notes").map(str::to_string),
        authorization_expires,
    })
}

fn record_types(value: &str) -> Result<Vec<RecordType>, String> {
    let mut out = Vec::new();
    for word in value.split([',', '/', ';', '&', ' ']).map(str::trim).filter(|w| !w.is_empty()) {
        let kind = match word.to_ascii_lowercase().trim_end_matches('s') {
            "medical" | "med" | "record" => RecordType::Medical,
            "billing" | "bill" | "itemized" => RecordType::Billing,
            "radiology" | "imaging" | "film" | "x-ray" => RecordType::Radiology,
            "and" | "all" => continue,
            other => return Err(format!("`{other}` is not a record type; use any of medical, billing, radiology")),
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    if out.is_empty() {
        return Ok(RecordType::ALL.to_vec());
    }
    out.sort();
    Ok(out)
}

/// A corrected form to copy: the sender's own values where they were fine, and an example where
/// a field was missing or wrong. SSN and DOB are never echoed back.
pub fn corrected_example(text: &str, problems: &[Problem]) -> String {
    let (pairs, _) = lines(text);
    let bad = |k: &str| problems.iter().any(|p| p.field == k);
    let given = |k: &str| {
        pairs.iter().rev().find(|(key, _)| *key == k).map(|(_, v)| v.clone()).filter(|v| !v.trim().is_empty())
    };
    let example: &[(&str, &str)] = &[
        ("Patient", "Jane Q. Doe"),
        ("DOB", "03/14/1985"),
        ("SSN", "123-45-6789"),
        ("Address", "123 Main St.\n    Lexington, KY 40507"),
        ("Provider", "Baptist Health Lexington"),
        ("Records", "medical, billing, radiology"),
        ("From", "01/15/2026"),
        ("Date of loss", "01/15/2026"),
        ("Attorney", "J. Denham"),
    ];
    let mut out = vec!["NEW".to_string()];
    for (key, sample) in example {
        let optional = matches!(*key, "Records" | "Date of loss" | "Attorney");
        if optional && given(key).is_none() {
            continue;
        }
        let value = match given(key) {
            Some(_) if *key == "SSN" || *key == "DOB" => {
                if bad(key) {
                    sample.to_string()
                } else {
                    "(as you sent it)".to_string()
                }
            }
            Some(v) if !bad(key) => v.replace('\n', "\n    "),
            _ => sample.to_string(),
        };
        out.push(format!("{key}: {value}"));
    }
    for (key, value) in &pairs {
        if !example.iter().any(|(k, _)| k == key) && !bad(key) && *key != "SSN" && *key != "DOB" {
            out.push(format!("{key}: {}", value.replace('\n', "\n    ")));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    const GOOD: &str = "NEW\nPatient: Jane Q. Doe\ndob : 03/14/1985\n  SSN:: 123456789\nAddress: 123 Main St.\n    Apt 4\n    Lexington, KY 40507\nProvider: Baptist Health Lexington\nRecords: medical, billing\nFrom: January 15, 2026\nDate of Loss: 2026-01-15\nAttorney: J. Denham\nStill treating: yes\n";

    #[test]
    fn a_good_form_parses() {
        let f = parse(GOOD, today()).unwrap();
        assert_eq!(f.patient_name, "Jane Q. Doe");
        assert_eq!(f.ssn.expose(), "123-45-6789");
        assert_eq!(f.address, vec!["123 Main St.", "Apt 4", "Lexington, KY 40507"]);
        assert_eq!(
            f.records.iter().map(|r| r.kind).collect::<Vec<_>>(),
            vec![RecordType::Medical, RecordType::Billing]
        );
        assert!(f.records.iter().all(|r| r.from == NaiveDate::from_ymd_opt(2026, 1, 15).unwrap() && r.to.is_none()));
        assert!(f.still_treating && !f.rush);
        assert_eq!(f.attorney.as_deref(), Some("J. Denham"));
    }

    #[test]
    fn per_type_dates_override_from_and_date_of_loss_is_the_fallback() {
        let text = "Patient: Jane Doe\nDOB: 03/14/1985\nSSN: 123-45-6789\nAddress: 1 A St, Lexington KY 40507\nProvider: X\nDate of loss: 01/15/2026\nRadiology from: 02/01/2026\nTo: 06/30/2026";
        let f = parse(text, today()).unwrap();
        assert_eq!(f.records.len(), 3);
        let radiology = f.records.iter().find(|r| r.kind == RecordType::Radiology).unwrap();
        assert_eq!(radiology.from, NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(f.records[0].to, NaiveDate::from_ymd_opt(2026, 6, 30));
    }

    #[test]
    fn every_problem_is_reported_once() {
        let text = "NEW\nPatient: Jane\nDOB: 03/14/85\nSSN: 12345\nProvider: X\nFrom: 01/15/2026\nColour: blue\nAuthorization expires: 01/01/2026";
        let problems = parse(text, today()).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, vec!["form", "Patient", "DOB", "SSN", "Address", "Authorization expires"], "{problems:?}");
        assert!(problems[0].message.contains("`Colour` is not a field"));
        assert!(problems[5].message.contains("expired on 01/01/2026"));
    }

    #[test]
    fn the_corrected_example_keeps_good_values_and_hides_identifiers() {
        let text = "NEW\nPatient: Jane Doe\nDOB: 03/14/1985\nSSN: 12345\nProvider: Baptist\nFrom: 01/15/2026";
        let problems = parse(text, today()).unwrap_err();
        let example = corrected_example(text, &problems);
        assert!(
            example
                .starts_with("NEW\nPatient: Jane Doe\nDOB: (as you sent it)\nSSN: 123-45-6789\nAddress: 123 Main St."),
            "{example}"
        );
        assert!(example.contains("Provider: Baptist"));
        assert!(!example.contains("03/14/1985") && !example.contains("12345\n"));
        assert!(
            parse(&example.replace("(as you sent it)", "03/14/1985"), today()).is_ok(),
            "the example itself parses"
        );
    }

    #[test]
    fn record_type_words() {
        assert_eq!(record_types("Medical & Radiology").unwrap(), vec![RecordType::Medical, RecordType::Radiology]);
        assert_eq!(record_types("all").unwrap().len(), 3);
        assert!(record_types("dental").is_err());
    }
}
