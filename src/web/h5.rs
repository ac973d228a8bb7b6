//! The villager's pages (`/h5/`): sign-in with an invite code, and the household's home.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, get, post, web};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use super::assets::CSS_PATH;
use super::{session, store};
use crate::auth::service::{load_principal, redeem_invite};
use crate::auth::token::Subject;
use crate::auth::{Principal, PrincipalKind};
use crate::clock::shanghai;
use crate::db::write_tx;
use crate::error::AppError;
use crate::http::client_addr;
use crate::paging::PageQuery;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "h5/login.html", config = "src/web/askama.toml")]
struct LoginPage<'a> {
    css: &'a str,
    csrf: &'a str,
    code: &'a str,
    error: Option<String>,
}

struct EntryLine {
    memo: String,
    when: String,
    points: String,
    gain: bool,
}

#[derive(Template)]
#[template(path = "h5/home.html", config = "src/web/askama.toml")]
struct HomePage<'a> {
    css: &'a str,
    csrf: &'a str,
    village: String,
    door_no: String,
    name: String,
    points: String,
    honour: String,
    pending: String,
    stars: usize,
    star_text: String,
    entries: Vec<EntryLine>,
}

#[derive(Template)]
#[template(path = "error.html", config = "src/web/askama.toml")]
struct ErrorPage<'a> {
    css: &'a str,
    message: &'a str,
}

/// A personal page: never cached.
fn page(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-store"));
    builder
}

fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "template failed");
        "<!doctype html><meta charset=utf-8><p>页面出错了，请稍后再试。</p>".to_owned()
    })
}

fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    page(status).body(render(&ErrorPage {
        css: &CSS_PATH,
        message,
    }))
}

fn redirect(to: &str) -> HttpResponseBuilder {
    let mut builder = HttpResponse::SeeOther();
    builder
        .insert_header((LOCATION, to.to_owned()))
        .insert_header((CACHE_CONTROL, "no-store"));
    builder
}

fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    code: &str,
    error: Option<String>,
) -> HttpResponse {
    let (csrf, cookie) = session::csrf(req, state);
    let mut response = page(status);
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    response.body(render(&LoginPage {
        css: &CSS_PATH,
        csrf: &csrf,
        code,
        error,
    }))
}

#[get("/h5/login")]
async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    login_form(&req, &state, StatusCode::OK, "", None)
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    csrf: String,
    invite_code: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CsrfForm {
    csrf: String,
}

#[post("/h5/login")]
async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let form: LoginForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !session::csrf_ok(&req, &form.csrf) {
        return error_page(StatusCode::FORBIDDEN, "页面已过期，请返回重新打开登录页。");
    }
    let (token, cookie) = session::new_session(&state);
    let addr = client_addr(&req);
    let (code, state2) = (form.invite_code.clone(), state.clone());
    let result = state
        .db
        .run(move |conn| {
            write_tx(conn, |conn| {
                let member_id = redeem_invite(conn, &state2, &code, &addr)?;
                let now = state2.clock.now();
                let expires = now + Duration::days(session::SESSION_DAYS);
                store::create(
                    conn,
                    &session::hash_token(&token),
                    member_id,
                    now.naive_utc(),
                    expires.naive_utc(),
                )?;
                Ok(())
            })
        })
        .await;
    match result {
        Ok(()) => redirect("/h5/").cookie(cookie).finish(),
        Err(err) => {
            let message = match &err {
                AppError::Validation(errors) => errors
                    .first()
                    .map_or_else(|| "邀请码不对。".to_owned(), |e| e.message.clone()),
                other => other.problem().detail,
            };
            let status =
                StatusCode::from_u16(err.problem().status).unwrap_or(StatusCode::UNAUTHORIZED);
            login_form(&req, &state, status, &form.invite_code, Some(message))
        }
    }
}

/// The signed-in villager, or where to send them.
async fn villager(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    let Some(hash) = session::session_hash(req) else {
        return Err(redirect("/h5/login").finish());
    };
    let now = state.clock.now().naive_utc();
    let loaded = state
        .db
        .run(move |conn| {
            let Some(member_id) = store::member(conn, &hash, now)? else {
                return Ok(None);
            };
            load_principal(
                conn,
                Subject {
                    kind: PrincipalKind::Villager,
                    id: member_id,
                },
            )
            .map(Some)
        })
        .await;
    match loaded {
        Ok(Some(principal)) => Ok(principal),
        Ok(None) | Err(AppError::Unauthenticated(_)) => Err(redirect("/h5/login")
            .cookie(session::expired_session())
            .finish()),
        Err(_) => Err(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "服务器忙，请稍后再试。",
        )),
    }
}

