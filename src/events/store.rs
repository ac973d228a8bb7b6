//! Events and their check-ins.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::model::EventStatus;
use crate::db::DbConnection;
use crate::db::schema::{event_checkins, events};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub village_id: i64,
    pub item_id: i64,
    pub title: String,
    pub place: Option<String>,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub max_checkins: Option<i32>,
    pub status: EventStatus,
}

pub struct NewEvent<'a> {
    pub village_id: i64,
    pub item_id: i64,
    pub title: &'a str,
    pub place: Option<&'a str>,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub max_checkins: Option<i32>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, e: &NewEvent<'_>) -> QueryResult<i64> {
    diesel::insert_into(events::table)
        .values((
            events::village_id.eq(e.village_id),
            events::item_id.eq(e.item_id),
            events::title.eq(e.title),
            events::place.eq(e.place),
            events::starts_at.eq(e.starts_at),
            events::ends_at.eq(e.ends_at),
            events::max_checkins.eq(e.max_checkins),
            events::status.eq(EventStatus::Open),
            events::created_by.eq(e.created_by),
            events::created_at.eq(e.created_at),
        ))
        .returning(events::id)
        .get_result(conn)
}

pub fn event(conn: &mut DbConnection, id: i64) -> QueryResult<Option<EventRow>> {
    events::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

/// The event's row, locked against concurrent check-ins on PostgreSQL (SQLite writers
/// already take turns).
pub fn lock(conn: &mut DbConnection, id: i64) -> QueryResult<Option<EventRow>> {
    match conn {
        DbConnection::Pg(pg) => events::table
            .find(id)
            .select(EventRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConnection::Sqlite(_) => event(conn, id),
    }
}

/// The village's events, newest first.
pub fn of_village(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::village_id.eq(village_id))
        .order(events::id.desc())
        .limit(200)
        .select(EventRow::as_select())
        .load(conn)
}

/// Check-ins per event, for the listed events.
pub fn counts(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    event_checkins::table
        .filter(event_checkins::event_id.eq_any(ids))
        .group_by(event_checkins::event_id)
        .select((event_checkins::event_id, count_star()))
        .load(conn)
}

pub fn checked_in(conn: &mut DbConnection, event_id: i64, household_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        event_checkins::table
            .filter(event_checkins::event_id.eq(event_id))
            .filter(event_checkins::household_id.eq(household_id)),
    ))
    .get_result(conn)
}

pub fn add_checkin(
    conn: &mut DbConnection,
    event_id: i64,
    household_id: i64,
    member_id: Option<i64>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(event_checkins::table)
        .values((
            event_checkins::event_id.eq(event_id),
            event_checkins::household_id.eq(household_id),
            event_checkins::member_id.eq(member_id),
            event_checkins::at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// (household, member) of every check-in, in the order they came.
pub fn attendance(conn: &mut DbConnection, event_id: i64) -> QueryResult<Vec<(i64, Option<i64>)>> {
    event_checkins::table
        .filter(event_checkins::event_id.eq(event_id))
        .order(event_checkins::id)
        .select((event_checkins::household_id, event_checkins::member_id))
        .load(conn)
}

pub fn set_claim(
    conn: &mut DbConnection,
    event_id: i64,
    household_id: i64,
    claim_id: i64,
) -> QueryResult<()> {
    diesel::update(
        event_checkins::table
            .filter(event_checkins::event_id.eq(event_id))
            .filter(event_checkins::household_id.eq(household_id)),
    )
    .set(event_checkins::claim_id.eq(claim_id))
    .execute(conn)
    .map(drop)
}

/// Closes an open event; false when it was already closed.
pub fn close(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        events::table
            .find(id)
            .filter(events::status.eq(EventStatus::Open)),
    )
    .set((
        events::status.eq(EventStatus::Closed),
        events::closed_at.eq(at),
    ))
    .execute(conn)
    .map(|n| n == 1)
}
