//! The single writer: coalesces concurrent requests into one transaction (group commit).
//!
//! Callers enqueue a request and wait on a one-shot reply. The writer thread takes the first
//! waiting request, then every request already queued behind it up to [`GROUP_EVENTS_MAX`]
//! events, loads the records they touch, applies them to the engine in arrival order, writes
//! the changes and commits once. Replies are sent only after the commit, so an acknowledged
//! request is durable; if the commit fails, every request of the group gets the error and
//! nothing of the group is applied.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chunlei_ledger::{
    Account, BATCH_EVENTS_MAX, Changes, CreateAccountResult, CreateTransferResult, IdSet, State,
    Transfer, TransferFlags,
};
use chunlei_lending::loans::{LoanBook, LoanCommand, LoanKeys, LoanResult};
use chunlei_settlement::book::{
    ActivityDeltas, Book, BookKeys, Command, CommandResult, Needs, Settings,
};
use tokio::sync::oneshot;

use crate::StoreError;
use crate::decisions::{LoanDecisionRecord, take_decision_row};
use crate::loans::{load_loans, load_open_loans_of};
use crate::settlement::{Cell, LoadRows, load_book, load_meta};
use crate::stats::{CommitStats, Commits};

/// Events applied in one database transaction at most: four full batches. On SQLite a group
/// is loaded and applied on one thread while the one before it is written on another, so
/// smaller groups overlap better; at eight batches the settlement benchmark was 10–15 % slower
/// (in process and over HTTP) and the ledger benchmark no faster.
pub const GROUP_EVENTS_MAX: usize = 4 * BATCH_EVENTS_MAX;
/// Requests waiting for the writer at most, by default; beyond it callers get
/// [`StoreError::Overloaded`].
pub const QUEUE_REQUESTS_MAX: usize = 4_096;
/// Expired pending transfers released per commit at most.
const EXPIRE_PER_COMMIT_MAX: usize = 8_189;
/// Orders whose scheduled work (automatic confirmation, reserve release) is done per commit
/// at most.
const DUE_ORDERS_PER_COMMIT_MAX: usize = 1_024;
/// How often an idle writer wakes to expire pending transfers.
const EXPIRY_INTERVAL: Duration = Duration::from_millis(500);

type Reply<T> = oneshot::Sender<Result<Vec<T>, StoreError>>;

pub(crate) enum Request {
    Accounts(Vec<Account>, Reply<CreateAccountResult>),
    Transfers(Vec<Transfer>, Reply<CreateTransferResult>),
    Settle(Vec<Command>, Reply<CommandResult>),
    /// Loan decisions to store, each unless its application id is stored already; the reply
    /// says for each whether it is the one stored ([`mark_stored`]). With the registry change
    /// count their inputs were read at when they were made from inputs kept in memory (SQLite
    /// only; see [`crate::inputs`]).
    Decisions(Vec<LoanDecisionRecord>, Option<i64>, Reply<bool>),
    Loans(Vec<LoanCommand>, Reply<LoanResult>),
}

impl Request {
    pub(crate) fn len(&self) -> usize {
        match self {
            Request::Accounts(events, _) => events.len(),
            Request::Transfers(events, _) => events.len(),
            Request::Settle(commands, _) => commands.len(),
            Request::Decisions(decisions, _, _) => decisions.len(),
            Request::Loans(commands, _) => commands.len(),
        }
    }

    pub(crate) fn fail(self, error: &StoreError) {
        let error = StoreError::Corrupt(format!("commit failed: {error}"));
        match self {
            Request::Accounts(_, reply) => drop(reply.send(Err(error))),
            Request::Transfers(_, reply) => drop(reply.send(Err(error))),
            Request::Settle(_, reply) => drop(reply.send(Err(error))),
            Request::Decisions(_, _, reply) => drop(reply.send(Err(error))),
            Request::Loans(_, reply) => drop(reply.send(Err(error))),
        }
    }
}

