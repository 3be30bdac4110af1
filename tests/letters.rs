//! The request package end to end: letters typeset with Typst, checked with poppler's
//! `pdftotext`/`pdfinfo` and `qpdf --check` (installed here and in CI), merged with a
//! project-made authorization, and intake's PDF checks.

use std::fs;
use std::path::Path;
use std::process::Command;

use lopdf::{Dictionary, Document, Object, Stream};
use medrec::letters::{
    self, Channel, CoverData, LetterData, LetterError, Letterhead, Patient, PdfProblem, Provider, RecordRange, Staff,
    StatuteText, Templates,
};

const TRICKY_NAME: &str = r"O'Brien #2 * _x_ $y$ [z] <w> @v \";

fn letterhead() -> Letterhead {
    Letterhead {
        name: "Denham Property and Injury Law Firm".into(),
        street: "250 W. Main St. Suite 120".into(),
        city: "Lexington".into(),
        state: "KY".into(),
        zip: "40507".into(),
        phone: "859-900-2278".into(),
        website: Some("www.Denham.Law".into()),
        fax: Some("859-900-2279".into()),
    }
}

fn letter(state: &str) -> LetterData {
    LetterData {
        firm: letterhead(),
        staff: Staff {
            name: "Jamie Rivera".into(),
            email: "jamie@denhamlaw.example".into(),
            direct_line: "859-900-2281".into(),
            title: "Paralegal".into(),
        },
        attorney: "Chris Denham".into(),
        date: "November 23, 2026".into(),
        reference: "MR-1001".into(),
        reply_to: "records@denhamlaw.example".into(),
        provider: Provider {
            name: "Bluegrass Regional Medical Center".into(),
            department: None,
            street: "1000 S. Limestone".into(),
            city: "Lexington".into(),
            state: state.into(),
            zip: "40536".into(),
            fax: Some("(859) 555-0100".into()),
            email: Some("roi@bluegrass.example".into()),
        },
        channel: Channel::Fax,
        patient: Patient {
            name: "Maria Q. Sample".into(),
            address_lines: vec!["12 Elm Street, Apt. 4".into(), "Frankfort, KY 40601".into()],
            dob: "03/14/1985".into(),
            ssn: "123-45-6789".into(),
        },
        records: vec![
            RecordRange { label: "Medical Records".into(), from: "01/02/2025".into(), to: "Present".into() },
            RecordRange { label: "Billing Records".into(), from: "01/02/2025".into(), to: "Present".into() },
            RecordRange { label: "Radiology Records".into(), from: "01/02/2025".into(), to: "06/30/2025".into() },
        ],
        facility: "Bluegrass Regional Medical Center, Emergency Department".into(),
        approval_limit: "$300.00".into(),
        statute: StatuteText::for_state(state),
    }
}

fn cover(pages: u32) -> CoverData {
    CoverData {
        firm: letterhead(),
        from: "Jamie Rivera".into(),
        fax_back: "859-900-2279".into(),
        to_name: "Bluegrass Regional Medical Center".into(),
        to_department: Some("Medical Records Department/ROI".into()),
        to_fax: "(859) 555-0100".into(),
        date: "November 23, 2026".into(),
        pages,
        reference: "MR-1001".into(),
        reply_to: "records@denhamlaw.example".into(),
        subject: "Medical records request".into(),
    }
}

