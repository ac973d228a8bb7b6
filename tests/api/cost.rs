//! What a use case costs the database: statements per request, counted by the server
//! itself (`jifen_db_statements_per_request` in `/metrics`), so it cannot creep back up.

use serde_json::json;

use crate::shop::{card_redeem, codes_of_many_members, issue, new_card, race, redeem, shop_world};
use crate::support::TestApp;

/// The sum of statements sent by `route` answering `status`, as `/metrics` says.
fn statements_sent(app: &TestApp, method: &str, route: &str, status: u16) -> u64 {
    let text = app.get("/metrics", None).text;
    let series = format!(
        r#"jifen_db_statements_per_request_sum{{method="{method}",route="{route}",status="{status}"}} "#
    );
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |value| value.parse().expect("a count"))
}

const REDEEM: &str = "/api/v1/shops/{shop_id}/redemptions";

/// The redemption's shape needs about 13 statements; 15 leaves room for a savepoint.
const REDEMPTION_BUDGET: u64 = 15;

#[test]
fn a_redemption_sends_at_most_fifteen_statements_by_card_or_by_code() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let token = new_card(&app, &s, "2468");
    // The shop's first sale opens its account in the books; count the ones after.
    let first = card_redeem(&app, &s, &s.keeper, "card-0", &token, "2468", 1);
    assert_eq!(first.status, 201, "{}", first.text);

    let before = statements_sent(&app, "POST", REDEEM, 201);
    let paid = card_redeem(&app, &s, &s.keeper, "card-1", &token, "2468", 1);
    assert_eq!(paid.status, 201, "{}", paid.text);
    let by_card = statements_sent(&app, "POST", REDEEM, 201) - before;

    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    let before = statements_sent(&app, "POST", REDEEM, 201);
    let paid = redeem(
        &app,
        &s,
        "code-1",
        &code,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    assert_eq!(paid.status, 201, "{}", paid.text);
    let by_code = statements_sent(&app, "POST", REDEEM, 201) - before;

    assert!(
        by_card <= REDEMPTION_BUDGET && by_code <= REDEMPTION_BUDGET,
        "a card redemption sent {by_card} statements, a code redemption {by_code}"
    );
}

/// On SQLite the server's writers take turns before they ask for the file's write lock:
/// with no busy timeout at all, racing redemptions all go through, none told 503 because
/// another writer held the lock.
#[test]
fn racing_writers_take_turns_and_never_meet_a_locked_database() {
    let app = TestApp::start_with(|settings| {
        settings.sqlite_busy_timeout_ms = 0;
        settings.pool_size = 8;
    });
    let s = shop_world(&app, "1000");
    let codes = codes_of_many_members(&app, &s, s.w.households[0], 12);
    let answers = race(
        &app,
        &s,
        &codes,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        vec![201; 12],
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
}
