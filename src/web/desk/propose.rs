//! Group leaders propose claims for households of their group (the committee reviews them).

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::awards::items_and_households;
use super::people::GroupOfHouseholds;
use super::{Nav, render};
use crate::checklist::model::{ItemView, Proposer};
use crate::clock::shanghai_today;
use crate::state::AppState;
use crate::web::page::Chrome;

#[derive(Template)]
#[template(path = "desk/propose.html", config = "src/web/askama.toml")]
struct ProposePage {
    chrome: Chrome,
    nav: Nav,
    items: Vec<ItemView>,
    groups: Vec<GroupOfHouseholds>,
    today: String,
}

#[get("/admin/propose")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let today = shanghai_today(state.clock.now()).to_string();
    render(
        &req,
        &state,
        "propose",
        |conn, p, village_id| {
            items_and_households(conn, p, village_id, |item| {
                item.proposers.contains(&Proposer::GroupLeader)
            })
        },
        |chrome, nav, (items, groups)| ProposePage {
            chrome,
            nav,
            items,
            groups,
            today,
        },
    )
    .await
}
