//! Claim endpoints (API.md "Claims, awards, notice board"), and the balance, which adds
//! the points pending in notice to what the ledger holds.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::*;
use super::service;
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::{
    FileBytes, FileUpload, IdempotentJson, Json, ValidJson, ValidQuery, created, json,
    outcome_response, read_file_part,
};
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(award_households)
        .service(submit_claim)
        .service(list_claims)
        .service(get_claim)
        .service(approve_claim)
        .service(reject_claim)
        .service(object_to_claim)
        .service(decide_objection)
        .service(add_evidence)
        .service(list_evidence)
        .service(download_evidence)
        .service(get_notice_board);
}

/// The committee awards or deducts an item to one or many households: all or none.
/// Each becomes an approved claim that goes on public notice (or posts at once when the
/// village's `notice_days` is 0).
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(
        ("village_id" = i64, Path, description = "Village id"),
        ("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters; a retry with the same key and body replays the answer"),
    ),
    request_body = AwardRequest,
    responses(
        (status = 201, description = "One claim per household, on notice or posted", body = AwardResult),
        (status = 403, description = "Only the committee awards"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 409, description = "The Idempotency-Key was used for another request"),
        (status = 422, description = "A field is invalid (e.g. `household_ids[2]` not of this village) or `cap_exceeded`"),
    )
)]
#[post("/villages/{village_id}/awards")]
async fn award_households(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: IdempotentJson<AwardRequest>,
) -> Result<HttpResponse, AppError> {
    let key = body.key(caller.principal.idempotency_scope())?;
    let id = id.into_inner();
    let now = state.clock.now();
    let outcome = state
        .db
        .run(move |conn| service::award(conn, &key, &caller, id, &body.body, now))
        .await?;
    Ok(outcome_response(outcome))
}

/// 申报: a villager for their own household (when the village allows it), a group leader
/// for a household of the group, or the committee — for items that allow the role.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = ClaimRequest,
    responses(
        (status = 201, description = "The claim, `submitted`", body = ClaimView),
        (status = 403, description = "The caller may not propose this item for this household"),
        (status = 404, description = "No such household in the caller's scope"),
        (status = 409, description = "`invalid_state`: the household is deactivated"),
        (status = 422, description = "A field is invalid, or `cap_exceeded`"),
    )
)]
#[post("/villages/{village_id}/claims")]
async fn submit_claim(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<ClaimRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let claim = state
        .db
        .run(move |conn| service::submit(conn, &c, id, &body.0, now))
        .await?;
    Ok(created(&claim))
}

/// Claims of the village, newest first: all for the committee and supervisors, the
/// group's for a group leader, the household's own for a villager.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), ClaimFilter),
    responses(
        (status = 200, description = "A page of claims", body = Page<ClaimView>),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/claims")]
async fn list_claims(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<ClaimFilter>,
) -> Json<Page<ClaimView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| service::list(conn, &p, id, &q.0)).await
}

/// One claim with its whole history.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("claim_id" = i64, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The claim and its events", body = ClaimView),
        (status = 404, description = "No such claim in the caller's scope"),
    )
)]
#[get("/claims/{claim_id}")]
async fn get_claim(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<ClaimView> {
    let id = id.into_inner();
    let claim = state.db.run(move |conn| service::get(conn, &p, id)).await?;
    Ok(web::Json(claim))
}

/// 审核通过: the claim goes on public notice, or posts at once when the village has none.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("claim_id" = i64, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The claim, `in_notice` or `posted`", body = ClaimView),
        (status = 403, description = "Only another committee member may approve"),
        (status = 404, description = "No such claim in the caller's scope"),
        (status = 409, description = "Already reviewed"),
        (status = 422, description = "Evidence required but missing, or `cap_exceeded`"),
    )
)]
#[post("/claims/{claim_id}/approve")]
async fn approve_claim(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
) -> Json<ClaimView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| service::approve(conn, &c, id, now)).await
}

/// Rejects a submitted claim, with the reason.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("claim_id" = i64, Path, description = "Claim id")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "The claim, `rejected`", body = ClaimView),
        (status = 403, description = "Only the committee reviews"),
        (status = 404, description = "No such claim in the caller's scope"),
        (status = 409, description = "Already reviewed"),
        (status = 422, description = "No reason"),
    )
)]
#[post("/claims/{claim_id}/reject")]
async fn reject_claim(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<ReasonRequest>,
) -> Json<ClaimView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::reject(conn, &c, id, &body.0.reason, now)
    })
    .await
}

