//! Claim endpoints (API.md "Claims, awards, notice board").

use actix_web::{HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{AwardRequest, AwardResult};
use super::service;
use crate::auth::Caller;
use crate::error::{AppError, Problem};
use crate::http::{IdempotentJson, outcome_response};
use crate::ledger::idempotency::run_once;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(award);
}

/// The committee awards or deducts an item to one or many households: all or none.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(
        ("village_id" = i64, Path, description = "Village id"),
        ("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters; a retry with the same key and body replays the answer"),
    ),
    request_body = AwardRequest,
    responses(
        (status = 201, description = "One claim per household, each posted to the ledger", body = AwardResult),
        (status = 403, description = "Only the committee awards", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such village in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, e.g. `household_ids[2]` not of this village", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/villages/{village_id}/awards")]
async fn award(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: IdempotentJson<AwardRequest>,
) -> Result<HttpResponse, AppError> {
    let key = body.key(&caller.principal)?;
    let (id, now) = (id.into_inner(), state.clock.now());
    let outcome = state
        .db
        .run(move |conn| {
            run_once(conn, &key, now, |conn| {
                let result = service::award(conn, &caller, id, &body.body, now)?;
                Ok((
                    201,
                    serde_json::to_value(result).map_err(AppError::internal)?,
                ))
            })
        })
        .await?;
    Ok(outcome_response(outcome))
}
