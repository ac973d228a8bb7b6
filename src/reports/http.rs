//! A household's statement, rankings and the honour board (API.md "Ledger" and "Honour,
//! rankings and expiry").

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dashboard::{Dashboard, DashboardQuery};
use super::model::{BoardQuery, RankingQuery};
use super::views::{BalanceView, GroupRankingView, HonourBoard, RankingView};
use crate::auth::Principal;
use crate::claims::model::ClaimFilter;
use crate::clock::shanghai_today;
use crate::error::AppError;
use crate::export::FormatQuery;
use crate::http::{Json, ValidQuery, export, json};
use crate::ledger::views::EntryView;
use crate::org::model::HouseholdFilter;
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_balance)
        .service(get_household_ledger)
        .service(get_rankings)
        .service(get_group_rankings)
        .service(get_honour_board)
        .service(get_dashboard)
        .service(export_dashboard)
        .service(export_households)
        .service(export_rankings)
        .service(export_ledger)
        .service(export_claims)
        .service(export_redemptions);
}

/// A household's points, honour, points pending in notice, and stars.
#[utoipa::path(
    tag = "ledger",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    responses(
        (status = 200, description = "The balance", body = BalanceView),
        (status = 404, description = "No such household in the caller's scope"),
    )
)]
#[get("/households/{household_id}/balance")]
async fn get_balance(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<BalanceView> {
    let id = id.into_inner();
    json(&state.db, move |conn| super::balance(conn, &p, id)).await
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

/// The village's households ranked by honour or points, for all time (current balances)
/// or a year, quarter or month (what was earned less what was deducted, in Shanghai
/// dates). Equal amounts share a rank. Names are masked except for committee,
/// supervisors and the township. Villagers see it when `policy.public_rankings`.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), RankingQuery),
    responses(
        (status = 200, description = "A page of the ranking, best first", body = RankingView),
        (status = 404, description = "No such village in the caller's scope, or rankings are not public"),
        (status = 422, description = "A bad query field, named"),
    )
)]
#[get("/villages/{village_id}/rankings")]
async fn get_rankings(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<RankingQuery>,
) -> Json<RankingView> {
    let (id, today) = (id.into_inner(), shanghai_today(state.clock.now()));
    json(&state.db, move |conn| {
        super::service::rankings(conn, &p, id, &q.0, today)
    })
    .await
}

/// The village's groups ranked by what their households earned on average (the total
/// beside it); the same query as the household ranking, without paging.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), RankingQuery),
    responses(
        (status = 200, description = "The groups, best first", body = GroupRankingView),
        (status = 404, description = "No such village in the caller's scope, or rankings are not public"),
        (status = 422, description = "A bad query field, named"),
    )
)]
#[get("/villages/{village_id}/group-rankings")]
async fn get_group_rankings(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<RankingQuery>,
) -> Json<GroupRankingView> {
    let (id, today) = (id.into_inner(), shanghai_today(state.clock.now()));
    json(&state.db, move |conn| {
        super::service::group_rankings(conn, &p, id, &q.0, today)
    })
    .await
}

/// The honour board (光荣榜), public when `policy.public_rankings`: 红榜 (the top ten by
/// honour earned in the period, this month by default), 黑榜 (deductions, only when
/// `policy.public_deductions`) and star households by level; masked names, no phone.
#[utoipa::path(
    tag = "reports",
    params(("village_code" = String, Path, description = "Village code, e.g. `qingle`"), BoardQuery),
    responses(
        (status = 200, description = "The honour board", body = HonourBoard),
        (status = 404, description = "No such village, or its rankings are not public"),
        (status = 422, description = "A bad query field, named"),
    )
)]
#[get("/villages/{village_code}/honour-board")]
async fn get_honour_board(
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: ValidQuery<BoardQuery>,
) -> Json<HonourBoard> {
    let (code, now) = (code.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        super::service::honour_board(conn, &code, &q.0, now)
    })
    .await
}

/// The township's figures per village for a period (this year by default): households
/// taking part, claims, points awarded, deducted, redeemed and cleared, what households
/// hold now and what that is in yuan; claims by category and points per month. A
/// village's committee and supervisors see their own village's row.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(DashboardQuery),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 403, description = "Only the township, committees and supervisors"),
        (status = 404, description = "Villagers: the township's figures are not in sight"),
        (status = 422, description = "A bad date, a period backwards or longer than three years"),
    )
)]
#[get("/township/dashboard")]
async fn get_dashboard(
    state: web::Data<AppState>,
    p: Principal,
    q: ValidQuery<DashboardQuery>,
) -> Json<Dashboard> {
    let now = state.clock.now();
    json(&state.db, move |conn| {
        super::dashboard::dashboard(conn, &p, &q.0, now)
    })
    .await
}

