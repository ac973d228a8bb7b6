//! Checklist endpoints (API.md "Checklist").

use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{ChecklistFilter, ItemInput, ItemView};
use super::service;
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::{FileUpload, ValidJson, ValidQuery, created, json, read_file_part};
use crate::org::model::ImportResult;
use crate::paging::Page;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_checklist)
        .service(create_checklist_item)
        .service(revise_checklist_item)
        .service(retire_checklist_item)
        .service(import_checklist)
        .service(checklist_template);
}

/// Items in force (retired ones too with `include_retired=true`, for staff).
#[utoipa::path(
    tag = "checklist",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), ChecklistFilter),
    responses(
        (status = 200, description = "A page of items, current versions", body = Page<ItemView>),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/checklist")]
async fn list_checklist(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<ChecklistFilter>,
) -> Result<web::Json<Page<ItemView>>, AppError> {
    let id = id.into_inner();
    json(&state.db, move |conn| service::list(conn, &p, id, &q.0)).await
}

/// Adds an item (version 1).
#[utoipa::path(
    tag = "checklist",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = ItemInput,
    responses(
        (status = 201, description = "The new item", body = ItemView),
        (status = 403, description = "Only the committee edits the checklist"),
        (status = 409, description = "The code is taken in this village"),
        (status = 422, description = "A field is invalid, e.g. zero points or more than two decimals"),
    )
)]
#[post("/villages/{village_id}/checklist")]
async fn create_checklist_item(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<ItemInput>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let item = state
        .db
        .run(move |conn| service::create(conn, &c, id, &body.0, now))
        .await?;
    Ok(created(&item))
}

/// Writes a new version of an item; claims made earlier keep the version they used.
#[utoipa::path(
    tag = "checklist",
    security(("bearer" = [])),
    params(("item_id" = i64, Path, description = "Item id")),
    request_body = ItemInput,
    responses(
        (status = 200, description = "The item at its new version", body = ItemView),
        (status = 403, description = "Only the committee edits the checklist"),
        (status = 404, description = "No such item in the caller's scope"),
        (status = 409, description = "The code is taken by another item"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[put("/checklist/{item_id}")]
async fn revise_checklist_item(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<ItemInput>,
) -> Result<web::Json<ItemView>, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::revise(conn, &c, id, &body.0, now)
    })
    .await
}

/// Retires an item: no new claims against it.
#[utoipa::path(
    tag = "checklist",
    security(("bearer" = [])),
    params(("item_id" = i64, Path, description = "Item id")),
    responses(
        (status = 200, description = "The retired item", body = ItemView),
        (status = 403, description = "Only the committee edits the checklist"),
        (status = 404, description = "No such item in the caller's scope"),
    )
)]
#[post("/checklist/{item_id}/retire")]
async fn retire_checklist_item(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<ItemView>, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| service::retire(conn, &c, id, now)).await
}

/// Imports items from CSV or XLSX: all rows or none.
#[utoipa::path(
    tag = "checklist",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Counts of items created and updated", body = ImportResult),
        (status = 403, description = "Only the committee edits the checklist"),
        (status = 413, description = "File larger than 5 MB"),
        (status = 422, description = "Every bad row, as `row N: column`"),
    )
)]
#[post("/villages/{village_id}/checklist/import")]
async fn import_checklist(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    form: Multipart,
) -> Result<web::Json<ImportResult>, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let file = read_file_part(form).await?;
    json(&state.db, move |conn| {
        service::import(conn, &c, id, &file, now)
    })
    .await
}

/// The checklist import template: the import's columns with drop-downs for 周期 and
/// 需要证据, and how to fill each.
#[utoipa::path(
    tag = "checklist",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    responses(
        (status = 200, description = "An XLSX workbook: the sheet to fill and a sheet 填写说明", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "Only the committee edits the checklist"),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/checklist/import/template")]
async fn checklist_template(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<actix_web::HttpResponse, AppError> {
    let id = id.into_inner();
    crate::http::download(&state.db, move |conn| {
        service::import_template(conn, &p, id)
    })
    .await
}
