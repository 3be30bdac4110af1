//! Which request a provider's reply belongs to. In order, stopping at the first confident
//! answer: our own `Message-ID` in `In-Reply-To`/`References`; the `MR-n` reference in the
//! subject, the new text, or attachment text; then evidence among open requests (the sender's
//! address or domain matches the provider's, the patient's name and date of birth appear).
//!
//! A reference found in a subject or body is trusted only when the sender has something to do
//! with that request's provider, or the text names its patient: a provider quoting another
//! firm's number must not file mail on the wrong request.

use super::dates;
use super::reference::Reference;

/// What the matcher knows of one open request.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub reference: Reference,
    /// The provider's email address, lowercased.
    pub provider_email: Option<String>,
    pub patient_name: String,
    pub patient_dob: chrono::NaiveDate,
}

/// What the matcher reads from the reply.
#[derive(Debug, Clone, Default)]
pub struct Reply<'a> {
    /// Lowercased sender address.
    pub sender: &'a str,
    /// Requests named by our own Message-IDs in `In-Reply-To` and `References`.
    pub threaded: Vec<Reference>,
    pub subject: &'a str,
    /// The new text (quotes removed).
    pub new_text: &'a str,
    /// Text of the attachments (PDFs).
    pub attachment_text: &'a str,
}

/// The outcome, with how it was decided (for the activity log and triage).
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    Request {
        reference: Reference,
        how: String,
    },
    /// Not confident: the best candidates, best first, each with why.
    Unmatched {
        candidates: Vec<(Reference, String)>,
    },
}

