//! Ledger endpoints (API.md "Ledger").

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::service;
use super::verify::HeadView;
use super::views::{EntryView, ReverseRequest, TransactionView};
use crate::audit::AuditView;
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::{IdempotentJson, Json, ValidQuery, outcome_response};
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_household_ledger)
        .service(get_village_ledger)
        .service(reverse_transaction)
        .service(get_chain_head)
        .service(list_audit);
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
    let page = state
        .db
        .run(move |conn| service::household_ledger(conn, &p, id, &q.0))
        .await?;
    Ok(web::Json(page))
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
    let page = state
        .db
        .run(move |conn| service::village_ledger(conn, &p, id, &q.0))
        .await?;
    Ok(web::Json(page))
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
        .run(move |conn| service::reverse(conn, &key, &caller, id, &body.body.reason, now))
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
    let head = state
        .db
        .run(move |conn| service::head_by_code(conn, &code))
        .await?;
    Ok(web::Json(head))
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
    let page = state
        .db
        .run(move |conn| service::audit_events(conn, &p, id, &q.0))
        .await?;
    Ok(web::Json(page))
}
