//! Keyspace layout 3 as a store (docs/adr/0007): random write sets of puts
//! and deletes across several keyspaces, with syncs and reopens between
//! them, read back through `get`, `range` and `last` exactly as a plain
//! ordered map holds them, while chunks fill, split, empty and change their
//! first key.

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use onrecord_ledger::Storage;
use onrecord_ledger::storage::WriteSet;
use onrecord_sled::StoreLayout;
use proptest::prelude::*;

/// One write: a key (a keyspace byte and a number) and its value length (None: delete).
type Op = (u8, u16, Option<u16>);

fn key(family: u8, n: u16) -> Vec<u8> {
    let family = [b'E', b'R', b'W'][usize::from(family % 3)];
    // Records by seq as the engine writes them; the others with a common
    // prefix and different lengths, so chunks share a prefix and do not.
    match family {
        b'R' => onrecord_ledger::keys::record(u64::from(n)).to_vec(),
        _ => format!("{}pair-{}\0{}", family as char, n % 37, n).into_bytes(),
    }
}

fn value(n: u16, len: u16) -> Vec<u8> {
    (0..len).map(|i| (i as u8) ^ (n as u8)).collect()
}

fn store_matches(store: &dyn Storage, model: &BTreeMap<Vec<u8>, Vec<u8>>, probes: &[(u8, u16)]) {
    let all: Vec<_> = store
        .range(Bound::Unbounded, Bound::Unbounded)
        .map(|e| e.unwrap())
        .collect();
    let expected: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(all, expected);
    for &(f, n) in probes {
        let k = key(f, n);
        assert_eq!(store.get(&k).unwrap().as_ref(), model.get(&k));
        let from: Vec<_> = store
            .range(Bound::Excluded(&k), Bound::Unbounded)
            .map(|e| e.unwrap().0)
            .collect();
        let want: Vec<_> = model
            .range::<Vec<u8>, _>((Bound::Excluded(k.clone()), Bound::Unbounded))
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(from, want);
        let last = store.last(Bound::Unbounded, Bound::Included(&k)).unwrap();
        let want = model
            .range::<Vec<u8>, _>(..=k.clone())
            .next_back()
            .map(|(k, v)| (k.clone(), v.clone()));
        assert_eq!(last, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn chunks_read_back_as_the_plain_map_they_hold(
        sets in prop::collection::vec(
            prop::collection::vec((0u8..3, 0u16..400, prop::option::weighted(0.8, 0u16..300)), 1..120),
            1..12,
        ),
        probes in prop::collection::vec((0u8..3, 0u16..400), 8),
        reopen_every in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        let options = common::options();
        let mut store = onrecord_sled::create_storage(&path, &options).unwrap();
        prop_assert_eq!(store.layout(), StoreLayout::Chunks);
        let mut model = BTreeMap::new();
        for (i, set) in sets.iter().enumerate() {
            let mut writes = WriteSet::default();
            for &(f, n, len) in set {
                let k = key(f, n);
                match len {
                    Some(len) => {
                        writes.put(k.clone(), value(n, len));
                        model.insert(k, value(n, len));
                    }
                    None => {
                        writes.delete(k.clone());
                        model.remove(&k);
                    }
                }
            }
            store.apply(writes).unwrap();
            store_matches(&store, &model, &probes);
            store.sync().unwrap();
            store_matches(&store, &model, &probes);
            if i % reopen_every == 0 {
                drop(store);
                store = onrecord_sled::open_storage(&path, &options).unwrap();
                store_matches(&store, &model, &probes);
            }
        }
    }
}

/// Ops that exercise one keyspace's chunks hard: ascending appends, then
/// deletes of every other key, then inserts between them.
#[test]
fn appends_deletes_and_inserts_between_keep_every_key_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = onrecord_sled::create_storage(&path, &common::options()).unwrap();
    let mut model = BTreeMap::new();
    let mut apply = |ops: Vec<Op>| {
        let mut writes = WriteSet::default();
        for (f, n, len) in ops {
            let k = key(f, n);
            match len {
                Some(len) => {
                    writes.put(k.clone(), value(n, len));
                    model.insert(k, value(n, len));
                }
                None => {
                    writes.delete(k.clone());
                    model.remove(&k);
                }
            }
        }
        store.apply(writes).unwrap();
        store.sync().unwrap();
        store_matches(&store, &model, &[(1, 0), (1, 99), (2, 17), (0, 350)]);
    };
    for family in 0..3 {
        apply((0..400).map(|n| (family, n, Some(40))).collect());
        apply((0..400).step_by(2).map(|n| (family, n, None)).collect());
        apply((0..400).step_by(4).map(|n| (family, n, Some(90))).collect());
        apply((0..400).map(|n| (family, n, None)).collect());
        apply((0..400).rev().map(|n| (family, n, Some(12))).collect());
    }
}
