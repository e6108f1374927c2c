//! Fault injection: [`FaultyStorage`] wraps any backend and fails the Nth
//! apply, the Nth read or the Nth sync on cue, as a [`FaultSwitch`] held by
//! the test says; the wrapped store is never touched by a failed call.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::storage::{Acknowledged, Applied, Entries, Entry, Expect, Storage, WriteSet};
use crate::{Head, StoreError};

/// The kind of storage call a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// [`Storage::apply`]: the write set is not applied.
    Apply,
    /// A read: `get`, `contains`, `last`, or one entry of a `range`.
    Read,
    /// [`Storage::sync`]: what was applied is not made durable.
    Sync,
}

/// A fault to inject: the `nth` call (from 1) at `point` after arming fails,
/// and with `repeat` every later one there too, until the switch is cleared
/// (a store that failed once need not work again by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Which calls it hits.
    pub point: FaultPoint,
    /// Which of them fails first, counting from 1 after arming.
    pub nth: u32,
    /// Whether every call there after the `nth` fails too (else only the `nth`).
    pub repeat: bool,
}

#[derive(Debug, Default)]
struct SwitchState {
    armed: Option<Fault>,
    /// Calls at the armed point seen since arming.
    seen: u32,
    /// How many calls have failed since the switch was last cleared.
    failed: u32,
    /// Whether calls pass untouched and uncounted for now.
    suspended: bool,
}

/// The test's handle on a [`FaultyStorage`]: arms, clears and suspends its
/// fault. Clones share one switch.
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch(Arc<Mutex<SwitchState>>);

impl FaultSwitch {
    fn state(&self) -> std::sync::MutexGuard<'_, SwitchState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms `fault`, counting calls from now.
    pub fn arm(&self, fault: Fault) {
        let mut s = self.state();
        s.armed = Some(fault);
        s.seen = 0;
        s.failed = 0;
    }

    /// Disarms the fault: every call goes through again.
    pub fn clear(&self) {
        let mut s = self.state();
        s.armed = None;
        s.seen = 0;
        s.failed = 0;
    }

    /// How many calls have failed since the fault was armed.
    pub fn failures(&self) -> u32 {
        self.state().failed
    }

    /// Runs `f` with the fault neither counting nor failing calls (for a
    /// test's own look at the store while a fault is armed).
    pub fn suspended<T>(&self, f: impl FnOnce() -> T) -> T {
        let was = std::mem::replace(&mut self.state().suspended, true);
        let out = f();
        self.state().suspended = was;
        out
    }

    /// Whether this call at `point` fails (and counts it).
    fn trips(&self, point: FaultPoint) -> bool {
        let mut s = self.state();
        if s.suspended {
            return false;
        }
        let Some(fault) = s.armed.filter(|f| f.point == point) else {
            return false;
        };
        s.seen += 1;
        let fails = s.seen == fault.nth || (fault.repeat && s.seen > fault.nth);
        if fails {
            s.failed += 1;
        }
        fails
    }
}

/// The error an injected fault returns: a plain storage failure, as a
/// backend reports an I/O error.
fn injected(location: &Path, point: FaultPoint) -> StoreError {
    StoreError::Storage {
        path: location.to_owned(),
        detail: format!("injected fault at {point:?}"),
        source: None,
    }
}

/// A backend wrapped so that its calls fail when its [`FaultSwitch`] says.
/// Every other method passes straight through to the wrapped store.
pub struct FaultyStorage {
    inner: Box<dyn Storage>,
    switch: FaultSwitch,
    location: PathBuf,
}

impl FaultyStorage {
    /// Wraps `inner`, failing its calls as `switch` says.
    pub fn new(inner: Box<dyn Storage>, switch: FaultSwitch) -> Self {
        let location = inner.location().to_owned();
        Self {
            inner,
            switch,
            location,
        }
    }

