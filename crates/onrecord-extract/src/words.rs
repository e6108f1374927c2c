//! Words and the small word lists attribution reads: speech verbs, roles,
//! pronouns, stop words.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word (letters, digits, inner apostrophes, dots and hyphens).
    Word,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `;`, `(`, `)`, a dash or other clause punctuation.
    Break,
    /// `.`, `?`, `!`
    Stop,
}

/// A token of prose, by byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'t> {
    /// The token as written (a word without trailing dots, unless an abbreviation).
    pub text: &'t str,
    /// Its first byte in the text.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// Word or punctuation.
    pub kind: TokenKind,
}

impl Token<'_> {
    /// Whether this is a word.
    pub fn is_word(&self) -> bool {
        self.kind == TokenKind::Word
    }

    /// The word lower-cased, with a possessive `’s`/`'s` removed.
    pub fn bare_lower(&self) -> String {
        strip_possessive(self.text).to_lowercase()
    }

    /// Whether the word starts with a capital letter.
    pub fn capitalized(&self) -> bool {
        self.is_word() && self.text.chars().next().is_some_and(char::is_uppercase)
    }

    /// Whether the word ends in a possessive `’s` or `'s`.
    pub fn possessive(&self) -> bool {
        strip_possessive(self.text).len() != self.text.len()
    }
}

/// The word without a possessive ending.
pub fn strip_possessive(word: &str) -> &str {
    for suffix in ["’s", "'s", "’", "'"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return stem;
        }
    }
    word
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '’' | '\'' | '.' | '-' | '‐')
}

/// Splits `text[range]` into tokens; offsets are into `text`.
pub fn tokenize<'t>(text: &'t str, start: usize, end: usize) -> Vec<Token<'t>> {
    let mut out = Vec::new();
    let body = &text[start..end];
    let mut word_start: Option<usize> = None;
    let flush = |out: &mut Vec<Token<'t>>, ws: usize, we: usize| {
        let raw = &text[ws..we];
        let trimmed = raw.trim_end_matches(['.', '-', '’', '\'']);
        let keep_dot = raw.ends_with('.')
            && (trimmed.contains('.')
                || trimmed.chars().count() == 1 && trimmed.chars().all(char::is_uppercase));
        let word = if keep_dot { raw } else { trimmed };
        let word = word.trim_start_matches(['’', '\'', '.', '-']);
        if !word.is_empty() && word.chars().any(char::is_alphanumeric) {
            let s = ws + (raw.len() - raw.trim_start_matches(['’', '\'', '.', '-']).len());
            out.push(Token {
                text: word,
                start: s,
                end: s + word.len(),
                kind: TokenKind::Word,
            });
        }
        if !keep_dot && raw[trimmed.len()..].contains('.') {
            let dot = ws + trimmed.len() + raw[trimmed.len()..].find('.').unwrap_or(0);
            out.push(Token {
                text: ".",
                start: dot,
                end: dot + 1,
                kind: TokenKind::Stop,
            });
        }
    };
    for (i, c) in body.char_indices() {
        let at = start + i;
        if is_word_char(c) {
            if word_start.is_none() {
                word_start = Some(at);
            }
            continue;
        }
        if let Some(ws) = word_start.take() {
            flush(&mut out, ws, at);
        }
        let kind = match c {
            ',' => TokenKind::Comma,
            ':' => TokenKind::Colon,
            ';' | '(' | ')' | '—' | '–' | '[' | ']' => TokenKind::Break,
            '?' | '!' => TokenKind::Stop,
            _ => continue,
        };
        out.push(Token {
            text: &text[at..at + c.len_utf8()],
            start: at,
            end: at + c.len_utf8(),
            kind,
        });
    }
    if let Some(ws) = word_start {
        flush(&mut out, ws, end);
    }
    out
}

