//! Bulk imports in bounded memory, still all or nothing.
//!
//! An import runs in two passes over its input, holding the writer lock
//! throughout:
//!
//! 1. [`ImportCheck`] validates every request against the ledger and the
//!    requests before it, writing nothing. It keeps only compact facts: the
//!    parties and propositions the input defines, and per explicit event id a
//!    digest of the event (for idempotent re-sends and duplicates inside the
//!    input) and, for a statement, its proposition and party (for
//!    retractions). A refusal anywhere therefore writes nothing, and the
//!    free-space check covers the whole input before the first write.
//! 2. [`ImportWrite`] validates and writes the same requests again, in chunks
//!    of [`CHUNK`] events, each one write set like an append's but without
//!    the head and the views marker: records past the head are not part of
//!    the ledger. The last batch writes the head, which commits every chunk
//!    at once; then flush and fdatasync, and only then the acknowledgement.
//!
//! A chunk overwrites some keys that already held committed values (stream
//! heads, kept views); before it does, it saves each one's value in the undo
//! journal (`U` + key), in the same batch. `M/import` marks an import in
//! flight. If the process dies before the head is written, [`recover`] (run
//! when the ledger is next opened) deletes what the staged records created
//! (records, event ids, stream-index entries past each journaled head, view
//! entries, markers), restores the journal, and removes the mark, in bounded
//! batches that can themselves be cut short and run again.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::MutexGuard;

use onrecord_core::{
    Draft, Event, EventId, LedgerFacts, Party, PartyId, PartyKind, PropositionId, StatementFacts,
    StatementRecorded, StreamId,
};
use sha2::{Digest, Sha256};

use crate::admission::validate_at_revision;
use crate::envelope;
use crate::keys::{self, MetaKey};
use crate::ledger::{BatchBuilder, Exclusion, Head, WriterState};
use crate::storage::{Storage, WriteSet};
use crate::stream_index::{CHUNK as INDEX_CHUNK, StreamLayout};
use crate::{AppendRequest, Ledger, StoreError};

/// Events per write set while an import is written (and keys per batch
/// while one is undone): what bounds its memory.
pub const CHUNK: u64 = 2_000;

/// Bytes a stored record takes beyond its payload and its recorder's name
/// (version, seq, id, type, time, previous hash, two length prefixes): used
/// to estimate an import's size before writing it.
const RECORD_OVERHEAD: u64 = 76;

/// How many events an import appends and how many it found already recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    /// Events that are (or will be) appended.
    pub appended: u64,
    /// Events whose id was already recorded with the same content.
    pub already_recorded: u64,
}

/// A small number standing for a party or proposition id inside an import.
type Name = u32;

/// Ids interned so that per-event facts stay a few bytes.
struct Names<T> {
    numbers: HashMap<T, Name>,
    ids: Vec<T>,
}

