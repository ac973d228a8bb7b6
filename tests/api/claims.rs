use chrono::Duration;
use serde_json::{Value, json};

use crate::support::{Resp, TestApp, World};

fn item(app: &TestApp, w: &World, code: &str, body: Value) -> i64 {
    let mut full = json!({"code": code, "category": "孝老爱亲", "title": format!("事项{code}"), "points": "5",
                          "period": "month", "cap_count": null, "proposers": ["villager", "group_leader", "committee"]});
    for (k, v) in body.as_object().unwrap() {
        full[k] = v.clone();
    }
    let resp = app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        full,
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.id()
}

fn claim(
    app: &TestApp,
    w: &World,
    token: &str,
    household: i64,
    item: i64,
    occurred_on: &str,
) -> Resp {
    app.post(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(token),
        json!({"household_id": household, "item_id": item, "occurred_on": occurred_on}),
    )
}

fn get_claim(app: &TestApp, token: &str, id: i64) -> Value {
    let resp = app.get(&format!("/api/v1/claims/{id}"), Some(token));
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body
}

/// A second committee member, since nobody approves their own claim.
fn second_committee(app: &TestApp, w: &World) -> String {
    app.create_staff(&w.admin, "qingle-committee2", "committee", w.qingle);
    app.token("qingle-committee2")
}

/// Waits until the server's posting job has posted the claim (no sleeping: each check
/// is a request; the deadline only bounds a failure).
fn wait_posted(app: &TestApp, token: &str, id: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let body = get_claim(app, token, id);
        if body["status"] == "posted" || std::time::Instant::now() > deadline {
            return body;
        }
        std::thread::yield_now();
    }
}

fn post_due_now(app: &TestApp) -> usize {
    let mut conn = app.db.connect();
    jifen::claims::service::post_due(&mut conn, app.clock_now()).expect("post due claims")
}

#[test]
fn a_self_reported_claim_goes_through_notice_into_the_ledger() {
    let app = TestApp::start();
    let w = app.world();
    let item = item(&app, &w, "A01", json!({}));
    let villager = app.villager(&w.committee, w.households[0]);
    let submitted = claim(&app, &w, &villager, w.households[0], item, "2026-11-27");
    assert_eq!(submitted.status, 201, "{}", submitted.text);
    assert_eq!(submitted.body["status"], "submitted");
    let id = submitted.id();
    assert_eq!(
        claim(&app, &w, &villager, w.households[1], item, "2026-11-27").status,
        404
    );

    let approved = app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&w.committee),
        json!({}),
    );
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["status"], "in_notice");
    // Approved at 10:00 on 28 November (Shanghai): notice ends at the end of 3 December.
    assert_eq!(approved.body["notice_ends_at"], "2026-12-03T16:00:00Z");
    let balance = app.get(
        &format!("/api/v1/households/{}/balance", w.households[0]),
        Some(&villager),
    );
    assert_eq!(
        (
            balance.body["points"].as_str(),
            balance.body["pending"].as_str()
        ),
        (Some("0.00"), Some("5.00"))
    );

    app.advance(Duration::days(5) + Duration::hours(13));
    assert_eq!(
        post_due_now(&app),
        0,
        "the last day of notice is not over yet"
    );
    // Access tokens last 15 minutes; days have passed.
    let committee = app.token("qingle-committee");
    assert_eq!(get_claim(&app, &committee, id)["status"], "in_notice");
    app.advance(Duration::hours(2));
    let committee = app.token("qingle-committee");
    let posted = wait_posted(&app, &committee, id);
    assert_eq!(posted["status"], "posted", "{posted}");
    let events: Vec<&str> = posted["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["submitted", "in_notice", "posted"]);
    let villager = app.villager(&committee, w.households[0]);
    let balance = app.get(
        &format!("/api/v1/households/{}/balance", w.households[0]),
        Some(&villager),
    );
    assert_eq!(
        (
            balance.body["points"].as_str(),
            balance.body["pending"].as_str()
        ),
        (Some("5.00"), Some("0.00"))
    );
    let list = app.get(
        &format!("/api/v1/villages/{}/claims?status=posted", w.qingle),
        Some(&villager),
    );
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn the_notice_board_shows_masked_households_only() {
    let app = TestApp::start();
    let w = app.world();
    let item = item(&app, &w, "A01", json!({"title": "照顾孤寡老人"}));
    let id = claim(&app, &w, &w.committee, w.households[0], item, "2026-11-27").id();
    let committee2 = second_committee(&app, &w);
    app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&committee2),
        json!({}),
    );
    let board = app.get("/api/v1/villages/qingle/notice-board", None);
    assert_eq!(board.status, 200, "{}", board.text);
    let entry = &board.body["in_notice"][0];
    assert_eq!(entry["household"], "张*明");
    assert_eq!(entry["door_no"], "1号");
    assert_eq!(entry["item"], "照顾孤寡老人");
    assert_eq!(entry["points"], "5.00");
    assert!(entry["notice_ends_at"].is_string());
    assert!(
        !board.text.contains("张小明") && !board.text.contains("13800138000"),
        "{}",
        board.text
    );
    assert!(!board.text.contains("evidence"));
    assert_eq!(board.body["head"]["seq"], 0);
    assert_eq!(
        app.get("/api/v1/villages/nowhere/notice-board", None)
            .status,
        404
    );
}

