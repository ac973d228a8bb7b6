//! Door plates for the committee's API (API.md "Door plates").

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{IssuePlates, PlatesIssued};
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::ValidJson;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(issue_plates).service(print_plates_sheet);
}

/// Issues door plates: for the listed households (a plate they had is replaced and its
/// old address answers 404), or, with none listed, for every active household without
/// one. Each token is random (256 bits) and opens `/p/{plate_token}`.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = IssuePlates,
    responses(
        (status = 201, description = "The plates issued", body = PlatesIssued),
        (status = 403, description = "Only the committee issues plates"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 422, description = "A household is not an active one of the village, e.g. `household_ids[1]`"),
    )
)]
#[post("/villages/{village_id}/plates")]
async fn issue_plates(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<IssuePlates>,
) -> Result<HttpResponse, AppError> {
    let (id, now, base) = (
        id.into_inner(),
        state.clock.now(),
        state.settings.browse_url(),
    );
    let issued = state
        .db
        .run(move |conn| super::service::issue(conn, &c, id, &body.0, &base, now))
        .await?;
    Ok(HttpResponse::Created().json(issued))
}

/// Every plate of the village as a printable A4 sheet: QR, door number and village on
/// each, sized for weatherproof stickers.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    responses(
        (status = 200, description = "The sheet to print", content_type = "text/html"),
        (status = 403, description = "Only the committee prints plates"),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/plates/sheet")]
async fn print_plates_sheet(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (id, base) = (id.into_inner(), state.settings.browse_url());
    let plates = state
        .db
        .run(move |conn| super::service::sheet(conn, &p, id, &base))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(super::sheet::html(&plates)))
}
