//! Read-only queries behind rankings and the honour board: each reads the whole village
//! at once through an index whose first column is the village (no per-household query).

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::claims::model::ClaimStatus;
use crate::db::DbConnection;
use crate::db::TextState;
use crate::db::schema::{
    accounts, checklist_item_versions, claims, households, ledger_transactions, postings,
    village_groups,
};
use crate::ledger::model::{Asset, Purpose, TxKind};

/// An active household as a ranking shows it.
#[derive(Clone, Debug, Queryable)]
pub struct RankedRow {
    pub id: i64,
    pub door_no: String,
    pub head_name: String,
    pub group_id: Option<i64>,
}

/// The village's active households, in id order; only one group's when given.
pub fn households(
    conn: &mut DbConnection,
    village_id: i64,
    group_id: Option<i64>,
) -> QueryResult<Vec<RankedRow>> {
    let mut query = households::table
        .filter(households::village_id.eq(village_id))
        .filter(households::active.eq(true))
        .select((
            households::id,
            households::door_no,
            households::head_name,
            households::group_id,
        ))
        .order(households::id)
        .into_boxed();
    if let Some(group) = group_id {
        query = query.filter(households::group_id.eq(group));
    }
    query.load(conn)
}

/// The village's groups: (id, name).
pub fn groups(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<(i64, String)>> {
    village_groups::table
        .filter(village_groups::village_id.eq(village_id))
        .select((village_groups::id, village_groups::name))
        .order(village_groups::id)
        .load(conn)
}

/// Every household's current balance of an asset: (household, hundredths).
pub fn balances(
    conn: &mut DbConnection,
    village_id: i64,
    asset: Asset,
) -> QueryResult<Vec<(i64, i64)>> {
    accounts::table
        .filter(accounts::village_id.eq(village_id))
        .filter(accounts::owner_kind.eq("household"))
        .filter(accounts::asset.eq(asset.as_str()))
        .filter(accounts::purpose.eq(Purpose::Holdings.as_str()))
        .select((accounts::owner_id, accounts::balance))
        .load(conn)
}

/// What each household gained or lost of an asset by awards and deductions (and their
/// reversals) posted in `[from, to)`: (household, hundredths). Redemptions, voids and
/// expiry do not count: a ranking is of merit, not of shopping.
pub fn period_sums(
    conn: &mut DbConnection,
    village_id: i64,
    asset: Asset,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(i64, i64)>> {
    let kinds = [TxKind::Award, TxKind::Deduction, TxKind::Reversal].map(|k| k.as_str());
    ledger_transactions::table
        .inner_join(postings::table.on(postings::transaction_id.eq(ledger_transactions::id)))
        .inner_join(accounts::table.on(accounts::id.eq(postings::account_id)))
        .filter(ledger_transactions::village_id.eq(village_id))
        .filter(ledger_transactions::created_at.ge(from))
        .filter(ledger_transactions::created_at.lt(to))
        .filter(ledger_transactions::kind.eq_any(kinds))
        .filter(postings::asset.eq(asset.as_str()))
        .filter(accounts::village_id.eq(village_id))
        .filter(accounts::owner_kind.eq("household"))
        .filter(accounts::purpose.eq(Purpose::Holdings.as_str()))
        .group_by(accounts::owner_id)
        // SUM of a bigint is numeric on PostgreSQL: cast back, both backends alike.
        .select((
            accounts::owner_id,
            sql::<BigInt>("CAST(SUM(postings.amount) AS BIGINT)"),
        ))
        .load(conn)
}

/// A deduction that stands (posted, not reversed): (household, item title, hundredths).
pub fn deductions(
    conn: &mut DbConnection,
    village_id: i64,
    between: Option<(NaiveDateTime, NaiveDateTime)>,
) -> QueryResult<Vec<(i64, String, i64)>> {
    let mut query = claims::table
        .inner_join(
            ledger_transactions::table.on(ledger_transactions::id
                .nullable()
                .eq(claims::transaction_id)),
        )
        .inner_join(
            checklist_item_versions::table.on(checklist_item_versions::item_id
                .eq(claims::item_id)
                .and(checklist_item_versions::version.eq(claims::item_version))),
        )
        .filter(claims::village_id.eq(village_id))
        .filter(claims::status.eq(ClaimStatus::Posted.as_str()))
        .filter(claims::total.lt(0))
        .select((
            claims::household_id,
            checklist_item_versions::title,
            claims::total,
        ))
        .order(claims::id)
        .into_boxed();
    if let Some((from, to)) = between {
        query = query
            .filter(ledger_transactions::created_at.ge(from))
            .filter(ledger_transactions::created_at.lt(to));
    }
    query.load(conn)
}

/// A household's latest honours: (item title, the day it was done), newest first.
pub fn latest_honours(
    conn: &mut DbConnection,
    household_id: i64,
    limit: i64,
) -> QueryResult<Vec<(String, chrono::NaiveDate)>> {
    claims::table
        .inner_join(
            checklist_item_versions::table.on(checklist_item_versions::item_id
                .eq(claims::item_id)
                .and(checklist_item_versions::version.eq(claims::item_version))),
        )
        .filter(claims::household_id.eq(household_id))
        .filter(claims::status.eq(ClaimStatus::Posted.as_str()))
        .filter(claims::total.gt(0))
        .order(claims::id.desc())
        .limit(limit)
        .select((checklist_item_versions::title, claims::occurred_on))
        .load(conn)
}
