//! 统计 at the desk: the township's dashboard as a table a cadre reads at a glance, with
//! charts drawn on the server and the same figures to download for Excel. Committees and
//! supervisors see their own village.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{Nav, render};
use crate::amount::Amount;
use crate::reports::dashboard::{Dashboard, DashboardQuery, Figures};
use crate::state::AppState;
use crate::web::chart::{Bar, Series, bars, lines};
use crate::web::page::Chrome;

#[derive(Template)]
#[template(path = "desk/township.html", config = "src/web/askama.toml")]
struct TownshipPage {
    chrome: Chrome,
    nav: Nav,
    board: Dashboard,
    /// The period as asked, for the form and the export links.
    query: String,
    participation_chart: String,
    months_chart: String,
    category_chart: String,
}

impl TownshipPage {
    /// A share "0.83" as people say it: 83%.
    fn percent(&self, share: &str) -> String {
        percent(share)
    }

    fn totals(&self) -> &Figures {
        &self.board.totals
    }
}

fn percent(share: &str) -> String {
    Amount::parse(share)
        .map(|a| format!("{}%", a.minor()))
        .unwrap_or_default()
}

/// `?from=&to=` as the form sends them (empty fields mean the default).
#[derive(Default, Deserialize)]
#[serde(default)]
struct PeriodForm {
    from: String,
    to: String,
}

impl PeriodForm {
    fn query(&self) -> DashboardQuery {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        DashboardQuery {
            from: day(&self.from),
            to: day(&self.to),
        }
    }
}

fn charts(board: &Dashboard) -> (String, String, String) {
    let share = |s: &str| Amount::parse(s).map_or(0.0, |a| a.minor() as f64 / 100.0);
    let participation = bars(
        "各村参与率",
        &board
            .villages
            .iter()
            .map(|v| Bar {
                label: v.name.clone(),
                value: share(&v.figures.participation),
                figure: percent(&v.figures.participation),
            })
            .collect::<Vec<_>>(),
        1.0,
    );
    let points = |a: Amount| a.minor() as f64 / 100.0;
    let months = lines(
        "每月发放与兑换的积分",
        &board
            .by_month
            .iter()
            .map(|m| {
                format!(
                    "{}月",
                    m.month.get(5..).unwrap_or("").trim_start_matches('0')
                )
            })
            .collect::<Vec<_>>(),
        &[
            Series {
                name: "发放积分",
                values: board.by_month.iter().map(|m| points(m.awarded)).collect(),
                dashed: false,
            },
            Series {
                name: "兑换积分",
                values: board.by_month.iter().map(|m| points(m.redeemed)).collect(),
                dashed: true,
            },
        ],
    );
    let most = board
        .by_category
        .iter()
        .map(|c| c.claims)
        .max()
        .unwrap_or(0);
    let categories = bars(
        "各类申报",
        &board
            .by_category
            .iter()
            .map(|c| Bar {
                label: c.category.clone(),
                value: c.claims as f64,
                figure: format!("{} 件", c.claims),
            })
            .collect::<Vec<_>>(),
        most as f64,
    );
    (participation, months, categories)
}

#[get("/admin/township")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let form: PeriodForm = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let asked = form.query();
    let query =
        serde_urlencoded::to_string([("from", &form.from), ("to", &form.to)]).unwrap_or_default();
    let now = state.clock.now();
    render(
        &req,
        &state,
        "township",
        move |conn, p, _| crate::reports::dashboard::dashboard(conn, p, &asked, now),
        |chrome, nav, board| {
            let (participation_chart, months_chart, category_chart) = charts(&board);
            TownshipPage {
                chrome,
                nav,
                board,
                query,
                participation_chart,
                months_chart,
                category_chart,
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_read_as_percentages() {
        assert_eq!(percent("0.83"), "83%");
        assert_eq!(percent("1.00"), "100%");
        assert_eq!(percent("0.00"), "0%");
    }
}