/// The dashboard as XLSX (default) or CSV: a row per village with its chain head, and
/// the totals, under a title with the period and when it was made.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(DashboardQuery, FormatQuery),
    responses(
        (status = 200, description = "The file, named in Chinese (`filename*`)", content(
            (crate::http::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::http::FileBytes = "text/csv"),
        )),
        (status = 403, description = "Only the township, committees and supervisors"),
        (status = 404, description = "Villagers: the township's figures are not in sight"),
        (status = 422, description = "A bad date or format"),
    )
)]
#[get("/township/dashboard/export")]
async fn export_dashboard(
    state: web::Data<AppState>,
    p: Principal,
    q: ValidQuery<DashboardQuery>,
    f: ValidQuery<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let (now, format) = (state.clock.now(), f.0.format.unwrap_or_default());
    export(&state.db, format, move |conn| {
        super::dashboard::export(conn, &p, &q.0, now)
    })
    .await
}

/// The register (农户名册) as XLSX (default) or CSV: every household the list would show
/// under the same search and group, with its points and honour now, the total, the
/// village's chain head and when it was made. `limit` and `cursor` are ignored: a file
/// holds every page.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), HouseholdFilter, FormatQuery),
    responses(
        (status = 200, description = "The file, named in Chinese (`filename*`)", content(
            (crate::http::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::http::FileBytes = "text/csv"),
        )),
        (status = 403, description = "Only those who may list the village's households"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 422, description = "A bad query field, named"),
    )
)]
#[get("/villages/{village_id}/households/export")]
async fn export_households(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<HouseholdFilter>,
    f: ValidQuery<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    export(&state.db, f.0.format.unwrap_or_default(), move |conn| {
        super::exports::households(conn, &p, id, &q.0, now)
    })
    .await
}

/// A ranking as XLSX (default) or CSV: every place under the same asset, period and
/// group (names as the caller may see them), with the village's chain head.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), RankingQuery, FormatQuery),
    responses(
        (status = 200, description = "The file, named in Chinese (`filename*`)", content(
            (crate::http::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::http::FileBytes = "text/csv"),
        )),
        (status = 404, description = "No such village in the caller's scope, or rankings are not public"),
        (status = 422, description = "A bad query field, named"),
    )
)]
#[get("/villages/{village_id}/rankings/export")]
async fn export_rankings(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<RankingQuery>,
    f: ValidQuery<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    export(&state.db, f.0.format.unwrap_or_default(), move |conn| {
        super::exports::rankings(conn, &p, id, &q.0, now)
    })
    .await
}

/// The village ledger (账本流水) as XLSX (default) or CSV, oldest first: each
/// transaction's sequence number, time, kind, household, points and honour it moved, memo,
/// the transaction it reverses and its hash, under the village's chain head.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), FormatQuery),
    responses(
        (status = 200, description = "The file, named in Chinese (`filename*`)", content(
            (crate::http::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::http::FileBytes = "text/csv"),
        )),
        (status = 403, description = "Only the committee and supervisors read the village ledger"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 422, description = "A bad format"),
    )
)]
#[get("/villages/{village_id}/ledger/export")]
async fn export_ledger(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    f: ValidQuery<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    export(&state.db, f.0.format.unwrap_or_default(), move |conn| {
        super::exports::ledger(conn, &p, id, now)
    })
    .await
}

/// The village's claims (申报记录) as XLSX (default) or CSV, under the same `status` as the
/// list: household, item, points, status, dates and note of each.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), ClaimFilter, FormatQuery),
    responses(
        (status = 200, description = "The file, named in Chinese (`filename*`)", content(
            (crate::http::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::http::FileBytes = "text/csv"),
        )),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 422, description = "A bad query field, named"),
    )
)]
#[get("/villages/{village_id}/claims/export")]
async fn export_claims(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<ClaimFilter>,
    f: ValidQuery<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    export(&state.db, f.0.format.unwrap_or_default(), move |conn| {
        super::exports::claims(conn, &p, id, &q.0, now)
    })
    .await
}

/// A shop's receipts (兑换记录) as XLSX (default) or CSV: receipt number, time, household,
/// goods, points, whether voided, and the total that stands.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("shop_id" = i64, Path, description = "Shop id"), FormatQuery),
    responses(
        (status = 200, description = "The file, named in Chinese (`filename*`)", content(
            (crate::http::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (crate::http::FileBytes = "text/csv"),
        )),
        (status = 404, description = "No such shop in the caller's scope"),
        (status = 422, description = "A bad format"),
    )
)]
#[get("/shops/{shop_id}/redemptions/export")]
async fn export_redemptions(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    f: ValidQuery<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    export(&state.db, f.0.format.unwrap_or_default(), move |conn| {
        super::exports::redemptions(conn, &p, id, now)
    })
    .await
}