/// Runs a poppler/qpdf tool on `pdf`; returns (success, stdout, stderr).
fn tool(program: &str, args: &[&str], pdf: &[u8]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.pdf");
    fs::write(&path, pdf).unwrap();
    let out = Command::new(program)
        .args(args)
        .arg(&path)
        .args(if program == "pdftotext" { &["-"][..] } else { &[][..] })
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (poppler-utils, qpdf): {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// The text of each page, by `pdftotext -layout`.
fn pages_text(pdf: &[u8]) -> Vec<String> {
    let (ok, text, err) = tool("pdftotext", &["-layout"], pdf);
    assert!(ok, "pdftotext failed: {err}");
    let mut pages: Vec<String> = text.split('\x0c').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Text with runs of whitespace collapsed, so a line break inside a phrase does not matter, and
/// Typst's typographic apostrophe in the templates' own words ("Patient’s") made plain.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('\u{2019}', "'")
}

/// What Typst writes must pass `qpdf --check`. (poppler 22's `pdfinfo` prints "Suspects object
/// is wrong type" for Typst's valid `/MarkInfo << /Suspects false >>`; merged packages drop the
/// catalog, so they are held to `pdfinfo` too, in `assert_clean_package`.)
fn assert_qpdf_clean(pdf: &[u8]) {
    let (ok, out, err) = tool("qpdf", &["--check"], pdf);
    assert!(ok && !out.contains("WARNING") && err.trim().is_empty(), "qpdf --check: {out} {err}");
}

fn assert_clean_package(pdf: &[u8]) {
    assert_qpdf_clean(pdf);
    let (ok, _, err) = tool("pdfinfo", &[], pdf);
    assert!(ok && err.trim().is_empty(), "pdfinfo complains: {err}");
}

/// A template directory holding only `files`; the rest falls back to the built-in ones.
fn template_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The project's own stand-in for a signed HIPAA authorization: two pages typeset by Typst
/// through a template override (so no binary fixture is shipped).
fn authorization_pdf() -> Vec<u8> {
    let form = r#"
#let d = json("/data.json")
#set page(paper: "us-letter", margin: 1in)
#set text(font: "Libertinus Serif", size: 11pt)
#align(center, text(size: 16pt, weight: "bold")[HIPAA AUTHORIZATION FOR RELEASE OF PROTECTED HEALTH INFORMATION])
#v(1em)
Patient: #d.patient.name #h(2em) Date of birth: #d.patient.dob

I authorize any health care provider to release my complete medical and billing records to
#d.firm.name. This authorization expires one year from the date signed.
#pagebreak()
Signature of patient: #box(width: 14em, line(length: 100%)) #h(1em) Date: #box(width: 8em, line(length: 100%))

/s/ Maria Q. Sample
"#;
    let dir = template_dir(&[("certification.typ", form)]);
    let templates = Templates::from_dir(dir.path()).unwrap();
    letters::render_certification(&templates, &letter("KY")).unwrap()
}

/// A one-page PDF shaped like a scanner's output: page attributes inherited from the page tree,
/// an outline, an AcroForm and document metadata in the catalog — all of which merging drops.
fn scanner_like_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(b"Type1".to_vec())),
        ("BaseFont", Object::Name(b"Helvetica".to_vec())),
    ]));
    let resources = doc.add_object(Dictionary::from_iter([(
        "Font",
        Object::Dictionary(Dictionary::from_iter([("F1", Object::Reference(font))])),
    )]));
    let content = doc.add_object(Stream::new(
        Dictionary::new(),
        b"BT /F1 14 Tf 72 700 Td (SCANNED AUTHORIZATION PAGE) Tj ET".to_vec(),
    ));
    let page = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Page".to_vec())),
        ("Parent", Object::Reference(pages_id)),
        ("Contents", Object::Reference(content)),
    ]));
    doc.objects.insert(
        pages_id,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::Name(b"Pages".to_vec())),
            ("Kids", Object::Array(vec![Object::Reference(page)])),
            ("Count", Object::Integer(1)),
            ("MediaBox", Object::Array(vec![0.into(), 0.into(), 612.into(), 792.into()])),
            ("Resources", Object::Reference(resources)),
        ])),
    );
    let outlines = doc.add_object(Dictionary::from_iter([("Type", Object::Name(b"Outlines".to_vec()))]));
    let acroform = doc.add_object(Dictionary::from_iter([("Fields", Object::Array(vec![]))]));
    let catalog = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Catalog".to_vec())),
        ("Pages", Object::Reference(pages_id)),
        ("Outlines", Object::Reference(outlines)),
        ("AcroForm", Object::Reference(acroform)),
        ("PageMode", Object::Name(b"UseOutlines".to_vec())),
    ]));
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// `qpdf` rewrites of a PDF: object streams, linearized, encrypted.
fn qpdf(pdf: &[u8], args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    fs::write(&input, pdf).unwrap();
    let status = Command::new("qpdf").args(args).arg(&input).arg(&output).status().expect("qpdf installed");
    assert!(status.success() || status.code() == Some(3), "qpdf {args:?}");
    fs::read(output).unwrap()
}

