//! Village events: the committee creates one against an item; villagers check in by its
//! QR (or the committee at the door), each household once, within the time and the
//! limit; closing it makes one approved claim per household, within the item's cap.

use chrono::Duration;
use serde_json::{Value, json};

use crate::pages::{csrf_of, page_text, signed_in_browser};
use crate::support::{Resp, TestApp, World};

/// 议事会: a committee item, once a month.
fn meeting_item(app: &TestApp, w: &World) -> i64 {
    let item = app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        json!({"code": "G01", "category": "村民自治", "title": "参加村民议事会", "points": "2",
               "period": "month", "cap_count": 1, "proposers": ["committee"]}),
    );
    assert_eq!(item.status, 201, "{}", item.text);
    item.id()
}

/// An event from `from` minutes from now, for two hours, at most `max` households.
fn event(app: &TestApp, w: &World, item: i64, from: i64, max: Option<i32>) -> Value {
    let starts = app.clock_now() + Duration::minutes(from);
    let resp = app.post(
        &format!("/api/v1/villages/{}/events", w.qingle),
        Some(&w.committee),
        json!({"title": "11月村民议事会", "item_id": item, "place": "村委会议室",
               "starts_at": starts, "ends_at": starts + Duration::hours(2), "max_checkins": max}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.body
}

fn check_in(app: &TestApp, event: &Value, token: &str, body: Value) -> Resp {
    app.post(
        &format!("/api/v1/events/{}/checkins", event["id"]),
        Some(token),
        body,
    )
}

#[test]
fn households_check_in_once_and_closing_makes_their_claims() {
    let app = TestApp::start();
    let w = app.world();
    let item = meeting_item(&app, &w);
    let meeting = event(&app, &w, item, -10, Some(2));
    assert_eq!(meeting["status"], "open");
    assert!(
        meeting["checkin_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/h5/events/{}", meeting["id"])),
        "{meeting}"
    );
    assert!(meeting["qr_svg"].as_str().unwrap().contains("<svg"));

    let first = app.villager(&w.committee, w.households[0]);
    let came = check_in(&app, &meeting, &first, json!({}));
    assert_eq!(came.status, 201, "{}", came.text);
    assert_eq!(came.body["household_id"], w.households[0]);
    let again = check_in(&app, &meeting, &first, json!({}));
    assert_eq!(
        (again.status, again.code()),
        (409, "conflict"),
        "{}",
        again.text
    );
    assert!(again.text.contains("已经签过到了"), "{}", again.text);

    // At the door the committee ticks a household; it must name one.
    let unnamed = check_in(&app, &meeting, &w.committee, json!({}));
    assert_eq!(unnamed.status, 422);
    assert_eq!(unnamed.fields(), ["household_id"]);
    let ticked = check_in(
        &app,
        &meeting,
        &w.committee,
        json!({"household_id": w.households[1]}),
    );
    assert_eq!(ticked.status, 201, "{}", ticked.text);
    let third = app.villager(&w.committee, w.households[2]);
    let full = check_in(&app, &meeting, &third, json!({}));
    assert_eq!((full.status, full.code()), (422, "invalid_state"));
    assert!(full.text.contains("签到人数已满（2 户）"), "{}", full.text);
    let stranger = app.villager(&app.token("liangui-committee"), w.liangui_household);
    assert_eq!(check_in(&app, &meeting, &stranger, json!({})).status, 404);
    let listed = app.get(
        &format!("/api/v1/villages/{}/events", w.qingle),
        Some(&third),
    );
    assert_eq!(listed.body["items"][0]["checkins"], 2, "{}", listed.text);

    let closed = app.post(
        &format!("/api/v1/events/{}/close", meeting["id"]),
        Some(&w.committee),
        json!({}),
    );
    assert_eq!(closed.status, 200, "{}", closed.text);
    let claims = closed.body["claims"].as_array().unwrap();
    let households: Vec<i64> = claims
        .iter()
        .map(|c| c["household_id"].as_i64().unwrap())
        .collect();
    assert_eq!(households, [w.households[0], w.households[1]]);
    assert!(
        claims
            .iter()
            .all(|c| c["status"] == "in_notice" && c["item_id"] == item)
    );
    let twice = app.post(
        &format!("/api/v1/events/{}/close", meeting["id"]),
        Some(&w.committee),
        json!({}),
    );
    assert_eq!((twice.status, twice.code()), (409, "invalid_state"));
    let late = check_in(&app, &meeting, &third, json!({}));
    assert_eq!((late.status, late.code()), (422, "invalid_state"));

    // A second meeting the same month: the item's cap (once a month) holds, so the
    // household that came to both gets no second claim.
    let second = event(&app, &w, item, -5, None);
    assert_eq!(check_in(&app, &second, &first, json!({})).status, 201);
    assert_eq!(check_in(&app, &second, &third, json!({})).status, 201);
    let closed = app.post(
        &format!("/api/v1/events/{}/close", second["id"]),
        Some(&w.committee),
        json!({}),
    );
    let households: Vec<i64> = closed.body["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["household_id"].as_i64().unwrap())
        .collect();
    assert_eq!(households, [w.households[2]], "{}", closed.text);
}

#[test]
fn check_ins_outside_the_events_time_are_refused_in_words() {
    let app = TestApp::start();
    let w = app.world();
    let item = meeting_item(&app, &w);
    let later = event(&app, &w, item, 60, None);
    let villager = app.villager(&w.committee, w.households[0]);
    let early = check_in(&app, &later, &villager, json!({}));
    assert_eq!((early.status, early.code()), (422, "invalid_state"));
    assert!(early.text.contains("还没到签到时间"), "{}", early.text);
    app.advance(Duration::hours(4));
    let villager = app.villager(&app.token("qingle-committee"), w.households[0]);
    let over = check_in(&app, &later, &villager, json!({}));
    assert_eq!((over.status, over.code()), (422, "invalid_state"));
    assert!(over.text.contains("结束了"), "{}", over.text);
    let backwards = app.post(
        &format!("/api/v1/villages/{}/events", w.qingle),
        Some(&app.token("qingle-committee")),
        json!({"title": "清洁日", "item_id": item, "starts_at": app.clock_now(),
               "ends_at": app.clock_now() - Duration::hours(1)}),
    );
    assert_eq!(backwards.status, 422);
    assert_eq!(backwards.fields(), ["ends_at"]);
    let villager_creates = app.post(
        &format!("/api/v1/villages/{}/events", w.qingle),
        Some(&villager),
        json!({"title": "清洁日", "item_id": item, "starts_at": app.clock_now(),
               "ends_at": app.clock_now() + Duration::hours(1)}),
    );
    assert_eq!(villager_creates.status, 403);
}

#[test]
fn a_villager_scans_the_events_qr_and_checks_in_on_the_page() {
    let app = TestApp::start();
    let w = app.world();
    let item = meeting_item(&app, &w);
    let meeting = event(&app, &w, item, -10, None);
    let b = signed_in_browser(&app, &w.committee, w.households[0]);
    let path = format!("/h5/events/{}", meeting["id"]);
    let page = page_text(&app, &b, &path);
    assert!(
        page.contains("11月村民议事会") && page.contains("村委会议室") && page.contains(">签到<"),
        "{page}"
    );
    let send = || {
        let form = [("csrf", csrf_of(&page))];
        b.post(app.url(&format!("{path}/checkin")))
            .form(&form)
            .send()
            .unwrap()
    };
    let first = send();
    assert_eq!(first.status(), 303);
    let done = page_text(&app, &b, &format!("{path}?done=true"));
    assert!(
        done.contains("签到成功") && done.contains("已有 1 户签到"),
        "{done}"
    );
    let again = send();
    assert_eq!(again.status(), 409);
    assert!(again.text().unwrap().contains("这一户已经签过到了"));
    // Another village's villager cannot see it.
    let stranger = signed_in_browser(&app, &app.token("liangui-committee"), w.liangui_household);
    assert_eq!(stranger.get(app.url(&path)).send().unwrap().status(), 404);
}
