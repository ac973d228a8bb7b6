//! The verify endpoint: the whole books of a village.

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use crate::auth::Principal;
use crate::error::AppError;
use crate::http::ValidQuery;
use crate::ledger::model::ChainMark;
use crate::ledger::verify::VerifyReport;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(verify_chain);
}

#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// A chain position noted earlier, `SEQ:HASH` (a receipt, the notice board): the
    /// report is not `ok` unless the chain still holds that link with that hash.
    #[param(
        pattern = r"^[1-9][0-9]{0,17}:[0-9a-fA-F]{64}$",
        example = "12:3fa4c1d2e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef"
    )]
    pub expect: Option<String>,
}

/// Recomputes the village's chain and balances from the postings, and checks each shop's
/// receivable against its unsettled redemptions and uncarried voids; with `expect`, also
/// that the chain still holds a position noted earlier.
#[utoipa::path(
    tag = "ledger",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), VerifyQuery),
    responses(
        (status = 200, description = "`ok` is false when anything does not add up; `problems` says what", body = VerifyReport),
        (status = 403, description = "Not allowed to verify"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 422, description = "`expect` is not `SEQ:HASH`"),
    )
)]
#[get("/villages/{village_id}/ledger/verify")]
async fn verify_chain(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<VerifyQuery>,
) -> Result<web::Json<VerifyReport>, AppError> {
    let id = id.into_inner();
    let marks: Vec<ChainMark> = match &q.0.expect {
        Some(text) => vec![
            text.parse()
                .map_err(|why: &str| AppError::field("expect", why))?,
        ],
        None => Vec::new(),
    };
    let report = state
        .db
        .run(move |conn| super::verify(conn, &p, id, &marks))
        .await?;
    Ok(web::Json(report))
}
