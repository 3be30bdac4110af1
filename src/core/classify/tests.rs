//! Unit tests of the whole classifier on small hand-made messages. The labelled `.eml`
//! fixtures and the real corpora are in `tests/classify.rs`.

use super::*;

fn mail(subject: &str, text: &str) -> InboundMail {
    InboundMail {
        parsed: true,
        from: Some("roi@provider.example".into()),
        subject: subject.into(),
        content_type: "text/plain".into(),
        text: text.into(),
        ..InboundMail::default()
    }
}

fn no_pdf(_: &[u8]) -> Option<String> {
    None
}

fn kind(subject: &str, text: &str) -> Kind {
    classify_with(&mail(subject, text), &no_pdf).kind
}

#[test]
fn the_kinds_in_their_plainest_words() {
    assert_eq!(kind("Re: [MR-7] Medical records request", "The requested records are attached."), Kind::Records);
    assert_eq!(kind("Invoice", "Attached is our invoice. Balance due: $45.00"), Kind::Invoice);
    assert_eq!(
        kind("Re: request", "We are unable to process your request: the authorization is not signed."),
        Kind::Deficiency
    );
    assert_eq!(kind("Re: request", "We have no records for this patient."), Kind::NoRecords);
    assert_eq!(kind("Re: request", "We have received your request and it is being processed."), Kind::Acknowledgment);
    assert_eq!(
        kind("Re: request", "We do not handle release of information. Please send your request to ROI Partners."),
        Kind::Redirect
    );
    assert_eq!(kind("Out of Office", "I am out of the office until Monday."), Kind::AutoReply);
    assert_eq!(kind("Lunch", "See you at noon."), Kind::Other);
}

#[test]
fn the_result_carries_amount_reason_and_reference() {
    let c =
        classify_with(&mail("Re: [MR-1042] Medical records request", "Invoice attached. Total due: $312.50"), &no_pdf);
    assert_eq!((c.kind, c.amount_cents, c.reference), (Kind::Invoice, Some(31_250), Some(Reference(1042))));
    assert!(c.confidence > 0.5 && c.confidence <= 1.0);
    let c = classify_with(&mail("x", "We cannot process the request. The authorization has expired."), &no_pdf);
    assert_eq!(
        (c.kind, c.deficiency, c.amount_cents),
        (Kind::Deficiency, Some(Deficiency::AuthorizationExpired), None)
    );
    assert!(c.reasons.iter().any(|r| r.contains("expired")), "{:?}", c.reasons);
}

#[test]
fn our_quoted_letter_does_not_decide() {
    let text = "Thank you, we received it.\n\nOn Mon, Mar 2, 2026 at 9:00 AM Records <records@denhamlaw.example> wrote:\n> Dear Medical Records Custodian,\n> If there is a cost associated with same, we ask that you promptly send an invoice.\n> Any invoices greater than $300.00 require prior approval.\n";
    let c = classify_with(&mail("Re: [MR-3] Medical records request", text), &no_pdf);
    assert_eq!(c.kind, Kind::Acknowledgment, "{:?}", c.reasons);
    assert_eq!(c.amount_cents, None);
}

#[test]
fn serializes_to_the_contract_words() {
    let c =
        classify_with(&mail("Re: [MR-3] x", "We cannot process this. Please use our own authorization form."), &no_pdf);
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["kind"], "deficiency");
    assert_eq!(json["deficiency"], "facility_form");
    assert_eq!(json["reference"], "MR-3");
    assert!(json["amount_cents"].is_null());
    for k in Kind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
    }
    for d in Deficiency::ALL {
        assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
    }
}

#[test]
fn an_unparsed_message_is_other() {
    let c = classify_with(&InboundMail::default(), &no_pdf);
    assert_eq!(c.kind, Kind::Other);
}

#[test]
fn random_text_never_panics() {
    let mut rng = fastrand::Rng::with_seed(7);
    let alphabet: Vec<char> = "abc $.,0123456789\n>:-_<>/&;#éß€\u{a0}".chars().collect();
    for _ in 0..500 {
        let len = rng.usize(0..400);
        let text: String = (0..len).map(|_| alphabet[rng.usize(0..alphabet.len())]).collect();
        let _ = classify_with(
            &mail(&text[..text.len().min(20).min(text.char_indices().nth(10).map_or(text.len(), |c| c.0))], &text),
            &no_pdf,
        );
    }
}