/// Matches `reply` against the open requests.
pub fn match_reply(reply: &Reply<'_>, open: &[OpenRequest]) -> Match {
    if let Some(r) = reply.threaded.iter().find(|r| open.iter().any(|o| o.reference == **r)).or(reply.threaded.first())
    {
        return Match::Request { reference: *r, how: "a reply to our message (In-Reply-To/References)".into() };
    }
    let places = [("subject", reply.subject), ("text", reply.new_text), ("attachment", reply.attachment_text)];
    let mut untrusted = Vec::new();
    for (place, text) in places {
        let Some(reference) = super::reference::find_in(text) else { continue };
        let Some(request) = open.iter().find(|o| o.reference == reference) else {
            untrusted.push((reference, format!("{reference} in the {place}, but no open request has it")));
            continue;
        };
        let sender = sender_relation(reply.sender, request);
        let patient = names_patient(reply, request);
        match (sender, patient) {
            (Some(s), _) => return Match::Request { reference, how: format!("{reference} in the {place}; {s}") },
            (None, Some(p)) => return Match::Request { reference, how: format!("{reference} in the {place}; {p}") },
            (None, None) => untrusted.push((
                reference,
                format!("{reference} in the {place}, but the sender is not the provider and the patient is not named"),
            )),
        }
    }
    let mut scored: Vec<(u32, Reference, String)> = open
        .iter()
        .filter_map(|o| {
            let mut why = Vec::new();
            let mut score = 0;
            if let Some(s) = sender_relation(reply.sender, o) {
                score += if s.starts_with("sent by the provider's address") { 3 } else { 2 };
                why.push(s);
            }
            if let Some(p) = names_patient(reply, o) {
                score += if p.contains("date of birth") { 3 } else { 2 };
                why.push(p);
            }
            (score > 0).then(|| (score, o.reference, why.join("; ")))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // Confident: the provider's sender plus the patient, and no other request as strong.
    if let [(best, reference, why), rest @ ..] = scored.as_slice()
        && *best >= 5
        && rest.first().is_none_or(|(next, _, _)| next < best)
    {
        return Match::Request { reference: *reference, how: format!("no reference; {why}") };
    }
    let mut candidates: Vec<(Reference, String)> = scored.into_iter().map(|(_, r, why)| (r, why)).collect();
    for (r, why) in untrusted {
        if !candidates.iter().any(|(c, _)| *c == r) {
            candidates.push((r, why));
        }
    }
    candidates.truncate(3);
    Match::Unmatched { candidates }
}

/// How the sender relates to the request's provider, if at all.
fn sender_relation(sender: &str, request: &OpenRequest) -> Option<String> {
    let email = request.provider_email.as_deref()?;
    if sender.eq_ignore_ascii_case(email) {
        return Some("sent by the provider's address".into());
    }
    let domain = |a: &str| a.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
    match (domain(sender), domain(email)) {
        (Some(a), Some(b)) if a == b && !is_public_mail_domain(&a) => {
            Some(format!("sent from the provider's domain {a}"))
        }
        _ => None,
    }
}

/// Free mail services: sharing one says nothing about being the same provider.
fn is_public_mail_domain(domain: &str) -> bool {
    ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com", "icloud.com", "comcast.net", "att.net"]
        .contains(&domain)
}

/// Whether the reply names the request's patient (and, better, the date of birth).
fn names_patient(reply: &Reply<'_>, request: &OpenRequest) -> Option<String> {
    let haystack = format!("{}\n{}\n{}", reply.subject, reply.new_text, reply.attachment_text).to_lowercase();
    let words: Vec<String> = request.patient_name.to_lowercase().split_whitespace().map(str::to_string).collect();
    let (first, last) = (words.first()?, words.last()?);
    let named = haystack.contains(&request.patient_name.to_lowercase())
        || (haystack.contains(last.as_str()) && haystack.contains(first.as_str()) && words.len() > 1);
    if !named {
        return None;
    }
    let dob = request.patient_dob;
    let dob_forms = [dates::us(dob), dob.format("%-m/%-d/%Y").to_string(), dob.format("%Y-%m-%d").to_string()];
    if dob_forms.iter().any(|f| haystack.contains(f.as_str())) {
        Some("names the patient and the date of birth".into())
    } else {
        Some("names the patient".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn open() -> Vec<OpenRequest> {
        let dob = NaiveDate::from_ymd_opt(1985, 3, 14).unwrap();
        vec![
            OpenRequest {
                reference: Reference(1001),
                provider_email: Some("roi@bluegrass.example".into()),
                patient_name: "Maria Sample".into(),
                patient_dob: dob,
            },
            OpenRequest {
                reference: Reference(1002),
                provider_email: Some("records@buckeye.example".into()),
                patient_name: "John Quincy Example".into(),
                patient_dob: NaiveDate::from_ymd_opt(1970, 1, 2).unwrap(),
            },
        ]
    }

    fn reply<'a>(sender: &'a str, subject: &'a str, text: &'a str) -> Reply<'a> {
        Reply { sender, subject, new_text: text, ..Reply::default() }
    }

    fn matched(m: Match) -> Option<Reference> {
        match m {
            Match::Request { reference, .. } => Some(reference),
            Match::Unmatched { .. } => None,
        }
    }

    #[test]
    fn in_reply_to_alone_is_enough() {
        let r = Reply { threaded: vec![Reference(1002)], ..reply("someone@elsewhere.example", "Re: your request", "") };
        assert_eq!(matched(match_reply(&r, &open())), Some(Reference(1002)));
    }

    #[test]
    fn subject_body_or_attachment_reference_from_the_provider() {
        assert_eq!(
            matched(match_reply(&reply("roi@bluegrass.example", "Records [MR-1001]", ""), &open())),
            Some(Reference(1001))
        );
        assert_eq!(
            matched(match_reply(&reply("clerk@bluegrass.example", "Records", "Your ref mr-1001"), &open())),
            Some(Reference(1001))
        );
        let r =
            Reply { attachment_text: "Invoice for request MR-1002", ..reply("billing@buckeye.example", "Invoice", "") };
        assert_eq!(matched(match_reply(&r, &open())), Some(Reference(1002)));
    }

    #[test]
    fn a_vendor_quoting_our_reference_and_naming_the_patient_is_trusted() {
        let r = reply("noreply@roi-vendor.example", "MR-1001", "Records for Maria Sample are attached.");
        assert_eq!(matched(match_reply(&r, &open())), Some(Reference(1001)));
    }

    #[test]
    fn regression_another_firms_reference_from_an_unrelated_sender_is_not_trusted() {
        // A different provider's clerk quotes MR-1001 (another firm uses the same scheme) about someone else.
        let r = reply("clerk@unrelated-clinic.example", "Re: MR-1001", "Re your request MR-1001 for Pat Other.");
        let Match::Unmatched { candidates } = match_reply(&r, &open()) else { panic!("must not match") };
        assert!(candidates[0].1.contains("sender is not the provider"), "{candidates:?}");
    }

    #[test]
    fn evidence_without_reference_needs_sender_and_patient() {
        let r = reply("roi@bluegrass.example", "Records", "Attached are the records of Maria Sample, DOB 03/14/1985.");
        assert_eq!(matched(match_reply(&r, &open())), Some(Reference(1001)));
        // The patient alone, from a stranger, is only a candidate.
        let r = reply("someone@else.example", "Records", "Records of Maria Sample attached.");
        let Match::Unmatched { candidates } = match_reply(&r, &open()) else { panic!() };
        assert_eq!(candidates[0].0, Reference(1001));
    }

    #[test]
    fn nothing_to_go_on_is_unmatched_with_no_candidates() {
        assert_eq!(match_reply(&reply("x@y.example", "Hello", "Hi"), &open()), Match::Unmatched { candidates: vec![] });
    }

    #[test]
    fn public_mail_domains_prove_nothing() {
        let mut o = open();
        o[0].provider_email = Some("smallclinic@gmail.com".into());
        assert!(sender_relation("stranger@gmail.com", &o[0]).is_none());
        assert!(sender_relation("smallclinic@gmail.com", &o[0]).is_some());
    }
}
