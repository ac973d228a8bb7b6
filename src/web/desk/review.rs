//! The review queue (approve or reject, with the evidence photos) and the objections the
//! supervisors decide.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::{DateTime, Utc};

use super::{Nav, render, when};
use crate::auth::Principal;
use crate::claims::model::{ClaimFilter, ClaimStatus, ClaimView};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::page::{Chrome, notice_left};

pub struct ClaimLine {
    id: i64,
    household: String,
    item: String,
    quantity: i32,
    total: String,
    occurred_on: String,
    note: String,
    status: &'static str,
    notice_ends: String,
    evidence: Vec<i64>,
    /// The item asks for a photo and the claim has none: the reviewer should see it.
    missing_photo: bool,
    /// Why the claim last moved (a rejection's reason).
    reason: String,
    /// The claim's steps in words, oldest first: "11-27 09:30 待审核（村民申报）".
    history: Vec<String>,
}

fn claims_with(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    status: ClaimStatus,
) -> AppResult<Vec<ClaimView>> {
    let filter = ClaimFilter {
        status: Some(status),
        limit: Some(500),
        cursor: None,
    };
    Ok(crate::claims::service::list(conn, p, village_id, &filter)?.items)
}

fn line(
    conn: &mut DbConnection,
    p: &Principal,
    c: ClaimView,
    now: DateTime<Utc>,
) -> AppResult<ClaimLine> {
    let (door_no, head_name) = crate::org::service::household_label(conn, p, c.household_id)?;
    let (_, item) = crate::checklist::service::item_in_village(conn, c.item_id)?;
    let evidence: Vec<i64> =
        crate::claims::service::list_evidence(conn, p, c.id, &crate::paging::PageQuery::largest())?
            .items
            .into_iter()
            .map(|e| e.id)
            .collect();
    let reason = c
        .events
        .last()
        .map(|e| e.note.trim().to_owned())
        .unwrap_or_default();
    let history = c.events.iter().map(step_words).collect();
    Ok(ClaimLine {
        id: c.id,
        household: format!("{door_no} {head_name}"),
        item: item.title,
        quantity: c.quantity,
        total: crate::web::page::signed(c.total),
        occurred_on: c.occurred_on.to_string(),
        note: c.note,
        status: c.status.words(),
        notice_ends: c
            .notice_ends_at
            .map(|t| notice_left(t, now))
            .unwrap_or_default(),
        missing_photo: item.evidence_required && evidence.is_empty(),
        evidence,
        reason,
        history,
    })
}

fn step_words(e: &crate::claims::model::ClaimEventView) -> String {
    let who = match e.actor_kind.as_str() {
        "villager" => "村民",
        "staff" => "工作人员",
        _ => "系统",
    };
    let note = e.note.trim();
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("：{note}")
    };
    format!("{} {}（{who}）{note}", when(e.at), e.status.words())
}

/// Waiting for review, objected, and on notice: the overview's three numbers.
pub fn counts(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<(usize, usize, usize)> {
    Ok((
        claims_with(conn, p, village_id, ClaimStatus::Submitted)?.len(),
        claims_with(conn, p, village_id, ClaimStatus::Objected)?.len(),
        claims_with(conn, p, village_id, ClaimStatus::InNotice)?.len(),
    ))
}

#[derive(Template)]
#[template(path = "desk/claims.html", config = "src/web/askama.toml")]
struct ClaimsPage {
    chrome: Chrome,
    nav: Nav,
    submitted: Vec<ClaimLine>,
    on_notice: Vec<ClaimLine>,
    rejected: Vec<ClaimLine>,
}

#[get("/admin/claims")]
async fn claims(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let now = state.clock.now();
    render(
        &req,
        &state,
        "claims",
        move |conn, p, village_id| {
            let mut lines = |status| -> AppResult<Vec<ClaimLine>> {
                claims_with(conn, p, village_id, status)?
                    .into_iter()
                    .map(|c| line(conn, p, c, now))
                    .collect()
            };
            let submitted = lines(ClaimStatus::Submitted)?;
            let mut on_notice = lines(ClaimStatus::Objected)?;
            on_notice.extend(lines(ClaimStatus::InNotice)?);
            let rejected = lines(ClaimStatus::Rejected)?;
            Ok((submitted, on_notice, rejected))
        },
        |chrome, nav, (submitted, on_notice, rejected)| ClaimsPage {
            chrome,
            nav,
            submitted,
            on_notice,
            rejected,
        },
    )
    .await
}

pub struct ObjectionLine {
    id: i64,
    reason: String,
    at: String,
    /// The objecting villager, masked.
    by: String,
    claim: ClaimLine,
}

#[derive(Template)]
#[template(path = "desk/objections.html", config = "src/web/askama.toml")]
struct ObjectionsPage {
    chrome: Chrome,
    nav: Nav,
    open: Vec<ObjectionLine>,
}

#[get("/admin/objections")]
async fn objections(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let now = state.clock.now();
    render(
        &req,
        &state,
        "objections",
        move |conn, p, village_id| {
            crate::claims::service::open_objections(conn, p, village_id)?
                .into_iter()
                .map(|o| {
                    let claim = crate::claims::service::get(conn, p, o.claim_id)?;
                    Ok(ObjectionLine {
                        by: crate::claims::service::objector(conn, p, o.id)?,
                        id: o.id,
                        reason: o.reason,
                        at: when(o.created_at),
                        claim: line(conn, p, claim, now)?,
                    })
                })
                .collect::<AppResult<Vec<_>>>()
        },
        |chrome, nav, open| ObjectionsPage { chrome, nav, open },
    )
    .await
}
