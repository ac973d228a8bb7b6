//! Openid bindings and exchanged OAuth codes.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{wechat_bindings, wechat_codes};
use crate::per_backend;

/// The member bound to an openid.
pub fn bound_member(conn: &mut DbConnection, openid: &str) -> QueryResult<Option<i64>> {
    wechat_bindings::table
        .filter(wechat_bindings::openid.eq(openid))
        .select(wechat_bindings::member_id)
        .first(conn)
        .optional()
}

/// Binds an openid to a member; an openid already bound keeps its first member.
pub fn bind(
    conn: &mut DbConnection,
    openid: &str,
    member_id: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let row = (
        wechat_bindings::openid.eq(openid),
        wechat_bindings::member_id.eq(member_id),
        wechat_bindings::created_at.eq(now),
    );
    per_backend!(conn, |c| diesel::insert_into(wechat_bindings::table)
        .values(row)
        .on_conflict(wechat_bindings::openid)
        .do_nothing()
        .execute(c))
    .map(drop)
}

/// The openid a code (with its state) was exchanged for at or after `since`.
pub fn exchanged(
    conn: &mut DbConnection,
    key: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<String>> {
    wechat_codes::table
        .find(key)
        .filter(wechat_codes::created_at.ge(since))
        .select(wechat_codes::openid)
        .first(conn)
        .optional()
}

/// Remembers an exchanged code for `keep`; older ones go.
pub fn record_exchange(
    conn: &mut DbConnection,
    key: &str,
    openid: &str,
    now: NaiveDateTime,
    keep: Duration,
) -> QueryResult<()> {
    diesel::delete(wechat_codes::table.filter(wechat_codes::created_at.lt(now - keep)))
        .execute(conn)?;
    let row = (
        wechat_codes::code_hash.eq(key),
        wechat_codes::openid.eq(openid),
        wechat_codes::created_at.eq(now),
    );
    per_backend!(conn, |c| diesel::insert_into(wechat_codes::table)
        .values(row)
        .on_conflict(wechat_codes::code_hash)
        .do_nothing()
        .execute(c))
    .map(drop)
}
