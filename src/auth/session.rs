//! Page sessions and page sign-in: a villager or a staff account signed in on our pages,
//! behind a cookie holding a random token that is stored only as its hash. The cookie
//! itself is `auth::http::session`'s.

use chrono::{DateTime, Duration, Utc};

use super::context::Auth;
use super::model::{Principal, PrincipalKind};
use super::secrets::{random_token, sha256_hex};
use super::service::with_villager_attempt;
use super::service::{LoginRequest, authenticate_staff, load_principal, redeem_invite};
use super::token::Subject;
use super::{store, wechat};
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::{AppError, AppResult};

/// How long a page session lives unused: a villager's half a year (an elderly villager
/// who signs out or loses it has no easy way back), a staff member's a month. Each day it
/// is used moves its end that far on.
pub fn idle_days(kind: PrincipalKind) -> i64 {
    match kind {
        PrincipalKind::Villager => 180,
        PrincipalKind::Staff => 30,
    }
}

/// The cookie outlives any session (browsers keep one at most 400 days): the server's
/// end of the session is the one that counts.
pub const COOKIE_DAYS: i64 = 400;

/// Starts a session for `subject`; the token for the cookie.
pub fn start(tx: &mut Tx<'_>, subject: Subject, now: DateTime<Utc>) -> AppResult<String> {
    // Only someone who may sign in gets a session (a deactivated member does not).
    load_principal(tx, subject)?;
    let token = random_token();
    store::insert_session(
        tx,
        &sha256_hex(&token),
        subject,
        now.naive_utc(),
        (now + Duration::days(idle_days(subject.kind))).naive_utc(),
    )?;
    Ok(token)
}

/// Who is signed in with a session token, if anyone still may be.
pub fn principal(
    conn: &mut DbConnection,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Principal>> {
    let hash = sha256_hex(token);
    let Some((subject, expires_at)) = store::session_subject(conn, &hash, now.naive_utc())? else {
        return Ok(None);
    };
    match load_principal(conn, subject) {
        Ok(principal) => {
            slide(conn, &hash, subject, expires_at, now)?;
            Ok(Some(principal))
        }
        Err(AppError::Unauthenticated(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Moves a used session's end on, at most once a day (one write a day, not one a page).
fn slide(
    conn: &mut DbConnection,
    hash: &str,
    subject: Subject,
    expires_at: chrono::NaiveDateTime,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let end = now + Duration::days(idle_days(subject.kind));
    if expires_at.and_utc() + Duration::days(1) > end {
        return Ok(());
    }
    write_tx(conn, |tx| {
        Ok(store::extend_session(
            tx,
            hash,
            end.naive_utc(),
            now.naive_utc(),
        )?)
    })
}

/// Ends the session behind a token (an unknown token is already ended).
pub fn end(conn: &mut DbConnection, token: &str, now: DateTime<Utc>) -> AppResult<()> {
    write_tx(conn, |tx| {
        Ok(store::revoke_session(
            tx,
            &sha256_hex(token),
            now.naive_utc(),
        )?)
    })
}

/// A villager signs in on the page with an invite code (a counted attempt); an openid
/// WeChat vouched for on the way in is bound to them. The session token.
pub fn with_invite(
    conn: &mut DbConnection,
    auth: &Auth,
    code: &str,
    openid: Option<&str>,
    addr: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    with_villager_attempt(conn, &auth.limits, addr, now, |tx| {
        let member_id = redeem_invite(tx, &auth.pepper, code, now)?;
        if let Some(openid) = openid {
            wechat::bind(tx, openid, member_id, now)?;
        }
        start(tx, Subject::villager(member_id), now)
    })
}

/// Staff sign in on the page with username and password (limited like the API's); who
/// they are, and the session token.
pub async fn with_password(
    auth: &Auth,
    credentials: &LoginRequest,
    addr: &str,
    now: DateTime<Utc>,
) -> AppResult<(Principal, String)> {
    let subject = authenticate_staff(auth, credentials, addr, now).await?;
    auth.db
        .run(move |conn| {
            write_tx(conn, |tx| {
                let principal = load_principal(tx, subject)?;
                Ok((principal, start(tx, subject, now)?))
            })
        })
        .await
}
