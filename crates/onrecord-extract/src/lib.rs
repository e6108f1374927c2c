//! Finds the quoted statements in a news article and who said them, for a
//! person to review before anything is appended to a ledger.
//!
//! [`extract`] takes the article's text (or [`html::article_text`] of a
//! page) and, optionally, a [`PartyDirectory`] of a ledger's parties, and
//! returns every quote with its speaker as written and as resolved, the
//! matched party (`speaks_for` respected), the lexicon's stance suggestion,
//! character offsets, whether it is a direct quote or a fragment of indirect
//! speech, and a confidence. Pure: no I/O, no clock; the work is linear in
//! the text (docs/extraction.md has the design and its measured quality).

#![warn(missing_docs)]

pub mod attribution;
pub mod html;
pub mod names;
pub mod parties;
pub mod quotes;
pub mod words;

use onrecord_core::lexicon::suggest;
use onrecord_core::{PartyId, Stance};
use serde::Serialize;

use attribution::{Cue, Item, attribute, is_fragment};
pub use names::{ResolvedBy, Speaker};
pub use parties::{MatchedBy, PartyDirectory, PartyMatch};
use quotes::{Layout, layout};
use words::{Token, tokenize};

/// Whether a quote stands as a sentence of its own or sits inside one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuoteKind {
    /// Quoted words standing as a sentence (`“They will certainly meet,” said Peskov.`).
    Direct,
    /// Quoted words inside indirect speech (`they would “probably not” hold a meeting`).
    Fragment,
}

/// The lexicon's stance suggestion for a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StanceSuggestion {
    /// The suggested stance band.
    #[serde(serialize_with = "serialize_stance")]
    pub stance: Stance,
    /// The lexicon cue that matched.
    pub cue: &'static str,
    /// The words of the quote that matched it.
    pub matched: String,
}

/// A `[start, end)` range of characters (Unicode scalar values) in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CharSpan {
    /// The first character's index.
    pub start: usize,
    /// One past the last character's index.
    pub end: usize,
}

/// One quoted statement found in the text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// The quoted words as written, without the quote marks.
    pub quote: String,
    /// Direct quote or fragment.
    pub kind: QuoteKind,
    /// Where the quoted words are, in characters.
    pub quote_span: CharSpan,
    /// The speaker, when one was found.
    pub speaker: Option<Speaker>,
    /// Where the attribution (speaker and verb) is, in characters.
    pub attribution_span: Option<CharSpan>,
    /// The ledger party, when a directory was given and knows the speaker.
    pub party: Option<PartyMatch>,
    /// The lexicon's suggestion, when a cue is in the quote.
    pub stance: Option<StanceSuggestion>,
    /// How sure the attribution is, from 0 to 1 (see docs/extraction.md).
    pub confidence: f64,
    /// Why no speaker was found, when none was.
    pub unplaced: Option<&'static str>,
}

/// Everything found in one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extraction {
    /// The statements, in text order.
    pub statements: Vec<Statement>,
    /// Character offsets of quote marks that open a quote nothing closes.
    pub unbalanced_quotes: Vec<usize>,
}

pub(crate) fn serialize_id<S: serde::Serializer>(id: &PartyId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(id.as_str())
}

fn serialize_stance<S: serde::Serializer>(stance: &Stance, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(stance.name())
}

/// What one quote has while the text is read, by byte offsets.
struct Working {
    inner: (usize, usize),
    kind: QuoteKind,
    paragraph: usize,
    continued: bool,
    speaker: Option<Speaker>,
    attribution: Option<(usize, usize)>,
    confidence: f64,
    unplaced: Option<&'static str>,
}

/// The tokens and quote places of one sentence.
fn sentence_items<'t>(
    text: &'t str,
    start: usize,
    end: usize,
    quotes: &[(usize, usize, usize)],
) -> Vec<Item<'t>> {
    let mut items = Vec::new();
    let mut pos = start;
    for &(index, qs, qe) in quotes {
        items.extend(tokenize(text, pos, qs).into_iter().map(Item::Tok));
        items.push(Item::Quote(index));
        pos = qe;
    }
    items.extend(tokenize(text, pos, end).into_iter().map(Item::Tok));
    items
}

fn base_confidence(cue: Cue, kind: QuoteKind) -> f64 {
    let base = match cue {
        Cue::VerbAfter => 0.9,
        Cue::VerbBefore => 0.85,
        Cue::AccordingTo => 0.8,
        Cue::Colon => 0.6,
    };
    match kind {
        QuoteKind::Direct => base,
        QuoteKind::Fragment => base - 0.1,
    }
}

fn resolution_factor(by: ResolvedBy, named: bool) -> f64 {
    match (by, named) {
        (_, false) => 0.6,
        (ResolvedBy::AsWritten, true) => 1.0,
        (ResolvedBy::Surname, _) => 0.95,
        (ResolvedBy::Pronoun, _) => 0.8,
        (ResolvedBy::Title, _) => 0.7,
        (ResolvedBy::PreviousQuote | ResolvedBy::NextQuote, _) => 0.8,
    }
}

