//! The engine's ledger: the backend-neutral append pipeline (validation
//! against the ledger's facts, idempotent event ids, expected revisions, the
//! envelope and hash chain, the stream index, the kept views and the head)
//! and the reads, over any [`Storage`].
//!
//! Every append or batch becomes ONE [`WriteSet`] holding the records, their
//! indexes, the kept views and the new head, applied atomically and synced
//! before it is acknowledged. A bulk import (`crate::import`) writes the same
//! write sets in bounded chunks, all but the last without the head. Opening a
//! store (files, locks) is the backend's business; this module never touches
//! a file.

use std::collections::HashMap;
use std::fmt;
use std::ops::Bound;
use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;

use onrecord_core::validate::{BatchOverlay, PendingFacts};
use onrecord_core::{
    Draft, Event, EventId, EventIds, LedgerFacts, Party, PartyId, PropositionId, Recorded,
    Recorder, StatementFacts, StreamId,
};

use crate::admission::validate_at_revision;
use crate::chain::{CheckedRecords, CheckedVerbatim, VerbatimRecord};
use crate::envelope::{self, EnvelopeV2, GENESIS_HASH, Hash};
use crate::keys::{self, MetaKey};
use crate::read_ahead;
use crate::storage::{Acknowledged, Applied, Expect, Storage, WriteSet};
use crate::stream_index::{LAYOUT_2, PendingIndex, StageError, StreamLayout};
use crate::views::ViewUpdate;
use crate::{Damage, StoreError};

/// Where transaction time and new event ids come from, injected together so
/// that a new event's id carries the transaction time its record holds.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Transaction time now, in microseconds since the Unix epoch.
    pub now: fn() -> i64,
    /// A fresh event id for an event recorded at this time (microseconds),
    /// from the ledger's own generator (or not, for a test's fixed ids).
    pub event_id: fn(&EventIds, i64) -> EventId,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            now: system_clock,
            event_id: EventIds::next,
        }
    }
}

/// The most parties [`Ledger`] keeps read (names and all), so that an import
/// naming millions of parties does not keep them all.
const PARTY_CACHE: usize = 4096;

/// How many times one batch is rebuilt because other writers of a shared
/// store moved the head first, before the append is answered as busy. From
/// the second try on the head is held ([`HeldHead`]), so on a store that
/// holds heads (PostgreSQL) the second try commits.
const HEAD_MOVED_RETRIES: u32 = 1000;

/// How many times a batch is built without holding the head before it is
/// held: the first tries cost nothing when writers rarely collide, and the
/// hold bounds how often a busy writer can lose.
pub(crate) const OPTIMISTIC_TRIES: u32 = 3;

/// The head held for a rebuild after another writer of a shared store moved
/// it first ([`Storage::hold_head`]): without it two busy writers can
/// invalidate each other's builds for hundreds of tries (pg-bench counted
/// 217 for one append through two servers). Let go when dropped, unless the
/// commit already did.
struct HeldHead<'a> {
    store: &'a dyn Storage,
    held: bool,
}

impl<'a> HeldHead<'a> {
    /// Holds `store`'s head on any try after the first (`tries` > 0) of a shared store.
    fn after(store: &'a dyn Storage, tries: u32) -> Result<Self, StoreError> {
        let held = tries >= OPTIMISTIC_TRIES && store.shared_writers() && store.hold_head()?;
        Ok(Self { store, held })
    }
}

impl Drop for HeldHead<'_> {
    fn drop(&mut self) {
        if self.held {
            self.store.release_head();
        }
    }
}

/// The most batches, and requests in all, that [`Ledger::append_batches`]
/// commits as one write set on a store whose reads are round trips: a
/// server's group of single appends. Each batch is tried on a copy of the
/// group's builder, so the copies cost grows with the group; a larger group
/// is committed batch by batch.
const GROUP_AS_ONE_BATCHES: usize = 64;
/// See [`GROUP_AS_ONE_BATCHES`].
const GROUP_AS_ONE_REQUESTS: usize = 1_024;

/// Microseconds since the Unix epoch, from the system clock.
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The stream revision an append expects, checked against its primary stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpectedRevision {
    /// No check.
    #[default]
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must exist.
    StreamExists,
    /// The stream's last revision must be exactly this (revisions count from 0).
    Exact(u64),
}

/// A text that is not an expected revision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid expected revision `{0}`: expected any, no-stream, stream-exists or a number")]
pub struct InvalidExpectedRevision(pub String);

impl FromStr for ExpectedRevision {
    type Err = InvalidExpectedRevision;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "any" => Ok(Self::Any),
            "no-stream" => Ok(Self::NoStream),
            "stream-exists" => Ok(Self::StreamExists),
            n => n
                .parse()
                .map(Self::Exact)
                .map_err(|_| InvalidExpectedRevision(n.to_owned())),
        }
    }
}

impl fmt::Display for ExpectedRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::NoStream => f.write_str("no-stream"),
            Self::StreamExists => f.write_str("stream-exists"),
            Self::Exact(n) => write!(f, "{n}"),
        }
    }
}

impl ExpectedRevision {
    /// Whether a stream at `actual` (`None`: no stream) is what this expects.
    pub(crate) fn admits(self, actual: Option<u64>) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual.is_none(),
            Self::StreamExists => actual.is_some(),
            Self::Exact(n) => actual == Some(n),
        }
    }
}

/// One event to append: what to record and who records it, optionally under
/// a chosen id and revision check.
///
/// `recorded_by` is stored with the record (envelope version 2) but is not
/// part of the event: a re-send of a recorded event id with the same content
/// is [`AppendOutcome::AlreadyRecorded`] whoever sends it, and the record
/// keeps the recorder of its first append.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    /// The id to record it under; a fresh v7 id when `None`. A known id makes the append idempotent.
    pub event_id: Option<EventId>,
    /// What to record.
    pub draft: Draft,
    /// The revision its primary stream must be at.
    pub expected: ExpectedRevision,
    /// Who appends it (an API token's name, `local:<user>` on the command line).
    pub recorded_by: Recorder,
}

impl AppendRequest {
    /// A request by `recorded_by`, with a fresh id and no revision check.
    pub fn new(draft: Draft, recorded_by: Recorder) -> Self {
        Self {
            event_id: None,
            draft,
            expected: ExpectedRevision::Any,
            recorded_by,
        }
    }
}

/// What an acknowledged append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The event was written at `seq`.
    Appended {
        /// Its sequence number.
        seq: u64,
        /// Its id.
        event_id: EventId,
    },
    /// The same event was already in the ledger at `seq`; nothing was written.
    AlreadyRecorded {
        /// The original sequence number.
        seq: u64,
        /// Its id.
        event_id: EventId,
    },
}

impl AppendOutcome {
    /// The seq the event holds in the ledger.
    pub fn seq(&self) -> u64 {
        match self {
            Self::Appended { seq, .. } | Self::AlreadyRecorded { seq, .. } => *seq,
        }
    }

    /// The event's id.
    pub fn event_id(&self) -> EventId {
        match self {
            Self::Appended { event_id, .. } | Self::AlreadyRecorded { event_id, .. } => *event_id,
        }
    }
}

/// The ledger's head: its last seq (0 when empty) and that record's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The last sequence number.
    pub seq: u64,
    /// The hash of the record at `seq` (zeros when empty).
    pub hash: Hash,
}

impl Head {
    fn encode(&self) -> [u8; 40] {
        let mut v = [0u8; 40];
        v[..8].copy_from_slice(&self.seq.to_be_bytes());
        v[8..].copy_from_slice(&self.hash);
        v
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let seq = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let hash = bytes.get(8..40)?.try_into().ok()?;
        Some(Self { seq, hash })
    }

