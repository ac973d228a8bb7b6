//! What every request handler shares.

use std::sync::Arc;

use crate::auth::rate_limit::SignInLimits;
use crate::auth::secrets::Pepper;
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::system::metrics::Metrics;

pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub keys: Arc<TokenKeys>,
    pub pepper: Pepper,
    pub clock: Arc<dyn Clock>,
    pub limits: SignInLimits,
    pub passwords: crate::auth::password::PasswordWorkers,
    pub metrics: Arc<Metrics>,
    /// WeChat's jsapi_ticket while it lasts (the shop counter's scanner inside WeChat).
    pub wechat_ticket: crate::web::TicketCache,
}
