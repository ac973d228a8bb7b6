//! The record of each 清零 run: one row per village and year.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::expiry_runs;
use crate::per_backend;

/// Records the run; false when this village's year had already run.
pub fn record(
    conn: &mut DbConnection,
    village_id: i64,
    year: i32,
    at: NaiveDateTime,
    households: i64,
    points: i64,
) -> QueryResult<bool> {
    let row = (
        expiry_runs::village_id.eq(village_id),
        expiry_runs::year.eq(year),
        expiry_runs::ran_at.eq(at),
        expiry_runs::households.eq(households),
        expiry_runs::points.eq(points),
    );
    let inserted = per_backend!(conn, |c| diesel::insert_into(expiry_runs::table)
        .values(row)
        .on_conflict((expiry_runs::village_id, expiry_runs::year))
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

pub fn has_run(conn: &mut DbConnection, village_id: i64, year: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        expiry_runs::table
            .filter(expiry_runs::village_id.eq(village_id))
            .filter(expiry_runs::year.eq(year)),
    ))
    .get_result(conn)
}

/// (village, year) of every run in these years, in every village.
pub fn runs_in(conn: &mut DbConnection, years: &[i32]) -> QueryResult<Vec<(i64, i32)>> {
    expiry_runs::table
        .filter(expiry_runs::year.eq_any(years))
        .select((expiry_runs::village_id, expiry_runs::year))
        .load(conn)
}