/// Verbs (and inflections) that attribute speech: `said`, `told`, `added`, ...
const SPEECH_VERBS: &[&str] = &[
    "say",
    "says",
    "said",
    "tell",
    "tells",
    "told",
    "adds",
    "added",
    "states",
    "stated",
    "declares",
    "declared",
    "replies",
    "replied",
    "answered",
    "warns",
    "warned",
    "insists",
    "insisted",
    "explains",
    "explained",
    "notes",
    "noted",
    "writes",
    "wrote",
    "announces",
    "announced",
    "confirms",
    "confirmed",
    "claims",
    "claimed",
    "argues",
    "argued",
    "continues",
    "continued",
    "predicts",
    "predicted",
    "promised",
    "calls",
    "called",
    "describes",
    "described",
    "acknowledges",
    "acknowledged",
    "admits",
    "admitted",
    "concludes",
    "concluded",
    "cautions",
    "cautioned",
    "stresses",
    "stressed",
    "tweeted",
    "posted",
    "recalls",
    "recalled",
    "vows",
    "vowed",
    "pledged",
    "urges",
    "urged",
    "dismisses",
    "dismissed",
    "suggests",
    "suggested",
    "asserts",
    "asserted",
    "maintains",
    "maintained",
    "remarks",
    "remarked",
    "observes",
    "observed",
    "counters",
    "countered",
    "quipped",
    "quips",
    "asks",
    "asked",
    "estimated",
    "reiterated",
    "reiterates",
    "emphasised",
    "emphasized",
    "denied",
    "denies",
    "conceded",
    "concedes",
    "complained",
    "complains",
    "joked",
    "jokes",
    "shouted",
    "telling",
    "saying",
    "adding",
    "writing",
    "calling",
    "describing",
    "warning",
    "insisting",
    "explaining",
    "noting",
];

/// Whether `word` (any case) is a speech verb.
pub fn is_speech_verb(word: &str) -> bool {
    let lower = word.to_lowercase();
    SPEECH_VERBS.contains(&lower.as_str())
}

/// Third-person singular pronouns that can stand for a speaker named earlier.
pub fn is_pronoun(word: &str) -> bool {
    matches!(word.to_lowercase().as_str(), "he" | "she")
}

/// Words that end a noun phrase when reading back from a verb (any case, so headlines count).
const STOP_WORDS: &[&str] = &[
    "later",
    "earlier",
    "meanwhile",
    "however",
    "still",
    "yet",
    "instead",
    "now",
    "today",
    "yesterday",
    "separately",
    "speaking",
    "here",
    "afterwards",
    "previously",
    "asked",
    "that",
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "and",
    "but",
    "or",
    "nor",
    "as",
    "if",
    "when",
    "while",
    "because",
    "after",
    "before",
    "since",
    "in",
    "on",
    "at",
    "to",
    "for",
    "with",
    "by",
    "from",
    "than",
    "then",
    "so",
    "is",
    "was",
    "were",
    "are",
    "be",
    "been",
    "being",
    "would",
    "will",
    "could",
    "can",
    "did",
    "does",
    "do",
    "not",
    "it",
    "they",
    "we",
    "i",
    "you",
    "this",
    "these",
    "those",
    "there",
    "where",
    "how",
    "why",
    "also",
    "says",
    "said",
    "into",
    "over",
    "about",
    "against",
    "between",
    "under",
    "until",
    "meet",
    "of",
    "once",
    "like",
    "even",
    "though",
    "although",
    "whether",
    "amid",
    "despite",
    "per",
    "via",
];

/// Whether `word` (any case) ends a noun phrase.
pub fn is_stop_word(word: &str) -> bool {
    let lower = word.to_lowercase();
    STOP_WORDS.contains(&lower.as_str()) || is_speech_verb(&lower)
}

/// Adverbs and auxiliaries that may stand between a speaker and the verb (`Peskov previously stated`).
pub fn is_skippable_before_verb(word: &str) -> bool {
    let lower = word.to_lowercase();
    (lower.ends_with("ly") && lower.len() > 3)
        || matches!(
            lower.as_str(),
            "had"
                | "has"
                | "have"
                | "also"
                | "later"
                | "then"
                | "again"
                | "once"
                | "earlier"
                | "first"
                | "last"
                | "today"
                | "yesterday"
                | "separately"
                | "previously"
                | "himself"
                | "herself"
                | "further"
                | "still"
                | "too"
                | "has been"
                | "was"
        )
}

/// Role words that come before a name in a title (`Foreign Minister`, `spokesman`).
const ROLE_WORDS: &[&str] = &[
    "president",
    "minister",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "secretary",
    "advisor",
    "adviser",
    "governor",
    "chancellor",
    "mayor",
    "senator",
    "leader",
    "chief",
    "director",
    "ambassador",
    "envoy",
    "commissioner",
    "chairman",
    "chairwoman",
    "chair",
    "premier",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "general",
    "judge",
    "candidate",
    "executive",
    "officer",
    "manager",
    "ceo",
    "economist",
    "analyst",
    "head",
    "official",
    "diplomat",
    "negotiator",
    "prosecutor",
    "lawmaker",
    "legislator",
    "representative",
    "speaker",
    "counterpart",
    "rival",
    "founder",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gov",
    "sen",
    "rep",
    "gen",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "prof.",
    "gov.",
    "sen.",
    "rep.",
    "gen.",
    "chairperson",
    "vice",
    "deputy",
    "foreign",
    "prime",
    "aide",
    "editor",
    "professor",
    "scientist",
    "climatologist",
    "researcher",
    "lawyer",
    "attorney",
    "administrator",
    "superintendent",
    "commander",
    "colonel",
    "captain",
    "lieutenant",
    "sheriff",
    "councillor",
    "councilor",
    "mp",
    "mep",
    "delegate",
    "coordinator",
];