    /// The hash as lower-case hex.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) struct WriterState {
    pub(crate) head: Head,
    pub(crate) last_recorded_at: i64,
    pub(crate) damaged: Option<String>,
    /// Set when a write was applied but could not be made durable (whether
    /// it survives is unknown), or an import cut short could not be undone
    /// (the next open undoes it): appends are refused until the ledger is
    /// opened again and its head read afresh (what failed, in words).
    pub(crate) unsure: Option<String>,
    /// Whether nothing has been written yet to a ledger made for its first
    /// append: its first write set also carries the format marks, and a
    /// backend may remove it again if that append is refused.
    pub(crate) unwritten: bool,
}

impl WriterState {
    /// Refuses a write to a ledger whose head failed its check, or whose last
    /// write may or may not have become durable.
    pub(crate) fn ensure_writable(&self, location: &Path) -> Result<(), StoreError> {
        if let Some(why) = &self.damaged {
            return Err(StoreError::DamagedHead(why.clone()));
        }
        if let Some(why) = &self.unsure {
            return Err(StoreError::WriteUnsure {
                path: location.to_owned(),
                detail: why.clone(),
            });
        }
        Ok(())
    }

    /// Makes the applied writes durable; if that fails, whether they survive
    /// is unknown, so the ledger takes no more writes until it is reopened.
    pub(crate) fn sync_or_unsure(&mut self, storage: &dyn Storage) -> Result<(), StoreError> {
        storage
            .sync()
            .inspect_err(|e| self.unsure = Some(format!("it could not be made durable: {e}")))
    }
}

/// The head of an empty ledger.
const EMPTY: Head = Head {
    seq: 0,
    hash: GENESIS_HASH,
};

/// A built batch: its write set, the head it moves to and its transaction time.
type BuiltBatch = (WriteSet, Head, i64);

/// While held, the other writers of a shared store are kept out
/// ([`Storage::exclude_writers`]); dropping it lets them in again.
pub(crate) struct Exclusion<'a> {
    storage: &'a dyn Storage,
}

impl<'a> Exclusion<'a> {
    /// Keeps the other writers of `storage` out (waits for those at work).
    pub(crate) fn begin(storage: &'a dyn Storage) -> Result<Self, StoreError> {
        storage.exclude_writers()?;
        Ok(Self { storage })
    }
}

impl Drop for Exclusion<'_> {
    fn drop(&mut self) {
        self.storage.admit_writers();
    }
}

/// An open ledger over one [`Storage`]. One writer at a time (the backend
/// excludes other processes; within this one, a mutex serialises appends).
pub struct Ledger {
    storage: Box<dyn Storage>,
    /// How the stream index is keyed (see [`crate::stream_index`]).
    layout: StreamLayout,
    /// What the store's acknowledgement record held when it was opened.
    anchored: Acknowledged,
    clock: Clock,
    /// Where new event ids come from (see [`Clock::event_id`]).
    event_ids: EventIds,
    writer: Mutex<WriterState>,
    /// Parties read so far (they never change once registered); at most
    /// [`PARTY_CACHE`] of them.
    parties: Mutex<HashMap<PartyId, Party>>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("location", &self.storage.location())
            .finish()
    }
}

/// How [`Ledger::from_storage`] treats the store it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// An existing ledger: its format mark must be there and known.
    Existing,
    /// A new, empty store: the format marks are written now, durably.
    Create,
    /// A new, empty store whose format marks go with its first append (so a
    /// refused first append leaves it empty; see [`Ledger::is_unwritten`]).
    CreateWithFirstAppend,
}

impl Ledger {
    /// Opens the ledger held by `storage`: undoes an import a crash cut
    /// short, reads the head and checks it against the last record and the
    /// store's acknowledgement (at most a few keyed reads, no scan). A ledger
    /// that fails the check opens, refuses appends and is reported by
    /// [`Ledger::ensure_whole`]; an unknown format is refused here.
    pub fn from_storage(
        storage: Box<dyn Storage>,
        clock: Clock,
        opening: Opening,
    ) -> Result<Self, StoreError> {
        if opening == Opening::Existing {
            match storage.get(&keys::meta(MetaKey::Format))?.as_deref() {
                Some(v) if v == envelope::FORMAT_VERSION.to_be_bytes() => {}
                Some(v) if v.len() == 2 => {
                    return Err(StoreError::UnknownFormat {
                        seq: 0,
                        version: u16::from_be_bytes([v[0], v[1]]),
                        supported: envelope::FORMAT_VERSION,
                    });
                }
                _ => return Err(StoreError::NotALedger(storage.location().to_owned())),
            }
        }
        let layout = match opening {
            Opening::Existing => StreamLayout::of(&*storage)?,
            _ => StreamLayout::Chunked,
        };
        // An import a crash cut short is undone before anything reads the head.
        if crate::import::recover(&*storage, layout)? {
            storage.sync()?;
        }
        let anchored = storage.acknowledgement();
        let mut state = Self::read_writer_state(&*storage, anchored)?;
        state.unwritten = opening == Opening::CreateWithFirstAppend;
        let ledger = Self {
            storage,
            layout,
            anchored,
            clock,
            event_ids: EventIds::new(),
            writer: Mutex::new(state),
            parties: Mutex::new(HashMap::new()),
        };
        if opening == Opening::Create {
            ledger.storage.commit(Self::format_marks())?;
        }
        if opening != Opening::CreateWithFirstAppend && !ledger.storage.is_read_only() {
            ledger.anchor_if_missing();
        }
        Ok(ledger)
    }

    /// The keys that say a store holds an onrecord ledger, and how it is laid out.
    fn format_marks() -> WriteSet {
        let mut marks = WriteSet::default();
        marks.put(
            keys::meta(MetaKey::Format),
            &envelope::FORMAT_VERSION.to_be_bytes()[..],
        );
        marks.put(keys::meta(MetaKey::Layout), &LAYOUT_2[..]);
        marks
    }

    /// Whether this ledger was made for a first append that has not been
    /// written (it holds nothing, not even its format marks).
    pub fn is_unwritten(&self) -> bool {
        self.lock_writer().unwritten
    }

    /// Tells the store the head of a ledger that has no acknowledgement
    /// record yet (a new one, or one written before anchors), unless that
    /// head fails its check.
    fn anchor_if_missing(&self) {
        if self.anchored == Acknowledged::Missing {
            let state = self.lock_writer();
            if state.damaged.is_none() {
                self.storage.acknowledged(&state.head);
            }
        }
    }

    /// What the store's acknowledgement record held when the ledger was opened.
    pub(crate) fn anchored(&self) -> Acknowledged {
        self.anchored
    }

    /// Reads the head and checks it against the last record and the anchor:
    /// at most three keyed lookups, no scan.
    fn read_writer_state(
        db: &dyn Storage,
        anchored: Acknowledged,
    ) -> Result<WriterState, StoreError> {
        let stored = db.get(&keys::meta(MetaKey::Head))?;
        let last = db.last(
            Bound::Included(&keys::record(0)),
            Bound::Included(&keys::record(u64::MAX)),
        );
        // A last record the backend cannot read back is damage, found by
        // `verify` and refused by readers, not a failure to open.
        let (last, unreadable) = match last {
            Ok(last) => (last, None),
            Err(e @ StoreError::Corrupt { .. }) => (None, Some(e.to_string())),
            Err(e) => return Err(e),
        };
        let head = match &stored {
            Some(bytes) => Head::decode(bytes),
            None => Some(Head {
                seq: 0,
                hash: GENESIS_HASH,
            }),
        };
        let mut state = WriterState {
            head: head.unwrap_or(Head {
                seq: 0,
                hash: GENESIS_HASH,
            }),
            last_recorded_at: i64::MIN,
            damaged: None,
            unsure: None,
            unwritten: false,
        };
        let Some(head) = head else {
            state.damaged = Some("the stored head is unreadable".into());
            return Ok(state);
        };
        if unreadable.is_some() {
            state.damaged = unreadable;
            return Ok(state);
        }
        match last {
            None if head.seq == 0 => {}
            None => {
                state.damaged = Some(format!(
                    "the head names seq {} but the ledger holds no record",
                    head.seq
                ))
            }
            Some((key, bytes)) => {
                let seq = keys::record_seq(&key).unwrap_or(0);
                if seq != head.seq {
                    state.damaged = Some(format!(
                        "the head names seq {} but the last record is seq {seq}",
                        head.seq
                    ));
                } else if envelope::hash_record(&bytes) != head.hash {
                    state.damaged = Some(format!("the hash of seq {seq} does not match the head"));
                } else {
                    match envelope::decode_envelope(&bytes, seq) {
                        Ok(env) => state.last_recorded_at = env.recorded_at,
                        Err(e) => state.damaged = Some(e.to_string()),
                    }
                }
            }
        }
        if state.damaged.is_none() {
            state.damaged = Self::check_anchor(db, head, anchored)?;
        }
        Ok(state)
    }

