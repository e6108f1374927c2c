//! The stance-phrase lexicon: suggests a stance band for diplomatic language.
//!
//! `onrecord stance PHRASE` asks [`suggest`] which [`Stance`] a quote such as
//! "we will probably not meet in Paris" expresses. The answer is only a
//! suggestion, for the person recording the statement to accept or overrule;
//! nothing in the ledger is ever set from it automatically. Pure functions, no I/O.
//!
//! # The lexicon
//!
//! [`cues`] lists every cue: lower-case words, the stance they suggest, the
//! stance they suggest when negated, where they come from ([`CueOrigin`]) and
//! how much they weigh ([`CueWeight`]). The table has three sources:
//!
//! - **ICD 203** (US Intelligence Community Directive 203, 2015): its seven
//!   terms and their listed alternatives map one-to-one onto the bands, e.g.
//!   "remote" → almost-no-chance, "highly probable" → very-likely.
//! - **Sherman Kent**, "Words of Estimative Probability" (1964). Kent's groups
//!   are placed by his numbers (probable ≈ 75 % → likely, chances about even →
//!   even-chance, probably not ≈ 30 % → unlikely), except where a word is also
//!   an ICD 203 term: "almost certainly (not)" then takes the ICD band
//!   (almost-certain / almost-no-chance, rather than Kent's 93 % / 7 %), so a
//!   cue and its negation stay mirror images. "certain" and "impossible" land
//!   on the outermost bands, which stop at 0.99 and 0.01.
//! - **Official** phrasings heard from spokespeople, placed by what they
//!   commit the speaker to:
//!   - announcements and confirmations ("will certainly", "definitely",
//!     "will take place", "confirmed") → almost-certain;
//!   - stated expectations and agreements ("expects", "is scheduled",
//!     "agreed to") and the plain future ("will", "going to") → very-likely:
//!     an assertion, but officials' plans change;
//!   - wishes and intentions ("looks forward to", "plans to", "intends to")
//!     → likely: a lean, not a commitment;
//!   - possibility, hope and conditional offers ("possibly", "may", "might",
//!     "could", "hopes to", "ready to", "if …") → even-chance: the speaker
//!     grants the event is possible, or leaves it to the other side, without
//!     leaning either way. "If the American side is interested" is therefore
//!     even-chance, not likely;
//!   - "no plans", "haven't set anything up", "nothing is scheduled" →
//!     unlikely: they describe today's calendar, not an intention, and such
//!     meetings are often arranged later;
//!   - refusals of intent ("not going to", "no intention") → very-unlikely;
//!   - reported decisions against the event ("cancelled", "called off",
//!     "ruled out") → almost-no-chance; "postponed" → very-unlikely;
//!   - refusals to estimate ("no comment", "declined to comment", "won't
//!     speculate", "too early to say") → declined.
//!
//! # Matching
//!
//! The phrase is lower-cased and split into words on anything that is not a
//! letter or digit, so punctuation and hyphens ("G-20", "fifty-fifty") do not
//! matter. Curly apostrophes (’ ‘ ʼ) count as `'`, and contractions are
//! expanded ("won't" → "will not", "haven't" → "have not", "cannot" → "can
//! not", "we'll" → "we will"), so "won't speculate" and "will not speculate"
//! are the same cue. A cue matches a run of whole words inside one clause:
//! `. , ; : ! ?` and dashes end a clause.
//!
//! When several cues match, the winner is the one with the greatest
//! [`CueWeight`] (a reported decision beats an estimate, which beats a bare
//! modal such as "will" or "may"), then the most words ("very unlikely" over
//! "unlikely"), then a cue that carries its own negation ("certainly not"
//! over "will certainly"), then the earlier table entry (ICD 203, Kent, then
//! official phrasings), then the earlier position in the phrase.
//!
//! # Negation
//!
//! Explicit negative cues ("probably not", "not likely", "no chance",
//! "unlikely") are ordinary table entries and win by length. Otherwise a
//! negator ("not", "no", "never", "nor", "neither", "nobody", "none", or a
//! contracted "n't") at most [`NEGATION_WINDOW`] words before a cue, in the
//! same clause, negates it, and the cue's `when_negated` stance applies. By
//! default that is the mirror band (likely ↔ unlikely, very-likely ↔
//! very-unlikely, almost-certain ↔ almost-no-chance; even-chance and declined
//! stay), with documented exceptions where negation does not mirror:
//! withdrawing certainty ("not certain", "not confirmed", "not definitely")
//! gives even-chance; litotes on a denial ("not impossible", "not ruled out",
//! "not remote") gives even-chance; an undone cancellation ("not cancelled",
//! "not postponed") gives likely; "not scheduled" gives unlikely, like "no
//! plans". A cue that already contains a negator is never negated again by a
//! negator before it.
//!
//! A negator after the cue, at most [`NEGATION_WINDOW_AFTER`] words on and
//! in the same clause, negates what the cue is said about, which has the
//! same effect: "it is almost certain that they will not meet" is
//! almost-no-chance, "they will not meet" is very-unlikely (the modal
//! "will", negated). A negator followed by "only", "later", "earlier",
//! "sooner", "less" or "more" qualifies a time or amount ("no later than
//! Friday") and does not count. Two negations cancel: a negator before the
//! cue and one after it, or one after a cue that carries its own negation
//! ("there is no chance they will not meet" is almost-certain, the mirror of
//! "no chance").
//!
//! # Limits
//!
//! This is a lexicon, not a parser: it does not know what the cue is about
//! ("a remote meeting" suggests almost-no-chance), cannot tell the month
//! "May" from the modal, and reads only one cue per phrase.

