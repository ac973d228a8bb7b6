//! Township, villages (with their policy), groups, households, members and staff.

pub mod http;
pub mod import;
pub mod model;
pub mod policy;
pub mod service;
mod store;

pub use service::{bootstrap, create_township_if_none, township_is_empty};
