//! Who the article names, and where: full names ("Dmitry Peskov"), the
//! titles they carry ("Kremlin spokesman"), and later mentions by surname,
//! so that a surname, a pronoun or a bare title can be resolved to a full name.
//!
//! Names are capitalised runs of two to four words outside quotes, after
//! any title words ("Russian President Vladimir Putin" names "Vladimir
//! Putin"); runs after "the", runs with an inner possessive and runs ending
//! in an organisation or place word ("National Rally", "Armistice Day") are
//! not people.

use std::collections::HashMap;

use crate::words::{
    Token, TokenKind, is_determiner, is_name_particle, is_not_a_person, is_pronoun, is_role_word,
    is_stop_word, strip_possessive,
};

/// How a speaker's name was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolvedBy {
    /// Written in full where the quote is attributed.
    AsWritten,
    /// A surname, resolved to the full name the article gives.
    Surname,
    /// A pronoun (`he`, `she`), resolved to the person last named before it.
    Pronoun,
    /// A title alone ("the foreign minister"), resolved to the person the article gives that title.
    Title,
    /// No attribution of its own: the same speaker as the quote before it in the paragraph.
    PreviousQuote,
    /// A quote running on into the next paragraph: the speaker of its continuation.
    NextQuote,
}

/// A speaker as the article writes them and as resolved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Speaker {
    /// The words of the attribution naming the speaker, e.g. `he` or `Kremlin spokesman Dmitry Peskov`.
    pub as_written: String,
    /// The full name (or, for an unnamed speaker, the phrase), e.g. `Dmitry Peskov`.
    pub resolved: String,
    /// Title words kept as evidence, e.g. `Kremlin spokesman`.
    pub title: Option<String>,
    /// How `resolved` was found.
    pub resolved_by: ResolvedBy,
    /// Whether the speaker is a named person (not an unnamed official or a body).
    pub named: bool,
}

/// How many titles around a quote a title lookup reads, each way.
pub const TITLE_LOOKAROUND: usize = 64;

/// One mention of a person, at a byte offset.
#[derive(Debug, Clone)]
struct Mention {
    at: usize,
    name: String,
}

/// A title given to a person, at a byte offset.
#[derive(Debug, Clone)]
struct Titled {
    at: usize,
    words: Vec<String>,
    name: String,
}

/// Everyone the article names, with titles and mentions, for resolving speakers.
#[derive(Debug, Default)]
pub struct Names {
    full: HashMap<String, Vec<(usize, String)>>,
    mentions: Vec<Mention>,
    titles: Vec<Titled>,
    surname_candidates: Vec<(usize, String)>,
}

/// A capitalised run inside a token slice: `[start, end)` token indices.
fn capitalized_runs(tokens: &[Token<'_>]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.capitalized() && !is_stop_word(t.text) && !is_determiner(t.text) {
            let start = i;
            let mut end = i + 1;
            while end < tokens.len() {
                let n = &tokens[end];
                if tokens[end - 1].possessive() {
                    break;
                }
                let capital = n.capitalized() && !is_stop_word(n.text) && !is_determiner(n.text);
                let particle = n.is_word()
                    && is_name_particle(n.text)
                    && tokens.get(end + 1).is_some_and(|m| m.capitalized());
                if !(capital || particle) {
                    break;
                }
                end += 1;
            }
            runs.push((start, end));
            i = end;
        } else {
            i += 1;
        }
    }
    runs
}

/// Whether `word` can be part of a person's name.
fn name_word(word: &str) -> bool {
    if is_name_particle(word) {
        return true;
    }
    let bare = strip_possessive(word);
    let mut chars = bare.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_uppercase() || bare.chars().any(|c| c.is_numeric()) || bare.contains('.') {
        return false;
    }
    // Acronyms (HHLA, NATO) are not names; hyphenated parts must each be capitalised.
    let letters: Vec<char> = bare.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) {
        return false;
    }
    bare.split(['-', '‐'])
        .all(|part| part.chars().next().is_some_and(char::is_uppercase))
}