#[test]
fn kentucky_letter_quotes_krs_422_317_and_everything_the_sop_asks_for() {
    let pdf = letters::render_letter(&Templates::builtin(), &letter("KY")).unwrap();
    assert_qpdf_clean(&pdf);
    assert_eq!(letters::inspect_pdf(&pdf).unwrap().pages, 1, "the SOP letter fits one page");
    let text = flat(&pages_text(&pdf).join("\n"));
    for expected in [
        "Maria Q. Sample",
        "MR-1001",
        "records@denhamlaw.example",
        "KRS 422.317",
        "first free copy",
        "Denham Property and Injury Law Firm",
        "$300.00",
        "Attn: Medical Records Department/ROI",
        "Via fax: (859) 555-0100",
        "Patient's DOB: 03/14/1985",
        "Patient's SSN: 123-45-6789",
        "Medical Records from 01/02/2025 to Present",
        "Radiology Records from 01/02/2025 to 06/30/2025",
        "Facility Treatment Received from:",
        "Dear Medical Records Custodian:",
        "This request includes, but is not limited to",
        "Any invoices greater than $300.00 require prior approval.",
        "Very Truly Yours,",
        "Paralegal to Chris Denham",
        "Enclosure(s):",
        "Medical Authorization",
        "Certification Page",
        "November 23, 2026",
    ] {
        assert!(text.contains(expected), "letter lacks {expected:?}:\n{text}");
    }
}

#[test]
fn the_reference_is_in_the_footer_of_every_page() {
    let pdf = letters::render_letter(&Templates::builtin(), &letter("KY")).unwrap();
    for (i, page) in pages_text(&pdf).iter().enumerate() {
        let footer = page.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        assert!(footer.contains("Ref. MR-1001"), "page {} footer: {footer:?}", i + 1);
    }
}

#[test]
fn ohio_letter_cites_ohio_law_and_never_krs() {
    let pdf = letters::render_letter(&Templates::builtin(), &letter("OH")).unwrap();
    let text = flat(&pages_text(&pdf).join("\n"));
    assert!(!text.contains("KRS"), "{text}");
    assert!(!text.contains("first free copy"), "{text}");
    assert!(text.contains("Ohio Rev. Code § 3701.741"), "{text}");
}

#[test]
fn a_state_without_a_statute_gets_the_hipaa_right_of_access_sentence() {
    let mut data = letter("WY");
    assert!(data.statute.is_none());
    data.channel = Channel::Email;
    let pdf = letters::render_letter(&Templates::builtin(), &data).unwrap();
    let text = flat(&pages_text(&pdf).join("\n"));
    // The template's fallback is the sentence the statute table documents.
    assert!(text.contains(&flat(medrec::core::statutes::NEUTRAL_LETTER_SENTENCE)), "{text}");
    assert!(text.contains("Via email: roi@bluegrass.example"), "{text}");
    assert!(!text.contains("KRS"));
}

#[test]
fn markup_characters_in_a_name_print_literally() {
    let mut data = letter("KY");
    data.patient.name = TRICKY_NAME.into();
    data.facility = TRICKY_NAME.into();
    let templates = Templates::builtin();
    let letter_text = flat(&pages_text(&letters::render_letter(&templates, &data).unwrap()).join("\n"));
    assert!(letter_text.contains(&format!("Patient's Name: {TRICKY_NAME}")), "{letter_text}");
    let cert_text = flat(&pages_text(&letters::render_certification(&templates, &data).unwrap()).join("\n"));
    assert!(cert_text.contains(TRICKY_NAME), "{cert_text}");
}

