//! Session and CSRF cookies.
//!
//! The session cookie is HttpOnly and SameSite=Lax. Forms carry a CSRF token that must
//! equal the `jifen_csrf` cookie (double submit): another site can make the browser send
//! the cookie, but cannot read it to put it in the form.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};

use crate::auth::secrets::{random_token, sha256_hex};
use crate::state::AppState;

pub const SESSION: &str = "jifen_session";
const CSRF: &str = "jifen_csrf";
pub const SESSION_DAYS: i64 = 30;

fn secure(state: &AppState) -> bool {
    state
        .settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

/// The browser's CSRF token, and a cookie to set when it had none.
pub fn csrf(req: &HttpRequest, state: &AppState) -> (String, Option<Cookie<'static>>) {
    if let Some(cookie) = req.cookie(CSRF).filter(|c| c.value().len() >= 32) {
        return (cookie.value().to_owned(), None);
    }
    let token = random_token();
    let cookie = Cookie::build(CSRF, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(state))
        .finish();
    (token, Some(cookie))
}

/// True when the form's token matches the cookie.
pub fn csrf_ok(req: &HttpRequest, submitted: &str) -> bool {
    req.cookie(CSRF)
        .is_some_and(|c| c.value().len() >= 32 && c.value() == submitted)
}

/// A new session token and its cookie.
pub fn new_session(state: &AppState) -> (String, Cookie<'static>) {
    let token = random_token();
    let cookie = Cookie::build(SESSION, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .max_age(time::Duration::days(SESSION_DAYS))
        .finish();
    (token, cookie)
}

/// The hash under which the request's session is stored, if it has one.
pub fn session_hash(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION).map(|c| sha256_hex(c.value()))
}

pub fn expired_session() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    cookie.make_removal();
    cookie
}

pub fn hash_token(token: &str) -> String {
    sha256_hex(token)
}
