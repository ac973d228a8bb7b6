//! The ledger (DESIGN.md §4): accounts, transactions, postings, balances, the per-village
//! hash chain, verification and the audit trail.

pub mod model;
pub mod posting;
pub mod service;
mod store;
pub mod verify;
pub mod views;
