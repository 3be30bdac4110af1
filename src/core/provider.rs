//! The provider directory (the SOP's "Master Medical Provider List"): one entry's fields checked
//! and normalised (fax numbers to E.164), shared by CSV import and `PROVIDER ADD`, and the fuzzy
//! look-up behind `PROVIDER FIND` and the `Provider:` line of a new request.

use std::collections::BTreeMap;

/// How a provider wants requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Fax,
    Email,
    Mail,
    Portal,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Fax => "fax",
            Method::Email => "email",
            Method::Mail => "mail",
            Method::Portal => "portal",
        }
    }

    pub fn parse(text: &str) -> Option<Method> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fax" => Some(Method::Fax),
            "email" | "e-mail" => Some(Method::Email),
            "mail" | "post" | "usps" => Some(Method::Mail),
            "portal" | "online" => Some(Method::Portal),
            _ => None,
        }
    }
}

/// A directory entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEntry {
    pub name: String,
    pub department: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub phone: Option<String>,
    /// E.164, e.g. `+18595550100`.
    pub fax: Option<String>,
    pub email: Option<String>,
    pub preferred_method: Method,
    pub notes: Option<String>,
}

/// The columns of a provider CSV file and the keys of `PROVIDER ADD`, in order.
pub const FIELDS: &[&str] =
    &["name", "department", "street", "city", "state", "zip", "phone", "fax", "email", "preferred_method", "notes"];

/// A field name as people write it (`Preferred method`, `ZIP`, `E-mail`) to its column name.
pub fn field_name(key: &str) -> Option<&'static str> {
    let k: String =
        key.trim().trim_end_matches(':').to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let name = match k.as_str() {
        "name" | "provider" | "facility" => "name",
        "department" | "dept" => "department",
        "street" | "address" => "street",
        "city" => "city",
        "state" => "state",
        "zip" | "zipcode" | "postalcode" => "zip",
        "phone" | "telephone" => "phone",
        "fax" | "faxnumber" => "fax",
        "email" => "email",
        "preferredmethod" | "method" | "preferred" => "preferred_method",
        "notes" | "note" => "notes",
        _ => return None,
    };
    Some(name)
}

/// Checks one entry given as column → value. All problems at once, each saying what to write.
pub fn entry(fields: &BTreeMap<&str, String>) -> Result<ProviderEntry, Vec<String>> {
    let mut problems = Vec::new();
    let get = |k: &str| fields.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let name = get("name").unwrap_or_else(|| {
        problems.push("Name is required (the facility or records department, e.g. Baptist Health Lexington)".into());
        String::new()
    });
    let state = get("state").map(|s| s.to_ascii_uppercase());
    if let Some(s) = &state
        && (s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        problems.push(format!("State `{s}` is not a two-letter code (like KY)"));
    }
    let fax = get("fax").and_then(|f| us_fax(&f).map_err(|e| problems.push(format!("Fax: {e}"))).ok());
    let email = get("email").map(|e| e.to_ascii_lowercase());
    if let Some(e) = &email
        && !plausible_email(e)
    {
        problems.push(format!("Email `{e}` is not an email address (like roi@provider.example)"));
    }
    let method = match get("preferred_method") {
        None if fax.is_some() => Method::Fax,
        None if email.is_some() => Method::Email,
        None => Method::Mail,
        Some(m) => Method::parse(&m).unwrap_or_else(|| {
            problems.push(format!("Preferred method `{m}` is not one of fax, email, mail, portal"));
            Method::Fax
        }),
    };
    match method {
        Method::Fax if fax.is_none() && get("fax").is_none() => {
            problems.push("Preferred method is fax, but no Fax number is given".into())
        }
        Method::Email if email.is_none() => {
            problems.push("Preferred method is email, but no Email address is given".into())
        }
        _ => {}
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ProviderEntry {
        name,
        department: get("department"),
        street: get("street"),
        city: get("city"),
        state,
        zip: get("zip"),
        phone: get("phone"),
        fax,
        email,
        preferred_method: method,
        notes: get("notes"),
    })
}

fn plausible_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !e.contains(char::is_whitespace))
}

/// A US fax number in E.164 (`+18595550100`). North American numbering: 10 digits (an optional
/// leading 1), area code and exchange not starting with 0 or 1, area code not N11.
pub fn us_fax(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let junk = text.chars().any(|c| c.is_ascii_alphabetic());
    let ten = match digits.len() {
        10 => digits.as_str(),
        11 if digits.starts_with('1') => &digits[1..],
        _ => return Err(format!("`{}` is not a US fax number (10 digits, like 859-555-0100)", text.trim())),
    };
    let (area, exchange) = (&ten[..3], &ten[3..6]);
    if junk
        || matches!(area.as_bytes()[0], b'0' | b'1')
        || matches!(exchange.as_bytes()[0], b'0' | b'1')
        || &area[1..] == "11"
    {
        return Err(format!("`{}` is not a valid US number (area code and exchange start with 2-9)", text.trim()));
    }
    Ok(format!("+1{ten}"))
}