/// The person's name inside a run (after its last role word), as token indices, and the title part.
pub fn split_title(tokens: &[Token<'_>], run: (usize, usize)) -> (usize, usize) {
    let (start, end) = run;
    let role = (start..end).rev().find(|&i| is_role_word(tokens[i].text));
    let name_start = role.map_or(start, |r| r + 1);
    (name_start, end)
}

/// Whether tokens `[s, e)` look like a person's full name.
fn is_full_name(tokens: &[Token<'_>], s: usize, e: usize, after_determiner: bool) -> bool {
    let n = e - s;
    if !(2..=4).contains(&n) || after_determiner {
        return false;
    }
    if tokens[s..e - 1].iter().any(Token::possessive) {
        return false;
    }
    if is_not_a_person(tokens[e - 1].text) || is_name_particle(tokens[s].text) {
        return false;
    }
    tokens[s..e].iter().all(|t| name_word(t.text))
}

/// The lower-case words of a title, without determiners or an owner's possessive (`Hungary's`).
pub fn title_key(words: &[&str]) -> Vec<String> {
    words
        .iter()
        .filter(|w| !is_determiner(w))
        .filter(|w| strip_possessive(w).len() == w.len())
        .map(|w| w.to_lowercase())
        .collect()
}

/// The title words before a name: role words in its run, and up to four words before the run.
fn title_before(tokens: &[Token<'_>], run_start: usize, name_start: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = Vec::new();
    let mut i = run_start;
    let mut taken = 0;
    // An appositive: "Japan's chief cabinet secretary, Kenji Hayashida".
    if i > 0 && tokens[i - 1].kind == TokenKind::Comma {
        i -= 1;
    }
    while i > 0 && taken < 5 {
        let t = &tokens[i - 1];
        if !t.is_word() || is_stop_word(t.text) {
            break;
        }
        idx.push(i - 1);
        taken += 1;
        i -= 1;
    }
    idx.reverse();
    idx.extend(run_start..name_start);
    idx
}

impl Names {
    /// Records the names in one stretch of prose (outside quotes).
    pub fn scan(&mut self, tokens: &[Token<'_>]) {
        for run in capitalized_runs(tokens) {
            let (s, e) = split_title(tokens, run);
            if s >= e {
                continue;
            }
            let after_determiner = s == run.0 && s > 0 && is_determiner(tokens[s - 1].text);
            if is_full_name(tokens, s, e, after_determiner) {
                let name = join(&tokens[s..e]);
                let title_idx = title_before(tokens, run.0, s);
                let words: Vec<&str> = title_idx.iter().map(|&i| tokens[i].text).collect();
                if words.iter().any(|w| is_role_word(w)) {
                    self.titles.push(Titled {
                        at: tokens[s].start,
                        words: title_key(&words),
                        name: name.clone(),
                    });
                }
                let surname = strip_possessive(tokens[e - 1].text).to_lowercase();
                self.full
                    .entry(surname)
                    .or_default()
                    .push((tokens[s].start, name.clone()));
                self.mentions.push(Mention {
                    at: tokens[s].start,
                    name,
                });
            } else if e - s == 1 && !after_determiner && name_word(tokens[s].text) {
                self.surname_candidates
                    .push((tokens[s].start, strip_possessive(tokens[s].text).to_owned()));
            }
        }
    }

    /// Resolves single-word mentions to full names once every name is known.
    pub fn finish(&mut self) {
        let candidates = std::mem::take(&mut self.surname_candidates);
        for (at, word) in candidates {
            if let Some(name) = self.full_name_for(&word, at) {
                self.mentions.push(Mention { at, name });
            }
        }
        self.mentions.sort_by_key(|m| m.at);
        self.titles.sort_by_key(|t| t.at);
    }

    /// The full name whose surname is `word`: the last named before `at`, else the first after.
    pub fn full_name_for(&self, word: &str, at: usize) -> Option<String> {
        let list = self.full.get(&strip_possessive(word).to_lowercase())?;
        // Mentions are recorded in text order: a binary search finds the nearest.
        let i = list.partition_point(|(pos, _)| *pos <= at);
        let pick = if i > 0 { &list[i - 1] } else { list.first()? };
        Some(pick.1.clone())
    }

    /// The person last named before `at`.
    pub fn last_person_before(&self, at: usize) -> Option<String> {
        let i = self.mentions.partition_point(|m| m.at < at);
        i.checked_sub(1).map(|j| self.mentions[j].name.clone())
    }

    /// The person the article gives this title: the same title words (or one ending the other),
    /// an exact title first, then the last given before `at`, else the first after. Looks at
    /// most [`TITLE_LOOKAROUND`] titles each way, so a lookup costs the same in any text.
    pub fn person_with_title(&self, key: &[String], at: usize) -> Option<String> {
        let last = key.last()?;
        let fits = |t: &Titled| {
            t.words.last() == Some(last) && (t.words.ends_with(key) || key.ends_with(&t.words))
        };
        let i = self.titles.partition_point(|t| t.at <= at);
        let before = self.titles[..i].iter().rev().take(TITLE_LOOKAROUND);
        let after = self.titles[i..].iter().take(TITLE_LOOKAROUND);
        let pick = |exact: bool| {
            let ok = |t: &&Titled| fits(t) && (!exact || t.words == key);
            before
                .clone()
                .find(ok)
                .or_else(|| after.clone().find(ok))
                .map(|t| t.name.clone())
        };
        pick(true).or_else(|| pick(false))
    }

    /// Resolves the noun phrase `np` (words of an attribution) to a speaker, if it names one.
    pub fn resolve(&self, text: &str, np: &[Token<'_>]) -> Option<Speaker> {
        let words: Vec<Token<'_>> = np.iter().copied().filter(Token::is_word).collect();
        let first = words.first()?;
        let last = words.last()?;
        let as_written = text[first.start..last.end].to_owned();
        let at = first.start;
        if words.len() == 1 && is_pronoun(first.text) {
            return self.last_person_before(at).map(|name| Speaker {
                as_written,
                resolved: name,
                title: None,
                resolved_by: ResolvedBy::Pronoun,
                named: true,
            });
        }
        if words.len() > 12 {
            return None;
        }
        // The last capitalised run, after its title words, is the person.
        if let Some(&run) = capitalized_runs(&words).last() {
            let (s, e) = split_title(&words, run);
            let after_determiner = s == run.0 && s > 0 && is_determiner(words[s - 1].text);
            let title = (s > 0).then(|| text[words[0].start..words[s - 1].end].to_owned());
            // "in Geneva": a capitalised word after a preposition is a place, not a person.
            let after_preposition = s == run.0
                && s > 0
                && matches!(
                    words[s - 1].text,
                    "in" | "at" | "from" | "of" | "to" | "near" | "for"
                );
            if s < e && e == words.len() && !after_determiner && !after_preposition {
                if is_full_name(&words, s, e, false) {
                    return Some(Speaker {
                        as_written,
                        resolved: join(&words[s..e]),
                        title,
                        resolved_by: ResolvedBy::AsWritten,
                        named: true,
                    });
                }
                if e - s == 1 && name_word(words[s].text) && !is_not_a_person(words[s].text) {
                    let word = strip_possessive(words[s].text);
                    return Some(match self.full_name_for(word, at) {
                        Some(name) => Speaker {
                            as_written,
                            resolved: name,
                            title,
                            resolved_by: ResolvedBy::Surname,
                            named: true,
                        },
                        None => Speaker {
                            as_written,
                            resolved: word.to_owned(),
                            title,
                            resolved_by: ResolvedBy::AsWritten,
                            named: true,
                        },
                    });
                }
            }
        }
        // No name: a title the article gives someone, else an unnamed official or a body.
        let texts: Vec<&str> = words.iter().map(|t| t.text).collect();
        let key = title_key(&texts);
        if key.last().is_some_and(|w| is_role_word(w))
            && let Some(name) = self.person_with_title(&key, at)
        {
            return Some(Speaker {
                as_written: as_written.clone(),
                resolved: name,
                title: Some(as_written),
                resolved_by: ResolvedBy::Title,
                named: true,
            });
        }
        let plausible = words.iter().any(|t| {
            crate::words::is_speaker_noun(t.text) || (t.capitalized() && !is_determiner(t.text))
        });
        plausible.then(|| Speaker {
            as_written: as_written.clone(),
            resolved: as_written,
            title: None,
            resolved_by: ResolvedBy::AsWritten,
            named: false,
        })
    }
}

/// The words of tokens joined by single spaces, without a final possessive.
fn join(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i + 1 == tokens.len() {
            out.push_str(strip_possessive(t.text));
        } else {
            out.push_str(t.text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tokenize;

    fn names(text: &str) -> Names {
        let mut n = Names::default();
        n.scan(&tokenize(text, 0, text.len()));
        n.finish();
        n
    }

    #[test]
    fn full_names_come_without_their_titles_and_surnames_find_them() {
        let text = "Kremlin spokesman Dmitry Peskov spoke to Russian President Vladimir Putin. Later Peskov left the National Rally.";
        let n = names(text);
        assert_eq!(
            n.full_name_for("Peskov", text.len()).as_deref(),
            Some("Dmitry Peskov")
        );
        assert_eq!(
            n.full_name_for("Putin", 0).as_deref(),
            Some("Vladimir Putin")
        );
        assert_eq!(n.full_name_for("Rally", 0), None);
        assert_eq!(
            n.last_person_before(text.len()).as_deref(),
            Some("Dmitry Peskov")
        );
        let key = vec!["kremlin".to_owned(), "spokesman".to_owned()];
        assert_eq!(
            n.person_with_title(&key, 0).as_deref(),
            Some("Dmitry Peskov")
        );
    }
}
