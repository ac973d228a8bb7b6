//! Door plates: one row per household, its token replaced when the plate is issued anew.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::door_plates;
use crate::per_backend;

/// Gives the household this token, replacing any it had.
pub fn put(
    conn: &mut DbConnection,
    village_id: i64,
    household_id: i64,
    token: &str,
    at: NaiveDateTime,
    by: i64,
) -> QueryResult<()> {
    let row = (
        door_plates::household_id.eq(household_id),
        door_plates::village_id.eq(village_id),
        door_plates::token.eq(token),
        door_plates::issued_at.eq(at),
        door_plates::issued_by.eq(by),
    );
    let changes = (
        door_plates::token.eq(token),
        door_plates::issued_at.eq(at),
        door_plates::issued_by.eq(by),
    );
    per_backend!(conn, |c| diesel::insert_into(door_plates::table)
        .values(row)
        .on_conflict(door_plates::household_id)
        .do_update()
        .set(changes)
        .execute(c))?;
    Ok(())
}

/// (household, token) of every plate in the village, in household order.
pub fn of_village(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<(i64, String)>> {
    door_plates::table
        .filter(door_plates::village_id.eq(village_id))
        .order(door_plates::household_id)
        .select((door_plates::household_id, door_plates::token))
        .load(conn)
}

pub fn household_of(conn: &mut DbConnection, token: &str) -> QueryResult<Option<i64>> {
    door_plates::table
        .filter(door_plates::token.eq(token))
        .select(door_plates::household_id)
        .first(conn)
        .optional()
}
