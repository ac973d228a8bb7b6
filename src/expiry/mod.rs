//! 清零: once a year, where the village's policy says so, every household's positive
//! spendable points move to the village's `expired` account (API.md "Honour, rankings
//! and expiry"). Honour never expires; a negative balance stays owed.

pub mod http;
pub mod model;
pub mod service;
mod store;
