//! Matching a resolved speaker to a ledger's parties: by name, by recorded
//! alias, by surname, or by title evidence equal to an alias; the party whose
//! position a statement is follows `speaks_for`.

use std::collections::HashMap;

use onrecord_core::{Party, PartyId, PartyKind};

use crate::names::Speaker;
use crate::words::strip_possessive;

/// How a speaker was matched to a party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedBy {
    /// The party's name.
    Name,
    /// One of the party's recorded aliases.
    Alias,
    /// The surname of a person party (only when one person party has it).
    Surname,
}

/// The party a statement would be recorded under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartyMatch {
    /// The party that said it.
    #[serde(serialize_with = "crate::serialize_id")]
    pub speaker: PartyId,
    /// The party whose position it is (`speaks_for` of the speaker, else the speaker).
    #[serde(serialize_with = "crate::serialize_id")]
    pub party: PartyId,
    /// How the speaker was matched.
    pub matched_by: MatchedBy,
}

/// A ledger's parties, indexed by the names they go by.
#[derive(Debug, Default, Clone)]
pub struct PartyDirectory {
    parties: HashMap<PartyId, Party>,
    by_name: HashMap<String, PartyId>,
    by_alias: HashMap<String, Vec<PartyId>>,
    by_surname: HashMap<String, Vec<PartyId>>,
}

/// Lower case, straight apostrophes, single spaces, no leading "the", no final possessive.
pub fn normalize(name: &str) -> String {
    let lowered = name.replace('’', "'").to_lowercase();
    let words: Vec<&str> = lowered.split_whitespace().collect();
    let words = match words.first() {
        Some(&"the") if words.len() > 1 => &words[1..],
        _ => &words[..],
    };
    let joined = words.join(" ");
    strip_possessive(&joined).to_owned()
}

impl PartyDirectory {
    /// Indexes the given parties.
    pub fn new(parties: impl IntoIterator<Item = Party>) -> Self {
        let mut dir = PartyDirectory::default();
        for party in parties {
            dir.by_name.insert(normalize(&party.name), party.id.clone());
            for alias in &party.aliases {
                dir.by_alias
                    .entry(normalize(alias))
                    .or_default()
                    .push(party.id.clone());
            }
            if party.kind == PartyKind::Person
                && let Some(last) = party.name.split_whitespace().last()
            {
                dir.by_surname
                    .entry(normalize(last))
                    .or_default()
                    .push(party.id.clone());
            }
            dir.parties.insert(party.id.clone(), party);
        }
        dir
    }

    /// How many parties the directory holds.
    pub fn len(&self) -> usize {
        self.parties.len()
    }

    /// Whether the directory holds no party.
    pub fn is_empty(&self) -> bool {
        self.parties.is_empty()
    }

    fn unique(list: Option<&Vec<PartyId>>) -> Option<PartyId> {
        match list.map(Vec::as_slice) {
            Some([one]) => Some(one.clone()),
            _ => None,
        }
    }

    /// The party the speaker is, if the directory knows them.
    pub fn match_speaker(&self, speaker: &Speaker) -> Option<PartyMatch> {
        let (id, matched_by) = self.find(speaker)?;
        let party = self.parties.get(&id)?;
        Some(PartyMatch {
            party: party.speaks_for.clone().unwrap_or_else(|| id.clone()),
            speaker: id,
            matched_by,
        })
    }

    fn find(&self, speaker: &Speaker) -> Option<(PartyId, MatchedBy)> {
        let resolved = normalize(&speaker.resolved);
        let written = normalize(&speaker.as_written);
        for key in [&resolved, &written] {
            if let Some(id) = self.by_name.get(key) {
                return Some((id.clone(), MatchedBy::Name));
            }
            if let Some(id) = Self::unique(self.by_alias.get(key)) {
                return Some((id, MatchedBy::Alias));
            }
        }
        if speaker.named {
            let last = resolved.split_whitespace().last().unwrap_or_default();
            if let Some(id) = Self::unique(self.by_surname.get(last)) {
                // A full name must agree with the party's name on more than the surname.
                let party = &self.parties[&id];
                let first_names_agree = resolved.split_whitespace().count() == 1
                    || normalize(&party.name).split_whitespace().count() == 1
                    || resolved.split_whitespace().next()
                        == normalize(&party.name).split_whitespace().next();
                if first_names_agree {
                    return Some((id, MatchedBy::Surname));
                }
            }
        }
        // An unnamed speaker whose words are an alias: "the Kremlin spokesman said".
        if let (false, Some(title)) = (speaker.named, &speaker.title)
            && let Some(id) = Self::unique(self.by_alias.get(&normalize(title)))
        {
            return Some((id, MatchedBy::Alias));
        }
        None
    }
}
