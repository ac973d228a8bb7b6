//! The points supermarket (积分超市): shops, goods and stock, payment codes, scanning,
//! atomic redemption and voids.

pub mod barcode;
pub mod card;
pub mod code;
pub mod http;
pub mod model;
pub mod service;
pub mod settlement;
mod store;
