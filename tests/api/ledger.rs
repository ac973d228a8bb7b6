use serde_json::{Value, json};

use crate::support::{Resp, TestApp, World};

/// A world whose village posts at once (no public notice), for ledger tests.
pub fn ledger_world(app: &TestApp) -> World {
    let w = app.world();
    let resp = app.patch(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
        json!({"policy": {"notice_days": 0}}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    w
}

pub fn add_item(app: &TestApp, w: &World, code: &str, points: &str) -> i64 {
    let resp = app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        json!({"code": code, "category": "类别", "title": format!("事项{code}"), "points": points,
               "period": "event", "cap_count": null, "proposers": ["committee"]}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.id()
}

pub fn award(app: &TestApp, w: &World, key: &str, body: Value) -> Resp {
    app.post_with_key(
        &format!("/api/v1/villages/{}/awards", w.qingle),
        &w.committee,
        key,
        body,
    )
}

fn award_body(item: i64, households: &[i64]) -> Value {
    json!({"item_id": item, "household_ids": households, "occurred_on": "2026-11-27"})
}

fn balance(app: &TestApp, token: &str, household: i64) -> Value {
    let resp = app.get(
        &format!("/api/v1/households/{household}/balance"),
        Some(token),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body
}

fn verify_ok(app: &TestApp, w: &World) -> Value {
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(report.body["ok"], true, "{}", report.text);
    report.body
}

#[test]
fn an_award_posts_points_and_honour_to_each_household() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "5");
    let mut body = award_body(item, &[w.households[0], w.households[1]]);
    body["quantity"] = json!(2);
    let resp = award(&app, &w, "award-1", body);
    assert_eq!(resp.status, 201, "{}", resp.text);
    let claims = resp.body["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0]["status"], "posted");
    assert_eq!(claims[0]["total"], "10.00");
    assert_eq!(claims[0]["points"], "5.00");
    assert_eq!(claims[0]["item_version"], 1);
    assert_eq!(claims[0]["events"][0]["status"], "submitted");
    assert_eq!(claims[0]["events"][1]["status"], "posted");

    let villager = app.villager(&w.committee, w.households[0]);
    let own = balance(&app, &villager, w.households[0]);
    assert_eq!(
        (
            own["points"].as_str(),
            own["honour"].as_str(),
            own["pending"].as_str()
        ),
        (Some("10.00"), Some("10.00"), Some("0.00"))
    );
    assert_eq!(own["stars"], 0);
    assert_eq!(
        app.get(
            &format!("/api/v1/households/{}/balance", w.households[1]),
            Some(&villager)
        )
        .status,
        404
    );

    let ledger = app.get(
        &format!("/api/v1/households/{}/ledger", w.households[0]),
        Some(&villager),
    );
    let entry = &ledger.body["items"][0];
    assert_eq!(
        (
            entry["kind"].as_str(),
            entry["points"].as_str(),
            entry["points_after"].as_str()
        ),
        (Some("award"), Some("10.00"), Some("10.00"))
    );
    assert_eq!(entry["memo"], "事项A01 ×2");
    assert_eq!(entry["hash"].as_str().unwrap().len(), 64);

    let head = app.get("/api/v1/villages/qingle/ledger/head", None);
    assert_eq!(head.status, 200);
    assert_eq!(head.body["seq"], 2);
    let village = app.get(
        &format!("/api/v1/villages/{}/ledger", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(village.body["items"][0]["hash"], head.body["hash"]);
    let postings = village.body["items"][0]["postings"].as_array().unwrap();
    assert_eq!(postings.len(), 4);
    assert_eq!(
        app.get("/api/v1/villages/nowhere/ledger/head", None).status,
        404
    );
    verify_ok(&app, &w);
}

#[test]
fn stars_follow_honour_and_deductions_may_leave_a_household_owing() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let big = add_item(&app, &w, "A01", "60");
    let fine = add_item(&app, &w, "B01", "-3.5");
    assert_eq!(
        award(&app, &w, "k1", award_body(big, &[w.households[0]])).status,
        201
    );
    assert_eq!(balance(&app, &w.committee, w.households[0])["stars"], 2);
    let resp = award(&app, &w, "k2", award_body(fine, &[w.households[1]]));
    assert_eq!(resp.status, 201, "{}", resp.text);
    let owing = balance(&app, &w.committee, w.households[1]);
    assert_eq!(
        (owing["points"].as_str(), owing["honour"].as_str()),
        (Some("-3.50"), Some("-3.50"))
    );
    let entry = app.get(
        &format!("/api/v1/households/{}/ledger", w.households[1]),
        Some(&w.committee),
    );
    assert_eq!(entry.body["items"][0]["kind"], "deduction");
    verify_ok(&app, &w);
}

#[test]
fn bad_awards_change_nothing_and_name_the_field() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "5");
    let path = format!("/api/v1/villages/{}/awards", w.qingle);
    let no_key = app.post(
        &path,
        Some(&w.committee),
        award_body(item, &[w.households[0]]),
    );
    assert_eq!(
        (no_key.status, no_key.fields()),
        (422, vec!["Idempotency-Key".to_owned()])
    );
    let bad_key = award(&app, &w, "has space", award_body(item, &[w.households[0]]));
    assert_eq!(bad_key.fields(), vec!["Idempotency-Key"]);
    let foreign = award(
        &app,
        &w,
        "k1",
        award_body(item, &[w.households[0], w.liangui_household]),
    );
    assert_eq!(
        (foreign.status, foreign.fields()),
        (422, vec!["household_ids[1]".to_owned()])
    );
    let twice = award(
        &app,
        &w,
        "k2",
        award_body(item, &[w.households[0], w.households[0]]),
    );
    assert_eq!(twice.fields(), vec!["household_ids"]);
    let mut future = award_body(item, &[w.households[0]]);
    future["occurred_on"] = json!("2026-11-29");
    assert_eq!(award(&app, &w, "k3", future).fields(), vec!["occurred_on"]);
    let mut not_a_date = award_body(item, &[w.households[0]]);
    not_a_date["occurred_on"] = json!("28/11/2026");
    assert_eq!(
        award(&app, &w, "k4", not_a_date).fields(),
        vec!["occurred_on"]
    );
    app.post(
        &format!("/api/v1/checklist/{item}/retire"),
        Some(&w.committee),
        json!({}),
    );
    assert_eq!(
        award(&app, &w, "k5", award_body(item, &[w.households[0]])).fields(),
        vec!["item_id"]
    );
    let supervisor = app.post_with_key(
        &path,
        &w.supervisor,
        "k6",
        award_body(item, &[w.households[0]]),
    );
    assert_eq!(supervisor.status, 403);
    let head = app.get("/api/v1/villages/qingle/ledger/head", None);
    assert_eq!(head.body["seq"], 0, "nothing was posted");
    assert_eq!(
        balance(&app, &w.committee, w.households[0])["points"],
        "0.00"
    );
}

#[test]
fn a_replay_returns_the_stored_answer_and_another_body_conflicts() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "5");
    let first = award(&app, &w, "same-key", award_body(item, &[w.households[0]]));
    assert_eq!(first.status, 201);
    assert!(first.header("idempotency-replayed").is_none());
    let again = award(&app, &w, "same-key", award_body(item, &[w.households[0]]));
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(
        balance(&app, &w.committee, w.households[0])["points"],
        "5.00"
    );
    let other = award(&app, &w, "same-key", award_body(item, &[w.households[1]]));
    assert_eq!((other.status, other.code()), (409, "idempotency_conflict"));

    // A rejection is stored too, and replays as the same rejection.
    let refused = award(
        &app,
        &w,
        "bad-key",
        award_body(item, &[w.liangui_household]),
    );
    assert_eq!(refused.status, 422);
    let replayed = award(
        &app,
        &w,
        "bad-key",
        award_body(item, &[w.liangui_household]),
    );
    assert_eq!(
        (replayed.status, replayed.header("idempotency-replayed")),
        (422, Some("true"))
    );
    assert_eq!(replayed.body, refused.body);
    assert_eq!(
        replayed.header("content-type"),
        Some("application/problem+json")
    );
}

