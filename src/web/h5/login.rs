//! Villager sign-in: WeChat (silent, inside WeChat) when configured, else the invite code,
//! or the household card and its PIN (the way back without a new slip: the card's QR opens
//! this page with the card filled in). A browser that came back from WeChat with a new
//! openid is asked for the invite code (or card) once, and the openid is bound so that next
//! time WeChat alone signs the villager in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::http::cookies;
use crate::auth::session;
use crate::http::client_addr;
use crate::shop::card::{self, CardSignIn};
use crate::state::AppState;
use crate::web::page::{self, Chrome, redirect, safe_next, show};
use crate::web::wechat;

#[derive(Template)]
#[template(path = "h5/login.html", config = "src/web/askama.toml")]
struct LoginPage<'a> {
    chrome: Chrome,
    code: &'a str,
    /// The card's token, when the page was opened from its QR (or the card form was sent).
    card: &'a str,
    /// The card came from its QR: the page asks only for the PIN.
    scanned: bool,
    /// The card's last five digits, for the villager to recognise it.
    card_tail: String,
    next: &'a str,
    /// The browser came from WeChat and the openid will be bound.
    binding: bool,
    error: Option<String>,
    card_error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    invite_code: String,
    card: String,
    next: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CardForm {
    card: String,
    pin: String,
    scanned: bool,
    next: Option<String>,
}

/// Which form said what went wrong.
enum Failed {
    Invite(String),
    Card(String),
}

fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    form: &LoginForm,
    scanned: bool,
    failed: Option<Failed>,
) -> HttpResponse {
    let next = safe_next(form.next.as_deref(), "/h5/");
    let binding = wechat::pending_openid(req, state).is_some();
    let (error, card_error) = match failed {
        Some(Failed::Invite(message)) => (Some(message), None),
        Some(Failed::Card(message)) => (None, Some(message)),
        None => (None, None),
    };
    show(req, state, status, |chrome| LoginPage {
        chrome,
        code: &form.invite_code,
        card: &form.card,
        scanned,
        card_tail: tail(&form.card),
        next: &next,
        binding,
        error,
        card_error,
    })
}

#[get("/h5/login")]
async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: LoginForm = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let scanned = !query.card.is_empty();
    // A scanned card signs in here; WeChat's silent sign-in would lose it on the way round.
    if !scanned
        && wechat::silent_sign_in(&req, &state)
        && wechat::pending_openid(&req, &state).is_none()
    {
        let next = safe_next(query.next.as_deref(), "/h5/");
        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return redirect(&format!("/auth/wechat/start?next={next}")).finish();
    }
    login_form(&req, &state, StatusCode::OK, &query, scanned, None)
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
        Ok(token) => signed_in(&state, form.next.as_deref(), token),
        Err(err) => page::form_or_failure(&req, &state, &err, |status, message| {
            login_form(
                &req,
                &state,
                status,
                &form,
                false,
                Some(Failed::Invite(message)),
            )
        }),
    }
}

#[post("/h5/login/card")]
async fn login_with_card(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let form: CardForm = match page::form(&req, &state, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let addr = client_addr(&req);
    let openid = wechat::pending_openid(&req, &state);
    let (token, pin, auth, now) = (
        form.card.clone(),
        form.pin.clone(),
        state.auth.clone(),
        state.clock.now(),
    );
    let result = state
        .db
        .run(move |conn| {
            let with = CardSignIn {
                token: &token,
                pin: &pin,
                openid: openid.as_deref(),
            };
            card::sign_in(conn, &auth, with, &addr, now)
        })
        .await;
    match result {
        Ok(token) => signed_in(&state, form.next.as_deref(), token),
        Err(err) => page::form_or_failure(&req, &state, &err, |status, message| {
            let shown = LoginForm {
                card: form.card.clone(),
                next: form.next.clone(),
                ..LoginForm::default()
            };
            login_form(
                &req,
                &state,
                status,
                &shown,
                form.scanned,
                Some(Failed::Card(message)),
            )
        }),
    }
}

fn tail(card: &str) -> String {
    let digits: Vec<char> = card.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(5)..].iter().collect()
}

/// Into the page the villager was going to, with the session's cookie.
fn signed_in(state: &AppState, next: Option<&str>, token: String) -> HttpResponse {
    redirect(&safe_next(next, "/h5/"))
        .cookie(cookies::session_cookie(&state.auth, token))
        .cookie(wechat::forget_pending())
        .finish()
}

#[post("/h5/logout")]
async fn logout(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    page::sign_out(&req, &state, &body, "/h5/login").await
}
