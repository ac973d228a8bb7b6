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

/// A villager's balance is the page they open most: the claims on notice and both
/// holdings, one statement each; the caller, the household, the village and its policy
/// come from the server's copies (`db::reference`) once the first read has made them.
#[test]
fn a_balance_read_sends_two_statements() {
    const BALANCE: &str = "/api/v1/households/{household_id}/balance";
    let app = TestApp::start();
    let w = app.world();
    let villager = app.villager(&w.committee, w.households[0]);
    let path = format!("/api/v1/households/{}/balance", w.households[0]);
    assert_eq!(app.get(&path, Some(&villager)).status, 200);

    let before = statements_sent(&app, "GET", BALANCE, 200);
    let read = app.get(&path, Some(&villager));
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(statements_sent(&app, "GET", BALANCE, 200) - before, 2);
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

/// Tables that grow with every sale, award and claim (and with every household): a use
/// case finds its rows in them by an index, so it costs the same on day 1,000 as on day 1.
const GROWING: [&str; 16] = [
    "ledger_transactions",
    "postings",
    "accounts",
    "chain_heads",
    "redemptions",
    "redemption_lines",
    "redemption_voids",
    "stock_movements",
    "payment_codes",
    "household_cards",
    "audit_events",
    "claims",
    "claim_events",
    "idempotency_records",
    "households",
    "members",
];

/// The plan PostgreSQL makes for a recorded statement whatever its parameters, with
/// sequential scans priced out: a sequential scan left in it has no index to use.
fn generic_plan(conn: &mut jifen::db::DbConnection, recorded: &str) -> String {
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    #[derive(diesel::QueryableByName)]
    struct PlanLine {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let sql = recorded
        .rsplit_once(" -- binds: ")
        .map_or(recorded, |(sql, _)| sql);
    let params = (1..=64)
        .take_while(|n| sql.contains(&format!("${n}")))
        .count();
    let nulls = vec!["NULL"; params].join(", ");
    conn.batch_execute(&format!(
        "SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan; \
         DEALLOCATE ALL; PREPARE recorded AS {sql}"
    ))
    .unwrap_or_else(|e| panic!("cannot prepare {sql}: {e}"));
    let execute = if params == 0 {
        "EXPLAIN EXECUTE recorded".to_owned()
    } else {
        format!("EXPLAIN EXECUTE recorded({nulls})")
    };
    let plan: Vec<PlanLine> = diesel::sql_query(execute)
        .load(conn)
        .unwrap_or_else(|e| panic!("cannot explain {sql}: {e}"));
    plan.into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An index scan with no condition on the index's first column reads the whole index:
/// a sequential scan by another name. The first such scan in the plan, if any.
fn whole_index_read(conn: &mut jifen::db::DbConnection, plan: &str) -> Option<String> {
    use diesel::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct FirstColumn {
        #[diesel(sql_type = diesel::sql_types::Text)]
        attname: String,
    }
    let lines: Vec<&str> = plan.lines().collect();
    lines.iter().enumerate().find_map(|(at, line)| {
        let index = line
            .split_once("Index Scan using ")
            .or_else(|| line.split_once("Index Only Scan using "))
            .or_else(|| line.split_once("Bitmap Index Scan on "))?
            .1
            .split_whitespace()
            .next()?;
        let first: FirstColumn = diesel::sql_query(
            "SELECT a.attname::text AS attname FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE c.relname = $1",
        )
        .bind::<diesel::sql_types::Text, _>(index)
        .get_result(conn)
        .unwrap_or_else(|e| panic!("no index {index}: {e}"));
        let condition = lines.get(at + 1).filter(|l| l.contains("Index Cond:"));
        let uses_first = condition.is_some_and(|c| c.contains(&format!("({} ", first.attname)));
        (!uses_first).then(|| format!("a whole read of index {index}"))
    })
}

#[test]
fn sales_awards_claims_balances_and_rankings_find_growing_tables_by_index() {
    let app = TestApp::start();
    if !app.db.is_postgres() {
        eprintln!("skipped: plans are read on PostgreSQL");
        return;
    }
    let s = shop_world(&app, "100");
    let token = new_card(&app, &s, "2468");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    let item = app
        .post(
            &format!("/api/v1/villages/{}/checklist", s.w.qingle),
            Some(&s.w.committee),
            json!({"code": "B01", "category": "孝老爱亲", "title": "照顾老人", "points": "5",
                   "period": "event", "cap_count": null, "proposers": ["villager", "committee"]}),
        )
        .id();

    let public = app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"public_rankings": true, "public_deductions": true}}),
    );
    assert_eq!(public.status, 200, "{}", public.text);

    app.server_db.recorder().start();
    let by_card = card_redeem(&app, &s, &s.keeper, "card-1", &token, "2468", 1);
    let by_code = redeem(
        &app,
        &s,
        "code-1",
        &code,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    let balance = app.get(
        &format!("/api/v1/households/{}/balance", s.w.households[0]),
        Some(&villager),
    );
    let awarded = crate::ledger::award(
        &app,
        &s.w,
        "award-1",
        json!({"item_id": item, "household_ids": [s.w.households[1]], "occurred_on": "2026-11-27"}),
    );
    let claimed = app.post(
        &format!("/api/v1/villages/{}/claims", s.w.qingle),
        Some(&villager),
        json!({"household_id": s.w.households[0], "item_id": item, "occurred_on": "2026-11-27"}),
    );
    let approved = app.post(
        &format!("/api/v1/claims/{}/approve", claimed.id()),
        Some(&s.w.committee),
        json!({}),
    );
    let ranked = app.get(
        &format!("/api/v1/villages/{}/rankings?period=month", s.w.qingle),
        Some(&s.w.committee),
    );
    let board = app.get("/api/v1/villages/qingle/honour-board?period=year", None);
    let recorded = app.server_db.recorder().stop();
    assert_eq!(ranked.status, 200, "{}", ranked.text);
    assert_eq!(board.status, 200, "{}", board.text);
    for answer in [&by_card, &by_code, &awarded, &claimed] {
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
    assert_eq!(
        (balance.status, approved.status),
        (200, 200),
        "{} {}",
        balance.text,
        approved.text
    );

    let mut conn = app.db.connect();
    let scans: Vec<String> = recorded
        .iter()
        .filter_map(|sql| {
            let plan = generic_plan(&mut conn, sql);
            let scanned = GROWING
                .iter()
                .find(|table| plan.contains(&format!("Seq Scan on {table}")))
                .map(|table| format!("a sequential scan of {table}"));
            scanned
                .or_else(|| whole_index_read(&mut conn, &plan))
                .map(|why| format!("{why}: {sql}\n{plan}"))
        })
        .collect();
    assert!(scans.is_empty(), "{}", scans.join("\n\n"));
}

#[test]
fn sqlite_plans_without_bound_values() {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use jifen::db::{DbConnection, DbManager, DbTarget};
    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }
    let app = TestApp::start();
    let target = DbTarget::parse(app.db.url()).expect("the test database's URL");
    let DbConnection::Sqlite(conn) = &mut DbManager::new(target).connect().expect("a connection")
    else {
        return; // PostgreSQL's plans of prepared statements are its own (plan_cache_mode).
    };
    // Without the planner's stability guarantee SQLite plans a bound `LIMIT ?` with its
    // value, and every `.first()` is prepared again on each call (.cargo/config.toml).
    let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(conn)
        .expect("the compile options")
        .into_iter()
        .map(|o| o.compile_options)
        .collect();
    assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
}