#[test]
fn refusals_name_the_rule() {
    let app = TestApp::start();
    let w = app.world();
    let committee_only = item(&app, &w, "C01", json!({"proposers": ["committee"]}));
    let open = item(&app, &w, "A01", json!({}));
    let villager = app.villager(&w.committee, w.households[0]);
    assert_eq!(
        claim(
            &app,
            &w,
            &villager,
            w.households[0],
            committee_only,
            "2026-11-27"
        )
        .status,
        403
    );
    assert_eq!(
        claim(&app, &w, &w.supervisor, w.households[0], open, "2026-11-27").status,
        403
    );
    assert_eq!(
        claim(&app, &w, &w.leader, w.households[2], open, "2026-11-27").status,
        404,
        "another group's household"
    );
    assert_eq!(
        claim(&app, &w, &w.leader, w.households[1], open, "2026-11-27").status,
        201
    );
    assert_eq!(
        claim(&app, &w, &villager, w.households[0], open, "2026-11-29").fields(),
        vec!["occurred_on"]
    );

    app.patch(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
        json!({"policy": {"allow_self_report": false}}),
    );
    assert_eq!(
        claim(&app, &w, &villager, w.households[0], open, "2026-11-27").status,
        403
    );

    let own = claim(&app, &w, &w.committee, w.households[2], open, "2026-11-27").id();
    let approve = |token: &str| {
        app.post(
            &format!("/api/v1/claims/{own}/approve"),
            Some(token),
            json!({}),
        )
    };
    assert_eq!(
        approve(&w.committee).status,
        403,
        "nobody approves their own claim"
    );
    assert_eq!(approve(&w.supervisor).status, 403);
    assert_eq!(approve(&w.other_committee).status, 404);
    let committee2 = second_committee(&app, &w);
    assert_eq!(approve(&committee2).status, 200);
    assert_eq!(approve(&committee2).status, 409);
    let reject = app.post(
        &format!("/api/v1/claims/{own}/reject"),
        Some(&committee2),
        json!({"reason": "重复"}),
    );
    assert_eq!((reject.status, reject.code()), (409, "invalid_state"));

    let other = claim(&app, &w, &w.committee, w.households[1], open, "2026-11-26").id();
    let no_reason = app.post(
        &format!("/api/v1/claims/{other}/reject"),
        Some(&committee2),
        json!({"reason": ""}),
    );
    assert_eq!(no_reason.fields(), vec!["reason"]);
    let rejected = app.post(
        &format!("/api/v1/claims/{other}/reject"),
        Some(&committee2),
        json!({"reason": "材料不全"}),
    );
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(rejected.body["events"][1]["note"], "材料不全");
}