use std::fmt;
use std::sync::LazyLock;

use crate::Stance;

/// Where a cue comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CueOrigin {
    /// The terms of ICD 203 (Analytic Standards, 2015) and their alternatives.
    Icd203,
    /// Sherman Kent's "Words of Estimative Probability" (1964).
    Kent,
    /// Common phrasings of officials and spokespeople.
    Official,
}

impl CueOrigin {
    /// The origin's name as written in the CLI and JSON, e.g. `icd-203`.
    pub fn name(self) -> &'static str {
        match self {
            CueOrigin::Icd203 => "icd-203",
            CueOrigin::Kent => "kent",
            CueOrigin::Official => "official",
        }
    }
}

impl fmt::Display for CueOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How strongly a cue speaks for a phrase when several cues match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CueWeight {
    /// A bare modal or conditional ("will", "may", "if"), used only when nothing better matches.
    Modal,
    /// An estimative word or official phrasing; the usual weight.
    Phrase,
    /// A reported decision about the event ("cancelled", "ruled out", "confirmed").
    Decision,
}

/// One entry of the lexicon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cue {
    /// The cue's words, lower-case, as shown to users (contractions allowed).
    pub phrase: &'static str,
    /// The stance the cue suggests.
    pub stance: Stance,
    /// The stance the cue suggests when a negator comes just before it.
    pub when_negated: Stance,
    /// Where the cue comes from.
    pub origin: CueOrigin,
    /// How the cue ranks against other matching cues.
    pub weight: CueWeight,
}

/// A suggested stance for a phrase, with the cue that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The suggested stance.
    pub stance: Stance,
    /// The matched cue, as written in the lexicon.
    pub cue: &'static str,
    /// Where the matched cue comes from.
    pub origin: CueOrigin,
    /// Whether negation turned the cue into `when_negated`: a negator before
    /// it or after it (in its clause), but not both, which cancel.
    pub negated: bool,
    /// The words of the phrase that matched, as written (from the negator before, to the one after, if any).
    pub matched: String,
}

/// How many words before a cue a negator may stand and still negate it.
pub const NEGATION_WINDOW: usize = 3;

/// How many words after a cue a negator may stand and still negate what the
/// cue is said about ("almost certain that they will not meet": 4 words).
pub const NEGATION_WINDOW_AFTER: usize = 6;