/// Finds the quoted statements in `text`, matching speakers to `parties` when given.
pub fn extract(text: &str, parties: Option<&PartyDirectory>) -> Extraction {
    let Layout {
        quotes,
        sentences,
        unbalanced,
        ..
    } = layout(text);

    // Pass 1: the names in the prose (outside quotes), sentence by sentence.
    let mut names = names::Names::default();
    let mut qi = 0;
    for s in &sentences {
        let mut pos = s.start;
        while qi < quotes.len() && quotes[qi].outer.start < s.end {
            let q = &quotes[qi];
            names.scan(&tokenize(text, pos, q.outer.start.max(pos)));
            pos = q.outer.end.max(pos);
            qi += 1;
        }
        names.scan(&tokenize(text, pos.min(s.end), s.end));
    }
    names.finish();

    // Pass 2: each quote's attribution within its sentence.
    let mut work: Vec<Working> = Vec::with_capacity(quotes.len());
    let mut qi = 0;
    for s in &sentences {
        let first = qi;
        while qi < quotes.len() && quotes[qi].outer.start < s.end {
            qi += 1;
        }
        if first == qi {
            continue;
        }
        let places: Vec<(usize, usize, usize)> = (first..qi)
            .map(|i| (i, quotes[i].outer.start, quotes[i].outer.end))
            .collect();
        let items = sentence_items(text, s.start, s.end, &places);
        for (pos, item) in items.iter().enumerate() {
            let Item::Quote(i) = *item else { continue };
            let q = &quotes[i];
            if !text[q.inner.start..q.inner.end].contains(char::is_alphanumeric) {
                continue;
            }
            let kind = if is_fragment(&items, pos) {
                QuoteKind::Fragment
            } else {
                QuoteKind::Direct
            };
            let mut w = Working {
                inner: (q.inner.start, q.inner.end),
                kind,
                paragraph: q.paragraph,
                continued: q.continued,
                speaker: None,
                attribution: None,
                confidence: 0.0,
                unplaced: Some("no attribution found in its sentence"),
            };
            let names_speaker = |np: &[Token<'_>]| names.resolve(text, np).map(|s| s.named);
            if let Some(found) = attribute(&items, pos, &names_speaker) {
                let np: Vec<Token<'_>> = found.np.clone();
                match names.resolve(text, &np) {
                    Some(speaker) => {
                        w.confidence = base_confidence(found.cue, kind)
                            * resolution_factor(speaker.resolved_by, speaker.named);
                        w.speaker = Some(speaker);
                        w.attribution = Some(found.span);
                        w.unplaced = None;
                    }
                    None => {
                        w.unplaced = Some(if np.len() == 1 && words::is_pronoun(np[0].text) {
                            "its pronoun refers to no one named before it"
                        } else {
                            "its attribution names no speaker"
                        });
                    }
                }
            }
            work.push(w);
        }
    }
    work.sort_by_key(|w| w.inner.0);

    // Pass 3: quotes without attribution of their own.
    for i in (0..work.len().saturating_sub(1)).rev() {
        if work[i].speaker.is_none()
            && work[i].continued
            && let Some(next) = work[i + 1].speaker.clone()
        {
            work[i].confidence = work[i + 1].confidence * 0.9;
            work[i].attribution = work[i + 1].attribution;
            work[i].speaker = Some(Speaker {
                resolved_by: ResolvedBy::NextQuote,
                ..next
            });
            work[i].unplaced = None;
        }
    }
    for i in 1..work.len() {
        let inherit = work[i].speaker.is_none()
            && work[i].kind == QuoteKind::Direct
            && work[i - 1].paragraph == work[i].paragraph;
        if inherit && let Some(prev) = work[i - 1].speaker.clone() {
            work[i].confidence = work[i - 1].confidence * 0.85;
            work[i].attribution = work[i - 1].attribution;
            work[i].speaker = Some(Speaker {
                resolved_by: ResolvedBy::PreviousQuote,
                ..prev
            });
            work[i].unplaced = None;
        }
    }

    // Byte offsets to character offsets, in one walk over the text.
    let mut offsets: Vec<usize> = Vec::with_capacity(work.len() * 4 + unbalanced.len());
    for w in &work {
        offsets.extend([w.inner.0, w.inner.1]);
        if let Some((a, b)) = w.attribution {
            offsets.extend([a, b]);
        }
    }
    offsets.extend(unbalanced.iter().copied());
    let chars = CharOffsets::new(text, offsets);

    let statements = work
        .into_iter()
        .map(|w| {
            let quote = text[w.inner.0..w.inner.1].to_owned();
            let stance = suggest(&quote).map(|s| StanceSuggestion {
                stance: s.stance,
                cue: s.cue,
                matched: s.matched,
            });
            let party = match (parties, &w.speaker) {
                (Some(dir), Some(sp)) => dir.match_speaker(sp),
                _ => None,
            };
            Statement {
                quote,
                kind: w.kind,
                quote_span: chars.span(w.inner.0, w.inner.1),
                attribution_span: w.attribution.map(|(a, b)| chars.span(a, b)),
                speaker: w.speaker,
                party,
                stance,
                confidence: (w.confidence * 100.0).round() / 100.0,
                unplaced: w.unplaced,
            }
        })
        .collect();
    Extraction {
        statements,
        unbalanced_quotes: unbalanced.iter().map(|&b| chars.get(b)).collect(),
    }
}

/// Character offsets for a set of byte offsets, computed in one pass.
struct CharOffsets {
    map: std::collections::HashMap<usize, usize>,
}

impl CharOffsets {
    fn new(text: &str, mut bytes: Vec<usize>) -> Self {
        bytes.sort_unstable();
        bytes.dedup();
        let mut map = std::collections::HashMap::with_capacity(bytes.len());
        let mut want = bytes.into_iter().peekable();
        let mut count = 0;
        for (b, _) in text.char_indices() {
            while want.peek().is_some_and(|&w| w <= b) {
                map.insert(want.next().unwrap_or(b), count);
            }
            count += 1;
        }
        for rest in want {
            map.insert(rest, count);
        }
        Self { map }
    }

    fn get(&self, byte: usize) -> usize {
        self.map.get(&byte).copied().unwrap_or(0)
    }

    fn span(&self, start: usize, end: usize) -> CharSpan {
        CharSpan {
            start: self.get(start),
            end: self.get(end),
        }
    }
}