#[test]
fn the_package_is_letter_then_authorization_then_certification() {
    let templates = Templates::builtin();
    let data = letter("KY");
    let authorization = authorization_pdf();
    let letter_pages = letters::inspect_pdf(&letters::render_letter(&templates, &data).unwrap()).unwrap().pages;
    let cert_pages = letters::inspect_pdf(&letters::render_certification(&templates, &data).unwrap()).unwrap().pages;
    let auth_pages = letters::inspect_pdf(&authorization).unwrap().pages;
    assert_eq!(auth_pages, 2);

    let package = letters::build_package(&templates, &data, &authorization).unwrap();
    assert_eq!(package.pages, letter_pages + auth_pages + cert_pages);
    assert_clean_package(&package.pdf);
    let pages = pages_text(&package.pdf);
    assert_eq!(pages.len() as u32, package.pages);
    assert!(pages[0].contains("DENHAM PROPERTY AND INJURY LAW FIRM") && pages[0].contains("Dear Medical Records"));
    assert!(pages[letter_pages as usize].contains("HIPAA AUTHORIZATION"));
    assert!(pages[(letter_pages + 1) as usize].contains("Signature of patient"));
    assert!(pages.last().unwrap().contains("CERTIFICATION OF RECORDS CUSTODIAN"));
    // lopdf reads the merged text too (what classification will use).
    let text = letters::pdf_text(&package.pdf).unwrap();
    assert!(text.contains("MR-1001") && text.contains("HIPAA"), "{text}");
}

#[test]
fn scanner_like_and_rewritten_authorizations_merge_cleanly() {
    let templates = Templates::builtin();
    let data = letter("TN");
    let typst_auth = authorization_pdf();
    let letter_pages =
        letters::inspect_pdf(&letters::render_letter(&templates, &data).unwrap()).unwrap().pages as usize;
    let variants = [
        ("scanner-like", scanner_like_pdf()),
        ("object streams", qpdf(&typst_auth, &["--object-streams=generate"])),
        ("linearized", qpdf(&typst_auth, &["--linearize"])),
        ("owner password only", qpdf(&typst_auth, &["--encrypt", "", "owner", "256", "--"])),
    ];
    for (what, auth) in variants {
        let expected = letters::inspect_pdf(&auth).unwrap_or_else(|p| panic!("{what}: {p}")).pages;
        let package = letters::build_package(&templates, &data, &auth).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_clean_package(&package.pdf);
        let pages = pages_text(&package.pdf);
        assert_eq!(pages.len() as u32, package.pages, "{what}");
        let auth_text = pages[letter_pages..letter_pages + expected as usize].join("\n");
        assert!(auth_text.contains("AUTHORIZATION"), "{what}: {auth_text}");
        let info = tool("pdfinfo", &[], &package.pdf).1;
        assert!(!info.contains("Encrypted: yes"), "{what}");
    }
}

#[test]
fn inspect_pdf_tells_the_problems_apart() {
    let good = authorization_pdf();
    assert_eq!(letters::inspect_pdf(&good).unwrap().pages, 2);
    assert_eq!(letters::inspect_pdf(b"Dear Sir, please find attached"), Err(PdfProblem::NotPdf));
    assert_eq!(letters::inspect_pdf(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Err(PdfProblem::NotPdf));
    let truncated = &good[..good.len() / 3];
    assert!(
        matches!(letters::inspect_pdf(truncated), Err(PdfProblem::DoesNotOpen(_) | PdfProblem::NoPages)),
        "{:?}",
        letters::inspect_pdf(truncated)
    );
    let locked = qpdf(&good, &["--encrypt", "user-secret", "owner-secret", "256", "--"]);
    assert_eq!(letters::inspect_pdf(&locked), Err(PdfProblem::Encrypted));
    let err = letters::build_package(&Templates::builtin(), &letter("KY"), &locked).unwrap_err();
    assert!(err.to_string().contains("password"), "{err}");
    for seed in 0..50u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut bytes: Vec<u8> = (0..rng.usize(0..4096)).map(|_| rng.u8(..)).collect();
        let _ = letters::inspect_pdf(&bytes);
        bytes.splice(0..0, b"%PDF-1.7\n".iter().copied());
        let _ = letters::inspect_pdf(&bytes);
    }
}