#[test]
fn objections_are_decided_by_the_supervisors() {
    let app = TestApp::start();
    let w = app.world();
    let open = item(&app, &w, "A01", json!({}));
    let committee2 = second_committee(&app, &w);
    let neighbour = app.villager(&w.committee, w.households[1]);
    let submit_and_approve = |household: i64| {
        let id = claim(&app, &w, &w.committee, household, open, "2026-11-27").id();
        assert_eq!(
            app.post(
                &format!("/api/v1/claims/{id}/approve"),
                Some(&committee2),
                json!({})
            )
            .status,
            200
        );
        id
    };
    let object = |token: &str, id: i64| {
        app.post(
            &format!("/api/v1/claims/{id}/objections"),
            Some(token),
            json!({"reason": "没见他去照顾"}),
        )
    };

    let dismissed = submit_and_approve(w.households[0]);
    let objection = object(&neighbour, dismissed);
    assert_eq!(objection.status, 201, "{}", objection.text);
    assert_eq!(objection.body["claim_status"], "objected");
    let decide = |token: &str, objection: i64, outcome: &str| {
        app.post(
            &format!("/api/v1/objections/{objection}/decide"),
            Some(token),
            json!({"outcome": outcome, "note": "经核实"}),
        )
    };
    let objection_id = objection.id();
    assert_eq!(
        decide(&w.committee, objection_id, "dismissed").status,
        403,
        "the committee cannot decide"
    );
    assert_eq!(
        decide(&w.supervisor, objection_id, "maybe").fields(),
        vec!["outcome"]
    );
    let decided = decide(&w.supervisor, objection_id, "dismissed");
    assert_eq!(
        (decided.status, decided.body["claim_status"].as_str()),
        (200, Some("in_notice"))
    );
    assert_eq!(decide(&w.supervisor, objection_id, "upheld").status, 409);
    // Back on notice, but this household has had its say on it; and none on its own.
    let again = object(&neighbour, dismissed);
    assert_eq!(
        (again.status, again.fields()),
        (422, vec!["claim_id".to_owned()])
    );
    assert!(
        again.text.contains("已经对这条申报提过异议"),
        "{}",
        again.text
    );
    let own = submit_and_approve(w.households[1]);
    let mine = object(&neighbour, own);
    assert_eq!(
        (mine.status, mine.fields()),
        (422, vec!["claim_id".to_owned()])
    );
    assert!(mine.text.contains("自己家"), "{}", mine.text);

    let upheld = submit_and_approve(w.households[2]);
    let objection_id = object(&neighbour, upheld).id();
    assert_eq!(
        decide(&w.supervisor, objection_id, "upheld").body["claim_status"],
        "overturned"
    );

    let submitted = claim(&app, &w, &w.committee, w.households[2], open, "2026-11-20").id();
    assert_eq!(
        object(&neighbour, submitted).status,
        409,
        "only claims on notice"
    );
    assert_eq!(
        object(&w.supervisor, dismissed).status,
        403,
        "staff do not object"
    );
    let outsider = app.villager(&w.other_committee, w.liangui_household);
    assert_eq!(object(&outsider, dismissed).status, 404);

    app.advance(Duration::days(7));
    let committee = app.token("qingle-committee");
    assert_eq!(wait_posted(&app, &committee, dismissed)["status"], "posted");
    assert_eq!(get_claim(&app, &committee, upheld)["status"], "overturned");
    assert_eq!(post_due_now(&app), 0);
    let balance = app.get(
        &format!("/api/v1/households/{}/balance", w.households[2]),
        Some(&committee),
    );
    assert_eq!(
        balance.body["points"], "0.00",
        "an overturned claim never posts"
    );
}

#[test]
fn due_claims_post_exactly_once_however_many_posters_race() {
    let app = TestApp::start();
    let w = app.world();
    let open = item(&app, &w, "A01", json!({}));
    let committee2 = second_committee(&app, &w);
    let mut ids = Vec::new();
    for household in &w.households {
        for day in ["2026-11-20", "2026-11-21"] {
            let id = claim(&app, &w, &w.committee, *household, open, day).id();
            app.post(
                &format!("/api/v1/claims/{id}/approve"),
                Some(&committee2),
                json!({}),
            );
            ids.push(id);
        }
    }
    app.advance(Duration::days(6));
    // The server's own job races these two.
    let posted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| post_due_now(&app))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert!(posted <= ids.len());
    let committee = app.token("qingle-committee");
    for id in &ids {
        assert_eq!(wait_posted(&app, &committee, *id)["status"], "posted");
    }
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&committee),
    );
    assert_eq!(report.body["ok"], true, "{}", report.text);
    assert_eq!(
        report.body["transactions"].as_u64(),
        Some(ids.len() as u64),
        "one transaction per claim"
    );
    for household in &w.households {
        let balance = app.get(
            &format!("/api/v1/households/{household}/balance"),
            Some(&committee),
        );
        assert_eq!(balance.body["points"], "10.00");
    }
}