    /// Why the ledger falls short of its anchor, if it does: the anchored seq
    /// must be held, with the anchored hash.
    fn check_anchor(
        db: &dyn Storage,
        head: Head,
        anchored: Acknowledged,
    ) -> Result<Option<String>, StoreError> {
        let anchor = match anchored {
            Acknowledged::Missing => return Ok(None),
            Acknowledged::Unreadable(file) => {
                return Ok(Some(format!("its anchor file ({file}) is unreadable")));
            }
            Acknowledged::At(anchor) => anchor,
        };
        if anchor.seq > head.seq {
            return Ok(Some(format!(
                "seq {} was acknowledged but the ledger ends at seq {}: records were lost",
                anchor.seq, head.seq
            )));
        }
        let hash = if anchor.seq == head.seq {
            head.hash
        } else if anchor.seq == 0 {
            GENESIS_HASH
        } else {
            match db.get(&keys::record(anchor.seq))? {
                Some(bytes) => envelope::hash_record(&bytes),
                None => {
                    return Ok(Some(format!(
                        "the acknowledged seq {} is missing",
                        anchor.seq
                    )));
                }
            }
        };
        Ok((hash != anchor.hash).then(|| {
            format!(
                "the hash of seq {} does not match the one acknowledged for it",
                anchor.seq
            )
        }))
    }

    /// Where the ledger is kept, as messages name it (a directory, or a URL
    /// without credentials).
    pub fn path(&self) -> &Path {
        self.storage.location()
    }

    /// The ledger's head (last seq and hash).
    pub fn head(&self) -> Head {
        self.lock_writer().head
    }

    pub(crate) fn lock_writer(&self) -> std::sync::MutexGuard<'_, WriterState> {
        // A panic while holding the lock cannot leave half a batch in sled (the
        // batch is applied whole or not at all), so a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The store this ledger is kept in.
    pub(crate) fn tree(&self) -> &dyn Storage {
        &*self.storage
    }

    /// The party a statement by `speaker` (naming no party) states the
    /// position of, if this process already knows the speaker's registration
    /// (kept once read: a registered party never changes): whom it speaks
    /// for, else itself. `None` when not known, so nothing is read.
    pub(crate) fn known_speaking_for(&self, speaker: &PartyId) -> Option<PartyId> {
        let cache = self.parties.lock().unwrap_or_else(|p| p.into_inner());
        let party = cache.get(speaker)?;
        Some(party.speaks_for.clone().unwrap_or_else(|| speaker.clone()))
    }

    /// The clock giving transaction time and new event ids.
    pub(crate) fn clock(&self) -> Clock {
        self.clock
    }

    /// How this ledger's stream index is keyed.
    pub(crate) fn layout(&self) -> StreamLayout {
        self.layout
    }

