//! Page sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::web_sessions;

pub fn create(
    conn: &mut DbConnection,
    token_hash: &str,
    member_id: i64,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::token_hash.eq(token_hash),
            web_sessions::member_id.eq(member_id),
            web_sessions::created_at.eq(now),
            web_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The member behind a live session.
pub fn member(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    web_sessions::table
        .filter(web_sessions::token_hash.eq(token_hash))
        .filter(web_sessions::revoked_at.is_null())
        .filter(web_sessions::expires_at.gt(now))
        .select(web_sessions::member_id)
        .first::<Option<i64>>(conn)
        .optional()
        .map(Option::flatten)
}

pub fn revoke(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(web_sessions::table.filter(web_sessions::token_hash.eq(token_hash)))
        .set(web_sessions::revoked_at.eq(now))
        .execute(conn)
        .map(drop)
}