#[test]
fn a_transaction_is_reversed_once() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "5");
    let resp = award(&app, &w, "k1", award_body(item, &[w.households[0]]));
    let tx = resp.body["claims"][0]["transaction_id"].as_i64().unwrap();
    let path = format!("/api/v1/ledger/{tx}/reverse");
    let reversal = app.post_with_key(&path, &w.committee, "r1", json!({"reason": "录入错误"}));
    assert_eq!(reversal.status, 201, "{}", reversal.text);
    assert_eq!(reversal.body["kind"], "reversal");
    assert_eq!(reversal.body["reverses_id"], tx);
    assert!(reversal.body["memo"].as_str().unwrap().contains("录入错误"));
    assert_eq!(
        balance(&app, &w.committee, w.households[0])["points"],
        "0.00"
    );
    let second = app.post_with_key(&path, &w.committee, "r2", json!({"reason": "再来一次"}));
    assert_eq!((second.status, second.code()), (409, "conflict"));
    let reversal_id = reversal.id();
    let of_reversal = app.post_with_key(
        &format!("/api/v1/ledger/{reversal_id}/reverse"),
        &w.committee,
        "r3",
        json!({"reason": "x"}),
    );
    assert_eq!(
        (of_reversal.status, of_reversal.code()),
        (409, "invalid_state")
    );
    let no_reason = app.post_with_key(&path, &w.committee, "r4", json!({"reason": ""}));
    assert_eq!(no_reason.fields(), vec!["reason"]);
    assert_eq!(
        app.post_with_key(&path, &w.supervisor, "r5", json!({"reason": "x"}))
            .status,
        403
    );
    assert_eq!(
        app.post_with_key(&path, &w.other_committee, "r6", json!({"reason": "x"}))
            .status,
        404
    );
    let report = verify_ok(&app, &w);
    assert_eq!(report["transactions"], 2);
}

