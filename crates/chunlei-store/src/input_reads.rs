//! Decision inputs of first applications, read in batches on a thread of their own (SQLite).
//!
//! Inputs no copy in memory answers ([`crate::inputs`]) are a dozen lookups. Read alone, each
//! application begins a snapshot of its own, and after every commit SQLite begins it with an
//! empty page cache: every application reads the upper pages of every index again, then its
//! own leaves. Applications waiting at the same time share one snapshot here, so they share
//! those upper pages and the snapshot's beginning (figures in `docs/benchmarks.md`).
//!
//! The reads run on two `decision-reader` threads, not on the async runtime's: a page that is
//! not in the operating system's cache is read from disk, and that wait must not hold up every
//! connection the runtime serves. A reader takes everything waiting, up to [`BATCH_MAX`],
//! reads it in one snapshot and answers each as soon as it is read, so that its decision goes
//! on while the reader reads the rest; what arrives meanwhile waits for its next snapshot. The
//! second reader starts one only when a full batch waits behind the first (see [`READERS`]).
//! A caller takes its [`Ticket`] before it joins the queue, so before the snapshot that reads
//! for it begins, as the cache requires.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll};

use chunlei_settlement::MerchantId;
use tokio::sync::oneshot;

use crate::inputs::{DecisionInputs, Ticket};
use crate::{Inner, Store, StoreError};

/// Merchants read in one snapshot at most.
pub(crate) const BATCH_MAX: usize = 64;
/// Reader threads. The second starts a snapshot only when a full batch waits behind the first:
/// one reader shares snapshots best while the pages are in memory, two keep the queue moving
/// while one waits for the disk.
pub(crate) const READERS: usize = 2;
/// Reads waiting at most; past it callers get [`StoreError::Overloaded`] at once.
pub const READS_WAITING_MAX: usize = 1_024;

type Read = Result<Option<Arc<DecisionInputs>>, StoreError>;

/// One caller's read: what to read, the counts taken before it joined, where to answer.
struct Waiting {
    merchant: MerchantId,
    day: i32,
    ticket: Option<Ticket>,
    reply: oneshot::Sender<Read>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// Readers reading a batch.
    reading: usize,
    /// The store is gone: the thread ends once the queue is empty.
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    arrived: Condvar,
}

/// The store's end of the readers: closes the queue when the store goes, which ends them.
pub(crate) struct InputReads {
    shared: Arc<Shared>,
}

impl Drop for InputReads {
    fn drop(&mut self) {
        if let Ok(mut queue) = self.shared.queue.lock() {
            queue.closed = true;
        }
        self.shared.arrived.notify_all();
    }
}

impl InputReads {
    /// Starts the readers for the store behind `store`. They hold the store weakly, so that the
    /// store's last handle going away is what stops them.
    pub(crate) fn start(store: Weak<Inner>) -> Result<InputReads, StoreError> {
        // Made first, so that a reader failing to start closes the queue for those started.
        let readers = InputReads {
            shared: Arc::new(Shared::default()),
        };
        for _ in 0..READERS {
            let (theirs, store) = (readers.shared.clone(), store.clone());
            std::thread::Builder::new()
                .name("decision-reader".into())
                .spawn(move || run(&theirs, &store))
                .map_err(|e| {
                    StoreError::Corrupt(format!("cannot start the decision reader: {e}"))
                })?;
        }
        Ok(readers)
    }

    /// Queues a read.
    pub(crate) fn push(
        &self,
        merchant: MerchantId,
        day: i32,
        ticket: Option<Ticket>,
    ) -> QueuedInputs {
        let (reply, answer) = oneshot::channel();
        let Ok(mut queue) = self.shared.queue.lock() else {
            return QueuedInputs(Err(Some(StoreError::ReaderStopped)));
        };
        if queue.waiting.len() >= READS_WAITING_MAX {
            return QueuedInputs(Err(Some(StoreError::Overloaded)));
        }
        queue.waiting.push(Waiting {
            merchant,
            day,
            ticket,
            reply,
        });
        let wake = queue.reading == 0 || queue.waiting.len() >= BATCH_MAX;
        drop(queue);
        if wake {
            self.shared.arrived.notify_one();
        }
        QueuedInputs(Ok(answer))
    }
}

