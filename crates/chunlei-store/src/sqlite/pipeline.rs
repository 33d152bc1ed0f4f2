//! The SQLite writer as a two-stage pipeline on two threads.
//!
//! The engine thread takes a group of requests, loads what it needs on its own read
//! connection, applies it to the ledger engine and hands the resulting rows to the committer
//! thread, which writes and commits them and only then replies to the group's callers. While
//! group N commits, the engine already applies group N+1, so the two cores share the work
//! that one thread did in turn.
//!
//! Group N+1 may depend on group N (a transfer posted in N+1 that N created): the engine keeps
//! every record changed by a group in its working set until that group has committed, and
//! never loads over it. If a commit fails, the committer fails every later group the engine had
//! already built on it (they carry the same epoch); the engine waits for those, then starts
//! again from what is committed. The engine hears of a failure before the group's callers do,
//! so a request sent after the failure is answered is never built on the failed group.
//! Nothing is half-applied and no caller hears of a result before the commit that makes it
//! durable.
//!
//! Loan decisions go past the engine, straight to the committer's inbox: they read and change
//! nothing the engine holds, so they need no preparing. The committer stores them with its
//! next transaction, with the engine's next group when one is waiting or alone, so a decision
//! never waits for the engine to prepare a large group of settlement events.

use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

use std::sync::Arc;

use chunlei_ledger::{IdSet, State};
use chunlei_settlement::book::{Book, BookKeys, KeySet, Settings};

use super::{CommitRows, Committer, Engine, registry};
use crate::StoreError;
use crate::decisions::{LoanDecisionRecord, take_decision_row};
use crate::writer::{
    DecisionSender, GROUP_EVENTS_MAX, Outcome, Request, WriterHandle, apply_group, collect_group,
    mark_stored, queue_error, reply,
};
use chunlei_lending::loans::LoanBook;

/// Groups handed to the committer and not yet committed, at most: one being written, one
/// waiting behind it.
const IN_FLIGHT_MAX: usize = 2;
/// Loans the engine keeps between groups at most (beyond it they are read again).
const LOANS_CACHED_MAX: usize = 10_000;
/// Orders the engine keeps between groups, at most (a few hundred bytes each): an order is
/// paid, shipped and confirmed in three groups, and loading it again for each costs the
/// engine about a fifth of its time.
const ORDERS_CACHED_MAX: usize = 1 << 18;
/// Merchants' settlement records kept between groups, at most.
const MERCHANTS_CACHED_MAX: usize = 1 << 18;

pub(crate) fn spawn(
    engine: Engine,
    committer: Committer,
    queue_max: usize,
    settings: Arc<Settings>,
) -> Result<WriterHandle, StoreError> {
    let (sender, requests) = mpsc::sync_channel(queue_max.max(1));
    // The committer's inbox: the engine's groups and the loan decisions sent past it. The
    // engine holds itself to [`IN_FLIGHT_MAX`] groups, so the bound is the decisions'.
    let (work, inbox) = mpsc::sync_channel::<Work>(queue_max.max(1));
    let jobs = work.clone();
    let commits = committer.commits.clone();
    let thread = thread::Builder::new()
        .name("ledger-engine".into())
        .spawn(move || run_engine(engine, committer, &requests, jobs, inbox, &settings))
        .map_err(|e| StoreError::Corrupt(format!("cannot start the engine thread: {e}")))?;
    let decisions: DecisionSender =
        Box::new(move |request| work.try_send(Work::Decisions(request)).map_err(queue_error));
    Ok(WriterHandle::new(sender, Some(decisions), thread, commits))
}

/// What the committer takes, in the order it came.
enum Work {
    /// A group the engine prepared (boxed: the inbox's slots are as large as its largest).
    Job(Box<Job>),
    /// Loan decisions, sent past the engine: they read and change nothing the engine holds
    /// (no ledger, settlement or loan record), so they need no preparing and are stored with
    /// the committer's next transaction, whether or not it has a group of the engine's.
    Decisions(Request),
}

struct Job {
    epoch: u64,
    rows: CommitRows,
    group: Vec<Request>,
    outcomes: Vec<Outcome>,
}