/// Reading the records a group needs into the engine's working set.
pub(crate) trait Load: LoadRows {
    /// Adds the stored accounts among `ids` to `state.accounts`.
    fn load_accounts(&mut self, ids: &[u128], state: &mut State) -> Result<(), StoreError>;
    /// Adds the stored transfers among `ids` to `state.transfers`, with their pending state,
    /// and the remembered transient failures among them to `state.failed`.
    fn load_transfers(&mut self, ids: &[u128], state: &mut State) -> Result<(), StoreError>;
    /// Pending transfers whose timeout has passed at `now`, oldest first.
    fn due_pending(&mut self, now: u64, limit: usize) -> Result<Vec<u128>, StoreError>;
}

/// One write transaction of a backend.
pub(crate) trait WriteTx: Load {
    /// The clock stored with the ledger: no timestamp at or below it may be assigned again.
    /// On PostgreSQL this also takes the lock that serialises writers of all processes.
    fn lock_clock(&mut self) -> Result<u64, StoreError>;
    fn write(&mut self, state: &State, changes: &Changes) -> Result<(), StoreError>;
    fn write_book(
        &mut self,
        book: &Book,
        changed: &BookKeys,
        activity: &ActivityDeltas,
    ) -> Result<(), StoreError>;
    /// Inserts decision rows ([`crate::decisions::DECISIONS`]), leaving any whose application
    /// id is stored already as it is; the ids of those it stored, in order.
    fn write_decisions(&mut self, rows: &[Vec<Cell>]) -> Result<Vec<String>, StoreError>;
    /// Writes the loans `changed` names ([`crate::loans::LOANS`]) and their new history.
    fn write_loans(&mut self, loans: &LoanBook, changed: &LoanKeys) -> Result<(), StoreError>;
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// A backend's write side, owned by the writer thread.
pub(crate) trait WriteBackend: Send + 'static {
    fn begin(&mut self) -> Result<Box<dyn WriteTx + '_>, StoreError>;
    /// True when this process is the database's only writer, so loaded accounts stay valid
    /// between commits (SQLite holds an exclusive lock); false on PostgreSQL, where other
    /// processes may change balances between our transactions.
    fn sole_writer(&self) -> bool;
}

/// The way to the writer thread. Dropping it stops the writer after the queued requests and
/// waits for it, which releases the database (and SQLite's writer lock) before returning.
pub(crate) struct WriterHandle {
    sender: Option<SyncSender<Request>>,
    /// Where loan decisions go when the writer takes them apart from its other requests.
    decisions: Option<DecisionSender>,
    thread: Option<thread::JoinHandle<()>>,
    /// What the writer counts of its commits.
    commits: Arc<Commits>,
}

/// Hands a [`Request::Decisions`] to the writer past its queue of other requests (SQLite's
/// committer, which stores decisions with its next transaction: they read and change nothing
/// else, so they need not wait for the engine to prepare a group of settlement events).
pub(crate) type DecisionSender = Box<dyn Fn(Request) -> Result<(), StoreError> + Send + Sync>;

impl Drop for WriterHandle {
    fn drop(&mut self) {
        drop(self.sender.take());
        drop(self.decisions.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the ledger writer panicked");
        }
    }
}

impl WriterHandle {
    /// A handle on a writer thread that takes requests from the other end of `sender`, and
    /// loan decisions through `decisions` when given, and counts its commits in `commits`.
    pub(crate) fn new(
        sender: SyncSender<Request>,
        decisions: Option<DecisionSender>,
        thread: thread::JoinHandle<()>,
        commits: Arc<Commits>,
    ) -> WriterHandle {
        WriterHandle {
            sender: Some(sender),
            decisions,
            thread: Some(thread),
            commits,
        }
    }

    /// The writer's commits since it started.
    pub(crate) fn commit_stats(&self) -> CommitStats {
        self.commits.read()
    }

    pub(crate) fn create_accounts(
        &self,
        events: Vec<Account>,
    ) -> Result<oneshot::Receiver<Result<Vec<CreateAccountResult>, StoreError>>, StoreError> {
        check_size(events.len())?;
        let (reply, receiver) = oneshot::channel();
        self.send(Request::Accounts(events, reply))?;
        Ok(receiver)
    }

    pub(crate) fn create_transfers(
        &self,
        events: Vec<Transfer>,
    ) -> Result<oneshot::Receiver<Result<Vec<CreateTransferResult>, StoreError>>, StoreError> {
        check_size(events.len())?;
        let (reply, receiver) = oneshot::channel();
        self.send(Request::Transfers(events, reply))?;
        Ok(receiver)
    }