/// Suggests a stance for `phrase`, or `None` when no cue is found.
///
/// ```
/// use onrecord_core::Stance;
/// use onrecord_core::lexicon::suggest;
///
/// let s = suggest("We will probably not meet in Paris").unwrap();
/// assert_eq!((s.stance, s.cue, s.negated), (Stance::Unlikely, "probably not", false));
/// assert!(suggest("The weather in Paris").is_none());
/// ```
pub fn suggest(phrase: &str) -> Option<Suggestion> {
    let tokens = tokenize(phrase);
    let mut best: Option<(Key, usize, usize)> = None;
    for (index, (cue, words)) in CUES.iter().zip(CUE_WORDS.iter()).enumerate() {
        let len = words.len();
        if len == 0 || len > tokens.len() {
            continue;
        }
        for start in 0..=tokens.len() - len {
            let run = &tokens[start..start + len];
            let clause = run[0].clause;
            if run
                .iter()
                .zip(words)
                .all(|(t, w)| t.clause == clause && t.word == *w)
            {
                let key = Key {
                    weight: cue.weight,
                    len,
                    self_negating: words.iter().any(|w| is_negator(w)),
                    index: std::cmp::Reverse(index),
                    start: std::cmp::Reverse(start),
                };
                if best.as_ref().is_none_or(|(b, _, _)| key > *b) {
                    best = Some((key, index, start));
                }
            }
        }
    }
    let (key, index, start) = best?;
    let cue = &CUES[index];
    let end = tokens[start + key.len - 1].end;
    let negator = if key.self_negating {
        None
    } else {
        tokens[..start]
            .iter()
            .rev()
            .take(NEGATION_WINDOW)
            .take_while(|t| t.clause == tokens[start].clause)
            .find(|t| is_negator(&t.word))
    };
    let after = negator_after(&tokens, start + key.len);
    let from = negator.map_or(tokens[start].start, |t| t.start);
    let end = after.map_or(end, |t| t.end);
    // Two negations cancel: "not likely that they will not meet" is likely.
    let negated = negator.is_some() != after.is_some();
    Some(Suggestion {
        stance: if negated {
            cue.when_negated
        } else {
            cue.stance
        },
        cue: cue.phrase,
        origin: cue.origin,
        negated,
        matched: phrase[from..end].to_owned(),
    })
}

/// The first negator at most [`NEGATION_WINDOW_AFTER`] words after a cue
/// ending before token `after_cue`, in the cue's clause, that negates what the
/// cue is said about ("almost certain that they will not meet"); a negator
/// that only qualifies a time or amount ("no later than", "not only") does not.
fn negator_after(tokens: &[Token], after_cue: usize) -> Option<&Token> {
    let clause = tokens.get(after_cue.checked_sub(1)?)?.clause;
    let rest = tokens.get(after_cue..)?;
    let in_clause = rest.iter().take_while(|t| t.clause == clause).count();
    let rest = &rest[..in_clause];
    rest.iter()
        .enumerate()
        .take(NEGATION_WINDOW_AFTER)
        .find(|(i, t)| {
            is_negator(&t.word)
                && rest
                    .get(i + 1)
                    .is_none_or(|next| !NOT_NEGATING_NEXT.contains(&next.word.as_str()))
        })
        .map(|(_, t)| t)
}

/// Words after a negator that make it qualify a time or amount, not negate the event.
const NOT_NEGATING_NEXT: [&str; 6] = ["only", "later", "earlier", "sooner", "less", "more"];

/// Every cue of the lexicon, in priority order, for documentation and `--help`.
pub fn cues() -> &'static [Cue] {
    CUES
}

/// Ranks competing matches; greater wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    weight: CueWeight,
    len: usize,
    self_negating: bool,
    index: std::cmp::Reverse<usize>,
    start: std::cmp::Reverse<usize>,
}

/// A normalised word with its clause number and byte span in the original phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    word: String,
    clause: usize,
    start: usize,
    end: usize,
}

const NEGATORS: [&str; 7] = ["not", "no", "never", "nor", "neither", "nobody", "none"];

fn is_negator(word: &str) -> bool {
    NEGATORS.contains(&word)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02bc}')
}

