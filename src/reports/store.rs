//! Read-only queries behind rankings and the honour board: each reads the whole village
//! at once through an index whose first column is the village (no per-household query).

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, exists, not, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::claims::model::ClaimStatus;
use crate::db::DbConnection;
use crate::db::TextState;
use crate::db::schema::{
    accounts, chain_heads, checklist_item_versions, claims, expiry_runs, households,
    ledger_transactions, postings, redemption_voids, redemptions, village_groups, villages,
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

/// A household's posted claims, each with the item version it was claimed under.
#[diesel::dsl::auto_type]
fn posted_of(household_id: i64) -> _ {
    let posted: &'static str = ClaimStatus::Posted.as_str();
    claims::table
        .inner_join(
            checklist_item_versions::table.on(checklist_item_versions::item_id
                .eq(claims::item_id)
                .and(checklist_item_versions::version.eq(claims::item_version))),
        )
        .filter(claims::household_id.eq(household_id))
        .filter(claims::status.eq(posted))
}

/// A household's latest honours: (item title, the day it was done), newest first.
pub fn latest_honours(
    conn: &mut DbConnection,
    household_id: i64,
    limit: i64,
) -> QueryResult<Vec<(String, chrono::NaiveDate)>> {
    posted_of(household_id)
        .filter(claims::total.gt(0))
        .order(claims::id.desc())
        .limit(limit)
        .select((checklist_item_versions::title, claims::occurred_on))
        .load(conn)
}

/// A posted claim as a statement lists it.
#[derive(Debug, Queryable)]
pub struct PostedClaim {
    pub title: String,
    pub occurred_on: chrono::NaiveDate,
    pub total: i64,
    pub transaction_id: Option<i64>,
}

/// A household's posted claims that occurred in `[from, to]`, oldest first, for a
/// statement to list what it earned and lost.
pub fn posted_claims(
    conn: &mut DbConnection,
    household_id: i64,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> QueryResult<Vec<PostedClaim>> {
    posted_of(household_id)
        .filter(claims::occurred_on.ge(from))
        .filter(claims::occurred_on.le(to))
        .order((claims::occurred_on, claims::id))
        .select((
            checklist_item_versions::title,
            claims::occurred_on,
            claims::total,
            claims::transaction_id,
        ))
        .load(conn)
}

// ---- the township's dashboard: each figure for all villages in one query, by household,
// for the caller to add up by village or by group ---------------------------------------

/// A village as the dashboard lists it: (id, name, stored policy).
pub fn township_villages(
    conn: &mut DbConnection,
    township_id: i64,
) -> QueryResult<Vec<(i64, String, String)>> {
    villages::table
        .filter(villages::township_id.eq(township_id))
        .select((villages::id, villages::name, villages::policy))
        .order(villages::id)
        .load(conn)
}

/// A household as the dashboard adds it up.
#[derive(Debug, Queryable)]
pub struct DashboardHousehold {
    pub village_id: i64,
    pub id: i64,
    pub group_id: Option<i64>,
    pub active: bool,
}

/// Every household of the villages, deactivated ones too (their past deeds count).
pub fn dashboard_households(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<Vec<DashboardHousehold>> {
    households::table
        .filter(households::village_id.eq_any(ids))
        .select((
            households::village_id,
            households::id,
            households::group_id,
            households::active,
        ))
        .load(conn)
}

/// Claims submitted in `[from, to)` per household and present status:
/// (village, household, status, count).
pub fn claim_counts(
    conn: &mut DbConnection,
    ids: &[i64],
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<Vec<(i64, i64, ClaimStatus, i64)>> {
    claims::table
        .filter(claims::village_id.eq_any(ids))
        .filter(claims::created_at.ge(from))
        .filter(claims::created_at.lt(to))
        .group_by((claims::village_id, claims::household_id, claims::status))
        .select((
            claims::village_id,
            claims::household_id,
            claims::status,
            count_star(),
        ))
        .load(conn)
}

/// What one household's points gained and lost through one kind of transaction,
/// hundredths, losses negative.
#[derive(Debug, Queryable)]
pub struct PointFlow {
    pub village_id: i64,
    pub household_id: i64,
    pub kind: TxKind,
    pub gains: i64,
    pub losses: i64,
}

/// What households' points gained and lost in `[from, to)`, per household and kind of
/// transaction.
pub fn point_flows(
    conn: &mut DbConnection,
    ids: &[i64],
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<Vec<PointFlow>> {
    ledger_transactions::table
        .inner_join(postings::table.on(postings::transaction_id.eq(ledger_transactions::id)))
        .inner_join(accounts::table.on(accounts::id.eq(postings::account_id)))
        .filter(ledger_transactions::village_id.eq_any(ids))
        .filter(ledger_transactions::created_at.ge(from))
        .filter(ledger_transactions::created_at.lt(to))
        .filter(postings::asset.eq(Asset::Points.as_str()))
        .filter(accounts::owner_kind.eq("household"))
        .filter(accounts::purpose.eq(Purpose::Holdings.as_str()))
        .group_by((
            accounts::village_id,
            accounts::owner_id,
            ledger_transactions::kind,
        ))
        .select((
            accounts::village_id,
            accounts::owner_id,
            ledger_transactions::kind,
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN postings.amount > 0 THEN postings.amount ELSE 0 END) AS BIGINT)",
            ),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN postings.amount < 0 THEN postings.amount ELSE 0 END) AS BIGINT)",
            ),
        ))
        .load(conn)
}