#[test]
fn an_edited_template_directory_changes_the_output() {
    let edited = letters_builtin_certification()
        .replace("CERTIFICATION OF RECORDS CUSTODIAN", "AFFIDAVIT OF CUSTODIAN OF RECORDS");
    let dir = template_dir(&[("certification.typ", &edited)]);
    let templates = Templates::from_dir(dir.path()).unwrap();
    let text = flat(&pages_text(&letters::render_certification(&templates, &letter("KY")).unwrap()).join("\n"));
    assert!(text.contains("AFFIDAVIT OF CUSTODIAN OF RECORDS"), "{text}");
    // The letter still comes from the built-in template.
    let text = flat(&pages_text(&letters::render_letter(&templates, &letter("KY")).unwrap()).join("\n"));
    assert!(text.contains("Dear Medical Records Custodian:"));
}

#[test]
fn a_broken_template_is_an_error_naming_it() {
    let dir = template_dir(&[("certification.typ", "#let d = json(\"/data.json\")\n#d.patient.nonexistent_field\n")]);
    let templates = Templates::from_dir(dir.path()).unwrap();
    let err = letters::render_certification(&templates, &letter("KY")).unwrap_err();
    let LetterError::Template { name, message } = &err else { panic!("{err:?}") };
    assert_eq!(name, "certification.typ");
    assert!(message.contains("certification.typ:2:"), "{message}");
    assert!(err.to_string().starts_with("template certification.typ: "), "{err}");

    let dir = template_dir(&[("letterhead.typ", "#let letterhead(firm) = [unclosed\n")]);
    let templates = Templates::from_dir(dir.path()).unwrap();
    let err = letters::render_letter(&templates, &letter("KY")).unwrap_err();
    assert!(err.to_string().contains("letterhead.typ:"), "{err}");
}

#[test]
fn a_missing_template_directory_is_an_error_not_a_silent_fallback() {
    let err = Templates::from_dir(Path::new("/nonexistent/medrec-templates")).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
    assert!(letters::merge(&[]).is_err());
}

#[test]
fn a_letter_by_fax_needs_a_fax_number() {
    let mut data = letter("KY");
    data.provider.fax = None;
    let err = letters::render_letter(&Templates::builtin(), &data).unwrap_err();
    assert!(matches!(err, LetterError::Data(_)), "{err:?}");
    assert!(err.to_string().contains("no fax"), "{err}");
}

#[test]
fn the_fax_cover_counts_pages_and_warns_about_phi() {
    let pdf = letters::render_cover(&Templates::builtin(), &cover(7)).unwrap();
    assert_qpdf_clean(&pdf);
    let text = flat(&pages_text(&pdf).join("\n"));
    for expected in [
        "FAX",
        "(859) 555-0100",
        "7 (including this cover)",
        "MR-1001",
        "CONFIDENTIALITY NOTICE",
        "protected health information",
    ] {
        assert!(text.contains(expected), "cover lacks {expected:?}: {text}");
    }
}

#[test]
fn the_same_letter_renders_to_the_same_bytes() {
    let templates = Templates::builtin();
    let first = letters::render_letter(&templates, &letter("KY")).unwrap();
    assert_eq!(first, letters::render_letter(&templates, &letter("KY")).unwrap());
    assert_ne!(first, letters::render_letter(&templates, &letter("OH")).unwrap());
}

