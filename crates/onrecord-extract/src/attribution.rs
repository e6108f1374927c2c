//! Who said a quote: the speech verb (or "according to") nearest the quote
//! in its sentence, and the noun phrase it attributes the words to.
//!
//! In order: a cue before the quote in the same stretch of the sentence
//! (`Bolton replied that ... “look forward”`, `Koskinen replied: "..."`),
//! else the first cue after it (`“...,” said Peskov`, `“...,” he added`,
//! `..., according to a senior official`), else a cue earlier in the
//! sentence before another quote (`Y said “a” and “b”`), else a short name
//! before a colon (a headline: `Lindqvist: ‘...’`). The subject of a verb is
//! read back from it, over adverbs (`Peskov previously stated`), up to a
//! stop word; when the verb comes first the speaker follows it, preferring a
//! name in an appositive (`said the head of X, Omar Haddad`). Every search
//! is bounded to a few dozen words, so each quote costs the same however
//! long its sentence.

use crate::words::{
    Token, TokenKind, is_pronoun, is_skippable_before_verb, is_speech_verb, is_stop_word,
};

/// A token of a sentence, or the place of a quote in it.
#[derive(Debug, Clone, Copy)]
pub enum Item<'t> {
    /// A word or punctuation outside quotes.
    Tok(Token<'t>),
    /// The quote with this index in the extraction.
    Quote(usize),
}

/// How far (in tokens) attribution is looked for around a quote.
const WINDOW: usize = 48;

/// How a quote was attributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// A speech verb before the quote.
    VerbBefore,
    /// A speech verb after the quote.
    VerbAfter,
    /// "according to".
    AccordingTo,
    /// A name and a colon before the quote (headline style).
    Colon,
}

/// The attribution found for one quote.
#[derive(Debug, Clone)]
pub struct Found<'t> {
    /// The words naming the speaker.
    pub np: Vec<Token<'t>>,
    /// The byte span of the attribution (speaker and cue).
    pub span: (usize, usize),
    /// What kind of cue it was.
    pub cue: Cue,
}

fn tok<'t>(items: &[Item<'t>], i: usize) -> Option<Token<'t>> {
    match items.get(i) {
        Some(Item::Tok(t)) => Some(*t),
        _ => None,
    }
}

/// Whether the token at `i` starts "according to".
fn according_to(items: &[Item<'_>], i: usize) -> bool {
    tok(items, i).is_some_and(|t| t.text.eq_ignore_ascii_case("according"))
        && tok(items, i + 1).is_some_and(|t| t.text.eq_ignore_ascii_case("to"))
}

fn is_cue(items: &[Item<'_>], i: usize) -> bool {
    tok(items, i).is_some_and(|t| t.is_word() && is_speech_verb(t.text)) || according_to(items, i)
}

/// Whether the quote at item `q` sits inside a clause (a fragment of indirect speech).
pub fn is_fragment(items: &[Item<'_>], q: usize) -> bool {
    q > 0 && matches!(items[q - 1], Item::Tok(t) if t.is_word())
}

/// Tells whether a phrase names a speaker: `None` if not, `Some(true)` for a named person.
pub type Names<'a> = dyn Fn(&[Token<'_>]) -> Option<bool> + 'a;

/// Finds the attribution of the quote at item index `q`; `names` says which phrases name a speaker.
pub fn attribute<'t>(items: &[Item<'t>], q: usize, names: &Names<'_>) -> Option<Found<'t>> {
    // 1. A cue before the quote, back to the previous quote.
    let lo = q.saturating_sub(WINDOW);
    let mut i = q;
    while i > lo {
        i -= 1;
        match items[i] {
            Item::Quote(_) => break,
            Item::Tok(_) if is_cue(items, i) => {
                if let Some(found) = speaker_of_cue(items, i, q, names) {
                    return Some(found);
                }
            }
            Item::Tok(_) => {}
        }
    }
    // 2. The first cue after the quote, up to the next quote or the sentence end.
    let hi = (q + 1 + WINDOW).min(items.len());
    for i in q + 1..hi {
        match items[i] {
            Item::Quote(_) => break,
            Item::Tok(_) if is_cue(items, i) => {
                if let Some(found) = speaker_of_cue(items, i, q, names) {
                    return Some(found);
                }
            }
            Item::Tok(_) => {}
        }
    }
    // 3. A cue before an earlier quote of the same sentence.
    let mut i = q;
    let mut crossed = false;
    while i > lo {
        i -= 1;
        match items[i] {
            Item::Quote(_) => crossed = true,
            Item::Tok(_) if crossed && is_cue(items, i) => {
                if let Some(found) = speaker_of_cue(items, i, q, names) {
                    return Some(found);
                }
            }
            Item::Tok(_) => {}
        }
    }
    // 4. "Name: ‘...’" (headlines).
    if q >= 2 && matches!(items[q - 1], Item::Tok(t) if t.kind == TokenKind::Colon) {
        let mut np = Vec::new();
        let mut j = q - 1;
        while j > 0 && np.len() < 6 {
            match items[j - 1] {
                Item::Tok(t) if t.is_word() && !is_stop_word(t.text) => np.push(t),
                _ => break,
            }
            j -= 1;
        }
        np.reverse();
        if j == 0 && !np.is_empty() && names(&np).is_some() {
            let span = (np[0].start, np[np.len() - 1].end);
            return Some(Found {
                np,
                span,
                cue: Cue::Colon,
            });
        }
    }
    None
}