fn run_engine(
    engine: Engine,
    committer: Committer,
    requests: &Receiver<Request>,
    jobs: SyncSender<Work>,
    inbox: Receiver<Work>,
    settings: &Settings,
) {
    let (ack_sender, acks) = mpsc::channel::<Ack>();
    let writer = thread::Builder::new()
        .name("ledger-writer".into())
        .spawn(move || run_committer(committer, &inbox, &ack_sender));
    let writer = match writer {
        Ok(writer) => writer,
        Err(error) => {
            tracing::error!(%error, "cannot start the ledger writer thread");
            return;
        }
    };
    let mut pipeline = Pipeline {
        engine,
        state: None,
        book: Book::default(),
        loans: LoanBook::default(),
        epoch: 0,
        in_flight: VecDeque::new(),
        acks,
        registry_changes: None,
    };
    let mut carry = None;
    loop {
        // Room in the pipeline first, then the group: taken when it can be prepared at once, a
        // group holds every request that came while the committer was busy, so none of them
        // waits for a later commit than it must.
        let waited = std::time::Instant::now();
        pipeline.settle();
        let Some(mut group) = collect_group(requests, &mut carry) else {
            break;
        };
        let started = std::time::Instant::now();
        pipeline.settle();
        let prepared = pipeline.prepare(&mut group, settings);
        tracing::trace!(
            requests = group.len(),
            waited_us = started.duration_since(waited).as_micros(),
            prepare_us = started.elapsed().as_micros(),
            "group prepared"
        );
        match prepared {
            Ok((rows, outcomes, book_keys)) => {
                if rows.is_empty() && group.is_empty() {
                    continue;
                }
                pipeline
                    .in_flight
                    .push_back((rows.changed_ids(), book_keys));
                pipeline.engine.note_stored(rows.max_transfer_id());
                let job = Job {
                    epoch: pipeline.epoch,
                    rows,
                    group,
                    outcomes,
                };
                if jobs.send(Work::Job(Box::new(job))).is_err() {
                    tracing::error!("the ledger writer thread stopped");
                    break;
                }
            }
            Err(error) => {
                tracing::error!(%error, requests = group.len(), "ledger group failed; group rejected");
                for request in group {
                    request.fail(&error);
                }
                pipeline.start_over();
            }
        }
    }
    drop(jobs);
    if writer.join().is_err() {
        tracing::error!("the ledger writer thread panicked");
    }
}

struct Pipeline {
    engine: Engine,
    /// `None` until built from what is committed (at start and after a failed commit).
    state: Option<State>,
    /// The settlement records loaded or changed; like the ledger's working set, what groups
    /// still with the committer changed is kept and never loaded over.
    book: Book,
    /// The loans loaded or changed. This process is the only writer, so a loan held here is
    /// never older than the database: kept until the pipeline is empty and too many are held.
    loans: LoanBook,
    epoch: u64,
    /// For each group with the committer, oldest first, the ids (and settlement keys) whose
    /// records it changes.
    in_flight: VecDeque<(IdSet, BookKeys)>,
    acks: Receiver<Ack>,
    /// The registry's change count that the book's registry records hold at.
    registry_changes: Option<i64>,
}

/// The committer's answer for one group: whether it committed, and the group's rows, handed
/// back to be freed on the engine thread. The engine allocated them; freed there, their memory
/// is reused by the next group at once, where frees from the committer's thread left it to be
/// returned to the system and faulted in afresh (a quarter of the engine's time went to page
/// faults).
struct Ack {
    committed: bool,
    _rows: CommitRows,
}