/// `+18595550100` → `(859) 555-0100`, for letters and messages.
pub fn display_fax(e164: &str) -> String {
    match e164.strip_prefix("+1") {
        Some(t) if t.len() == 10 => format!("({}) {}-{}", &t[..3], &t[3..6], &t[6..]),
        _ => e164.to_string(),
    }
}

/// One directory row for matching.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub city: Option<String>,
}

/// How well `query` matches a candidate, 0..=1: word overlap on name and city, with credit for
/// word prefixes and near-miss spellings.
pub fn score(query: &str, c: &Candidate) -> f64 {
    let q = words(query);
    if q.is_empty() {
        return 0.0;
    }
    let mut target = words(&c.name);
    target.extend(words(c.city.as_deref().unwrap_or("")));
    let best = |w: &String| -> f64 {
        target
            .iter()
            .map(|t| {
                if t == w {
                    1.0
                } else if t.starts_with(w.as_str()) && w.len() >= 3 {
                    0.8
                } else {
                    let d = super::command::edit_distance(w, t);
                    if w.len() >= 5 && d <= 2 { 0.6 } else { 0.0 }
                }
            })
            .fold(0.0, f64::max)
    };
    q.iter().map(best).sum::<f64>() / q.len() as f64
}

/// The best matches, best first, above a floor.
pub fn find(query: &str, candidates: &[Candidate], limit: usize) -> Vec<(f64, Candidate)> {
    let mut scored: Vec<(f64, Candidate)> =
        candidates.iter().map(|c| (score(query, c), c.clone())).filter(|(s, _)| *s >= 0.5).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
    scored.truncate(limit);
    scored
}

/// What a `Provider:` line names.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    One(i64),
    /// No single match; the closest entries, best first.
    Unknown(Vec<(i64, String)>),
}

/// Resolves a `Provider:` value: an id (`12` or `#12`), an exact name (case-insensitive), or a
/// single strong fuzzy match.
pub fn resolve(query: &str, candidates: &[Candidate]) -> Resolved {
    let q = query.trim();
    if let Ok(id) = q.trim_start_matches('#').parse::<i64>()
        && candidates.iter().any(|c| c.id == id)
    {
        return Resolved::One(id);
    }
    let exact: Vec<_> = candidates.iter().filter(|c| c.name.eq_ignore_ascii_case(q)).collect();
    if exact.len() == 1 {
        return Resolved::One(exact[0].id);
    }
    let found = find(q, candidates, 5);
    match found.as_slice() {
        [(s, only), rest @ ..] if *s >= 0.99 && rest.iter().all(|(r, _)| *r < 0.99) => Resolved::One(only.id),
        _ => Resolved::Unknown(found.into_iter().map(|(_, c)| (c.id, c.name)).collect()),
    }
}

fn words(s: &str) -> Vec<String> {
    const NOISE: &[&str] = &["the", "of", "and", "inc", "llc", "pllc", "psc", "dept", "department"];
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !NOISE.contains(&w.as_str()))
        .collect()
}

/// A provider CSV file read into entries; each bad row is reported with its line number.
#[derive(Debug, Default)]
pub struct Import {
    pub entries: Vec<(usize, ProviderEntry)>,
    pub problems: Vec<(usize, String)>,
}

/// Reads a provider CSV: a header row naming columns (any of [`FIELDS`], forgivingly spelled),
/// then one provider per row.
pub fn import_csv(text: &str) -> Result<Import, String> {
    let rows = csv_rows(text)?;
    let Some((header, body)) = rows.split_first() else {
        return Err("the file is empty; the first row must name the columns".into());
    };
    let mut columns = Vec::new();
    for h in header {
        match field_name(h) {
            Some(f) => columns.push(f),
            None => return Err(format!("unknown column `{}`; the columns are {}", h.trim(), FIELDS.join(", "))),
        }
    }
    if !columns.contains(&"name") {
        return Err(format!("no `name` column; the columns are {}", FIELDS.join(", ")));
    }
    let mut import = Import::default();
    for (i, row) in body.iter().enumerate() {
        let line = i + 2;
        if row.len() > columns.len() {
            import.problems.push((line, format!("{} fields, but the header names {}", row.len(), columns.len())));
            continue;
        }
        let fields: BTreeMap<&str, String> = columns.iter().copied().zip(row.iter().cloned()).collect();
        match entry(&fields) {
            Ok(e) => import.entries.push((line, e)),
            Err(p) => import.problems.push((line, p.join("; "))),
        }
    }
    Ok(import)
}

