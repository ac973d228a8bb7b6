//! Household statements over HTTP (API.md "Household statements").

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{
    IssuedStatement, StatementDocument, StatementKeys, StatementRequest, Verification,
    VerifyRequest,
};
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::{Json, ValidJson, json};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(issue_statement)
        .service(verify_statement)
        .service(get_statement);
}

/// Outside `/api/v1`: where anyone finds the keys statements are signed with.
pub fn well_known(cfg: &mut ServiceConfig) {
    cfg.service(statement_keys);
}

/// Issues a household's statement (积分证明) for a bank: what it holds now, its honours and
/// deductions in the period, its place by honour and the village's chain head, signed
/// with the server's Ed25519 key; valid for 90 days.
#[utoipa::path(
    tag = "statements",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    request_body = StatementRequest,
    responses(
        (status = 201, description = "The statement, its document exactly as signed", body = IssuedStatement),
        (status = 403, description = "Only the committee, and the household itself, ask for one"),
        (status = 404, description = "No such (active) household in the caller's scope"),
        (status = 422, description = "A missing purpose or a bad period, named"),
    )
)]
#[post("/households/{household_id}/statements")]
async fn issue_statement(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<StatementRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, now, base) = (
        id.into_inner(),
        state.clock.now(),
        state.settings.browse_url(),
    );
    let key = state.signing_key.clone();
    let issued = state
        .db
        .run(move |conn| super::service::issue(conn, &c, id, &body.0, &key, &base, now))
        .await?;
    Ok(HttpResponse::Created().json(issued))
}

/// A statement as issued; asked with `Accept: text/html`, the A4 page to print, with the
/// QR of its check address, the public key and the signature.
#[utoipa::path(
    tag = "statements",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Statement id")),
    responses(
        (status = 200, description = "The statement", content(
            (IssuedStatement = "application/json"),
            (String = "text/html"),
        )),
        (status = 404, description = "No such statement of a household in the caller's scope"),
    )
)]
#[get("/statements/{id}")]
async fn get_statement(
    req: HttpRequest,
    state: web::Data<AppState>,
    // Before the caller: `GET /statements/verify` is a wrong method, not a wrong token.
    id: web::Path<i64>,
    p: Principal,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let staff = p.is_staff();
    let statement = state
        .db
        .run(move |conn| super::service::get(conn, &p, id))
        .await?;
    if !wants_html(&req) {
        return Ok(HttpResponse::Ok().json(statement));
    }
    let doc: StatementDocument =
        serde_json::from_value(statement.document.clone()).map_err(AppError::internal)?;
    let public_key = super::signing::public_key_text(&state.signing_key.verifying_key());
    let back = if staff {
        format!("/admin/households/{}", doc.household_id)
    } else {
        "/h5/".to_owned()
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(super::print::html(&statement, &doc, &public_key, &back)))
}

/// Whether the client asked for a page (a browser does), not JSON.
fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Checks a statement: whether the signature is a published key's over this very
/// document (any changed byte of a value makes it `false`), whether it has expired, and
/// whether the chain position it names is in this server's books. No sign-in.
#[utoipa::path(
    tag = "statements",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "What the check found", body = Verification),
        (status = 422, description = "No document or signature"),
    )
)]
#[post("/statements/verify")]
async fn verify_statement(
    state: web::Data<AppState>,
    body: ValidJson<VerifyRequest>,
) -> Json<Verification> {
    let now = state.clock.now();
    let keys = vec![state.signing_key.verifying_key()];
    json(&state.db, move |conn| {
        super::service::check(conn, &keys, &body.0, now)
    })
    .await
}

/// The public keys statements are signed with (Ed25519, base64). No sign-in.
#[utoipa::path(
    tag = "statements",
    responses((status = 200, description = "The keys", body = StatementKeys))
)]
#[get("/.well-known/jifen-statement-keys")]
async fn statement_keys(state: web::Data<AppState>) -> web::Json<StatementKeys> {
    web::Json(super::service::keys(&state.signing_key))
}
