//! What every request handler shares.

use std::sync::Arc;

use chrono::Duration;

use crate::auth::rate_limit::RateLimiter;
use crate::auth::secrets::Pepper;
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::system::metrics::Metrics;

pub struct SignInLimits {
    pub per_username: RateLimiter,
    pub per_address: RateLimiter,
}

impl Default for SignInLimits {
    /// Five wrong passwords per username, twenty failures per address, per 15 minutes.
    fn default() -> Self {
        Self {
            per_username: RateLimiter::new(5, Duration::minutes(15)),
            per_address: RateLimiter::new(20, Duration::minutes(15)),
        }
    }
}

pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub keys: Arc<TokenKeys>,
    pub pepper: Pepper,
    pub clock: Arc<dyn Clock>,
    pub limits: SignInLimits,
    pub metrics: Arc<Metrics>,
    /// WeChat's jsapi_ticket while it lasts (the shop counter's scanner inside WeChat).
    pub wechat_ticket: crate::web::TicketCache,
}