impl Pipeline {
    fn prepare(
        &mut self,
        group: &mut [Request],
        settings: &Settings,
    ) -> Result<(CommitRows, Vec<Outcome>, BookKeys), StoreError> {
        let state = match &mut self.state {
            Some(state) => state,
            None => self.state.insert(self.engine.reset()?),
        };
        // One read transaction for all the group's loads: one snapshot, and one lock taken
        // instead of one per lookup.
        super::run_cached(&self.engine.conn, "BEGIN")?;
        // Registry records kept from earlier groups hold while their merchants' entries did not
        // change.
        let forgot = forget_changed_registry(
            &self.engine.conn,
            &mut self.book,
            &mut self.registry_changes,
        );
        if let Err(error) = forgot {
            super::run_cached(&self.engine.conn, "COMMIT")?;
            return Err(error);
        }
        let applied = apply_group(
            &mut self.engine,
            state,
            &mut self.book,
            &mut self.loans,
            settings,
            group,
        );
        super::run_cached(&self.engine.conn, "COMMIT")?;
        let (outcomes, mut changes) = applied?;
        let keys = std::mem::take(&mut changes.book);
        Ok((
            CommitRows::new(state, changes, &keys, &self.book, &self.loans)?,
            outcomes,
            keys,
        ))
    }

    /// Takes the committer's answers that have arrived, and waits for one while the pipeline
    /// is full.
    fn settle(&mut self) {
        loop {
            let ack = if self.in_flight.len() >= IN_FLIGHT_MAX {
                self.acks.recv().ok()
            } else {
                self.acks.try_recv().ok()
            };
            match ack {
                Some(ack) => self.acknowledge(ack.committed),
                None => return,
            }
        }
    }

    fn acknowledge(&mut self, committed: bool) {
        self.in_flight.pop_front();
        if !committed {
            self.start_over();
            return;
        }
        // What the committed group changed is now in the database; of the ledger's records,
        // events and payouts keep only what groups still under way changed, so that part of
        // the working set stays as small as the pipeline.
        let keep: IdSet = self
            .in_flight
            .iter()
            .flat_map(|(ids, _)| ids)
            .copied()
            .collect();
        let changed = |key: &String, of: fn(&BookKeys) -> &KeySet| {
            self.in_flight
                .iter()
                .any(|(_, keys)| of(keys).contains(key))
        };
        self.book
            .events
            .retain(|key, _| changed(key, |keys| &keys.events));
        self.book
            .payouts
            .retain(|key, _| changed(key, |keys| &keys.payouts));
        // Orders and merchants stay, as a cache of what is committed: this process is the only
        // writer, so a record it holds is the stored one or newer (changed by a group under
        // way), and the next group need not load it again. Past the bound, finished orders go
        // first, then every committed one. The registry stays too, until its merchant's entry
        // changes (see `prepare`).
        if self.book.orders.len() > ORDERS_CACHED_MAX {
            self.book
                .orders
                .retain(|key, order| order.due_at() != 0 || changed(key, |keys| &keys.orders));
        }
        if self.book.orders.len() > ORDERS_CACHED_MAX {
            self.book
                .orders
                .retain(|key, _| changed(key, |keys| &keys.orders));
        }
        if self.book.merchants.len() > MERCHANTS_CACHED_MAX {
            // Orders go with them: the loader counts on the book holding the merchant of every
            // order it holds.
            self.book
                .orders
                .retain(|key, _| changed(key, |keys| &keys.orders));
            self.book
                .merchants
                .retain(|key, _| changed(key, |keys| &keys.merchants));
        }
        if self.book.registry.len() > MERCHANTS_CACHED_MAX {
            self.book.registry.clear();
        }
        if self.in_flight.is_empty() && self.loans.loans.len() > LOANS_CACHED_MAX {
            self.loans = LoanBook::default();
        }
        if let Some(state) = &mut self.state {
            state.transfers.retain(|id, _| keep.contains(id));
            state.pending.retain(|id, _| keep.contains(id));
            state.failed.retain(|id, _| keep.contains(id));
        }
    }

    /// After a failure: every group still with the committer fails too (it was built on the
    /// failed one); once they have, the working set is rebuilt from what is committed.
    fn start_over(&mut self) {
        self.epoch += 1;
        while self.in_flight.pop_front().is_some() {
            if self.acks.recv().is_err() {
                break;
            }
        }
        self.state = None;
        self.book = Book::default();
        self.loans = LoanBook::default();
        self.registry_changes = None;
    }
}