impl<T> Default for Names<T> {
    fn default() -> Self {
        Self {
            numbers: HashMap::new(),
            ids: Vec::new(),
        }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Names<T> {
    fn intern(&mut self, id: &T) -> Name {
        if let Some(n) = self.numbers.get(id) {
            return *n;
        }
        let n = self.ids.len() as Name;
        self.ids.push(id.clone());
        self.numbers.insert(id.clone(), n);
        n
    }

    fn number(&self, id: &T) -> Option<Name> {
        self.numbers.get(id).copied()
    }

    fn id(&self, n: Name) -> &T {
        &self.ids[n as usize]
    }
}

/// What pass 1 keeps about a statement with an explicit id.
#[derive(Clone, Copy)]
struct StatementKept {
    proposition: Name,
    party: Name,
    speaker: Name,
    retracted: bool,
}

/// [`Kept::proposition`] of an event that is not a statement.
const NOT_A_STATEMENT: Name = Name::MAX;

/// What pass 1 keeps about an event of the input with an explicit id: 32
/// bytes (48 with its id), one per line of an exported ledger.
struct Kept {
    /// [`content_digest`] of the event.
    digest: [u8; DIGEST],
    /// A statement's proposition, party and speaker, or [`NOT_A_STATEMENT`].
    proposition: Name,
    party: Name,
    speaker: Name,
    retracted: bool,
}

impl Kept {
    fn statement(&self) -> Option<StatementKept> {
        (self.proposition != NOT_A_STATEMENT).then_some(StatementKept {
            proposition: self.proposition,
            party: self.party,
            speaker: self.speaker,
            retracted: self.retracted,
        })
    }
}

/// Bytes of SHA-256 kept per event: two events with one id and different
/// contents share a digest by chance with odds of 2^-128.
const DIGEST: usize = 16;

/// What pass 1 keeps per explicit event id, in [`KEPT_SHARDS`] hash maps
/// chosen by the id's last byte (random in v4 and v7 ids alike). One map of
/// a million entries doubles its table in one step, holding the old and the
/// new at once (about 150 MiB at 1 M ids); shards grow one at a time, so the
/// peak is the entries plus one shard's table, not three times the entries.
struct KeptById {
    shards: Vec<HashMap<EventId, Kept>>,
}

/// How many maps [`KeptById`] spreads the ids over.
const KEPT_SHARDS: usize = 256;

impl Default for KeptById {
    fn default() -> Self {
        Self {
            shards: (0..KEPT_SHARDS).map(|_| HashMap::new()).collect(),
        }
    }
}

impl KeptById {
    fn shard(id: &EventId) -> usize {
        usize::from(id.as_bytes()[15]) % KEPT_SHARDS
    }

    fn get(&self, id: &EventId) -> Option<&Kept> {
        self.shards[Self::shard(id)].get(id)
    }

    fn get_mut(&mut self, id: &EventId) -> Option<&mut Kept> {
        self.shards[Self::shard(id)].get_mut(id)
    }

    fn insert(&mut self, id: EventId, kept: Kept) {
        self.shards[Self::shard(&id)].insert(id, kept);
    }
}

/// The facts the input has added so far (pass 1).
#[derive(Default)]
struct InputFacts {
    parties: Names<PartyId>,
    propositions: Names<PropositionId>,
    /// Parties the input registers, and whom each speaks for.
    registered: HashMap<Name, Option<PartyId>>,
    /// Propositions the input opens or resolves: whether resolved.
    opened: HashMap<Name, bool>,
    /// Events of the input with an explicit id.
    kept: KeptById,
    /// Statements recorded before the import that it retracts.
    retracted_before: HashSet<EventId>,
}

/// The ledger as pass 1 sees it: what it holds plus the input so far.
struct CheckFacts<'a> {
    ledger: &'a Ledger,
    input: &'a InputFacts,
}

impl LedgerFacts for CheckFacts<'_> {
    type Error = StoreError;

    fn party(&self, id: &PartyId) -> Result<Option<Party>, StoreError> {
        let here = self.input.parties.number(id);
        match here.and_then(|n| self.input.registered.get(&n)) {
            // Validation asks only whether a party exists and whom it speaks
            // for; the name is not kept.
            Some(speaks_for) => Ok(Some(Party {
                id: id.clone(),
                name: String::new(),
                kind: PartyKind::Person,
                speaks_for: speaks_for.clone(),
                aliases: Vec::new(),
            })),
            None => self.ledger.party(id),
        }
    }

    fn proposition(&self, id: &PropositionId) -> Result<Option<bool>, StoreError> {
        let here = self.input.propositions.number(id);
        match here.and_then(|n| self.input.opened.get(&n)) {
            Some(resolved) => Ok(Some(*resolved)),
            None => self.ledger.proposition(id),
        }
    }

