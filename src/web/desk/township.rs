//! 统计 at the desk: the township's dashboard as a table a cadre reads at a glance, with
//! charts drawn on the server and the same figures to download for Excel. Committees and
//! supervisors see their own village.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{Nav, render};
use crate::amount::Amount;
use crate::auth::RoleName;
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
    /// The table's rows: villages (each opening its groups, for the township), or one
    /// village's groups.
    rows: Vec<Row>,
    /// What a row is: 村 or 村民小组.
    row_kind: &'static str,
    /// The row under the table: the township's totals, or the village's.
    total: Option<Figures>,
    /// The period (and village) as asked, for the form and the export links.
    query: String,
    /// The village whose groups the township is looking at, to keep in the form.
    village_id: Option<i64>,
    participation_chart: String,
    months_chart: String,
    category_chart: String,
}

pub struct Row {
    name: String,
    figures: Figures,
    /// The village's groups, for the township's rows.
    link: Option<String>,
}

impl TownshipPage {
    /// A share "0.83" as people say it: 83%.
    fn percent(&self, share: &str) -> String {
        percent(share)
    }
}

/// The rows a board shows: a village's groups when it has them, else its villages.
fn rows(
    board: &Dashboard,
    query: &str,
    township: bool,
) -> (Vec<Row>, &'static str, Option<Figures>) {
    match &board.groups {
        Some(groups) => (
            groups
                .iter()
                .map(|g| Row {
                    name: g.name.clone(),
                    figures: g.figures.clone(),
                    link: None,
                })
                .collect(),
            "村民小组",
            board.villages.first().map(|v| v.figures.clone()),
        ),
        None => (
            board
                .villages
                .iter()
                .map(|v| Row {
                    name: v.name.clone(),
                    figures: v.figures.clone(),
                    link: township
                        .then(|| format!("/admin/township?{query}&village_id={}", v.village_id)),
                })
                .collect(),
            "村",
            (board.villages.len() > 1).then(|| board.totals.clone()),
        ),
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
    /// The township looking at one village's groups.
    village_id: String,
}

impl PeriodForm {
    fn query(&self, village_id: Option<i64>) -> DashboardQuery {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        DashboardQuery {
            from: day(&self.from),
            to: day(&self.to),
            village_id,
        }
    }
}

fn charts(rows: &[Row], row_kind: &str, board: &Dashboard) -> (String, String, String) {
    let share = |s: &str| Amount::parse(s).map_or(0.0, |a| a.minor() as f64 / 100.0);
    let participation = bars(
        &format!("各{}参与率", if row_kind == "村" { "村" } else { "组" }),
        &rows
            .iter()
            .map(|r| Bar {
                label: r.name.clone(),
                value: share(&r.figures.participation),
                figure: percent(&r.figures.participation),
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
    let period =
        serde_urlencoded::to_string([("from", &form.from), ("to", &form.to)]).unwrap_or_default();
    let now = state.clock.now();
    render(
        &req,
        &state,
        "township",
        move |conn, p, village_id| {
            // A village's own people see its groups; the township, a village it opens.
            let township = p.has_role(RoleName::TownshipAdmin);
            let one = if township {
                form.village_id.parse().ok()
            } else {
                Some(village_id)
            };
            let board = crate::reports::dashboard::dashboard(conn, p, &form.query(one), now)?;
            Ok((board, township.then_some(one).flatten()))
        },
        move |chrome, nav, (board, village_id)| {
            let query = match village_id {
                Some(id) => format!("{period}&village_id={id}"),
                None => period.clone(),
            };
            let (rows, row_kind, total) = rows(&board, &period, nav.township);
            let (participation_chart, months_chart, category_chart) =
                charts(&rows, row_kind, &board);
            TownshipPage {
                chrome,
                nav,
                board,
                rows,
                row_kind,
                total,
                query,
                village_id,
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
