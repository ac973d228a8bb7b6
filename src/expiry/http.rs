//! 清零 as the desk and the villager's page ask about it (API.md "Honour, rankings and
//! expiry").

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{HouseholdExpiryView, VillageExpiryView};
use crate::auth::Principal;
use crate::http::{Json, json};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_village_expiry)
        .service(get_household_expiry);
}

/// When the village's next 清零 falls and what it would take as of now: the households
/// holding spendable points and their points together.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    responses(
        (status = 200, description = "The next expiry", body = VillageExpiryView),
        (status = 403, description = "Only the committee and supervisors"),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/expiry")]
async fn get_village_expiry(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<VillageExpiryView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        super::service::village_forecast(conn, &p, id, now)
    })
    .await
}

/// When the household's points would expire next, and how many as of now.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    responses(
        (status = 200, description = "The household's next expiry", body = HouseholdExpiryView),
        (status = 404, description = "No such household in the caller's scope"),
    )
)]
#[get("/households/{household_id}/expiry")]
async fn get_household_expiry(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<HouseholdExpiryView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        super::service::household_forecast(conn, &p, id, now)
    })
    .await
}