    pub(crate) fn settle(
        &self,
        commands: Vec<Command>,
    ) -> Result<oneshot::Receiver<Result<Vec<CommandResult>, StoreError>>, StoreError> {
        check_size(commands.len())?;
        let (reply, receiver) = oneshot::channel();
        self.send(Request::Settle(commands, reply))?;
        Ok(receiver)
    }

    pub(crate) fn loans(
        &self,
        commands: Vec<LoanCommand>,
    ) -> Result<oneshot::Receiver<Result<Vec<LoanResult>, StoreError>>, StoreError> {
        check_size(commands.len())?;
        let (reply, receiver) = oneshot::channel();
        self.send(Request::Loans(commands, reply))?;
        Ok(receiver)
    }

    pub(crate) fn decisions(
        &self,
        decisions: Vec<LoanDecisionRecord>,
        as_of: Option<i64>,
    ) -> Result<oneshot::Receiver<Result<Vec<bool>, StoreError>>, StoreError> {
        check_size(decisions.len())?;
        let (reply, receiver) = oneshot::channel();
        let request = Request::Decisions(decisions, as_of, reply);
        match &self.decisions {
            Some(send) => send(request)?,
            None => self.send(request)?,
        }
        Ok(receiver)
    }

    fn send(&self, request: Request) -> Result<(), StoreError> {
        let sender = self.sender.as_ref().ok_or(StoreError::WriterStopped)?;
        sender.try_send(request).map_err(queue_error)
    }
}

/// What a caller hears when its request cannot be queued: the queue is full, or the writer
/// has stopped.
pub(crate) fn queue_error<T>(error: TrySendError<T>) -> StoreError {
    match error {
        TrySendError::Full(_) => StoreError::Overloaded,
        TrySendError::Disconnected(_) => StoreError::WriterStopped,
    }
}

fn check_size(count: usize) -> Result<(), StoreError> {
    if count > BATCH_EVENTS_MAX {
        return Err(StoreError::BatchTooLarge {
            count,
            max: BATCH_EVENTS_MAX,
        });
    }
    Ok(())
}

pub(crate) fn spawn(
    backend: impl WriteBackend,
    queue_max: usize,
    settings: Arc<Settings>,
) -> Result<WriterHandle, StoreError> {
    let (sender, receiver) = mpsc::sync_channel(queue_max.max(1));
    let commits = Arc::new(Commits::default());
    let counted = commits.clone();
    let thread = thread::Builder::new()
        .name("ledger-writer".into())
        .spawn(move || run(backend, receiver, &settings, &counted))
        .map_err(|e| StoreError::Corrupt(format!("cannot start the writer thread: {e}")))?;
    Ok(WriterHandle::new(sender, None, thread, commits))
}

/// Waits for the next group: the first queued request (or none, after [`EXPIRY_INTERVAL`],
/// so that expiries run when idle) and every request queued behind it up to
/// [`GROUP_EVENTS_MAX`] events. `None` once every sender is gone.
pub(crate) fn collect_group(
    receiver: &Receiver<Request>,
    carry: &mut Option<Request>,
) -> Option<Vec<Request>> {
    let first = match carry.take() {
        Some(request) => Some(request),
        None => match receiver.recv_timeout(EXPIRY_INTERVAL) {
            Ok(request) => Some(request),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return None,
        },
    };
    let mut group: Vec<Request> = first.into_iter().collect();
    let mut events: usize = group.iter().map(Request::len).sum();
    while events < GROUP_EVENTS_MAX {
        let Ok(next) = receiver.try_recv() else { break };
        if events + next.len() > GROUP_EVENTS_MAX {
            *carry = Some(next);
            break;
        }
        events += next.len();
        group.push(next);
    }
    Some(group)
}

/// Sends each request of a committed group its results.
pub(crate) fn reply(group: Vec<Request>, outcomes: Vec<Outcome>) {
    for (request, outcome) in group.into_iter().zip(outcomes) {
        match (request, outcome) {
            (Request::Accounts(_, tx), Outcome::Accounts(r)) => drop(tx.send(Ok(r))),
            (Request::Transfers(_, tx), Outcome::Transfers(r)) => drop(tx.send(Ok(r))),
            (Request::Settle(_, tx), Outcome::Settle(r)) => drop(tx.send(Ok(r))),
            (Request::Decisions(_, _, tx), Outcome::Decisions(r)) => drop(tx.send(Ok(r))),
            (Request::Loans(_, tx), Outcome::Loans(r)) => drop(tx.send(Ok(r))),
            (request, _) => request.fail(&StoreError::Corrupt("reply mismatch".into())),
        }
    }
}