/// Drops from `book` the registry records of merchants changed since `known`, the count they
/// hold at, as `conn`'s snapshot sees the registry; all of them after a bulk change, or when
/// there is no such count yet. `known` becomes the snapshot's count.
fn forget_changed_registry(
    conn: &rusqlite::Connection,
    book: &mut Book,
    known: &mut Option<i64>,
) -> Result<(), StoreError> {
    let count = super::registry_changes(conn)?;
    match *known {
        Some(known) if known == count => {}
        Some(known) => match registry::changed_since(conn, known, registry::NOTED_MAX)? {
            Some(changed) => {
                for (merchant, _) in changed {
                    book.registry.remove(&merchant);
                }
            }
            None => book.registry.clear(),
        },
        None => book.registry.clear(),
    }
    *known = Some(count);
    Ok(())
}

fn run_committer(mut committer: Committer, inbox: &Receiver<Work>, acks: &Sender<Ack>) {
    let mut failed_epoch: Option<u64> = None;
    let mut carry: Option<Work> = None;
    let mut pace = Pace::default();
    loop {
        let wait = pace.wait(std::time::Instant::now());
        if !wait.is_zero() {
            thread::sleep(wait);
        }
        let Some(Transaction { job, decisions }) = next_transaction(inbox, &mut carry) else {
            return;
        };
        let mut decisions = refuse_stale(&committer, decisions);
        let mut engine_gone = false;
        // The records' texts move into the rows: past this point a request only names its
        // decisions by id, to be told which were stored.
        let direct: Vec<_> = decisions
            .iter_mut()
            .filter_map(|request| match request {
                Request::Decisions(records, _, _) => {
                    Some(records.iter_mut().map(take_decision_row))
                }
                Request::Accounts(..)
                | Request::Transfers(..)
                | Request::Settle(..)
                | Request::Loans(..) => None,
            })
            .flatten()
            .collect();
        let (rows, group) = match job {
            // A group built on a failed one fails with it; decisions sent with it are stored
            // alone.
            Some(job) if failed_epoch.is_some_and(|epoch| job.epoch <= epoch) => {
                let error = StoreError::Corrupt(
                    "an earlier commit failed; this group was not applied".into(),
                );
                let ack = Ack {
                    committed: false,
                    _rows: job.rows,
                };
                engine_gone = acks.send(ack).is_err();
                for request in job.group {
                    request.fail(&error);
                }
                (CommitRows::decisions(direct), None)
            }
            Some(job) => {
                let mut rows = job.rows;
                rows.decisions.extend(direct);
                (rows, Some((job.group, job.outcomes, job.epoch)))
            }
            None => (CommitRows::decisions(direct), None),
        };
        if group.is_none() && decisions.is_empty() {
            if engine_gone {
                return;
            }
            continue;
        }
        let started = std::time::Instant::now();
        let result = committer.commit(&rows);
        match &result {
            Ok(stored) => {
                // Before anyone hears of the commit: no decision asked for after it is made
                // from inputs it changed.
                committer.inputs.changed(&rows.touched);
                if !rows.is_empty() {
                    committer.commits.committed(started.elapsed(), stored.len());
                }
            }
            Err(_) => committer.commits.failed(),
        }
        pace.committed(started, std::time::Instant::now(), rows.decisions.len());
        tracing::trace!(
            commit_us = started.elapsed().as_micros(),
            decision_requests = decisions.len(),
            "group committed"
        );
        if let Err(error) = &result {
            let requests = group.as_ref().map_or(0, |(g, _, _)| g.len()) + decisions.len();
            tracing::error!(%error, requests, "ledger commit failed; group rejected");
            if let Some((_, _, epoch)) = &group {
                failed_epoch = Some(*epoch);
            }
        }
        // The engine hears before the callers do. A caller told of a failure may send again at
        // once; its request must find the engine starting over from what is committed, not
        // building on the failed group (which would fail it too, for no fault of its own).
        if group.is_some() {
            let ack = Ack {
                committed: result.is_ok(),
                _rows: rows,
            };
            engine_gone |= acks.send(ack).is_err();
        }
        match result {
            Ok(stored) => {
                // The group's rows were inserted first, so an id in both is the group's.
                let mut stored: HashSet<String> = stored.into_iter().collect();
                if let Some((group, mut outcomes, _)) = group {
                    mark_stored(&group, &mut outcomes, &mut stored);
                    reply(group, outcomes);
                }
                let mut outcomes: Vec<Outcome> = decisions
                    .iter()
                    .map(|request| Outcome::Decisions(vec![false; request.len()]))
                    .collect();
                mark_stored(&decisions, &mut outcomes, &mut stored);
                reply(decisions, outcomes);
            }
            Err(error) => {
                let group = group.map(|(group, _, _)| group).unwrap_or_default();
                for request in group.into_iter().chain(decisions) {
                    request.fail(&error);
                }
            }
        }
        if engine_gone {
            return;
        }
    }
}