fn ends_clause(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '!' | '?' | '\u{2013}' | '\u{2014}' | '\u{2026}'
    )
}

/// Splits `phrase` into lower-case words, expanding contractions and numbering clauses.
fn tokenize(phrase: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = phrase.char_indices().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut start = 0;
    let mut clause = 0;
    for (i, &(at, c)) in chars.iter().enumerate() {
        let inner_apostrophe = is_apostrophe(c)
            && !word.is_empty()
            && chars.get(i + 1).is_some_and(|&(_, n)| n.is_alphanumeric());
        if c.is_alphanumeric() || inner_apostrophe {
            if word.is_empty() {
                start = at;
            }
            if inner_apostrophe {
                word.push('\'');
            } else {
                word.extend(c.to_lowercase());
            }
            continue;
        }
        if !word.is_empty() {
            push_word(&mut tokens, &std::mem::take(&mut word), clause, start, at);
        }
        if ends_clause(c) {
            clause += 1;
        }
    }
    if !word.is_empty() {
        push_word(&mut tokens, &word, clause, start, phrase.len());
    }
    tokens
}

/// Pushes `word`, expanded if it is a contraction; every part keeps the word's span.
fn push_word(tokens: &mut Vec<Token>, word: &str, clause: usize, start: usize, end: usize) {
    let mut push = |w: &str| {
        tokens.push(Token {
            word: w.to_owned(),
            clause,
            start,
            end,
        })
    };
    let irregular = match word {
        "won't" => Some(("will", "not")),
        "can't" | "cannot" => Some(("can", "not")),
        "shan't" => Some(("shall", "not")),
        "ain't" => Some(("is", "not")),
        _ => None,
    };
    if let Some((a, b)) = irregular {
        push(a);
        push(b);
        return;
    }
    const SUFFIXES: [(&str, &str); 6] = [
        ("n't", "not"),
        ("'ll", "will"),
        ("'re", "are"),
        ("'ve", "have"),
        ("'m", "am"),
        ("'d", "would"),
    ];
    for (suffix, expansion) in SUFFIXES {
        if let Some(stem) = word.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            push(stem);
            push(expansion);
            return;
        }
    }
    push(word);
}

/// The band on the other side of even; even-chance and declined are their own mirrors.
const fn mirror(stance: Stance) -> Stance {
    match stance {
        Stance::AlmostNoChance => Stance::AlmostCertain,
        Stance::VeryUnlikely => Stance::VeryLikely,
        Stance::Unlikely => Stance::Likely,
        Stance::EvenChance => Stance::EvenChance,
        Stance::Likely => Stance::Unlikely,
        Stance::VeryLikely => Stance::VeryUnlikely,
        Stance::AlmostCertain => Stance::AlmostNoChance,
        Stance::Declined => Stance::Declined,
    }
}

const fn entry(phrase: &'static str, stance: Stance, origin: CueOrigin) -> Cue {
    Cue {
        phrase,
        stance,
        when_negated: mirror(stance),
        origin,
        weight: CueWeight::Phrase,
    }
}

const fn icd(phrase: &'static str, stance: Stance) -> Cue {
    entry(phrase, stance, CueOrigin::Icd203)
}

const fn kent(phrase: &'static str, stance: Stance) -> Cue {
    entry(phrase, stance, CueOrigin::Kent)
}

const fn official(phrase: &'static str, stance: Stance) -> Cue {
    entry(phrase, stance, CueOrigin::Official)
}

impl Cue {
    const fn negates_to(self, when_negated: Stance) -> Cue {
        Cue {
            when_negated,
            ..self
        }
    }

    const fn modal(self) -> Cue {
        Cue {
            weight: CueWeight::Modal,
            ..self
        }
    }

    const fn decision(self) -> Cue {
        Cue {
            weight: CueWeight::Decision,
            ..self
        }
    }
}