fn run(
    mut backend: impl WriteBackend,
    receiver: Receiver<Request>,
    settings: &Settings,
    commits: &Commits,
) {
    let mut state = State::new(0);
    let mut carry: Option<Request> = None;
    while let Some(mut group) = collect_group(&receiver, &mut carry) {
        // Other processes may change settlement records between our transactions.
        let mut book = Book::default();
        let mut loans = LoanBook::default();
        match commit_group(
            &mut backend,
            &mut state,
            &mut book,
            &mut loans,
            settings,
            &mut group,
        ) {
            Ok((outcomes, committed)) => {
                if let Some(Committed { took, decisions }) = committed {
                    commits.committed(took, decisions);
                }
                reply(group, outcomes);
            }
            Err(error) => {
                commits.failed();
                tracing::error!(%error, requests = group.len(), "ledger commit failed; group rejected");
                for request in group {
                    request.fail(&error);
                }
            }
        }
        state.transfers.clear();
        state.pending.clear();
        state.failed.clear();
        if !backend.sole_writer() {
            state.accounts.clear();
        }
    }
}

/// The results of one request of a group.
pub(crate) enum Outcome {
    Accounts(Vec<CreateAccountResult>),
    Transfers(Vec<CreateTransferResult>),
    Settle(Vec<CommandResult>),
    /// For each decision, whether it is the one stored under its application id: false when
    /// one was stored before, or by an earlier request of the same group.
    Decisions(Vec<bool>),
    Loans(Vec<LoanResult>),
}

/// What one group changed: in the ledger and in the settlement book.
pub(crate) struct GroupChanges {
    pub ledger: Changes,
    pub book: BookKeys,
    pub activity: ActivityDeltas,
    /// Loan decision rows ([`crate::decisions::DECISIONS`]), in arrival order.
    pub decisions: Vec<Vec<Cell>>,
    pub loans: LoanKeys,
}

impl GroupChanges {
    pub(crate) fn is_empty(&self) -> bool {
        self.ledger.is_empty()
            && self.book.is_empty()
            && self.activity.is_empty()
            && self.decisions.is_empty()
            && self.loans.is_empty()
    }
}

fn commit_group(
    backend: &mut impl WriteBackend,
    state: &mut State,
    book: &mut Book,
    loans: &mut LoanBook,
    settings: &Settings,
    group: &mut [Request],
) -> Result<(Vec<Outcome>, Option<Committed>), StoreError> {
    let result = try_commit_group(backend, state, book, loans, settings, group);
    if result.is_err() {
        // The in-memory state may hold changes that were never committed: forget all of it.
        *state = State::new(0);
    }
    result
}

fn try_commit_group(
    backend: &mut impl WriteBackend,
    state: &mut State,
    book: &mut Book,
    loans: &mut LoanBook,
    settings: &Settings,
    group: &mut [Request],
) -> Result<(Vec<Outcome>, Option<Committed>), StoreError> {
    let mut tx = backend.begin()?;
    state.clock = state.clock.max(tx.lock_clock()?);
    let (mut outcomes, changes) = apply_group(tx.as_mut(), state, book, loans, settings, group)?;
    if changes.is_empty() {
        return Ok((outcomes, None));
    }
    let writing = std::time::Instant::now();
    tx.write(state, &changes.ledger)?;
    tx.write_book(book, &changes.book, &changes.activity)?;
    let stored = tx.write_decisions(&changes.decisions)?;
    tx.write_loans(loans, &changes.loans)?;
    tx.commit()?;
    let committed = Committed {
        took: writing.elapsed(),
        decisions: stored.len(),
    };
    mark_stored(group, &mut outcomes, &mut stored.into_iter().collect());
    Ok((outcomes, Some(committed)))
}

/// A group's transaction that committed: how long its writes and commit took, and the loan
/// decisions it stored.
struct Committed {
    took: Duration,
    decisions: usize,
}

