//! Queries behind sign-in: staff credentials, role bindings, refresh tokens, invites,
//! page sessions and WeChat openids. The only writer of those tables.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::model::{PrincipalKind, RoleBinding, RoleName};
use super::token::Subject;
use crate::db::schema::{
    households, invite_codes, members, refresh_tokens, role_bindings, staff, villages,
    web_sessions, wechat_bindings, wechat_codes,
};
use crate::db::{DbConnection, reference};
use crate::per_backend;

#[derive(Queryable, Selectable)]
#[diesel(table_name = staff)]
pub struct StaffCredentials {
    pub id: i64,
    pub township_id: i64,
    pub password_hash: String,
    pub name: String,
    pub active: bool,
}

pub fn staff_by_username(
    conn: &mut DbConnection,
    username: &str,
) -> QueryResult<Option<StaffCredentials>> {
    staff::table
        .filter(staff::username.eq(username))
        .select(StaffCredentials::as_select())
        .first(conn)
        .optional()
}

pub fn staff_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<StaffCredentials>> {
    staff::table
        .find(id)
        .select(StaffCredentials::as_select())
        .first(conn)
        .optional()
}

pub fn roles_of_staff(conn: &mut DbConnection, staff_id: i64) -> QueryResult<Vec<RoleBinding>> {
    let rows: Vec<(RoleName, i64, Option<i64>)> = role_bindings::table
        .filter(role_bindings::staff_id.eq(staff_id))
        .order(role_bindings::id)
        .select((
            role_bindings::role,
            role_bindings::scope_id,
            role_bindings::village_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(role, scope_id, village_id)| RoleBinding {
            role,
            scope_id,
            village_id,
        })
        .collect())
}

/// A household member as a signed-in villager sees themself (fields in the order
/// `read_member_identity` selects them).
#[derive(Clone, Queryable)]
pub struct MemberIdentity {
    pub member_id: i64,
    pub name: String,
    pub household_id: i64,
    pub village_id: i64,
    pub township_id: i64,
    /// Access tokens issued before this no longer count.
    pub signed_out_at: Option<NaiveDateTime>,
}

/// A member who may sign in: the member and the household both active; a reference row
/// (see `db::reference`).
pub fn member_identity(
    conn: &mut DbConnection,
    member_id: i64,
) -> QueryResult<Option<MemberIdentity>> {
    reference::get(member_id, || read_member_identity(conn, member_id))
}

fn read_member_identity(
    conn: &mut DbConnection,
    member_id: i64,
) -> QueryResult<Option<MemberIdentity>> {
    members::table
        .inner_join(households::table.inner_join(villages::table))
        .filter(members::id.eq(member_id))
        .filter(members::active.eq(true))
        .filter(households::active.eq(true))
        .select((
            members::id,
            members::name,
            households::id,
            households::village_id,
            villages::township_id,
            members::signed_out_at,
        ))
        .first(conn)
        .optional()
}

/// Ends every refresh token and page session of a staff member or villager.
pub fn revoke_sign_ins(
    conn: &mut DbConnection,
    subject: Subject,
    now: NaiveDateTime,
) -> QueryResult<()> {
    // One of the two is NULL, which equals nothing.
    let (staff_id, member_id) = match subject.kind {
        PrincipalKind::Staff => (Some(subject.id), None),
        PrincipalKind::Villager => (None, Some(subject.id)),
    };
    diesel::update(
        refresh_tokens::table
            .filter(
                refresh_tokens::staff_id
                    .eq(staff_id)
                    .or(refresh_tokens::member_id.eq(member_id)),
            )
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        web_sessions::table
            .filter(
                web_sessions::staff_id
                    .eq(staff_id)
                    .or(web_sessions::member_id.eq(member_id)),
            )
            .filter(web_sessions::revoked_at.is_null()),
    )
    .set(web_sessions::revoked_at.eq(now))
    .execute(conn)
    .map(drop)
}

/// Forgets every WeChat openid bound to a member; how many there were.
pub fn unbind_wechat(conn: &mut DbConnection, member_id: i64) -> QueryResult<usize> {
    diesel::delete(wechat_bindings::table.filter(wechat_bindings::member_id.eq(member_id)))
        .execute(conn)
}