#[test]
fn patient_debug_output_hides_the_patient() {
    let shown = format!("{:?}", letter("KY"));
    assert!(!shown.contains("123-45-6789") && !shown.contains("Maria"), "{shown}");
}

/// Renders each template to PNG under /tmp/medrec-letters for a person to look at:
/// `cargo test --test letters -- --ignored --nocapture`.
#[test]
#[ignore = "writes PNGs for a visual check"]
fn render_pngs_for_review() {
    let out = Path::new("/tmp/medrec-letters");
    fs::create_dir_all(out).unwrap();
    let templates = Templates::builtin();
    let mut data = letter("KY");
    data.patient.name = TRICKY_NAME.into();
    let package = letters::build_package(&templates, &data, &authorization_pdf()).unwrap();
    let docs = [
        ("letter", letters::render_letter(&templates, &data).unwrap()),
        ("certification", letters::render_certification(&templates, &data).unwrap()),
        ("cover", letters::render_cover(&templates, &cover(package.pages + 1)).unwrap()),
        ("package", package.pdf),
    ];
    for (name, pdf) in docs {
        let path = out.join(format!("{name}.pdf"));
        fs::write(&path, &pdf).unwrap();
        let status =
            Command::new("pdftoppm").args(["-r", "60", "-png"]).arg(&path).arg(out.join(name)).status().unwrap();
        assert!(status.success());
        println!("{}", path.display());
    }
}

fn letters_builtin_certification() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/certification.typ")).unwrap()
}

fn notice(title: &str, paragraphs: &[&str]) -> letters::NoticeData {
    let request = letter("KY");
    letters::NoticeData {
        firm: request.firm,
        staff: request.staff,
        date: "November 23, 2026".into(),
        reference: "MR-1042".into(),
        reply_to: request.reply_to,
        provider: request.provider,
        patient_name: "Maria Q. Sample".into(),
        patient_dob: "03/14/1985".into(),
        title: title.into(),
        paragraphs: paragraphs.iter().map(|&p| p.to_owned()).collect(),
    }
}

/// The three kinds of notice the bot sends, with the words it sends them with.
fn notices() -> [letters::NoticeData; 3] {
    [
        notice(
            "Request withdrawn",
            &[
                "Please withdraw our request of October 1, 2026 for this patient's records: we no longer need them, \
                 and no further work or charges should be made on it.",
                "If you have already prepared records or an invoice, please let us know.",
            ],
        ),
        notice(
            "Follow-up: records request of October 1, 2026",
            &[
                "We sent our request for this patient's records on October 1, 2026, reference MR-1042, and have \
                 not heard from you since.",
                "Please confirm receipt and tell us when we can expect the records, or what else you need from us.",
            ],
        ),
        notice(
            "Request resent",
            &["Enclosed again is our request of October 1, 2026, with the signed authorization and certification \
               page, in case the first copy did not reach you."],
        ),
    ]
}

#[test]
fn each_kind_of_notice_is_one_page_with_the_reference_patient_title_and_every_paragraph() {
    let templates = Templates::builtin();
    for data in notices() {
        let pdf = letters::render_notice(&templates, &data).unwrap();
        assert_qpdf_clean(&pdf);
        assert_eq!(letters::inspect_pdf(&pdf).unwrap().pages, 1, "{}", data.title);
        let page = pages_text(&pdf).concat();
        let text = flat(&page);
        let expected = [
            "DENHAM PROPERTY AND INJURY LAW FIRM",
            "November 23, 2026",
            "Attn: Medical Records Department/ROI",
            "Bluegrass Regional Medical Center",
            "Lexington, KY 40536",
            "Via fax: (859) 555-0100",
            "Patient's Name: Maria Q. Sample",
            "Patient's DOB: 03/14/1985",
            "Our Reference: MR-1042",
            &data.title,
            "Please reply to records@denhamlaw.example and quote our reference MR-1042",
            "Jamie Rivera",
            "Paralegal, Denham Property and Injury Law Firm",
            "Direct: 859-900-2281",
            "jamie@denhamlaw.example",
        ];
        for expected in expected.iter().copied().chain(data.paragraphs.iter().map(String::as_str)) {
            assert!(text.contains(&flat(expected)), "{} lacks {expected:?}:\n{text}", data.title);
        }
        let footer = page.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        assert!(footer.contains("Ref. MR-1042"), "footer: {footer:?}");
    }
}

