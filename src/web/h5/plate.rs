//! The page a door plate's QR opens (`/p/{token}`): the household's honour as the
//! village's boards show it, for any phone, with or without WeChat, no sign-in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use crate::error::AppError;
use crate::reports::model::{star_line, star_title};
use crate::reports::views::DoorPlate;
use crate::state::AppState;
use crate::web::page::{Chrome, error_page, failure, show};

struct Honour {
    title: String,
    day: String,
}

#[derive(Template)]
#[template(path = "h5/plate.html", config = "src/web/askama.toml")]
struct PlatePage {
    chrome: Chrome,
    plate: DoorPlate,
    star_line: String,
    star_title: Option<String>,
    honours: Vec<Honour>,
}

#[get("/p/{token}")]
async fn plate(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let token = token.into_inner();
    let found = state
        .db
        .run(move |conn| {
            let household = crate::plates::service::household_of(conn, &token)?;
            crate::reports::service::door_plate(conn, household)
        })
        .await;
    let plate = match found {
        Ok(plate) => plate,
        Err(AppError::NotFound) => {
            return error_page(
                &req,
                &state,
                StatusCode::NOT_FOUND,
                "这块门牌码已经停用了，请找村委会换新的门牌。",
            );
        }
        Err(err) => return failure(&req, &state, &err),
    };
    show(&req, &state, StatusCode::OK, |chrome| PlatePage {
        chrome,
        star_line: star_line(plate.stars, plate.star_levels),
        star_title: star_title(plate.stars),
        honours: plate
            .honours
            .iter()
            .map(|(title, day)| Honour {
                title: title.clone(),
                day: crate::date::in_words(*day),
            })
            .collect(),
        plate,
    })
}
