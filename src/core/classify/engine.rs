//! The engine: delivery reports first, then every vocabulary phrase found in every part of the
//! message adds its weight (times the part's weight) to its kind or deficiency reason; the best
//! kind above the threshold wins. Every step leaves a reason behind.

use super::evidence::{self, Evidence, Zone};
use super::invoice;
use super::vocabulary::{Signal, Vocabulary};
use super::{Classification, Deficiency, Kind};
use crate::core::automatic::{self, Automatic};
use crate::core::bounce::{self, Delivery};
use crate::core::inbound::InboundMail;
use crate::core::money::format_cents;
use crate::core::reference::{self, Reference};

/// Phrase hits listed in the reasons, per kind.
const REASON_HITS: usize = 4;

/// One phrase that counted.
#[derive(Debug, Clone)]
struct Hit {
    phrase: String,
    part: String,
    weight: f64,
}

/// Scores per kind and per deficiency reason, with the hits behind them.
#[derive(Debug, Default)]
struct Scores {
    kinds: [f64; 9],
    reasons: [f64; 8],
    kind_hits: [Vec<Hit>; 9],
    reason_hits: [Vec<Hit>; 8],
}

pub fn classify(mail: &InboundMail, v: &Vocabulary, pdf_text: &dyn Fn(&[u8]) -> Option<String>) -> Classification {
    if !mail.parsed {
        return Classification {
            kind: Kind::Other,
            deficiency: None,
            amount_cents: None,
            reference: None,
            confidence: 0.2,
            reasons: vec!["the message could not be parsed".into()],
        };
    }
    let ev = evidence::gather(mail, v, pdf_text);
    let reference = find_reference(&ev);
    let mut reasons = Vec::new();
    if let Some((r, from)) = &reference {
        reasons.push(format!("reference {r} found in the {from}"));
    }
    let reference = reference.map(|(r, _)| r);
    if let Some(c) = delivery_report(mail, &ev, reference, &mut reasons) {
        return c;
    }
    let automatic = automatic::detect(mail);
    if let Some(Automatic::Report(t)) = &automatic
        && t != "disposition-notification"
    {
        reasons.push(format!("a machine-generated report (multipart/report; report-type={t}), not a reply"));
        return done(Kind::Other, None, None, reference, 0.9, reasons);
    }
    let mut s = score(&ev, v);
    if let Some(a) = &automatic {
        s.kinds[Kind::AutoReply.index()] += v.decision.automatic_header;
        s.kind_hits[Kind::AutoReply.index()].insert(
            0,
            Hit {
                phrase: format!("sent automatically ({a})"),
                part: "headers".into(),
                weight: v.decision.automatic_header,
            },
        );
    }
    features(&ev, v, &mut s);
    let amount = amount(&ev, v);
    if let Some(found) = amount.as_ref().filter(|f| f.rank >= 3.0 && f.cents > 0) {
        let w = if found.rank >= 4.5 { v.features.amount_labeled } else { v.features.amount_plain };
        s.kinds[Kind::Invoice.index()] += w;
        s.kind_hits[Kind::Invoice.index()].push(Hit {
            phrase: format!("amount {}", format_cents(found.cents)),
            part: "text".into(),
            weight: w,
        });
    }
    let (best_reason, reason_score) = best_reason(&s);
    let deficiency_base = s.kinds[Kind::Deficiency.index()];
    if reason_score > 0.0 && (deficiency_base > 0.0 || reason_score >= 4.0) {
        let w = v.decision.reason_share * reason_score.min(v.decision.reason_cap);
        s.kinds[Kind::Deficiency.index()] += w;
        s.kind_hits[Kind::Deficiency.index()].push(Hit {
            phrase: format!("reason {best_reason}"),
            part: "text".into(),
            weight: w,
        });
    }
    decide(s, v, amount, best_reason, reference, reasons, &ev)
}

fn done(
    kind: Kind,
    deficiency: Option<Deficiency>,
    amount_cents: Option<i64>,
    reference: Option<Reference>,
    confidence: f64,
    reasons: Vec<String>,
) -> Classification {
    Classification { kind, deficiency, amount_cents, reference, confidence: confidence.clamp(0.0, 1.0), reasons }
}

