//! The checklist in force (`/h5/checklist`) and self-reporting a claim with a photo taken
//! on the phone (`/h5/claim`). The claim and its photo are saved together or not at all.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Deserialize;
use validator::Validate;

use crate::auth::http::cookies;
use crate::auth::{Caller, Principal};
use crate::checklist::model::{ChecklistFilter, ItemView, Proposer};
use crate::claims::model::ClaimRequest;
use crate::clock::shanghai_today;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::client_addr;
use crate::state::AppState;
use crate::web::page::{Chrome, failure, redirect, show, villager};

/// Photos from phones are large; the evidence check itself allows 5 MB.
const FORM_LIMIT: usize = 6 * 1024 * 1024;

pub struct ItemLine {
    id: i64,
    category: String,
    title: String,
    description: String,
    points: String,
    gain: bool,
    /// The cap in plain words, with what the household has used: "每月最多 1 次，本月已用 1 次".
    rule: String,
    /// The cap is reached for now: the item cannot be claimed until the period turns.
    used_up: bool,
    evidence_required: bool,
}

/// The items as the household reads them, with what it has used of each cap today.
fn item_lines(
    conn: &mut DbConnection,
    household_id: i64,
    items: Vec<ItemView>,
    today: NaiveDate,
) -> AppResult<Vec<ItemLine>> {
    items
        .into_iter()
        .map(|i| {
            let used = crate::claims::service::cap_used_on(conn, &i, household_id, today)?;
            let mut rule = i.period.cap_words(i.cap_count);
            if let Some((used, _)) = used.filter(|(used, _)| *used > 0) {
                rule.push_str(&format!("，{}已用 {used} 次", i.period.cap_this()));
            }
            Ok(ItemLine {
                id: i.id,
                gain: !i.points.is_negative(),
                points: crate::web::page::signed(i.points),
                used_up: used.is_some_and(|(used, cap)| used >= i64::from(cap)),
                category: i.category,
                title: i.title,
                description: i.description,
                rule,
                evidence_required: i.evidence_required,
            })
        })
        .collect()
}

/// The items in force, as the household reads them; only those it may report itself
/// when `own_reports`.
fn items_in_force(
    conn: &mut DbConnection,
    p: &Principal,
    today: NaiveDate,
    own_reports: bool,
) -> AppResult<Vec<ItemLine>> {
    let village_id = p.village_ids().first().copied().unwrap_or_default();
    let filter = ChecklistFilter {
        include_retired: false,
        limit: Some(500),
        cursor: None,
    };
    let items = crate::checklist::service::list(conn, p, village_id, &filter)?
        .items
        .into_iter()
        .filter(|i| !own_reports || i.proposers.contains(&Proposer::Villager))
        .collect();
    item_lines(conn, p.household_id().unwrap_or_default(), items, today)
}

#[derive(Template)]
#[template(path = "h5/checklist.html", config = "src/web/askama.toml")]
struct ChecklistPage {
    chrome: Chrome,
    items: Vec<ItemLine>,
}

#[get("/h5/checklist")]
async fn checklist(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let today = shanghai_today(state.clock.now());
    match state
        .db
        .run(move |conn| items_in_force(conn, &p, today, false))
        .await
    {
        Ok(items) => show(&req, &state, StatusCode::OK, |chrome| ChecklistPage {
            chrome,
            items,
        }),
        Err(err) => failure(&req, &state, &err),
    }
}

#[derive(Template)]
#[template(path = "h5/claim.html", config = "src/web/askama.toml")]
struct ClaimPage {
    chrome: Chrome,
    items: Vec<ItemLine>,
    /// The household's active members, to say who did it: (id, name, relation).
    members: Vec<(i64, String, String)>,
    today: String,
    typed: Typed,
    error: Option<String>,
    done: bool,
}

/// What the villager chose and typed: shown again with a refusal, so nothing is lost.
#[derive(Default)]
struct Typed {
    chosen: i64,
    /// Who did it; the signed-in member unless another was chosen.
    member: i64,
    occurred_on: String,
    quantity: String,
    note: String,
    /// A photo came with the refused form (a page without scripts must ask for it again).
    photo: bool,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ClaimQuery {
    item: i64,
    done: bool,
}

async fn claim_form(
    req: &HttpRequest,
    state: &AppState,
    p: Principal,
    status: StatusCode,
    typed: Typed,
    error: Option<String>,
    done: bool,
) -> HttpResponse {
    let today = shanghai_today(state.clock.now());
    let typed = Typed {
        member: if typed.member == 0 {
            p.id
        } else {
            typed.member
        },
        ..typed
    };
    match state
        .db
        .run(move |conn| {
            let items = items_in_force(conn, &p, today, true)?;
            let household = p.household_id().unwrap_or_default();
            let members = crate::org::service::list_members(conn, &p, household)?
                .items
                .into_iter()
                .filter(|m| m.active)
                .map(|m| (m.id, m.name, m.relation))
                .collect();
            Ok::<_, AppError>((items, members))
        })
        .await
    {
        Ok((items, members)) => show(req, state, status, |chrome| ClaimPage {
            chrome,
            items,
            members,
            today: today.to_string(),
            typed,
            error,
            done,
        }),
        Err(err) => failure(req, state, &err),
    }
}

#[get("/h5/claim")]
async fn claim_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let query: ClaimQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let typed = Typed {
        chosen: query.item,
        ..Typed::default()
    };
    claim_form(&req, &state, p, StatusCode::OK, typed, None, query.done).await
}