fn signed(amount: crate::amount::Amount) -> String {
    if amount.is_negative() {
        amount.to_string()
    } else {
        format!("+{amount}")
    }
}

#[get("/h5/")]
async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let Some(household_id) = p.household_id() else {
        return redirect("/h5/login").finish();
    };
    let village_id = p.village_ids().first().copied().unwrap_or_default();
    let data = state
        .db
        .run(move |conn| {
            let pending = crate::claims::service::pending(conn, household_id)?;
            let balance = crate::ledger::service::balance(conn, &p, household_id, pending)?;
            let recent = PageQuery {
                limit: Some(5),
                cursor: None,
            };
            let entries =
                crate::ledger::service::household_ledger(conn, &p, household_id, &recent)?;
            let (_, door_no, head_name) = crate::org::service::household_brief(conn, household_id)?;
            let village = crate::org::service::get_village(conn, &p, village_id)?;
            Ok((balance, entries, door_no, head_name, village.name))
        })
        .await;
    let (balance, entries, door_no, head_name, village) = match data {
        Ok(data) => data,
        Err(err) => {
            tracing::error!(error = %err, "home page data");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "暂时查不到积分，请稍后再试。",
            );
        }
    };
    let (csrf, cookie) = session::csrf(&req, &state);
    let body = render(&HomePage {
        css: &CSS_PATH,
        csrf: &csrf,
        village,
        door_no,
        name: head_name,
        points: balance.points.to_string(),
        honour: balance.honour.to_string(),
        pending: balance.pending.to_string(),
        stars: balance.stars,
        star_text: "★".repeat(balance.stars),
        entries: entries
            .items
            .into_iter()
            .map(|e| EntryLine {
                memo: e.memo,
                when: e
                    .created_at
                    .with_timezone(&shanghai())
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                gain: !e.points.is_negative(),
                points: signed(e.points),
            })
            .collect(),
    });
    let mut response = page(StatusCode::OK);
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    response.body(body)
}

#[post("/h5/logout")]
async fn logout(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let form: CsrfForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !session::csrf_ok(&req, &form.csrf) {
        return error_page(StatusCode::FORBIDDEN, "页面已过期，请返回重新打开。");
    }
    if let Some(hash) = session::session_hash(&req) {
        let now = state.clock.now().naive_utc();
        if let Err(err) = state
            .db
            .run(move |conn| Ok(store::revoke(conn, &hash, now)?))
            .await
        {
            tracing::error!(error = %err, "sign-out failed");
        }
    }
    redirect("/h5/login")
        .cookie(session::expired_session())
        .finish()
}

#[derive(Template)]
#[template(path = "h5/code.html", config = "src/web/askama.toml")]
struct CodePage<'a> {
    css: &'a str,
    id: i64,
    expires_ms: i64,
    qr_svg: String,
    grouped: String,
}

/// `912345678901234563` → `9123 4567 8901 2345 63`: easier to read aloud.
fn group_digits(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh payment code each time the page opens (the previous one stops working).
#[get("/h5/code")]
async fn code_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let Some(household_id) = p.household_id() else {
        return redirect("/h5/login").finish();
    };
    let caller = crate::auth::Caller {
        principal: p,
        addr: client_addr(&req),
    };
    let (pepper, now) = (state.pepper.clone(), state.clock.now());
    let issued = state
        .db
        .run(move |conn| {
            crate::shop::service::issue_code(conn, &caller, &pepper, household_id, now)
        })
        .await;
    match issued {
        Ok(code) => page(StatusCode::OK).body(render(&CodePage {
            css: &CSS_PATH,
            id: code.id,
            expires_ms: code.expires_at.timestamp_millis(),
            grouped: group_digits(&code.code),
            qr_svg: code.qr_svg,
        })),
        Err(err) => {
            tracing::error!(error = %err, "payment code page");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "暂时出不了付款码，请稍后再试。",
            )
        }
    }
}

#[derive(serde::Serialize)]
struct CodeState {
    status: &'static str,
    /// What was redeemed, in words, once the shop has scanned the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

/// For the code page to learn of the redemption.
#[get("/h5/code/{id}/status")]
async fn code_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(_) => {
            return HttpResponse::Unauthorized()
                .insert_header((CACHE_CONTROL, "no-store"))
                .finish();
        }
    };
    let (id, now) = (id.into_inner(), state.clock.now());
    match state
        .db
        .run(move |conn| crate::shop::service::code_status(conn, &p, id, now))
        .await
    {
        Ok(found) => {
            let text = found.redemption.map(|r| {
                let goods = r
                    .lines
                    .iter()
                    .map(|l| format!("{} {} {}", l.name, l.quantity, l.unit))
                    .collect::<Vec<_>>()
                    .join("、");
                format!(
                    "已在 {} 兑换 {}，扣 {} 分",
                    r.shop_name, goods, r.total_points
                )
            });
            HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "no-store"))
                .json(CodeState {
                    status: found.status,
                    text,
                })
        }
        Err(_) => HttpResponse::NotFound()
            .insert_header((CACHE_CONTROL, "no-store"))
            .finish(),
    }
}