    fn statement(&self, id: &EventId) -> Result<Option<StatementFacts>, StoreError> {
        if let Some(kept) = self.input.kept.get(id) {
            return Ok(kept.statement().map(|s| StatementFacts {
                proposition: self.input.propositions.id(s.proposition).clone(),
                party: self.input.parties.id(s.party).clone(),
                retracted: s.retracted,
            }));
        }
        let facts = self.ledger.statement(id)?;
        Ok(facts.map(|mut f| {
            f.retracted |= self.input.retracted_before.contains(id);
            f
        }))
    }
}

/// The placeholder party a statement's digest is taken with, so that the
/// digest covers everything but its party and speaker (compared on their own).
fn placeholder_party() -> PartyId {
    PartyId::new("x").unwrap_or_else(|_| unreachable!("`x` is a valid party id"))
}

/// A digest of what an event records, party and speaker of a statement
/// aside, so that two events are the same exactly when their digests, kinds
/// and (for statements) parties and speakers are.
fn content_digest(event: &Event) -> [u8; DIGEST] {
    let payload = match event {
        Event::StatementRecorded(s) => {
            envelope::encode_payload(&Event::StatementRecorded(StatementRecorded {
                party: placeholder_party(),
                speaker: placeholder_party(),
                // -0.0 == 0.0, as `Draft::matches` compares credences.
                credence: s.credence.map(|c| c + 0.0),
                ..s.clone()
            }))
        }
        other => envelope::encode_payload(other),
    };
    let digest = Sha256::digest(&payload);
    let mut out = [0u8; DIGEST];
    out.copy_from_slice(&digest[..DIGEST]);
    out
}

/// The event a draft would record, party and speaker aside, for
/// [`content_digest`]; `None` when its credence does not fit its stance.
fn draft_content(draft: &Draft) -> Option<Event> {
    Some(match draft {
        Draft::Party(p) => Event::PartyRegistered(p.clone()),
        Draft::Proposition(p) => Event::PropositionOpened(p.clone()),
        Draft::Retraction(r) => Event::StatementRetracted(r.clone()),
        Draft::Resolution(r) => Event::PropositionResolved(r.clone()),
        Draft::Statement(d) => Event::StatementRecorded(StatementRecorded {
            proposition: d.proposition.clone(),
            party: placeholder_party(),
            speaker: placeholder_party(),
            stance: d.stance,
            credence: d.stance.credence(d.credence).ok()?,
            said_at: d.said_at,
            quote: d.quote.clone(),
            source: d.source.clone(),
            qualifiers: d.qualifiers.clone(),
        }),
    })
}

/// `stream`'s last revision as of the requests checked so far: from
/// `revisions`, else read from the ledger and noted there.
fn import_revision(
    revisions: &mut HashMap<StreamId, Option<u64>>,
    ledger: &Ledger,
    stream: &StreamId,
) -> Result<Option<u64>, StoreError> {
    if let Some(rev) = revisions.get(stream) {
        return Ok(*rev);
    }
    let rev = ledger.stream_revision(stream)?;
    revisions.insert(stream.clone(), rev);
    Ok(rev)
}

/// Pass 1 of an import: checks every request, writes nothing (see the module docs).
pub struct ImportCheck<'a> {
    ledger: &'a Ledger,
    state: MutexGuard<'a, WriterState>,
    /// Keeps the other writers of a shared store out until the import ends.
    exclusion: Exclusion<'a>,
    input: InputFacts,
    /// Each stream's last revision as of the requests checked so far.
    revisions: HashMap<StreamId, Option<u64>>,
    counts: ImportCounts,
    refused: u64,
    bytes: u64,
}