    /// Forgets the parties read so far (after an import's writes were undone).
    pub(crate) fn forget_parties(&self) {
        self.parties
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Makes every applied write durable (the store's sync).
    pub(crate) fn make_durable(&self) -> Result<(), StoreError> {
        self.storage.sync()
    }

    /// Closes the ledger and hands back its store (to open it again, as a
    /// process that restarts would).
    pub fn into_storage(self) -> Box<dyn Storage> {
        self.storage
    }

    /// Refuses a write of `record_bytes` of records the store has no room for.
    pub(crate) fn ensure_room(&self, record_bytes: u64) -> Result<(), StoreError> {
        self.storage.ensure_room(record_bytes)
    }

    /// Appends one event durably; see [`Ledger::append_batch`] for the rules.
    pub fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        match self.append_batch(vec![request]) {
            Ok(mut outcomes) => Ok(outcomes.remove(0)),
            Err(StoreError::BatchRejected(mut errors)) if errors.len() == 1 => {
                Err(errors.remove(0).1)
            }
            Err(e) => Err(e),
        }
    }

    /// Appends a batch atomically and durably: all of its events or none.
    ///
    /// Each event is validated against the ledger plus the batch's earlier
    /// events; an event id already recorded with the same content is a no-op
    /// (its outcome is [`AppendOutcome::AlreadyRecorded`], whoever the
    /// request's recorder: `recorded_by` is not part of the event), with
    /// other content a conflict. Each record keeps its request's `recorded_by`. When any event is refused, nothing is written and
    /// [`StoreError::BatchRejected`] lists every refusal by index. A storage
    /// failure while the batch is checked is returned as it is (nothing is
    /// written either), never as a refusal.
    pub fn append_batch(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        let mut results = self.append_batches(vec![requests]);
        results.pop().unwrap_or(Ok(Vec::new()))
    }

    /// Appends several independent batches with one durable sync for all of
    /// them (group commit): each batch is all or nothing on its own, checked
    /// against the ledger plus the batches accepted before it, and its result
    /// is returned in order. Accepted batches are acknowledged only once the
    /// one sync has made them all durable; if it fails, each of them gets
    /// [`StoreError::WriteUnsure`].
    pub fn append_batches(
        &self,
        batches: Vec<Vec<AppendRequest>>,
    ) -> Vec<Result<Vec<AppendOutcome>, StoreError>> {
        let requests: usize = batches.iter().map(Vec::len).sum();
        if self.storage.reads_are_round_trips()
            && batches.len() > 1
            && batches.len() <= GROUP_AS_ONE_BATCHES
            && requests <= GROUP_AS_ONE_REQUESTS
        {
            return self.append_group_as_one(batches);
        }
        let mut results = Vec::with_capacity(batches.len());
        let mut state = self.lock_writer();
        let mut applied = Vec::new();
        // Other writers of a shared store may have moved the head since this
        // process last looked: the first batch starts from the store's head,
        // not the cached one (a batch whose read of it fails gets that error,
        // and the next batch reads it again).
        let mut stale = self.storage.shared_writers();
        for requests in batches {
            match self.apply_batch(&mut state, requests, &mut stale) {
                Ok((outcomes, wrote)) => {
                    if wrote {
                        applied.push(results.len());
                    }
                    results.push(Ok(outcomes));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        if applied.is_empty() {
            return results;
        }
        match state.sync_or_unsure(&*self.storage) {
            Ok(()) => self.storage.acknowledged(&state.head),
            Err(e) => {
                let detail = e.to_string();
                for i in applied {
                    results[i] = Err(StoreError::WriteUnsure {
                        path: self.path().to_owned(),
                        detail: detail.clone(),
                    });
                }
            }
        }
        results
    }

    /// [`Ledger::append_batches`] on a store whose reads are round trips (a
    /// server's database): the group is built as one write set and
    /// committed in one transaction, so N clients' appends cost one head
    /// lock and one commit rather than N of each. Each batch is still all or
    /// nothing on its own: it is tried on a copy of the builder holding the
    /// batches accepted before it, and kept only if every request of it is
    /// accepted. Its keys are read ahead together, once for the group.
    /// When another writer moved the head first, the whole group is built
    /// again on the ledger as it now is.
    fn append_group_as_one(
        &self,
        batches: Vec<Vec<AppendRequest>>,
    ) -> Vec<Result<Vec<AppendOutcome>, StoreError>> {
        let everyone = |e: StoreError| -> Vec<Result<Vec<AppendOutcome>, StoreError>> {
            let mut results: Vec<_> = (1..batches.len())
                .map(|_| Err(for_each_batch(&e, self.path())))
                .collect();
            results.insert(0, Err(e));
            results
        };
        if self.is_read_only() {
            return everyone(StoreError::ReadOnly(self.path().to_owned()));
        }
        let mut state = self.lock_writer();
        let mut stale = self.storage.shared_writers();
        let all: Vec<AppendRequest> = batches.iter().flatten().cloned().collect();
        for attempt in 0..HEAD_MOVED_RETRIES {
            // After another writer moved the head, the head is held for the rebuild.
            let _held = match HeldHead::after(&*self.storage, attempt) {
                Ok(held) => held,
                Err(e) => return everyone(e),
            };
            // The group's keys read ahead, the head refreshed (a moved
            // head or a shared store) and the group built, in one read-ahead.
            let mut build = || {
                let _ahead = read_ahead::read_ahead(self, &all, stale, state.head.seq)?;
                if stale {
                    self.refresh_writer_state(&mut state)?;
                }
                state.ensure_writable(self.path())?;
                self.build_group(&state, &batches)
            };
            let (mut results, built) = match build() {
                Ok(built) => built,
                Err(e) => return everyone(e),
            };
            // A refusal (or an index that seemed to lack a revision) may only
            // be what reads half before and half after another writer's
            // commit saw (as in `apply_batch`): judged again.
            let refused = results.iter().any(Result::is_err);
            if refused && self.storage.shared_writers() {
                match self.head_moved_from(state.head) {
                    Ok(true) => {
                        stale = true;
                        continue;
                    }
                    Ok(false) => {}
                    Err(e) => return everyone(e),
                }
            }
            let Some((writes, head, recorded_at)) = built else {
                return results;
            };
            let accepted: Vec<usize> = (0..results.len())
                .filter(|&i| {
                    results[i].as_ref().is_ok_and(|o| {
                        o.iter()
                            .any(|o| matches!(o, AppendOutcome::Appended { .. }))
                    })
                })
                .collect();
            let failed = |results: &mut Vec<Result<Vec<AppendOutcome>, StoreError>>,
                          e: StoreError| {
                for &i in &accepted {
                    results[i] = Err(for_each_batch(&e, self.path()));
                }
            };
            match self.storage.apply_if(Expect { head: state.head }, writes) {
                Ok(Applied::Done) => {
                    state.head = head;
                    state.last_recorded_at = recorded_at;
                    state.unwritten = false;
                }
                Ok(Applied::HeadMoved(_)) => {
                    stale = true;
                    continue;
                }
                Err(e) => {
                    failed(&mut results, e);
                    return results;
                }
            }
            match state.sync_or_unsure(&*self.storage) {
                Ok(()) => self.storage.acknowledged(&state.head),
                Err(e) => failed(
                    &mut results,
                    StoreError::WriteUnsure {
                        path: self.path().to_owned(),
                        detail: e.to_string(),
                    },
                ),
            }
            return results;
        }
        everyone(StoreError::LedgerBusy(self.path().to_owned()))
    }

    /// Builds a group's batches as one write set on the ledger at `state`'s
    /// head: each batch's outcomes or refusal (a storage failure while a
    /// batch is checked is that batch's answer), and the write set of the
    /// accepted ones, unless they write nothing.
    #[allow(clippy::type_complexity)]
    fn build_group(
        &self,
        state: &WriterState,
        batches: &[Vec<AppendRequest>],
    ) -> Result<
        (
            Vec<Result<Vec<AppendOutcome>, StoreError>>,
            Option<BuiltBatch>,
        ),
        StoreError,
    > {
        let keep_views = self.views_reflect(state.head.seq)?;
        let mut group = BatchBuilder::new(self, state, keep_views);
        let mut results = Vec::with_capacity(batches.len());
        for requests in batches {
            let mut batch = group.clone();
            let mut outcomes = Vec::with_capacity(requests.len());
            let mut errors = Vec::new();
            let mut failure = None;
            for (index, request) in requests.iter().cloned().enumerate() {
                match batch.add(request) {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(e) if is_refusal(&e) => errors.push((index, e)),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let result = match failure {
                Some(e) => Err(e),
                None if !errors.is_empty() => Err(StoreError::BatchRejected(errors)),
                None => match self.ensure_room(batch.bytes) {
                    Ok(()) => {
                        group = batch;
                        Ok(outcomes)
                    }
                    Err(e) => Err(e),
                },
            };
            results.push(result);
        }
        if group.appended == 0 {
            return Ok((results, None));
        }
        let built = group.finish(state.unwritten)?;
        Ok((results, Some(built)))
    }

    /// Checks one batch and applies its write set (visible, not yet
    /// durable), moving the head; says whether anything was written. When
    /// another writer of a shared store moved the head first, the batch is
    /// checked and built again on the ledger as it now is (so its
    /// validation, idempotency and expected revisions see that writer's
    /// events).
    /// `stale` says the head must be read from the store first (cleared once it is).
    fn apply_batch(
        &self,
        state: &mut WriterState,
        requests: Vec<AppendRequest>,
        stale: &mut bool,
    ) -> Result<(Vec<AppendOutcome>, bool), StoreError> {
        if self.is_read_only() {
            return Err(StoreError::ReadOnly(self.path().to_owned()));
        }
        let shared = self.storage.shared_writers();
        let mut requests = Some(requests);
        for tries in 0..HEAD_MOVED_RETRIES {
            // After another writer moved the head, the head is held for the rebuild.
            let _held = HeldHead::after(&*self.storage, tries)?;
            // Only a shared store can need the batch again (a moved head).
            let attempt = match (&requests, shared) {
                (Some(r), true) => r.clone(),
                _ => requests.take().unwrap_or_default(),
            };
            let built = {
                // On a store whose reads are round trips, what the head
                // refresh and the build will read, read together first; it
                // ends before anything is written or judged again.
                let _ahead = read_ahead::read_ahead(self, &attempt, *stale, state.head.seq)?;
                if *stale {
                    self.refresh_writer_state(state)?;
                    *stale = false;
                }
                state.ensure_writable(self.path())?;
                self.build_batch(state, attempt)
            };
            let (outcomes, built) = match built {
                Ok(built) => built,
                // The batch's reads are not one snapshot: if another writer
                // committed while they ran, a refusal (or an index that
                // seemed to lack a revision) may only be what a read half
                // before and half after that commit saw. Judged again.
                Err(e) if shared => match self.head_moved_from(state.head) {
                    Ok(true) => {
                        *stale = true;
                        continue;
                    }
                    Ok(false) => return Err(e),
                    // A refusal that cannot be judged again is not an
                    // answer: the read's failure is (a storage error stays
                    // itself).
                    Err(read)
                        if matches!(
                            e.kind(),
                            crate::ErrorKind::Invalid
                                | crate::ErrorKind::Conflict
                                | crate::ErrorKind::NotFound
                        ) =>
                    {
                        return Err(read);
                    }
                    Err(_) => return Err(e),
                },
                Err(e) => return Err(e),
            };
            let Some((writes, head, recorded_at)) = built else {
                return Ok((outcomes, false));
            };
            match self.storage.apply_if(Expect { head: state.head }, writes)? {
                Applied::Done => {
                    state.head = head;
                    state.last_recorded_at = recorded_at;
                    state.unwritten = false;
                    return Ok((outcomes, true));
                }
                Applied::HeadMoved(_) => *stale = true,
            }
        }
        Err(StoreError::LedgerBusy(self.path().to_owned()))
    }

    /// Checks one batch against the ledger at `state`'s head and builds its
    /// write set: its outcomes, and unless it writes nothing (every event
    /// already recorded) its writes, new head and transaction time.
    fn build_batch(
        &self,
        state: &WriterState,
        requests: Vec<AppendRequest>,
    ) -> Result<(Vec<AppendOutcome>, Option<BuiltBatch>), StoreError> {
        // Stale views (an interrupted rebuild) stay stale: the batch neither
        // extends them nor marks them current; only a rebuild does.
        let keep_views = self.views_reflect(state.head.seq)?;
        let mut batch = BatchBuilder::new(self, state, keep_views);
        let mut outcomes = Vec::with_capacity(requests.len());
        let mut errors = Vec::new();
        for (index, request) in requests.into_iter().enumerate() {
            match batch.add(request) {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) if is_refusal(&e) => errors.push((index, e)),
                // The store failed (or holds what it cannot have written)
                // while the batch was being checked: no request was judged
                // wrong, so that failure is the answer, not a refusal.
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::BatchRejected(errors));
        }
        if batch.appended == 0 {
            return Ok((outcomes, None));
        }
        self.ensure_room(batch.bytes)?;
        let built = batch.finish(state.unwritten)?;
        Ok((outcomes, Some(built)))
    }

    /// Reads the head (and the last record's time) from the store again,
    /// after another writer of a shared store may have moved it; first
    /// undoes, with the other writers kept out, an import another process
    /// left cut short. A head that fails its check is kept as damage (and
    /// refuses writes), as on open.
    pub(crate) fn refresh_writer_state(&self, state: &mut WriterState) -> Result<(), StoreError> {
        let db = &*self.storage;
        // A store this process may only read cannot undo an import (nor does
        // it need to: the records it staged are past the committed head).
        if !db.is_read_only() && db.contains(&keys::meta(MetaKey::Import))? {
            // Undoing writes: what a read-ahead kept would be stale.
            db.end_read_ahead();
            let _exclusive = Exclusion::begin(db)?;
            if crate::import::recover(db, self.layout)? {
                db.sync()?;
            }
            self.forget_parties();
        }
        match Self::read_committed_head(db)? {
            Ok((head, recorded_at)) => {
                state.head = head;
                state.last_recorded_at = state.last_recorded_at.max(recorded_at);
                if head.seq > 0 {
                    state.unwritten = false;
                }
            }
            Err(why) => state.damaged = Some(why),
        }
        Ok(())
    }

    /// Whether the store's head is no longer `head` (another writer
    /// committed); a head that fails its check counts as not moved (the
    /// damage is reported where the head is read), a failed read is an error.
    fn head_moved_from(&self, head: Head) -> Result<bool, StoreError> {
        Ok(matches!(Self::read_committed_head(&*self.storage)?, Ok((now, _)) if now != head))
    }

    /// The stored head and its record's transaction time, checked against
    /// the record it names (committed with it, and never changed after):
    /// two keyed reads that agree however many commits other writers make
    /// between them (unlike "the last record", which may have moved on).
    /// `Err`: why the head fails its check.
    fn read_committed_head(db: &dyn Storage) -> Result<Result<(Head, i64), String>, StoreError> {
        let head = match db.get(&keys::meta(MetaKey::Head))? {
            None => return Ok(Ok((EMPTY, i64::MIN))),
            Some(bytes) => match Head::decode(&bytes) {
                Some(head) => head,
                None => return Ok(Err("the stored head is unreadable".into())),
            },
        };
        if head.seq == 0 {
            return Ok(Ok((head, i64::MIN)));
        }
        let Some(bytes) = db.get(&keys::record(head.seq))? else {
            return Ok(Err(format!(
                "the head names seq {} but the ledger does not hold it",
                head.seq
            )));
        };
        if envelope::hash_record(&bytes) != head.hash {
            return Ok(Err(format!(
                "the hash of seq {} does not match the head",
                head.seq
            )));
        }
        Ok(envelope::decode_envelope(&bytes, head.seq)
            .map(|env| (head, env.recorded_at))
            .map_err(|e| e.to_string()))
    }

    /// The head a read answers at: this process's own, or, when other
    /// processes move the store's head, the head committed in the store now
    /// (two keyed reads; never undoes another's import, never waits for a
    /// lock). A stored head that fails its check leaves this process's own.
    pub(crate) fn head_for_reads(&self) -> Result<u64, StoreError> {
        if self.storage.others_move_head()
            && let Ok((head, _)) = Self::read_committed_head(&*self.storage)?
        {
            return Ok(head.seq);
        }
        Ok(self.head().seq)
    }

    /// The store's head now: read from the store when other processes may
    /// move it (other writers, or a standby's replay; kept as this ledger's
    /// head), else this process's own.
    pub fn current_head(&self) -> Result<Head, StoreError> {
        let mut state = self.lock_writer();
        if self.storage.others_move_head() {
            self.refresh_writer_state(&mut state)?;
        }
        Ok(state.head)
    }

    /// Whether other processes may append to this ledger while it is open
    /// (a PostgreSQL ledger shared by several servers).
    pub fn shares_writers(&self) -> bool {
        self.storage.shared_writers()
    }

    /// Whether the head may move while the ledger is open without this
    /// process appending (see [`Storage::others_move_head`]): then only
    /// [`Ledger::current_head`] tells where it is now.
    pub fn others_move_head(&self) -> bool {
        self.storage.others_move_head()
    }

    /// Has `on_head` told the seq of every head committed from now on, by
    /// any process (see [`Storage::watch_heads`]); `false` when the store
    /// cannot tell, and this process's own appends are all there are.
    pub fn watch_heads(&self, on_head: crate::HeadListener) -> bool {
        self.storage.watch_heads(on_head)
    }

    /// Keeps the other writers of a shared store out until the returned
    /// guard is dropped, and reads the head again (they may have moved it):
    /// for an operation that writes the log in several write sets.
    pub(crate) fn exclude_writers(
        &self,
        state: &mut WriterState,
    ) -> Result<Exclusion<'_>, StoreError> {
        let exclusion = Exclusion::begin(&*self.storage)?;
        if self.storage.shared_writers() && !self.is_read_only() {
            self.refresh_writer_state(state)?;
        }
        Ok(exclusion)
    }

    /// Appends records another ledger recorded, byte for byte (`copy`): each
    /// must be the next seq and chain to this ledger's head, and keeps its
    /// event id, transaction time, recorder and hash. They are not validated
    /// again (their ledger did that, and the chain proves they are what it
    /// recorded); the event-id and stream indexes and the kept views are
    /// written as an append writes them. Other writers of a shared store are
    /// kept out meanwhile. All of `records` is one write set,
    /// applied and made durable before this returns the new head; refused
    /// records write nothing. Callers bound memory by passing chunks.
    pub fn append_verbatim(&self, records: Vec<VerbatimRecord>) -> Result<Head, StoreError> {
        if self.is_read_only() {
            return Err(StoreError::ReadOnly(self.path().to_owned()));
        }
        let mut state = self.lock_writer();
        // On a shared store other servers may append meanwhile: keep them
        // out and build on the head as committed, or the copy would fork.
        let _exclusive = self.exclude_writers(&mut state)?;
        state.ensure_writable(self.path())?;
        if records.is_empty() {
            return Ok(state.head);
        }
        let keep_views = self.views_reflect(state.head.seq)?;
        let mut batch =
            BatchBuilder::continuing(self, state.head, state.last_recorded_at, keep_views);
        let mut latest = state.last_recorded_at;
        for record in records {
            latest = latest.max(record.record.recorded_at);
            batch.add_verbatim(record)?;
        }
        self.ensure_room(batch.bytes)?;
        let (writes, head, _) = batch.finish(state.unwritten)?;
        self.storage.apply(writes)?;
        state.head = head;
        state.last_recorded_at = latest;
        state.unwritten = false;
        state.sync_or_unsure(&*self.storage)?;
        self.storage.acknowledged(&state.head);
        Ok(head)
    }

    /// The recorded statements whose ids sort right before and after `id`: two
    /// keyed lookups in the event-id index, so a mistyped statement id can be
    /// answered with the ids it is closest to (a typo late in a UUID keeps its
    /// place in the order).
    pub fn statements_near(&self, id: &EventId) -> Result<Vec<EventId>, StoreError> {
        let key = keys::event(id);
        let start = [keys::EVENT];
        let end = keys::prefix_end(&start);
        let before = self
            .storage
            .last(Bound::Included(&start[..]), Bound::Excluded(&key[..]))
            .transpose();
        let after = self
            .storage
            .range(Bound::Included(&key[..]), Bound::Excluded(&end[..]))
            .next();
        let mut out = Vec::new();
        for kv in [before, after].into_iter().flatten() {
            let (k, _) = kv?;
            let Ok(bytes) = <[u8; 16]>::try_from(&k[1..]) else {
                continue;
            };
            let near = EventId::from_bytes(bytes);
            if near != *id && self.statement(&near)?.is_some() {
                out.push(near);
            }
        }
        Ok(out)
    }

    /// The record at `seq`, if any.
    pub fn get(&self, seq: u64) -> Result<Option<Recorded>, StoreError> {
        match self.storage.get(&keys::record(seq))? {
            Some(bytes) => envelope::decode_recorded(&bytes, seq).map(Some),
            None => Ok(None),
        }
    }

    /// The record with event id `id`, if any.
    pub fn get_by_id(&self, id: &EventId) -> Result<Option<Recorded>, StoreError> {
        match self.storage.get(&keys::event(id))? {
            Some(seq) => self.get(keys::be_u64(&seq)),
            None => Ok(None),
        }
    }

    /// Streams the records with `from <= seq <= to`, in seq order, one at a time.
    pub fn records(&self, from: u64, to: u64) -> Records<'_> {
        Records {
            inner: self.storage.range(
                Bound::Included(&keys::record(from)),
                Bound::Included(&keys::record(to)),
            ),
        }
    }

    /// Streams the records with `from <= seq <= to`, each proven by the hash
    /// chain before it is yielded; stops with [`StoreError::Damaged`] at the
    /// first bad seq (see [`crate::chain`]).
    pub fn records_checked(&self, from: u64, to: u64) -> CheckedRecords<'_> {
        CheckedRecords::new(self, from, to)
    }

    /// Streams the records with `from <= seq <= to` with their stored bytes,
    /// proven by the chain as [`Ledger::records_checked`] proves them (what
    /// `copy` reads from its source).
    pub fn records_checked_verbatim(&self, from: u64, to: u64) -> CheckedVerbatim<'_> {
        CheckedVerbatim::new(self, from, to)
    }

    /// Refuses a ledger whose open check failed (its head or anchor says
    /// acknowledged records are missing or altered) with the damage `verify`
    /// reports, so that no reader serves it as whole. Costs nothing on a
    /// sound ledger; walks the log (as `verify` does) only on a damaged one.
    pub fn ensure_whole(&self) -> Result<(), StoreError> {
        let Some(why) = self.lock_writer().damaged.clone() else {
            return Ok(());
        };
        Err(StoreError::Damaged(self.open_damage(why)?))
    }

    /// The first damage of a ledger whose open check failed, as `verify` names it.
    fn open_damage(&self, why: String) -> Result<Damage, StoreError> {
        let report = self.verify(&mut |_, _| {})?;
        Ok(report.damage.unwrap_or(Damage {
            seq: self.head().seq,
            problem: why,
        }))
    }

    /// The first damage `verify` would report, if the open check already
    /// found the ledger damaged (else `None`, at no cost): what a salvage
    /// stops before.
    pub fn damage_found_on_open(&self) -> Result<Option<Damage>, StoreError> {
        // The writer lock is released before the walk, which takes it again.
        let damaged = self.lock_writer().damaged.clone();
        damaged.map(|why| self.open_damage(why)).transpose()
    }

    /// Whether this process may only read the ledger (a read-only archive).
    pub fn is_read_only(&self) -> bool {
        self.storage.is_read_only()
    }

    /// Streams every record from `from` to the end.
    pub fn records_from(&self, from: u64) -> Records<'_> {
        self.records(from, u64::MAX)
    }