struct BoardLine {
    id: i64,
    door_no: String,
    household: String,
    item: String,
    points: String,
    gain: bool,
    ends: String,
    objected: bool,
}

#[derive(Template)]
#[template(path = "h5/board.html", config = "src/web/askama.toml")]
struct BoardPage<'a> {
    css: &'a str,
    csrf: &'a str,
    code: &'a str,
    village: String,
    notice: Option<&'a str>,
    can_object: bool,
    in_notice: Vec<BoardLine>,
    recent: Vec<BoardLine>,
    seq: i64,
    hash: String,
}

fn board_line(c: crate::claims::model::BoardClaim) -> BoardLine {
    BoardLine {
        id: c.claim_id,
        door_no: c.door_no,
        household: c.household,
        item: c.item,
        gain: !c.points.is_negative(),
        points: signed(c.points),
        // Notice ends at midnight: the last day on notice is the day before.
        ends: c
            .notice_ends_at
            .map(|t| {
                (t - Duration::seconds(1))
                    .with_timezone(&shanghai())
                    .format("%m月%d日")
                    .to_string()
            })
            .unwrap_or_default(),
        objected: c.status == crate::claims::model::ClaimStatus::Objected,
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct BoardQuery {
    done: Option<String>,
}

/// The village's notice board (公示栏), for anyone; villagers of the village may object.
#[get("/h5/board/{code}")]
async fn board(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> HttpResponse {
    let code = code.into_inner();
    let query: BoardQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let lookup = code.clone();
    let found = state
        .db
        .run(move |conn| {
            let board = crate::claims::service::notice_board(conn, &lookup)?;
            let village =
                crate::org::service::village_summary_by_code(conn, &lookup)?.map(|(id, _)| id);
            Ok((board, village))
        })
        .await;
    let (board, village_id) = match found {
        Ok(found) => found,
        Err(AppError::NotFound) => return error_page(StatusCode::NOT_FOUND, "没有这个村。"),
        Err(_) => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "公示栏暂时打不开，请稍后再试。",
            );
        }
    };
    let viewer = match session::session_hash(&req) {
        Some(_) => villager(&req, &state).await.ok(),
        None => None,
    };
    let can_object =
        viewer.is_some_and(|p| village_id.is_some_and(|v| p.village_ids().contains(&v)));
    let (csrf, cookie) = session::csrf(&req, &state);
    let notice = match query.done.as_deref() {
        Some("objected") => Some("异议已提交，村务监督委员会会处理。"),
        Some("refused") => Some("没能提交异议：这条公示可能已经结束了。"),
        _ => None,
    };
    let body = render(&BoardPage {
        css: &CSS_PATH,
        csrf: &csrf,
        code: &code,
        village: board.village_name.clone(),
        notice,
        can_object,
        seq: board.head.seq,
        hash: board.head.hash.clone(),
        in_notice: board.in_notice.into_iter().map(board_line).collect(),
        recent: board.recent_postings.into_iter().map(board_line).collect(),
    });
    let mut response = page(StatusCode::OK);
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    response.body(body)
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ObjectionForm {
    csrf: String,
    claim_id: i64,
    reason: String,
}

/// A villager objects to a claim on the board.
#[post("/h5/board/{code}/objections")]
async fn object(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form: ObjectionForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !session::csrf_ok(&req, &form.csrf) {
        return error_page(StatusCode::FORBIDDEN, "页面已过期，请返回重新打开。");
    }
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let back = format!("/h5/board/{}", code.into_inner());
    let reason = form.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 200 {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "请写明异议的理由（200 字以内）。",
        );
    }
    let caller = crate::auth::Caller {
        principal: p,
        addr: client_addr(&req),
    };
    let now = state.clock.now();
    let result = state
        .db
        .run(move |conn| crate::claims::service::object(conn, &caller, form.claim_id, &reason, now))
        .await;
    match result {
        Ok(_) => redirect(&format!("{back}?done=objected")).finish(),
        Err(AppError::InvalidState(_)) => redirect(&format!("{back}?done=refused")).finish(),
        Err(err) => error_page(
            StatusCode::from_u16(err.problem().status).unwrap_or(StatusCode::BAD_REQUEST),
            &err.problem().detail,
        ),
    }
}
