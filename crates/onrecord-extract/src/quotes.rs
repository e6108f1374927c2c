//! Finding quotations: paragraphs, quote marks and sentences, in one pass
//! over the text each.
//!
//! Paragraphs are separated by blank lines. Quotes open and close with
//! curly (“ ” ‘ ’), straight (" ') or angled (« » „) marks; a straight mark
//! opens after a space or at a paragraph start and closes otherwise, and an
//! apostrophe between letters (`haven’t`, `Trump’s`) is never a quote mark.
//! Quotes inside a double quote (nested, ‘…’) stay part of it. A double
//! quote left open at the end of a paragraph continues the quote when the
//! next paragraph opens one (the wire convention for long quotes); anywhere
//! else it is unbalanced, reported, and the text after it is read as prose.
//! Every step moves forward through the text, so the work is linear in it.

/// A byte range of the text, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// One quotation found in a paragraph, by byte offsets into the whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawQuote {
    /// The words between the marks.
    pub inner: Range,
    /// From the opening mark to the closing mark (or the paragraph end), inclusive.
    pub outer: Range,
    /// The paragraph it is in (its index).
    pub paragraph: usize,
    /// Opened with a single mark (‘ or '): headlines quote that way.
    pub single: bool,
    /// Left open at its paragraph's end and continued by the next paragraph's quote.
    pub continued: bool,
}

/// Quote marks, paragraphs and sentences of a text.
#[derive(Debug, Default)]
pub struct Layout {
    /// Paragraphs, in order.
    pub paragraphs: Vec<Range>,
    /// Every quote, in text order.
    pub quotes: Vec<RawQuote>,
    /// Sentences, in text order (never crossing a paragraph; quotes inside are not split).
    pub sentences: Vec<Range>,
    /// Byte offsets of quote marks that open a quote nothing closes.
    pub unbalanced: Vec<usize>,
}

/// The longest quote, in bytes, kept as a quote; longer runs are taken for an unclosed mark.
pub const MAX_QUOTE_BYTES: usize = 20_000;

fn is_double_open(c: char) -> bool {
    matches!(c, '“' | '„' | '«')
}

fn is_double_close(c: char) -> bool {
    matches!(c, '”' | '»')
}

fn is_opening_context(prev: Option<char>) -> bool {
    match prev {
        None => true,
        Some(p) => p.is_whitespace() || matches!(p, '(' | '[' | '{' | '—' | '–' | '-' | '/' | ':'),
    }
}

/// Splits `text` into paragraphs (blank-line separated), trimmed of surrounding whitespace.
fn paragraphs(text: &str) -> Vec<Range> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_end = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if blank {
            if let Some(s) = start.take() {
                out.push(Range {
                    start: s,
                    end: last_end,
                });
            }
        } else {
            let lead = line.len() - line.trim_start().len();
            if start.is_none() {
                start = Some(pos + lead);
            }
            last_end = pos + line.trim_end().len();
        }
        pos += line.len();
    }
    if let Some(s) = start {
        out.push(Range {
            start: s,
            end: last_end,
        });
    }
    out
}

/// The open quote while scanning a paragraph.
#[derive(Clone, Copy)]
struct Open {
    mark: usize,
    inner_start: usize,
    single: bool,
}

/// Finds paragraphs, quotes and sentences in `text`.
pub fn layout(text: &str) -> Layout {
    let mut out = Layout {
        paragraphs: paragraphs(text),
        ..Layout::default()
    };
    let paras = out.paragraphs.clone();
    for (index, para) in paras.iter().enumerate() {
        let body = &text[para.start..para.end];
        let mut open: Option<Open> = None;
        let mut prev: Option<char> = None;
        let mut sentence_start = para.start;
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let at = para.start + i;
            let next = chars.peek().map(|&(_, n)| n);
            let after = at + c.len_utf8();
            let opener = is_opening_context(prev) && next.is_some_and(|n| !n.is_whitespace());
            let closer = prev.is_some_and(|p| !p.is_whitespace());
            let word_follows = next.is_some_and(char::is_alphanumeric);
            match open {
                Some(o) if !o.single => {
                    let closes = is_double_close(c) || (c == '"' && (closer || !opener));
                    let reopens = is_double_open(c) || (c == '"' && opener && !closer);
                    if closes {
                        out.quotes.push(quote(o, at, after, index, false));
                        open = None;
                        if ends_sentence_inside(text, o.inner_start, at)
                            && starts_sentence(&body[after - para.start..])
                        {
                            out.sentences.push(Range {
                                start: sentence_start,
                                end: after,
                            });
                            sentence_start = after;
                        }
                    } else if reopens {
                        out.unbalanced.push(o.mark);
                        open = Some(Open {
                            mark: at,
                            inner_start: after,
                            single: false,
                        });
                    } else if at - o.inner_start > MAX_QUOTE_BYTES {
                        out.unbalanced.push(o.mark);
                        open = None;
                    }
                }
                Some(o) => {
                    let closes = matches!(c, '’' | '\'') && closer && !word_follows;
                    if closes {
                        out.quotes.push(quote(o, at, after, index, false));
                        open = None;
                    } else if is_double_open(c) || is_double_close(c) || c == '"' {
                        // A double mark inside a single quote: the single one was an apostrophe.
                        open = None;
                        if is_double_open(c) || (c == '"' && opener) {
                            open = Some(Open {
                                mark: at,
                                inner_start: after,
                                single: false,
                            });
                        }
                    } else if at - o.inner_start > MAX_QUOTE_BYTES {
                        open = None;
                    }
                }
                None => {
                    if is_double_open(c) || (c == '"' && opener) {
                        open = Some(Open {
                            mark: at,
                            inner_start: after,
                            single: false,
                        });
                    } else if matches!(c, '‘' | '\'') && opener && word_follows {
                        open = Some(Open {
                            mark: at,
                            inner_start: after,
                            single: true,
                        });
                    } else if matches!(c, '.' | '?' | '!')
                        && sentence_break(body, i, c)
                        && starts_sentence(&body[after - para.start..])
                    {
                        out.sentences.push(Range {
                            start: sentence_start,
                            end: after,
                        });
                        sentence_start = after;
                    }
                }
            }
            prev = Some(c);
        }
        if let Some(o) = open
            && !o.single
        {
            let continues = paras
                .get(index + 1)
                .and_then(|p| text[p.start..p.end].chars().next())
                .is_some_and(|c| is_double_open(c) || c == '"');
            if continues {
                let mut q = quote(o, para.end, para.end, index, true);
                q.outer.end = para.end;
                out.quotes.push(q);
            } else {
                out.unbalanced.push(o.mark);
            }
        }
        if sentence_start < para.end {
            out.sentences.push(Range {
                start: sentence_start,
                end: para.end,
            });
        }
    }
    out
}

