//! The village's notice board (公示栏), public; villagers of the village may object.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::auth::PrincipalKind;
use crate::auth::http::cookies;
use crate::claims::service::NotToObject;
use crate::error::AppError;
use crate::http::client_addr;
use crate::state::AppState;
use crate::web::page::{
    self, Chrome, error_page, failure, notice_left, redirect, show, signed, villager,
};

struct BoardLine {
    id: i64,
    door_no: String,
    household: String,
    item: String,
    points: String,
    gain: bool,
    ends: String,
    objected: bool,
    /// The viewer's own household's claim: no objection to one's own.
    own: bool,
    /// The viewer's household has objected to it already.
    objected_by_us: bool,
}

#[derive(Template)]
#[template(path = "h5/board.html", config = "src/web/askama.toml")]
struct BoardPage<'a> {
    chrome: Chrome,
    code: &'a str,
    village: String,
    notice: Option<&'a str>,
    can_object: bool,
    in_notice: Vec<BoardLine>,
    recent: Vec<BoardLine>,
    seq: i64,
    hash: String,
    honour_board: bool,
}

fn board_line(
    c: crate::claims::model::BoardClaim,
    stance: &NotToObject,
    now: DateTime<Utc>,
) -> BoardLine {
    BoardLine {
        own: stance.own.contains(&c.claim_id),
        objected_by_us: stance.objected.contains(&c.claim_id),
        id: c.claim_id,
        door_no: c.door_no,
        household: who(&c.household, c.member.as_deref()),
        item: c.item,
        gain: !c.points.is_negative(),
        points: signed(c.points),
        ends: c
            .notice_ends_at
            .map(|t| notice_left(t, now))
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
    let now = state.clock.now();
    let found = state
        .db
        .run(move |conn| {
            let board = crate::claims::service::notice_board(conn, &lookup)?;
            let village =
                crate::org::service::village_summary_by_code(conn, &lookup)?.map(|(id, _)| id);
            let public_rankings = match village {
                Some(id) => crate::org::service::village_policy(conn, id)?.public_rankings,
                None => false,
            };
            Ok((board, village, public_rankings))
        })
        .await;
    let (board, village_id, honour_board) = match found {
        Ok(found) => found,
        Err(AppError::NotFound) => {
            return error_page(&req, &state, StatusCode::NOT_FOUND, "没有这个村。");
        }
        Err(err) => return failure(&req, &state, &err),
    };
    let viewer = cookies::principal(&req, &state.auth)
        .await
        .ok()
        .flatten()
        .filter(|p| {
            p.kind == PrincipalKind::Villager
                && village_id.is_some_and(|v| p.village_ids().contains(&v))
        });
    let can_object = viewer.is_some();
    let stance = match viewer {
        Some(p) => {
            let found = state
                .db
                .run(move |conn| crate::claims::service::not_to_object(conn, &p))
                .await;
            match found {
                Ok(stance) => stance,
                Err(err) => return failure(&req, &state, &err),
            }
        }
        None => NotToObject::default(),
    };
    let notice = match query.done.as_deref() {
        Some("objected") => Some("异议已提交，村务监督委员会会处理。"),
        Some("refused") => Some("没能提交异议：这条公示可能已经结束了。"),
        _ => None,
    };
    show(&req, &state, StatusCode::OK, |chrome| BoardPage {
        chrome,
        code: &code,
        village: board.village_name.clone(),
        notice,
        can_object,
        seq: board.head.seq,
        hash: board.head.hash.clone(),
        in_notice: board
            .in_notice
            .into_iter()
            .map(|c| board_line(c, &stance, now))
            .collect(),
        recent: board
            .recent_postings
            .into_iter()
            .map(|c| board_line(c, &stance, now))
            .collect(),
        honour_board,
    })
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ObjectionForm {
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
    let form: ObjectionForm = match page::form(&req, &state, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let back = format!("/h5/board/{}", code.into_inner());
    let reason = form.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 200 {
        return error_page(
            &req,
            &state,
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
        Err(err) => failure(&req, &state, &err),
    }
}

/// "张*明家（李*芳）" when a member other than the head did it, else "张*明家".
fn who(household: &str, member: Option<&str>) -> String {
    match member {
        Some(member) => format!("{household}家（{member}）"),
        None => format!("{household}家"),
    }
}
