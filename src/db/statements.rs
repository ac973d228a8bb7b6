//! Counts the statements each request sends to the database (its queries and changes;
//! `BEGIN`, `COMMIT` and savepoints are not counted), so that what a use case costs is
//! a number in `/metrics` and in the tests, and cannot creep back up unseen.
//!
//! Each connection reports its statements to the thread using it; [`super::Db::run`]
//! hands what its work sent to the request it runs for, which [`counted`] scopes.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::{DebugQuery, Instrumentation, InstrumentationEvent};
use diesel::result::{DatabaseErrorKind, Error};

use super::on_thread;

thread_local! {
    static ON_THIS_THREAD: Cell<u64> = const { Cell::new(0) };
    /// Where this thread's statements are written down, while a server records them.
    static RECORDING: RefCell<Option<Arc<Recorder>>> = const { RefCell::new(None) };
}

/// The text of the statements a server sent while it was asked to record them: how a
/// test reads the plans of a use case's queries (`EXPLAIN`).
#[derive(Default)]
pub struct Recorder {
    on: std::sync::atomic::AtomicBool,
    sql: Mutex<Vec<String>>,
}

impl Recorder {
    /// Starts writing statements down, forgetting any written before.
    pub fn start(&self) {
        self.lock().clear();
        self.on.store(true, Ordering::Release);
    }

    /// Stops, and hands over what was written down.
    pub fn stop(&self) -> Vec<String> {
        self.on.store(false, Ordering::Release);
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.sql.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs blocking `work` on this thread with this recorder, when it is on.
    pub(super) fn around<T>(self: &Arc<Self>, work: impl FnOnce() -> T) -> T {
        if !self.on.load(Ordering::Acquire) {
            return work();
        }
        on_thread::with(&RECORDING, self, work)
    }
}

tokio::task_local! {
    static REQUEST: Arc<AtomicU64>;
}

/// The instrumentation every pooled connection carries.
#[derive(Default)]
pub struct StatementCount {
    /// diesel announces each BEGIN, COMMIT, ROLLBACK and savepoint, then sends it as
    /// the next statement.
    transaction_control_next: bool,
    /// The server closed the connection: the pool drops it instead of handing it out
    /// again (there is no test query at check-out to find out).
    closed: bool,
}

impl StatementCount {
    fn started(&mut self, query: &dyn DebugQuery) {
        if !std::mem::take(&mut self.transaction_control_next) {
            ON_THIS_THREAD.with(|count| count.set(count.get() + 1));
            if let Some(recorder) = on_thread::current(&RECORDING) {
                recorder.lock().push(query.to_string());
            }
        }
    }

    pub(super) fn saw_closed(instrumentation: &mut dyn Instrumentation) -> bool {
        instrumentation
            .downcast_ref::<StatementCount>()
            .is_some_and(|count| count.closed)
    }
}

impl Instrumentation for StatementCount {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::BeginTransaction { .. }
            | InstrumentationEvent::CommitTransaction { .. }
            | InstrumentationEvent::RollbackTransaction { .. } => {
                self.transaction_control_next = true;
            }
            InstrumentationEvent::StartQuery { query, .. } => self.started(query),
            InstrumentationEvent::FinishQuery {
                error: Some(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)),
                ..
            } => self.closed = true,
            _ => {}
        }
    }
}

/// Runs `request` and says how many statements it sent through [`super::Db::run`].
pub async fn counted<F: Future>(request: F) -> (F::Output, u64) {
    let count = Arc::new(AtomicU64::new(0));
    let output = REQUEST.scope(count.clone(), request).await;
    (output, count.load(Ordering::Relaxed))
}

/// Where the statements of work started now should be added, if it runs for a request.
pub(super) fn request_tally() -> Option<Arc<AtomicU64>> {
    REQUEST.try_with(Arc::clone).ok()
}

/// Runs blocking `work` and adds the statements it sent on this thread to `tally`.
pub(super) fn tallied<T>(tally: Option<&AtomicU64>, work: impl FnOnce() -> T) -> T {
    let before = ON_THIS_THREAD.with(Cell::get);
    let output = work();
    if let Some(tally) = tally {
        let sent = ON_THIS_THREAD.with(Cell::get) - before;
        tally.fetch_add(sent, Ordering::Relaxed);
    }
    output
}