    fn fail_if_tripped(&self, point: FaultPoint) -> Result<(), StoreError> {
        if self.switch.trips(point) {
            Err(injected(&self.location, point))
        } else {
            Ok(())
        }
    }
}

impl Storage for FaultyStorage {
    fn location(&self) -> &Path {
        &self.location
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.fail_if_tripped(FaultPoint::Read)?;
        self.inner.get(key)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.fail_if_tripped(FaultPoint::Read)?;
        self.inner.contains(key)
    }

    fn reads_are_round_trips(&self) -> bool {
        self.inner.reads_are_round_trips()
    }

    fn read_ahead(
        &self,
        keys: &[Vec<u8>],
        spans: &[crate::read_ahead::Span],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.fail_if_tripped(FaultPoint::Read)?;
        self.inner.read_ahead(keys, spans)
    }

    fn end_read_ahead(&self) {
        self.inner.end_read_ahead()
    }

    fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Entries<'_> {
        let inner = self.inner.range(start, end);
        Box::new(inner.map(move |entry| {
            self.fail_if_tripped(FaultPoint::Read)?;
            entry
        }))
    }

    fn last(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<Option<Entry>, StoreError> {
        self.fail_if_tripped(FaultPoint::Read)?;
        self.inner.last(start, end)
    }

    fn apply(&self, writes: WriteSet) -> Result<(), StoreError> {
        self.fail_if_tripped(FaultPoint::Apply)?;
        self.inner.apply(writes)
    }

    fn apply_if(&self, expect: Expect, writes: WriteSet) -> Result<Applied, StoreError> {
        self.fail_if_tripped(FaultPoint::Apply)?;
        self.inner.apply_if(expect, writes)
    }

    fn hold_head(&self) -> Result<bool, StoreError> {
        self.fail_if_tripped(FaultPoint::Read)?;
        self.inner.hold_head()
    }
    fn release_head(&self) {
        self.inner.release_head()
    }
    fn shared_writers(&self) -> bool {
        self.inner.shared_writers()
    }

    fn others_move_head(&self) -> bool {
        self.inner.others_move_head()
    }

    fn exclude_writers(&self) -> Result<(), StoreError> {
        self.inner.exclude_writers()
    }

    fn admit_writers(&self) {
        self.inner.admit_writers()
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.fail_if_tripped(FaultPoint::Sync)?;
        self.inner.sync()
    }

    fn ensure_room(&self, record_bytes: u64) -> Result<(), StoreError> {
        self.inner.ensure_room(record_bytes)
    }

    fn acknowledged(&self, head: &Head) {
        self.inner.acknowledged(head)
    }

    fn acknowledgement(&self) -> Acknowledged {
        self.inner.acknowledgement()
    }

    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStorage;

    #[test]
    fn the_nth_call_fails_and_later_ones_too_until_cleared() {
        let switch = FaultSwitch::default();
        let store = FaultyStorage::new(Box::new(MemoryStorage::new("mem")), switch.clone());
        switch.arm(Fault {
            point: FaultPoint::Read,
            nth: 2,
            repeat: true,
        });
        assert!(store.get(b"a").is_ok());
        assert!(store.get(b"a").is_err());
        assert!(store.contains(b"a").is_err());
        assert!(switch.suspended(|| store.get(b"a").is_ok()));
        assert!(store.apply(WriteSet::default()).is_ok(), "another point");
        assert_eq!(switch.failures(), 2);
        switch.clear();
        assert!(store.get(b"a").is_ok());
        let mut writes = WriteSet::default();
        writes.put(&b"k"[..], &b"v"[..]);
        switch.arm(Fault {
            point: FaultPoint::Apply,
            nth: 1,
            repeat: false,
        });
        assert!(store.apply(writes.clone()).is_err());
        assert_eq!(
            store.get(b"k").unwrap(),
            None,
            "a failed apply wrote nothing"
        );
        assert!(store.apply(writes).is_ok(), "only the nth fails");
        assert_eq!(store.get(b"k").unwrap(), Some(b"v".to_vec()));
    }
}
