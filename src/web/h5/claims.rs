//! 我的申报 (`/h5/claims`): every claim of the household and where it stands, in words —
//! waiting, on notice until when, objected to, overturned, rejected and why, posted.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::{DateTime, Datelike, Utc};

use crate::claims::model::{ClaimFilter, ClaimStatus, ClaimView};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::page::{Chrome, failure, notice_left, show, villager};

pub struct ClaimLine {
    item: String,
    quantity: i32,
    total: String,
    occurred: String,
    status: &'static str,
    /// What the status means for the household, e.g. why it was rejected.
    detail: String,
    /// Rejected or overturned: nothing will be posted.
    refused: bool,
}

#[derive(Template)]
#[template(path = "h5/claims.html", config = "src/web/askama.toml")]
struct ClaimsPage {
    chrome: Chrome,
    claims: Vec<ClaimLine>,
}

/// The note of the claim's latest event into `status` (a reason, a decision).
fn note_of(c: &ClaimView, status: ClaimStatus) -> Option<&str> {
    c.events
        .iter()
        .rev()
        .find(|e| e.status == status && !e.note.trim().is_empty())
        .map(|e| e.note.trim())
}

fn detail(c: &ClaimView, now: DateTime<Utc>) -> String {
    let with = |words: &str, status| match note_of(c, status) {
        Some(note) => format!("{words}：{note}"),
        None => words.to_owned(),
    };
    match c.status {
        ClaimStatus::Submitted => "村委会审核通过后公示".to_owned(),
        ClaimStatus::InNotice => c
            .notice_ends_at
            .map(|end| notice_left(end, now))
            .unwrap_or_default(),
        ClaimStatus::Objected => "有村民提出异议，监督委员会正在核实".to_owned(),
        ClaimStatus::Overturned => with("异议成立，这次不加分", ClaimStatus::Overturned),
        ClaimStatus::Rejected => with("没有通过", ClaimStatus::Rejected),
        ClaimStatus::Posted => "已记入我家积分".to_owned(),
        ClaimStatus::Reversed => "入账后被冲正，积分已退回".to_owned(),
    }
}

fn lines(
    conn: &mut DbConnection,
    p: &crate::auth::Principal,
    village_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<ClaimLine>> {
    let filter = ClaimFilter {
        status: None,
        limit: Some(100),
        cursor: None,
    };
    let claims = crate::claims::service::list(conn, p, village_id, &filter)?.items;
    claims
        .into_iter()
        .map(|c| {
            let (_, item) = crate::checklist::service::item_in_village(conn, c.item_id)?;
            Ok(ClaimLine {
                item: item.title,
                quantity: c.quantity,
                total: c.total.to_string(),
                occurred: format!("{}月{}日", c.occurred_on.month(), c.occurred_on.day()),
                status: c.status.words(),
                detail: detail(&c, now),
                refused: matches!(c.status, ClaimStatus::Rejected | ClaimStatus::Overturned),
            })
        })
        .collect()
}

#[get("/h5/claims")]
async fn my_claims(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let now = state.clock.now();
    let found = state
        .db
        .run(move |conn| {
            let household_id = p.household_id().unwrap_or_default();
            let (village_id, _, _) = crate::org::service::household_brief(conn, household_id)?;
            lines(conn, &p, village_id, now)
        })
        .await;
    match found {
        Ok(claims) => show(&req, &state, StatusCode::OK, |chrome| ClaimsPage {
            chrome,
            claims,
        }),
        Err(err) => failure(&req, &state, &err),
    }
}