/// A queued read of decision inputs ([`crate::Store::queue_decision_inputs`]): resolves to what
/// [`crate::Store::decision_inputs`] answers, or at once to [`StoreError::Overloaded`] when
/// [`READS_WAITING_MAX`] reads were already waiting.
#[derive(Debug)]
pub struct QueuedInputs(Result<oneshot::Receiver<Read>, Option<StoreError>>);

impl Future for QueuedInputs {
    type Output = Read;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Read> {
        match &mut self.0 {
            Ok(answer) => Pin::new(answer)
                .poll(cx)
                .map(|answer| answer.unwrap_or(Err(StoreError::ReaderStopped))),
            Err(error) => Poll::Ready(Err(error.take().unwrap_or(StoreError::ReaderStopped))),
        }
    }
}

/// A reader in a batch; counted out when the batch ends, even by a panic.
struct Reading<'a>(&'a Shared);

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        if let Ok(mut queue) = self.0.queue.lock() {
            queue.reading -= 1;
        }
    }
}

/// A reader thread: waits for reads, takes up to [`BATCH_MAX`] and reads them in one snapshot.
fn run(shared: &Shared, store: &Weak<Inner>) {
    loop {
        let batch = {
            let Ok(mut queue) = shared.queue.lock() else {
                return;
            };
            while queue.waiting.is_empty() && !queue.closed {
                queue = match shared.arrived.wait(queue) {
                    Ok(queue) => queue,
                    Err(_) => return,
                };
            }
            if queue.waiting.is_empty() {
                return;
            }
            let take = queue.waiting.len().min(BATCH_MAX);
            queue.reading += 1;
            queue.waiting.drain(..take).collect::<Vec<_>>()
        };
        let _reading = Reading(shared);
        // Gone with the store: the waiting callers see their answer dropped.
        let Some(inner) = store.upgrade() else {
            return;
        };
        let store = Store { inner };
        // A read that panics drops its batch's answers, not the reader.
        let read = std::panic::AssertUnwindSafe(|| store.read_batch(batch));
        if std::panic::catch_unwind(read).is_err() {
            tracing::error!(
                "a batch of decision reads panicked; its callers were answered nothing"
            );
        }
    }
}

impl Store {
    /// Reads every waiting merchant's inputs in one snapshot and answers each as soon as its
    /// own are read, so that its decision goes on while the rest of the batch is read; a
    /// caller that has gone is skipped. Should the snapshot not begin, each is read in one of
    /// its own, so that each gets its own answer or error.
    fn read_batch(&self, mut batch: Vec<Waiting>) {
        batch.retain(|waiting| !waiting.reply.is_closed());
        if batch.is_empty() {
            return;
        }
        if let Some(cache) = &self.inner.inputs {
            cache.snapshot_read();
        }
        // Runs only once the snapshot has begun, and takes the whole batch.
        let shared = self.in_snapshot(|| {
            // Merchants of one province and industry share what banks have lent there.
            let mut lent = Vec::new();
            for waiting in batch.drain(..) {
                let read = self.read_decision_inputs(&waiting.merchant, waiting.day, &mut lent);
                self.answer(waiting, read);
            }
            Ok(())
        });
        if shared.is_err() {
            for waiting in batch {
                let read = self.in_snapshot(|| {
                    self.read_decision_inputs(&waiting.merchant, waiting.day, &mut Vec::new())
                });
                self.answer(waiting, read);
            }
        }
    }

    /// Keeps what was read for `waiting` (as its ticket allows) and answers it.
    fn answer(
        &self,
        waiting: Waiting,
        read: Result<Option<(DecisionInputs, Option<i64>)>, StoreError>,
    ) {
        let answer = read.and_then(|read| self.keep_inputs(waiting.day, waiting.ticket, read));
        drop(waiting.reply.send(answer));
    }
}
