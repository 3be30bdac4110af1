//! Words and phrases: the text is cut into lowercase words, and vocabulary phrases are matched
//! word by word, so "records  are\nattached" matches `records are attached` and "invoices"
//! does not match `invoice` unless the phrase says `invoice*`.
//!
//! Phrase syntax (vocabulary.toml): words separated by spaces; a word ending in `*` matches any
//! word it starts; `..` stands for up to [`GAP`] other words. Punctuation splits words
//! (`patient's` is `patient s`, `e-mail` is `e mail`), in the text and in phrases alike.

use std::collections::HashMap;

/// Words a `..` may skip.
pub const GAP: usize = 4;

/// One word of a text and where it stands in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Byte offset of the word in the source text.
    pub start: usize,
}

/// Cuts `text` into lowercase words. A lowercase run followed by an uppercase word starts a
/// new word ("receivedYour" → "received", "your"): HTML flattened without its block breaks
/// glues words like that.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut lower_run = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() {
            let next_lower = chars.peek().is_some_and(|(_, n)| n.is_lowercase());
            if c.is_uppercase() && lower_run >= 2 && next_lower && !current.is_empty() {
                out.push(Word { text: std::mem::take(&mut current), start });
            }
            if current.is_empty() {
                start = i;
            }
            lower_run = if c.is_lowercase() { lower_run + 1 } else { 0 };
            current.extend(c.to_lowercase());
        } else {
            lower_run = 0;
            if !current.is_empty() {
                out.push(Word { text: std::mem::take(&mut current), start });
            }
        }
    }
    if !current.is_empty() {
        out.push(Word { text: current, start });
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pat {
    Word(String),
    Prefix(String),
    Gap,
}

impl Pat {
    fn matches(&self, word: &str) -> bool {
        match self {
            Pat::Word(w) => w == word,
            Pat::Prefix(p) => word.starts_with(p.as_str()),
            Pat::Gap => true,
        }
    }
}

/// A compiled phrase and the payload the caller attached to it.
#[derive(Debug, Clone)]
struct Phrase<T> {
    source: String,
    pats: Vec<Pat>,
    payload: T,
}

/// A match: which phrase, where it starts (word index) and ends (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub phrase: usize,
    pub start: usize,
    pub end: usize,
}

/// Phrases indexed by their first word, for one pass over a text.
#[derive(Debug, Clone)]
pub struct Matcher<T> {
    phrases: Vec<Phrase<T>>,
    by_first: HashMap<String, Vec<usize>>,
    prefix_first: Vec<usize>,
}

/// Compiles a phrase; `None` when it has no words.
fn compile(phrase: &str) -> Option<Vec<Pat>> {
    let mut pats = Vec::new();
    for raw in phrase.split_whitespace() {
        if raw == ".." {
            if !pats.is_empty() && pats.last() != Some(&Pat::Gap) {
                pats.push(Pat::Gap);
            }
            continue;
        }
        let prefix = raw.ends_with('*');
        let parts: Vec<String> = words(raw.trim_end_matches('*')).into_iter().map(|w| w.text).collect();
        let n = parts.len();
        for (k, p) in parts.into_iter().enumerate() {
            pats.push(if prefix && k + 1 == n { Pat::Prefix(p) } else { Pat::Word(p) });
        }
    }
    while pats.last() == Some(&Pat::Gap) {
        pats.pop();
    }
    (!pats.is_empty()).then_some(pats)
}

impl<T> Matcher<T> {
    /// Builds a matcher; phrases without any word are skipped.
    pub fn new(phrases: impl IntoIterator<Item = (String, T)>) -> Matcher<T> {
        let mut m = Matcher { phrases: Vec::new(), by_first: HashMap::new(), prefix_first: Vec::new() };
        for (source, payload) in phrases {
            let Some(pats) = compile(&source) else { continue };
            let id = m.phrases.len();
            match &pats[0] {
                Pat::Word(w) => m.by_first.entry(w.clone()).or_default().push(id),
                _ => m.prefix_first.push(id),
            }
            m.phrases.push(Phrase { source, pats, payload });
        }
        m
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    pub fn source(&self, phrase: usize) -> &str {
        &self.phrases[phrase].source
    }

    pub fn payload(&self, phrase: usize) -> &T {
        &self.phrases[phrase].payload
    }

    /// Every match in `words`, in text order (a phrase may match several times).
    pub fn find(&self, words: &[Word]) -> Vec<Hit> {
        let mut hits = Vec::new();
        for start in 0..words.len() {
            let first = words[start].text.as_str();
            let exact = self.by_first.get(first).map(Vec::as_slice).unwrap_or(&[]);
            for &id in exact.iter().chain(self.prefix_first.iter()) {
                if let Some(end) = match_at(&self.phrases[id].pats, words, start) {
                    hits.push(Hit { phrase: id, start, end });
                }
            }
        }
        hits
    }
}

/// Where the phrase ends when it matches at `start`.
fn match_at(pats: &[Pat], words: &[Word], start: usize) -> Option<usize> {
    let (first, rest) = pats.split_first()?;
    if !first.matches(words.get(start)?.text.as_str()) {
        return None;
    }
    match_rest(rest, words, start + 1)
}

fn match_rest(pats: &[Pat], words: &[Word], at: usize) -> Option<usize> {
    let Some((first, rest)) = pats.split_first() else { return Some(at) };
    if *first == Pat::Gap {
        // Try the shortest gap first.
        return (0..=GAP).find_map(|skip| {
            let next = rest.first()?;
            let i = at + skip;
            next.matches(words.get(i)?.text.as_str()).then(|| match_rest(&rest[1..], words, i + 1)).flatten()
        });
    }
    if first.matches(words.get(at)?.text.as_str()) { match_rest(rest, words, at + 1) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        words(s).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_are_lowercase_and_split_on_punctuation_and_glued_case() {
        assert_eq!(
            texts("The patient's E-mail: ROI@x.example"),
            ["the", "patient", "s", "e", "mail", "roi", "x", "example"]
        );
        assert_eq!(texts("receivedYour request"), ["received", "your", "request"]);
        assert_eq!(texts("McDonald MRO"), ["mcdonald", "mro"]);
        assert_eq!(texts("Müller Straße"), ["müller", "straße"]);
    }

    #[test]
    fn phrases_match_with_prefixes_and_gaps() {
        let m = Matcher::new([
            ("records are attached".to_string(), 1),
            ("process*".to_string(), 2),
            ("attached are .. records".to_string(), 3),
        ]);
        let w = words("Attached are the requested medical records. We processed them; records\nare attached.");
        let found: Vec<i32> = m.find(&w).iter().map(|h| *m.payload(h.phrase)).collect();
        assert_eq!(found, [3, 2, 1]);
        assert!(m.find(&words("attached are a b c d e records")).is_empty());
    }
}