#[test]
fn the_audit_trail_says_who_did_what_from_where() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "5");
    award(&app, &w, "k1", award_body(item, &[w.households[0]]));
    let audit = app.get(
        &format!("/api/v1/villages/{}/audit", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(audit.status, 200, "{}", audit.text);
    let event = &audit.body["items"][0];
    assert_eq!(event["action"], "award");
    assert_eq!(event["actor_kind"], "staff");
    assert_eq!(event["addr"], "127.0.0.1");
    assert_eq!(event["detail"]["total_each"], "5.00");
    app.patch(
        &format!("/api/v1/households/{}", w.households[0]),
        Some(&w.committee),
        json!({"phone": "13912345678"}),
    );
    let audit = app.get(
        &format!("/api/v1/villages/{}/audit?limit=500", w.qingle),
        Some(&w.committee),
    );
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "household_update",
        "award",
        "checklist_create",
        "household_create",
        "group_create",
        "staff_create",
        "village_create",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert_eq!(audit.body["items"][0]["detail"]["fields"], json!(["phone"]));
    assert!(
        !audit.text.contains("13912345678"),
        "a phone number reached the audit trail"
    );
    let villager = app.villager(&w.committee, w.households[0]);
    assert_eq!(
        app.get(
            &format!("/api/v1/villages/{}/audit", w.qingle),
            Some(&villager)
        )
        .status,
        403
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/villages/{}/audit", w.qingle),
            Some(&w.other_committee)
        )
        .status,
        404
    );
}

#[test]
fn concurrent_awards_to_one_household_sum_exactly() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "1.25");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (app, w) = (&app, &w);
                s.spawn(move || {
                    award(
                        app,
                        w,
                        &format!("race-{i}"),
                        award_body(item, &[w.households[0]]),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(
        balance(&app, &w.committee, w.households[0])["points"],
        "20.00"
    );
    let report = verify_ok(&app, &w);
    assert_eq!(report["transactions"], 16);
    assert_eq!(report["head"]["seq"], 16);
}

#[test]
fn concurrent_duplicates_of_one_key_post_once() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "5");
    let answers: Vec<Resp> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (app, w) = (&app, &w);
                s.spawn(move || award(app, w, "one-key", award_body(item, &[w.households[0]])))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        answers.iter().all(|a| a.status == 201),
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|a| a.body == answers[0].body));
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.header("idempotency-replayed").is_none())
            .count(),
        1
    );
    assert_eq!(
        balance(&app, &w.committee, w.households[0])["points"],
        "5.00"
    );
    assert_eq!(verify_ok(&app, &w)["transactions"], 1);
}

#[test]
fn concurrent_reversals_reverse_once() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "5");
    let tx = award(&app, &w, "k", award_body(item, &[w.households[0]])).body["claims"][0]["transaction_id"].as_i64().unwrap();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let (app, w) = (&app, &w);
                s.spawn(move || {
                    app.post_with_key(
                        &format!("/api/v1/ledger/{tx}/reverse"),
                        &w.committee,
                        &format!("rev-{i}"),
                        json!({"reason": "重复"}),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(
        balance(&app, &w.committee, w.households[0])["points"],
        "0.00"
    );
    assert_eq!(verify_ok(&app, &w)["transactions"], 2);
}
