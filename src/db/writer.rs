//! SQLite has one writer at a time. A server's writers wait their turn here, behind a
//! mutex in front of `BEGIN IMMEDIATE`, instead of each sleeping and retrying inside
//! SQLite's busy handler (which left a core idle and made the slowest answers take
//! seconds under load); reads go on beside them on the other connections (WAL).
//! Other processes on the same file (a command) still meet the busy timeout.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};

use super::on_thread;

thread_local! {
    /// The turns of the server whose work runs on this thread ([`WriterTurns::serving`]).
    static SERVING: RefCell<Option<Arc<WriterTurns>>> = const { RefCell::new(None) };
}

/// One server's queue of SQLite writers.
#[derive(Default)]
pub struct WriterTurns {
    turn: Mutex<()>,
}

impl WriterTurns {
    /// Runs `work` on this thread with these turns.
    pub(super) fn serving<T>(self: &Arc<Self>, work: impl FnOnce() -> T) -> T {
        on_thread::with(&SERVING, self, work)
    }

    /// Waits for this server's turn to write.
    pub(super) fn wait(&self) -> MutexGuard<'_, ()> {
        self.turn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The turns of the server running work on this thread, if any.
pub(super) fn serving() -> Option<Arc<WriterTurns>> {
    on_thread::current(&SERVING)
}
