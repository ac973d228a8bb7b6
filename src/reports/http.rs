//! A household's statement, rankings and the honour board (API.md "Ledger" and "Honour,
//! rankings and expiry").

use actix_web::{get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{BoardQuery, RankingQuery};
use super::views::{BalanceView, GroupRankingView, HonourBoard, RankingView};
use crate::auth::Principal;
use crate::clock::shanghai_today;
use crate::http::{Json, ValidQuery, json};
use crate::ledger::views::EntryView;
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_balance)
        .service(get_household_ledger)
        .service(get_rankings)
        .service(get_group_rankings)
        .service(get_honour_board);
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
