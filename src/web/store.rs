//! Page sessions: a villager (member) or a staff account behind an HttpOnly cookie.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::PrincipalKind;
use crate::auth::token::Subject;
use crate::db::DbConnection;
use crate::db::schema::web_sessions;

pub fn create(
    conn: &mut DbConnection,
    token_hash: &str,
    subject: Subject,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    let (member_id, staff_id) = match subject.kind {
        PrincipalKind::Villager => (Some(subject.id), None),
        PrincipalKind::Staff => (None, Some(subject.id)),
    };
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::token_hash.eq(token_hash),
            web_sessions::member_id.eq(member_id),
            web_sessions::staff_id.eq(staff_id),
            web_sessions::created_at.eq(now),
            web_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Who is behind a live session.
pub fn subject(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Subject>> {
    let found = web_sessions::table
        .filter(web_sessions::token_hash.eq(token_hash))
        .filter(web_sessions::revoked_at.is_null())
        .filter(web_sessions::expires_at.gt(now))
        .select((web_sessions::member_id, web_sessions::staff_id))
        .first::<(Option<i64>, Option<i64>)>(conn)
        .optional()?;
    Ok(match found {
        Some((Some(id), _)) => Some(Subject {
            kind: PrincipalKind::Villager,
            id,
        }),
        Some((None, Some(id))) => Some(Subject {
            kind: PrincipalKind::Staff,
            id,
        }),
        _ => None,
    })
}

pub fn revoke(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(web_sessions::table.filter(web_sessions::token_hash.eq(token_hash)))
        .set(web_sessions::revoked_at.eq(now))
        .execute(conn)
        .map(drop)
}
