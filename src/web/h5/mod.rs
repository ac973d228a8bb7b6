//! The villager's pages (`/h5/`), made for elderly people on cheap phones inside WeChat.

mod board;
mod claim;
mod claims;
mod code;
mod event;
mod home;
mod honour;
mod login;
mod plate;
mod statement;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login::login_page)
        .service(login::login)
        .service(login::login_with_card)
        .service(login::logout)
        .service(home::home)
        .service(home::ledger)
        .service(code::code_page)
        .service(code::code_status)
        .service(board::board)
        .service(board::object)
        .service(honour::honour)
        .service(plate::plate)
        .service(statement::check)
        .service(claims::my_claims)
        .service(claim::checklist)
        .service(claim::claim_page)
        .service(claim::submit_claim)
        .service(event::event_page_get)
        .service(event::check_in);
}
