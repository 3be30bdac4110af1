//! The reply classifier on labelled provider replies (`tests/fixtures/replies/<kind>/*.eml`,
//! labels in `tests/fixtures/replies/labels.toml`), on replies with PDF attachments made here
//! with lopdf, and on the real-world corpora in `../shared/corpus`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use medrec::core::classify::{self, Classification, Deficiency, Kind};

/// Expected labels of one fixture.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Label {
    kind: Kind,
    deficiency: Option<Deficiency>,
    amount_cents: Option<i64>,
    reference: Option<String>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replies")
}

fn labels() -> BTreeMap<String, Label> {
    let text = std::fs::read_to_string(fixtures_dir().join("labels.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

/// Replies whose meaning is only in a PDF attachment, made here: (name, message, label).
fn pdf_cases() -> Vec<(String, Vec<u8>, Label)> {
    let from = "roi@provider.example";
    let to = "records@denhamlaw.example";
    let label = |kind, deficiency, amount_cents, reference: Option<&str>| Label {
        kind,
        deficiency,
        amount_cents,
        reference: reference.map(String::from),
    };
    let invoice = common::text_pdf(&[&[
        "Riverside Regional Medical Center - Release of Information",
        "INVOICE  No. 2026-00871     Date 03/09/2026",
        "Bill to: Denham & Rowe PLLC, 200 W Vine St, Suite 800, Lexington KY 40507",
        "Patient: Maria Sample   Requester ref: MR-1501",
        "Retrieval fee                       $20.00",
        "Copies 212 pages @ $0.35 per page   $74.20",
        "Postage                             $6.15",
        "TOTAL DUE                           $100.35",
        "Payment is required before release. Make checks payable to RRMC.",
    ]]);
    let deficiency = common::text_pdf(&[&[
        "St. Clare Health System - Health Information Management",
        "NOTICE: REQUEST CANNOT BE PROCESSED",
        "Patient: Tobias Engel     Your reference: MR-1502",
        "The authorization submitted has expired. Authorizations are valid for 180 days",
        "from the date signed. Please submit a current authorization.",
    ]]);
    let no_records = common::text_pdf(&[&[
        "AFFIDAVIT OF NO RECORDS",
        "After a thorough search of our files, Bayside Podiatry has no records",
        "for the patient named in request MR-1503.",
    ]]);
    let chart_page: &[&str] = &[
        "PROGRESS NOTE",
        "Chief complaint: neck pain after motor vehicle collision.",
        "Plan: physical therapy 2x/week.",
    ];
    let records = common::text_pdf(&[chart_page, chart_page, chart_page, chart_page, chart_page, chart_page]);
    let our_letter = common::text_pdf(&[&[
        "Dear Medical Records Custodian:",
        "Please take notice that our office represents the interests of the above-referenced patient.",
        "Any invoices greater than $300.00 require prior approval.",
    ]]);
    let msg = |subject: &str, body: &str, name: &str, bytes: &[u8]| {
        common::message_with_attachment(from, to, subject, "<pdf@provider.example>", body, name, bytes)
    };
    vec![
        (
            "pdf/invoice-only-in-pdf".into(),
            msg("Re: Medical records request", "Please see attached.", "RRMC_0871.pdf", &invoice),
            label(Kind::Invoice, None, Some(10_035), Some("MR-1501")),
        ),
        (
            "pdf/deficiency-letter".into(),
            msg("Re: Medical records request", "See the attached letter.", "notice.pdf", &deficiency),
            label(Kind::Deficiency, Some(Deficiency::AuthorizationExpired), None, Some("MR-1502")),
        ),
        (
            "pdf/no-records-affidavit".into(),
            msg("Records request", "Attached.", "affidavit.pdf", &no_records),
            label(Kind::NoRecords, None, None, Some("MR-1503")),
        ),
        (
            "pdf/records-six-pages".into(),
            msg("Re: [MR-1504] Medical records request", "Please find attached.", "Engel_T_chart.pdf", &records),
            label(Kind::Records, None, None, Some("MR-1504")),
        ),
        (
            "pdf/our-letter-returned-with-ack".into(),
            msg(
                "Re: [MR-1505] Medical records request",
                "We received the request below and it is in our queue.",
                "request.pdf",
                &our_letter,
            ),
            label(Kind::Acknowledgment, None, None, Some("MR-1505")),
        ),
    ]
}

fn classify_file(path: &Path) -> Classification {
    let raw = std::fs::read(path).unwrap();
    classify::classify(&medrec::mail::parse::parse(&raw))
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every labelled fixture and PDF case, classified: (name, expected, got).
fn results() -> Vec<(String, Label, Classification)> {
    let mut out = Vec::new();
    for (name, label) in labels() {
        let path = fixtures_dir().join(&name);
        assert!(path.is_file(), "labels.toml names {name}, which does not exist");
        out.push((name, label, classify_file(&path)));
    }
    for (name, raw, label) in pdf_cases() {
        out.push((name, label, classify::classify(&medrec::mail::parse::parse(&raw))));
    }
    out
}

fn agrees(label: &Label, c: &Classification) -> bool {
    label.kind == c.kind
        && label.deficiency == c.deficiency
        && label.amount_cents == c.amount_cents
        && label.reference == c.reference.map(|r| r.to_string())
}

#[test]
fn every_fixture_file_has_a_label() {
    let labels = labels();
    for kind in Kind::ALL {
        let dir = fixtures_dir().join(kind.as_str());
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries {
            let name = format!("{}/{}", kind.as_str(), e.unwrap().file_name().to_string_lossy());
            let label = labels.get(&name).unwrap_or_else(|| panic!("{name} has no entry in labels.toml"));
            assert_eq!(label.kind, kind, "{name} is filed under the wrong kind");
        }
    }
}

/// Accuracy by kind (run with `--nocapture` to see the table). The kind must be right, and so
/// must the deficiency reason, the amount and the reference for the message to count.
#[test]
fn accuracy_on_the_labelled_fixtures() {
    let results = results();
    assert!(results.len() >= 60, "only {} fixtures", results.len());
    let mut by_kind: BTreeMap<Kind, (usize, usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (name, label, c) in &results {
        let e = by_kind.entry(label.kind).or_default();
        e.0 += 1;
        if label.kind == c.kind {
            e.1 += 1;
        }
        if agrees(label, c) {
            e.2 += 1;
        } else {
            misses.push(format!(
                "{name}: expected {:?}, got {} {:?} {:?} {:?} ({:.2}) {:?}",
                (label.kind, label.deficiency, label.amount_cents, &label.reference),
                c.kind,
                c.deficiency,
                c.amount_cents,
                c.reference.map(|r| r.to_string()),
                c.confidence,
                c.reasons
            ));
        }
    }
    println!("\n{:<16} {:>5} {:>10} {:>12}", "kind", "n", "kind ok", "all fields");
    let (mut n, mut k, mut a) = (0, 0, 0);
    for (kind, (total, kind_ok, all_ok)) in &by_kind {
        println!("{:<16} {total:>5} {:>9.0}% {:>11.0}%", kind.as_str(), pct(*kind_ok, *total), pct(*all_ok, *total));
        (n, k, a) = (n + total, k + kind_ok, a + all_ok);
    }
    println!("{:<16} {n:>5} {:>9.0}% {:>11.0}%", "overall", pct(k, n), pct(a, n));
    for m in &misses {
        println!("MISS {m}");
    }
    assert!(pct(k, n) >= 90.0, "kind accuracy {:.1}% is under 90%", pct(k, n));
    assert!(pct(a, n) >= 85.0, "all-fields accuracy {:.1}% is under 85%", pct(a, n));
}

fn pct(part: usize, total: usize) -> f64 {
    if total == 0 { 0.0 } else { 100.0 * part as f64 / total as f64 }
}

#[test]
fn every_real_bounce_is_a_bounce_with_its_failed_recipient() {
    let Some(files) = common::corpus_files("bounces") else { return };
    assert_eq!(files.len(), 40);
    let mut wrong = Vec::new();
    for f in &files {
        let c = classify_file(f);
        let recipient = c.reasons.iter().any(|r| r.starts_with("failed recipient: ") && r.contains('@'));
        if c.kind != Kind::Bounce || !recipient {
            wrong.push(format!("{}: {} {:?}", name(f), c.kind, c.reasons));
        }
    }
    assert!(wrong.is_empty(), "{} of 40 wrong:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn the_look_alikes_are_not_bounces() {
    let Some(files) = common::corpus_files("not-bounces") else { return };
    for f in &files {
        let n = name(f);
        let c = classify_file(f);
        let expected = match n.as_str() {
            n if n.starts_with("rfc3834-") => Kind::AutoReply,
            "arf-01.eml" | "is-not-bounce-01.eml" | "is-not-bounce-02.eml" => Kind::Other,
            "lhost-zoho-04.eml" => {
                assert_ne!(c.kind, Kind::Bounce, "{n}: a delay is not a bounce: {:?}", c.reasons);
                continue;
            }
            other => panic!("unexpected corpus file {other}"),
        };
        assert_eq!(c.kind, expected, "{n}: {:?}", c.reasons);
    }
}

#[test]
fn every_mime_oddity_classifies_without_a_panic() {
    let Some(files) = common::corpus_files("mime-oddities") else { return };
    for f in &files {
        let c = classify_file(f);
        assert!((0.0..=1.0).contains(&c.confidence), "{}", name(f));
        assert!(!c.reasons.is_empty(), "{}", name(f));
    }
}