/// A delivery report: a final failure is a bounce, a delay an auto-reply.
fn delivery_report(
    mail: &InboundMail,
    ev: &Evidence,
    reference: Option<Reference>,
    reasons: &mut Vec<String>,
) -> Option<Classification> {
    let report = bounce::read(mail, &ev.report_text)?;
    let who = if report.recipients.is_empty() { "a recipient".to_string() } else { report.recipients.join(", ") };
    let why = report.diagnostic.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    match report.delivery {
        Delivery::Failed => {
            reasons.insert(0, format!("delivery to {who} failed{why}"));
            if !report.recipients.is_empty() {
                reasons.push(format!("failed recipient: {}", report.recipients.join(", ")));
            }
            let confidence = if report.recipients.is_empty() { 0.85 } else { 0.97 };
            Some(done(Kind::Bounce, None, None, reference, confidence, std::mem::take(reasons)))
        }
        Delivery::Delayed => {
            reasons.insert(0, format!("delivery to {who} is delayed, still being retried (not a bounce){why}"));
            Some(done(Kind::AutoReply, None, None, reference, 0.9, std::mem::take(reasons)))
        }
    }
}

/// Adds every phrase hit in every part.
fn score(ev: &Evidence, v: &Vocabulary) -> Scores {
    let mut s = Scores::default();
    for part in &ev.parts {
        let (matcher, zone_weight) = match part.zone {
            Zone::Subject => (&v.text, v.zones.subject),
            Zone::NewText => (&v.text, v.zones.new_text),
            Zone::Forwarded => (&v.text, v.zones.forwarded),
            Zone::Attachment => (&v.text, v.zones.attachment),
            Zone::Filename => (&v.filenames, v.zones.filename),
        };
        let mut seen = Vec::new();
        for h in matcher.find(&part.words) {
            if seen.contains(&h.phrase) {
                continue;
            }
            seen.push(h.phrase);
            for signal in matcher.payload(h.phrase) {
                let hit = |w: f64| Hit {
                    phrase: matcher.source(h.phrase).to_string(),
                    part: part.label.clone(),
                    weight: w * zone_weight,
                };
                match *signal {
                    Signal::Kind(k, w) => {
                        s.kinds[k.index()] += w * zone_weight;
                        s.kind_hits[k.index()].push(hit(w));
                    }
                    Signal::Reason(r, w) if part.zone != Zone::Subject => {
                        s.reasons[r.index()] += w * zone_weight;
                        s.reason_hits[r.index()].push(hit(w));
                    }
                    _ => {}
                }
            }
        }
    }
    s
}

/// Signals that are not phrases: attachments and their size.
fn features(ev: &Evidence, v: &Vocabulary, s: &mut Scores) {
    let f = &v.features;
    let records = Kind::Records.index();
    if ev.attachments > 0 {
        s.kinds[records] += f.attachment_present;
        let what = if ev.attachments == 1 {
            "1 document attached".to_string()
        } else {
            format!("{} documents attached", ev.attachments)
        };
        s.kind_hits[records].push(Hit { phrase: what, part: "attachments".into(), weight: f.attachment_present });
    }
    if ev.max_pages >= f.many_pages {
        s.kinds[records] += f.many_pages_records;
        s.kind_hits[records].push(Hit {
            phrase: format!("a {}-page PDF", ev.max_pages),
            part: "attachments".into(),
            weight: f.many_pages_records,
        });
    }
}

fn amount(ev: &Evidence, v: &Vocabulary) -> Option<invoice::Found> {
    // Reading order (subject, new text, forwarded, attachments): a later amount wins ties.
    let parts: Vec<(&str, &str)> =
        ev.parts.iter().filter(|p| p.zone != Zone::Filename).map(|p| (p.label.as_str(), p.text.as_str())).collect();
    invoice::read(&parts, v)
}

fn best_reason(s: &Scores) -> (Deficiency, f64) {
    Deficiency::ALL
        .iter()
        .filter(|r| **r != Deficiency::Other)
        .map(|r| (*r, s.reasons[r.index()]))
        .fold((Deficiency::Other, 0.0), |best, cur| if cur.1 > best.1 { cur } else { best })
}