#[test]
fn caps_count_per_calendar_period() {
    let app = TestApp::start();
    let w = app.world();
    let monthly = item(&app, &w, "M01", json!({"cap_count": 2}));
    let quarterly = item(
        &app,
        &w,
        "Q01",
        json!({"period": "quarter", "cap_count": 1}),
    );
    let h = w.households[0];
    assert_eq!(
        claim(&app, &w, &w.committee, h, monthly, "2026-10-01").status,
        201
    );
    assert_eq!(
        claim(&app, &w, &w.committee, h, monthly, "2026-10-31").status,
        201
    );
    let third = claim(&app, &w, &w.committee, h, monthly, "2026-10-15");
    assert_eq!((third.status, third.code()), (422, "cap_exceeded"));
    assert_eq!(
        claim(&app, &w, &w.committee, h, monthly, "2026-11-01").status,
        201,
        "a new month"
    );
    assert_eq!(
        claim(
            &app,
            &w,
            &w.committee,
            w.households[1],
            monthly,
            "2026-10-15"
        )
        .status,
        201,
        "another household"
    );

    assert_eq!(
        claim(&app, &w, &w.committee, h, quarterly, "2026-09-30").status,
        201
    );
    assert_eq!(
        claim(&app, &w, &w.committee, h, quarterly, "2026-10-01").status,
        201,
        "a new quarter"
    );
    assert_eq!(
        claim(&app, &w, &w.committee, h, quarterly, "2026-11-15").code(),
        "cap_exceeded"
    );

    // A rejected claim frees its place.
    let committee2 = second_committee(&app, &w);
    let list = app.get(
        &format!("/api/v1/villages/{}/claims?status=submitted", w.qingle),
        Some(&w.committee),
    );
    let october = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["occurred_on"] == "2026-10-31")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/claims/{october}/reject"),
        Some(&committee2),
        json!({"reason": "不属实"}),
    );
    assert_eq!(
        claim(&app, &w, &w.committee, h, monthly, "2026-10-15").status,
        201
    );
}

#[test]
fn caps_are_checked_again_at_approval() {
    let app = TestApp::start();
    let w = app.world();
    let monthly = item(&app, &w, "M01", json!({"cap_count": 2}));
    let first = claim(
        &app,
        &w,
        &w.committee,
        w.households[0],
        monthly,
        "2026-11-02",
    )
    .id();
    claim(
        &app,
        &w,
        &w.committee,
        w.households[0],
        monthly,
        "2026-11-03",
    );
    let mut lower = json!({"code": "M01", "category": "孝老爱亲", "title": "事项M01", "points": "5", "period": "month",
                           "cap_count": 1, "proposers": ["villager", "group_leader", "committee"]});
    lower["evidence_required"] = json!(false);
    assert_eq!(
        app.send_put(&format!("/api/v1/checklist/{monthly}"), &w.committee, lower)
            .status,
        200
    );
    let committee2 = second_committee(&app, &w);
    let approve = app.post(
        &format!("/api/v1/claims/{first}/approve"),
        Some(&committee2),
        json!({}),
    );
    assert_eq!((approve.status, approve.code()), (422, "cap_exceeded"));
}

pub fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(size.max(8), 7);
    bytes
}

