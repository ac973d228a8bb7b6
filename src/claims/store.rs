//! Diesel queries for claims and their events.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{claim_events, claims};

#[derive(Queryable, Selectable)]
#[diesel(table_name = claims)]
pub struct ClaimRow {
    pub id: i64,
    pub village_id: i64,
    pub household_id: i64,
    pub member_id: Option<i64>,
    pub item_id: i64,
    pub item_version: i32,
    pub points: i64,
    pub quantity: i32,
    pub total: i64,
    pub status: String,
    pub occurred_on: NaiveDate,
    pub note: String,
    pub notice_ends_at: Option<NaiveDateTime>,
    pub transaction_id: Option<i64>,
    pub created_by: i64,
}

pub struct NewClaim<'a> {
    pub village_id: i64,
    pub household_id: i64,
    pub item_id: i64,
    pub item_version: i32,
    pub points: i64,
    pub quantity: i32,
    pub status: &'a str,
    pub occurred_on: NaiveDate,
    pub note: &'a str,
    pub transaction_id: Option<i64>,
    pub created_by_kind: &'a str,
    pub created_by: i64,
    pub now: NaiveDateTime,
}

pub fn insert_claim(conn: &mut DbConnection, c: &NewClaim) -> QueryResult<i64> {
    diesel::insert_into(claims::table)
        .values((
            claims::village_id.eq(c.village_id),
            claims::household_id.eq(c.household_id),
            claims::item_id.eq(c.item_id),
            claims::item_version.eq(c.item_version),
            claims::points.eq(c.points),
            claims::quantity.eq(c.quantity),
            claims::total.eq(c.points * i64::from(c.quantity)),
            claims::status.eq(c.status),
            claims::occurred_on.eq(c.occurred_on),
            claims::note.eq(c.note),
            claims::transaction_id.eq(c.transaction_id),
            claims::created_by_kind.eq(c.created_by_kind),
            claims::created_by.eq(c.created_by),
            claims::created_at.eq(c.now),
            claims::updated_at.eq(c.now),
        ))
        .returning(claims::id)
        .get_result(conn)
}

pub struct NewEvent<'a> {
    pub village_id: i64,
    pub claim_id: i64,
    pub status: &'a str,
    pub note: &'a str,
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub now: NaiveDateTime,
}

pub fn insert_event(conn: &mut DbConnection, e: &NewEvent) -> QueryResult<()> {
    diesel::insert_into(claim_events::table)
        .values((
            claim_events::village_id.eq(e.village_id),
            claim_events::claim_id.eq(e.claim_id),
            claim_events::status.eq(e.status),
            claim_events::note.eq(e.note),
            claim_events::actor_kind.eq(e.actor_kind),
            claim_events::actor_id.eq(e.actor_id),
            claim_events::created_at.eq(e.now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn claims_by_ids(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<ClaimRow>> {
    claims::table
        .filter(claims::id.eq_any(ids.to_vec()))
        .order(claims::id)
        .select(ClaimRow::as_select())
        .load(conn)
}

/// (claim id, status, note, actor kind, actor id, at) in order.
pub type EventRow = (i64, String, String, String, Option<i64>, NaiveDateTime);

pub fn events_of(conn: &mut DbConnection, claim_ids: &[i64]) -> QueryResult<Vec<EventRow>> {
    claim_events::table
        .filter(claim_events::claim_id.eq_any(claim_ids.to_vec()))
        .order(claim_events::id)
        .select((
            claim_events::claim_id,
            claim_events::status,
            claim_events::note,
            claim_events::actor_kind,
            claim_events::actor_id,
            claim_events::created_at,
        ))
        .load(conn)
}
