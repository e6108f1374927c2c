//! [`RawLedger`]: a ledger's keyspace without the engine, whatever its
//! layout, for tests and tools that inspect or damage a ledger on purpose
//! (tamper and crash tests edit records and indexes behind the engine's
//! back). Nothing in the CLI uses it.

use std::ops::Bound;
use std::path::Path;

use onrecord_ledger::StoreError;
use onrecord_ledger::storage::{Entries, Storage, WriteSet};

use crate::{LedgerOptions, SledStorage, StoreLayout};

/// The engine keyspace of a closed ledger, read and written key by key with
/// no check: what sled's own `Db` was to tests before layout 3.
#[derive(Debug)]
pub struct RawLedger {
    store: SledStorage,
}

impl RawLedger {
    /// Opens the ledger at `path` (waiting for its lock as an open does).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        crate::open_storage(path, &LedgerOptions::default()).map(|store| Self { store })
    }

    /// How the ledger stores its keyspace.
    pub fn layout(&self) -> StoreLayout {
        self.store.layout()
    }

    /// The value at `key`, if any.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.get(key.as_ref())
    }

    /// Sets `key` to `value`; the value it had, if any.
    pub fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let old = self.get(key.as_ref())?;
        let mut writes = WriteSet::default();
        writes.put(key.as_ref(), value.as_ref());
        self.store.apply(writes)?;
        Ok(old)
    }

    /// Removes `key`; the value it had, if any.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        let old = self.get(key.as_ref())?;
        let mut writes = WriteSet::default();
        writes.delete(key.as_ref());
        self.store.apply(writes)?;
        Ok(old)
    }

    /// Streams the entries whose keys start with `prefix`.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> RawEntries<'_> {
        RawEntries((&self.store as &dyn Storage).scan_prefix(prefix.as_ref()))
    }

    /// Streams every entry of the keyspace, in key order.
    pub fn iter(&self) -> RawEntries<'_> {
        RawEntries(self.store.range(Bound::Unbounded, Bound::Unbounded))
    }

    /// Makes every change durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.store.sync()
    }
}

/// Entries of a [`RawLedger`] in key order (as sled's `Iter` yields them).
pub struct RawEntries<'a>(Entries<'a>);

impl RawEntries<'_> {
    /// Only the keys.
    pub fn keys(self) -> impl DoubleEndedIterator<Item = Result<Vec<u8>, StoreError>> {
        self.0
            .map(|e| e.map(|(k, _)| k))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// Only the values.
    pub fn values(self) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> {
        self.0.map(|e| e.map(|(_, v)| v))
    }
}

impl Iterator for RawEntries<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}