#[test]
fn evidence_is_sniffed_limited_and_private() {
    let app = TestApp::start();
    let w = app.world();
    let needs_photo = item(&app, &w, "E01", json!({"evidence_required": true}));
    let villager = app.villager(&w.committee, w.households[0]);
    let id = claim(
        &app,
        &w,
        &villager,
        w.households[0],
        needs_photo,
        "2026-11-27",
    )
    .id();
    let committee2 = second_committee(&app, &w);
    let approve = app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&committee2),
        json!({}),
    );
    assert_eq!(
        (approve.status, approve.fields()),
        (422, vec!["evidence".to_owned()])
    );

    let path = format!("/api/v1/claims/{id}/evidence");
    let text = app.upload(
        &path,
        Some(&villager),
        "photo.jpg",
        b"just text, named like a photo".to_vec(),
    );
    assert_eq!((text.status, text.fields()), (422, vec!["file".to_owned()]));
    let huge = app.upload(&path, Some(&villager), "big.png", png(5 * 1024 * 1024 + 1));
    assert_eq!(huge.status, 413);
    for n in 0..4 {
        let resp = app.upload(&path, Some(&villager), "p.png", png(1000 + n));
        assert_eq!(resp.status, 201, "{}", resp.text);
        assert_eq!(resp.body["content_type"], "image/png");
    }
    assert_eq!(
        app.upload(&path, Some(&villager), "p.png", png(10))
            .fields(),
        vec!["file"]
    );

    let photos = app.get(&path, Some(&w.committee));
    let photo = photos.body["items"][0]["id"].as_i64().unwrap();
    let fetched = app.get(&format!("{path}/{photo}"), Some(&w.committee));
    assert_eq!(
        (fetched.status, fetched.header("content-type")),
        (200, Some("image/png"))
    );
    assert_eq!(fetched.header("cache-control"), Some("private, no-store"));
    let neighbour = app.villager(&w.committee, w.households[1]);
    assert_eq!(
        app.get(&format!("{path}/{photo}"), Some(&neighbour)).status,
        404
    );
    assert_eq!(app.get(&path, Some(&neighbour)).status, 404);

    let approve = app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&committee2),
        json!({}),
    );
    assert_eq!(approve.status, 200, "{}", approve.text);
}

