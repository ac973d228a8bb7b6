//! WeChat: sign-in for villagers (网页授权, `snsapi_base`), and the JS-SDK for shops.
//!
//! `/auth/wechat/start` sends the browser to WeChat with a `state` derived from a secret
//! kept in a short-lived cookie, so the callback only accepts the browser that started. The callback
//! exchanges the single-use code for the openid; a bound openid signs its member in, an
//! unbound one is carried (signed) to the invite-code page, which binds it once.

mod jssdk;
mod store;

pub use jssdk::{TicketCache, config as jssdk_config};

use std::sync::LazyLock;
use std::time::Duration as StdDuration;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION, USER_AGENT};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use super::page::{error_page, redirect, safe_next};
use super::session;
use crate::auth::PrincipalKind;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::token::Subject;
use crate::db::{Tx, write_tx};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const STATE_COOKIE: &str = "jifen_wx_state";
const OPENID_COOKIE: &str = "jifen_wx_openid";

pub(super) static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(StdDuration::from_secs(10))
        .build()
        .unwrap_or_default()
});

pub(super) fn credentials(state: &AppState) -> Option<(&str, &str)> {
    let s = &state.settings;
    Some((s.wechat_appid.as_deref()?, s.wechat_secret.as_deref()?))
}

/// Inside WeChat with WeChat configured, sign-in needs no button: pages go straight to it.
pub fn silent_sign_in(req: &HttpRequest, state: &AppState) -> bool {
    credentials(state).is_some()
        && req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.contains("MicroMessenger"))
}

fn short_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(session::secure(state))
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
    let Some((appid, _)) = credentials(&state) else {
        return redirect(&format!("/h5/login?next={}", encode(&next))).finish();
    };
    let nonce = random_token();
    let back_to = format!("{}/auth/wechat/callback", own_base(&req, &state));
    let location = format!(
        "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
        state.settings.wechat_open_base.trim_end_matches('/'),
        encode(appid),
        encode(&back_to),
        state_for(&state, &nonce),
    );
    HttpResponse::Found()
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"))
        .cookie(short_cookie(
            &state,
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

/// The `state` WeChat carries for a browser: a keyed hash of the secret in that
/// browser's cookie. A leaked callback address gives away the state, never the secret,
/// so no other browser can present a cookie that matches it.
fn state_for(state: &AppState, nonce: &str) -> String {
    state.pepper.hash(&format!("wechat-state:{nonce}"))[..32].to_owned()
}

/// The `next` page the browser's own state cookie names, if the state was made for it.
fn started_here(req: &HttpRequest, state: &AppState, state_param: &str) -> Option<String> {
    let cookie = req.cookie(STATE_COOKIE)?;
    let (nonce, next) = cookie.value().split_once('~')?;
    if nonce.is_empty() || state_for(state, nonce) != state_param {
        return None;
    }
    let next: String = form_urlencoded::parse(format!("n={next}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some(safe_next(Some(&next), "/h5/"))
}

#[derive(Deserialize)]
struct TokenAnswer {
    openid: Option<String>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

async fn exchange(state: &AppState, code: &str) -> Result<String, String> {
    let (appid, secret) = credentials(state).ok_or("WeChat is not configured")?;
    let url = format!(
        "{}/sns/oauth2/access_token",
        state.settings.wechat_api_base.trim_end_matches('/')
    );
    let answer: TokenAnswer = CLIENT
        .get(url)
        .query(&[
            ("appid", appid),
            ("secret", secret),
            ("code", code),
            ("grant_type", "authorization_code"),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    match answer.openid.filter(|o| !o.is_empty()) {
        Some(openid) => Ok(openid),
        None => Err(format!(
            "errcode {} {}",
            answer.errcode.unwrap_or_default(),
            answer.errmsg.unwrap_or_default()
        )),
    }
}

/// How long an exchanged code is remembered: long enough for WeChat's second call to
/// the callback, too short for a leaked address to be worth anything.
const TWIN_CALL: chrono::Duration = chrono::Duration::seconds(60);

/// The openid for a code: exchanged once, remembered (with the state it came with) for
/// the second call WeChat may make from the same browser.
async fn openid_for(state: &AppState, code: &str, state_param: &str) -> AppResult<Option<String>> {
    let key = sha256_hex(&format!("{state_param}\n{code}"));
    let since = state.clock.now().naive_utc() - TWIN_CALL;
    let lookup = key.clone();
    if let Some(openid) = state
        .db
        .run(move |conn| Ok(store::exchanged(conn, &lookup, since)?))
        .await?
    {
        return Ok(Some(openid));
    }
    match exchange(state, code).await {
        Ok(openid) => {
            let (kept, now) = (openid.clone(), state.clock.now().naive_utc());
            state
                .db
                .run(move |conn| Ok(store::record_exchange(conn, &key, &kept, now, TWIN_CALL)?))
                .await?;
            Ok(Some(openid))
        }
        Err(reason) => {
            tracing::warn!(%reason, "WeChat code exchange failed");
            // A twin call may have exchanged it a moment ago.
            state
                .db
                .run(move |conn| Ok(store::exchanged(conn, &key, since)?))
                .await
        }
    }
}

#[get("/auth/wechat/callback")]
async fn callback(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: CallbackQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let Some(next) = started_here(&req, &state, &query.state).filter(|_| !query.code.is_empty())
    else {
        return error_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            "微信登录没有完成，请关掉页面后重新打开。",
        );
    };
    let openid = match openid_for(&state, &query.code, &query.state).await {
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
    let (lookup, state2) = (openid.clone(), state.clone());
    let signed_in = state
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let Some(member_id) = store::bound_member(conn, &lookup)? else {
                    return Ok(None);
                };
                session::start(conn, &state2, villager(member_id)).map(Some)
            })
        })
        .await;
    match signed_in {
        Ok(Some(cookie)) => redirect(&next).cookie(cookie).finish(),
        Ok(None) => redirect(&format!("/h5/login?next={}", encode(&next)))
            .cookie(short_cookie(
                &state,
                OPENID_COOKIE,
                sealed(&state, &openid),
                "/h5/",
            ))
            .finish(),
        Err(err) => super::page::failure(&req, &state, &err),
    }
}

fn villager(member_id: i64) -> Subject {
    Subject {
        kind: PrincipalKind::Villager,
        id: member_id,
    }
}

/// `openid.mac`: the invite page can trust that the openid came from WeChat through us.
fn sealed(state: &AppState, openid: &str) -> String {
    format!(
        "{openid}.{}",
        state.pepper.hash(&format!("wechat-openid:{openid}"))
    )
}

/// An openid waiting to be bound (the browser came from WeChat, the openid is new).
pub fn pending_openid(req: &HttpRequest, state: &AppState) -> Option<String> {
    let cookie = req.cookie(OPENID_COOKIE)?;
    let (openid, _) = cookie.value().rsplit_once('.')?;
    (sealed(state, openid) == cookie.value()).then(|| openid.to_owned())
}

/// Binds the pending openid (if any) to the member who just proved who they are.
pub fn bind_pending(
    tx: &mut Tx<'_>,
    state: &AppState,
    openid: Option<&str>,
    member_id: i64,
) -> Result<(), AppError> {
    if let Some(openid) = openid {
        store::bind(tx, openid, member_id, state.clock.now().naive_utc())?;
        tracing::info!(member_id, "WeChat openid bound");
    }
    Ok(())
}

pub fn forget_pending() -> Cookie<'static> {
    removal(OPENID_COOKIE, "/h5/")
}
