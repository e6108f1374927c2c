//! The one writer: a thread that takes append jobs from every request in
//! arrival order and writes them to the engine with group commit (all jobs
//! waiting at once share one durable sync), then answers each job and
//! publishes the new head for live tails. Handlers never append directly.

use std::sync::Arc;
use std::thread::JoinHandle;

use onrecord_ledger::{AppendOutcome, AppendRequest, Ledger, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

/// The most jobs one group commit takes: bounds the work before one sync.
const GROUP_MAX: usize = 256;

/// One client's batch, and where its outcome goes once durable.
pub(crate) struct WriteJob {
    /// The batch (one event for a single append).
    pub(crate) requests: Vec<AppendRequest>,
    /// Answered only after the batch is durable, or refused.
    pub(crate) reply: oneshot::Sender<Result<Vec<AppendOutcome>, StoreError>>,
}

/// The writer thread's handle: send jobs here; dropping every sender stops it.
pub(crate) struct Writer {
    pub(crate) jobs: mpsc::Sender<WriteJob>,
    thread: JoinHandle<()>,
}

impl Writer {
    /// Starts the writer over `ledger`; it publishes the durable head seq on
    /// `head` (which the store's own watch may move too, so only forward).
    pub(crate) fn start(ledger: Arc<Ledger>, head: Arc<watch::Sender<u64>>, queue: usize) -> Self {
        let (jobs, mut rx) = mpsc::channel::<WriteJob>(queue);
        let thread = std::thread::Builder::new()
            .name("onrecord-writer".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut group = vec![first];
                    while group.len() < GROUP_MAX {
                        match rx.try_recv() {
                            Ok(job) => group.push(job),
                            Err(_) => break,
                        }
                    }
                    let (batches, replies): (Vec<_>, Vec<_>) =
                        group.into_iter().map(|j| (j.requests, j.reply)).unzip();
                    let results = ledger.append_batches(batches);
                    crate::publish_head(&head, ledger.head().seq);
                    for (reply, result) in replies.into_iter().zip(results) {
                        // A client that went away still had its batch written.
                        let _ = reply.send(result);
                    }
                }
            })
            .expect("the writer thread starts");
        Self { jobs, thread }
    }

    /// Stops taking jobs and waits until every job already sent is durable and answered.
    pub(crate) fn finish(self) {
        drop(self.jobs);
        let _ = self.thread.join();
    }
}
