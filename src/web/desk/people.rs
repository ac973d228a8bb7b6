//! Households: the register by group, adding one, importing a spreadsheet, invite slips
//! and household cards to print.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use super::{Desk, Nav, desk, render, when};
use crate::auth::http::cookies;
use crate::auth::{Caller, Principal};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::client_addr;
use crate::org::model::{HouseholdFilter, HouseholdView, MemberView};
use crate::org::service::HeadInvite;
use crate::paging::PageQuery;
use crate::state::AppState;
use crate::web::page::{Chrome, error_page, failure, show};

pub struct HouseholdLine {
    pub id: i64,
    pub door_no: String,
    pub name: String,
    pub phone: String,
    pub active: bool,
}

pub struct GroupOfHouseholds {
    pub name: String,
    pub households: Vec<HouseholdLine>,
}

fn line(h: HouseholdView) -> HouseholdLine {
    HouseholdLine {
        id: h.id,
        door_no: h.door_no,
        name: h.head_name.unwrap_or(h.display_name),
        phone: h.phone.unwrap_or_default(),
        active: h.active,
    }
}

/// Every household the caller may see, grouped as the village is (no group last).
pub fn households_by_group(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<Vec<GroupOfHouseholds>> {
    let all = PageQuery::largest();
    let groups = crate::org::service::list_groups(conn, p, village_id, &all)?.items;
    let mut found = Vec::new();
    let mut cursor = None;
    loop {
        let filter = HouseholdFilter {
            q: None,
            group_id: None,
            limit: Some(500),
            cursor,
        };
        let page = crate::org::service::list_households(conn, p, village_id, &filter)?;
        found.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut out: Vec<GroupOfHouseholds> = groups
        .iter()
        .map(|g| GroupOfHouseholds {
            name: g.name.clone(),
            households: Vec::new(),
        })
        .collect();
    let mut loose = Vec::new();
    for h in found {
        match groups.iter().position(|g| Some(g.id) == h.group_id) {
            Some(at) => out[at].households.push(line(h)),
            None => loose.push(line(h)),
        }
    }
    if !loose.is_empty() {
        out.push(GroupOfHouseholds {
            name: "未分组".into(),
            households: loose,
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "desk/households.html", config = "src/web/askama.toml")]
struct HouseholdsPage {
    chrome: Chrome,
    nav: Nav,
    groups: Vec<(i64, String)>,
    register: Vec<GroupOfHouseholds>,
}

#[get("/admin/households")]
async fn register(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "households",
        |conn, p, village_id| {
            let all = PageQuery::largest();
            let groups = crate::org::service::list_groups(conn, p, village_id, &all)?
                .items
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect();
            Ok((groups, households_by_group(conn, p, village_id)?))
        },
        |chrome, nav, (groups, register)| HouseholdsPage {
            chrome,
            nav,
            groups,
            register,
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "desk/household.html", config = "src/web/askama.toml")]
struct HouseholdPage {
    chrome: Chrome,
    nav: Nav,
    household: HouseholdLine,
    members: Vec<MemberView>,
}

/// One household's members and how they sign in: where the committee takes access back
/// (a lost phone, someone who moved away) and gives it again.
#[get("/admin/households/{household_id}")]
async fn household(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let id = id.into_inner();
    render(
        &req,
        &state,
        "households",
        move |conn, p, village_id| {
            let household = crate::org::service::get_household(conn, p, id)?;
            if household.village_id != village_id {
                return Err(AppError::NotFound);
            }
            let members = crate::org::service::list_members(conn, p, id)?.items;
            Ok((line(household), members))
        },
        |chrome, nav, (household, members)| HouseholdPage {
            chrome,
            nav,
            household,
            members,
        },
    )
    .await
}

pub struct Slip {
    door_no: String,
    name: String,
    code: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "desk/slips.html", config = "src/web/askama.toml")]
struct SlipsPage {
    chrome: Chrome,
    village: String,
    board_url: String,
    slips: Vec<Slip>,
}

/// `1234567890` → `12345 67890`: easier to read out and to type.
fn grouped(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a} {b}")
}

fn slip(invite: HeadInvite) -> Slip {
    Slip {
        door_no: invite.door_no,
        name: invite.head_name,
        code: grouped(&invite.invite.invite_code),
        expires: when(invite.invite.expires_at),
    }
}

/// Issues an invite for each ticked household's head and shows the slips to print
/// (a new slip ends the household head's earlier one).
#[post("/admin/invites")]
async fn invite_slips(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let Desk { p, nav } = match desk(&req, &state, "households").await {
        Ok(d) => d,
        Err(response) => return response,
    };
    let mut csrf = String::new();
    let mut ids = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "csrf" => csrf = value.into_owned(),
            "household_ids" => ids.extend(value.parse::<i64>().ok()),
            _ => {}
        }
    }
    if !cookies::csrf_ok(&req, &csrf) {
        return error_page(
            &req,
            &state,
            StatusCode::FORBIDDEN,
            "页面已过期，请返回上一页刷新后再试。",
        );
    }
    if ids.is_empty() {
        return error_page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "请先勾选要打印邀请码的农户。",
        );
    }
    let caller = Caller {
        principal: p,
        addr: client_addr(&req),
    };
    let (pepper, now) = (state.auth.pepper.clone(), state.clock.now());
    let slips = state
        .db
        .run(move |conn| crate::org::service::invite_heads(conn, &pepper, &caller, &ids, now))
        .await
        .map(|invites| invites.into_iter().map(slip).collect());
    let board_url = format!("{}/h5/", state.settings.browse_url());
    match slips {
        Ok(slips) => show(&req, &state, StatusCode::OK, |chrome| SlipsPage {
            chrome,
            village: nav.village_name,
            board_url,
            slips,
        }),
        Err(err) => failure(&req, &state, &err),
    }
}
