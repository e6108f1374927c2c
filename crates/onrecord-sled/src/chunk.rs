//! The bytes of one chunk of keyspace layout 3: consecutive entries of the
//! engine's keyspace (keys and values exactly as the engine wrote them),
//! stored as one sled value under the chunk key (see [`crate::packed`]).
//!
//! ```text
//! byte 0       chunk format version (1)
//! bytes 1..3   prefix length P (u16 BE): bytes every key in the chunk shares,
//!              taken from the chunk key (its first entry's key)
//! bytes 3..5   entry count N (u16 BE, >= 1)
//! N x 8 bytes  per entry: end of its key suffix, end of its value (u32 BE
//!              each, offsets into the data)
//! data         per entry: the key without its first P bytes, then the value
//! ```
//!
//! Entries are in strictly ascending key order and the first one's key is
//! the chunk key. Reading one entry finds it by binary search over the
//! offsets and borrows its value: nothing else in the chunk is decoded.
//! Every offset is checked before it is used; a chunk that does not check
//! out is a [`ChunkDamage`] naming the first entry that cannot be read.

/// The version byte every chunk starts with.
pub(crate) const CHUNK_VERSION: u8 = 1;

/// Bytes before the offsets: version, prefix length, count.
const HEADER: usize = 5;
/// Bytes of offsets per entry.
const OFFSETS: usize = 8;

/// Why a chunk cannot be read, and from which entry on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkDamage {
    /// The index of the first entry that cannot be read (0: none can).
    pub(crate) entry: usize,
    /// What is wrong, in words.
    pub(crate) problem: &'static str,
}

fn damage(entry: usize, problem: &'static str) -> ChunkDamage {
    ChunkDamage { entry, problem }
}

/// A chunk's bytes, checked as far as its header, read in place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkRef<'a> {
    prefix: &'a [u8],
    count: usize,
    offsets: &'a [u8],
    data: &'a [u8],
}

fn be_u32(bytes: &[u8]) -> usize {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(b) as usize
}

impl<'a> ChunkRef<'a> {
    /// Reads the header of the chunk stored under `first_key` (the chunk key
    /// without its space byte).
    pub(crate) fn parse(first_key: &'a [u8], bytes: &'a [u8]) -> Result<Self, ChunkDamage> {
        if bytes.len() < HEADER {
            return Err(damage(0, "it is shorter than a chunk header"));
        }
        if bytes[0] != CHUNK_VERSION {
            return Err(damage(0, "it has an unknown chunk version"));
        }
        let prefix_len = usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
        let count = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        if prefix_len > first_key.len() {
            return Err(damage(0, "its key prefix is longer than its key"));
        }
        if count == 0 {
            return Err(damage(0, "it holds no entry"));
        }
        let data_start = HEADER + count * OFFSETS;
        if bytes.len() < data_start {
            return Err(damage(0, "its entry offsets are cut short"));
        }
        Ok(Self {
            prefix: &first_key[..prefix_len],
            count,
            offsets: &bytes[HEADER..data_start],
            data: &bytes[data_start..],
        })
    }

    /// How many entries it holds.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The bytes every key in the chunk starts with.
    pub(crate) fn prefix(&self) -> &'a [u8] {
        self.prefix
    }

    /// Entry `i`: its key without the prefix, and its value.
    pub(crate) fn entry(&self, i: usize) -> Result<(&'a [u8], &'a [u8]), ChunkDamage> {
        let start = if i == 0 {
            0
        } else {
            be_u32(&self.offsets[(i - 1) * OFFSETS + 4..])
        };
        let key_end = be_u32(&self.offsets[i * OFFSETS..]);
        let value_end = be_u32(&self.offsets[i * OFFSETS + 4..]);
        if start > key_end || key_end > value_end || value_end > self.data.len() {
            return Err(damage(i, "its entry offsets point outside the chunk"));
        }
        Ok((&self.data[start..key_end], &self.data[key_end..value_end]))
    }

    /// Entry `i`, checked to sort after entry `i - 1` (whose suffix is
    /// `previous`) or, for the first, to be the chunk key itself.
    pub(crate) fn entry_after(
        &self,
        i: usize,
        previous: Option<&[u8]>,
        first_key: &[u8],
    ) -> Result<(&'a [u8], &'a [u8]), ChunkDamage> {
        let (suffix, value) = self.entry(i)?;
        let in_order = match previous {
            None => {
                first_key.len() == self.prefix.len() + suffix.len() && first_key.ends_with(suffix)
            }
            Some(previous) => suffix > previous,
        };
        if !in_order {
            return Err(damage(i, "its entries are out of order"));
        }
        Ok((suffix, value))
    }

    /// The value stored under `key`, borrowed, found by binary search.
    pub(crate) fn find(&self, key: &[u8]) -> Result<Option<&'a [u8]>, ChunkDamage> {
        let Some(wanted) = key.strip_prefix(self.prefix) else {
            return Ok(None);
        };
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let mid = low + (high - low) / 2;
            let (suffix, value) = self.entry(mid)?;
            match suffix.cmp(wanted) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Ok(Some(value)),
            }
        }
        Ok(None)
    }
}

