//! 积分证明: a household's statement for a bank (API.md "Household statements"). The
//! server signs the statement's canonical JSON with its Ed25519 key; anyone holding the
//! published public key can check it, online or offline, and the chain head it names
//! ties it to the village's books.

pub mod http;
pub mod model;
pub mod print;
pub mod service;
pub mod signing;
mod store;