/// Marks each decision of `group` stored when the commit stored it: when its application id
/// is among `stored`, the ids the commit inserted. Where a group holds one id twice, the first
/// request's decision is the one inserted (rows are inserted in the group's order), and each
/// id marked is taken out of `stored`.
pub(crate) fn mark_stored(
    group: &[Request],
    outcomes: &mut [Outcome],
    stored: &mut std::collections::HashSet<String>,
) {
    if stored.is_empty() {
        return;
    }
    for (request, outcome) in group.iter().zip(outcomes) {
        if let (Request::Decisions(records, _, _), Outcome::Decisions(marks)) = (request, outcome) {
            for (record, mark) in records.iter().zip(marks) {
                *mark = stored.remove(&record.application_id);
            }
        }
    }
}

/// Loads what the group and the due expiries touch, expires what is due and applies the
/// group's requests in arrival order.
pub(crate) fn apply_group(
    loader: &mut dyn Load,
    state: &mut State,
    book: &mut Book,
    loans: &mut LoanBook,
    settings: &Settings,
    group: &mut [Request],
) -> Result<(Vec<Outcome>, GroupChanges), StoreError> {
    let now = now_ns();
    let t0 = std::time::Instant::now();
    let due = loader.due_pending(now, EXPIRE_PER_COMMIT_MAX)?;
    // Scheduled work runs on event time (the latest event applied), not the wall clock, so a
    // replay of past events confirms orders and releases reserves as the live run did.
    load_meta(loader, book)?;
    let event_clock = book.meta.as_ref().map_or(0, |m| m.event_clock);
    let due_orders = if event_clock == 0 {
        Vec::new()
    } else {
        loader.due_orders(event_clock, DUE_ORDERS_PER_COMMIT_MAX)?
    };
    let commands = || {
        group
            .iter()
            .filter_map(|r| match r {
                Request::Settle(commands, _) => Some(commands.iter()),
                Request::Accounts(..)
                | Request::Transfers(..)
                | Request::Decisions(..)
                | Request::Loans(..) => None,
            })
            .flatten()
    };
    let loan_commands = || {
        group
            .iter()
            .filter_map(|r| match r {
                Request::Loans(commands, _) => Some(commands.iter()),
                Request::Accounts(..)
                | Request::Transfers(..)
                | Request::Decisions(..)
                | Request::Settle(..) => None,
            })
            .flatten()
    };
    let settles = commands().next().is_some() || !due_orders.is_empty();
    let lends = loan_commands().next().is_some();
    let (book_accounts, book_transfers) = if settles || lends {
        let mut needs = book.needs(commands());
        for order_id in &due_orders {
            match book.orders.get(order_id) {
                Some(held) => needs.merchants.push(held.order.merchant_id.clone()),
                None => needs.orders.push(order_id.clone()),
            }
        }
        if lends {
            let loan_needs = loans.needs(loan_commands());
            load_loans(loader, loans, &loan_needs)?;
            add_merchants(
                &mut needs,
                loan_needs.merchants.into_iter().chain(loans.merchants()),
            );
        }
        load_book(loader, book, &needs)?;
        if settles {
            // The merchants this group settles for: those its commands name and those of its
            // due orders (the book may hold many more from earlier groups).
            let mut merchants = needs.merchants.clone();
            merchants.extend(
                due_orders
                    .iter()
                    .filter_map(|o| book.orders.get(o))
                    .map(|o| o.order.merchant_id.clone()),
            );
            merchants.sort_unstable();
            merchants.dedup();
            load_open_loans_of(loader, loans, &merchants)?;
        }
        let (mut accounts, transfers) = book.ledger_needs(settings);
        accounts.extend(loans.ledger_needs());
        (accounts, transfers)
    } else {
        (Vec::new(), Vec::new())
    };
    let t1 = std::time::Instant::now();
    load_working_set(loader, state, group, &due, &book_accounts, &book_transfers)?;
    let t2 = std::time::Instant::now();
    let expired = state.expire_pending(now, &due);
    if expired > 0 {
        tracing::info!(expired, "pending transfers expired");
    }
    let platform = settings.platform();
    let mut withheld = Vec::new();
    if !due_orders.is_empty() {
        let mut withholder = loans.withholder(&platform, now, &mut withheld);
        let done = book.run_due_with(
            settings,
            state,
            now,
            event_clock,
            &due_orders,
            &mut withholder,
        );
        tracing::debug!(done, "scheduled settlement work done");
    }
    let mut outcomes = Vec::with_capacity(group.len());
    let mut decisions = Vec::new();
    for request in group {
        outcomes.push(match request {
            Request::Accounts(events, _) => Outcome::Accounts(state.create_accounts(now, events)),
            Request::Transfers(events, _) => {
                Outcome::Transfers(state.create_transfers(now, events))
            }
            Request::Settle(commands, _) => {
                let mut withholder = loans.withholder(&platform, now, &mut withheld);
                Outcome::Settle(book.apply_with(settings, state, now, commands, &mut withholder))
            }
            Request::Loans(commands, _) => {
                Outcome::Loans(loans.apply(book, settings.ledger, state, now, commands))
            }
            Request::Decisions(records, _, _) => {
                // The texts move into the rows; the records keep their ids, and each is marked
                // once the commit tells which it stored (`mark_stored`).
                decisions.extend(records.iter_mut().map(take_decision_row));
                Outcome::Decisions(vec![false; records.len()])
            }
        });
    }
    // What settlements withheld moves on from the platform's withholding account to the banks.
    if !withheld.is_empty() {
        let results = state.create_transfers(now, &withheld);
        if let Some(r) = results.iter().find(|r| **r != CreateTransferResult::Ok) {
            return Err(StoreError::Corrupt(format!(
                "a withholding transfer to a bank failed: {}",
                r.as_str()
            )));
        }
    }
    let changes = GroupChanges {
        loans: std::mem::take(&mut loans.changed),
        ledger: state.take_changes(),
        book: std::mem::take(&mut book.changed),
        activity: std::mem::take(&mut book.activity),
        decisions,
    };
    tracing::trace!(
        book_us = t1.duration_since(t0).as_micros(),
        ledger_load_us = t2.duration_since(t1).as_micros(),
        apply_us = t2.elapsed().as_micros(),
        "group applied"
    );
    Ok((outcomes, changes))
}