/// 异议: a villager of the village objects to a claim on notice; it waits for the
/// supervisors and is not posted meanwhile.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("claim_id" = i64, Path, description = "Claim id")),
    request_body = ReasonRequest,
    responses(
        (status = 201, description = "The objection", body = ObjectionView),
        (status = 403, description = "Only villagers of the village object"),
        (status = 404, description = "No such claim in the caller's village"),
        (status = 409, description = "The claim is not on notice"),
        (status = 422, description = "No reason; or the claim is the objector's own household's, or that household already objected to it (`claim_id`)"),
    )
)]
#[post("/claims/{claim_id}/objections")]
async fn object_to_claim(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<ReasonRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let objection = state
        .db
        .run(move |conn| service::object(conn, &c, id, &body.0.reason, now))
        .await?;
    Ok(created(&objection))
}

/// The supervision committee decides an objection.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("objection_id" = i64, Path, description = "Objection id")),
    request_body = DecideRequest,
    responses(
        (status = 200, description = "The decided objection and the claim's new status", body = ObjectionView),
        (status = 403, description = "Only supervisors decide"),
        (status = 404, description = "No such objection in the caller's village"),
        (status = 409, description = "Already decided"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[post("/objections/{objection_id}/decide")]
async fn decide_objection(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<DecideRequest>,
) -> Json<ObjectionView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::decide(conn, &c, id, &body.0, now)
    })
    .await
}

/// Adds a photo (JPEG, PNG or WebP, at most 5 MB, at most 4 per claim), told by its
/// content, not its name.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("claim_id" = i64, Path, description = "Claim id")),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored photo", body = EvidenceView),
        (status = 404, description = "No such claim in the caller's scope"),
        (status = 409, description = "The claim no longer takes evidence"),
        (status = 413, description = "Larger than 5 MB"),
        (status = 422, description = "Not a photo, or already 4"),
    )
)]
#[post("/claims/{claim_id}/evidence")]
async fn add_evidence(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    form: Multipart,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let file = read_file_part(form).await?;
    let view = state
        .db
        .run(move |conn| service::add_evidence(conn, &c, id, &file, now))
        .await?;
    Ok(created(&view))
}

/// The photos of a claim.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("claim_id" = i64, Path, description = "Claim id"), PageQuery),
    responses(
        (status = 200, description = "The photos' descriptions", body = Page<EvidenceView>),
        (status = 404, description = "No such claim in the caller's scope"),
        (status = 422, description = "`limit` or `cursor` is invalid"),
    )
)]
#[get("/claims/{claim_id}/evidence")]
async fn list_evidence(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<EvidenceView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        service::list_evidence(conn, &p, id, &q.0)
    })
    .await
}

/// One photo, for those who may see the claim.
#[utoipa::path(
    tag = "claims",
    security(("bearer" = [])),
    params(("claim_id" = i64, Path, description = "Claim id"), ("evidence_id" = i64, Path, description = "Photo id")),
    responses(
        (status = 200, description = "The photo as uploaded; its type is sniffed from its bytes", content(
            (FileBytes = "image/jpeg"),
            (FileBytes = "image/png"),
            (FileBytes = "image/webp"),
        )),
        (status = 404, description = "No such photo in the caller's scope"),
    )
)]
#[get("/claims/{claim_id}/evidence/{evidence_id}")]
async fn download_evidence(
    state: web::Data<AppState>,
    p: Principal,
    ids: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (claim_id, evidence_id) = ids.into_inner();
    let (content_type, data) = state
        .db
        .run(move |conn| service::evidence(conn, &p, claim_id, evidence_id))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(data))
}

/// The public notice board (公示栏): claims on notice and recent postings, with masked
/// names and door numbers only, and the ledger's chain head. No sign-in.
#[utoipa::path(
    tag = "claims",
    params(("village_code" = String, Path, description = "Village code, e.g. `qingle`")),
    responses(
        (status = 200, description = "The notice board", body = NoticeBoard),
        (status = 404, description = "No such village"),
    )
)]
#[get("/villages/{village_code}/notice-board")]
async fn get_notice_board(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Json<NoticeBoard> {
    let code = code.into_inner();
    json(&state.db, move |conn| service::notice_board(conn, &code)).await
}
