//! 我的申报 (`/h5/claims`): every claim of the household and where it stands, in words —
//! waiting, on notice until when, objected to, overturned, rejected and why, posted — and
//! what happened at the shops (redemptions, voids and why). The home's 我的申报 button
//! carries a badge while something changed since this phone last opened the page.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::{DateTime, Duration, Utc};

use crate::auth::Principal;
use crate::claims::model::{ClaimFilter, ClaimStatus, ClaimView};
use crate::clock::shanghai;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::shop::model::ReceiptView;
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
    shop: Vec<ShopLine>,
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

fn household_claims(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<Vec<ClaimView>> {
    let filter = ClaimFilter {
        status: None,
        limit: Some(100),
        cursor: None,
    };
    Ok(crate::claims::service::list(conn, p, village_id, &filter)?.items)
}

fn lines(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<ClaimLine>> {
    let household = p.household_id().unwrap_or_default();
    let members = crate::org::service::list_members(conn, p, household)?.items;
    household_claims(conn, p, village_id)?
        .into_iter()
        .map(|c| {
            let (_, item) = crate::checklist::service::item_in_village(conn, c.item_id)?;
            // 好事 done by one member is told with their name: "参加义务劳动（李秀芳）".
            let by = c
                .member_id
                .and_then(|id| members.iter().find(|m| m.id == id))
                .filter(|_| members.len() > 1)
                .map(|m| format!("（{}）", m.name))
                .unwrap_or_default();
            Ok(ClaimLine {
                item: format!("{}{by}", item.title),
                quantity: c.quantity,
                total: c.total.plain(),
                occurred: crate::date::on_phone(c.occurred_on),
                status: c.status.words(),
                detail: detail(&c, now),
                refused: matches!(c.status, ClaimStatus::Rejected | ClaimStatus::Overturned),
            })
        })
        .collect()
}

/// A redemption as the household sees it: where, when, what, and whether it was voided.
pub struct ShopLine {
    shop: String,
    when: String,
    goods: String,
    total: String,
    /// Voided: why (the points went back).
    void_reason: Option<String>,
}

impl From<ReceiptView> for ShopLine {
    fn from(r: ReceiptView) -> Self {
        let goods: Vec<String> = r
            .lines
            .iter()
            .map(|l| format!("{} ×{}", l.name, l.quantity))
            .collect();
        ShopLine {
            shop: r.shop_name,
            when: crate::date::on_phone(r.created_at.with_timezone(&shanghai()).date_naive()),
            goods: goods.join("、"),
            total: r.total_points.plain(),
            void_reason: r.voided.then(|| r.void_reason.unwrap_or_default()),
        }
    }
}

/// Redemptions the page lists.
const SHOP_LINES: i64 = 20;

/// The cookie that remembers when this phone last opened 我的申报 (Unix seconds).
const SEEN_COOKIE: &str = "jifen_claims_seen";

/// When this phone last opened 我的申报; one that never has counts two weeks back.
pub fn last_visit(req: &HttpRequest, now: DateTime<Utc>) -> DateTime<Utc> {
    req.cookie(SEEN_COOKIE)
        .and_then(|c| c.value().parse::<i64>().ok())
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or(now - Duration::days(14))
}

/// Claims decided (by the committee, the notice, the supervisors) and redemptions voided
/// since `since`: what the badge on the home counts, in two counting queries (the home
/// is the page opened most).
pub fn changes_since(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    since: DateTime<Utc>,
) -> AppResult<i64> {
    let decided = crate::claims::service::decided_since(conn, p, household_id, since)?;
    let voided = crate::shop::service::voided_since(conn, p, household_id, since)?;
    Ok(decided + voided)
}

fn seen(now: DateTime<Utc>) -> Cookie<'static> {
    Cookie::build(SEEN_COOKIE, now.timestamp().to_string())
        .path("/h5/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(crate::auth::session::COOKIE_DAYS))
        .finish()
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
            let claims = lines(conn, &p, village_id, now)?;
            let shop =
                crate::shop::service::household_redemptions(conn, &p, household_id, SHOP_LINES)?;
            Ok((claims, shop.into_iter().map(ShopLine::from).collect()))
        })
        .await;
    match found {
        Ok((claims, shop)) => {
            let mut page = show(&req, &state, StatusCode::OK, |chrome| ClaimsPage {
                chrome,
                claims,
                shop,
            });
            if let Err(err) = page.add_cookie(&seen(now)) {
                tracing::warn!(error = %err, "the visit of 我的申报 was not remembered");
            }
            page
        }
        Err(err) => failure(&req, &state, &err),
    }
}