/// The speaker the cue at `v` attributes words to.
fn speaker_of_cue<'t>(
    items: &[Item<'t>],
    v: usize,
    q: usize,
    names: &Names<'_>,
) -> Option<Found<'t>> {
    let verb = tok(items, v)?;
    if according_to(items, v) {
        let np = forward_np(items, v + 2, true, names);
        let np = strip_source_wrapper(np);
        names(&np)?;
        let last = np.last()?.end;
        return Some(Found {
            span: (verb.start, last),
            np,
            cue: Cue::AccordingTo,
        });
    }
    let cue = if v < q {
        Cue::VerbBefore
    } else {
        Cue::VerbAfter
    };
    // The subject, read back from the verb.
    let mut j = v;
    while j > 0 {
        match tok(items, j - 1) {
            Some(t) if t.is_word() && is_skippable_before_verb(t.text) && !is_pronoun(t.text) => {
                j -= 1
            }
            _ => break,
        }
    }
    let mut np: Vec<Token<'t>> = Vec::new();
    let mut k = j;
    while k > 0 && np.len() < 12 {
        let Some(t) = tok(items, k - 1) else { break };
        if !t.is_word() || is_stop_word(t.text) {
            break;
        }
        np.push(t);
        k -= 1;
        if is_pronoun(t.text) {
            break;
        }
    }
    np.reverse();
    // "Their parliamentary leader, Antti Salonen, said": the appositive names the speaker.
    if np.is_empty() && j > 0 && tok(items, j - 1).is_some_and(|t| t.kind == TokenKind::Comma) {
        let mut chunk = Vec::new();
        let mut k = j - 1;
        while k > 0 && chunk.len() < 8 {
            let Some(t) = tok(items, k - 1) else { break };
            if !t.is_word() {
                break;
            }
            chunk.push(t);
            k -= 1;
        }
        chunk.reverse();
        if chunk.first().is_some_and(Token::capitalized) {
            np = chunk;
        }
    }
    if !np.is_empty() && names(&np).is_some() {
        let start = np[0].start;
        return Some(Found {
            np,
            span: (start, verb.end),
            cue,
        });
    }
    // The verb comes first: the speaker follows it.
    if !np.is_empty() {
        return None;
    }
    let np = forward_np(items, v + 1, false, names);
    names(&np)?;
    let last = np.last()?.end;
    Some(Found {
        np,
        span: (verb.start, last),
        cue,
    })
}

/// Prepositions that end a speaker phrase after a verb (`said Peskov in Moscow`).
fn ends_forward_np(word: &str) -> bool {
    matches!(
        word.to_lowercase().as_str(),
        "in" | "at"
            | "on"
            | "after"
            | "before"
            | "during"
            | "when"
            | "while"
            | "to"
            | "as"
            | "from"
            | "for"
            | "with"
            | "who"
            | "which"
            | "that"
            | "adding"
            | "speaking"
            | "told"
            | "said"
            | "and"
            | "but"
            | "last"
            | "earlier"
            | "later"
            | "today"
            | "yesterday"
            | "this"
    )
}

/// The speaker phrase that starts at item `from`: the first comma-separated chunk,
/// or a name in the next chunk when the first holds none (an appositive).
fn forward_np<'t>(
    items: &[Item<'t>],
    from: usize,
    keep_prepositions: bool,
    names: &Names<'_>,
) -> Vec<Token<'t>> {
    let hi = (from + WINDOW).min(items.len());
    let mut chunks: Vec<Vec<Token<'t>>> = vec![Vec::new()];
    let mut cut = false;
    for item in &items[from..hi] {
        let Item::Tok(t) = item else { break };
        match t.kind {
            TokenKind::Comma => {
                if chunks.len() == 2 {
                    break;
                }
                chunks.push(Vec::new());
                cut = false;
            }
            TokenKind::Word => {
                let chunk = chunks.last_mut().expect("one chunk at least");
                let ends = if keep_prepositions {
                    matches!(t.text.to_lowercase().as_str(), "who" | "which" | "that")
                } else {
                    ends_forward_np(t.text)
                };
                if ends {
                    cut = true;
                }
                if !cut {
                    chunk.push(*t);
                }
            }
            _ => break,
        }
    }
    let has_name = |c: &Vec<Token<'t>>| names(c) == Some(true);
    let first = chunks.first().cloned().unwrap_or_default();
    if has_name(&first) || chunks.len() < 2 {
        return first;
    }
    let second = &chunks[1];
    if !second.is_empty()
        && second.len() <= 4
        && second
            .iter()
            .all(|t| t.capitalized() || crate::words::is_name_particle(t.text))
    {
        let mut np = first;
        np.extend(second.iter().copied());
        // The title chunk stays as evidence; the name is the last capitalised run.
        return np;
    }
    first
}

/// "a statement from the ministry" names the ministry.
fn strip_source_wrapper(np: Vec<Token<'_>>) -> Vec<Token<'_>> {
    let lower: Vec<String> = np.iter().map(|t| t.text.to_lowercase()).collect();
    let wrappers = [
        "statement",
        "statements",
        "report",
        "letter",
        "post",
        "memo",
        "transcript",
        "release",
    ];
    for (i, w) in lower.iter().enumerate().take(3) {
        if wrappers.contains(&w.as_str())
            && lower
                .get(i + 1)
                .is_some_and(|p| matches!(p.as_str(), "from" | "by" | "of"))
            && np.len() > i + 2
        {
            return np[i + 2..].to_vec();
        }
    }
    np
}