/// Which of these members have WeChat bound.
pub fn wechat_bound(conn: &mut DbConnection, member_ids: &[i64]) -> QueryResult<Vec<i64>> {
    wechat_bindings::table
        .filter(wechat_bindings::member_id.eq_any(member_ids.to_vec()))
        .select(wechat_bindings::member_id)
        .distinct()
        .load(conn)
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub token_hash: &'a str,
    pub family: &'a str,
    pub staff_id: Option<i64>,
    pub member_id: Option<i64>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert_refresh_token(conn: &mut DbConnection, row: &NewRefreshToken) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: i64,
    pub family: String,
    pub staff_id: Option<i64>,
    pub member_id: Option<i64>,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn refresh_token_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a live token used; false when another request got there first.
pub fn use_refresh_token(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_family(conn: &mut DbConnection, family: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .map(drop)
}

#[derive(Insertable)]
#[diesel(table_name = invite_codes)]
pub struct NewInvite<'a> {
    pub village_id: i64,
    pub household_id: i64,
    pub member_id: i64,
    pub code_hash: &'a str,
    pub created_by: i64,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Stores a new invite and retires the member's earlier unused ones.
pub fn replace_invite(conn: &mut DbConnection, invite: &NewInvite) -> QueryResult<()> {
    diesel::update(
        invite_codes::table
            .filter(invite_codes::member_id.eq(invite.member_id))
            .filter(invite_codes::used_at.is_null())
            .filter(invite_codes::revoked_at.is_null()),
    )
    .set(invite_codes::revoked_at.eq(invite.created_at))
    .execute(conn)?;
    diesel::insert_into(invite_codes::table)
        .values(invite)
        .execute(conn)
        .map(drop)
}

/// Uses up a live invite code; returns the member it was for.
pub fn consume_invite(
    conn: &mut DbConnection,
    code_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    let live = invite_codes::table
        .filter(invite_codes::code_hash.eq(code_hash))
        .filter(invite_codes::used_at.is_null())
        .filter(invite_codes::revoked_at.is_null())
        .filter(invite_codes::expires_at.gt(now));
    let Some((id, member_id)) = live
        .select((invite_codes::id, invite_codes::member_id))
        .first::<(i64, i64)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    // Conditional, so two sign-ins racing with one code cannot both win.
    let updated = diesel::update(
        invite_codes::table
            .filter(invite_codes::id.eq(id))
            .filter(invite_codes::used_at.is_null()),
    )
    .set(invite_codes::used_at.eq(now))
    .execute(conn)?;
    Ok((updated == 1).then_some(member_id))
}

/// Counts one more attempt under `key` in a window of `window` (a new window when the
/// last one ended), in one statement so racing attempts each get their own number;
/// returns (count, when the window began).
pub fn bump_counter(
    conn: &mut DbConnection,
    key: &str,
    now: NaiveDateTime,
    window: chrono::Duration,
) -> QueryResult<(i32, NaiveDateTime)> {
    use crate::db::schema::sign_in_counters as c;
    use diesel::dsl::case_when;
    use diesel::sql_types::{Integer, Timestamp};
    let ended = c::window_start.le(now - window);
    let fresh = (c::key.eq(key), c::window_start.eq(now), c::count.eq(1));
    per_backend!(conn, |db| diesel::insert_into(c::table)
        .values(fresh)
        .on_conflict(c::key)
        .do_update()
        .set((
            c::count.eq(case_when::<_, _, Integer>(ended, 1).otherwise(c::count + 1)),
            c::window_start.eq(case_when::<_, _, Timestamp>(ended, now).otherwise(c::window_start)),
        ))
        .returning((c::count, c::window_start))
        .get_result(db))
}

/// Takes one attempt back (it succeeded, so it was no failure).
pub fn give_back(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    use crate::db::schema::sign_in_counters as c;
    diesel::update(c::table.filter(c::key.eq(key)).filter(c::count.gt(0)))
        .set(c::count.eq(c::count - 1))
        .execute(conn)
        .map(drop)
}

/// Forgets a counter altogether.
pub fn forget_counter(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    use crate::db::schema::sign_in_counters as c;
    diesel::delete(c::table.filter(c::key.eq(key)))
        .execute(conn)
        .map(drop)
}

/// Marks `key` as seen now (an address that signed in).
pub fn touch_counter(conn: &mut DbConnection, key: &str, now: NaiveDateTime) -> QueryResult<()> {
    use crate::db::schema::sign_in_counters as c;
    per_backend!(conn, |db| diesel::insert_into(c::table)
        .values((c::key.eq(key), c::window_start.eq(now), c::count.eq(1)))
        .on_conflict(c::key)
        .do_update()
        .set(c::window_start.eq(now))
        .execute(db))
    .map(drop)
}

/// When `key` was last counted or seen.
pub fn counter_seen(conn: &mut DbConnection, key: &str) -> QueryResult<Option<NaiveDateTime>> {
    use crate::db::schema::sign_in_counters as c;
    c::table
        .find(key)
        .select(c::window_start)
        .first(conn)
        .optional()
}

/// Forgets counters whose window began before `before`.
pub fn prune_counters(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    use crate::db::schema::sign_in_counters as c;
    diesel::delete(c::table.filter(c::window_start.lt(before))).execute(conn)
}

// ---- page sessions ---------------------------------------------------------

pub fn insert_session(
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
pub fn session_subject(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(Subject, NaiveDateTime)>> {
    let found = web_sessions::table
        .filter(web_sessions::token_hash.eq(token_hash))
        .filter(web_sessions::revoked_at.is_null())
        .filter(web_sessions::expires_at.gt(now))
        .select((
            web_sessions::member_id,
            web_sessions::staff_id,
            web_sessions::expires_at,
        ))
        .first::<(Option<i64>, Option<i64>, NaiveDateTime)>(conn)
        .optional()?;
    Ok(match found {
        Some((Some(id), _, end)) => Some((Subject::villager(id), end)),
        Some((None, Some(id), end)) => Some((Subject::staff(id), end)),
        _ => None,
    })
}

/// Moves a live session's end to `until`.
pub fn extend_session(
    conn: &mut DbConnection,
    token_hash: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        web_sessions::table
            .filter(web_sessions::token_hash.eq(token_hash))
            .filter(web_sessions::revoked_at.is_null())
            .filter(web_sessions::expires_at.gt(now)),
    )
    .set(web_sessions::expires_at.eq(until))
    .execute(conn)
    .map(drop)
}

pub fn revoke_session(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(web_sessions::table.filter(web_sessions::token_hash.eq(token_hash)))
        .set(web_sessions::revoked_at.eq(now))
        .execute(conn)
        .map(drop)
}

// ---- WeChat openids and exchanged codes -------------------------------------

/// The member bound to an openid.
pub fn bound_member(conn: &mut DbConnection, openid: &str) -> QueryResult<Option<i64>> {
    wechat_bindings::table
        .filter(wechat_bindings::openid.eq(openid))
        .select(wechat_bindings::member_id)
        .first(conn)
        .optional()
}

/// Binds an openid to a member; an openid already bound keeps its first member.
pub fn bind_openid(
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
pub fn exchanged_code(
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
pub fn record_code_exchange(
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