impl Ledger {
    /// Starts a bulk import: takes the writer lock until the import ends
    /// (on a shared store, keeping the other processes' writers out too).
    /// Check every request with [`ImportCheck::check`], then, if none was
    /// refused, write them all again with [`ImportCheck::into_writer`].
    pub fn import(&self) -> Result<ImportCheck<'_>, StoreError> {
        let mut state = self.lock_writer();
        let exclusion = self.exclude_writers(&mut state)?;
        state.ensure_writable(self.path())?;
        Ok(ImportCheck {
            ledger: self,
            state,
            exclusion,
            input: InputFacts::default(),
            revisions: HashMap::new(),
            counts: ImportCounts::default(),
            refused: 0,
            bytes: 0,
        })
    }
}

impl<'a> ImportCheck<'a> {
    /// What the requests checked so far would do.
    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    fn revision(&mut self, stream: &StreamId) -> Result<Option<u64>, StoreError> {
        import_revision(&mut self.revisions, self.ledger, stream)
    }

    /// Whether `draft` records what the input's event `kept` recorded (as
    /// [`Draft::matches`] decides for an event in the ledger).
    fn same_as_kept(&self, draft: &Draft, kept: &Kept) -> bool {
        let Some(content) = draft_content(draft) else {
            return false;
        };
        if content_digest(&content) != kept.digest {
            return false;
        }
        match (draft, kept.statement()) {
            (Draft::Statement(d), Some(s)) => {
                let named = |id: &Option<PartyId>, n: Name| {
                    id.as_ref()
                        .is_none_or(|p| self.input.parties.number(p) == Some(n))
                };
                (d.party.is_some() || d.speaker.is_some())
                    && named(&d.party, s.party)
                    && named(&d.speaker, s.speaker)
            }
            (Draft::Statement(_), None) => false,
            _ => true,
        }
    }

    /// Checks one request against the ledger plus the requests checked
    /// before it (a refused one counts as not there); writes nothing.
    pub fn check(&mut self, request: AppendRequest) -> Result<(), StoreError> {
        let result = self.check_one(request);
        if result.is_err() {
            self.refused += 1;
        }
        result
    }

    fn check_one(&mut self, request: AppendRequest) -> Result<(), StoreError> {
        if let Some(id) = request.event_id {
            if let Some(kept) = self.input.kept.get(&id) {
                return if self.same_as_kept(&request.draft, kept) {
                    self.counts.already_recorded += 1;
                    Ok(())
                } else {
                    Err(StoreError::EventIdConflict(id))
                };
            }
            if let Some(rec) = self.ledger.get_by_id(&id)? {
                return if request.draft.matches(&rec.event) {
                    self.counts.already_recorded += 1;
                    Ok(())
                } else {
                    Err(StoreError::EventIdConflict(id))
                };
            }
        }
        // In the order an append checks it (see `crate::admission`).
        let facts = CheckFacts {
            ledger: self.ledger,
            input: &self.input,
        };
        let validated = validate_at_revision(request.draft, request.expected, &facts, |s| {
            import_revision(&mut self.revisions, self.ledger, s)
        })?;
        for stream in &validated.streams {
            let next = self.revision(stream)?.map_or(0, |r| r + 1);
            self.revisions.insert(stream.clone(), Some(next));
        }
        self.counts.appended += 1;
        self.bytes += request.recorded_by.as_str().len() as u64;
        self.absorb(request.event_id, &validated.event);
        Ok(())
    }