#[test]
fn awards_follow_the_notice_policy() {
    let app = TestApp::start();
    let w = app.world();
    let open = item(&app, &w, "A01", json!({}));
    let resp = app.post_with_key(
        &format!("/api/v1/villages/{}/awards", w.qingle),
        &w.committee,
        "award-1",
        json!({"item_id": open, "household_ids": [w.households[0]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["claims"][0]["status"], "in_notice");
    let board = app.get("/api/v1/villages/qingle/notice-board", None);
    assert_eq!(board.body["in_notice"].as_array().unwrap().len(), 1);
    app.advance(Duration::days(6));
    let id = resp.body["claims"][0]["id"].as_i64().unwrap();
    let committee = app.token("qingle-committee");
    assert_eq!(wait_posted(&app, &committee, id)["status"], "posted");
    let board = app.get("/api/v1/villages/qingle/notice-board", None);
    assert_eq!(board.body["recent_postings"][0]["household"], "张*明");
    assert_eq!(board.body["head"]["seq"], 1);
}

#[test]
fn caps_are_checked_again_when_notice_ends() {
    let app = TestApp::start();
    let w = app.world();
    let monthly = item(&app, &w, "M01", json!({"cap_count": 2}));
    let committee2 = second_committee(&app, &w);
    let ids: Vec<i64> = ["2026-11-02", "2026-11-03"]
        .iter()
        .map(|day| {
            let id = claim(&app, &w, &w.committee, w.households[0], monthly, day).id();
            assert_eq!(
                app.post(
                    &format!("/api/v1/claims/{id}/approve"),
                    Some(&committee2),
                    json!({})
                )
                .status,
                200
            );
            id
        })
        .collect();
    let lower = json!({"code": "M01", "category": "孝老爱亲", "title": "事项M01", "points": "5", "period": "month",
                       "cap_count": 1, "proposers": ["villager", "group_leader", "committee"]});
    assert_eq!(
        app.send_put(&format!("/api/v1/checklist/{monthly}"), &w.committee, lower)
            .status,
        200
    );
    app.advance(Duration::days(6));
    let committee = app.token("qingle-committee");
    let second = wait_posted(&app, &committee, ids[1]);
    assert_eq!(second["status"], "posted");
    let first = get_claim(&app, &committee, ids[0]);
    assert_eq!(first["status"], "rejected", "{first}");
    assert!(
        first["events"].as_array().unwrap().last().unwrap()["note"]
            .as_str()
            .unwrap()
            .contains("上限")
    );
    let balance = app.get(
        &format!("/api/v1/households/{}/balance", w.households[0]),
        Some(&committee),
    );
    assert_eq!(balance.body["points"], "5.00");
}

#[test]
fn a_reversed_posting_shows_on_its_claim() {
    let app = TestApp::start();
    let w = app.world();
    app.patch(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
        json!({"policy": {"notice_days": 0}}),
    );
    let open = item(&app, &w, "A01", json!({}));
    let id = claim(&app, &w, &w.committee, w.households[0], open, "2026-11-27").id();
    let committee2 = second_committee(&app, &w);
    let posted = app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&committee2),
        json!({}),
    );
    assert_eq!(posted.body["status"], "posted", "{}", posted.text);
    let tx = posted.body["transaction_id"].as_i64().unwrap();
    let reversal = app.post_with_key(
        &format!("/api/v1/ledger/{tx}/reverse"),
        &w.committee,
        "rev",
        json!({"reason": "弄错了户"}),
    );
    assert_eq!(reversal.status, 201);
    assert_eq!(get_claim(&app, &w.committee, id)["status"], "reversed");
    // A reversed claim no longer counts against a cap.
    assert_eq!(
        claim(&app, &w, &w.committee, w.households[0], open, "2026-11-27").status,
        201
    );
}

/// A status the code does not know, written into the database by someone else, is an
/// error on reading — never shown as some other status.
#[test]
fn an_unknown_status_in_the_database_is_an_error_not_a_default() {
    use diesel::RunQueryDsl;
    let app = TestApp::start();
    let w = app.world();
    let item = item(&app, &w, "A01", json!({}));
    let submitted = claim(&app, &w, &w.committee, w.households[0], item, "2026-11-27");
    assert_eq!(submitted.status, 201, "{}", submitted.text);
    let id = submitted.id();
    let mut conn = app.db.connect();
    diesel::sql_query(format!(
        "UPDATE claims SET status = 'approved' WHERE id = {id}"
    ))
    .execute(&mut conn)
    .expect("raw update");
    let read = app.get(&format!("/api/v1/claims/{id}"), Some(&w.committee));
    assert_eq!(
        (read.status, read.code()),
        (500, "internal"),
        "an unknown status was read as something: {}",
        read.text
    );
    assert!(!read.text.contains("approved"), "{}", read.text);
}

#[test]
fn an_honour_that_belongs_to_a_person_names_the_member_who_earned_it() {
    let app = TestApp::start();
    let w = app.world();
    let university = item(
        &app,
        &w,
        "H01",
        json!({"member_required": true, "points": "30"}),
    );
    let listed = app.get(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(listed.body["items"][0]["member_required"], true);
    let unnamed = claim(
        &app,
        &w,
        &w.committee,
        w.households[0],
        university,
        "2026-11-27",
    );
    assert_eq!(unnamed.status, 422);
    assert_eq!(unnamed.fields(), ["member_id"], "{}", unnamed.text);
    let members = app.get(
        &format!("/api/v1/households/{}/members", w.households[0]),
        Some(&w.committee),
    );
    let student = members.body["items"][0]["id"].as_i64().unwrap();
    let named = app.post(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.committee),
        json!({"household_id": w.households[0], "item_id": university,
               "occurred_on": "2026-11-27", "member_id": student}),
    );
    assert_eq!(named.status, 201, "{}", named.text);
    assert_eq!(named.body["member_id"], student);
    // A whole-household award cannot name anyone, so it is refused for such an item.
    let award = app.post_with_key(
        &format!("/api/v1/villages/{}/awards", w.qingle),
        &w.committee,
        "award-university",
        json!({"item_id": university, "household_ids": [w.households[1]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(award.status, 422);
    assert_eq!(award.fields(), ["item_id"], "{}", award.text);
}
