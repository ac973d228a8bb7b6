//! WeChat's pages: sign-in for villagers (the OAuth client is `auth::wechat`'s), and the
//! JS-SDK for shops.
//!
//! `/auth/wechat/start` sends the browser to WeChat with a `state` derived from a secret
//! kept in a short-lived cookie, so the callback only accepts the browser that started. The
//! callback exchanges the single-use code for the openid; a bound openid signs its member
//! in, an unbound one is carried (sealed) to the invite-code page, which binds it once.

mod jssdk;

pub use jssdk::{TicketCache, config as jssdk_config};

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION, USER_AGENT};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use super::page::{error_page, redirect, safe_next};
use crate::auth::http::cookies;
use crate::auth::secrets::random_token;
use crate::auth::{Auth, wechat};
use crate::state::AppState;

const STATE_COOKIE: &str = "jifen_wx_state";
const OPENID_COOKIE: &str = "jifen_wx_openid";

/// Inside WeChat with WeChat configured, sign-in needs no button: pages go straight to it.
pub fn silent_sign_in(req: &HttpRequest, state: &AppState) -> bool {
    state.auth.wechat_app().is_some()
        && req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.contains("MicroMessenger"))
}

fn short_cookie(
    auth: &Auth,
    name: &'static str,
    value: String,
    path: &'static str,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(auth.secure_cookies())
        .max_age(time::Duration::minutes(30))
        .finish()
}

fn removal(name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, "").path(path).finish();
    cookie.make_removal();
    cookie
}

fn own_base(req: &HttpRequest, state: &AppState) -> String {
    state.settings.public_url.clone().unwrap_or_else(|| {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    })
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct StartQuery {
    next: Option<String>,
}

#[get("/auth/wechat/start")]
async fn start(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: StartQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let next = safe_next(query.next.as_deref(), "/h5/");
    let Some((appid, _)) = state.auth.wechat_app() else {
        return redirect(&format!("/h5/login?next={}", encode(&next))).finish();
    };
    let nonce = random_token();
    let back_to = format!("{}/auth/wechat/callback", own_base(&req, &state));
    let location = format!(
        "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
        state.settings.wechat_open_base.trim_end_matches('/'),
        encode(appid),
        encode(&back_to),
        wechat::state_for(&state.auth, &nonce),
    );
    HttpResponse::Found()
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"))
        .cookie(short_cookie(
            &state.auth,
            STATE_COOKIE,
            format!("{nonce}~{}", encode(&next)),
            "/auth/wechat",
        ))
        .finish()
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CallbackQuery {
    code: String,
    state: String,
}

/// The `next` page the browser's own state cookie names, if the state was made for it.
fn started_here(req: &HttpRequest, auth: &Auth, state_param: &str) -> Option<String> {
    let cookie = req.cookie(STATE_COOKIE)?;
    let (nonce, next) = cookie.value().split_once('~')?;
    if nonce.is_empty() || wechat::state_for(auth, nonce) != state_param {
        return None;
    }
    let next: String = form_urlencoded::parse(format!("n={next}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some(safe_next(Some(&next), "/h5/"))
}

#[get("/auth/wechat/callback")]
async fn callback(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: CallbackQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let auth = &state.auth;
    let Some(next) = started_here(&req, auth, &query.state).filter(|_| !query.code.is_empty())
    else {
        return error_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            "微信登录没有完成，请关掉页面后重新打开。",
        );
    };
    let now = state.clock.now();
    let openid = match wechat::openid_for(auth, &query.code, &query.state, now).await {
        Ok(Some(openid)) => openid,
        Ok(None) => {
            return error_page(
                &req,
                &state,
                StatusCode::BAD_GATEWAY,
                "微信登录没有成功，请关掉页面后重新打开。",
            );
        }
        Err(err) => return super::page::failure(&req, &state, &err),
    };
    let lookup = openid.clone();
    let signed_in = state
        .db
        .run(move |conn| wechat::sign_in_bound(conn, &lookup, now))
        .await;
    match signed_in {
        Ok(Some(token)) => redirect(&next)
            .cookie(cookies::session_cookie(auth, token))
            .finish(),
        Ok(None) => redirect(&format!("/h5/login?next={}", encode(&next)))
            .cookie(short_cookie(
                auth,
                OPENID_COOKIE,
                wechat::seal(auth, &openid),
                "/h5/",
            ))
            .finish(),
        Err(err) => super::page::failure(&req, &state, &err),
    }
}

/// An openid waiting to be bound (the browser came from WeChat, the openid is new).
pub fn pending_openid(req: &HttpRequest, state: &AppState) -> Option<String> {
    wechat::unseal(&state.auth, req.cookie(OPENID_COOKIE)?.value())
}

pub fn forget_pending() -> Cookie<'static> {
    removal(OPENID_COOKIE, "/h5/")
}