/// Picks the kind and writes the reasons.
fn decide(
    s: Scores,
    v: &Vocabulary,
    amount: Option<invoice::Found>,
    reason: Deficiency,
    reference: Option<Reference>,
    mut reasons: Vec<String>,
    ev: &Evidence,
) -> Classification {
    let mut ranked: Vec<(Kind, f64)> = Kind::ALL
        .iter()
        .filter(|k| !matches!(k, Kind::Bounce | Kind::Other))
        .map(|k| (*k, s.kinds[k.index()]))
        .collect();
    // Stable sort: on equal scores the order of `Kind::ALL` decides.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (top, top_score) = ranked[0];
    let runner_up = ranked[1];
    let kind = if top_score >= v.decision.min_score { top } else { Kind::Other };
    if kind == Kind::Other {
        reasons.insert(
            0,
            if top_score > 0.0 {
                format!("no kind scored {} or more (best: {top} {top_score:.1})", v.decision.min_score)
            } else {
                "nothing in the message says what it is".to_string()
            },
        );
    } else {
        reasons.insert(0, format!("{kind}: score {top_score:.1} ({})", explain(&s.kind_hits[kind.index()])));
        if runner_up.1 > 0.0 {
            reasons.push(format!("runner-up {}: score {:.1}", runner_up.0, runner_up.1));
        }
    }
    let deficiency = (kind == Kind::Deficiency).then(|| {
        if reason != Deficiency::Other && s.reasons[reason.index()] >= 1.5 {
            reasons.push(format!(
                "reason {reason}: score {:.1} ({})",
                s.reasons[reason.index()],
                explain(&s.reason_hits[reason.index()])
            ));
            reason
        } else {
            reasons.push("reason other: no known reason named".into());
            Deficiency::Other
        }
    });
    let amount_cents = match (&amount, kind) {
        (Some(found), Kind::Invoice) => {
            reasons.push(format!("amount due {}: {}", format_cents(found.cents), found.why));
            Some(found.cents)
        }
        (None, Kind::Invoice) => {
            reasons.push("no amount due found".into());
            None
        }
        _ => None,
    };
    reasons.extend(ev.notes.iter().cloned());
    let confidence = confidence(kind, top_score, runner_up.1, v);
    done(kind, deficiency, amount_cents, reference, confidence, reasons)
}

/// High when the winner scored well and far ahead of the runner-up.
fn confidence(kind: Kind, top: f64, second: f64, v: &Vocabulary) -> f64 {
    if kind == Kind::Other {
        // Nothing scored: fairly sure it is nothing we know; something almost scored: unsure.
        return (0.7 - 0.15 * top).clamp(0.3, 0.7);
    }
    let strength = 1.0 - (-(top - v.decision.min_score / 2.0).max(0.0) / 3.0).exp();
    let margin = ((top - second) / top.max(1.0)).clamp(0.0, 1.0);
    (0.3 + 0.69 * strength * margin.sqrt()).clamp(0.05, 0.99)
}

fn explain(hits: &[Hit]) -> String {
    let mut sorted: Vec<&Hit> = hits.iter().filter(|h| h.weight != 0.0).collect();
    sorted.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
    let mut out: Vec<String> =
        sorted.iter().take(REASON_HITS).map(|h| format!("\"{}\" in {} {:+.1}", h.phrase, h.part, h.weight)).collect();
    if sorted.len() > REASON_HITS {
        out.push(format!("{} more", sorted.len() - REASON_HITS));
    }
    out.join("; ")
}

/// The first `MR-n` in the subject, the new text, a forwarded message, attachment text, then a
/// returned message (bounces carry our original).
fn find_reference(ev: &Evidence) -> Option<(Reference, String)> {
    let order = [Zone::Subject, Zone::NewText, Zone::Forwarded, Zone::Attachment];
    for zone in order {
        for p in ev.parts.iter().filter(|p| p.zone == zone) {
            if let Some(r) = reference::find_in(&p.text) {
                return Some((r, p.label.clone()));
            }
        }
    }
    if let Some(r) = reference::find_in(&ev.returned_text) {
        return Some((r, "returned message".to_string()));
    }
    // HTML flattened without its breaks glues words: "Your referenceMR-1290".
    ev.parts
        .iter()
        .filter(|p| p.zone != Zone::Filename)
        .find_map(|p| glued_reference(&p.text).map(|r| (r, p.label.clone())))
}

/// An upper-case `MR-<digits>` right after a lower-case letter.
fn glued_reference(text: &str) -> Option<Reference> {
    text.match_indices("MR-").find_map(|(at, _)| {
        let before = text[..at].chars().next_back()?;
        if !before.is_lowercase() {
            return None;
        }
        reference::find_in(&text[at..])
    })
}
