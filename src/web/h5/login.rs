//! Villager sign-in: WeChat (silent, inside WeChat) when configured, else the invite code.
//! A browser that came back from WeChat with a new openid is asked for the invite code once,
//! and the openid is bound so that next time WeChat alone signs the villager in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::http::cookies;
use crate::auth::session;
use crate::http::client_addr;
use crate::state::AppState;
use crate::web::page::{self, Chrome, redirect, safe_next, show};
use crate::web::wechat;

#[derive(Template)]
#[template(path = "h5/login.html", config = "src/web/askama.toml")]
struct LoginPage<'a> {
    chrome: Chrome,
    code: &'a str,
    next: &'a str,
    /// The browser came from WeChat and the openid will be bound.
    binding: bool,
    error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    invite_code: String,
    next: Option<String>,
}

fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    form: &LoginForm,
    error: Option<String>,
) -> HttpResponse {
    let next = safe_next(form.next.as_deref(), "/h5/");
    let binding = wechat::pending_openid(req, state).is_some();
    show(req, state, status, |chrome| LoginPage {
        chrome,
        code: &form.invite_code,
        next: &next,
        binding,
        error,
    })
}

#[get("/h5/login")]
async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: LoginForm = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    if wechat::silent_sign_in(&req, &state) && wechat::pending_openid(&req, &state).is_none() {
        let next = safe_next(query.next.as_deref(), "/h5/");
        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return redirect(&format!("/auth/wechat/start?next={next}")).finish();
    }
    login_form(&req, &state, StatusCode::OK, &query, None)
}

#[post("/h5/login")]
async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let form: LoginForm = match page::form(&req, &state, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let addr = client_addr(&req);
    let openid = wechat::pending_openid(&req, &state);
    let (code, auth, now) = (
        form.invite_code.clone(),
        state.auth.clone(),
        state.clock.now(),
    );
    let result = state
        .db
        .run(move |conn| session::with_invite(conn, &auth, &code, openid.as_deref(), &addr, now))
        .await;
    match result {
        Ok(token) => redirect(&safe_next(form.next.as_deref(), "/h5/"))
            .cookie(cookies::session_cookie(&state.auth, token))
            .cookie(wechat::forget_pending())
            .finish(),
        Err(err) => page::form_or_failure(&req, &state, &err, |status, message| {
            login_form(&req, &state, status, &form, Some(message))
        }),
    }
}

#[post("/h5/logout")]
async fn logout(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    page::sign_out(&req, &state, &body, "/h5/login").await
}
