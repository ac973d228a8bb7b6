//! A village's books (API.md "Ledger"): its transactions, reversal, the public chain
//! head, the audit trail, and verification.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::ReverseRequest;
use crate::audit::AuditView;
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::{IdempotentJson, Json, ValidQuery, json, outcome_response};
use crate::ledger::model::ChainMark;
use crate::ledger::verify::{HeadView, VerifyReport};
use crate::ledger::views::TransactionView;
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_village_ledger)
        .service(reverse_transaction)
        .service(get_chain_head)
        .service(list_audit)
        .service(verify_chain);
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
    json(&state.db, move |conn| super::verify(conn, &p, id, &marks)).await
}

/// The village's transactions with their postings, newest first.
#[utoipa::path(
    tag = "ledger",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), PageQuery),
    responses(
        (status = 200, description = "A page of transactions", body = Page<TransactionView>),
        (status = 403, description = "Only the committee and supervisors read the village ledger"),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/ledger")]
async fn get_village_ledger(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<TransactionView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        super::village_ledger(conn, &p, id, &q.0)
    })
    .await
}

/// Reverses a transaction; a transaction is reversed at most once.
#[utoipa::path(
    tag = "ledger",
    security(("bearer" = [])),
    params(
        ("transaction_id" = i64, Path, description = "Transaction id"),
        ("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters; a retry with the same key and body replays the answer"),
    ),
    request_body = ReverseRequest,
    responses(
        (status = 201, description = "The reversal transaction", body = TransactionView),
        (status = 403, description = "Only the committee reverses"),
        (status = 404, description = "No such transaction in the caller's scope"),
        (status = 409, description = "Already reversed, a reversal itself, or the key was used for another request"),
        (status = 422, description = "Missing reason or Idempotency-Key"),
    )
)]
#[post("/ledger/{transaction_id}/reverse")]
async fn reverse_transaction(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: IdempotentJson<ReverseRequest>,
) -> Result<HttpResponse, AppError> {
    let key = body.key(caller.principal.idempotency_scope())?;
    let id = id.into_inner();
    let now = state.clock.now();
    let outcome = state
        .db
        .run(move |conn| super::reverse(conn, &key, &caller, id, &body.body.reason, now))
        .await?;
    Ok(outcome_response(outcome))
}

/// The village's chain head, public: anyone may note it and later check that history
/// was not rewritten.
#[utoipa::path(
    tag = "ledger",
    params(("village_code" = String, Path, description = "Village code, e.g. `qingle`")),
    responses(
        (status = 200, description = "Sequence number and hash of the latest transaction", body = HeadView),
        (status = 404, description = "No such village"),
    )
)]
#[get("/villages/{village_code}/ledger/head")]
async fn get_chain_head(state: web::Data<AppState>, code: web::Path<String>) -> Json<HeadView> {
    let code = code.into_inner();
    json(&state.db, move |conn| super::head_by_code(conn, &code)).await
}

/// Who did what, when, from where; newest first.
#[utoipa::path(
    tag = "ledger",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), PageQuery),
    responses(
        (status = 200, description = "A page of audit events", body = Page<AuditView>),
        (status = 403, description = "Only the committee and supervisors read the audit trail"),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/audit")]
async fn list_audit(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<AuditView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        super::audit_events(conn, &p, id, &q.0)
    })
    .await
}
