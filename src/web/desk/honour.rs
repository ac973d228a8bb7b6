//! 荣誉 at the desk: the star households with their certificates (奖状), the door plates
//! (一户一码) to issue, replace and print, and the year's ranking.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Desk, Nav, desk, render};
use crate::clock::{shanghai, shanghai_today};
use crate::reports::model::{RankingPeriod, RankingQuery, star_line};
use crate::reports::views::{RankedHousehold, StarLevel};
use crate::state::AppState;
use crate::web::page::{Chrome, failure};

#[derive(Template)]
#[template(path = "desk/honour.html", config = "src/web/askama.toml")]
struct HonourPage {
    chrome: Chrome,
    nav: Nav,
    levels: Vec<StarLevel>,
    star_levels: usize,
    ranking: Vec<RankedHousehold>,
    /// Active households, and how many of them have a door plate.
    households: usize,
    plated: usize,
    public: bool,
}

impl HonourPage {
    fn stars_of(&self, stars: &usize) -> String {
        star_line(*stars, self.star_levels)
    }
}

/// This year's top twenty by honour, for the desk.
fn year_ranking() -> RankingQuery {
    RankingQuery {
        period: Some(RankingPeriod::Year),
        limit: Some(20),
        ..RankingQuery::default()
    }
}

#[get("/admin/honour")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let today = shanghai_today(state.clock.now());
    render(
        &req,
        &state,
        "honour",
        move |conn, p, village_id| {
            let levels = crate::reports::service::star_roll(conn, p, village_id)?;
            let ranking =
                crate::reports::service::rankings(conn, p, village_id, &year_ranking(), today)?;
            let policy = crate::org::service::village_policy(conn, village_id)?;
            let plated = crate::plates::service::plated(conn, village_id)?;
            let active = crate::org::service::active_households(conn, village_id)?;
            let counts = (
                active.len(),
                active.iter().filter(|(id, _)| plated.contains(id)).count(),
            );
            Ok((levels, ranking.items, policy, counts))
        },
        |chrome, nav, (levels, ranking, policy, (households, plated))| HonourPage {
            chrome,
            nav,
            levels,
            star_levels: policy.star_thresholds.len(),
            ranking,
            households,
            plated,
            public: policy.public_rankings,
        },
    )
    .await
}

pub struct Certificate {
    village: String,
    door_no: String,
    name: String,
    title: String,
    stars: String,
}

#[derive(Template)]
#[template(path = "desk/certificates.html", config = "src/web/askama.toml")]
struct CertificatesPage {
    chrome: Chrome,
    certificates: Vec<Certificate>,
    date: String,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct CertificateQuery {
    stars: Option<usize>,
}

/// 奖状, one A4 page per star household (of one level with `?stars=`), to print and sign.
#[get("/admin/certificates")]
async fn certificates(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: CertificateQuery =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let now = state.clock.now();
    render(
        &req,
        &state,
        "honour",
        move |conn, p, village_id| {
            let levels = crate::reports::service::star_roll(conn, p, village_id)?;
            let levels_count = crate::org::service::village_policy(conn, village_id)?
                .star_thresholds
                .len();
            Ok((levels, levels_count))
        },
        move |chrome, nav, (levels, count)| CertificatesPage {
            chrome,
            date: {
                let day = now.with_timezone(&shanghai());
                crate::date::in_words(day.date_naive())
            },
            certificates: levels
                .into_iter()
                .filter(|l| query.stars.is_none_or(|s| s == l.stars))
                .flat_map(|l| {
                    let village = nav.village_name.clone();
                    l.households.into_iter().map(move |h| Certificate {
                        village: village.clone(),
                        door_no: h.door_no,
                        name: h.display_name,
                        title: l.title.clone(),
                        stars: star_line(l.stars, count),
                    })
                })
                .collect(),
        },
    )
    .await
}

/// The village's door plates to print, for the committee at the desk.
#[get("/admin/plates/sheet")]
async fn plate_sheet(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Desk { p, nav } = match desk(&req, &state, "honour").await {
        Ok(d) => d,
        Err(response) => return response,
    };
    let base = state.settings.browse_url();
    let village_id = nav.village_id;
    match state
        .db
        .run(move |conn| crate::plates::service::sheet(conn, &p, village_id, &base))
        .await
    {
        Ok(plates) => {
            crate::web::page::personal(StatusCode::OK).body(crate::plates::sheet::html(&plates))
        }
        Err(err) => failure(&req, &state, &err),
    }
}
