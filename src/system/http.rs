//! `/healthz`, `/readyz`, `/metrics`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::metrics::{Metrics, PoolUse};
use crate::db::NotReady;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "system", responses((status = 200, description = "Alive", body = Status)))]
#[get("/healthz")]
async fn healthz() -> web::Json<Status> {
    web::Json(Status { status: "ok" })
}

/// The database answers within seconds, every migration is applied, and it takes a
/// write (not so with a full disk or a read-only file).
#[utoipa::path(
    tag = "system",
    responses(
        (status = 200, description = "Ready to serve", body = Status),
        (status = 503, description = "Database unreachable, unwritable or migrations pending"),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Status>, AppError> {
    match state.db.readiness().await {
        Ok(()) => Ok(web::Json(Status { status: "ready" })),
        Err(NotReady::Unreachable) => Err(AppError::Unavailable("数据库没有响应。")),
        Err(NotReady::Behind) => Err(AppError::Unavailable("数据库结构尚未升级。")),
        Err(NotReady::Unwritable) => Err(AppError::Unavailable("数据库不能写入（磁盘满或只读）。")),
    }
}

/// Prometheus metrics.
#[utoipa::path(
    tag = "system",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    let now = state.clock.now();
    let figures = state
        .db
        .run(move |conn| crate::reports::service::business_figures(conn, now))
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "business figures not read for /metrics"))
        .ok();
    let pool = state.db.pool();
    let pool_state = pool.state();
    let text = metrics.render(
        &PoolUse {
            connections: pool_state.connections,
            idle: pool_state.idle_connections,
            max: pool.max_size(),
        },
        figures.as_ref(),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