#[test]
fn markup_characters_in_a_notice_print_literally() {
    let hostile = "O'Brien #2 * _x_ $y$ <b>";
    let mut data = notice(hostile, &[hostile, &format!("Second: {TRICKY_NAME}")]);
    data.patient_name = TRICKY_NAME.into();
    data.provider.name = hostile.into();
    let text = flat(&pages_text(&letters::render_notice(&Templates::builtin(), &data).unwrap()).join("\n"));
    assert!(text.contains(&format!("Patient's Name: {TRICKY_NAME}")), "{text}");
    assert!(text.contains(&format!("Second: {TRICKY_NAME}")), "{text}");
    // The provider's name, the title and the first paragraph.
    assert_eq!(text.matches(hostile).count(), 3, "{text}");
}

#[test]
fn a_notice_to_a_provider_without_fax_says_via_email() {
    let mut data = notices()[1].clone();
    data.provider.fax = None;
    let text = flat(&pages_text(&letters::render_notice(&Templates::builtin(), &data).unwrap()).join("\n"));
    assert!(text.contains("Via email: roi@bluegrass.example"), "{text}");
    assert!(!text.contains("Via fax"), "{text}");
}

#[test]
fn a_notice_without_paragraphs_is_a_data_error() {
    let templates = Templates::builtin();
    let err = letters::render_notice(&templates, &notice("Request withdrawn", &[])).unwrap_err();
    assert!(matches!(err, LetterError::Data(_)), "{err:?}");
    assert!(err.to_string().contains("no paragraphs"), "{err}");
    let err =
        letters::render_notice(&templates, &notice("Request withdrawn", &["Please withdraw it.", "  "])).unwrap_err();
    assert!(matches!(err, LetterError::Data(_)), "{err:?}");
    assert!(err.to_string().contains("paragraph 2"), "{err}");
}

#[test]
fn a_template_directory_without_notice_typ_falls_back_to_the_built_in_notice() {
    let edited = letters_builtin_certification()
        .replace("CERTIFICATION OF RECORDS CUSTODIAN", "AFFIDAVIT OF CUSTODIAN OF RECORDS");
    let dir = template_dir(&[("certification.typ", &edited)]);
    let templates = Templates::from_dir(dir.path()).unwrap();
    let text = flat(&pages_text(&letters::render_notice(&templates, &notices()[0]).unwrap()).join("\n"));
    assert!(text.contains("Request withdrawn") && text.contains("MR-1042"), "{text}");
    let text = flat(&pages_text(&letters::render_certification(&templates, &letter("KY")).unwrap()).join("\n"));
    assert!(text.contains("AFFIDAVIT OF CUSTODIAN OF RECORDS"), "{text}");

    // And a notice.typ there replaces the built-in one.
    let dir = template_dir(&[(letters::NOTICE, "#let d = json(\"/data.json\")\nEDITED NOTICE #d.reference\n")]);
    let templates = Templates::from_dir(dir.path()).unwrap();
    let text = flat(&pages_text(&letters::render_notice(&templates, &notices()[0]).unwrap()).join("\n"));
    assert!(text.contains("EDITED NOTICE MR-1042"), "{text}");
}

#[test]
fn notice_debug_output_hides_the_patient() {
    let mut data = notices()[1].clone();
    data.title = "Follow-up for Maria".into();
    let shown = format!("{data:?}");
    assert!(!shown.contains("Maria") && !shown.contains("03/14/1985"), "{shown}");
    assert!(shown.contains("MR-1042"), "{shown}");
}