    /// The last revision of `stream`, or `None` when it does not exist.
    pub fn stream_revision(&self, stream: &StreamId) -> Result<Option<u64>, StoreError> {
        let v = self.storage.get(&keys::stream_head(stream))?;
        Ok(v.map(|b| keys::be_u64(&b)))
    }

    /// Streams the events of one stream in revision order.
    pub fn stream(
        &self,
        stream: &StreamId,
    ) -> impl Iterator<Item = Result<Recorded, StoreError>> + '_ {
        StreamRecords {
            ledger: self,
            seqs: self.layout.seqs(&*self.storage, stream).fuse(),
            page: std::collections::VecDeque::new(),
            together: self.storage.reads_are_round_trips(),
        }
    }

    /// Every registered party, in id order (reads the party stream heads, not the log).
    pub fn parties(&self) -> Result<Vec<Party>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tree().scan_prefix(&[keys::STREAM_HEAD, b'p']) {
            let (key, _) = kv?;
            let id = std::str::from_utf8(&key[2..])
                .ok()
                .and_then(|s| PartyId::new(s).ok());
            if let Some(party) = id.map(|id| self.party(&id)).transpose()?.flatten() {
                out.push(party);
            }
        }
        Ok(out)
    }

    /// Every proposition id, in order (reads the stream heads, not the log).
    pub fn proposition_ids(&self) -> Result<Vec<PropositionId>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tree().scan_prefix(&[keys::STREAM_HEAD, b'q']) {
            let (key, _) = kv?;
            if let Some(id) = std::str::from_utf8(&key[2..])
                .ok()
                .and_then(|s| PropositionId::new(s).ok())
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The event at revision 0 of `stream`: the party's registration or the proposition's opening.
    fn stream_origin(&self, stream: &StreamId) -> Result<Option<Event>, StoreError> {
        match self.layout.seq_at(&*self.storage, stream, 0)? {
            Some(seq) => Ok(self.get(seq)?.map(|r| r.event)),
            None => Ok(None),
        }
    }

    /// The proposition with this id, as opened.
    pub fn proposition_opened(
        &self,
        id: &PropositionId,
    ) -> Result<Option<onrecord_core::Proposition>, StoreError> {
        match self.stream_origin(&StreamId::Proposition(id.clone()))? {
            Some(Event::PropositionOpened(p)) => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    /// The resolution of proposition `id`, if it has resolved.
    pub fn resolution(&self, id: &PropositionId) -> Result<Option<Recorded>, StoreError> {
        match self.storage.get(&keys::resolved(id))? {
            Some(seq) => self.get(keys::be_u64(&seq)),
            None => Ok(None),
        }
    }

    /// Bytes the ledger's files take on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.storage.size_on_disk()
    }

    /// Checks the whole ledger: hash chain, gapless sequence, indexes and head.
    pub fn verify(
        &self,
        on_progress: &mut dyn FnMut(u64, u64),
    ) -> Result<VerifyReport, StoreError> {
        crate::verify::verify(self, on_progress)
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many records were checked.
    pub records: u64,
    /// How many streams were checked.
    pub streams: u64,
    /// The head it checked against.
    pub head: Head,
    /// The first damage found, if any.
    pub damage: Option<Damage>,
    /// Whether the kept views were compared with a fold of the log, and how
    /// that went (a difference is reported as `damage`).
    pub views: crate::ViewsVerified,
}

/// A streaming iterator over records in seq order.
pub struct Records<'a> {
    inner: crate::storage::Entries<'a>,
}

impl Iterator for Records<'_> {
    type Item = Result<Recorded, StoreError>;
    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next()?;
        Some(item.and_then(|(key, bytes)| {
            envelope::decode_recorded(&bytes, keys::record_seq(&key).unwrap_or(0))
        }))
    }
}

