//! The WeChat JS-SDK for a shop counter opened inside WeChat: `wx.config` data signed with
//! the jsapi_ticket (fetched with the app's access token, kept until shortly before it
//! expires), so the counter can use WeChat's own scanner.

use std::sync::Mutex;

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::auth::http::cookies;
use crate::auth::secrets::random_token;
use crate::auth::wechat::get_json;
use crate::auth::{Auth, RoleName};

/// The jsapi_ticket and when to fetch a new one.
#[derive(Default)]
pub struct TicketCache(Mutex<Option<(String, DateTime<Utc>)>>);

/// WeChat's `wx.config` signature: SHA-1 over the four fields in exactly this order.
pub fn signature(ticket: &str, noncestr: &str, timestamp: i64, url: &str) -> String {
    let plain =
        format!("jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}");
    hex::encode(Sha1::digest(plain.as_bytes()))
}

#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    ticket: Option<String>,
    expires_in: Option<i64>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

async fn call(url: String, query: &[(&str, &str)]) -> Result<Answer, String> {
    let answer: Answer = get_json(url, query).await?;
    match answer.errcode {
        Some(code) if code != 0 => Err(format!(
            "errcode {code} {}",
            answer.errmsg.unwrap_or_default()
        )),
        _ => Ok(answer),
    }
}

/// The current jsapi_ticket: `cgi-bin/token`, then `cgi-bin/ticket/getticket`.
async fn ticket(auth: &Auth, cache: &TicketCache) -> Result<String, String> {
    let now = auth.clock.now();
    if let Ok(cache) = cache.0.lock()
        && let Some((ticket, until)) = cache.as_ref()
        && now < *until
    {
        return Ok(ticket.clone());
    }
    let (appid, secret) = auth.wechat_app().ok_or("WeChat is not configured")?;
    let base = auth.settings.wechat_api_base.trim_end_matches('/');
    let token = call(
        format!("{base}/cgi-bin/token"),
        &[
            ("grant_type", "client_credential"),
            ("appid", appid),
            ("secret", secret),
        ],
    )
    .await?
    .access_token
    .ok_or("no access_token")?;
    let answer = call(
        format!("{base}/cgi-bin/ticket/getticket"),
        &[("access_token", token.as_str()), ("type", "jsapi")],
    )
    .await?;
    let ticket = answer.ticket.ok_or("no ticket")?;
    // Renew five minutes early; WeChat's tickets live 7200 s.
    let until = now + Duration::seconds(answer.expires_in.unwrap_or(7200) - 300);
    if let Ok(mut cache) = cache.0.lock() {
        *cache = Some((ticket.clone(), until));
    }
    Ok(ticket)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsConfig {
    app_id: String,
    timestamp: i64,
    nonce_str: String,
    signature: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ConfigQuery {
    url: String,
}

/// `wx.config` data for the page at `url` (the address without its `#` part), for shopkeepers.
#[get("/shop/wechat-config")]
async fn config(
    req: HttpRequest,
    auth: web::Data<Auth>,
    cache: web::Data<TicketCache>,
) -> HttpResponse {
    let keeper = cookies::principal(&req, &auth).await.ok().flatten();
    if !keeper.is_some_and(|p| p.has_role(RoleName::Shopkeeper)) {
        return HttpResponse::Unauthorized().finish();
    }
    let query: ConfigQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let Some((appid, _)) = auth.wechat_app() else {
        return HttpResponse::NotFound().finish();
    };
    match ticket(&auth, &cache).await {
        Ok(ticket) => {
            let nonce_str: String = random_token().chars().take(16).collect();
            let timestamp = auth.clock.now().timestamp();
            HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "no-store"))
                .json(JsConfig {
                    app_id: appid.to_owned(),
                    signature: signature(&ticket, &nonce_str, timestamp, &query.url),
                    timestamp,
                    nonce_str,
                })
        }
        Err(reason) => {
            tracing::warn!(%reason, "WeChat jsapi_ticket unavailable");
            HttpResponse::BadGateway().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_wechats_published_example() {
        // WeChat JS-SDK documentation, appendix 1 (JS-SDK使用权限签名算法).
        let signed = signature(
            "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            "Wm3WZYTPz0wzccnW",
            1414587457,
            "http://mp.weixin.qq.com?params=value",
        );
        assert_eq!(signed, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
    }
}
