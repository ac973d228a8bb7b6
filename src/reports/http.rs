//! A household's statement (API.md "Ledger").

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Principal;
use crate::http::{Json, ValidQuery, json};
use crate::ledger::views::EntryView;
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_household_ledger);
}

/// A household's ledger, newest first, with each entry's hash and the points after it.
#[utoipa::path(
    tag = "ledger",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id"), PageQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<EntryView>),
        (status = 404, description = "No such household in the caller's scope"),
    )
)]
#[get("/households/{household_id}/ledger")]
async fn get_household_ledger(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<EntryView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        super::household_ledger(conn, &p, id, &q.0)
    })
    .await
}