/// Takes out of `decisions` and refuses ([`StoreError::InputsChanged`]) the requests made
/// from kept inputs of a merchant whose registry entry changed after they were read: the
/// committer catches up with the registry's latest commit on its own connection, after the
/// requests were sent, so a registry write that finished before one of them was asked for is
/// known (see [`crate::inputs`]).
fn refuse_stale(committer: &Committer, decisions: Vec<Request>) -> Vec<Request> {
    let stamped = |request: &Request| matches!(request, Request::Decisions(_, Some(_), _));
    if !decisions.iter().any(stamped) {
        return decisions;
    }
    let registry = &committer.inputs.registry;
    let caught_up = committer.catch_up_registry();
    if let Err(error) = &caught_up {
        // Unknown: those requests decide again from a fresh read.
        tracing::warn!(%error, "cannot learn the registry's changes");
    }
    let holds = |records: &[LoanDecisionRecord], as_of: i64| {
        let known = registry.known();
        caught_up.is_ok()
            && records
                .iter()
                .all(|record| registry.holds(&record.merchant_id, as_of, known))
    };
    decisions
        .into_iter()
        .filter_map(|request| match request {
            Request::Decisions(records, Some(as_of), reply) if !holds(&records, as_of) => {
                committer.inputs.refused(records.len());
                drop(reply.send(Err(StoreError::InputsChanged)));
                None
            }
            other @ (Request::Decisions(..)
            | Request::Accounts(..)
            | Request::Transfers(..)
            | Request::Settle(..)
            | Request::Loans(..)) => Some(other),
        })
        .collect()
}

/// How long the committer lingers between transactions once loan decisions arrive fast
/// enough ([`Pace`]).
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);
/// The decisions that must arrive during one commit's time for the committer to linger.
const LINGER_FROM: u128 = 8;

/// The committer's pace under a stream of loan decisions. A commit costs much the same
/// whatever it holds (the WAL's sync, and the page cache of every reader, which its next read
/// drops), so when the machine is saturated, fewer and larger commits leave more of it to
/// deciding; but every decision waits for the commit after it, so a longer linger adds to
/// every answer's time (with decisions' inputs kept in memory, 2 ms answered more decisions
/// a second at a lower p99 than 4 ms; see `docs/benchmarks.md`). Once decisions arrive fast enough that [`LINGER_FROM`] come during one commit's
/// time, the committer takes its next transaction no sooner than [`LINGER`] after it began
/// the last, with everything that arrived meanwhile. Slower, it takes each at once, as a
/// linger would only add to every answer's time. The rate is measured over each cycle, so a
/// load that falls leaves the linger behind at the next commit.
#[derive(Debug, Default)]
struct Pace {
    /// When the last transaction began.
    began: Option<std::time::Instant>,
    /// No transaction before this.
    until: Option<std::time::Instant>,
}

impl Pace {
    /// How long to wait, at `now`, before taking the next transaction.
    fn wait(&self, now: std::time::Instant) -> std::time::Duration {
        self.until.map_or(std::time::Duration::ZERO, |until| {
            until.saturating_duration_since(now)
        })
    }

