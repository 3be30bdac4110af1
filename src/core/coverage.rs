//! Which of the requested record types a provider's records reply covers: received, coming by
//! mail (films or CDs), or still missing.
//!
//! A type the reply names as enclosed is received; one it says will follow, is pending or is not
//! included is missing (radiology films, images or discs "by mail" are awaiting media). A reply
//! that names no type ("the requested records are attached") covers everything asked for; one
//! that names some types as enclosed leaves the unnamed ones missing, so the next follow-up asks
//! for exactly those. "No radiology on file" is read as missing: staff decide what it means.

use super::new_request::RecordType;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coverage {
    pub received: Vec<RecordType>,
    pub awaiting_media: Vec<RecordType>,
    pub missing: Vec<RecordType>,
}

impl Coverage {
    /// Nothing missing and nothing awaited by mail.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.awaiting_media.is_empty()
    }

    /// "radiology (films or CD by mail)", "billing and radiology": the gaps in words, for staff.
    pub fn gaps_in_words(&self) -> String {
        let mut parts: Vec<String> = self.missing.iter().map(|t| t.as_str().to_string()).collect();
        parts.extend(self.awaiting_media.iter().map(|t| format!("{} (films or CD by mail)", t.as_str())));
        match parts.len() {
            0 => String::new(),
            1 => parts.remove(0),
            n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
        }
    }
}

/// Words that name each record type.
fn names(t: RecordType) -> &'static [&'static str] {
    match t {
        RecordType::Medical => &[
            "medical record",
            "office note",
            "progress note",
            "clinical note",
            "discharge summar",
            "history and physical",
            "visit note",
            "chart",
            "treatment record",
        ],
        RecordType::Billing => {
            &["billing", "itemized", "ub-04", "ub04", "ledger", "statement of account", "cms-1500", "hcfa", "bill"]
        }
        RecordType::Radiology => {
            &["radiology", "imaging", "mri", "x-ray", "xray", "ct scan", "ct report", "ultrasound", "films", "images"]
        }
    }
}

const NOT_HERE: &[&str] = &[
    "will follow",
    "to follow",
    "follow under",
    "separate cover",
    "separately",
    "pending",
    "not included",
    "not enclosed",
    "will be mailed",
    "will be sent",
    "being mailed",
    "forthcoming",
    "unable to",
    "no radiology",
    "no billing",
    "no medical",
    "not available",
];
const MEDIA: &[&str] = &["cd", "disc", "disk", "dvd", "film", "images"];

#[derive(Clone, Copy, PartialEq)]
enum Said {
    Enclosed,
    Missing,
    ByMail,
}

/// `requested`: what the request asked for; `already`: types received by earlier replies;
/// `new_text`: the reply's own new text; `attachment_text`: text of its PDFs.
pub fn judge(requested: &[RecordType], already: &[RecordType], new_text: &str, attachment_text: &str) -> Coverage {
    let text = new_text.to_lowercase();
    let attached = attachment_text.to_lowercase();
    let mut said: Vec<(RecordType, Said)> = Vec::new();
    for sentence in text.split(['.', '!', '?', '\n', ';']) {
        let not_here = NOT_HERE.iter().any(|w| sentence.contains(w));
        let by_mail = sentence.contains("mail") && MEDIA.iter().any(|m| has_word(sentence, m));
        for t in RecordType::ALL {
            if names(t).iter().any(|n| has_word(sentence, n)) {
                let s = match (not_here, by_mail && t == RecordType::Radiology) {
                    (_, true) => Said::ByMail,
                    (true, false) => Said::Missing,
                    (false, false) => Said::Enclosed,
                };
                said.push((t, s));
            }
        }
    }
    for t in RecordType::ALL {
        if names(t).iter().any(|n| has_word(&attached, n)) {
            said.push((t, Said::Enclosed));
        }
    }
    let named_enclosed = said.iter().any(|(_, s)| *s == Said::Enclosed);
    let mut c = Coverage::default();
    for &t in requested {
        let verdicts: Vec<Said> = said.iter().filter(|(x, _)| *x == t).map(|(_, s)| *s).collect();
        let received = already.contains(&t)
            || verdicts.contains(&Said::Enclosed) && !verdicts.contains(&Said::Missing)
            || (verdicts.is_empty() && !named_enclosed && said.is_empty());
        if received {
            c.received.push(t);
        } else if verdicts.contains(&Said::ByMail) {
            c.awaiting_media.push(t);
        } else {
            c.missing.push(t);
        }
    }
    c
}

/// Whether `word` occurs in `text` not inside a longer word (so "ct" is not found in "contact").
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + word.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric() || word.ends_with(' '));
        before && (after || word.len() > 4)
    })
}

#[cfg(test)]
mod tests {
    use super::RecordType::*;
    use super::*;

    const ALL3: [RecordType; 3] = [Medical, Billing, Radiology];

    #[test]
    fn a_reply_that_names_no_type_covers_everything() {
        let c = judge(&ALL3, &[], "Attached please find the requested records for the above patient.", "");
        assert!(c.is_complete(), "{c:?}");
        assert_eq!(c.received, ALL3.to_vec());
    }

    #[test]
    fn films_by_mail_are_awaited_and_named() {
        let c = judge(
            &ALL3,
            &[],
            "Enclosed are the medical records and itemized billing statement. The radiology images will be mailed \
             separately on CD.",
            "",
        );
        assert_eq!(c.received, vec![Medical, Billing]);
        assert_eq!(c.awaiting_media, vec![Radiology]);
        assert_eq!(c.gaps_in_words(), "radiology (films or CD by mail)");
    }

    #[test]
    fn a_type_to_follow_or_unnamed_is_missing() {
        let c = judge(&ALL3, &[], "Medical records attached. The radiology report will follow.", "");
        assert_eq!(c.missing, vec![Billing, Radiology]);
        let c = judge(&[Medical, Billing], &[], "Enclosed please find the medical records you requested.", "");
        assert_eq!(c.missing, vec![Billing]);
        assert_eq!(c.gaps_in_words(), "billing");
    }

    #[test]
    fn attachment_pages_and_earlier_replies_count() {
        let c = judge(&[Medical, Billing], &[], "Here you go.", "PROGRESS NOTES\n...\nITEMIZED STATEMENT");
        assert!(c.is_complete(), "{c:?}");
        let c = judge(&[Medical, Billing], &[Billing], "Enclosed are the medical records.", "");
        assert!(c.is_complete(), "{c:?}");
    }

    #[test]
    fn odd_input_does_not_panic() {
        let _ = judge(&ALL3, &[], &"é.ct\u{0}".repeat(1000), "\u{feff}");
    }
}
