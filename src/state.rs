//! What every request handler shares: the wiring, nothing more.

use std::sync::Arc;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;

pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Sign-in's keys, pepper and limits; registered on the app on its own too, for the
    /// extractors and endpoints of `auth/`.
    pub auth: Arc<Auth>,
    /// Signs household statements (积分证明); its public half is published.
    pub signing_key: Arc<ed25519_dalek::SigningKey>,
}
