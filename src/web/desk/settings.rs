//! The village's rules (村规设置): notice days, self-reporting, the yuan a point is worth,
//! payment codes, voids and household cards.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Nav, render};
use crate::org::policy::VillagePolicy;
use crate::state::AppState;
use crate::web::page::Chrome;

#[derive(Template)]
#[template(path = "desk/settings.html", config = "src/web/askama.toml")]
struct SettingsPage {
    chrome: Chrome,
    nav: Nav,
    policy: VillagePolicy,
    saved: bool,
}

#[get("/admin/settings")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let saved = req.query_string().contains("saved=1");
    render(
        &req,
        &state,
        "settings",
        |conn, p, village_id| Ok(crate::org::service::get_village(conn, p, village_id)?.policy),
        |chrome, nav, policy| SettingsPage {
            chrome,
            nav,
            policy,
            saved,
        },
    )
    .await
}
