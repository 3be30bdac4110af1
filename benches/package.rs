//! Rendering and merging request packages: `cargo bench --bench package` (release).
//!
//! Renders 20 packages (letter + certification typeset by Typst) and merges each with a
//! two-page authorization, printing the median, min and max milliseconds of each step. The
//! first render loads fonts and the standard library and is reported on its own.

use std::time::Instant;

use medrec::letters::{
    self, Channel, LetterData, Letterhead, Patient, Provider, RecordRange, Staff, StatuteText, Templates,
};

mod support;
use support::{ms, report};

const RUNS: usize = 20;

fn data(n: usize) -> LetterData {
    LetterData {
        firm: Letterhead {
            name: "Denham Property and Injury Law Firm".into(),
            street: "250 W. Main St. Suite 120".into(),
            city: "Lexington".into(),
            state: "KY".into(),
            zip: "40507".into(),
            phone: "859-900-2278".into(),
            website: Some("www.Denham.Law".into()),
            fax: None,
        },
        staff: Staff {
            name: "Jamie Rivera".into(),
            email: "jamie@denhamlaw.example".into(),
            direct_line: "859-900-2281".into(),
            title: "Paralegal".into(),
        },
        attorney: "Chris Denham".into(),
        date: "November 23, 2026".into(),
        reference: format!("MR-{}", 1000 + n),
        reply_to: "records@denhamlaw.example".into(),
        provider: Provider {
            name: "Bluegrass Regional Medical Center".into(),
            department: None,
            street: "1000 S. Limestone".into(),
            city: "Lexington".into(),
            state: "KY".into(),
            zip: "40536".into(),
            fax: Some("(859) 555-0100".into()),
            email: None,
        },
        channel: Channel::Fax,
        patient: Patient {
            name: format!("Patient Number {n}"),
            address_lines: vec!["12 Elm Street".into(), "Frankfort, KY 40601".into()],
            dob: "03/14/1985".into(),
            ssn: "123-45-6789".into(),
        },
        records: vec![RecordRange { label: "Medical Records".into(), from: "01/02/2025".into(), to: "Present".into() }],
        facility: "Bluegrass Regional Medical Center".into(),
        approval_limit: "$300.00".into(),
        statute: StatuteText::for_state("KY"),
    }
}

fn main() {
    let templates = Templates::builtin();
    let start = Instant::now();
    letters::warm_up();
    let authorization = letters::render_certification(&templates, &data(0)).expect("authorization stand-in");
    println!("first render (fonts, library) {:.2} ms", ms(start));
    let two_page_authorization = letters::merge(&[&authorization, &authorization]).expect("merge");

    let (mut render, mut merge) = (Vec::new(), Vec::new());
    for n in 1..=RUNS {
        let d = data(n);
        let start = Instant::now();
        let letter = letters::render_letter(&templates, &d).expect("letter");
        let certification = letters::render_certification(&templates, &d).expect("certification");
        render.push(ms(start));
        let start = Instant::now();
        let pdf = letters::merge(&[&letter, &two_page_authorization, &certification]).expect("merge");
        merge.push(ms(start));
        assert!(pdf.starts_with(b"%PDF-"));
    }
    report("render", render);
    report("merge", merge);
}
