//! Issue 14: 清零 — once a year at 00:00 Asia/Shanghai, exactly once per village and year,
//! on several servers and after a restart that missed it (API.md "Honour, rankings and
//! expiry"). The clock is the test's: no test waits for a real date.

use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::honour::policy;
use crate::ledger::{add_item, award, ledger_world};
use crate::support::{TestApp, World};

/// 1 December 00:00 in Shanghai: 16:00 on 30 November in UTC.
fn moment() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()
}

/// A village where h0 and h1 hold 10 points, h2 owes 3, and 清零 falls on 1 December.
fn expiring_world(app: &TestApp) -> World {
    let w = ledger_world(app);
    let ten = add_item(app, &w, "A01", "10");
    let fine = add_item(app, &w, "B01", "-3");
    for (key, item, households) in [
        ("ten", ten, vec![w.households[0], w.households[1]]),
        ("fine", fine, vec![w.households[2]]),
    ] {
        let body =
            json!({"item_id": item, "household_ids": households, "occurred_on": "2026-11-27"});
        assert_eq!(award(app, &w, key, body).status, 201);
    }
    policy(
        app,
        &w,
        json!({"expiry": {"kind": "annual", "month": 12, "day": 1}}),
    );
    w
}

/// A village (posting at once) where the first household holds 10 points.
fn ten_points_for_one(app: &TestApp) -> World {
    let w = ledger_world(app);
    let ten = add_item(app, &w, "A01", "10");
    let body =
        json!({"item_id": ten, "household_ids": [w.households[0]], "occurred_on": "2026-11-27"});
    assert_eq!(award(app, &w, "ten", body).status, 201);
    w
}