    /// Keeps what later requests may ask about the accepted `event`.
    fn absorb(&mut self, id: Option<EventId>, event: &Event) {
        let input = &mut self.input;
        let mut statement = None;
        match event {
            Event::PartyRegistered(p) => {
                let n = input.parties.intern(&p.id);
                input.registered.insert(n, p.speaks_for.clone());
            }
            Event::PropositionOpened(p) => {
                let n = input.propositions.intern(&p.id);
                input.opened.insert(n, false);
            }
            Event::PropositionResolved(r) => {
                let n = input.propositions.intern(&r.proposition);
                input.opened.insert(n, true);
            }
            Event::StatementRetracted(r) => match input.kept.get_mut(&r.statement) {
                Some(kept) => kept.retracted = true,
                None => {
                    input.retracted_before.insert(r.statement);
                }
            },
            Event::StatementRecorded(s) if id.is_some() => {
                statement = Some(StatementKept {
                    proposition: input.propositions.intern(&s.proposition),
                    party: input.parties.intern(&s.party),
                    speaker: input.parties.intern(&s.speaker),
                    retracted: false,
                });
            }
            Event::StatementRecorded(_) => {}
        }
        // A record's size, for the free-space check, from its payload.
        let payload = envelope::encode_payload(event);
        self.bytes += payload.len() as u64 + RECORD_OVERHEAD;
        if let Some(id) = id {
            let digest = content_digest(event);
            let s = statement.unwrap_or(StatementKept {
                proposition: NOT_A_STATEMENT,
                party: 0,
                speaker: 0,
                retracted: false,
            });
            input.kept.insert(
                id,
                Kept {
                    digest,
                    proposition: s.proposition,
                    party: s.party,
                    speaker: s.speaker,
                    retracted: false,
                },
            );
        }
    }

    /// Ends pass 1 and starts writing. Refuses when any request was refused
    /// ([`StoreError::ImportRefused`]) or when the disk lacks room for the
    /// whole import ([`StoreError::DiskFull`]); nothing is written then.
    pub fn into_writer(self) -> Result<ImportWrite<'a>, StoreError> {
        if self.refused > 0 {
            return Err(StoreError::ImportRefused(self.refused));
        }
        let ImportCheck {
            ledger,
            state,
            exclusion,
            counts,
            bytes,
            ..
        } = self;
        if counts.appended > 0 {
            if ledger.is_read_only() {
                return Err(StoreError::ReadOnly(ledger.path().to_owned()));
            }
            ledger.ensure_room(bytes)?;
            // An earlier import's journal is kept until its last batch is
            // written; what a crash left of it is of no use any more.
            clear_journal(ledger.tree())?;
        }
        let base = state.head;
        let recorded_at = (ledger.clock().now)().max(state.last_recorded_at);
        // Stale views (an interrupted rebuild) stay stale: the import neither
        // extends them nor marks them current; only a rebuild does.
        let keep_views = ledger.views_reflect(base.seq)?;
        Ok(ImportWrite {
            ledger,
            state,
            _exclusion: exclusion,
            base,
            expected: counts,
            counts: ImportCounts::default(),
            batch: Some(BatchBuilder::continuing(
                ledger,
                base,
                recorded_at,
                keep_views,
            )),
            keep_views,
            staged: false,
            committed: false,
            pending: Vec::new(),
        })
    }
}

/// Pass 2 of an import: writes the checked requests in chunks that stay
/// invisible until [`ImportWrite::commit`]. Dropped without a commit, it
/// undoes what it wrote.
pub struct ImportWrite<'a> {
    ledger: &'a Ledger,
    state: MutexGuard<'a, WriterState>,
    /// Keeps the other writers of a shared store out until the import ends
    /// (its chunks are written without moving the head they check).
    _exclusion: Exclusion<'a>,
    /// The head the import started from.
    base: Head,
    /// What pass 1 found.
    expected: ImportCounts,
    counts: ImportCounts,
    /// The chunk being built.
    batch: Option<BatchBuilder<'a>>,
    /// Whether the kept views were current when the import began (and so are extended).
    keep_views: bool,
    /// Whether a chunk has been written (the import mark is set).
    staged: bool,
    committed: bool,
    /// Requests given but not yet built: up to [`CHUNK`], built together
    /// after their keys are read ahead (one round trip or two on a store
    /// whose reads are round trips, rather than a few per request).
    pending: Vec<AppendRequest>,
}