/// Whether `word` (any case) is a role word.
pub fn is_role_word(word: &str) -> bool {
    let lower = strip_possessive(word).to_lowercase();
    ROLE_WORDS.contains(&lower.as_str())
}

/// Last words of capitalised runs that name organisations, places or events, not people.
const NOT_A_PERSON: &[&str] = &[
    "party",
    "rally",
    "network",
    "union",
    "nations",
    "bank",
    "ministry",
    "office",
    "council",
    "commission",
    "sea",
    "ocean",
    "river",
    "university",
    "government",
    "kremlin",
    "house",
    "palace",
    "department",
    "agency",
    "fund",
    "court",
    "parliament",
    "assembly",
    "committee",
    "front",
    "alliance",
    "league",
    "group",
    "company",
    "corp",
    "inc",
    "day",
    "war",
    "summit",
    "treaty",
    "forces",
    "democrats",
    "republicans",
    "conservatives",
    "socialists",
    "times",
    "post",
    "news",
    "press",
    "reuters",
    "street",
    "square",
    "airport",
    "station",
    "city",
    "state",
    "states",
    "republic",
    "kingdom",
    "union's",
    "organization",
    "organisation",
    "institute",
    "foundation",
    "association",
    "federation",
    "army",
    "navy",
    "police",
    "cup",
    "games",
    "festival",
    "week",
    "month",
    "year",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "eu",
    "un",
    "nato",
    "photo",
    "bridge",
    "centre",
    "center",
    "hall",
    "embassy",
    "mission",
    "corridor",
];

/// Whether a run ending with `word` names something other than a person.
pub fn is_not_a_person(word: &str) -> bool {
    NOT_A_PERSON.contains(&strip_possessive(word).to_lowercase().as_str())
}

/// Lower-case words that may sit inside a person's name (`Pieter de Vries`).
pub fn is_name_particle(word: &str) -> bool {
    matches!(
        word,
        "de" | "van"
            | "von"
            | "der"
            | "den"
            | "da"
            | "di"
            | "del"
            | "della"
            | "dos"
            | "du"
            | "la"
            | "le"
            | "bin"
            | "al"
            | "ibn"
            | "ter"
            | "y"
    )
}

/// Determiners dropped from titles before they are compared (`the`, `a`, `its`).
pub fn is_determiner(word: &str) -> bool {
    matches!(
        word.to_lowercase().as_str(),
        "the" | "a" | "an" | "its" | "their" | "his" | "her" | "our" | "this" | "that"
    )
}

/// Nouns that make a phrase without a name a plausible speaker (`a senior official`, `the ministry`).
const SPEAKER_NOUNS: &[&str] = &[
    "official",
    "officials",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "ministry",
    "office",
    "government",
    "minister",
    "president",
    "diplomat",
    "diplomats",
    "source",
    "sources",
    "aide",
    "aides",
    "adviser",
    "advisor",
    "kremlin",
    "department",
    "agency",
    "leader",
    "chief",
    "secretary",
    "police",
    "army",
    "military",
    "court",
    "company",
    "union",
    "committee",
    "commission",
    "council",
    "embassy",
    "palace",
    "authorities",
    "analyst",
    "economist",
    "governor",
    "mayor",
    "statement",
    "spokespeople",
    "representative",
    "prosecutor",
    "prosecutors",
    "administration",
    "cabinet",
    "parliament",
    "party",
    "campaign",
    "bank",
    "regulator",
    "organisers",
    "organizers",
    "negotiator",
    "negotiators",
];

/// Whether `word` is a noun that can name a speaker.
pub fn is_speaker_noun(word: &str) -> bool {
    SPEAKER_NOUNS.contains(&strip_possessive(word).to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_abbreviations_and_possessives_and_split_punctuation() {
        let text = "said U.S. President Donald J. Trump’s aide, Smith.";
        let words: Vec<&str> = tokenize(text, 0, text.len())
            .iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            words,
            [
                "said",
                "U.S.",
                "President",
                "Donald",
                "J.",
                "Trump’s",
                "aide",
                ",",
                "Smith",
                "."
            ]
        );
    }
}