/// (points, honour) of a household, as its committee sees them.
fn held(app: &TestApp, w: &World, household: i64) -> (String, String) {
    let resp = app.get(
        &format!("/api/v1/households/{household}/balance"),
        Some(&w.committee),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    (
        resp.body["points"].as_str().unwrap().to_owned(),
        resp.body["honour"].as_str().unwrap().to_owned(),
    )
}

fn expiry_entries(app: &TestApp, w: &World) -> Vec<Value> {
    let resp = app.get(
        &format!("/api/v1/villages/{}/ledger?limit=500", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "expiry")
        .cloned()
        .collect()
}

fn run_due(app: &TestApp) -> usize {
    let mut conn = app.db.connect();
    jifen::expiry::service::run_due(&mut conn, app.clock_now())
        .expect("run due expiry")
        .len()
}

/// Waits until `ready` holds; each check is a request, the deadline only bounds a failure.
fn eventually(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited in vain for {what}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn points_expire_at_midnight_in_shanghai_once_and_honour_and_debts_stay() {
    let app = TestApp::start();
    let mut w = expiring_world(&app);
    let [h0, h1, h2] = [w.households[0], w.households[1], w.households[2]];
    let forecast = app.get(
        &format!("/api/v1/villages/{}/expiry", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(forecast.status, 200, "{}", forecast.text);
    assert_eq!(forecast.body["next_at"], "2026-11-30T16:00:00Z");
    assert_eq!(
        (
            forecast.body["households"].as_i64(),
            forecast.body["points"].as_str()
        ),
        (Some(2), Some("20.00"))
    );
    assert_eq!(
        forecast.body["policy"],
        json!({"kind": "annual", "month": 12, "day": 1})
    );

    // The day before, and the last second before: nothing moves.
    app.advance(moment() - app.clock_now() - Duration::seconds(1));
    // Access tokens last 15 minutes of the test's clock too.
    w.committee = app.token("qingle-committee");
    w.supervisor = app.token("qingle-supervisor");
    assert_eq!(run_due(&app), 0);
    assert_eq!(held(&app, &w, h0), ("10.00".into(), "10.00".into()));

    // A code shown at the moment stops working.
    let villager = app.villager(&w.committee, h0);
    let code = app.post(
        &format!("/api/v1/households/{h0}/payment-codes"),
        Some(&villager),
        json!({}),
    );
    assert_eq!(code.status, 201, "{}", code.text);

    // The moment: the server's own job takes the points.
    app.advance(Duration::seconds(1));
    eventually("the expiry job", || held(&app, &w, h0).0 == "0.00");
    assert_eq!(
        held(&app, &w, h0),
        ("0.00".into(), "10.00".into()),
        "honour stays"
    );
    assert_eq!(held(&app, &w, h1), ("0.00".into(), "10.00".into()));
    assert_eq!(
        held(&app, &w, h2),
        ("-3.00".into(), "-3.00".into()),
        "a debt stays owed"
    );
    let entries = expiry_entries(&app, &w);
    assert_eq!(entries.len(), 2);
    assert!(
        entries.iter().all(|e| e["memo"] == "2026年积分清零"),
        "{entries:?}"
    );
    let status = app.get(
        &format!("/api/v1/payment-codes/{}", code.id()),
        Some(&villager),
    );
    assert_eq!(status.body["status"], "expired", "{}", status.text);

    // The day after: points earned since stay, and nothing runs twice.
    let ten = add_item(&app, &w, "A02", "10");
    let body = json!({"item_id": ten, "household_ids": [h0], "occurred_on": "2026-12-01"});
    assert_eq!(award(&app, &w, "after", body).status, 201);
    app.advance(Duration::days(1));
    w.committee = app.token("qingle-committee");
    w.supervisor = app.token("qingle-supervisor");
    assert_eq!(run_due(&app), 0);
    assert_eq!(held(&app, &w, h0).0, "10.00");
    let next = app.get(
        &format!("/api/v1/households/{h0}/expiry"),
        Some(&w.committee),
    );
    assert_eq!(
        (next.body["next_at"].as_str(), next.body["points"].as_str()),
        (Some("2027-11-30T16:00:00Z"), Some("10.00"))
    );
    let verify = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
}

#[test]
fn a_date_that_had_passed_when_it_was_set_waits_for_next_year() {
    let app = TestApp::start();
    let w = ten_points_for_one(&app);
    // 28 November: setting 1 November must not clear the village today.
    policy(
        &app,
        &w,
        json!({"expiry": {"kind": "annual", "month": 11, "day": 1}}),
    );
    assert_eq!(run_due(&app), 0);
    assert_eq!(held(&app, &w, w.households[0]).0, "10.00");
    let forecast = app.get(
        &format!("/api/v1/villages/{}/expiry", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(forecast.body["next_at"], "2027-10-31T16:00:00Z");
    // 29 February is not a date every year has: refused, naming the field.
    let leap = app.patch(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
        json!({"policy": {"expiry": {"kind": "annual", "month": 2, "day": 29}}}),
    );
    assert_eq!(leap.status, 422, "{}", leap.text);
    assert_eq!(leap.fields(), ["policy.expiry"]);
}

#[test]
fn a_leap_day_passes_without_an_expiry_and_1_march_follows_it() {
    let app = TestApp::start();
    let w = ten_points_for_one(&app);
    policy(
        &app,
        &w,
        json!({"expiry": {"kind": "annual", "month": 3, "day": 1}}),
    );
    // 29 February 2028, 23:59:59 in Shanghai.
    let leap_day_end = Utc.with_ymd_and_hms(2028, 2, 29, 15, 59, 59).unwrap();
    let mut conn = app.db.connect();
    let early = jifen::expiry::service::run_due(&mut conn, leap_day_end).unwrap();
    // 2027's ran on 1 March 2027; 2028's has not come yet.
    assert_eq!(early.iter().map(|e| e.year).collect::<Vec<_>>(), [2027]);
    let late =
        jifen::expiry::service::run_due(&mut conn, leap_day_end + Duration::seconds(1)).unwrap();
    assert_eq!(
        late.iter()
            .map(|e| (e.year, e.households))
            .collect::<Vec<_>>(),
        [(2028, 0)]
    );
}

#[test]
fn two_servers_racing_at_the_moment_expire_each_household_once() {
    let app = TestApp::start();
    let w = expiring_world(&app);
    let at = moment() + Duration::minutes(5);
    let outcomes: Vec<usize> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = app.db.connect();
                    jifen::expiry::service::run_due(&mut conn, at)
                        .expect("run due")
                        .iter()
                        .map(|e| e.households)
                        .sum()
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    // (The test's server keeps its clock in November, so only the racers can run it.)
    assert_eq!(outcomes.iter().sum::<usize>(), 2, "{outcomes:?}");
    assert_eq!(expiry_entries(&app, &w).len(), 2);
    assert_eq!(held(&app, &w, w.households[0]).0, "0.00");
}

#[test]
fn a_server_that_was_down_at_the_moment_expires_when_it_starts() {
    // The job of this server ticks once at start, then not for an hour.
    let quiet = |s: &mut jifen::config::Settings| s.posting_interval_ms = 3_600_000;
    let mut app = TestApp::start_with(quiet);
    let mut w = expiring_world(&app);
    app.advance(moment() - app.clock_now() + Duration::days(3));
    w.committee = app.token("qingle-committee");
    assert_eq!(
        held(&app, &w, w.households[0]).0,
        "10.00",
        "nothing ran while down"
    );
    app.restart_with(quiet);
    eventually("the expiry at start", || {
        held(&app, &w, w.households[0]).0 == "0.00"
    });
    assert_eq!(expiry_entries(&app, &w).len(), 2);
}

#[test]
fn jifen_expire_says_what_it_would_do_then_does_it_once() {
    let app = TestApp::start();
    let w = expiring_world(&app);
    // The command runs on the real clock: a date two days ago (three, past a 29
    // February) was set before it came — the test's clock set it in November 2026.
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let mut day = Utc::now().with_timezone(&shanghai).date_naive() - Duration::days(2);
    if day.month() == 2 && day.day() == 29 {
        day -= Duration::days(1);
    }
    policy(
        &app,
        &w,
        json!({"expiry": {"kind": "annual", "month": day.month(), "day": day.day()}}),
    );
    let jifen = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_jifen"))
            .args(args)
            .env("JIFEN_DATABASE_URL", app.db.url())
            .env("JIFEN_LOG", "warn")
            .output()
            .expect("run jifen");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dry = jifen(&["expire", "--village", "qingle", "--dry-run"]);
    assert!(
        dry.contains("would expire 20.00 points of 2 households"),
        "{dry}"
    );
    assert_eq!(
        held(&app, &w, w.households[0]).0,
        "10.00",
        "a dry run changes nothing"
    );
    let done = jifen(&["expire", "--village", "qingle"]);
    assert!(
        done.contains("expired 20.00 points of 2 households"),
        "{done}"
    );
    assert_eq!(held(&app, &w, w.households[0]).0, "0.00");
    let again = jifen(&["expire", "--village", "qingle"]);
    assert!(again.contains("nothing is due now"), "{again}");
    assert_eq!(expiry_entries(&app, &w).len(), 2);
    jifen(&["verify", "--village", "qingle"]);
}
