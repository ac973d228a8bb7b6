//! Diesel queries for checklist items and their versions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{ItemInput, ItemView, Period, Proposer};
use crate::amount::Amount;
use crate::db::DbConnection;
use crate::db::schema::{checklist_item_versions as versions, checklist_items as items};
use crate::paging::PageRequest;

/// An item joined with its current version.
#[derive(Queryable, Selectable)]
#[diesel(table_name = versions)]
struct ItemRow {
    #[diesel(select_expression = items::id)]
    id: i64,
    #[diesel(select_expression = items::active)]
    active: bool,
    version: i32,
    code: String,
    category: String,
    title: String,
    description: String,
    points: i64,
    period: Period,
    cap_count: Option<i32>,
    proposers: String,
    evidence_required: bool,
    member_required: bool,
}

impl From<ItemRow> for ItemView {
    fn from(row: ItemRow) -> Self {
        ItemView {
            id: row.id,
            version: row.version,
            code: row.code,
            category: row.category,
            title: row.title,
            description: row.description,
            points: Amount::from_minor(row.points),
            period: row.period,
            cap_count: row.cap_count,
            proposers: Proposer::split(&row.proposers),
            evidence_required: row.evidence_required,
            member_required: row.member_required,
            active: row.active,
        }
    }
}

/// The current version of an item, with the village it belongs to.
pub fn item(conn: &mut DbConnection, id: i64) -> QueryResult<Option<(i64, ItemView)>> {
    items::table
        .inner_join(
            versions::table.on(versions::item_id
                .eq(items::id)
                .and(versions::version.eq(items::current_version))),
        )
        .filter(items::id.eq(id))
        .select((items::village_id, ItemRow::as_select()))
        .first::<(i64, ItemRow)>(conn)
        .optional()
        .map(|row| row.map(|(village_id, row)| (village_id, row.into())))
}

pub fn item_id_by_code(
    conn: &mut DbConnection,
    village_id: i64,
    code: &str,
) -> QueryResult<Option<i64>> {
    items::table
        .filter(items::village_id.eq(village_id))
        .filter(items::code.eq(code))
        .select(items::id)
        .first(conn)
        .optional()
}

pub fn items_page(
    conn: &mut DbConnection,
    village_id: i64,
    include_retired: bool,
    page: PageRequest,
) -> QueryResult<Vec<ItemView>> {
    let mut query = items::table
        .inner_join(
            versions::table.on(versions::item_id
                .eq(items::id)
                .and(versions::version.eq(items::current_version))),
        )
        .filter(items::village_id.eq(village_id))
        .filter(items::id.gt(page.after.unwrap_or(0)))
        .order(items::id)
        .limit(page.limit + 1)
        .select(ItemRow::as_select())
        .into_boxed();
    if !include_retired {
        query = query.filter(items::active.eq(true));
    }
    Ok(query
        .load::<ItemRow>(conn)?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub fn insert_item(
    conn: &mut DbConnection,
    village_id: i64,
    code: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(items::table)
        .values((
            items::village_id.eq(village_id),
            items::code.eq(code),
            items::current_version.eq(0),
            items::active.eq(true),
            items::created_at.eq(now),
            items::updated_at.eq(now),
        ))
        .returning(items::id)
        .get_result(conn)
}

/// Writes version `version` of an item and makes it current and active.
pub fn insert_version(
    conn: &mut DbConnection,
    village_id: i64,
    item_id: i64,
    version: i32,
    input: &ItemInput,
    created_by: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(versions::table)
        .values((
            versions::village_id.eq(village_id),
            versions::item_id.eq(item_id),
            versions::version.eq(version),
            versions::code.eq(&input.code),
            versions::category.eq(input.category.trim()),
            versions::title.eq(input.title.trim()),
            versions::description.eq(input.description.trim()),
            versions::points.eq(input.points.minor()),
            versions::period.eq(input.period),
            versions::cap_count.eq(input.cap_count),
            versions::proposers.eq(Proposer::join(&input.proposers)),
            versions::evidence_required.eq(input.evidence_required),
            versions::member_required.eq(input.member_required),
            versions::created_by.eq(created_by),
            versions::created_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(items::table.find(item_id))
        .set((
            items::code.eq(&input.code),
            items::current_version.eq(version),
            items::active.eq(true),
            items::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn retire(conn: &mut DbConnection, item_id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(items::table.find(item_id))
        .set((items::active.eq(false), items::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}
