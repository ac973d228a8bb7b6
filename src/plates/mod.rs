//! 一户一码: door plates. Each household's plate carries a random token in a QR that opens
//! a public page of its honour (`/p/{token}`, API.md "Door plates"); the committee issues,
//! rotates and prints them.

pub mod http;
pub mod model;
pub mod service;
pub mod sheet;
mod store;
