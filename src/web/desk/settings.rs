//! The village's rules (村规设置): notice days, self-reporting, the yuan a point is worth,
//! payment codes, voids and household cards, stars, rankings and 清零.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Nav, render};
use crate::db::TextState;
use crate::error::AppError;
use crate::expiry::model::{VillageExpiryView, day_label};
use crate::org::policy::{Expiry, FundingSource, SettleAt, VillagePolicy};
use crate::state::AppState;
use crate::web::page::Chrome;

#[derive(Template)]
#[template(path = "desk/settings.html", config = "src/web/askama.toml")]
struct SettingsPage {
    chrome: Chrome,
    nav: Nav,
    policy: VillagePolicy,
    /// `20、50、100`: the thresholds as the field shows them.
    thresholds: String,
    /// The 清零 date, when there is one: (month, day).
    expiry_date: Option<(u32, u32)>,
    /// What the next 清零 would take now, for those who may see the books.
    forecast: Option<Forecast>,
    /// Each funding source as the form shows it: (words, name, percent).
    funding: Vec<(&'static str, &'static str, u32)>,
    saved: bool,
}

struct Forecast {
    day: String,
    households: usize,
    points: String,
}

/// None when nothing expires.
fn forecast(v: VillageExpiryView) -> Option<Forecast> {
    v.next_at.map(|next| Forecast {
        day: day_label(next),
        households: v.households,
        points: v.points.plain(),
    })
}

/// Every source, with the village's share of it (0 where it pays nothing).
fn funding_fields(policy: &VillagePolicy) -> Vec<(&'static str, &'static str, u32)> {
    <FundingSource as TextState>::ALL
        .iter()
        .map(|source| {
            let percent = policy
                .funding
                .iter()
                .find(|s| s.source == *source)
                .map_or(0, |s| s.percent);
            (source.words(), source.as_str(), percent)
        })
        .collect()
}

#[get("/admin/settings")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let saved = req.query_string().contains("saved=1");
    let now = state.clock.now();
    render(
        &req,
        &state,
        "settings",
        move |conn, p, village_id| {
            let policy = crate::org::service::get_village(conn, p, village_id)?.policy;
            let forecast = match crate::expiry::service::village_forecast(conn, p, village_id, now)
            {
                Ok(view) => forecast(view),
                // The township's staff set the rules but do not read the village's books.
                Err(AppError::Forbidden(_)) => None,
                Err(err) => return Err(err),
            };
            Ok((policy, forecast))
        },
        |chrome, nav, (policy, forecast)| SettingsPage {
            chrome,
            nav,
            thresholds: policy
                .star_thresholds
                .iter()
                .map(|t| t.to_string().trim_end_matches(".00").to_owned())
                .collect::<Vec<_>>()
                .join("、"),
            funding: funding_fields(&policy),
            expiry_date: match policy.expiry {
                Expiry::Annual { month, day } => Some((month, day)),
                Expiry::None => None,
            },
            policy,
            forecast,
            saved,
        },
    )
    .await
}
