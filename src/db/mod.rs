//! Database layer: one connection type over SQLite (embedded default) and PostgreSQL
//! (production), an r2d2 pool, write transactions, embedded migrations.

/// Runs the same diesel query on the concrete connection, for SQL the shared
/// `MultiBackend` cannot express (`ON CONFLICT`, multi-row `INSERT`, `FOR UPDATE`).
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

pub mod backup;
mod connection;
pub mod idempotency;
pub mod migrate;
mod on_thread;
pub mod reference;
pub mod schema;
pub mod statements;
mod target;
mod text_state;
mod writer;

pub use connection::{
    Db, DbConnection, DbManager, DbPool, MultiBackend, NotReady, OpenError, Tx, ensure_data_dir,
    write_tx,
};
pub use target::{DbTarget, TargetError};
pub use text_state::TextState;
#[cfg(test)]
pub use text_state::assert_names_round_trip;
