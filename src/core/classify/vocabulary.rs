//! The vocabulary file (`vocabulary.toml`, compiled in) parsed once into phrase matchers.
//! A broken file is a bug caught by the tests, never a runtime state: [`get`] panics on it only
//! in the first test that runs, and `vocabulary_parses` names the error.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::matcher::Matcher;
use super::{Deficiency, Kind};

const SOURCE: &str = include_str!("vocabulary.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    zones: Zones,
    decision: Decision,
    features: Features,
    kinds: BTreeMap<Kind, BTreeMap<String, f64>>,
    reasons: BTreeMap<Deficiency, BTreeMap<String, f64>>,
    filenames: BTreeMap<Kind, BTreeMap<String, f64>>,
    ours: Ours,
    amount: Amount,
}

/// How much a phrase counts in each part of a message.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zones {
    pub subject: f64,
    pub new_text: f64,
    pub attachment: f64,
    pub forwarded: f64,
    pub filename: f64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub min_score: f64,
    pub automatic_header: f64,
    pub reason_share: f64,
    pub reason_cap: f64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    pub attachment_present: f64,
    pub many_pages: usize,
    pub many_pages_records: f64,
    pub amount_labeled: f64,
    pub amount_plain: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ours {
    fingerprints: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Amount {
    rank: BTreeMap<String, f64>,
    paid: PhraseList,
    rate: PhraseList,
    ignore: PhraseList,
    zero: PhraseList,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhraseList {
    phrases: Vec<String>,
}

/// What a phrase says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    Kind(Kind, f64),
    Reason(Deficiency, f64),
    /// One of our own letters.
    Ours,
}

/// What words near an amount say about it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AmountWord {
    Rank(f64),
    Paid,
    Rate,
    Ignore,
}

/// The compiled vocabulary.
pub struct Vocabulary {
    pub zones: Zones,
    pub decision: Decision,
    pub features: Features,
    /// Kind, reason and our-letter phrases, for body text.
    pub text: Matcher<Vec<Signal>>,
    /// Kind phrases for attachment file names.
    pub filenames: Matcher<Vec<Signal>>,
    /// Words around an amount.
    pub amount: Matcher<AmountWord>,
    /// "No charge" phrases.
    pub zero: Matcher<()>,
}

static VOCABULARY: LazyLock<Result<Vocabulary, String>> = LazyLock::new(|| parse(SOURCE));

/// The compiled-in vocabulary.
pub fn get() -> &'static Vocabulary {
    match &*VOCABULARY {
        Ok(v) => v,
        // The file is compiled in and checked by `vocabulary_parses`; this cannot happen in a
        // tested build.
        Err(e) => panic!("src/core/classify/vocabulary.toml: {e}"),
    }
}

/// Parses and compiles a vocabulary file.
pub fn parse(source: &str) -> Result<Vocabulary, String> {
    let file: File = toml::from_str(source).map_err(|e| e.to_string())?;
    let mut text: BTreeMap<String, Vec<Signal>> = BTreeMap::new();
    for (kind, phrases) in &file.kinds {
        for (p, w) in phrases {
            text.entry(p.clone()).or_default().push(Signal::Kind(*kind, *w));
        }
    }
    for (reason, phrases) in &file.reasons {
        for (p, w) in phrases {
            text.entry(p.clone()).or_default().push(Signal::Reason(*reason, *w));
        }
    }
    for p in &file.ours.fingerprints {
        text.entry(p.clone()).or_default().push(Signal::Ours);
    }
    let mut filenames: BTreeMap<String, Vec<Signal>> = BTreeMap::new();
    for (kind, phrases) in &file.filenames {
        for (p, w) in phrases {
            filenames.entry(p.clone()).or_default().push(Signal::Kind(*kind, *w));
        }
    }
    let a = &file.amount;
    let amount = a
        .rank
        .iter()
        .map(|(p, r)| (p.clone(), AmountWord::Rank(*r)))
        .chain(a.paid.phrases.iter().map(|p| (p.clone(), AmountWord::Paid)))
        .chain(a.rate.phrases.iter().map(|p| (p.clone(), AmountWord::Rate)))
        .chain(a.ignore.phrases.iter().map(|p| (p.clone(), AmountWord::Ignore)));
    Ok(Vocabulary {
        zones: file.zones,
        decision: file.decision,
        features: file.features,
        text: Matcher::new(text),
        filenames: Matcher::new(filenames),
        amount: Matcher::new(amount),
        zero: Matcher::new(a.zero.phrases.iter().map(|p| (p.clone(), ()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_parses() {
        let v = parse(SOURCE).unwrap_or_else(|e| panic!("vocabulary.toml: {e}"));
        assert!(v.text.len() > 300, "{} phrases", v.text.len());
        assert!(!v.filenames.is_empty() && !v.amount.is_empty() && !v.zero.is_empty());
    }

    #[test]
    fn every_kind_and_reason_has_words() {
        let file: File = toml::from_str(SOURCE).unwrap();
        for kind in [
            Kind::Records,
            Kind::Invoice,
            Kind::Deficiency,
            Kind::NoRecords,
            Kind::Acknowledgment,
            Kind::Redirect,
            Kind::AutoReply,
        ] {
            assert!(file.kinds.get(&kind).is_some_and(|p| !p.is_empty()), "{kind:?}");
        }
        for reason in Deficiency::ALL.iter().filter(|r| **r != Deficiency::Other) {
            assert!(file.reasons.get(reason).is_some_and(|p| !p.is_empty()), "{reason:?}");
        }
    }

    #[test]
    fn a_broken_file_is_an_error_not_a_panic() {
        assert!(parse("zones = 3").is_err());
        assert!(parse("").is_err());
    }
}
