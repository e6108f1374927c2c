//! The key layout of the ledger's single sled tree. Every key starts with a
//! one-byte prefix naming its keyspace; numbers are big-endian so that sled's
//! byte order is numeric order. Ids never contain a 0x00 byte, which is used as
//! a separator so that one id is never a prefix of another's range.
//!
//! | prefix | key                                   | value                         |
//! |--------|---------------------------------------|-------------------------------|
//! | `R`    | seq                                   | encoded envelope              |
//! | `E`    | event id (16 bytes)                   | seq                           |
//! | `S`    | stream, 0x00, revision                | seq (layout 1 ledgers)        |
//! | `C`    | stream, 0x00, revision / 16           | up to 16 seqs (layout 2)      |
//! | `H`    | stream                                | last revision                 |
//! | `X`    | retracted statement's event id        | seq of the retraction         |
//! | `Q`    | resolved proposition id               | seq of the resolution         |
//! | `V`    | proposition, 0x00, party              | kept position summary         |
//! | `W`    | proposition, 0x00, party, 0x00, said_at, seq | kept statement entry   |
//! | `M`    | `head` / `format` / `views` / `layout` / `import` | see [`MetaKey`]   |
//! | `U`    | a key an unfinished import overwrote  | 0, or 1 then its value before |
//! | `A`    | API token id                          | token record (`access.rs`)    |
//!
//! A stream is written as a kind byte (`p` party, `q` proposition) then its id.

use onrecord_core::{EventId, PartyId, PropositionId, StreamId};

/// Prefix of record keys.
pub const RECORD: u8 = b'R';
/// Prefix of the event-id index.
pub const EVENT: u8 = b'E';
/// Prefix of the stream index.
pub const STREAM: u8 = b'S';
/// Prefix of the chunked stream index (layout 2).
pub const STREAM_CHUNK: u8 = b'C';
/// Prefix of stream heads.
pub const STREAM_HEAD: u8 = b'H';
/// Prefix of retraction markers.
pub const RETRACTED: u8 = b'X';
/// Prefix of resolution markers.
pub const RESOLVED: u8 = b'Q';
/// Prefix of kept position summaries.
pub const VIEW_POSITION: u8 = b'V';
/// Prefix of kept statement entries.
pub const VIEW_ENTRY: u8 = b'W';
/// Prefix of metadata.
pub const META: u8 = b'M';
/// Prefix of the undo journal of a bulk import being written (see `import.rs`).
pub const UNDO: u8 = b'U';
/// Prefix of API tokens (see `access.rs`): not events, never exported.
pub const ACCESS: u8 = b'A';

/// The metadata keys.
#[derive(Debug, Clone, Copy)]
pub enum MetaKey {
    /// The ledger's head: seq (8 bytes) then the last record's hash (32 bytes).
    Head,
    /// The ledger format version (2 bytes): marks the directory as an onrecord ledger.
    Format,
    /// The seq the kept views reflect (8 bytes).
    Views,
    /// The keyspace layout (2 bytes): absent in layout 1 ledgers (one `S` key
    /// per stream revision), 2 where the stream index is chunked (`C`).
    Layout,
    /// Present only while a bulk import is being written: the head seq it
    /// started from (8 bytes). Records past that seq, and the keys they
    /// index, are not yet committed.
    Import,
}

/// The key of a metadata entry.
pub fn meta(key: MetaKey) -> Vec<u8> {
    let name: &[u8] = match key {
        MetaKey::Head => b"head",
        MetaKey::Format => b"format",
        MetaKey::Views => b"views",
        MetaKey::Layout => b"layout",
        MetaKey::Import => b"import",
    };
    [&[META][..], name].concat()
}

