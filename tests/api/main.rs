//! API tests: each starts the real server on a free port with its own fresh database,
//! on SQLite, or on PostgreSQL when `JIFEN_TEST_PG_URL` is set.

mod support;
mod wechat_standin;

mod access;
mod auth;
mod backup;
mod browser;
mod checklist;
mod claims;
mod cost;
mod e2e;
mod events;
mod expiry;
mod faults;
mod headers;
mod honour;
mod imports;
mod layout;
mod ledger;
mod openapi;
mod org;
mod pages;
mod properties;
mod schema;
mod scope;
mod seed;
mod shop;
mod statements;
mod system;
mod tamper;
mod text;
mod township;
mod validation;
mod wechat;
