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
use crate::org::service::{Invitee, SlipInvite};
use crate::paging::PageQuery;
use crate::reports::exports::RegisterLine;
use crate::state::AppState;
use crate::web::page::{Chrome, error_page, failure, show};

pub struct HouseholdLine {
    pub id: i64,
    pub door_no: String,
    pub name: String,
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
    let found =
        crate::org::service::all_households(conn, p, village_id, &HouseholdFilter::default())?;
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

/// Households the register shows on one page.
const REGISTER_PAGE: usize = 100;

#[derive(Template)]
#[template(path = "desk/households.html", config = "src/web/askama.toml")]
struct HouseholdsPage {
    chrome: Chrome,
    nav: Nav,
    groups: Vec<(i64, String)>,
    /// This page's households, by group in the order found.
    register: Vec<(String, Vec<RegisterLine>)>,
    search: RegisterSearch,
    found: usize,
    page: usize,
    pages: usize,
}

impl HouseholdsPage {
    /// The search as a query string, for the export links and the pages.
    fn query(&self) -> String {
        serde_urlencoded::to_string([
            ("q", self.search.q.clone()),
            (
                "group_id",
                self.search
                    .group_id
                    .map(|g| g.to_string())
                    .unwrap_or_default(),
            ),
        ])
        .unwrap_or_default()
    }
}

/// `?q=&group_id=&page=` of the register.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default)]
struct RegisterSearch {
    q: String,
    #[serde(deserialize_with = "empty_is_none")]
    group_id: Option<i64>,
    page: Option<usize>,
}

/// A select's "all" option sends an empty value.
fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    Ok(text.trim().parse().ok())
}

/// The page's households grouped as found (groups in the village's order).
fn by_group(lines: Vec<RegisterLine>) -> Vec<(String, Vec<RegisterLine>)> {
    let mut out: Vec<(String, Vec<RegisterLine>)> = Vec::new();
    for line in lines {
        let name = line.group.clone().unwrap_or_else(|| "未分组".to_owned());
        match out.iter_mut().find(|(g, _)| *g == name) {
            Some((_, lines)) => lines.push(line),
            None => out.push((name, vec![line])),
        }
    }
    out
}

#[get("/admin/households")]
async fn register(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let search: RegisterSearch = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let asked = search.clone();
    render(
        &req,
        &state,
        "households",
        move |conn, p, village_id| {
            let all = PageQuery::largest();
            let groups = crate::org::service::list_groups(conn, p, village_id, &all)?
                .items
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect();
            let filter = HouseholdFilter {
                q: Some(asked.q.clone()).filter(|q| !q.trim().is_empty()),
                group_id: asked.group_id,
                ..HouseholdFilter::default()
            };
            let lines = crate::reports::exports::register_lines(conn, p, village_id, &filter)?;
            Ok((groups, lines))
        },
        move |chrome, nav, (groups, lines)| {
            let found = lines.len();
            let pages = found.div_ceil(REGISTER_PAGE).max(1);
            let page = search.page.unwrap_or(1).clamp(1, pages);
            let shown = lines
                .into_iter()
                .skip((page - 1) * REGISTER_PAGE)
                .take(REGISTER_PAGE)
                .collect();
            HouseholdsPage {
                chrome,
                nav,
                groups,
                register: by_group(shown),
                search,
                found,
                page,
                pages,
            }
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
    /// A QR of the sign-in address with the code filled in: scan, then tap 登录.
    qr_svg: String,
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

fn slip(invite: SlipInvite, base_url: &str) -> Slip {
    let code = &invite.invite.invite_code;
    let address = format!("{base_url}/h5/login?invite_code={code}");
    Slip {
        qr_svg: crate::shop::code::qr_svg_inline(&address).unwrap_or_default(),
        door_no: invite.door_no,
        name: invite.name,
        code: grouped(code),
        expires: when(invite.invite.expires_at),
    }
}

/// Issues an invite for each ticked household's head (the register), or for the members
/// named (a household's page), and shows the slips to print (a new slip ends the member's
/// earlier one).
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
            "household_ids" => ids.extend(value.parse::<i64>().ok().map(Invitee::HeadOf)),
            "member_ids" => ids.extend(value.parse::<i64>().ok().map(Invitee::Member)),
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
    let base_url = crate::http::public_base(&req, &state.settings);
    let slips = state
        .db
        .run(move |conn| crate::org::service::invite_all(conn, &pepper, &caller, &ids, now))
        .await
        .map(|invites| invites.into_iter().map(|i| slip(i, &base_url)).collect());
    let board_url = format!("{base_url}/h5/");
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