/// Redemptions in `[from, to)` that stand (not voided), per household:
/// (village, household, count).
pub fn redemption_counts(
    conn: &mut DbConnection,
    ids: &[i64],
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<Vec<(i64, i64, i64)>> {
    let voided = redemption_voids::table
        .filter(redemption_voids::redemption_id.eq(redemptions::id))
        .select(redemption_voids::id);
    redemptions::table
        .filter(redemptions::village_id.eq_any(ids))
        .filter(redemptions::created_at.ge(from))
        .filter(redemptions::created_at.lt(to))
        .filter(not(exists(voided)))
        .group_by((redemptions::village_id, redemptions::household_id))
        .select((
            redemptions::village_id,
            redemptions::household_id,
            count_star(),
        ))
        .load(conn)
}

/// The households that did anything in `[from, to)` — a claim, an award or deduction, a
/// redemption: (village, household), once per kind of deed (the two-backend connection
/// has no `UNION`: the caller makes the set).
pub fn active_households(
    conn: &mut DbConnection,
    ids: &[i64],
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<Vec<(i64, i64)>> {
    let claimed = claims::table
        .filter(claims::village_id.eq_any(ids))
        .filter(claims::created_at.ge(from))
        .filter(claims::created_at.lt(to))
        .select((claims::village_id, claims::household_id))
        .distinct();
    let merits = [TxKind::Award, TxKind::Deduction].map(|k| k.as_str());
    let posted = ledger_transactions::table
        .inner_join(postings::table.on(postings::transaction_id.eq(ledger_transactions::id)))
        .inner_join(accounts::table.on(accounts::id.eq(postings::account_id)))
        .filter(ledger_transactions::village_id.eq_any(ids))
        .filter(ledger_transactions::created_at.ge(from))
        .filter(ledger_transactions::created_at.lt(to))
        .filter(ledger_transactions::kind.eq_any(merits))
        .filter(accounts::owner_kind.eq("household"))
        .select((ledger_transactions::village_id, accounts::owner_id))
        .distinct();
    let spent = redemptions::table
        .filter(redemptions::village_id.eq_any(ids))
        .filter(redemptions::created_at.ge(from))
        .filter(redemptions::created_at.lt(to))
        .select((redemptions::village_id, redemptions::household_id))
        .distinct();
    let mut all = claimed.load(conn)?;
    all.extend(posted.load::<(i64, i64)>(conn)?);
    all.extend(spent.load::<(i64, i64)>(conn)?);
    Ok(all)
}

/// The points households hold now, the positive balances only:
/// (village, household, hundredths).
pub fn outstanding(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, i64, i64)>> {
    accounts::table
        .filter(accounts::village_id.eq_any(ids))
        .filter(accounts::owner_kind.eq("household"))
        .filter(accounts::asset.eq(Asset::Points.as_str()))
        .filter(accounts::purpose.eq(Purpose::Holdings.as_str()))
        .filter(accounts::balance.gt(0))
        .select((accounts::village_id, accounts::owner_id, accounts::balance))
        .load(conn)
}

/// Claims submitted in `[from, to)` by the category of their item: (category, claims,
/// hundredths posted).
pub fn claims_by_category(
    conn: &mut DbConnection,
    ids: &[i64],
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<Vec<(String, i64, i64)>> {
    claims::table
        .inner_join(
            checklist_item_versions::table.on(checklist_item_versions::item_id
                .eq(claims::item_id)
                .and(checklist_item_versions::version.eq(claims::item_version))),
        )
        .filter(claims::village_id.eq_any(ids))
        .filter(claims::created_at.ge(from))
        .filter(claims::created_at.lt(to))
        .group_by(checklist_item_versions::category)
        .select((
            checklist_item_versions::category,
            count_star(),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN claims.status = 'posted' THEN claims.total ELSE 0 END) AS BIGINT)",
            ),
        ))
        .order(checklist_item_versions::category)
        .load(conn)
}