/// The length of the prefix `a` and `b` share.
fn shared_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The bytes a chunk of `entries` takes (with every key in full; an upper bound).
pub(crate) fn entry_bytes(key: &[u8], value: &[u8]) -> usize {
    OFFSETS + key.len() + value.len()
}

/// Encodes `entries` (at least one, strictly ascending keys) as a chunk
/// whose chunk key is the first entry's key.
pub(crate) fn encode<K: AsRef<[u8]>, V: AsRef<[u8]>>(entries: &[(K, V)]) -> Vec<u8> {
    let (first, last) = match (entries.first(), entries.last()) {
        (Some(first), Some(last)) => (first.0.as_ref(), last.0.as_ref()),
        _ => return Vec::new(),
    };
    let prefix_len = shared_prefix(first, last).min(usize::from(u16::MAX));
    let data_len: usize = entries
        .iter()
        .map(|(k, v)| k.as_ref().len() - prefix_len + v.as_ref().len())
        .sum();
    let mut out = Vec::with_capacity(HEADER + entries.len() * OFFSETS + data_len);
    out.push(CHUNK_VERSION);
    out.extend_from_slice(&(prefix_len as u16).to_be_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    let mut end = 0usize;
    for (k, v) in entries {
        end += k.as_ref().len() - prefix_len;
        out.extend_from_slice(&(end as u32).to_be_bytes());
        end += v.as_ref().len();
        out.extend_from_slice(&(end as u32).to_be_bytes());
    }
    for (k, v) in entries {
        out.extend_from_slice(&k.as_ref()[prefix_len..]);
        out.extend_from_slice(v.as_ref());
    }
    out
}

#[cfg(test)]
/// Decodes a whole chunk into owned entries (for rewriting it), checking
/// every entry's place.
pub(crate) fn decode_owned(
    first_key: &[u8],
    bytes: &[u8],
) -> Result<Vec<onrecord_ledger::storage::Entry>, ChunkDamage> {
    let chunk = ChunkRef::parse(first_key, bytes)?;
    let mut out = Vec::with_capacity(chunk.len());
    let mut previous = None;
    for i in 0..chunk.len() {
        let (suffix, value) = chunk.entry_after(i, previous, first_key)?;
        out.push(([chunk.prefix(), suffix].concat(), value.to_vec()));
        previous = Some(suffix);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(keys: &[&str]) -> Vec<(Vec<u8>, Vec<u8>)> {
        keys.iter()
            .map(|k| (k.as_bytes().to_vec(), format!("v-{k}").into_bytes()))
            .collect()
    }

    #[test]
    fn a_chunk_gives_back_every_entry_and_finds_each_by_key() {
        let e = entries(&["Wabc\0p1", "Wabc\0p2", "Wabd\0q"]);
        let bytes = encode(&e);
        assert_eq!(decode_owned(&e[0].0, &bytes).unwrap(), e);
        let chunk = ChunkRef::parse(&e[0].0, &bytes).unwrap();
        assert_eq!(chunk.prefix(), b"Wab");
        for (k, v) in &e {
            assert_eq!(chunk.find(k).unwrap(), Some(&v[..]));
        }
        assert_eq!(chunk.find(b"Wabc\0p3").unwrap(), None);
        assert_eq!(chunk.find(b"X").unwrap(), None);
    }

    #[test]
    fn damaged_chunks_name_the_first_unreadable_entry_and_never_panic() {
        let e = entries(&["Ra", "Rb", "Rc"]);
        let bytes = encode(&e);
        // Cut anywhere: an error or fewer readable entries, never a panic.
        for cut in 0..bytes.len() {
            let _ = decode_owned(&e[0].0, &bytes[..cut]);
        }
        // Every single byte flipped: the same.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xff;
            let _ = decode_owned(&e[0].0, &b);
            if let Ok(chunk) = ChunkRef::parse(&e[0].0, &b) {
                let _ = chunk.find(b"Rb");
            }
        }
        let mut cut = bytes.clone();
        cut.truncate(bytes.len() - 3);
        assert_eq!(decode_owned(&e[0].0, &cut).unwrap_err().entry, 2);
        let mut swapped = entries(&["Ra", "Rc", "Rb"]);
        swapped[0].0 = b"Ra".to_vec();
        let bytes = encode(&swapped);
        assert_eq!(decode_owned(b"Ra", &bytes).unwrap_err().entry, 2);
        assert_eq!(decode_owned(b"Rz", &encode(&e)).unwrap_err().entry, 0);
    }
}