impl LedgerFacts for Ledger {
    type Error = StoreError;

    fn party(&self, id: &PartyId) -> Result<Option<Party>, StoreError> {
        // A registered party never changes (append-only), so once read it is
        // kept: validating a statement then costs a hash lookup, not a read
        // and decode of the party's registration record.
        let cache = || self.parties.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache().get(id) {
            return Ok(Some(p.clone()));
        }
        match self.stream_origin(&StreamId::Party(id.clone()))? {
            Some(Event::PartyRegistered(p)) => {
                let mut cache = cache();
                if cache.len() >= PARTY_CACHE {
                    cache.clear();
                }
                cache.insert(id.clone(), p.clone());
                Ok(Some(p))
            }
            _ => Ok(None),
        }
    }

    fn proposition(&self, id: &PropositionId) -> Result<Option<bool>, StoreError> {
        if self
            .stream_revision(&StreamId::Proposition(id.clone()))?
            .is_none()
        {
            return Ok(None);
        }
        let resolved = self.storage.contains(&keys::resolved(id))?;
        Ok(Some(resolved))
    }

    fn statement(&self, id: &EventId) -> Result<Option<StatementFacts>, StoreError> {
        let Some(rec) = self.get_by_id(id)? else {
            return Ok(None);
        };
        let Event::StatementRecorded(s) = rec.event else {
            return Ok(None);
        };
        let retracted = self.storage.contains(&keys::retracted(id))?;
        Ok(Some(StatementFacts {
            proposition: s.proposition,
            party: s.party,
            retracted,
        }))
    }
}

