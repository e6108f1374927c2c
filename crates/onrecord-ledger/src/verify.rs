//! `verify`: walks every record once, in seq order, and proves the hash chain,
//! the gapless sequence, the event-id and stream indexes, the retraction and
//! resolution markers, the head and the head anchor (a ledger shorter than its
//! anchor lost acknowledged records); then, unless they are stale, the kept
//! views against a fold of the log, one proposition at a time, and what the
//! store derives from the records besides ([`crate::Storage::verify_derived`]).
//! It reports the first failure by seq.

use std::collections::HashMap;
use std::ops::Bound;

use onrecord_core::{Event, StreamId};

use crate::envelope::{self, GENESIS_HASH};
use crate::keys;
use crate::ledger::{Head, VerifyReport};
use crate::storage::{Acknowledged, Entries, Storage};
use crate::stream_index::{CHUNK, StreamLayout};
use crate::views::{ViewsVerdict, ViewsVerified};
use crate::{Damage, Ledger, StoreError};

fn damage(seq: u64, problem: impl Into<String>) -> Option<Damage> {
    Some(Damage {
        seq,
        problem: problem.into(),
    })
}

/// Walks the ledger; see the module docs. Storage failures are errors, damage is reported.
pub(crate) fn verify(
    ledger: &Ledger,
    on_progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, StoreError> {
    let db = ledger.tree();
    let stored_head = db.get(&keys::meta(keys::MetaKey::Head))?;
    let head = match stored_head.as_deref() {
        None => Head {
            seq: 0,
            hash: GENESIS_HASH,
        },
        Some(b) if b.len() == 40 => Head {
            seq: keys::be_u64(b),
            hash: b[8..40].try_into().unwrap_or(GENESIS_HASH),
        },
        Some(_) => {
            return Ok(VerifyReport {
                records: 0,
                streams: 0,
                head: Head {
                    seq: 0,
                    hash: GENESIS_HASH,
                },
                damage: damage(0, "the stored head is unreadable"),
                views: ViewsVerified::NotChecked,
            });
        }
    };
    let anchored = match ledger.anchored() {
        Acknowledged::At(anchor) => Some(anchor),
        Acknowledged::Missing | Acknowledged::Unreadable(_) => None,
    };
    let mut report = VerifyReport {
        records: 0,
        streams: 0,
        head,
        damage: None,
        views: ViewsVerified::NotChecked,
    };
    let mut revisions: HashMap<StreamId, u64> = HashMap::new();
    let mut prev_hash = GENESIS_HASH;
    let mut expected_seq = 1u64;
    let range = db.range(
        Bound::Included(&keys::record(0)),
        Bound::Included(&keys::record(u64::MAX)),
    );
    for kv in RecordsAhead::new(db, range, ledger.layout()) {
        let (key, bytes) = match kv {
            Ok(kv) => kv,
            // A backend that cannot read a stored record (a damaged chunk of
            // sled's layout 3) names its seq: damage there, like a bad record.
            Err(StoreError::Corrupt { seq, detail }) => {
                report.damage = damage(seq, detail);
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        let Some(seq) = keys::record_seq(&key) else {
            continue;
        };
        if seq != expected_seq {
            report.damage = damage(
                expected_seq,
                format!("missing record (the next one is seq {seq})"),
            );
            return Ok(report);
        }
        let env = match envelope::decode_envelope(&bytes, seq) {
            Ok(env) => env,
            Err(e) => {
                report.damage = damage(seq, e.to_string());
                return Ok(report);
            }
        };
        if env.seq != seq {
            report.damage = damage(
                seq,
                format!("the record stored here says it is seq {}", env.seq),
            );
            return Ok(report);
        }
        if env.prev_hash != prev_hash {
            // Either the record before was altered, or this one's link was.
            // The record whose own hash no longer matches what its successor
            // (or the head) chained to it is the damaged one.
            let this_hash = envelope::hash_record(&bytes);
            let successor_link = if seq == head.seq {
                Some(head.hash)
            } else {
                db.get(&keys::record(seq + 1))?
                    .and_then(|b| envelope::decode_envelope(&b, seq + 1).ok())
                    .map(|e| e.prev_hash)
            };
            report.damage = if successor_link == Some(this_hash) {
                damage(
                    seq - 1,
                    format!("its content does not match the hash seq {seq} chained to it"),
                )
            } else {
                damage(seq, "its previous-hash does not match the record before it")
            };
            return Ok(report);
        }
        let event = match envelope::decode_event(&env) {
            Ok(ev) => ev,
            Err(e) => {
                report.damage = damage(seq, e.to_string());
                return Ok(report);
            }
        };
        prev_hash = envelope::hash_record(&bytes);
        if let Some(anchor) = anchored.filter(|a| a.seq == seq && a.hash != prev_hash) {
            report.damage = damage(
                anchor.seq,
                "its hash does not match the one recorded in the anchor when it was acknowledged",
            );
            return Ok(report);
        }
        let event_id = onrecord_core::EventId::from_bytes(env.event_id);
        let indexed = db.get(&keys::event(&event_id))?;
        if indexed.as_deref().map(keys::be_u64) != Some(seq) {
            report.damage = damage(
                seq,
                format!("the event-id index does not point at event {event_id}"),
            );
            return Ok(report);
        }
        // The streams the append recorded it in: the definition validation used.
        let streams = match onrecord_core::streams_of(&event, ledger)? {
            Some(s) => s,
            None => {
                report.damage = damage(seq, "it retracts a statement the ledger does not hold");
                return Ok(report);
            }
        };
        for stream in streams {
            let revision = revisions.entry(stream.clone()).or_insert(u64::MAX);
            *revision = revision.wrapping_add(1);
            let at = ledger.layout().seq_at(db, &stream, *revision)?;
            if at != Some(seq) {
                report.damage = damage(
                    seq,
                    format!("stream {stream} revision {revision} does not point here"),
                );
                return Ok(report);
            }
        }
        let marker = match &event {
            Event::StatementRetracted(r) => Some(keys::retracted(&r.statement).to_vec()),
            Event::PropositionResolved(r) => Some(keys::resolved(&r.proposition)),
            _ => None,
        };
        if let Some(marker) = marker {
            let at = db.get(&marker)?;
            if at.as_deref().map(keys::be_u64) != Some(seq) {
                report.damage = damage(
                    seq,
                    "its retraction or resolution marker does not point here",
                );
                return Ok(report);
            }
        }
        report.records += 1;
        expected_seq += 1;
        if report.records.is_multiple_of(10_000) {
            on_progress(report.records, head.seq);
        }
    }
    on_progress(report.records, head.seq);
    let last = expected_seq - 1;
    if let Some(anchor) = anchored.filter(|a| a.seq > last) {
        report.damage = damage(
            last + 1,
            format!(
                "missing record: seq {} was acknowledged (the anchor file says so) but the ledger ends at seq {last}",
                anchor.seq
            ),
        );
        return Ok(report);
    }
    if last != head.seq {
        let seq = last.min(head.seq) + 1;
        report.damage = damage(
            seq,
            format!(
                "the head names seq {} but the last record is seq {last}",
                head.seq
            ),
        );
        return Ok(report);
    }
    if prev_hash != head.hash {
        report.damage = damage(last, "its content does not match the hash the head holds");
        return Ok(report);
    }
    // Stream heads and index entries beyond what the records account for.
    let expected_heads: HashMap<Vec<u8>, u64> = revisions
        .iter()
        .map(|(stream, rev)| (keys::stream_head(stream), *rev))
        .collect();
    let mut heads = 0u64;
    for kv in db.scan_prefix(&[keys::STREAM_HEAD]) {
        let (key, value) = kv?;
        heads += 1;
        if expected_heads.get(&key) != Some(&keys::be_u64(&value)) {
            report.damage = damage(
                last + 1,
                format!(
                    "a stream head ({}) no record accounts for",
                    String::from_utf8_lossy(&key[1..])
                ),
            );
            return Ok(report);
        }
    }
    if heads != revisions.len() as u64 {
        report.damage = damage(last + 1, "some streams have no head");
        return Ok(report);
    }
    for (stream, revision) in &revisions {
        if let Some(problem) = index_beyond(ledger, stream, *revision)? {
            report.damage = damage(last + 1, problem);
            return Ok(report);
        }
    }
    report.streams = heads;
    match crate::views::verify_views(ledger, head.seq)? {
        ViewsVerdict::Checked(views) => report.views = views,
        ViewsVerdict::Differs(d) => {
            report.damage = Some(d);
            return Ok(report);
        }
    }
    // What the store derives from the records besides the keyspace
    // (PostgreSQL's SQL read tables).
    if let Some(d) = db.verify_derived(head.seq)? {
        report.damage = Some(d);
        return Ok(report);
    }
    if let Acknowledged::Unreadable(file) = ledger.anchored() {
        // Reported last, so that it is the only damage when it is reported:
        // then the records prove themselves and only the anchor is lost.
        report.damage = damage(
            0,
            format!(
                "its anchor file is unreadable, though the records, chain and indexes verify; \
                 if you trust them, delete {} and the next open anchors the ledger at its head",
                ledger.path().join(file).display()
            ),
        );
    }
    Ok(report)
}

/// Records a page at a time, on a store whose reads are round trips.
const AHEAD_PAGE: usize = 512;

/// The records of a range as `verify` walks them. On a store whose reads are
/// round trips (PostgreSQL) they are taken a page at a time, and the keys
/// verify will look up for them are read ahead together
/// ([`Storage::read_ahead`]): each record's event-id entry, the stream-index
/// chunk (or entry) its revisions fall in, its retraction or resolution
/// mark. One round trip per page instead of several per record. The keys
/// are a hint: the revisions are counted here as verify counts them,
/// except for a retraction's streams (known only from the statement it
/// retracts), whose later chunks may then be missed and read one by one.
/// Elsewhere the range as it is. Memory: one page.
struct RecordsAhead<'a> {
    store: &'a dyn Storage,
    records: Entries<'a>,
    page: std::vec::IntoIter<Result<crate::storage::Entry, StoreError>>,
    revisions: HashMap<StreamId, u64>,
    layout: StreamLayout,
    reading: bool,
}

impl<'a> RecordsAhead<'a> {
    fn new(store: &'a dyn Storage, records: Entries<'a>, layout: StreamLayout) -> Self {
        Self {
            store,
            // Asked again after its end while the last page is handed out.
            records: Box::new(records.fuse()),
            page: Vec::new().into_iter(),
            revisions: HashMap::new(),
            layout,
            reading: false,
        }
    }

    /// The keys verify reads for the record `bytes` at `key`, added to `into`.
    fn keys_of(&mut self, key: &[u8], bytes: &[u8], into: &mut Vec<Vec<u8>>) {
        let Some(seq) = keys::record_seq(key) else {
            return;
        };
        let Ok(env) = envelope::decode_envelope(bytes, seq) else {
            return;
        };
        into.push(keys::event(&onrecord_core::EventId::from_bytes(env.event_id)).to_vec());
        let Ok(event) = envelope::decode_event(&env) else {
            return;
        };
        match &event {
            Event::StatementRetracted(r) => into.push(keys::retracted(&r.statement).to_vec()),
            Event::PropositionResolved(r) => into.push(keys::resolved(&r.proposition)),
            _ => {}
        }
        for stream in event.streams(None).unwrap_or_default() {
            let revision = self.revisions.entry(stream.clone()).or_insert(u64::MAX);
            *revision = revision.wrapping_add(1);
            into.push(match self.layout {
                StreamLayout::Chunked => keys::stream_chunk(&stream, *revision / CHUNK),
                StreamLayout::PerRevision => keys::stream_entry(&stream, *revision),
            });
        }
    }

    fn stop_reading(&mut self) {
        if self.reading {
            self.store.end_read_ahead();
            self.reading = false;
        }
    }
}

impl Iterator for RecordsAhead<'_> {
    type Item = Result<crate::storage::Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.store.reads_are_round_trips() {
            return self.records.next();
        }
        if let Some(entry) = self.page.next() {
            return Some(entry);
        }
        self.stop_reading();
        let mut page = Vec::with_capacity(AHEAD_PAGE);
        let mut wanted = Vec::new();
        while page.len() < AHEAD_PAGE {
            match self.records.next() {
                None => break,
                Some(Ok((key, bytes))) => {
                    self.keys_of(&key, &bytes, &mut wanted);
                    page.push(Ok((key, bytes)));
                }
                Some(Err(e)) => {
                    page.push(Err(e));
                    break;
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        wanted.retain(|k| seen.insert(k.clone()));
        // A failed read-ahead only leaves the reads to go one by one (and
        // fail, if the store does, where verify reads).
        if !wanted.is_empty() && self.store.read_ahead(&wanted, &[]).is_ok() {
            self.reading = true;
        }
        self.page = page.into_iter();
        self.page.next()
    }
}

impl Drop for RecordsAhead<'_> {
    fn drop(&mut self) {
        self.stop_reading();
    }
}

/// What the stream index of `stream` holds past its last revision, if anything:
/// its last key must be the one holding `revision`, and in layout 2 that chunk
/// must end there.
fn index_beyond(
    ledger: &Ledger,
    stream: &StreamId,
    revision: u64,
) -> Result<Option<String>, StoreError> {
    let db = ledger.tree();
    let (prefix, last_key) = match ledger.layout() {
        StreamLayout::PerRevision => (
            keys::stream_prefix(stream),
            keys::stream_entry(stream, revision),
        ),
        StreamLayout::Chunked => (
            keys::stream_chunk_prefix(stream),
            keys::stream_chunk(stream, revision / CHUNK),
        ),
    };
    let end = keys::prefix_end(&prefix);
    let last = db.last(Bound::Included(&prefix[..]), Bound::Excluded(&end[..]))?;
    Ok(match last {
        Some((key, _)) if key != last_key => Some(format!(
            "the stream index of {stream} holds entries past its revision {revision}"
        )),
        Some((_, chunk))
            if ledger.layout() == StreamLayout::Chunked
                && chunk.len() as u64 != (revision % CHUNK + 1) * 8 =>
        {
            Some(format!(
                "the stream index of {stream} holds {} entries in the chunk of revision {revision}",
                chunk.len() / 8
            ))
        }
        _ => None,
    })
}
