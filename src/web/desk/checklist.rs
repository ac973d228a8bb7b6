//! The checklist editor: items in force and retired, add, revise (a new version; earlier
//! claims keep theirs), retire, import a spreadsheet.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Nav, render};
use crate::checklist::model::{ChecklistFilter, ItemView, Period, Proposer};
use crate::db::TextState;
use crate::state::AppState;
use crate::web::page::Chrome;

pub struct ItemRow {
    item: ItemView,
    /// The item as JSON, for the form to fill in when revising.
    json: String,
    period: &'static str,
    proposers: String,
}

fn proposer_words(p: Proposer) -> &'static str {
    match p {
        Proposer::Villager => "村民",
        Proposer::GroupLeader => "组长",
        Proposer::Committee => "村委",
    }
}

#[derive(Template)]
#[template(path = "desk/checklist.html", config = "src/web/askama.toml")]
struct ChecklistPage {
    chrome: Chrome,
    nav: Nav,
    items: Vec<ItemRow>,
    periods: Vec<(&'static str, &'static str)>,
}

#[get("/admin/checklist")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "checklist",
        |conn, p, village_id| {
            let filter = ChecklistFilter {
                include_retired: true,
                limit: Some(500),
                cursor: None,
            };
            Ok(crate::checklist::service::list(conn, p, village_id, &filter)?.items)
        },
        |chrome, nav, items| ChecklistPage {
            chrome,
            nav,
            items: items.into_iter().map(row).collect(),
            periods: Period::ALL
                .iter()
                .map(|p| (p.as_str(), p.chinese()))
                .collect(),
        },
    )
    .await
}

fn row(item: ItemView) -> ItemRow {
    ItemRow {
        json: serde_json::to_string(&item).unwrap_or_default(),
        period: item.period.chinese(),
        proposers: item
            .proposers
            .iter()
            .map(|p| proposer_words(*p))
            .collect::<Vec<_>>()
            .join("、"),
        item,
    }
}
