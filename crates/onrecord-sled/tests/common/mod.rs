//! Shared builders for the store's tests: drafts of each event type and a temp ledger.
#![allow(dead_code)]

use onrecord_core::{
    Draft, EventId, Outcome, Party, PartyId, PartyKind, Proposition, PropositionId,
    PropositionResolved, Stance, StatementDraft, StatementRetracted,
};
use onrecord_ledger::{AppendRequest, Ledger};
use onrecord_sled::LedgerOptions;

pub fn pid(s: &str) -> PartyId {
    PartyId::new(s).unwrap()
}

pub fn prop_id(s: &str) -> PropositionId {
    PropositionId::new(s).unwrap()
}

pub fn party(id: &str, speaks_for: Option<&str>) -> Draft {
    Draft::Party(Party {
        id: pid(id),
        name: format!("Party {id}"),
        kind: PartyKind::Person,
        speaks_for: speaks_for.map(pid),
        aliases: Vec::new(),
    })
}

pub fn proposition(id: &str) -> Draft {
    Draft::Proposition(Proposition {
        id: prop_id(id),
        text: format!("{id} happens"),
        criteria: None,
        window: None,
    })
}

pub fn statement(prop: &str, party: &str, stance: Stance, day: &str) -> Draft {
    Draft::Statement(StatementDraft {
        proposition: prop_id(prop),
        party: Some(pid(party)),
        speaker: None,
        stance,
        credence: None,
        said_at: day.parse().unwrap(),
        quote: Some(format!("{party} says {stance}")),
        source: None,
        qualifiers: vec![],
    })
}

pub fn retraction(statement: EventId) -> Draft {
    Draft::Retraction(StatementRetracted {
        statement,
        reason: "misquoted".into(),
    })
}

pub fn resolution(prop: &str, outcome: Outcome, day: &str) -> Draft {
    Draft::Resolution(PropositionResolved {
        proposition: prop_id(prop),
        outcome,
        resolved_at: day.parse().unwrap(),
        source: None,
        note: None,
    })
}

pub fn req(draft: Draft) -> AppendRequest {
    AppendRequest::new(draft)
}

pub fn options() -> LedgerOptions {
    LedgerOptions {
        cache_capacity: 8 * 1024 * 1024,
        ..LedgerOptions::default()
    }
}

/// A fresh ledger in a temp dir (the dir lives as long as the returned guard).
pub fn temp_ledger() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = onrecord_sled::create(&dir.path().join("l"), &options()).unwrap();
    (dir, ledger)
}

/// The founding story's parties and propositions.
pub fn seed(ledger: &Ledger) {
    ledger
        .append_batch(vec![
            req(party("trump", None)),
            req(party("kremlin", None)),
            req(party("peskov", Some("kremlin"))),
            req(proposition("paris-meeting")),
        ])
        .unwrap();
}

/// Opens the ledger's sled database directly, for tests that damage it on purpose.
/// sled's background flusher can hold the lock for a moment after a handle is
/// dropped, so this retries briefly, as `Ledger::open` does.
pub fn open_raw(path: &std::path::Path) -> sled::Db {
    let started = std::time::Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(10) => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("cannot open {}: {e}", path.display()),
        }
    }
}
