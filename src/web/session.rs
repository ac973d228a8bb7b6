//! Session and CSRF cookies.
//!
//! The session cookie is HttpOnly and SameSite=Lax. Forms carry a CSRF token that must
//! equal the `jifen_csrf` cookie (double submit): another site can make the browser send
//! the cookie, but cannot read it to put it in the form.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};
use chrono::Duration;

use super::store;
use crate::auth::Principal;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::service::load_principal;
use crate::auth::token::Subject;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const SESSION: &str = "jifen_session";
const CSRF: &str = "jifen_csrf";
pub const SESSION_DAYS: i64 = 30;

/// Cookies are `Secure` when the public address is https.
pub fn secure(state: &AppState) -> bool {
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

/// Header by which the pages' scripts prove they were served by us (it must equal the
/// CSRF cookie) when they call the JSON API with the session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn csrf_header_ok(req: &HttpRequest) -> bool {
    req.headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| csrf_ok(req, v))
}

/// Starts a session for `subject` in the caller's transaction; the cookie to set.
pub fn start(tx: &mut Tx<'_>, state: &AppState, subject: Subject) -> AppResult<Cookie<'static>> {
    // Only someone who may sign in gets a session (a deactivated member does not).
    crate::auth::service::load_principal(tx, subject)?;
    let token = random_token();
    let now = state.clock.now();
    store::create(
        tx,
        &sha256_hex(&token),
        subject,
        now.naive_utc(),
        (now + Duration::days(SESSION_DAYS)).naive_utc(),
    )?;
    Ok(session_cookie(state, token))
}

/// The signed-in principal behind the request's session cookie, if any.
pub async fn principal(req: &HttpRequest, state: &AppState) -> AppResult<Option<Principal>> {
    let Some(hash) = session_hash(req) else {
        return Ok(None);
    };
    let now = state.clock.now().naive_utc();
    let loaded = state
        .db
        .run(move |conn| {
            store::subject(conn, &hash, now)?
                .map(|subject| load_principal(conn, subject))
                .transpose()
        })
        .await;
    match loaded {
        Err(AppError::Unauthenticated(_)) => Ok(None),
        other => other,
    }
}

pub async fn end(req: &HttpRequest, state: &AppState) {
    let Some(hash) = session_hash(req) else {
        return;
    };
    let now = state.clock.now().naive_utc();
    if let Err(err) = state
        .db
        .run(move |conn| Ok(store::revoke(conn, &hash, now)?))
        .await
    {
        tracing::error!(error = %err, "sign-out failed");
    }
}

fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(SESSION, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(state))
        .max_age(time::Duration::days(SESSION_DAYS))
        .finish()
}

/// The hash under which the request's session is stored, if it has one.
fn session_hash(req: &HttpRequest) -> Option<String> {
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
