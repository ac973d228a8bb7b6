//! WeChat sign-in for villagers (网页授权, `snsapi_base`): the OAuth client and what an
//! openid may do. The pages that send the browser to WeChat and take it back are
//! `web::wechat`'s.

use std::sync::LazyLock;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::context::Auth;
use super::secrets::sha256_hex;
use super::token::Subject;
use super::{session, store};
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::AppResult;

/// The one HTTP client for WeChat's servers.
static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(StdDuration::from_secs(10))
        .build()
        .unwrap_or_default()
});

/// Asks one of WeChat's servers (`GET url?query`) and reads its JSON answer; a failure in
/// words, for the log.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    url: String,
    query: &[(&str, &str)],
) -> Result<T, String> {
    CLIENT
        .get(url)
        .query(query)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

/// How long an exchanged code is remembered: long enough for WeChat's second call to
/// the callback, too short for a leaked address to be worth anything.
const TWIN_CALL: Duration = Duration::seconds(60);

/// The `state` WeChat carries for a browser: a keyed hash of the secret in that
/// browser's cookie. A leaked callback address gives away the state, never the secret,
/// so no other browser can present a cookie that matches it.
pub fn state_for(auth: &Auth, nonce: &str) -> String {
    auth.pepper.hash(&format!("wechat-state:{nonce}"))[..32].to_owned()
}

/// `openid.mac`: the invite page can trust that the openid came from WeChat through us.
pub fn seal(auth: &Auth, openid: &str) -> String {
    format!(
        "{openid}.{}",
        auth.pepper.hash(&format!("wechat-openid:{openid}"))
    )
}

/// The openid in a sealed value, if we sealed it.
pub fn unseal(auth: &Auth, sealed: &str) -> Option<String> {
    let (openid, _) = sealed.rsplit_once('.')?;
    (seal(auth, openid) == sealed).then(|| openid.to_owned())
}

#[derive(Deserialize)]
struct TokenAnswer {
    openid: Option<String>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

async fn exchange(auth: &Auth, code: &str) -> Result<String, String> {
    let (appid, secret) = auth.wechat_app().ok_or("WeChat is not configured")?;
    let url = format!(
        "{}/sns/oauth2/access_token",
        auth.settings.wechat_api_base.trim_end_matches('/')
    );
    let query = [
        ("appid", appid),
        ("secret", secret),
        ("code", code),
        ("grant_type", "authorization_code"),
    ];
    let answer: TokenAnswer = get_json(url, &query).await?;
    match answer.openid.filter(|o| !o.is_empty()) {
        Some(openid) => Ok(openid),
        None => Err(format!(
            "errcode {} {}",
            answer.errcode.unwrap_or_default(),
            answer.errmsg.unwrap_or_default()
        )),
    }
}

/// The openid for a code: exchanged once, remembered (with the state it came with) for
/// the second call WeChat may make from the same browser. None when WeChat said no.
pub async fn openid_for(
    auth: &Auth,
    code: &str,
    state_param: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let key = sha256_hex(&format!("{state_param}\n{code}"));
    let since = now.naive_utc() - TWIN_CALL;
    let lookup = key.clone();
    if let Some(openid) = auth
        .db
        .run(move |conn| Ok(store::exchanged_code(conn, &lookup, since)?))
        .await?
    {
        return Ok(Some(openid));
    }
    match exchange(auth, code).await {
        Ok(openid) => {
            let kept = openid.clone();
            auth.db
                .run(move |conn| {
                    write_tx(conn, |tx| {
                        let now = now.naive_utc();
                        Ok(store::record_code_exchange(
                            tx, &key, &kept, now, TWIN_CALL,
                        )?)
                    })
                })
                .await?;
            Ok(Some(openid))
        }
        Err(reason) => {
            tracing::warn!(%reason, "WeChat code exchange failed");
            // A twin call may have exchanged it a moment ago.
            auth.db
                .run(move |conn| Ok(store::exchanged_code(conn, &key, since)?))
                .await
        }
    }
}

/// Signs in the member an openid is bound to: the session token, or None for an openid
/// nobody has bound yet.
pub fn sign_in_bound(
    conn: &mut DbConnection,
    openid: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    write_tx(conn, |tx| {
        let Some(member_id) = store::bound_member(tx, openid)? else {
            return Ok(None);
        };
        session::start(tx, Subject::villager(member_id), now).map(Some)
    })
}

/// Binds an openid to the member who just proved who they are; an openid already bound
/// keeps its first member.
pub fn bind(tx: &mut Tx<'_>, openid: &str, member_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    store::bind_openid(tx, openid, member_id, now.naive_utc())?;
    tracing::info!(member_id, "WeChat openid bound");
    Ok(())
}
