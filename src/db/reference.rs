//! Reference rows: what nearly every request reads and what rarely changes (the caller's
//! roles, a shop and the villages it serves, a village's policy, a household's name and
//! state). Each server keeps them for a few seconds instead of reading them again for
//! every scan at the counter.
//!
//! A write to a reference table says so ([`changed`]); when its transaction commits,
//! every server-side copy made before is dropped at once, so this server never answers
//! from a copy older than its own last commit. Another server sharing the database sees
//! the change within [`LIFETIME`].

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::DbConnection;
use super::connection::in_transaction;
use super::on_thread;

/// How long a copy serves when nothing on this server changed its table.
pub const LIFETIME: Duration = Duration::from_secs(5);

/// Copies kept at most; past it, all are dropped and read again.
const CAPACITY: usize = 20_000;

thread_local! {
    /// The transaction running on this thread changed a reference table.
    static CHANGED_IN_TRANSACTION: Cell<bool> = const { Cell::new(false) };
    /// The copies of the server whose work runs on this thread ([`References::serving`]).
    static SERVING: RefCell<Option<Arc<References>>> = const { RefCell::new(None) };
}

/// The row of kind `T` for `id`: the server's fresh copy, or what `read` finds (which
/// the server then keeps). Work outside a server (a command), and a transaction that
/// has itself changed a reference table, always read.
pub fn get<T, E>(id: i64, read: impl FnOnce() -> Result<Option<T>, E>) -> Result<Option<T>, E>
where
    T: Clone + Send + Sync + 'static,
{
    if CHANGED_IN_TRANSACTION.with(Cell::get) {
        return read();
    }
    match on_thread::current(&SERVING) {
        Some(references) => references.get(id, read),
        None => read(),
    }
}

/// Called by the store functions that write a reference table.
pub fn changed(conn: &mut DbConnection) {
    if in_transaction(conn) {
        CHANGED_IN_TRANSACTION.with(|changed| changed.set(true));
    } else {
        invalidate_serving();
    }
}

/// The transaction on this thread committed.
pub(super) fn committed() {
    if CHANGED_IN_TRANSACTION.with(Cell::take) {
        invalidate_serving();
    }
}

/// The transaction on this thread rolled back: what it wrote never happened.
pub(super) fn rolled_back() {
    CHANGED_IN_TRANSACTION.with(|changed| changed.set(false));
}

fn invalidate_serving() {
    if let Some(references) = on_thread::current(&SERVING) {
        references.generation.fetch_add(1, Ordering::AcqRel);
    }
}

type Key = (TypeId, i64);

struct Copy {
    value: Arc<dyn Any + Send + Sync>,
    generation: u64,
    made: Instant,
}

/// One server's copies of reference rows, each kind by its own type.
#[derive(Default)]
pub struct References {
    copies: Mutex<HashMap<Key, Copy>>,
    /// Counts this server's commits that changed a reference table.
    generation: AtomicU64,
}

impl References {
    /// Runs `work` on this thread with these copies.
    pub(super) fn serving<T>(self: &Arc<Self>, work: impl FnOnce() -> T) -> T {
        on_thread::with(&SERVING, self, work)
    }

    fn get<T, E>(
        &self,
        id: i64,
        read: impl FnOnce() -> Result<Option<T>, E>,
    ) -> Result<Option<T>, E>
    where
        T: Clone + Send + Sync + 'static,
    {
        let key = (TypeId::of::<T>(), id);
        // Read before `read` runs: a commit during the read makes this copy stale.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(hit) = self.fresh(&key, generation) {
            return Ok(Some(hit));
        }
        let Some(found) = read()? else {
            return Ok(None);
        };
        let mut copies = self.copies.lock().unwrap_or_else(|p| p.into_inner());
        if copies.len() >= CAPACITY {
            copies.clear();
        }
        copies.insert(
            key,
            Copy {
                value: Arc::new(found.clone()),
                generation,
                made: Instant::now(),
            },
        );
        Ok(Some(found))
    }

    /// A fresh copy of the row of kind `T` for `id`, if this server holds one.
    pub fn fresh_copy<T: Clone + 'static>(&self, id: i64) -> Option<T> {
        let generation = self.generation.load(Ordering::Acquire);
        self.fresh(&(TypeId::of::<T>(), id), generation)
    }

    fn fresh<T: Clone + 'static>(&self, key: &Key, generation: u64) -> Option<T> {
        let copies = self.copies.lock().unwrap_or_else(|p| p.into_inner());
        let copy = copies.get(key)?;
        if copy.generation != generation || copy.made.elapsed() >= LIFETIME {
            return None;
        }
        copy.value.downcast_ref::<T>().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Name(&'static str);

    fn counted(name: &'static str, reads: &Cell<u32>) -> Result<Option<Name>, ()> {
        reads.set(reads.get() + 1);
        Ok(Some(Name(name)))
    }

    #[test]
    fn a_copy_serves_until_a_commit_changes_a_reference_table() {
        let references = Arc::new(References::default());
        let reads = Cell::new(0);
        references.serving(|| {
            assert_eq!(
                get(1, || counted("庆乐村", &reads)),
                Ok(Some(Name("庆乐村")))
            );
            assert_eq!(
                get(1, || counted("庆乐村", &reads)),
                Ok(Some(Name("庆乐村")))
            );
            assert_eq!(reads.get(), 1, "the second answer is the copy");

            CHANGED_IN_TRANSACTION.with(|changed| changed.set(true));
            rolled_back();
            committed();
            assert_eq!(
                get(1, || counted("庆乐村", &reads)),
                Ok(Some(Name("庆乐村")))
            );
            assert_eq!(reads.get(), 1, "a change rolled back drops nothing");

            CHANGED_IN_TRANSACTION.with(|changed| changed.set(true));
            assert_eq!(
                get(1, || counted("莲桂村", &reads)),
                Ok(Some(Name("莲桂村")))
            );
            assert_eq!(
                reads.get(),
                2,
                "a transaction that changed the table reads it"
            );
            committed();
            assert_eq!(
                get(1, || counted("莲桂村", &reads)),
                Ok(Some(Name("莲桂村")))
            );
            assert_eq!(
                get(1, || counted("莲桂村", &reads)),
                Ok(Some(Name("莲桂村")))
            );
            assert_eq!(
                reads.get(),
                3,
                "after the commit the row is read again, once"
            );
        });
    }

    #[test]
    fn missing_rows_are_not_kept_and_work_outside_a_server_always_reads() {
        let references = Arc::new(References::default());
        references.serving(|| {
            assert_eq!(get::<Name, ()>(8, || Ok(None)), Ok(None));
            assert_eq!(
                get(8, || Ok::<_, ()>(Some(Name("新村")))),
                Ok(Some(Name("新村")))
            );
        });
        let reads = Cell::new(0);
        get(1, || counted("庆乐村", &reads)).unwrap();
        get(1, || counted("庆乐村", &reads)).unwrap();
        assert_eq!(reads.get(), 2);
    }
}
