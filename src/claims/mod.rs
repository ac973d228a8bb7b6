//! Claims (申报) and direct awards: how points enter the ledger.

pub mod http;
pub mod model;
pub mod service;
mod store;
