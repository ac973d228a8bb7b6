//! Database layer: one connection type over SQLite (embedded default) and PostgreSQL
//! (production), an r2d2 pool, write transactions, embedded migrations.

mod connection;
pub mod migrate;
pub mod schema;
mod target;

pub use connection::{Db, DbConnection, DbManager, DbPool, OpenError, write_tx};
pub use target::{Backend, DbTarget, TargetError};