/// Parses CSV (RFC 4180: quoted fields, doubled quotes, commas and newlines inside quotes).
pub fn csv_rows(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!("a quoted field starting before line {line} is never closed"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.retain(|r| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn fax_numbers_become_e164() {
        assert_eq!(us_fax("859-555-0100").unwrap(), "+18595550100");
        assert_eq!(us_fax("(859) 555 0100").unwrap(), "+18595550100");
        assert_eq!(us_fax("+1 859.555.0100").unwrap(), "+18595550100");
        for bad in ["555-0100", "059-555-0100", "859-155-0100", "911-555-0100", "859-555-01000", "859-CALL-NOW"] {
            assert!(us_fax(bad).is_err(), "{bad}");
        }
        assert_eq!(display_fax("+18595550100"), "(859) 555-0100");
    }

    #[test]
    fn entries_are_checked_all_at_once() {
        let ok = entry(&fields(&[("name", "Baptist Health"), ("fax", "859-555-0100"), ("state", "ky")])).unwrap();
        assert_eq!(ok.preferred_method, Method::Fax);
        assert_eq!(ok.state.as_deref(), Some("KY"));
        let bad =
            entry(&fields(&[("fax", "12"), ("state", "Kentucky"), ("email", "nope"), ("preferred_method", "pigeon")]))
                .unwrap_err();
        assert_eq!(bad.len(), 5, "{bad:?}");
        let no_email = entry(&fields(&[("name", "X"), ("preferred_method", "email")])).unwrap_err();
        assert!(no_email[0].contains("no Email"));
    }

    #[test]
    fn field_names_are_forgiving() {
        assert_eq!(field_name("Preferred Method:"), Some("preferred_method"));
        assert_eq!(field_name("E-mail"), Some("email"));
        assert_eq!(field_name("ZIP"), Some("zip"));
        assert_eq!(field_name("colour"), None);
    }

    fn dir() -> Vec<Candidate> {
        vec![
            Candidate { id: 1, name: "Baptist Health Lexington".into(), city: Some("Lexington".into()) },
            Candidate { id: 2, name: "UK HealthCare Chandler Hospital".into(), city: Some("Lexington".into()) },
            Candidate { id: 3, name: "Baptist Health Louisville".into(), city: Some("Louisville".into()) },
            Candidate { id: 4, name: "Cleveland Clinic".into(), city: Some("Cleveland".into()) },
        ]
    }

    #[test]
    fn finds_by_name_city_prefix_and_typo() {
        let top = |q: &str| find(q, &dir(), 3).first().map(|(_, c)| c.id);
        assert_eq!(top("chandler"), Some(2));
        assert_eq!(top("baptist louisville"), Some(3));
        assert_eq!(top("clevland clinic"), Some(4));
        assert_eq!(top("Chand"), Some(2));
        assert!(find("zzz", &dir(), 3).is_empty());
    }

    #[test]
    fn resolves_ids_exact_names_and_refuses_ambiguity() {
        assert_eq!(resolve("#3", &dir()), Resolved::One(3));
        assert_eq!(resolve("cleveland clinic", &dir()), Resolved::One(4));
        let Resolved::Unknown(closest) = resolve("Baptist Health", &dir()) else { panic!() };
        assert_eq!(closest.len(), 2);
        assert_eq!(resolve("Mayo Clinic Rochester", &dir()), Resolved::Unknown(vec![]));
    }

    #[test]
    fn imports_rows_and_reports_bad_ones_by_line() {
        let text = "Name,City,State,Fax,E-mail,Preferred method\nA Clinic,Lexington,KY,859-555-0100,,fax\nB Clinic,Columbus,OH,,roi@b.example,email\nC,,KY,12,,\n";
        let import = import_csv(text).unwrap();
        assert_eq!(import.entries.len(), 2);
        assert_eq!(import.entries[1].1.preferred_method, Method::Email);
        assert_eq!(import.problems.len(), 1);
        assert_eq!(import.problems[0].0, 4);
        assert!(import_csv("Name,Colour\nA,red\n").unwrap_err().contains("unknown column `Colour`"));
        assert!(import_csv("").is_err());
    }

    #[test]
    fn csv_handles_quotes_commas_and_newlines() {
        let rows = csv_rows("name,notes\r\n\"Smith, Jones & Co\",\"line one\nline \"\"two\"\"\"\n\nlast,\n").unwrap();
        assert_eq!(
            rows,
            vec![vec!["name", "notes"], vec!["Smith, Jones & Co", "line one\nline \"two\""], vec!["last", ""]]
        );
        assert!(csv_rows("a,\"open").is_err());
    }
}
