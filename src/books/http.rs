//! The verify endpoint: the whole books of a village.

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Principal;
use crate::error::{AppError, Problem};
use crate::ledger::verify::VerifyReport;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(verify);
}

/// Recomputes the village's chain and balances from the postings, and checks each shop's
/// receivable against its unsettled redemptions and uncarried voids.
#[utoipa::path(
    tag = "ledger",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    responses(
        (status = 200, description = "`ok` is false when anything does not add up; `problems` says what", body = VerifyReport),
        (status = 403, description = "Not allowed to verify", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such village in the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/villages/{village_id}/ledger/verify")]
async fn verify(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<web::Json<VerifyReport>, AppError> {
    let id = id.into_inner();
    let report = state
        .db
        .run(move |conn| super::verify(conn, &p, id))
        .await?;
    Ok(web::Json(report))
}
