//! SQLite has one writer at a time. A server's writers wait their turn here, behind a
//! mutex in front of `BEGIN IMMEDIATE`, instead of each sleeping and retrying inside
//! SQLite's busy handler (which left a core idle and made the slowest answers take
//! seconds under load); reads go on beside them on the other connections (WAL).
//! Other processes on the same file (a command) still meet the busy timeout.
//!
//! The turns are first come, first served (a fair mutex): with a plain mutex a writer
//! that just finished could take the lock again ahead of those asleep on it, and under
//! sixteen clients the unluckiest request waited three times the median.

use std::cell::RefCell;
use std::sync::Arc;

use parking_lot::{FairMutex, FairMutexGuard};

use super::on_thread;

thread_local! {
    /// The turns of the server whose work runs on this thread ([`WriterTurns::serving`]).
    static SERVING: RefCell<Option<Arc<WriterTurns>>> = const { RefCell::new(None) };
}

/// One server's queue of SQLite writers.
#[derive(Default)]
pub struct WriterTurns {
    turn: FairMutex<()>,
}

impl WriterTurns {
    /// Runs `work` on this thread with these turns.
    pub(super) fn serving<T>(self: &Arc<Self>, work: impl FnOnce() -> T) -> T {
        on_thread::with(&SERVING, self, work)
    }

    /// Waits for this server's turn to write.
    pub(super) fn wait(&self) -> FairMutexGuard<'_, ()> {
        self.turn.lock()
    }
}

/// The turns of the server running work on this thread, if any.
pub(super) fn serving() -> Option<Arc<WriterTurns>> {
    on_thread::current(&SERVING)
}