impl<'a> ImportWrite<'a> {
    /// Validates and stages one request, in the order pass 1 checked them
    /// (built with the requests around it, a chunk's worth at a time). A
    /// refusal here, or at [`ImportWrite::commit`], means the input changed
    /// since pass 1; drop the import.
    pub fn write(&mut self, request: AppendRequest) -> Result<(), StoreError> {
        if self.batch.is_none() {
            return Err(StoreError::ImportChanged);
        }
        self.pending.push(request);
        if self.pending.len() as u64 >= CHUNK {
            self.build_pending()?;
        }
        Ok(())
    }

    /// Builds the pending requests into the chunk, their keys read ahead
    /// first, and stages the chunk once it holds [`CHUNK`] events. The
    /// chunk's write set (its kept views too, whose neighbour lookups are
    /// read ahead) is made while the read-ahead lasts and written after it.
    fn build_pending(&mut self) -> Result<(), StoreError> {
        let requests = std::mem::take(&mut self.pending);
        let staged = {
            // Ends before the chunk is written (nothing is written while it reads ahead).
            let _ahead = self.read_ahead(&requests)?;
            self.add_all(requests)?;
            match self.batch.as_ref().is_some_and(|b| b.appended >= CHUNK) {
                true => Some(self.chunk_writes()?),
                false => None,
            }
        };
        if let Some((writes, head, recorded_at)) = staged {
            self.stage_chunk(writes, head, recorded_at)?;
        }
        Ok(())
    }

    /// Reads ahead what building `requests` into the chunk will read.
    fn read_ahead(
        &self,
        requests: &[AppendRequest],
    ) -> Result<Option<crate::read_ahead::ReadingAhead<'a>>, StoreError> {
        let after = self.batch.as_ref().map_or(self.base.seq, |b| b.head.seq);
        crate::read_ahead::read_ahead(self.ledger, requests, false, after)
    }

    /// Adds `requests` to the chunk, counting what each does.
    fn add_all(&mut self, requests: Vec<AppendRequest>) -> Result<(), StoreError> {
        let Some(batch) = self.batch.as_mut() else {
            return Err(StoreError::ImportChanged);
        };
        for request in requests {
            match batch.add(request)? {
                crate::AppendOutcome::Appended { .. } => self.counts.appended += 1,
                crate::AppendOutcome::AlreadyRecorded { .. } => self.counts.already_recorded += 1,
            }
        }
        Ok(())
    }

    /// Adds to `writes` the journal entries of `candidates` not yet journaled:
    /// each key's value before the import (1 then the value), or 0 if it had none.
    fn journal(&self, candidates: Vec<Vec<u8>>, writes: &mut WriteSet) -> Result<(), StoreError> {
        // Each key's journal entry and value, in one read (one round trip
        // where reads are round trips).
        let mut wanted: Vec<Vec<u8>> = candidates.iter().map(|key| keys::undo(key)).collect();
        wanted.extend(candidates);
        let mut found = self.ledger.tree().get_many(&wanted)?;
        let values = found.split_off(wanted.len() / 2);
        let undo_keys = wanted.into_iter().take(values.len());
        for ((undo, journaled), value) in undo_keys.zip(found).zip(values) {
            if journaled.is_some() {
                continue;
            }
            let before = match value {
                Some(v) => [&[1u8][..], &v].concat(),
                None => vec![0u8],
            };
            writes.put(undo, before);
        }
        Ok(())
    }

    /// The write set of the chunk built so far, without the head, with the
    /// journal of the keys it overwrites; the chunk's head and time.
    fn chunk_writes(&mut self) -> Result<(WriteSet, Head, i64), StoreError> {
        let Some(batch) = self.batch.take() else {
            return Err(StoreError::ImportChanged);
        };
        let recorded_at = batch.recorded_at();
        let bytes = batch.bytes;
        let prior = batch.prior_keys(self.base.seq);
        let (mut writes, head) = batch.stage()?;
        self.journal(prior, &mut writes)?;
        if !self.staged {
            writes.put(
                keys::meta(MetaKey::Import),
                &self.base.seq.to_be_bytes()[..],
            );
        }
        self.ledger.ensure_room(bytes)?;
        Ok((writes, head, recorded_at))
    }

    /// Writes a chunk's write set (not moving the head) and starts the next chunk after it.
    fn stage_chunk(
        &mut self,
        writes: WriteSet,
        head: Head,
        recorded_at: i64,
    ) -> Result<(), StoreError> {
        self.staged = true;
        self.ledger.tree().apply(writes)?;
        self.batch = Some(BatchBuilder::continuing(
            self.ledger,
            head,
            recorded_at,
            self.keep_views,
        ));
        Ok(())
    }

    /// Writes the last chunk with the head, which commits the whole import,
    /// makes it durable (flush + fdatasync) and anchors it. Refuses with
    /// [`StoreError::ImportChanged`] (and undoes the chunks) when pass 2 did
    /// not see what pass 1 saw.
    pub fn commit(mut self) -> Result<ImportCounts, StoreError> {
        let requests = std::mem::take(&mut self.pending);
        let last = {
            // The last chunk is built, views and all, while its keys are read ahead.
            let _ahead = self.read_ahead(&requests)?;
            self.add_all(requests)?;
            if self.counts != self.expected {
                return Err(StoreError::ImportChanged);
            }
            let Some(batch) = self.batch.take() else {
                return Err(StoreError::ImportChanged);
            };
            if self.counts.appended == 0 {
                self.committed = true;
                return Ok(self.counts);
            }
            let bytes = batch.bytes;
            let prior = batch.prior_keys(self.base.seq);
            let (mut writes, head, recorded_at) = batch.finish(self.state.unwritten)?;
            self.journal(prior, &mut writes)?;
            writes.delete(keys::meta(MetaKey::Import));
            self.ledger.ensure_room(bytes)?;
            (writes, head, recorded_at)
        };
        let (writes, head, recorded_at) = last;
        let db = self.ledger.tree();
        db.apply(writes)?;
        self.committed = true;
        self.state
            .sync_or_unsure(db)
            .map_err(|e| StoreError::WriteUnsure {
                path: self.ledger.path().to_owned(),
                detail: e.to_string(),
            })?;
        db.acknowledged(&head);
        self.state.head = head;
        self.state.last_recorded_at = recorded_at;
        self.state.unwritten = false;
        // The journal is of no use once the head is written; a crash before
        // it is gone leaves it for the next import to clear.
        let _ = clear_journal(db);
        Ok(self.counts)
    }
}