/// The failure of a group's one commit, told to each batch it held: busy
/// stays busy, unreachable stays unreachable, a write whose fate is unknown
/// stays unsure, anything else is a storage error in the same words.
fn for_each_batch(e: &StoreError, path: &Path) -> StoreError {
    match e {
        StoreError::LedgerBusy(p) => StoreError::LedgerBusy(p.clone()),
        StoreError::ReadOnly(p) => StoreError::ReadOnly(p.clone()),
        StoreError::DiskFull(p) => StoreError::DiskFull(p.clone()),
        StoreError::DamagedHead(why) => StoreError::DamagedHead(why.clone()),
        StoreError::WriteUnsure { path, detail } => StoreError::WriteUnsure {
            path: path.clone(),
            detail: detail.clone(),
        },
        StoreError::Unreachable {
            location, detail, ..
        } => StoreError::Unreachable {
            location: location.clone(),
            detail: detail.clone(),
            source: None,
        },
        StoreError::Storage { path, detail, .. } => StoreError::Storage {
            path: path.clone(),
            detail: detail.clone(),
            source: None,
        },
        other => StoreError::Storage {
            path: path.to_owned(),
            detail: other.to_string(),
            source: None,
        },
    }
}

/// Records a stream read fetches together, on a store whose reads are round trips.
const STREAM_PAGE: usize = 256;

/// One stream's records in revision order ([`Ledger::stream`]): each read
/// by its seq, or, on a store whose reads are round trips, a page of
/// [`STREAM_PAGE`] at a time in one [`Storage::get_many`] (memory: one page).
struct StreamRecords<'a> {
    ledger: &'a Ledger,
    seqs: std::iter::Fuse<crate::stream_index::StreamSeqs<'a>>,
    page: std::collections::VecDeque<Result<Recorded, StoreError>>,
    together: bool,
}

impl StreamRecords<'_> {
    /// A record the index names, or the index's damage when it is missing.
    fn found(seq: u64, bytes: Option<Vec<u8>>) -> Result<Recorded, StoreError> {
        match bytes {
            Some(bytes) => envelope::decode_recorded(&bytes, seq),
            None => Err(StoreError::Corrupt {
                seq,
                detail: "the stream index names a missing record".into(),
            }),
        }
    }
}

impl Iterator for StreamRecords<'_> {
    type Item = Result<Recorded, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.together {
            return Some(self.seqs.next()?.and_then(|seq| {
                let bytes = self.ledger.storage.get(&keys::record(seq))?;
                Self::found(seq, bytes)
            }));
        }
        if let Some(record) = self.page.pop_front() {
            return Some(record);
        }
        let mut seqs = Vec::with_capacity(STREAM_PAGE);
        let mut failed = None;
        while seqs.len() < STREAM_PAGE {
            match self.seqs.next() {
                None => break,
                Some(Ok(seq)) => seqs.push(seq),
                Some(Err(e)) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let keys: Vec<Vec<u8>> = seqs.iter().map(|&s| keys::record(s).to_vec()).collect();
        match self.ledger.storage.get_many(&keys) {
            Ok(values) => self.page.extend(
                seqs.iter()
                    .zip(values)
                    .map(|(&seq, bytes)| Self::found(seq, bytes)),
            ),
            Err(e) => self.page.push_back(Err(e)),
        }
        self.page.extend(failed.map(Err));
        self.page.pop_front()
    }
}

/// Whether `e` refuses one request of a batch (a broken rule or a conflict),
/// rather than saying the ledger could not be read or written.
fn is_refusal(e: &StoreError) -> bool {
    matches!(
        e.kind(),
        crate::ErrorKind::Invalid | crate::ErrorKind::Conflict
    )
}

/// Builds one batch's writes, seeing the ledger plus the batch's earlier
/// events. Cloned to try one client's batch of a group on top of the
/// batches accepted before it (see [`Ledger::append_batches`]).
#[derive(Clone)]
pub(crate) struct BatchBuilder<'a> {
    ledger: &'a Ledger,
    writes: WriteSet,
    pending: PendingFacts,
    explicit_ids: HashMap<EventId, (u64, Event)>,
    /// Each stream's last revision as of the batch so far, and whether the batch moved it.
    stream_heads: HashMap<StreamId, (Option<u64>, bool)>,
    /// The batch's stream-index entries.
    index: PendingIndex,
    pub(crate) head: Head,
    recorded_at: i64,
    pub(crate) appended: u64,
    pub(crate) bytes: u64,
    /// The batch's view writes; `None` when the views are stale and left alone.
    views: Option<ViewUpdate>,
}

impl<'a> BatchBuilder<'a> {
    fn new(ledger: &'a Ledger, state: &WriterState, keep_views: bool) -> Self {
        // Transaction time never goes backwards, even if the clock does.
        let recorded_at = (ledger.clock.now)().max(state.last_recorded_at);
        Self::continuing(ledger, state.head, recorded_at, keep_views)
    }

    /// A batch that follows `head`, its events recorded at `recorded_at`
    /// (an import's later chunks continue its earlier ones); `keep_views`
    /// says whether the kept views are current and so extended.
    pub(crate) fn continuing(
        ledger: &'a Ledger,
        head: Head,
        recorded_at: i64,
        keep_views: bool,
    ) -> Self {
        Self {
            ledger,
            writes: WriteSet::default(),
            pending: PendingFacts::default(),
            explicit_ids: HashMap::new(),
            stream_heads: HashMap::new(),
            index: PendingIndex::default(),
            head,
            recorded_at,
            appended: 0,
            bytes: 0,
            views: keep_views.then(ViewUpdate::default),
        }
    }

    /// The transaction time of the batch's events.
    pub(crate) fn recorded_at(&self) -> i64 {
        self.recorded_at
    }

    fn stream_head(&mut self, stream: &StreamId) -> Result<Option<u64>, StoreError> {
        batch_stream_head(&mut self.stream_heads, self.ledger, stream)
    }

