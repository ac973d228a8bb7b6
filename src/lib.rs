//! jifen (积分): the ledger service behind a village's points-and-checklist scheme.
//!
//! Feature folders own one part of the domain each (DESIGN.md §5); inside a folder
//! `model` is pure, `store` holds diesel queries, `service` owns the transaction and
//! `http` the actix handlers.

pub mod amount;
pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod books;
pub mod checklist;
pub mod claims;
pub mod cli;
pub mod clock;
pub mod config;
pub mod date;
pub mod db;
pub mod error;
pub mod events;
pub mod expiry;
pub mod export;
pub mod http;
pub mod ledger;
pub mod openapi;
pub mod org;
pub mod paging;
pub mod plates;
pub mod reports;
pub mod seed;
pub mod server;
pub mod shop;
pub mod state;
pub mod statements;
pub mod system;
pub mod tabular;
pub mod text;
pub mod web;
