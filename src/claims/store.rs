//! Diesel queries for claims and their events.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::model::{ClaimStatus, ObjectionStatus};
use crate::db::DbConnection;
use crate::db::schema::{
    checklist_item_versions, claim_events, claim_evidence, claims, households, ledger_transactions,
    members, objections,
};
use crate::paging::PageRequest;

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
    pub status: ClaimStatus,
    pub occurred_on: NaiveDate,
    pub note: String,
    pub notice_ends_at: Option<NaiveDateTime>,
    pub transaction_id: Option<i64>,
    pub created_by_kind: String,
    pub created_by: i64,
}

pub struct NewClaim<'a> {
    pub village_id: i64,
    pub household_id: i64,
    pub member_id: Option<i64>,
    pub item_id: i64,
    pub item_version: i32,
    pub points: i64,
    pub quantity: i32,
    pub status: ClaimStatus,
    pub occurred_on: NaiveDate,
    pub note: &'a str,
    pub transaction_id: Option<i64>,
    pub notice_ends_at: Option<NaiveDateTime>,
    pub created_by_kind: &'a str,
    pub created_by: i64,
    pub now: NaiveDateTime,
}

pub fn insert_claim(conn: &mut DbConnection, c: &NewClaim) -> QueryResult<i64> {
    diesel::insert_into(claims::table)
        .values((
            claims::village_id.eq(c.village_id),
            claims::household_id.eq(c.household_id),
            claims::member_id.eq(c.member_id),
            claims::item_id.eq(c.item_id),
            claims::item_version.eq(c.item_version),
            claims::points.eq(c.points),
            claims::quantity.eq(c.quantity),
            claims::total.eq(c.points * i64::from(c.quantity)),
            claims::status.eq(c.status),
            claims::occurred_on.eq(c.occurred_on),
            claims::note.eq(c.note),
            claims::transaction_id.eq(c.transaction_id),
            claims::notice_ends_at.eq(c.notice_ends_at),
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
    pub status: ClaimStatus,
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

/// A step in a claim's history.
#[derive(Queryable, Selectable)]
#[diesel(table_name = claim_events)]
pub struct EventRow {
    pub claim_id: i64,
    pub status: ClaimStatus,
    pub note: String,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// The claims' histories, in order.
pub fn events_of(conn: &mut DbConnection, claim_ids: &[i64]) -> QueryResult<Vec<EventRow>> {
    claim_events::table
        .filter(claim_events::claim_id.eq_any(claim_ids.to_vec()))
        .order(claim_events::id)
        .select(EventRow::as_select())
        .load(conn)
}

pub fn claim(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ClaimRow>> {
    claims::table
        .find(id)
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()
}

/// Moves a claim from one of `from` to `to`; false when it was no longer in `from`
/// (another request or server got there first).
pub fn transition(
    conn: &mut DbConnection,
    id: i64,
    from: &[ClaimStatus],
    to: ClaimStatus,
    notice_ends_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        claims::table
            .filter(claims::id.eq(id))
            .filter(claims::status.eq_any(from.to_vec())),
    )
    .set((
        claims::status.eq(to),
        claims::notice_ends_at.eq(notice_ends_at),
        claims::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn set_transaction(conn: &mut DbConnection, id: i64, transaction_id: i64) -> QueryResult<()> {
    diesel::update(claims::table.find(id))
        .set(claims::transaction_id.eq(transaction_id))
        .execute(conn)
        .map(drop)
}

/// Which claims a list shows.
pub struct ClaimQuery<'a> {
    pub village_id: i64,
    pub status: Option<ClaimStatus>,
    /// Only these households (a villager's own); `None` for all.
    pub households: Option<&'a [i64]>,
    /// Only households of these groups (a group leader's); `None` for all.
    pub groups: Option<&'a [i64]>,
    pub page: PageRequest,
}

/// Newest first.
pub fn claims_page(conn: &mut DbConnection, q: ClaimQuery) -> QueryResult<Vec<i64>> {
    let mut query = claims::table
        .inner_join(households::table.on(households::id.eq(claims::household_id)))
        .filter(claims::village_id.eq(q.village_id))
        .filter(claims::id.lt(q.page.after.unwrap_or(i64::MAX)))
        .order(claims::id.desc())
        .limit(q.page.limit + 1)
        .select(claims::id)
        .into_boxed();
    // Reversed is shown, never stored: a posted claim whose transaction was reversed.
    query = match q.status {
        Some(ClaimStatus::Reversed) => query
            .filter(claims::status.eq(ClaimStatus::Posted))
            .filter(claims::transaction_id.eq_any(reversed_transactions())),
        Some(ClaimStatus::Posted) => query
            .filter(claims::status.eq(ClaimStatus::Posted))
            .filter(claims::transaction_id.ne_all(reversed_transactions())),
        Some(status) => query.filter(claims::status.eq(status)),
        None => query,
    };
    if let Some(ids) = q.households {
        query = query.filter(claims::household_id.eq_any(ids.to_vec()));
    }
    if let Some(groups) = q.groups {
        query = query.filter(households::group_id.eq_any(groups.to_vec()));
    }
    query.load(conn)
}

/// The transactions that a reversal undid.
#[diesel::dsl::auto_type]
fn reversed_transactions() -> _ {
    ledger_transactions::table
        .filter(ledger_transactions::reverses_id.is_not_null())
        .select(ledger_transactions::reverses_id)
}

/// Statuses that use up a cap.
pub const COUNTED: [ClaimStatus; 4] = [
    ClaimStatus::Submitted,
    ClaimStatus::InNotice,
    ClaimStatus::Objected,
    ClaimStatus::Posted,
];

/// Units of an item claimed for a household in `[from, to)` (all time when `None`),
/// not counting `except` nor claims whose posting was reversed.
pub fn cap_used(
    conn: &mut DbConnection,
    household_id: i64,
    item_id: i64,
    period: Option<(NaiveDate, NaiveDate)>,
    except: Option<i64>,
) -> QueryResult<i64> {
    let mut query = claims::table
        .filter(claims::household_id.eq(household_id))
        .filter(claims::item_id.eq(item_id))
        .filter(claims::status.eq_any(COUNTED))
        .filter(claims::id.ne(except.unwrap_or(0)))
        .filter(
            claims::transaction_id
                .is_null()
                .or(claims::transaction_id.ne_all(reversed_transactions())),
        )
        .select(claims::quantity)
        .into_boxed();
    if let Some((from, to)) = period {
        query = query
            .filter(claims::occurred_on.ge(from))
            .filter(claims::occurred_on.lt(to));
    }
    Ok(query.load::<i32>(conn)?.into_iter().map(i64::from).sum())
}

/// Claims whose notice has run out without an open objection.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    claims::table
        .filter(claims::status.eq(ClaimStatus::InNotice))
        .filter(claims::notice_ends_at.le(now))
        .order(claims::id)
        .limit(limit)
        .select(claims::id)
        .load(conn)
}

/// Points approved for a household and still on notice.
pub fn pending(conn: &mut DbConnection, household_id: i64) -> QueryResult<i64> {
    let totals: Vec<i64> = claims::table
        .filter(claims::household_id.eq(household_id))
        .filter(claims::status.eq_any([ClaimStatus::InNotice, ClaimStatus::Objected]))
        .select(claims::total)
        .load(conn)?;
    Ok(totals.into_iter().sum())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = objections)]
pub struct ObjectionRow {
    pub id: i64,
    pub village_id: i64,
    pub claim_id: i64,
    /// The villager who objected.
    pub member_id: i64,
    pub reason: String,
    pub status: ObjectionStatus,
    pub decision_note: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

pub fn insert_objection(
    conn: &mut DbConnection,
    claim: &ClaimRow,
    member_id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(objections::table)
        .values((
            objections::village_id.eq(claim.village_id),
            objections::claim_id.eq(claim.id),
            objections::member_id.eq(member_id),
            objections::reason.eq(reason),
            objections::status.eq(ObjectionStatus::Open),
            objections::created_at.eq(now),
        ))
        .returning(objections::id)
        .get_result(conn)
}

pub fn objection(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ObjectionRow>> {
    objections::table
        .find(id)
        .select(ObjectionRow::as_select())
        .first(conn)
        .optional()
}

/// Ids of the village's objections still waiting for the supervisors, oldest first.
pub fn open_objections_in(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<i64>> {
    objections::table
        .filter(objections::village_id.eq(village_id))
        .filter(objections::status.eq(ObjectionStatus::Open))
        .order(objections::id.asc())
        .select(objections::id)
        .load(conn)
}

/// Decides an open objection; false when it was already decided.
pub fn decide_objection(
    conn: &mut DbConnection,
    id: i64,
    status: ObjectionStatus,
    staff_id: i64,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        objections::table
            .filter(objections::id.eq(id))
            .filter(objections::status.eq(ObjectionStatus::Open)),
    )
    .set((
        objections::status.eq(status),
        objections::decided_by.eq(staff_id),
        objections::decision_note.eq(note),
        objections::decided_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// How many of the household's claims moved on (beyond being submitted) after `since`.
pub fn decided_since(
    conn: &mut DbConnection,
    household_id: i64,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    use crate::db::schema::claim_events;
    let own: Vec<i64> = claims::table
        .filter(claims::household_id.eq(household_id))
        .select(claims::id)
        .load(conn)?;
    let ids: Vec<i64> = claim_events::table
        .filter(claim_events::claim_id.eq_any(own))
        .filter(claim_events::created_at.gt(since))
        .filter(claim_events::status.ne(ClaimStatus::Submitted))
        .select(claim_events::claim_id)
        .distinct()
        .load(conn)?;
    Ok(ids.len() as i64)
}

/// The household's claims now on notice (objected to or not).
pub fn on_notice_of(conn: &mut DbConnection, household_id: i64) -> QueryResult<Vec<i64>> {
    claims::table
        .filter(claims::household_id.eq(household_id))
        .filter(claims::status.eq_any([ClaimStatus::InNotice, ClaimStatus::Objected]))
        .select(claims::id)
        .load(conn)
}

/// The claims any member of the household has objected to.
pub fn objected_by(conn: &mut DbConnection, household_id: i64) -> QueryResult<Vec<i64>> {
    use crate::db::schema::members;
    let family: Vec<i64> = members::table
        .filter(members::household_id.eq(household_id))
        .select(members::id)
        .load(conn)?;
    objections::table
        .filter(objections::member_id.eq_any(family))
        .select(objections::claim_id)
        .load(conn)
}

/// Whether any member of the household has objected to the claim, whatever came of it.
pub fn household_objected(
    conn: &mut DbConnection,
    claim_id: i64,
    household_id: i64,
) -> QueryResult<bool> {
    use crate::db::schema::members;
    let family: Vec<i64> = members::table
        .filter(members::household_id.eq(household_id))
        .select(members::id)
        .load(conn)?;
    let objected: i64 = objections::table
        .filter(objections::claim_id.eq(claim_id))
        .filter(objections::member_id.eq_any(family))
        .count()
        .get_result(conn)?;
    Ok(objected > 0)
}

pub fn open_objections(conn: &mut DbConnection, claim_id: i64) -> QueryResult<i64> {
    objections::table
        .filter(objections::claim_id.eq(claim_id))
        .filter(objections::status.eq(ObjectionStatus::Open))
        .count()
        .get_result(conn)
}

/// Closes the other open objections of a claim that was just overturned.
pub fn close_objections(
    conn: &mut DbConnection,
    claim_id: i64,
    staff_id: i64,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        objections::table
            .filter(objections::claim_id.eq(claim_id))
            .filter(objections::status.eq(ObjectionStatus::Open)),
    )
    .set((
        objections::status.eq(ObjectionStatus::Upheld),
        objections::decided_by.eq(staff_id),
        objections::decision_note.eq(note),
        objections::decided_at.eq(now),
    ))
    .execute(conn)
    .map(drop)
}

pub struct NewEvidence<'a> {
    pub claim: &'a ClaimRow,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub data: &'a [u8],
    pub uploaded_by_kind: &'a str,
    pub uploaded_by: i64,
    pub now: NaiveDateTime,
}

pub fn insert_evidence(conn: &mut DbConnection, e: &NewEvidence) -> QueryResult<i64> {
    diesel::insert_into(claim_evidence::table)
        .values((
            claim_evidence::village_id.eq(e.claim.village_id),
            claim_evidence::claim_id.eq(e.claim.id),
            claim_evidence::content_type.eq(e.content_type),
            claim_evidence::size_bytes.eq(i64::try_from(e.data.len()).unwrap_or(i64::MAX)),
            claim_evidence::sha256.eq(e.sha256),
            claim_evidence::data.eq(e.data),
            claim_evidence::uploaded_by_kind.eq(e.uploaded_by_kind),
            claim_evidence::uploaded_by.eq(e.uploaded_by),
            claim_evidence::created_at.eq(e.now),
        ))
        .returning(claim_evidence::id)
        .get_result(conn)
}

/// (id, content type, size, created) of a claim's evidence.
pub fn evidence_of(
    conn: &mut DbConnection,
    claim_id: i64,
) -> QueryResult<Vec<(i64, String, i64, NaiveDateTime)>> {
    claim_evidence::table
        .filter(claim_evidence::claim_id.eq(claim_id))
        .order(claim_evidence::id)
        .select((
            claim_evidence::id,
            claim_evidence::content_type,
            claim_evidence::size_bytes,
            claim_evidence::created_at,
        ))
        .load(conn)
}

pub fn evidence_data(
    conn: &mut DbConnection,
    claim_id: i64,
    id: i64,
) -> QueryResult<Option<(String, Vec<u8>)>> {
    claim_evidence::table
        .filter(claim_evidence::id.eq(id))
        .filter(claim_evidence::claim_id.eq(claim_id))
        .select((claim_evidence::content_type, claim_evidence::data))
        .first(conn)
        .optional()
}

/// A claim as the notice board shows it.
pub struct BoardRow {
    pub claim: ClaimRow,
    pub door_no: String,
    pub head_name: String,
    pub category: String,
    pub title: String,
    pub posted_at: Option<NaiveDateTime>,
    /// The member who did it, when the claim names one other than the head.
    pub member_name: Option<String>,
}

pub fn board(
    conn: &mut DbConnection,
    village_id: i64,
    statuses: &[ClaimStatus],
    limit: i64,
) -> QueryResult<Vec<BoardRow>> {
    let rows: Vec<(ClaimRow, String, String, String, String)> = claims::table
        .inner_join(households::table.on(households::id.eq(claims::household_id)))
        .inner_join(
            checklist_item_versions::table.on(checklist_item_versions::item_id
                .eq(claims::item_id)
                .and(checklist_item_versions::version.eq(claims::item_version))),
        )
        .filter(claims::village_id.eq(village_id))
        .filter(claims::status.eq_any(statuses.to_vec()))
        .order(claims::updated_at.desc())
        .limit(limit)
        .select((
            ClaimRow::as_select(),
            households::door_no,
            households::head_name,
            checklist_item_versions::category,
            checklist_item_versions::title,
        ))
        .load(conn)?;
    let tx_ids: Vec<i64> = rows.iter().filter_map(|r| r.0.transaction_id).collect();
    let posted: Vec<(i64, NaiveDateTime)> = ledger_transactions::table
        .filter(ledger_transactions::id.eq_any(tx_ids))
        .select((ledger_transactions::id, ledger_transactions::created_at))
        .load(conn)?;
    let member_ids: Vec<i64> = rows.iter().filter_map(|r| r.0.member_id).collect();
    let names: Vec<(i64, String)> = members::table
        .filter(members::id.eq_any(member_ids))
        .select((members::id, members::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(claim, door_no, head_name, category, title)| {
            let posted_at = claim
                .transaction_id
                .and_then(|t| posted.iter().find(|(id, _)| *id == t).map(|(_, at)| *at));
            let member_name = claim
                .member_id
                .and_then(|m| names.iter().find(|(id, _)| *id == m))
                .map(|(_, name)| name.clone())
                .filter(|name| *name != head_name);
            BoardRow {
                claim,
                door_no,
                head_name,
                category,
                title,
                posted_at,
                member_name,
            }
        })
        .collect())
}
