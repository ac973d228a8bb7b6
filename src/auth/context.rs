//! What sign-in and the principal extractors need from the running server. The server
//! registers one `Auth` beside its own state, so nothing in `auth/` depends on that state.

use std::sync::Arc;

use super::password::PasswordWorkers;
use super::rate_limit::SignInLimits;
use super::secrets::Pepper;
use super::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;

pub struct Auth {
    pub db: Db,
    pub keys: TokenKeys,
    pub pepper: Pepper,
    pub limits: SignInLimits,
    pub passwords: PasswordWorkers,
    pub clock: Arc<dyn Clock>,
    /// The public address (secure cookies) and WeChat's application and addresses.
    pub settings: Arc<Settings>,
}

impl Auth {
    /// Cookies are `Secure` when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.settings
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// WeChat's application id and secret, when WeChat sign-in is configured.
    pub fn wechat_app(&self) -> Option<(&str, &str)> {
        let s = &self.settings;
        Some((s.wechat_appid.as_deref()?, s.wechat_secret.as_deref()?))
    }
}
