//! Awards and deductions for many households at once: pick an item, tick households by
//! group or find them by name or door number.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::people::{GroupOfHouseholds, households_by_group};
use super::{Desk, Nav, desk};
use crate::checklist::model::{ChecklistFilter, ItemView};
use crate::clock::shanghai_today;
use crate::state::AppState;
use crate::web::page::{Chrome, failure, show};

#[derive(Template)]
#[template(path = "desk/awards.html", config = "src/web/askama.toml")]
struct AwardsPage {
    chrome: Chrome,
    nav: Nav,
    items: Vec<ItemView>,
    groups: Vec<GroupOfHouseholds>,
    today: String,
}

#[get("/admin/awards")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Desk { p, nav } = match desk(&req, &state, "awards").await {
        Ok(d) => d,
        Err(response) => return response,
    };
    let village_id = nav.village_id;
    let data = state
        .db
        .run(move |conn| {
            let filter = ChecklistFilter {
                include_retired: false,
                limit: Some(500),
                cursor: None,
            };
            let items = crate::checklist::service::list(conn, &p, village_id, &filter)?.items;
            Ok((items, households_by_group(conn, &p, village_id)?))
        })
        .await;
    let today = shanghai_today(state.clock.now()).to_string();
    match data {
        Ok((items, groups)) => show(&req, &state, StatusCode::OK, |chrome| AwardsPage {
            chrome,
            nav,
            items,
            groups,
            today,
        }),
        Err(err) => failure(&req, &state, &err),
    }
}
