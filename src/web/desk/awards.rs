//! Awards and deductions for many households at once: pick an item, tick households by
//! group or find them by name or door number.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::people::{GroupOfHouseholds, households_by_group};
use super::{Nav, render};
use crate::auth::Principal;
use crate::checklist::model::{ChecklistFilter, ItemView};
use crate::clock::shanghai_today;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::page::Chrome;

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
    let today = shanghai_today(state.clock.now()).to_string();
    render(
        &req,
        &state,
        "awards",
        |conn, p, village_id| items_and_households(conn, p, village_id, |_| true),
        |chrome, nav, (items, groups)| AwardsPage {
            chrome,
            nav,
            items,
            groups,
            today,
        },
    )
    .await
}

/// The active items `keep` allows and the village's households by group: what a page that
/// gives points to many households at once picks from.
pub(super) fn items_and_households(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    keep: fn(&ItemView) -> bool,
) -> AppResult<(Vec<ItemView>, Vec<GroupOfHouseholds>)> {
    let filter = ChecklistFilter {
        include_retired: false,
        limit: Some(500),
        cursor: None,
    };
    let items = crate::checklist::service::list(conn, p, village_id, &filter)?
        .items
        .into_iter()
        .filter(keep)
        .collect();
    Ok((items, households_by_group(conn, p, village_id)?))
}
