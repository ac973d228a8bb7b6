//! The household's home (`/h5/`) and its whole ledger (`/h5/ledger`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use crate::amount::Amount;
use crate::expiry::model::{day_label, next_at, warns};
use crate::ledger::views::EntryView;
use crate::paging::PageQuery;
use crate::reports::model::{star_line, star_title};
use crate::state::AppState;
use crate::web::page::{Chrome, failure, show, signed, villager};

pub struct EntryLine {
    memo: String,
    when: String,
    points: String,
    gain: bool,
}

impl From<EntryView> for EntryLine {
    fn from(e: EntryView) -> Self {
        EntryLine {
            memo: e.memo,
            when: crate::date::moment_on_phone(e.created_at),
            gain: !e.points.is_negative(),
            points: signed(e.points),
        }
    }
}

#[derive(Template)]
#[template(path = "h5/home.html", config = "src/web/askama.toml")]
struct HomePage {
    chrome: Chrome,
    household_id: i64,
    village: String,
    village_code: String,
    door_no: String,
    name: String,
    points: String,
    honour: String,
    pending: String,
    stars: usize,
    /// `★★★☆☆☆☆☆☆☆`.
    star_line: String,
    /// `三星级文明户`, none below one star.
    star_title: Option<String>,
    /// Honour still needed for the next star, none at the top.
    next_star: Option<String>,
    /// `10.00 分将于 2027年1月10日 清零`, from 30 days before.
    expiry_warning: Option<String>,
    honour_board: bool,
    self_report: bool,
    /// Claims decided and redemptions voided since this phone last opened 我的申报.
    changes: i64,
    entries: Vec<EntryLine>,
}

#[get("/h5/")]
async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let household_id = p.household_id().unwrap_or_default();
    let village_id = p.village_ids().first().copied().unwrap_or_default();
    let now = state.clock.now();
    let since = super::claims::last_visit(&req, now);
    let data = state
        .db
        .run(move |conn| {
            let changes = super::claims::changes_since(conn, &p, household_id, since)?;
            let balance = crate::reports::balance(conn, &p, household_id)?;
            let recent = PageQuery {
                limit: Some(5),
                cursor: None,
            };
            let entries = crate::reports::household_ledger(conn, &p, household_id, &recent)?;
            let (_, door_no, head_name) = crate::org::service::household_brief(conn, household_id)?;
            let village = crate::org::service::get_village(conn, &p, village_id)?;
            Ok((balance, entries, door_no, head_name, village, changes))
        })
        .await;
    let (balance, entries, door_no, name, village, changes) = match data {
        Ok(data) => data,
        Err(err) => return failure(&req, &state, &err),
    };
    show(&req, &state, StatusCode::OK, |chrome| HomePage {
        chrome,
        household_id,
        village: village.name,
        village_code: village.code,
        door_no,
        name,
        points: balance.points.plain(),
        honour: balance.honour.plain(),
        pending: balance.pending.plain(),
        stars: balance.stars,
        star_line: star_line(balance.stars, balance.star_levels),
        star_title: star_title(balance.stars),
        next_star: balance.next_star_needs.map(|n| n.plain()),
        // The balance and the policy are at hand: no second read for the warning.
        expiry_warning: next_at(village.policy.expiry, now)
            .filter(|next| balance.points > Amount::ZERO && warns(*next, now))
            .map(|next| format!("{} 分将于 {} 清零", balance.points.plain(), day_label(next))),
        honour_board: village.policy.public_rankings,
        self_report: village.policy.allow_self_report,
        changes,
        entries: entries.items.into_iter().map(EntryLine::from).collect(),
    })
}

#[derive(Template)]
#[template(path = "h5/ledger.html", config = "src/web/askama.toml")]
struct LedgerPage {
    chrome: Chrome,
    entries: Vec<EntryLine>,
    next: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LedgerQuery {
    cursor: Option<String>,
}

/// Every entry of the household, newest first, 20 at a time.
#[get("/h5/ledger")]
async fn ledger(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let query: LedgerQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let household_id = p.household_id().unwrap_or_default();
    let page = PageQuery {
        limit: Some(20),
        cursor: query.cursor,
    };
    let entries = state
        .db
        .run(move |conn| crate::reports::household_ledger(conn, &p, household_id, &page))
        .await;
    match entries {
        Ok(entries) => show(&req, &state, StatusCode::OK, |chrome| LedgerPage {
            chrome,
            next: entries
                .next_cursor
                .map(|c| form_urlencoded::byte_serialize(c.as_bytes()).collect()),
            entries: entries.items.into_iter().map(EntryLine::from).collect(),
        }),
        Err(err) => failure(&req, &state, &err),
    }
}
