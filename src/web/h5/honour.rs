//! The village's honour board (光荣榜) as a page for anyone, and for the notice board
//! (宣传栏) printed on A4: 红榜, 黑榜 where the village publishes deductions, and its star
//! households.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use crate::error::AppError;
use crate::http::parse_query;
use crate::reports::model::{BoardQuery, RankingPeriod, star_line};
use crate::reports::views::HonourBoard;
use crate::state::AppState;
use crate::web::page::{Chrome, error_page, failure, show};

/// A period the reader can switch to: its words and whether it is the one shown.
struct Tab {
    period: &'static str,
    words: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "h5/honour.html", config = "src/web/askama.toml")]
struct HonourPage {
    chrome: Chrome,
    code: String,
    board: HonourBoard,
    tabs: Vec<Tab>,
    generated: String,
}

impl HonourPage {
    fn stars_of(&self, stars: &usize) -> String {
        star_line(*stars, self.board.star_levels)
    }
}

fn tabs(shown: RankingPeriod) -> Vec<Tab> {
    [
        (RankingPeriod::Month, "month", "本月"),
        (RankingPeriod::Quarter, "quarter", "本季度"),
        (RankingPeriod::Year, "year", "本年"),
        (RankingPeriod::All, "all", "累计"),
    ]
    .into_iter()
    .map(|(period, name, words)| Tab {
        period: name,
        words,
        current: period == shown,
    })
    .collect()
}

#[get("/h5/honour/{code}")]
async fn honour(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> HttpResponse {
    let code = code.into_inner();
    let query: BoardQuery = match parse_query(req.query_string()) {
        Ok(q) => q,
        Err(err) => return failure(&req, &state, &err),
    };
    let now = state.clock.now();
    let lookup = code.clone();
    let found = state
        .db
        .run(move |conn| crate::reports::service::honour_board(conn, &lookup, &query, now))
        .await;
    let board = match found {
        Ok(found) => found,
        Err(AppError::NotFound) => {
            return error_page(
                &req,
                &state,
                StatusCode::NOT_FOUND,
                "这个村还没有公开光荣榜。",
            );
        }
        Err(err) => return failure(&req, &state, &err),
    };
    show(&req, &state, StatusCode::OK, |chrome| HonourPage {
        chrome,
        code,
        tabs: tabs(board.period),
        generated: crate::date::moment_on_phone(board.generated_at),
        board,
    })
}
