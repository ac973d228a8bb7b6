//! What reads across features for people to see: a household's balance with its stars
//! and its statement, rankings and the honour board, the township's dashboard (DESIGN.md §5).

pub mod dashboard;
pub mod exports;
pub mod http;
pub mod model;
pub mod service;
mod store;
pub mod views;

pub use service::{balance, household_ledger};
pub use views::BalanceView;