impl Drop for ImportWrite<'_> {
    fn drop(&mut self) {
        if self.staged && !self.committed {
            // Undo now; if that fails too, the next open undoes it. Until
            // then the staged records and the import mark stay in the store,
            // and an append on top of them would be undone with them (its
            // acknowledged record deleted, the head left naming it), so the
            // ledger takes no more writes until it is reopened.
            let db = self.ledger.tree();
            match recover(db, self.ledger.layout()) {
                Ok(_) => {
                    let _ = self.ledger.make_durable();
                }
                Err(e) => {
                    self.state.unsure =
                        Some(format!("an import cut short could not be undone: {e}"));
                }
            }
            self.ledger.forget_parties();
        }
    }
}

/// Deletes every undo-journal key, in bounded batches.
fn clear_journal(db: &dyn Storage) -> Result<(), StoreError> {
    loop {
        let mut batch = WriteSet::default();
        for kv in db.scan_prefix(&[keys::UNDO]).take(CHUNK as usize) {
            let (key, _) = kv?;
            batch.delete(key);
        }
        if batch.is_empty() {
            return Ok(());
        }
        db.apply(batch)?;
    }
}

/// Undoes an import that was written in part but never committed (see the
/// module docs); returns whether there was one. Every step is a bounded
/// batch that can be cut short and run again.
pub(crate) fn recover(db: &dyn Storage, layout: StreamLayout) -> Result<bool, StoreError> {
    let Some(base) = db.get(&keys::meta(MetaKey::Import))? else {
        return Ok(false);
    };
    let base = keys::be_u64(&base);
    // The staged records, and the keys only they created.
    loop {
        let mut batch = WriteSet::default();
        let mut n = 0;
        for kv in db
            .range(
                Bound::Included(&keys::record(base.saturating_add(1))),
                Bound::Included(&keys::record(u64::MAX)),
            )
            .take(CHUNK as usize)
        {
            let (key, bytes) = kv?;
            let seq = keys::record_seq(&key).unwrap_or(0);
            if let Ok(env) = envelope::decode_envelope(&bytes, seq) {
                batch.delete(&keys::event(&EventId::from_bytes(env.event_id))[..]);
                match envelope::decode_event(&env) {
                    Ok(Event::StatementRecorded(s)) => batch.delete(keys::entry(
                        &s.proposition,
                        &s.party,
                        s.said_at.micros(),
                        seq,
                    )),
                    Ok(Event::StatementRetracted(r)) => {
                        batch.delete(&keys::retracted(&r.statement)[..]);
                    }
                    Ok(Event::PropositionResolved(r)) => {
                        batch.delete(keys::resolved(&r.proposition))
                    }
                    _ => {}
                }
            }
            batch.delete(key);
            n += 1;
        }
        if n == 0 {
            break;
        }
        db.apply(batch)?;
    }
    // The journal: stream heads (and the index entries past them), kept views.
    loop {
        let mut batch = WriteSet::default();
        let mut n = 0;
        for kv in db.scan_prefix(&[keys::UNDO]).take(CHUNK as usize) {
            let (undo, before) = kv?;
            let key = &undo[1..];
            let before = match before.first() {
                Some(1) => Some(&before[1..]),
                _ => None,
            };
            if let Some(stream) = keys::stream_of_head(key) {
                truncate_index(db, layout, &stream, before.map(keys::be_u64))?;
            }
            match before {
                Some(v) => batch.put(key, v),
                None => batch.delete(key),
            }
            batch.delete(undo);
            n += 1;
        }
        if n == 0 {
            break;
        }
        db.apply(batch)?;
    }
    let mut unmark = WriteSet::default();
    unmark.delete(keys::meta(MetaKey::Import));
    db.apply(unmark)?;
    Ok(true)
}

