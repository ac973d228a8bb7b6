//! What one server's blocking work finds on its thread (its reference copies, its writer
//! turns, its statement recorder): `Db::run` puts them there for the work's duration.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

pub(super) type Slot<T> = LocalKey<RefCell<Option<Arc<T>>>>;

/// Runs `work` with `value` in `slot`; the slot is restored afterwards, even when the
/// work panics (blocking threads are reused).
pub(super) fn with<T: 'static, R>(
    slot: &'static Slot<T>,
    value: &Arc<T>,
    work: impl FnOnce() -> R,
) -> R {
    struct Restore<T: 'static> {
        slot: &'static Slot<T>,
        before: Option<Arc<T>>,
    }
    impl<T: 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            let before = self.before.take();
            self.slot.with(|s| s.replace(before));
        }
    }
    let before = slot.with(|s| s.replace(Some(value.clone())));
    let _restore = Restore { slot, before };
    work()
}

/// What `slot` holds on this thread.
pub(super) fn current<T>(slot: &'static Slot<T>) -> Option<Arc<T>> {
    slot.with(|s| s.borrow().clone())
}