    pub(crate) fn add(&mut self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        if let Some(id) = request.event_id {
            if let Some((seq, event)) = self.explicit_ids.get(&id) {
                return if request.draft.matches(event) {
                    Ok(AppendOutcome::AlreadyRecorded {
                        seq: *seq,
                        event_id: id,
                    })
                } else {
                    Err(StoreError::EventIdConflict(id))
                };
            }
            if let Some(rec) = self.ledger.get_by_id(&id)? {
                return if request.draft.matches(&rec.event) {
                    Ok(AppendOutcome::AlreadyRecorded {
                        seq: rec.seq,
                        event_id: id,
                    })
                } else {
                    Err(StoreError::EventIdConflict(id))
                };
            }
        }
        // In the order an import's check uses too (see `crate::admission`).
        let overlay = BatchOverlay {
            base: self.ledger,
            pending: &self.pending,
        };
        let validated = validate_at_revision(request.draft, request.expected, &overlay, |s| {
            batch_stream_head(&mut self.stream_heads, self.ledger, s)
        })?;

        let seq = self.head.seq + 1;
        let event_id = request.event_id.unwrap_or_else(|| {
            (self.ledger.clock.event_id)(&self.ledger.event_ids, self.recorded_at)
        });
        let env = EnvelopeV2 {
            seq,
            event_id: *event_id.as_bytes(),
            event_type: validated.event.event_type().code(),
            recorded_at: self.recorded_at,
            prev_hash: self.head.hash,
            payload: envelope::encode_payload(&validated.event),
            recorded_by: request.recorded_by.into_string(),
        };
        let bytes = envelope::encode_record_v2(&env);
        self.write_record(seq, event_id, &validated.event, &validated.streams, bytes)?;
        if request.event_id.is_some() {
            self.explicit_ids.insert(event_id, (seq, validated.event));
        }
        Ok(AppendOutcome::Appended { seq, event_id })
    }

    /// Writes one record that follows the batch's head, with its indexes,
    /// markers and view changes, and absorbs its facts for the batch's later
    /// events: what every appended record costs, new or copied verbatim.
    fn write_record(
        &mut self,
        seq: u64,
        event_id: EventId,
        event: &Event,
        streams: &[StreamId],
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.bytes += bytes.len() as u64;
        self.writes.add_record_bytes(bytes.len() as u64);
        let seq_bytes = seq.to_be_bytes();
        self.head = Head {
            seq,
            hash: envelope::hash_record(&bytes),
        };
        self.writes.put(&keys::record(seq)[..], bytes);
        self.writes.put(&keys::event(&event_id)[..], &seq_bytes[..]);
        for stream in streams {
            let revision = self.stream_head(stream)?.map_or(0, |r| r + 1);
            if let Some(head) = self.stream_heads.get_mut(stream) {
                *head = (Some(revision), true);
            }
            self.index
                .stage(
                    self.ledger.layout,
                    self.ledger.tree(),
                    &mut self.writes,
                    stream,
                    revision,
                    seq,
                )
                .map_err(|e| match e {
                    StageError::Storage(e) => e,
                    StageError::Damaged { stream, revision } => StoreError::DamagedHead(format!(
                        "the stream index of {stream} does not hold the revisions before {revision}"
                    )),
                })?;
        }
        match event {
            Event::StatementRetracted(r) => self
                .writes
                .put(&keys::retracted(&r.statement)[..], &seq_bytes[..]),
            Event::PropositionResolved(r) => self
                .writes
                .put(keys::resolved(&r.proposition), &seq_bytes[..]),
            _ => {}
        }
        if let Some(views) = &mut self.views {
            views.on_event(self.ledger, seq, event_id, event)?;
        }
        self.pending.absorb(event_id, event, self.ledger)?;
        self.appended += 1;
        Ok(())
    }

    /// Adds a record another ledger recorded, unchanged (see
    /// [`Ledger::append_verbatim`]): refused unless it is the next seq, chains
    /// to the batch's head and its event id is new here.
    pub(crate) fn add_verbatim(&mut self, verbatim: VerbatimRecord) -> Result<(), StoreError> {
        let VerbatimRecord { record, bytes } = verbatim;
        let expected = self.head.seq + 1;
        if record.seq != expected {
            return Err(StoreError::VerbatimRefused {
                seq: record.seq,
                reason: format!("this ledger's next seq is {expected}"),
            });
        }
        let env = envelope::decode_envelope(&bytes, record.seq)?;
        if env.prev_hash != self.head.hash {
            return Err(StoreError::VerbatimRefused {
                seq: record.seq,
                reason: format!(
                    "it chains to {} but this ledger's head at seq {} is {}",
                    hex(&env.prev_hash),
                    self.head.seq,
                    self.head.hash_hex()
                ),
            });
        }
        if self.explicit_ids.contains_key(&record.event_id)
            || self
                .ledger
                .tree()
                .contains(&keys::event(&record.event_id))?
        {
            return Err(StoreError::VerbatimRefused {
                seq: record.seq,
                reason: format!("event id {} is already recorded here", record.event_id),
            });
        }
        let overlay = BatchOverlay {
            base: self.ledger,
            pending: &self.pending,
        };
        let Some(streams) = onrecord_core::validate::streams_of(&record.event, &overlay)? else {
            return Err(StoreError::VerbatimRefused {
                seq: record.seq,
                reason: "it retracts a statement this ledger does not hold".to_owned(),
            });
        };
        self.explicit_ids
            .insert(record.event_id, (record.seq, record.event.clone()));
        self.write_record(record.seq, record.event_id, &record.event, &streams, bytes)
    }

    /// The keys this batch will overwrite that may hold values written before
    /// seq `base`: the heads of the streams it moved and the kept views it
    /// changes (what an import journals before it overwrites them).
    pub(crate) fn prior_keys(&self, base: u64) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = self
            .stream_heads
            .iter()
            .filter(|(_, (_, moved))| *moved)
            .map(|(stream, _)| keys::stream_head(stream))
            .collect();
        if let Some(views) = &self.views {
            out.extend(views.prior_keys(base));
        }
        out
    }

    /// Adds the stream heads, index chunks and kept views (when current) to
    /// the writes. Stream heads and index chunks are written once per batch,
    /// at their last value, however many of the batch's events they took.
    fn write_indexes(&mut self) -> Result<(), StoreError> {
        for (stream, (revision, moved)) in &self.stream_heads {
            if let (Some(revision), true) = (revision, moved) {
                self.writes
                    .put(keys::stream_head(stream), &revision.to_be_bytes()[..]);
            }
        }
        std::mem::take(&mut self.index).write(&mut self.writes);
        match self.views.as_mut() {
            Some(views) => std::mem::take(views).write(self.ledger, &mut self.writes),
            None => Ok(()),
        }
    }

    /// The writes of an import's chunk that is not its last: everything but
    /// the head and the views marker, so nothing of it is committed.
    pub(crate) fn stage(mut self) -> Result<(WriteSet, Head), StoreError> {
        self.write_indexes()?;
        Ok((self.writes, self.head))
    }

    /// The writes of a whole batch: records, indexes, views and the views
    /// marker (only when the views were current), and the head;
    /// `first_write` adds the format marks of a ledger created for this batch.
    pub(crate) fn finish(mut self, first_write: bool) -> Result<(WriteSet, Head, i64), StoreError> {
        self.write_indexes()?;
        if first_write {
            for (key, value) in Ledger::format_marks().into_ops() {
                if let Some(value) = value {
                    self.writes.put(key, value);
                }
            }
        }
        if self.views.is_some() {
            self.writes.put(
                keys::meta(MetaKey::Views),
                &crate::views::views_marker(self.head.seq)[..],
            );
        }
        self.writes
            .put(keys::meta(MetaKey::Head), &self.head.encode()[..]);
        self.writes.set_head_recorded_at(self.recorded_at);
        Ok((self.writes, self.head, self.recorded_at))
    }
}

/// `stream`'s last revision as of a batch so far: from `heads` (which the
/// batch moves as it goes), else read from the ledger and noted there.
fn batch_stream_head(
    heads: &mut HashMap<StreamId, (Option<u64>, bool)>,
    ledger: &Ledger,
    stream: &StreamId,
) -> Result<Option<u64>, StoreError> {
    if let Some((rev, _)) = heads.get(stream) {
        return Ok(*rev);
    }
    let rev = ledger.stream_revision(stream)?;
    heads.insert(stream.clone(), (rev, false));
    Ok(rev)
}
