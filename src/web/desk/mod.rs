//! The committee desk (`/admin/`): review queue, awards, households, checklist, objections,
//! settlement statements and the village ledger. Pages are rendered here from the same
//! use cases the API serves; actions go to the JSON API from the pages' forms.

mod audit;
mod awards;
mod books;
mod checklist;
mod honour;
mod organisation;
mod people;
mod propose;
mod review;
mod settings;
mod township;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::page::{Chrome, failure, redirect, show, staff};
use crate::auth::{Principal, RoleName};
use crate::clock::shanghai;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::org::model::VillageView;
use crate::paging::PageQuery;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(overview)
        .service(review::claims)
        .service(review::objections)
        .service(awards::page)
        .service(people::register)
        .service(people::household)
        .service(people::invite_slips)
        .service(checklist::page)
        .service(propose::page)
        .service(settings::page)
        .service(honour::page)
        .service(honour::certificates)
        .service(honour::plate_sheet)
        .service(audit::page)
        .service(books::ledger)
        .service(books::settlements)
        .service(books::statement_print)
        .service(township::page)
        .service(organisation::villages_page)
        .service(organisation::shops_page)
        .service(organisation::staff_page)
        .service(organisation::staff_member_page);
}

/// Who is at the desk, for which village, and which tabs they see.
pub struct Nav {
    pub village_id: i64,
    pub village_name: String,
    pub village_code: String,
    pub villages: Vec<(i64, String)>,
    /// The township's name, which its admin's desk is headed with.
    pub township_name: String,
    pub committee: bool,
    pub supervisor: bool,
    pub township: bool,
    pub leader: bool,
    pub tab: &'static str,
    pub staff_name: String,
}

impl Nav {
    /// Whether the page is about one village, so that the picker of villages shows: the
    /// township's statistics and its own pages are about all of them.
    pub fn picks_village(&self) -> bool {
        !matches!(self.tab, "township" | "villages" | "shops" | "staff")
    }
}

pub struct Desk {
    pub p: Principal,
    pub nav: Nav,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct VillageQuery {
    pub village: Option<i64>,
}

/// Formats a time for the desk: Shanghai, to the minute.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The signed-in staff member at the desk and their village (a township admin picks one).
pub async fn desk(
    req: &HttpRequest,
    state: &AppState,
    tab: &'static str,
) -> Result<Desk, HttpResponse> {
    let p = staff(req, state).await?;
    if p.has_role(RoleName::Shopkeeper)
        && p.village_ids().is_empty()
        && !p.has_role(RoleName::TownshipAdmin)
    {
        return Err(redirect("/shop/").finish());
    }
    let query: VillageQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let viewer = p.clone();
    let (villages, township_name) = state
        .db
        .run(move |conn| {
            let all = PageQuery::largest();
            Ok((
                crate::org::service::list_villages(conn, &viewer, &all)?.items,
                // Only the township's admin sees it, in the header.
                if viewer.has_role(RoleName::TownshipAdmin) {
                    crate::org::service::township_name(conn, viewer.township_id)?
                } else {
                    String::new()
                },
            ))
        })
        .await
        .map_err(|err| failure(req, state, &err))?;
    let chosen: Option<&VillageView> = query
        .village
        .and_then(|id| villages.iter().find(|v| v.id == id))
        .or_else(|| villages.first());
    let (village_id, village_name, village_code) = chosen
        .map(|v| (v.id, v.name.clone(), v.code.clone()))
        .unwrap_or_default();
    let nav = Nav {
        village_id,
        village_name,
        village_code,
        villages: villages.iter().map(|v| (v.id, v.name.clone())).collect(),
        township_name,
        committee: p.has_role(RoleName::Committee),
        supervisor: p.has_role(RoleName::Supervisor),
        township: p.has_role(RoleName::TownshipAdmin),
        leader: p.has_role(RoleName::GroupLeader),
        tab,
        staff_name: p.name.clone(),
    };
    Ok(Desk { p, nav })
}

/// A desk page: the gate, then `load` (in the database, for the chosen village), then the
/// template `build` makes of it; any refusal is shown in words.
pub async fn render<D, T>(
    req: &HttpRequest,
    state: &AppState,
    tab: &'static str,
    load: impl FnOnce(&mut DbConnection, &Principal, i64) -> AppResult<D> + Send + 'static,
    build: impl FnOnce(Chrome, Nav, D) -> T,
) -> HttpResponse
where
    D: Send + 'static,
    T: Template,
{
    let Desk { p, nav } = match desk(req, state, tab).await {
        Ok(d) => d,
        Err(response) => return response,
    };
    let village_id = nav.village_id;
    match state.db.run(move |conn| load(conn, &p, village_id)).await {
        Ok(data) => show(req, state, StatusCode::OK, |chrome| {
            build(chrome, nav, data)
        }),
        Err(err) => failure(req, state, &err),
    }
}

#[derive(Template)]
#[template(path = "desk/overview.html", config = "src/web/askama.toml")]
struct OverviewPage {
    chrome: Chrome,
    nav: Nav,
    to_review: usize,
    objected: usize,
    in_notice: usize,
}

#[get("/admin/")]
async fn overview(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "overview",
        |conn, p, village_id| {
            if p.has_role(RoleName::Committee) || p.has_role(RoleName::Supervisor) {
                review::counts(conn, p, village_id)
            } else {
                Ok((0, 0, 0))
            }
        },
        |chrome, nav, (to_review, objected, in_notice)| OverviewPage {
            chrome,
            nav,
            to_review,
            objected,
            in_notice,
        },
    )
    .await
}