const ANC: Stance = Stance::AlmostNoChance;
const VU: Stance = Stance::VeryUnlikely;
const U: Stance = Stance::Unlikely;
const EVEN: Stance = Stance::EvenChance;
const L: Stance = Stance::Likely;
const VL: Stance = Stance::VeryLikely;
const AC: Stance = Stance::AlmostCertain;
const DECLINED: Stance = Stance::Declined;

/// The lexicon, in priority order (ICD 203, Kent, official phrasings).
static CUES: &[Cue] = &[
    // ICD 203: the seven terms and their alternatives.
    icd("almost no chance", ANC),
    icd("remote", ANC).negates_to(EVEN),
    icd("very unlikely", VU),
    icd("highly improbable", VU),
    icd("unlikely", U),
    icd("improbable", U),
    icd("roughly even chance", EVEN),
    icd("roughly even odds", EVEN),
    icd("likely", L),
    icd("probable", L),
    icd("probably", L),
    icd("very likely", VL),
    icd("highly probable", VL),
    icd("almost certain", AC),
    icd("almost certainly", AC),
    icd("nearly certain", AC),
    // Sherman Kent's words of estimative probability.
    kent("certain", AC).negates_to(EVEN),
    kent("all but certain", AC),
    kent("highly likely", VL),
    kent("we believe", L),
    kent("we estimate", L),
    kent("chances are good", L),
    kent("chances about even", EVEN),
    kent("chances are about even", EVEN),
    kent("chances are slightly better than even", EVEN),
    kent("chances are slightly less than even", EVEN),
    kent("probably not", U),
    kent("we believe not", U),
    kent("chances are not good", U),
    kent("almost certainly not", ANC),
    kent("almost impossible", ANC),
    kent("only a slight chance", VU),
    kent("highly doubtful", VU),
    kent("impossible", ANC).negates_to(EVEN),
    // Official phrasings: estimates in plain words.
    official("not likely", U),
    official("not very likely", U),
    official("highly unlikely", VU),
    official("most likely", L),
    official("more likely than not", L),
    official("good chance", L),
    official("little chance", VU),
    official("slim chance", VU),
    official("no chance", ANC),
    official("not a chance", ANC),
    official("zero chance", ANC),
    official("even chance", EVEN),
    official("even odds", EVEN),
    official("fifty-fifty", EVEN),
    official("50-50", EVEN),
    official("toss-up", EVEN),
    official("certainly", AC).negates_to(EVEN),
    official("certainly not", ANC),
    official("definitely", AC).negates_to(EVEN),
    official("definitely not", ANC),
    official("no doubt", AC),
    official("doubt", U),
    official("doubtful", U),
    official("probably won't", U),
    official("likely won't", U),
    official("certainly won't", ANC),
    official("definitely won't", ANC),
    official("possibly", EVEN),
    official("possible", EVEN),
    official("not possible", ANC),
    official("not possibly", ANC),
    official("perhaps", EVEN),
    official("maybe", EVEN),
    official("not sure", EVEN),
    official("unclear", EVEN),
    official("uncertain", EVEN),
    official("remains to be seen", EVEN),
    official("don't know", EVEN),
    // Official phrasings: announcements, expectations, intentions.
    official("will certainly", AC),
    official("will take place", AC),
    official("will be held", AC),
    official("won't take place", ANC),
    official("won't be held", ANC),
    official("will never", ANC),
    official("confirmed", AC).negates_to(EVEN).decision(),
    official("confirms", AC).negates_to(EVEN).decision(),
    official("yet to be confirmed", EVEN).decision(),
    official("unconfirmed", EVEN),
    official("agreed to", VL),
    official("expects", VL),
    official("expect", VL),
    official("expected to", VL),
    official("is scheduled", VL).negates_to(U),
    official("are scheduled", VL).negates_to(U),
    official("scheduled to", VL).negates_to(U),
    official("looks forward to", L),
    official("look forward to", L),
    official("looking forward to", L),
    official("plans to", L),
    official("plan to", L),
    official("planning to", L),
    official("intends to", L),
    official("intend to", L),
    official("hopes to", EVEN),
    official("hope to", EVEN),
    official("hoping to", EVEN),
    official("ready to", EVEN),
    official("willing to", EVEN),
    official("prepared to", EVEN),
    official("open to", EVEN),
    // Official phrasings: nothing arranged, no intention, decided against.
    official("no plans", U),
    official("haven't set anything up", U),
    official("not set anything up", U),
    official("nothing is scheduled", U),
    official("nothing has been scheduled", U),
    official("nothing scheduled", U),
    official("not going to", VU),
    official("no intention", VU),
    official("ruled out", ANC).negates_to(EVEN).decision(),
    official("rule out", ANC).negates_to(EVEN).decision(),
    official("rules out", ANC).negates_to(EVEN).decision(),
    official("cancelled", ANC).negates_to(L).decision(),
    official("canceled", ANC).negates_to(L).decision(),
    official("cancel", ANC).negates_to(L).decision(),
    official("cancels", ANC).negates_to(L).decision(),
    official("cancelling", ANC).negates_to(L).decision(),
    official("canceling", ANC).negates_to(L).decision(),
    official("cancellation", ANC).negates_to(L).decision(),
    official("called off", ANC).negates_to(L).decision(),
    official("call off", ANC).negates_to(L).decision(),
    official("calls off", ANC).negates_to(L).decision(),
    official("postponed", VU).negates_to(L).decision(),
    // Official phrasings: refusing to estimate.
    official("no comment", DECLINED),
    official("declined to comment", DECLINED),
    official("declines to comment", DECLINED),
    official("refused to comment", DECLINED),
    official("not comment", DECLINED),
    official("won't speculate", DECLINED),
    official("not speculate", DECLINED),
    official("not going to speculate", DECLINED),
    official("too early to say", DECLINED),
    official("too early to tell", DECLINED),
    // Bare modals and conditionals: used only when nothing else matches.
    official("if", EVEN).modal(),
    official("may", EVEN).modal(),
    official("might", EVEN).modal(),
    official("could", EVEN).modal(),
    official("should", L).modal(),
    official("should not", U).modal(),
    official("won't", VU).modal(),
    official("will", VL).modal(),
    official("going to", VL).modal(),
];

