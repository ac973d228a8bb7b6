//! Diesel queries for checklist items and their versions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{ItemInput, ItemView, Period, Proposer};
use crate::amount::Amount;
use crate::db::DbConnection;
use crate::db::schema::{checklist_item_versions as versions, checklist_items as items};
use crate::paging::PageRequest;

type ItemRow = (
    i64,
    bool,
    i32,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<i32>,
    String,
    bool,
);

fn columns() -> (
    items::id,
    items::active,
    versions::version,
    versions::code,
    versions::category,
    versions::title,
    versions::description,
    versions::points,
    versions::period,
    versions::cap_count,
    versions::proposers,
    versions::evidence_required,
) {
    (
        items::id,
        items::active,
        versions::version,
        versions::code,
        versions::category,
        versions::title,
        versions::description,
        versions::points,
        versions::period,
        versions::cap_count,
        versions::proposers,
        versions::evidence_required,
    )
}

fn view(row: ItemRow) -> ItemView {
    let (
        id,
        active,
        version,
        code,
        category,
        title,
        description,
        points,
        period,
        cap_count,
        proposers,
        evidence_required,
    ) = row;
    ItemView {
        id,
        version,
        code,
        category,
        title,
        description,
        points: Amount::from_minor(points),
        period: Period::parse(&period).unwrap_or(Period::Event),
        cap_count,
        proposers: Proposer::split(&proposers),
        evidence_required,
        active,
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
        .select((items::village_id, columns()))
        .first::<(i64, ItemRow)>(conn)
        .optional()
        .map(|row| row.map(|(village_id, row)| (village_id, view(row))))
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
        .select(columns())
        .into_boxed();
    if !include_retired {
        query = query.filter(items::active.eq(true));
    }
    Ok(query.load::<ItemRow>(conn)?.into_iter().map(view).collect())
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
            versions::period.eq(input.period.as_str()),
            versions::cap_count.eq(input.cap_count),
            versions::proposers.eq(Proposer::join(&input.proposers)),
            versions::evidence_required.eq(input.evidence_required),
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
