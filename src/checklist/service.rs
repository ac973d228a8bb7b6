//! Checklist use cases.

use chrono::{DateTime, Utc};

use super::import::parse_items;
use super::model::{ChecklistFilter, ItemInput, ItemView};
use super::store;
use crate::audit::{self, Event};
use crate::auth::policy::{Action, authorize};
use crate::auth::{Caller, Principal};
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::{AppError, AppResult};
use crate::org::model::ImportResult;
use crate::org::service::village_target;
use crate::paging::{Page, PageQuery};

pub fn list(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &ChecklistFilter,
) -> AppResult<Page<ItemView>> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ViewChecklist, &target)?;
    let request = PageQuery {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    }
    .request()?;
    let include_retired = filter.include_retired && p.is_staff();
    let rows = store::items_page(conn, village_id, include_retired, request)?;
    Ok(Page::from_rows(rows, request, |i| i.id, |i| i))
}

/// One item, current version, for any use case that needs it (claims, awards).
pub fn item_in_village(conn: &mut DbConnection, item_id: i64) -> AppResult<(i64, ItemView)> {
    store::item(conn, item_id)?.ok_or(AppError::NotFound)
}

fn code_free(
    conn: &mut DbConnection,
    village_id: i64,
    code: &str,
    item_id: Option<i64>,
) -> AppResult<()> {
    match store::item_id_by_code(conn, village_id, code)? {
        Some(other) if Some(other) != item_id => {
            Err(AppError::Conflict(format!("编号 {code} 已被其他事项使用")))
        }
        _ => Ok(()),
    }
}

fn create_in(
    tx: &mut Tx<'_>,
    p: &Principal,
    village_id: i64,
    input: &ItemInput,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    code_free(tx, village_id, &input.code, None)?;
    let id = store::insert_item(tx, village_id, &input.code, now.naive_utc())?;
    store::insert_version(tx, village_id, id, 1, input, p.id, now.naive_utc())?;
    Ok(id)
}

pub fn create(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    input: &ItemInput,
    now: DateTime<Utc>,
) -> AppResult<ItemView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let target = village_target(conn, village_id)?;
        authorize(p, Action::ManageChecklist, &target)?;
        let id = create_in(conn, p, village_id, input, now)?;
        let item = item_in_village(conn, id)?.1;
        audit_item(conn, c, village_id, "checklist_create", &item, now)?;
        Ok(item)
    })
}

/// Records a change of the checklist with the item as it now stands.
fn audit_item(
    tx: &mut Tx<'_>,
    c: &Caller,
    village_id: i64,
    action: &str,
    item: &ItemView,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let event = Event {
        village_id: Some(village_id),
        action,
        subject_kind: "checklist_item",
        subject_id: Some(item.id),
        detail: serde_json::to_value(item).unwrap_or_default(),
    };
    Ok(audit::record(tx, c, event, now)?)
}

/// Loads an item the caller may manage.
fn managed_item(
    conn: &mut DbConnection,
    p: &Principal,
    item_id: i64,
) -> AppResult<(i64, ItemView)> {
    let (village_id, item) = item_in_village(conn, item_id)?;
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ManageChecklist, &target)?;
    Ok((village_id, item))
}

/// Writes version n+1; claims made earlier keep the version they used.
pub fn revise(
    conn: &mut DbConnection,
    c: &Caller,
    item_id: i64,
    input: &ItemInput,
    now: DateTime<Utc>,
) -> AppResult<ItemView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let (village_id, item) = managed_item(conn, p, item_id)?;
        code_free(conn, village_id, &input.code, Some(item_id))?;
        store::insert_version(
            conn,
            village_id,
            item_id,
            item.version + 1,
            input,
            p.id,
            now.naive_utc(),
        )?;
        let item = item_in_village(conn, item_id)?.1;
        audit_item(conn, c, village_id, "checklist_revise", &item, now)?;
        Ok(item)
    })
}

/// Stops new claims against the item; retiring twice is harmless.
pub fn retire(
    conn: &mut DbConnection,
    c: &Caller,
    item_id: i64,
    now: DateTime<Utc>,
) -> AppResult<ItemView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let (village_id, _) = managed_item(conn, p, item_id)?;
        store::retire(conn, item_id, now.naive_utc())?;
        let item = item_in_village(conn, item_id)?.1;
        audit_item(conn, c, village_id, "checklist_retire", &item, now)?;
        Ok(item)
    })
}

/// The checklist import template, for the village's committee.
pub fn import_template(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<crate::export::ExportFile> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ManageChecklist, &target)?;
    let (_, name) = crate::org::service::village_summary(conn, village_id)?;
    let columns = super::import::template_columns();
    crate::export::ExportFile::template(&format!("{name}-积分清单导入模板"), &columns)
}

/// All rows or none: new codes are created, changed ones get a new version (and are in
/// force again if retired), identical ones are left alone.
pub fn import(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    file: &[u8],
    now: DateTime<Utc>,
) -> AppResult<ImportResult> {
    let p = &c.principal;
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ManageChecklist, &target)?;
    let rows = parse_items(file)?;
    write_tx(conn, |conn| {
        let mut result = ImportResult {
            created: 0,
            updated: 0,
        };
        for (_, input) in &rows {
            match store::item_id_by_code(conn, village_id, &input.code)? {
                None => {
                    create_in(conn, p, village_id, input, now)?;
                    result.created += 1;
                }
                Some(id) => {
                    let (_, current) = item_in_village(conn, id)?;
                    if current.active && current.as_input() == *input {
                        continue;
                    }
                    store::insert_version(
                        conn,
                        village_id,
                        id,
                        current.version + 1,
                        input,
                        p.id,
                        now.naive_utc(),
                    )?;
                    result.updated += 1;
                }
            }
        }
        let event = Event {
            village_id: Some(village_id),
            action: "checklist_import",
            subject_kind: "village",
            subject_id: Some(village_id),
            detail: serde_json::json!({"created": result.created, "updated": result.updated}),
        };
        audit::record(conn, c, event, now)?;
        Ok(result)
    })
}
