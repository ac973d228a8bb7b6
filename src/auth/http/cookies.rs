//! The session and CSRF cookies of our pages.
//!
//! The session cookie is HttpOnly and SameSite=Lax. Forms carry a CSRF token that must
//! equal the `jifen_csrf` cookie (double submit): another site can make the browser send
//! the cookie, but cannot read it to put it in the form.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};

use crate::auth::secrets::random_token;
use crate::auth::session::{self, COOKIE_DAYS};
use crate::auth::{Auth, Principal};
use crate::error::AppResult;

pub const SESSION: &str = "jifen_session";
const CSRF: &str = "jifen_csrf";

/// The browser's CSRF token, and a cookie to set when it had none.
pub fn csrf(req: &HttpRequest, auth: &Auth) -> (String, Option<Cookie<'static>>) {
    if let Some(cookie) = req.cookie(CSRF).filter(|c| c.value().len() >= 32) {
        return (cookie.value().to_owned(), None);
    }
    let token = random_token();
    let cookie = Cookie::build(CSRF, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(auth.secure_cookies())
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

/// The cookie that carries a session started by [`session::start`].
pub fn session_cookie(auth: &Auth, token: String) -> Cookie<'static> {
    Cookie::build(SESSION, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(auth.secure_cookies())
        .max_age(time::Duration::days(COOKIE_DAYS))
        .finish()
}

/// The signed-in principal behind the request's session cookie, if any.
pub async fn principal(req: &HttpRequest, auth: &Auth) -> AppResult<Option<Principal>> {
    let Some(token) = session_token(req) else {
        return Ok(None);
    };
    let now = auth.clock.now();
    auth.db
        .run(move |conn| session::principal(conn, &token, now))
        .await
}

/// Ends the request's session, if it has one.
pub async fn end(req: &HttpRequest, auth: &Auth) {
    let Some(token) = session_token(req) else {
        return;
    };
    let now = auth.clock.now();
    if let Err(err) = auth
        .db
        .run(move |conn| session::end(conn, &token, now))
        .await
    {
        tracing::error!(error = %err, "sign-out failed");
    }
}

fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION).map(|c| c.value().to_owned())
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