/// The fields of the claim form, read from multipart.
#[derive(Default)]
struct ClaimForm {
    csrf: String,
    item_id: String,
    member_id: String,
    occurred_on: String,
    quantity: String,
    note: String,
    photo: Vec<u8>,
}

async fn read_form(mut multipart: Multipart) -> AppResult<ClaimForm> {
    let mut form = ClaimForm::default();
    let mut total = 0;
    while let Some(part) = multipart.next().await {
        let mut part =
            part.map_err(|_| AppError::field("photo", "照片没有传上来，请再试一次。"))?;
        let name = part
            .content_disposition()
            .and_then(|d| d.get_name())
            .unwrap_or_default()
            .to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk =
                chunk.map_err(|_| AppError::field("photo", "照片没有传上来，请再试一次。"))?;
            total += chunk.len();
            if total > FORM_LIMIT {
                return Err(AppError::field(
                    "photo",
                    "照片太大了（最多 5 MB），请换一张。",
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "csrf" => form.csrf = text(),
            "item_id" => form.item_id = text(),
            "member_id" => form.member_id = text(),
            "occurred_on" => form.occurred_on = text(),
            "quantity" => form.quantity = text(),
            "note" => form.note = text(),
            "photo" => form.photo = bytes,
            _ => {}
        }
    }
    Ok(form)
}

fn request(form: &ClaimForm, household_id: i64) -> AppResult<ClaimRequest> {
    let item_id = form
        .item_id
        .parse()
        .map_err(|_| AppError::field("item_id", "请选一项要申报的事项。"))?;
    let occurred_on = NaiveDate::parse_from_str(&form.occurred_on, "%Y-%m-%d")
        .map_err(|_| AppError::field("occurred_on", "请选择日期。"))?;
    let quantity = match form.quantity.as_str() {
        "" => None,
        q => Some(
            q.parse()
                .map_err(|_| AppError::field("quantity", "次数要填数字。"))?,
        ),
    };
    let member_id = match form.member_id.as_str() {
        "" => None,
        m => Some(
            m.parse()
                .map_err(|_| AppError::field("member_id", "请选是谁做的。"))?,
        ),
    };
    let request = ClaimRequest {
        household_id,
        item_id,
        quantity,
        occurred_on,
        note: Some(form.note.clone()).filter(|n| !n.is_empty()),
        member_id,
    };
    request.validate()?;
    Ok(request)
}

#[post("/h5/claim")]
async fn submit_claim(
    req: HttpRequest,
    state: web::Data<AppState>,
    multipart: Multipart,
) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(err) => return failure(&req, &state, &err),
    };
    if !cookies::csrf_ok(&req, &form.csrf) {
        return crate::web::page::error_page(
            &req,
            &state,
            StatusCode::FORBIDDEN,
            "页面已过期，请返回上一页刷新后再试。",
        );
    }
    let typed = Typed {
        chosen: form.item_id.parse().unwrap_or_default(),
        member: form.member_id.parse().unwrap_or_default(),
        occurred_on: form.occurred_on.clone(),
        quantity: form.quantity.clone(),
        note: form.note.clone(),
        photo: !form.photo.is_empty(),
    };
    let household_id = p.household_id().unwrap_or_default();
    let village_id = p.village_ids().first().copied().unwrap_or_default();
    let caller = Caller {
        principal: p.clone(),
        addr: client_addr(&req),
    };
    let now = state.clock.now();
    let result = state
        .db
        .run(move |conn| {
            let request = request(&form, household_id)?;
            crate::claims::service::submit_with_photo(
                conn,
                &caller,
                village_id,
                &request,
                &form.photo,
                now,
            )
        })
        .await;
    match result {
        Ok(_) => redirect("/h5/claim?done=true").finish(),
        Err(err) if err.problem().status < 500 => {
            let (status, message) = crate::web::page::words(&err);
            claim_form(&req, &state, p, status, typed, Some(message), false).await
        }
        Err(err) => failure(&req, &state, &err),
    }
}