    /// A transaction holding `decisions` loan decisions began at `began` and was done at `done`.
    fn committed(&mut self, began: std::time::Instant, done: std::time::Instant, decisions: usize) {
        let previous = self.began.replace(began);
        self.until = None;
        let Some(previous) = previous else {
            return;
        };
        // They arrived over the cycle since the last began: at that rate, would one commit's
        // time gather LINGER_FROM? Compared as decisions × commit ≥ LINGER_FROM × cycle.
        let cycle = began.saturating_duration_since(previous).as_nanos();
        let commit = done.saturating_duration_since(began).as_nanos();
        if decisions > 0 && (decisions as u128) * commit >= LINGER_FROM * cycle {
            self.until = Some(began + LINGER);
        }
    }
}

/// What one of the committer's transactions holds: at most one group of the engine's (its
/// groups commit one at a time, in order) and the loan decisions that came with it.
struct Transaction {
    job: Option<Box<Job>>,
    decisions: Vec<Request>,
}

/// Waits for the next work, then takes what is queued behind it: at most one group and loan
/// decisions up to [`GROUP_EVENTS_MAX`]; what does not fit waits in `carry` for the next
/// transaction. `None` once every sender is gone.
fn next_transaction(inbox: &Receiver<Work>, carry: &mut Option<Work>) -> Option<Transaction> {
    let mut next = match carry.take() {
        Some(work) => Some(work),
        None => Some(inbox.recv().ok()?),
    };
    let mut transaction = Transaction {
        job: None,
        decisions: Vec::new(),
    };
    let mut events = 0;
    while let Some(work) = next.take() {
        match work {
            Work::Job(job) if transaction.job.is_none() => transaction.job = Some(job),
            Work::Decisions(request)
                if transaction.decisions.is_empty()
                    || events + request.len() <= GROUP_EVENTS_MAX =>
            {
                events += request.len();
                transaction.decisions.push(request);
            }
            other @ (Work::Job(_) | Work::Decisions(_)) => {
                *carry = Some(other);
                break;
            }
        }
        next = inbox.try_recv().ok();
    }
    Some(transaction)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{LINGER, Pace};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_first_commit_and_a_slow_stream_never_linger() {
        let start = Instant::now();
        let mut pace = Pace::default();
        pace.committed(start, start + ms(1), 500);
        assert_eq!(pace.wait(start + ms(1)), Duration::ZERO, "no rate yet");
        // 7 decisions over a 1 ms cycle, a 1 ms commit: 7 would arrive in one commit's time.
        pace.committed(start + ms(2), start + ms(3), 7);
        assert_eq!(pace.wait(start + ms(3)), Duration::ZERO);
    }

    #[test]
    fn a_fast_stream_lingers_until_the_linger_has_passed_since_the_last_began() {
        let start = Instant::now();
        let mut pace = Pace::default();
        pace.committed(start, start + ms(1), 1);
        // 8 decisions over a 1 ms cycle, a 1 ms commit.
        let began = start + ms(1);
        pace.committed(began, began + ms(1), 8);
        assert_eq!(pace.wait(began + ms(1)), LINGER - ms(1));
        assert_eq!(pace.wait(began + LINGER), Duration::ZERO);
        assert_eq!(pace.wait(began + LINGER + ms(5)), Duration::ZERO);
    }

    #[test]
    fn ledger_work_alone_never_lingers() {
        let start = Instant::now();
        let mut pace = Pace::default();
        pace.committed(start, start + ms(1), 0);
        pace.committed(start, start + ms(1), 0);
        assert_eq!(pace.wait(start + ms(1)), Duration::ZERO);
    }

    #[test]
    fn a_load_that_falls_leaves_the_linger_at_the_next_commit() {
        let start = Instant::now();
        let mut pace = Pace::default();
        pace.committed(start, start + ms(1), 1);
        pace.committed(start + ms(1), start + ms(2), 40);
        assert!(!pace.wait(start + ms(2)).is_zero());
        // Lingered 2 ms and gathered 10: 5 a ms, a 1 ms commit gathers 5, under 8.
        assert_eq!(LINGER, ms(2));
        let began = start + ms(1) + LINGER;
        pace.committed(began, began + ms(1), 10);
        assert_eq!(pace.wait(began + ms(1)), Duration::ZERO);
    }
}