/// Each cue's normalised words, in the order of `CUES`.
static CUE_WORDS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    CUES.iter()
        .map(|c| tokenize(c.phrase).into_iter().map(|t| t.word).collect())
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The expected stance, cue and negation, or `None` for "no cue found".
    type Expected = Option<(Stance, &'static str, bool)>;

    /// Phrases and what `suggest` must say about them.
    const CASES: &[(&str, Expected)] = &[
        // Quotes from the demo file.
        ("probably not", Some((U, "probably not", false))),
        (
            "We haven't set anything up yet. We don't know that that's going to be the right place.",
            Some((U, "haven't set anything up", false)),
        ),
        (
            "We don’t know that that’s going to be the right place.",
            Some((EVEN, "don't know", false)),
        ),
        ("we will be meeting at the G-20", Some((VL, "will", false))),
        (
            "They will certainly meet",
            Some((AC, "will certainly", false)),
        ),
        (
            "would look forward to meeting with him in Paris",
            Some((L, "look forward to", false)),
        ),
        (
            "if the American side is interested",
            Some((EVEN, "if", false)),
        ),
        (
            "Putin would look forward to meeting with him in Paris, if the American side is interested",
            Some((L, "look forward to", false)),
        ),
        (
            "The Kremlin expects a long and thorough meeting",
            Some((VL, "expects", false)),
        ),
        (
            "We expect a long and thorough meeting",
            Some((VL, "expect", false)),
        ),
        ("long and thorough meeting", None),
        (
            "I have decided it would be best for all parties concerned to cancel my previously scheduled meeting in Argentina with President Vladimir Putin",
            Some((ANC, "cancel", false)),
        ),
        (
            "Based on the fact that the ships and sailors have not been returned to Ukraine from Russia, I have decided it would be best for all parties concerned to cancel my previously scheduled meeting in Argentina with President Vladimir Putin. I look forward to a meaningful Summit again as soon as this situation is resolved!",
            Some((ANC, "cancel", false)),
        ),
        (
            "Washington has confirmed the meeting",
            Some((AC, "confirmed", false)),
        ),
        ("a good conversation", None),
        // Negative cues and negation.
        ("not likely", Some((U, "not likely", false))),
        ("no chance", Some((ANC, "no chance", false))),
        (
            "There is no chance of a meeting",
            Some((ANC, "no chance", false)),
        ),
        ("highly unlikely", Some((VU, "highly unlikely", false))),
        (
            "almost certainly not",
            Some((ANC, "almost certainly not", false)),
        ),
        ("definitely not", Some((ANC, "definitely not", false))),
        ("no plans to meet", Some((U, "no plans", false))),
        (
            "The meeting has been ruled out",
            Some((ANC, "ruled out", false)),
        ),
        ("ruled out", Some((ANC, "ruled out", false))),
        (
            "We will probably not meet in Paris",
            Some((U, "probably not", false)),
        ),
        (
            "They probably won’t meet",
            Some((U, "probably won't", false)),
        ),
        (
            "They will certainly not meet",
            Some((ANC, "certainly not", false)),
        ),
        ("We're not going to meet", Some((VU, "not going to", false))),
        ("They won't meet", Some((VU, "won't", false))),
        ("We do not expect a meeting", Some((VU, "expect", true))),
        ("It is not very likely", Some((U, "not very likely", false))),
        ("not unlikely", Some((L, "unlikely", true))),
        ("It is not impossible", Some((EVEN, "impossible", true))),
        (
            "A meeting has not been ruled out",
            Some((EVEN, "ruled out", true)),
        ),
        (
            "We don't rule out a meeting",
            Some((EVEN, "rule out", true)),
        ),
        (
            "The meeting was not cancelled",
            Some((L, "cancelled", true)),
        ),
        (
            "I'm not certain they will meet",
            Some((EVEN, "certain", true)),
        ),
        (
            "The meeting is not yet confirmed",
            Some((EVEN, "confirmed", true)),
        ),
        ("No one is planning to meet", Some((U, "planning to", true))),
        ("No meeting is scheduled", Some((U, "is scheduled", true))),
        (
            "They can't possibly meet",
            Some((ANC, "not possibly", false)),
        ),
        ("No, they will meet", Some((VL, "will", false))),
        (
            "There is no doubt they will meet",
            Some((AC, "no doubt", false)),
        ),
        (
            "The summit was called off",
            Some((ANC, "called off", false)),
        ),
        ("The talks were postponed", Some((VU, "postponed", false))),
        // ICD 203 and Kent.
        (
            "roughly even odds",
            Some((EVEN, "roughly even odds", false)),
        ),
        ("remote", Some((ANC, "remote", false))),
        (
            "The chance is very likely",
            Some((VL, "very likely", false)),
        ),
        (
            "a meeting is highly probable",
            Some((VL, "highly probable", false)),
        ),
        ("almost certain", Some((AC, "almost certain", false))),
        ("We believe", Some((L, "we believe", false))),
        (
            "Chances are about even",
            Some((EVEN, "chances are about even", false)),
        ),
        ("It is fifty-fifty", Some((EVEN, "fifty-fifty", false))),
        ("They will PROBABLY meet", Some((L, "probably", false))),
        // Official phrasings.
        (
            "The meeting will take place",
            Some((AC, "will take place", false)),
        ),
        ("We will definitely meet", Some((AC, "definitely", false))),
        (
            "The president plans to meet him",
            Some((L, "plans to", false)),
        ),
        ("She intends to raise it", Some((L, "intends to", false))),
        ("They could possibly meet", Some((EVEN, "possibly", false))),
        ("may meet", Some((EVEN, "may", false))),
        ("They might meet", Some((EVEN, "might", false))),
        (
            "The Kremlin declined to comment",
            Some((DECLINED, "declined to comment", false)),
        ),
        ("No comment.", Some((DECLINED, "no comment", false))),
        (
            "I won't speculate",
            Some((DECLINED, "won't speculate", false)),
        ),
        (
            "I will not speculate on that",
            Some((DECLINED, "won't speculate", false)),
        ),
        (
            "We are not going to speculate",
            Some((DECLINED, "not going to speculate", false)),
        ),
        ("We'll be meeting in Helsinki", Some((VL, "will", false))),
        // A negation after the cue, and double negations.
        (
            "it is almost certain that they will not meet",
            Some((ANC, "almost certain", true)),
        ),
        (
            "There is no chance they will not meet",
            Some((AC, "no chance", true)),
        ),
        (
            "It is not likely that they will not meet",
            Some((L, "not likely", true)),
        ),
        ("They will not meet", Some((VU, "won't", false))),
        (
            "We expect to meet no later than Friday",
            Some((VL, "expect", false)),
        ),
        (
            "It is likely. They will not sign",
            Some((L, "likely", false)),
        ),
        // No cue at all.
        ("The weather in Paris", None),
        ("", None),
        ("   ...  ", None),
        ("Unlikelihood", None),
    ];

    #[test]
    fn suggestions_are_pinned() {
        assert!(CASES.len() >= 45);
        let mut failures = Vec::new();
        for &(phrase, expected) in CASES {
            let got = suggest(phrase).map(|s| (s.stance, s.cue, s.negated));
            if got != expected {
                failures.push(format!("{phrase:?}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn suggestion_reports_the_matched_words_as_written() {
        let s = suggest("We haven’t set anything up yet.").unwrap();
        assert_eq!(s.matched, "haven’t set anything up");
        assert_eq!(s.origin, CueOrigin::Official);
        let s = suggest("We do NOT expect a meeting").unwrap();
        assert_eq!(s.matched, "NOT expect");
        let s = suggest("We believe").unwrap();
        assert_eq!(
            (s.origin.name(), s.matched.as_str()),
            ("kent", "We believe")
        );
        assert_eq!(suggest("remote").unwrap().origin.to_string(), "icd-203");
    }

    #[test]
    fn negation_stops_at_clause_ends_and_the_window() {
        assert!(!suggest("No. They will meet").unwrap().negated);
        assert!(suggest("not really at all likely").is_some_and(|s| !s.negated));
        assert!(suggest("not at all likely").is_some_and(|s| s.negated));
    }

    #[test]
    fn every_cue_is_lower_case_distinct_and_matches_itself() {
        for (cue, words) in CUES.iter().zip(CUE_WORDS.iter()) {
            assert_eq!(cue.phrase, cue.phrase.to_lowercase(), "{}", cue.phrase);
            assert!(!words.is_empty(), "{}", cue.phrase);
            let s = suggest(cue.phrase).unwrap();
            assert_eq!(s.cue, cue.phrase, "{} is shadowed", cue.phrase);
            assert_eq!(s.stance, cue.stance);
            assert!(!s.negated);
        }
        for (i, a) in CUE_WORDS.iter().enumerate() {
            for b in &CUE_WORDS[i + 1..] {
                assert_ne!(a, b, "duplicate cue words {a:?}");
            }
        }
        assert_eq!(cues().len(), CUES.len());
    }

    #[test]
    fn default_negation_mirrors_the_band() {
        for st in Stance::ALL {
            assert_eq!(mirror(mirror(st)), st);
        }
        assert_eq!(mirror(Stance::Likely), Stance::Unlikely);
        assert_eq!(mirror(Stance::AlmostCertain), Stance::AlmostNoChance);
        assert_eq!(mirror(Stance::EvenChance), Stance::EvenChance);
        assert_eq!(mirror(Stance::Declined), Stance::Declined);
    }

    proptest! {
        #[test]
        fn suggest_never_panics(phrase in any::<String>()) {
            if let Some(s) = suggest(&phrase) {
                prop_assert!(phrase.contains(&s.matched));
                prop_assert!(!s.matched.is_empty());
            }
        }

        #[test]
        fn suggest_never_panics_on_wordy_input(phrase in "[a-zA-Z' ’.,-]{0,60}") {
            let _ = suggest(&phrase);
        }
    }
}