/// Loads every stored record the group and the due expiries can touch. Records already in
/// the working set are not loaded again: they may be newer than the database (changed by a
/// group whose commit is still under way).
fn load_working_set(
    tx: &mut dyn Load,
    state: &mut State,
    group: &[Request],
    due: &[u128],
    book_accounts: &[u128],
    book_transfers: &[u128],
) -> Result<(), StoreError> {
    let mut transfer_ids: IdSet = due.iter().chain(book_transfers).copied().collect();
    let mut account_ids: IdSet = book_accounts.iter().copied().collect();
    for request in group {
        match request {
            Request::Accounts(events, _) => account_ids.extend(events.iter().map(|a| a.id)),
            Request::Transfers(events, _) => {
                for t in events {
                    transfer_ids.insert(t.id);
                    if t.pending_id != 0 {
                        transfer_ids.insert(t.pending_id);
                    }
                    account_ids.insert(t.debit_account_id);
                    account_ids.insert(t.credit_account_id);
                }
            }
            Request::Settle(..) | Request::Decisions(..) | Request::Loans(..) => {}
        }
    }
    let transfer_ids: Vec<u128> = transfer_ids
        .into_iter()
        .filter(|id| {
            *id != 0 && !state.transfers.contains_key(id) && !state.failed.contains_key(id)
        })
        .collect();
    tx.load_transfers(&transfer_ids, state)?;
    for t in state.transfers.values() {
        if t.flags.contains(TransferFlags::PENDING) {
            account_ids.insert(t.debit_account_id);
            account_ids.insert(t.credit_account_id);
        }
    }
    let missing: Vec<u128> = account_ids
        .into_iter()
        .filter(|id| *id != 0 && !state.accounts.contains_key(id))
        .collect();
    tx.load_accounts(&missing, state)
}

fn add_merchants(needs: &mut Needs, merchants: impl Iterator<Item = String>) {
    needs.merchants.extend(merchants);
    needs.merchants.sort_unstable();
    needs.merchants.dedup();
}

/// Nanoseconds since the Unix epoch; the engine keeps timestamps strictly increasing even if
/// the wall clock steps back.
pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
