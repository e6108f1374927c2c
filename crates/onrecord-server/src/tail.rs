//! The live tail: one stream that catches up from any seq by reading the
//! ledger in bounded chunks, says when it has caught up, then waits for the
//! writer to publish a new durable head and reads on from where it stopped.
//! Each subscriber holds at most one chunk, and follows the head it reads
//! from the ledger (never a per-subscriber queue of events), so a slow client
//! costs no memory and the switch from catch-up to live has no gap and no
//! duplicate: the next seq it wants is all it keeps.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use onrecord_core::Recorded;
use onrecord_ledger::{Ledger, StoreError};
use tokio::sync::watch;

/// Records read per catch-up step.
const CHUNK: u64 = 256;

/// One item of a live tail.
#[derive(Debug)]
pub enum TailItem {
    /// A recorded event, in seq order (boxed: the other items are small).
    Event(Box<Recorded>),
    /// The tail has delivered everything up to this durable head.
    CaughtUp(u64),
    /// Nothing new for a while; the connection is alive.
    Heartbeat,
}

/// What keeps a tail open: the token it was opened with must stay active.
pub struct TailGuard {
    /// The server's tokens.
    pub access: Arc<crate::auth::Access>,
    /// The token the tail was opened with.
    pub token_id: String,
    /// Changes whenever a token is revoked.
    pub changes: watch::Receiver<u64>,
    /// The tail's place in its token's count of open tails, given back when it ends.
    pub slot: crate::limits::TailSlot,
}

/// Which events a tail sends: those in every one of these streams (a
/// proposition, a party, or both: that party's statements on it).
#[derive(Debug, Clone, Default)]
pub struct TailFilter {
    /// The streams an event must belong to.
    pub streams: Vec<onrecord_core::StreamId>,
}

impl TailFilter {
    /// Whether `record` is one the tail sends (a retraction is looked up in `ledger`).
    fn admits(&self, ledger: &Ledger, record: &Recorded) -> Result<bool, StoreError> {
        if self.streams.is_empty() {
            return Ok(true);
        }
        let streams =
            onrecord_core::validate::streams_of(&record.event, ledger)?.unwrap_or_default();
        Ok(self.streams.iter().all(|s| streams.contains(s)))
    }
}

/// Where a tail is and what it waits on.
struct TailState {
    guard: TailGuard,
    filter: TailFilter,
    ledger: Arc<Ledger>,
    head: watch::Receiver<u64>,
    /// The head last read from the store itself (on a shared ledger the
    /// published head can lag another server's commit by a notification).
    store_head: u64,
    stop: watch::Receiver<bool>,
    next: u64,
    buffer: VecDeque<Recorded>,
    caught_up: bool,
    heartbeat: Duration,
    done: bool,
}

/// A tail from seq `from` (at least 1); it ends when `stop` turns true or
/// the guard's token stops being active.
pub fn tail(
    guard: TailGuard,
    filter: TailFilter,
    ledger: Arc<Ledger>,
    head: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
    from: u64,
    heartbeat: Duration,
) -> impl Stream<Item = Result<TailItem, StoreError>> + Send + 'static {
    let state = TailState {
        guard,
        filter,
        ledger,
        head,
        store_head: 0,
        stop,
        next: from.max(1),
        buffer: VecDeque::new(),
        caught_up: false,
        heartbeat,
        done: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        let item = next_item(&mut s).await?;
        if item.is_err() {
            s.done = true;
        }
        Some((item, s))
    })
}

/// The next item, or `None` when the tail ends.
async fn next_item(s: &mut TailState) -> Option<Result<TailItem, StoreError>> {
    loop {
        let now = onrecord_ledger::system_clock();
        if s.done || *s.stop.borrow() || !s.guard.access.is_active(&s.guard.token_id, now) {
            return None;
        }
        if let Some(record) = s.buffer.pop_front() {
            return Some(Ok(TailItem::Event(Box::new(record))));
        }
        let head = (*s.head.borrow_and_update()).max(s.store_head);
        if s.next <= head {
            let (from, to) = (s.next, head.min(s.next + CHUNK - 1));
            let ledger = Arc::clone(&s.ledger);
            let filter = s.filter.clone();
            let read = tokio::task::spawn_blocking(move || {
                let records = ledger.records(from, to).collect::<Result<Vec<_>, _>>()?;
                let read = records.len();
                let mut kept = Vec::with_capacity(read);
                for record in records {
                    if filter.admits(&ledger, &record)? {
                        kept.push(record);
                    }
                }
                Ok::<_, StoreError>((read, kept))
            })
            .await;
            match read {
                Ok(Ok((read, kept))) if read > 0 => {
                    // Everything up to `to` is read, sent or filtered out.
                    s.next = to + 1;
                    s.buffer.extend(kept);
                }
                Ok(Ok(_)) => {
                    // The head names records the log does not hold: damage.
                    return Some(Err(StoreError::Damaged(onrecord_ledger::Damage {
                        seq: from,
                        problem: "missing record".into(),
                    })));
                }
                Ok(Err(e)) => return Some(Err(e)),
                Err(_) => return None,
            }
            continue;
        }
        if !s.caught_up && s.ledger.others_move_head() {
            // Say "caught up" only at the store's own head, not at a
            // published one another server's notification has yet to move.
            let ledger = Arc::clone(&s.ledger);
            match tokio::task::spawn_blocking(move || ledger.current_head()).await {
                Ok(Ok(now)) if now.seq > head => {
                    s.store_head = now.seq;
                    continue;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Some(Err(e)),
                Err(_) => return None,
            }
        }
        if !s.caught_up {
            s.caught_up = true;
            return Some(Ok(TailItem::CaughtUp(head)));
        }
        tokio::select! {
            changed = s.head.changed() => {
                if changed.is_err() {
                    return None;
                }
            }
            _ = s.stop.changed() => return None,
            // A revocation: the loop checks the token again.
            _ = s.guard.changes.changed() => {}
            _ = tokio::time::sleep(s.heartbeat) => return Some(Ok(TailItem::Heartbeat)),
        }
    }
}