/// The villages' chain heads: (village, seq, hash).
pub fn chain_heads(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, i64, String)>> {
    chain_heads::table
        .filter(chain_heads::village_id.eq_any(ids))
        .select((chain_heads::village_id, chain_heads::seq, chain_heads::hash))
        .load(conn)
}

/// Points in households' hands, per village: (village, hundredths).
pub fn outstanding_by_village(conn: &mut DbConnection) -> QueryResult<Vec<(i64, i64)>> {
    accounts::table
        .filter(accounts::owner_kind.eq("household"))
        .filter(accounts::asset.eq(Asset::Points.as_str()))
        .filter(accounts::purpose.eq(Purpose::Holdings.as_str()))
        .group_by(accounts::village_id)
        .select((
            accounts::village_id,
            sql::<BigInt>("CAST(COALESCE(SUM(accounts.balance), 0) AS BIGINT)"),
        ))
        .load(conn)
}

/// Claims per village and status, ever.
pub fn claims_by_status(conn: &mut DbConnection) -> QueryResult<Vec<(i64, ClaimStatus, i64)>> {
    claims::table
        .group_by((claims::village_id, claims::status))
        .select((claims::village_id, claims::status, count_star()))
        .load(conn)
}

/// Redemptions per village, ever, that stand (`voided` false) or were voided.
pub fn redemptions_by_village(
    conn: &mut DbConnection,
    voided: bool,
) -> QueryResult<Vec<(i64, i64)>> {
    let void = redemption_voids::table
        .filter(redemption_voids::redemption_id.eq(redemptions::id))
        .select(redemption_voids::id);
    let query = redemptions::table
        .group_by(redemptions::village_id)
        .select((redemptions::village_id, count_star()));
    if voided {
        query.filter(exists(void)).load(conn)
    } else {
        query.filter(not(exists(void))).load(conn)
    }
}

/// When the oldest notice that has ended but is not yet posted ended, if any.
pub fn oldest_unposted_notice(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    claims::table
        .filter(claims::status.eq(ClaimStatus::InNotice))
        .filter(claims::notice_ends_at.le(now))
        .select(diesel::dsl::min(claims::notice_ends_at))
        .first(conn)
}

/// 清零 runs per village: (village, runs, hundredths cleared).
pub fn expiry_runs_by_village(conn: &mut DbConnection) -> QueryResult<Vec<(i64, i64, i64)>> {
    expiry_runs::table
        .group_by(expiry_runs::village_id)
        .select((
            expiry_runs::village_id,
            count_star(),
            sql::<BigInt>("CAST(COALESCE(SUM(expiry_runs.points), 0) AS BIGINT)"),
        ))
        .load(conn)
}