/// Removes `stream`'s index entries past `revision` (all of them when `None`).
fn truncate_index(
    db: &dyn Storage,
    layout: StreamLayout,
    stream: &StreamId,
    revision: Option<u64>,
) -> Result<(), StoreError> {
    let (prefix, first_gone) = match layout {
        StreamLayout::PerRevision => (
            keys::stream_prefix(stream),
            keys::stream_entry(stream, revision.map_or(0, |r| r + 1)),
        ),
        StreamLayout::Chunked => {
            if let Some(r) = revision {
                let key = keys::stream_chunk(stream, r / INDEX_CHUNK);
                let keep = ((r % INDEX_CHUNK + 1) * 8) as usize;
                if let Some(chunk) = db.get(&key)?
                    && chunk.len() > keep
                {
                    let mut cut = WriteSet::default();
                    cut.put(key, &chunk[..keep]);
                    db.apply(cut)?;
                }
            }
            (
                keys::stream_chunk_prefix(stream),
                keys::stream_chunk(stream, revision.map_or(0, |r| r / INDEX_CHUNK + 1)),
            )
        }
    };
    let end = keys::prefix_end(&prefix);
    loop {
        let mut batch = WriteSet::default();
        for kv in db
            .range(Bound::Included(&first_gone[..]), Bound::Excluded(&end[..]))
            .take(CHUNK as usize)
        {
            let (key, _) = kv?;
            batch.delete(key);
        }
        if batch.is_empty() {
            return Ok(());
        }
        db.apply(batch)?;
    }
}