fn quote(
    o: Open,
    inner_end: usize,
    outer_end: usize,
    paragraph: usize,
    continued: bool,
) -> RawQuote {
    RawQuote {
        inner: Range {
            start: o.inner_start,
            end: inner_end,
        },
        outer: Range {
            start: o.mark,
            end: outer_end,
        },
        paragraph,
        single: o.single,
        continued,
    }
}

/// Whether the quote's words end a sentence (`… this point."`).
fn ends_sentence_inside(text: &str, start: usize, end: usize) -> bool {
    text[start..end].trim_end().ends_with(['.', '?', '!'])
}

/// Whether what follows a full stop starts a new sentence: a space, then a capital or a quote mark.
fn starts_sentence(rest: &str) -> bool {
    let mut chars = rest.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_whitespace() {
        return false;
    }
    let next = chars.find(|c| !c.is_whitespace());
    next.is_some_and(|c| {
        c.is_uppercase() || c.is_numeric() || is_double_open(c) || matches!(c, '"' | '‘' | '\'')
    })
}

/// Titles and abbreviations that end with a full stop without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gov", "sen", "rep", "gen", "lt", "col", "sgt", "capt", "st",
    "jr", "sr", "mt", "no", "vs", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov",
    "dec", "inc", "corp", "co", "ltd", "rev", "hon", "pres", "adm", "maj", "cmdr", "gens",
];

/// Whether the `.`/`?`/`!` at byte `i` of `body` can end a sentence: not an initial, not an abbreviation.
fn sentence_break(body: &str, i: usize, c: char) -> bool {
    if c != '.' {
        return true;
    }
    // Look back at most a few bytes: a word longer than that is no abbreviation,
    // and a bounded look keeps the scan linear on text without spaces.
    let mut from = i.saturating_sub(24);
    while !body.is_char_boundary(from) {
        from += 1;
    }
    let before = &body[from..i];
    let word_start = before
        .rfind(|ch: char| ch.is_whitespace() || ch == '(' || ch == '"' || ch == '“')
        .map_or(0, |p| {
            p + before[p..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[word_start..];
    if word.is_empty() {
        return true;
    }
    // Initials and dotted abbreviations: "F.", "U.S.".
    if word.chars().count() == 1 && word.chars().all(char::is_uppercase) {
        return false;
    }
    if word.contains('.') {
        return false;
    }
    !ABBREVIATIONS.contains(&word.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quotes(text: &str) -> Vec<&str> {
        layout(text)
            .quotes
            .iter()
            .map(|q| &text[q.inner.start..q.inner.end])
            .collect()
    }

    #[test]
    fn curly_straight_and_single_quotes_are_found_and_apostrophes_are_not() {
        assert_eq!(
            quotes("“We haven’t set it up,” Trump said. He said \"it's fine\" and ‘Probably Not’."),
            ["We haven’t set it up,", "it's fine", "Probably Not"]
        );
    }

    #[test]
    fn a_nested_quote_stays_inside_its_quote() {
        assert_eq!(
            quotes("“He told me, ‘There will be an election,’ and I believe him,” she said."),
            ["He told me, ‘There will be an election,’ and I believe him,"]
        );
    }

    #[test]
    fn a_quote_left_open_continues_only_into_a_quoted_paragraph() {
        let text = "\"The election will be held.\n\n\"We are ready,\" he said.\n\nA \"stray mark here.\n\nEnd.";
        let l = layout(text);
        let found: Vec<&str> = l
            .quotes
            .iter()
            .map(|q| &text[q.inner.start..q.inner.end])
            .collect();
        assert_eq!(found, ["The election will be held.", "We are ready,"]);
        assert!(l.quotes[0].continued);
        assert_eq!(l.unbalanced, [text.find("\"stray").unwrap()]);
    }

    #[test]
    fn sentences_split_outside_quotes_and_not_after_initials() {
        let text = "“We will meet. Soon,” said Peskov. The U.S. President Donald J. Trump spoke. Mr. Smith left.";
        let l = layout(text);
        let s: Vec<&str> = l
            .sentences
            .iter()
            .map(|r| text[r.start..r.end].trim())
            .collect();
        assert_eq!(
            s,
            [
                "“We will meet. Soon,” said Peskov.",
                "The U.S. President Donald J. Trump spoke.",
                "Mr. Smith left."
            ]
        );
    }
}