/// The key of the record at `seq`.
pub fn record(seq: u64) -> [u8; 9] {
    let mut k = [RECORD; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The seq of a record key.
pub fn record_seq(key: &[u8]) -> Option<u64> {
    (key.len() == 9 && key[0] == RECORD).then(|| be_u64(&key[1..]))
}

/// The key of the event-id index entry for `id`.
pub fn event(id: &EventId) -> [u8; 17] {
    let mut k = [EVENT; 17];
    k[1..].copy_from_slice(id.as_bytes());
    k
}

fn push_stream(k: &mut Vec<u8>, stream: &StreamId) {
    match stream {
        StreamId::Party(id) => {
            k.push(b'p');
            k.extend_from_slice(id.as_str().as_bytes());
        }
        StreamId::Proposition(id) => {
            k.push(b'q');
            k.extend_from_slice(id.as_str().as_bytes());
        }
    }
}

/// The prefix of every stream-index key of `stream`.
pub fn stream_prefix(stream: &StreamId) -> Vec<u8> {
    let mut k = Vec::with_capacity(72);
    k.push(STREAM);
    push_stream(&mut k, stream);
    k.push(0);
    k
}

/// The stream-index key of `stream` at `revision`.
pub fn stream_entry(stream: &StreamId, revision: u64) -> Vec<u8> {
    let mut k = stream_prefix(stream);
    k.extend_from_slice(&revision.to_be_bytes());
    k
}

/// The prefix of every chunk key of `stream` (layout 2).
pub fn stream_chunk_prefix(stream: &StreamId) -> Vec<u8> {
    let mut k = Vec::with_capacity(72);
    k.push(STREAM_CHUNK);
    push_stream(&mut k, stream);
    k.push(0);
    k
}

/// The key of `stream`'s chunk number `chunk` (revisions `chunk * 16 ..`; layout 2).
pub fn stream_chunk(stream: &StreamId, chunk: u64) -> Vec<u8> {
    let mut k = stream_chunk_prefix(stream);
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// The key of `stream`'s head (its last revision).
pub fn stream_head(stream: &StreamId) -> Vec<u8> {
    let mut k = Vec::with_capacity(72);
    k.push(STREAM_HEAD);
    push_stream(&mut k, stream);
    k
}

/// The retraction marker of statement `id`.
pub fn retracted(id: &EventId) -> [u8; 17] {
    let mut k = [RETRACTED; 17];
    k[1..].copy_from_slice(id.as_bytes());
    k
}

/// The resolution marker of proposition `id`.
pub fn resolved(id: &PropositionId) -> Vec<u8> {
    [&[RESOLVED][..], id.as_str().as_bytes()].concat()
}

/// The prefix of every kept position of `proposition` (all of them when `None`).
pub fn position_prefix(proposition: Option<&PropositionId>) -> Vec<u8> {
    let mut k = vec![VIEW_POSITION];
    if let Some(p) = proposition {
        k.extend_from_slice(p.as_str().as_bytes());
        k.push(0);
    }
    k
}

/// The key of the kept position of `party` on `proposition`.
pub fn position(proposition: &PropositionId, party: &PartyId) -> Vec<u8> {
    let mut k = position_prefix(Some(proposition));
    k.extend_from_slice(party.as_str().as_bytes());
    k
}

/// Splits a kept-position key back into its proposition and party.
pub fn parse_position(key: &[u8]) -> Option<(PropositionId, PartyId)> {
    let rest = key.strip_prefix(&[VIEW_POSITION])?;
    let sep = rest.iter().position(|b| *b == 0)?;
    let prop = std::str::from_utf8(&rest[..sep]).ok()?;
    let party = std::str::from_utf8(&rest[sep + 1..]).ok()?;
    Some((PropositionId::new(prop).ok()?, PartyId::new(party).ok()?))
}

/// The prefix of every kept statement entry of `party` on `proposition`.
pub fn entry_prefix(proposition: &PropositionId, party: &PartyId) -> Vec<u8> {
    let mut k = vec![VIEW_ENTRY];
    k.extend_from_slice(proposition.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(party.as_str().as_bytes());
    k.push(0);
    k
}

/// The key of one kept statement entry, ordered by (said_at, seq).
pub fn entry(proposition: &PropositionId, party: &PartyId, said_at: i64, seq: u64) -> Vec<u8> {
    entry_under(&entry_prefix(proposition, party), said_at, seq)
}

/// The key of a kept statement entry under a pair's [`entry_prefix`].
pub fn entry_under(prefix: &[u8], said_at: i64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 16);
    k.extend_from_slice(prefix);
    // Flip the sign bit so that negative times sort before positive ones.
    k.extend_from_slice(&((said_at as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The stream whose head `key` is (the inverse of [`stream_head`]).
pub fn stream_of_head(key: &[u8]) -> Option<StreamId> {
    let rest = key.strip_prefix(&[STREAM_HEAD])?;
    let id = std::str::from_utf8(rest.get(1..)?).ok()?;
    match rest.first()? {
        b'p' => PartyId::new(id).ok().map(StreamId::Party),
        b'q' => PropositionId::new(id).ok().map(StreamId::Proposition),
        _ => None,
    }
}

/// The undo-journal key of `key`.
pub fn undo(key: &[u8]) -> Vec<u8> {
    [&[UNDO][..], key].concat()
}

/// Reads a big-endian u64 from the first 8 bytes (0 if shorter).
pub fn be_u64(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_sort_numerically() {
        assert!(record(255) < record(256));
        assert_eq!(record_seq(&record(1_000_001)), Some(1_000_001));
    }

    #[test]
    fn one_stream_id_is_never_inside_another_streams_range() {
        let a = StreamId::Party(PartyId::new("trump").unwrap());
        let b = StreamId::Party(PartyId::new("trump-jr").unwrap());
        assert!(!stream_entry(&b, 0).starts_with(&stream_prefix(&a)));
    }

    #[test]
    fn a_stream_head_key_names_its_stream() {
        for stream in [
            StreamId::Party(PartyId::new("trump").unwrap()),
            StreamId::Proposition(PropositionId::new("paris-meeting").unwrap()),
        ] {
            assert_eq!(stream_of_head(&stream_head(&stream)), Some(stream));
        }
        assert_eq!(stream_of_head(b"Hxfoo"), None);
    }

    #[test]
    fn entries_sort_by_said_at_then_seq_even_before_1970() {
        let p = PropositionId::new("p").unwrap();
        let q = PartyId::new("q").unwrap();
        assert!(entry(&p, &q, -5, 9) < entry(&p, &q, 3, 1));
        assert!(entry(&p, &q, 3, 1) < entry(&p, &q, 3, 2));
    }
}
