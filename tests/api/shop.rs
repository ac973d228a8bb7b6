use chrono::Duration;
use serde_json::{Value, json};

use crate::ledger::{add_item, award, ledger_world};
use crate::support::{PASSWORD, Resp, TestApp, World};

pub struct Shop {
    pub w: World,
    pub id: i64,
    pub keeper: String,
    pub oil: i64,
    pub rice: i64,
}

/// A village that posts at once, households 0 and 1 with `points` each, and a shop
/// selling oil (30, 5 in stock) and rice (10, 100 in stock).
pub fn shop_world(app: &TestApp, points: &str) -> Shop {
    let w = ledger_world(app);
    let item = add_item(app, &w, "A01", points);
    let resp = award(
        app,
        &w,
        "seed-points",
        json!({"item_id": item, "household_ids": [w.households[0], w.households[1]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    let shop = app.post(
        "/api/v1/shops",
        Some(&w.admin),
        json!({"name": "庆乐积分超市", "village_ids": [w.qingle], "keeper": {"username": "qingle-shop", "password": PASSWORD, "name": "何美玲"}}),
    );
    assert_eq!(shop.status, 201, "{}", shop.text);
    let id = shop.id();
    let keeper = app.token("qingle-shop");
    let goods = |name: &str, unit: &str, price: &str, stock: i64| {
        let resp = app.post(
            &format!("/api/v1/shops/{id}/goods"),
            Some(&keeper),
            json!({"name": name, "unit": unit, "points_price": price, "cost_yuan": "25.00", "stock": stock}),
        );
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.id()
    };
    let oil = goods("食用油", "瓶", "30", 5);
    let rice = goods("大米", "袋", "10", 100);
    Shop {
        w,
        id,
        keeper,
        oil,
        rice,
    }
}

/// Moves the clock on and signs the staff in again (access tokens last 15 minutes).
fn advance(app: &TestApp, s: &mut Shop, by: Duration) {
    app.advance(by);
    s.w.admin = app.token("admin");
    s.w.committee = app.token("qingle-committee");
    s.w.supervisor = app.token("qingle-supervisor");
    s.keeper = app.token("qingle-shop");
}

pub fn issue(app: &TestApp, villager: &str, household: i64) -> Resp {
    let resp = app.post(
        &format!("/api/v1/households/{household}/payment-codes"),
        Some(villager),
        json!({}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp
}

pub fn redeem(app: &TestApp, s: &Shop, key: &str, code: &str, lines: Value) -> Resp {
    app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        &s.keeper,
        key,
        json!({"code": code, "lines": lines}),
    )
}

fn points(app: &TestApp, s: &Shop, household: i64) -> String {
    let resp = app.get(
        &format!("/api/v1/households/{household}/balance"),
        Some(&s.w.committee),
    );
    resp.body["points"].as_str().unwrap().to_owned()
}

fn stock(app: &TestApp, s: &Shop, goods: i64) -> i64 {
    let list = app.get(&format!("/api/v1/shops/{}/goods", s.id), Some(&s.keeper));
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == goods)
        .unwrap()["stock"]
        .as_i64()
        .unwrap()
}

fn verify_ok(app: &TestApp, s: &Shop) {
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", s.w.qingle),
        Some(&s.w.supervisor),
    );
    assert_eq!(report.body["ok"], true, "{}", report.text);
}

#[test]
fn a_code_is_scanned_redeemed_once_and_the_villager_sees_the_receipt() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let issued = issue(&app, &villager, s.w.households[0]);
    let code = issued.body["code"].as_str().unwrap().to_owned();
    assert_eq!((code.len(), &code[..1]), (18, "9"));
    assert!(issued.body["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(
        issued.body["qr_png"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    let code_id = issued.id();

    let scanned = app.post(
        &format!("/api/v1/shops/{}/scan", s.id),
        Some(&s.keeper),
        json!({"code": code}),
    );
    assert_eq!(scanned.status, 200, "{}", scanned.text);
    assert_eq!(
        (
            scanned.body["display_name"].as_str(),
            scanned.body["points"].as_str()
        ),
        (Some("张*明"), Some("100.00"))
    );

    let receipt = redeem(
        &app,
        &s,
        "r1",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}, {"goods_id": s.rice, "quantity": 2}]),
    );
    assert_eq!(receipt.status, 201, "{}", receipt.text);
    assert_eq!(receipt.body["total_points"], "50.00");
    assert_eq!(receipt.body["points_after"], "50.00");
    assert_eq!(
        receipt.body["receipt_no"],
        format!("{:03}-20261128-0001", s.id)
    );
    assert_eq!(receipt.body["lines"][0]["name"], "食用油");
    assert_eq!(receipt.body["chain"]["hash"].as_str().unwrap().len(), 64);
    assert_eq!((stock(&app, &s, s.oil), stock(&app, &s, s.rice)), (4, 98));

    let status = app.get(&format!("/api/v1/payment-codes/{code_id}"), Some(&villager));
    assert_eq!(status.body["status"], "used");
    assert_eq!(
        status.body["redemption"]["receipt_no"],
        receipt.body["receipt_no"]
    );
    let replay = redeem(
        &app,
        &s,
        "r1",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}, {"goods_id": s.rice, "quantity": 2}]),
    );
    assert_eq!(
        (replay.status, replay.header("idempotency-replayed")),
        (201, Some("true"))
    );
    assert_eq!(replay.body, receipt.body);
    let again = redeem(
        &app,
        &s,
        "r2",
        &code,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    assert_eq!((again.status, again.code()), (409, "code_used"));

    let next = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = redeem(
        &app,
        &s,
        "r3",
        &next,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    assert_eq!(
        second.body["receipt_no"],
        format!("{:03}-20261128-0002", s.id)
    );
    assert_eq!(points(&app, &s, s.w.households[0]), "40.00");
    let mine = app.get(
        &format!("/api/v1/redemptions/{}", second.id()),
        Some(&villager),
    );
    assert_eq!(mine.status, 200);
    let neighbour = app.villager(&s.w.committee, s.w.households[1]);
    assert_eq!(
        app.get(
            &format!("/api/v1/redemptions/{}", second.id()),
            Some(&neighbour)
        )
        .status,
        404
    );
    verify_ok(&app, &s);
}

#[test]
fn failed_redemptions_change_nothing() {
    let app = TestApp::start();
    let s = shop_world(&app, "40");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let too_dear = redeem(
        &app,
        &s,
        "k1",
        &code,
        json!([{"goods_id": s.oil, "quantity": 2}]),
    );
    assert_eq!(
        (too_dear.status, too_dear.code()),
        (422, "insufficient_points")
    );
    let too_many = redeem(
        &app,
        &s,
        "k2",
        &code,
        json!([{"goods_id": s.rice, "quantity": 1}, {"goods_id": s.oil, "quantity": 6}]),
    );
    assert_eq!(
        (too_many.status, too_many.code()),
        (422, "insufficient_stock")
    );
    let wrong_goods = redeem(
        &app,
        &s,
        "k3",
        &code,
        json!([{"goods_id": 9999, "quantity": 1}]),
    );
    assert_eq!(wrong_goods.fields(), vec!["lines[0].goods_id"]);
    assert_eq!(
        (
            points(&app, &s, s.w.households[0]),
            stock(&app, &s, s.oil),
            stock(&app, &s, s.rice)
        ),
        ("40.00".into(), 5, 100)
    );

    let mut typo = code.clone();
    typo.replace_range(5..6, if &code[5..6] == "1" { "2" } else { "1" });
    assert_eq!(
        redeem(
            &app,
            &s,
            "k4",
            &typo,
            json!([{"goods_id": s.rice, "quantity": 1}])
        )
        .code(),
        "code_invalid"
    );
    let unknown = "912345678901234567";
    assert_eq!(
        app.post(
            &format!("/api/v1/shops/{}/scan", s.id),
            Some(&s.keeper),
            json!({"code": unknown})
        )
        .code(),
        "code_invalid"
    );

    // The code survived every refusal.
    let ok = redeem(
        &app,
        &s,
        "k5",
        &code,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    assert_eq!(ok.status, 201, "{}", ok.text);

    let old = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let _new = issue(&app, &villager, s.w.households[0]);
    assert_eq!(
        redeem(
            &app,
            &s,
            "k6",
            &old,
            json!([{"goods_id": s.rice, "quantity": 1}])
        )
        .code(),
        "code_expired"
    );
    let fresh = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(Duration::seconds(61));
    let keeper = app.token("qingle-shop");
    let late = app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        &keeper,
        "k7",
        json!({"code": fresh, "lines": [{"goods_id": s.rice, "quantity": 1}]}),
    );
    assert_eq!((late.status, late.code()), (422, "code_expired"));

    // Only the shop's keeper works the counter.
    let other = app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        &s.w.committee,
        "k8",
        json!({"code": fresh, "lines": [{"goods_id": s.rice, "quantity": 1}]}),
    );
    assert_eq!(other.status, 404);
    assert_eq!(
        app.post(
            &format!("/api/v1/shops/{}/scan", s.id),
            Some(&s.w.admin),
            json!({"code": fresh})
        )
        .status,
        403
    );
}

#[test]
fn a_code_from_a_village_the_shop_does_not_serve_is_refused() {
    let app = TestApp::start();
    let s = shop_world(&app, "40");
    let outsider = app.villager(&s.w.other_committee, s.w.liangui_household);
    let code = issue(&app, &outsider, s.w.liangui_household).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = redeem(
        &app,
        &s,
        "k",
        &code,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    assert_eq!((resp.status, resp.code()), (422, "code_invalid"));
}

#[test]
fn voids_return_points_and_stock_once() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let receipt = redeem(
        &app,
        &s,
        "r1",
        &code,
        json!([{"goods_id": s.oil, "quantity": 2}]),
    );
    let id = receipt.id();
    let void = |token: &str, key: &str| {
        app.post_with_key(
            &format!("/api/v1/redemptions/{id}/void"),
            token,
            key,
            json!({"reason": "拿错了"}),
        )
    };
    let voided = void(&s.keeper, "v1");
    assert_eq!(voided.status, 201, "{}", voided.text);
    assert_eq!(voided.body["voided"], true);
    assert_eq!(
        (points(&app, &s, s.w.households[0]), stock(&app, &s, s.oil)),
        ("100.00".into(), 5)
    );
    assert_eq!(
        (void(&s.keeper, "v2").status, void(&s.keeper, "v2").code()),
        (409, "conflict")
    );
    let tx = receipt.body["transaction_id"].as_i64().unwrap();
    let reversal = app.post_with_key(
        &format!("/api/v1/ledger/{tx}/reverse"),
        &s.w.committee,
        "rv",
        json!({"reason": "x"}),
    );
    assert_eq!(reversal.status, 409, "a redemption is voided, not reversed");

    let code = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let late = redeem(
        &app,
        &s,
        "r2",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}]),
    )
    .id();
    app.advance(Duration::minutes(11));
    let keeper = app.token("qingle-shop");
    let committee = app.token("qingle-committee");
    let too_late = app.post_with_key(
        &format!("/api/v1/redemptions/{late}/void"),
        &keeper,
        "v3",
        json!({"reason": "晚了"}),
    );
    assert_eq!((too_late.status, too_late.code()), (409, "invalid_state"));
    let by_committee = app.post_with_key(
        &format!("/api/v1/redemptions/{late}/void"),
        &committee,
        "v4",
        json!({"reason": "村委会核实"}),
    );
    assert_eq!(by_committee.status, 201, "{}", by_committee.text);
    let supervisor = app.token("qingle-supervisor");
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", s.w.qingle),
        Some(&supervisor),
    );
    assert_eq!(report.body["ok"], true, "{}", report.text);
}

/// `n` villagers of one household, each with a live code of their own.
pub fn codes_of_many_members(app: &TestApp, s: &Shop, household: i64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let member = app.post(
                &format!("/api/v1/households/{household}/members"),
                Some(&s.w.committee),
                json!({"name": format!("成员{i}"), "relation": "子女"}),
            );
            let invite = app.post(
                &format!("/api/v1/households/{household}/invites"),
                Some(&s.w.committee),
                json!({"member_id": member.id()}),
            );
            let token = app
                .post(
                    "/api/v1/auth/invite",
                    None,
                    json!({"invite_code": invite.body["invite_code"]}),
                )
                .body["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            issue(app, &token, household).body["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

pub fn race(app: &TestApp, s: &Shop, codes: &[String], lines: Value) -> Vec<Resp> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = codes
            .iter()
            .enumerate()
            .map(|(i, code)| {
                let lines = lines.clone();
                scope.spawn(move || redeem(app, s, &format!("race-{i}"), code, lines))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn racing_spenders_never_overdraw_a_household() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let codes = codes_of_many_members(&app, &s, s.w.households[0], 8);
    let answers = race(
        &app,
        &s,
        &codes,
        json!([{"goods_id": s.rice, "quantity": 3}]),
    );
    let won = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(
        won,
        3,
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .filter(|a| a.status != 201)
            .all(|a| a.code() == "insufficient_points")
    );
    assert_eq!(points(&app, &s, s.w.households[0]), "10.00");
    assert_eq!(stock(&app, &s, s.rice), 91);
    verify_ok(&app, &s);
}

#[test]
fn one_code_is_spent_once_however_many_counters_scan_it() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let answers = race(
        &app,
        &s,
        &vec![code; 8],
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 1);
    assert!(
        answers
            .iter()
            .filter(|a| a.status != 201)
            .all(|a| a.code() == "code_used"),
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    assert_eq!(points(&app, &s, s.w.households[0]), "90.00");
    assert_eq!(stock(&app, &s, s.rice), 99);
}

#[test]
fn the_last_units_of_stock_go_to_exactly_that_many_buyers() {
    let app = TestApp::start();
    let s = shop_world(&app, "1000");
    let codes = codes_of_many_members(&app, &s, s.w.households[0], 8);
    let answers = race(
        &app,
        &s,
        &codes,
        json!([{"goods_id": s.oil, "quantity": 1}]),
    );
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 5);
    assert!(
        answers
            .iter()
            .filter(|a| a.status != 201)
            .all(|a| a.code() == "insufficient_stock")
    );
    assert_eq!(stock(&app, &s, s.oil), 0);
    assert_eq!(points(&app, &s, s.w.households[0]), "850.00");
    let receipts = app.get(
        &format!("/api/v1/shops/{}/redemptions?limit=500", s.id),
        Some(&s.keeper),
    );
    let mut numbers: Vec<String> = receipts.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["receipt_no"].as_str().unwrap().to_owned())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=5)
        .map(|n| format!("{:03}-20261128-{n:04}", s.id))
        .collect();
    assert_eq!(numbers, expected, "receipt numbers have no gaps");
    verify_ok(&app, &s);
}

#[test]
fn statements_net_voids_and_never_change_after_approval() {
    let app = TestApp::start();
    let mut s = shop_world(&app, "200");
    app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"yuan_per_point": "0.5"}}),
    );
    // A point is worth at most 100 yuan, so a statement's sums stay in range.
    let dear = app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"yuan_per_point": "100.01"}}),
    );
    assert_eq!(
        (dear.status, dear.fields()),
        (422, vec!["policy.yuan_per_point".to_owned()])
    );
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let mut receipts = Vec::new();
    for (i, quantity) in [3, 2, 1].iter().enumerate() {
        let code = issue(&app, &villager, s.w.households[0]).body["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let resp = redeem(
            &app,
            &s,
            &format!("r{i}"),
            &code,
            json!([{"goods_id": s.rice, "quantity": quantity}]),
        );
        assert_eq!(resp.status, 201, "{}", resp.text);
        receipts.push(resp.id());
    }
    let voided = app.post_with_key(
        &format!("/api/v1/redemptions/{}/void", receipts[1]),
        &s.keeper,
        "v",
        json!({"reason": "退货"}),
    );
    assert_eq!(voided.status, 201);

    let path = format!("/api/v1/shops/{}/settlements", s.id);
    let bad = app.post(
        &path,
        Some(&s.w.admin),
        json!({"period_start": "2026-11-30", "period_end": "2026-11-01"}),
    );
    assert_eq!(bad.fields(), vec!["period_end"]);
    // Today's redemptions may still be voided at the counter: only past days settle.
    let today = app.post(
        &path,
        Some(&s.w.admin),
        json!({"period_start": "2026-11-01", "period_end": "2026-11-28"}),
    );
    assert_eq!(
        (today.status, today.fields()),
        (422, vec!["period_end".to_owned()])
    );
    advance(&app, &mut s, Duration::days(1));
    assert_eq!(
        app.post(
            &path,
            Some(&s.keeper),
            json!({"period_start": "2026-11-01", "period_end": "2026-11-28"})
        )
        .status,
        403
    );
    let draft = app.post(
        &path,
        Some(&s.w.admin),
        json!({"period_start": "2026-11-01", "period_end": "2026-11-28"}),
    );
    assert_eq!(draft.status, 201, "{}", draft.text);
    assert_eq!(
        (
            draft.body["status"].as_str(),
            draft.body["redemptions"].as_i64()
        ),
        (Some("draft"), Some(2))
    );
    assert_eq!(
        (draft.body["points"].as_str(), draft.body["yuan"].as_str()),
        (Some("40.00"), Some("20.00"))
    );
    // What went home: four bags of rice (the voided two are not on it), at cost 25.00.
    assert_eq!(
        draft.body["goods"],
        json!([{"goods_id": s.rice, "name": "大米", "unit": "袋", "quantity": 4,
                "points": "40.00", "cost_yuan": "100.00"}]),
        "{}",
        draft.text
    );
    assert_eq!(draft.body["at_approval"], json!([]));
    // Who pays for 庆乐村's points when the statement is approved.
    let funded = app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"funding": [{"source": "collective", "percent": 60},
                                      {"source": "fiscal", "percent": 40}]}}),
    );
    assert_eq!(funded.status, 200, "{}", funded.text);
    let id = draft.id();

    let pay_early = app.post(
        &format!("/api/v1/settlements/{id}/pay"),
        Some(&s.w.admin),
        json!({"reference": "T1"}),
    );
    assert_eq!(pay_early.status, 409);
    let approved = app.post(
        &format!("/api/v1/settlements/{id}/approve"),
        Some(&s.w.admin),
        json!({}),
    );
    assert_eq!(approved.body["status"], "approved");
    // Where the village's chain stood and who paid, at approval, stay on the statement
    // whatever the village changes later.
    let head = app.get("/api/v1/villages/qingle/ledger/head", None);
    let at_approval = json!([{"village_id": s.w.qingle, "seq": head.body["seq"],
        "hash": head.body["hash"],
        "funding": [{"source": "collective", "percent": 60}, {"source": "fiscal", "percent": 40}]}]);
    assert_eq!(
        approved.body["at_approval"], at_approval,
        "{}",
        approved.text
    );
    app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"funding": [{"source": "donation", "percent": 100}]}}),
    );
    let kept = app.get(&format!("/api/v1/settlements/{id}"), Some(&s.w.admin));
    assert_eq!(kept.body["at_approval"], at_approval, "{}", kept.text);
    assert_eq!(
        app.post(
            &format!("/api/v1/settlements/{id}/approve"),
            Some(&s.w.admin),
            json!({})
        )
        .status,
        409
    );

    // A later void does not touch the approved figures, and nothing is settled twice.
    let committee = app.post_with_key(
        &format!("/api/v1/redemptions/{}/void", receipts[0]),
        &s.w.committee,
        "v2",
        json!({"reason": "核实后退回"}),
    );
    assert_eq!(committee.status, 201);
    let again = app.get(&format!("/api/v1/settlements/{id}"), Some(&s.keeper));
    assert_eq!(
        (
            again.body["points"].as_str(),
            again.body["redemptions"].as_i64()
        ),
        (Some("40.00"), Some(2))
    );
    let second = app.post(
        &path,
        Some(&s.w.admin),
        json!({"period_start": "2026-11-01", "period_end": "2026-11-28"}),
    );
    assert_eq!(second.body["redemptions"], 0);
    // ...but the shop's next statement takes the voided redemption's points back.
    assert_eq!(
        (
            second.body["carried_voids"].as_i64(),
            second.body["points"].as_str(),
            second.body["yuan"].as_str(),
            second.body["lines"][0]["kind"].as_str()
        ),
        (Some(1), Some("-30.00"), Some("-15.00"), Some("void")),
        "{}",
        second.text
    );

    let paid = app.post(
        &format!("/api/v1/settlements/{id}/pay"),
        Some(&s.w.admin),
        json!({"reference": "转账 0031", "paid_on": "2026-11-28"}),
    );
    assert_eq!(
        (paid.status, paid.body["status"].as_str()),
        (200, Some("paid")),
        "{}",
        paid.text
    );
    assert_eq!(paid.body["reference"], "转账 0031");
    let ledger = app.get(
        &format!("/api/v1/villages/{}/ledger", s.w.qingle),
        Some(&s.w.committee),
    );
    assert_eq!(ledger.body["items"][0]["kind"], "settlement");
    verify_ok(&app, &s);

    let csv = app.get(
        &format!("/api/v1/settlements/{id}/export"),
        Some(&s.w.admin),
    );
    assert_eq!(csv.status, 200);
    assert!(
        csv.text.starts_with('\u{feff}')
            && csv.text.contains("小票号")
            && csv.text.contains("合计,,,40.00,20.00"),
        "{}",
        csv.text
    );
    // Titled, the shop and period named, villages by name rather than id.
    assert!(
        csv.text.contains("庆乐积分超市 积分兑换结算单")
            && csv.text.contains("付款凭证：转账 0031")
            && csv.text.contains(",庆乐村,2026-"),
        "{}",
        csv.text
    );
    verify_ok(&app, &s);
    let second = second.id();
    for step in ["approve", "pay"] {
        let resp = app.post(
            &format!("/api/v1/settlements/{second}/{step}"),
            Some(&s.w.admin),
            json!({"reference": "退款 0032"}),
        );
        assert_eq!(resp.status, 200, "{step}: {}", resp.text);
    }
    assert_eq!(receivable(&app, &s), "0.00");
    verify_ok(&app, &s);
    let xlsx = app.get(
        &format!("/api/v1/settlements/{id}/export?format=xlsx"),
        Some(&s.w.admin),
    );
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/settlements/{id}/export?format=pdf"),
            Some(&s.w.admin)
        )
        .fields(),
        vec!["format"]
    );
}

/// The shop's receivable in qingle, from the village ledger's accounts.
fn receivable(app: &TestApp, s: &Shop) -> String {
    let mut conn = app.db.connect();
    let key = jifen::ledger::model::AccountKey::shop_receivable(s.w.qingle, s.id);
    let balance = jifen::ledger::service::shop_receivables(&mut conn, key.village_id)
        .unwrap()
        .into_iter()
        .find(|(shop, _)| *shop == s.id)
        .map_or(0, |(_, b)| b);
    jifen::amount::Amount::from_minor(balance).to_string()
}

fn redeem_rice(app: &TestApp, s: &Shop, villager: &str, key: &str, quantity: i64) -> i64 {
    let code = issue(app, villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = redeem(
        app,
        s,
        key,
        &code,
        json!([{"goods_id": s.rice, "quantity": quantity}]),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.id()
}

#[test]
fn a_redemption_on_a_statement_is_the_committees_to_void_and_never_paid_for_twice() {
    let app = TestApp::start();
    let mut s = shop_world(&app, "200");
    app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"void_window_minutes": 1440}}),
    );
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let kept = redeem_rice(&app, &s, &villager, "r1", 2);
    let returned = redeem_rice(&app, &s, &villager, "r2", 3);
    advance(&app, &mut s, Duration::hours(23));
    let path = format!("/api/v1/shops/{}/settlements", s.id);
    let draft = app.post(
        &path,
        Some(&s.w.admin),
        json!({"period_start": "2026-11-28", "period_end": "2026-11-28"}),
    );
    assert_eq!(draft.body["points"], "50.00", "{}", draft.text);

    // Still inside the shop's void window, but on a statement: not the shop's to void.
    let by_shop = app.post_with_key(
        &format!("/api/v1/redemptions/{returned}/void"),
        &s.keeper,
        "v1",
        json!({"reason": "退货"}),
    );
    assert_eq!(
        (by_shop.status, by_shop.code()),
        (409, "invalid_state"),
        "{}",
        by_shop.text
    );
    assert!(
        by_shop.body["detail"]
            .as_str()
            .unwrap()
            .contains("已进入结算单")
    );
    assert_eq!(points(&app, &s, s.w.households[0]), "150.00");

    // The committee may: the line leaves the draft and its totals follow.
    let by_committee = app.post_with_key(
        &format!("/api/v1/redemptions/{returned}/void"),
        &s.w.committee,
        "v2",
        json!({"reason": "核实后退回"}),
    );
    assert_eq!(by_committee.status, 201, "{}", by_committee.text);
    let draft = app.get(
        &format!("/api/v1/settlements/{}", draft.id()),
        Some(&s.w.admin),
    );
    assert_eq!(
        (
            draft.body["redemptions"].as_i64(),
            draft.body["points"].as_str(),
            draft.body["lines"].as_array().map(Vec::len)
        ),
        (Some(1), Some("20.00"), Some(1)),
        "{}",
        draft.text
    );
    assert_eq!(draft.body["lines"][0]["redemption_id"], kept);
    assert_eq!(receivable(&app, &s), "20.00");
    verify_ok(&app, &s);

    // Paid, then voided: the receivable goes negative (the shop owes it back) and the
    // books still agree; the next statement carries it.
    let id = draft.id();
    for step in ["approve", "pay"] {
        let resp = app.post(
            &format!("/api/v1/settlements/{id}/{step}"),
            Some(&s.w.admin),
            json!({"reference": "转账 0040"}),
        );
        assert_eq!(resp.status, 200, "{step}: {}", resp.text);
    }
    let late = app.post_with_key(
        &format!("/api/v1/redemptions/{kept}/void"),
        &s.w.committee,
        "v3",
        json!({"reason": "商品有问题"}),
    );
    assert_eq!(late.status, 201, "{}", late.text);
    assert_eq!(receivable(&app, &s), "-20.00");
    verify_ok(&app, &s);
    advance(&app, &mut s, Duration::days(1));
    let next = app.post(
        &path,
        Some(&s.w.admin),
        json!({"period_start": "2026-11-29", "period_end": "2026-11-29"}),
    );
    assert_eq!(
        (
            next.body["carried_voids"].as_i64(),
            next.body["points"].as_str()
        ),
        (Some(1), Some("-20.00")),
        "{}",
        next.text
    );
    // Its goods come back on the statement: two bags of rice the shop is not paid for.
    assert_eq!(
        next.body["goods"],
        json!([{"goods_id": s.rice, "name": "大米", "unit": "袋", "quantity": -2,
                "points": "-20.00", "cost_yuan": "-50.00"}]),
        "{}",
        next.text
    );
    // A void is carried once: the statement after that has nothing to take back.
    let after = app.post(
        &path,
        Some(&s.w.admin),
        json!({"period_start": "2026-11-29", "period_end": "2026-11-29"}),
    );
    assert_eq!(after.body["carried_voids"], 0, "{}", after.text);

    // verify checks the equation: a statement line edited behind jifen's back shows.
    for step in ["approve", "pay"] {
        let resp = app.post(
            &format!("/api/v1/settlements/{}/{step}", next.id()),
            Some(&s.w.admin),
            json!({"reference": "退款 0041"}),
        );
        assert_eq!(resp.status, 200, "{step}: {}", resp.text);
    }
    assert_eq!(receivable(&app, &s), "0.00");
    verify_ok(&app, &s);
    let mut conn = app.db.connect();
    diesel::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM settlement_lines WHERE void_id IS NOT NULL"),
        &mut conn,
    )
    .unwrap();
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", s.w.qingle),
        Some(&s.w.supervisor),
    );
    assert_eq!(report.body["ok"], false, "{}", report.text);
    assert!(report.text.contains("receivable"), "{}", report.text);
}

#[test]
fn voids_racing_a_statement_never_leave_the_shop_paid_for_goods_it_took_back() {
    let app = TestApp::start();
    let mut s = shop_world(&app, "200");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let receipts: Vec<i64> = (0..6)
        .map(|i| redeem_rice(&app, &s, &villager, &format!("r{i}"), 1))
        .collect();
    advance(&app, &mut s, Duration::days(1));
    let (draft, voids) = std::thread::scope(|scope| {
        let s = &s;
        let app = &app;
        let draft = scope.spawn(move || {
            let draft = app.post(
                &format!("/api/v1/shops/{}/settlements", s.id),
                Some(&s.w.admin),
                json!({"period_start": "2026-11-28", "period_end": "2026-11-28"}),
            );
            let approved = app.post(
                &format!("/api/v1/settlements/{}/approve", draft.id()),
                Some(&s.w.admin),
                json!({}),
            );
            assert_eq!(approved.status, 200, "{}", approved.text);
            draft.id()
        });
        let voids: Vec<_> = receipts
            .iter()
            .map(|id| {
                scope.spawn(move || {
                    app.post_with_key(
                        &format!("/api/v1/redemptions/{id}/void"),
                        &s.w.committee,
                        &format!("v{id}"),
                        json!({"reason": "退回"}),
                    )
                    .status
                })
            })
            .collect();
        (
            draft.join().unwrap(),
            voids
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>(),
        )
    });
    assert!(voids.iter().all(|s| *s == 201), "{voids:?}");
    // Whatever the order, the approved statement and the next one net to nothing.
    let next = app.post(
        &format!("/api/v1/shops/{}/settlements", s.id),
        Some(&s.w.admin),
        json!({"period_start": "2026-11-28", "period_end": "2026-11-28"}),
    );
    let approved = app.get(&format!("/api/v1/settlements/{draft}"), Some(&s.w.admin));
    let on_approved = approved.body["lines"].as_array().unwrap().len() as i64;
    assert_eq!(
        (
            approved.body["redemptions"].as_i64(),
            next.body["carried_voids"].as_i64()
        ),
        (Some(on_approved), Some(on_approved)),
        "{} / {}",
        approved.text,
        next.text
    );
    assert_eq!(receivable(&app, &s), "0.00");
    verify_ok(&app, &s);
}

pub fn card_redeem(
    app: &TestApp,
    s: &Shop,
    keeper: &str,
    key: &str,
    token: &str,
    pin: &str,
    quantity: i64,
) -> Resp {
    app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        keeper,
        key,
        json!({"card_token": token, "pin": pin, "lines": [{"goods_id": s.rice, "quantity": quantity}]}),
    )
}

pub fn new_card(app: &TestApp, s: &Shop, pin: &str) -> String {
    let issued = app.post(
        &format!("/api/v1/households/{}/cards", s.w.households[0]),
        Some(&s.w.committee),
        json!({"pin": pin}),
    );
    assert_eq!(issued.status, 201, "{}", issued.text);
    issued.body["card_token"].as_str().unwrap().to_owned()
}

/// `n` redemptions of 30 points with one card at once, each with its own key and each
/// buying 3 of one of `goods` (in turn, so no one goods row serialises them); the codes
/// of their answers.
fn card_race(
    app: &TestApp,
    s: &Shop,
    token: &str,
    pin: &str,
    goods: &[i64],
    n: usize,
) -> Vec<String> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let goods_id = goods[i % goods.len()];
                scope.spawn(move || {
                    let resp = app.post_with_key(
                        &format!("/api/v1/shops/{}/redemptions", s.id),
                        &s.keeper,
                        &format!("c{pin}{i}"),
                        json!({"card_token": token, "pin": pin, "lines": [{"goods_id": goods_id, "quantity": 3}]}),
                    );
                    match resp.status {
                        201 => "redeemed".to_owned(),
                        _ => resp.code().to_owned(),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn count(answers: &[String], what: &str) -> usize {
    answers.iter().filter(|a| *a == what).count()
}

#[test]
fn racing_wrong_pins_lock_the_card_after_exactly_five() {
    let app = TestApp::start();
    let s = shop_world(&app, "200");
    let token = new_card(&app, &s, "2580");
    let answers = card_race(&app, &s, &token, "1111", &[s.rice], 20);
    assert_eq!(
        (
            count(&answers, "pin_incorrect"),
            count(&answers, "card_locked")
        ),
        (4, 16),
        "{answers:?}"
    );
    let right = card_redeem(&app, &s, &s.keeper, "after", &token, "2580", 1);
    assert_eq!(
        (right.status, right.code()),
        (423, "card_locked"),
        "{}",
        right.text
    );
    assert_eq!(points(&app, &s, s.w.households[0]), "200.00");
}

#[test]
fn racing_card_redemptions_never_pass_the_daily_cap() {
    let app = TestApp::start();
    let s = shop_world(&app, "1000");
    let token = new_card(&app, &s, "2580");
    let goods: Vec<i64> = ["面条", "肥皂", "毛巾"]
        .iter()
        .map(|name| {
            let resp = app.post(
                &format!("/api/v1/shops/{}/goods", s.id),
                Some(&s.keeper),
                json!({"name": name, "unit": "个", "points_price": "10", "cost_yuan": "8.00", "stock": 100}),
            );
            resp.id()
        })
        .chain([s.rice])
        .collect();
    // The default cap is 200 points a day: six 30-point redemptions fit, a seventh not.
    let answers = card_race(&app, &s, &token, "2580", &goods, 30);
    assert_eq!(
        (count(&answers, "redeemed"), count(&answers, "cap_exceeded")),
        (6, 24),
        "{answers:?}"
    );
    assert_eq!(points(&app, &s, s.w.households[0]), "820.00");
    verify_ok(&app, &s);
}

#[test]
fn household_cards_pay_with_a_pin_and_lock_after_wrong_ones() {
    let app = TestApp::start();
    let s = shop_world(&app, "200");
    let issued = app.post(
        &format!("/api/v1/households/{}/cards", s.w.households[0]),
        Some(&s.w.committee),
        json!({"pin": "2580"}),
    );
    assert_eq!(issued.status, 201, "{}", issued.text);
    let token = issued.body["card_token"].as_str().unwrap().to_owned();
    let serial = issued.body["serial"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 25);
    assert_eq!(issued.body["display_name"], "张*明");
    assert_eq!(
        app.post(
            &format!("/api/v1/households/{}/cards", s.w.households[0]),
            Some(&s.keeper),
            json!({"pin": "2580"})
        )
        .status,
        404
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/households/{}/cards", s.w.households[0]),
            Some(&s.w.committee),
            json!({"pin": "12"})
        )
        .fields(),
        vec!["pin"]
    );

    let scanned = app.post(
        &format!("/api/v1/shops/{}/scan", s.id),
        Some(&s.keeper),
        json!({"card_token": token}),
    );
    assert_eq!(
        (scanned.status, scanned.body["household_id"].as_i64()),
        (200, Some(s.w.households[0]))
    );
    let paid = card_redeem(&app, &s, &s.keeper, "c1", &token, "2580", 1);
    assert_eq!(paid.status, 201, "{}", paid.text);
    assert_eq!(paid.body["points_after"], "190.00");

    for i in 0..4 {
        let wrong = card_redeem(&app, &s, &s.keeper, &format!("w{i}"), &token, "0000", 1);
        assert_eq!((wrong.status, wrong.code()), (422, "pin_incorrect"));
    }
    let replay = card_redeem(&app, &s, &s.keeper, "w3", &token, "0000", 1);
    assert_eq!(
        replay.header("idempotency-replayed"),
        Some("true"),
        "a replay is not another attempt"
    );
    let fifth = card_redeem(&app, &s, &s.keeper, "w4", &token, "0000", 1);
    assert_eq!((fifth.status, fifth.code()), (423, "card_locked"));
    assert_eq!(
        card_redeem(&app, &s, &s.keeper, "c2", &token, "2580", 1).code(),
        "card_locked"
    );
    assert_eq!(points(&app, &s, s.w.households[0]), "190.00");
    assert_eq!(stock(&app, &s, s.rice), 99);

    app.advance(Duration::minutes(30));
    let keeper = app.token("qingle-shop");
    assert_eq!(
        card_redeem(&app, &s, &keeper, "c3", &token, "2580", 1).status,
        201
    );
    for i in 0..5 {
        card_redeem(&app, &s, &keeper, &format!("x{i}"), &token, "1111", 1);
    }
    app.advance(Duration::minutes(31));
    let keeper = app.token("qingle-shop");
    let held = card_redeem(&app, &s, &keeper, "c4", &token, "2580", 1);
    assert_eq!(
        (held.status, held.code()),
        (423, "card_locked"),
        "ten wrong in a day hold the card"
    );
    let committee = app.token("qingle-committee");
    let unlocked = app.post(
        &format!("/api/v1/cards/{serial}/unlock"),
        Some(&committee),
        json!({}),
    );
    assert_eq!(
        (unlocked.status, unlocked.body["status"].as_str()),
        (200, Some("active"))
    );
    assert_eq!(
        card_redeem(&app, &s, &keeper, "c5", &token, "2580", 1).status,
        201
    );

    let renewed = app.post(
        &format!("/api/v1/households/{}/cards", s.w.households[0]),
        Some(&committee),
        json!({"pin": "1357"}),
    );
    assert_eq!(renewed.status, 201);
    assert_eq!(
        card_redeem(&app, &s, &keeper, "c6", &token, "2580", 1).code(),
        "code_invalid",
        "the old card stops working"
    );
}

#[test]
fn a_card_spends_at_most_the_daily_cap() {
    let app = TestApp::start();
    let s = shop_world(&app, "500");
    app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"card_daily_cap": "50"}}),
    );
    let token = app
        .post(
            &format!("/api/v1/households/{}/cards", s.w.households[0]),
            Some(&s.w.committee),
            json!({"pin": "2580"}),
        )
        .body["card_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        card_redeem(&app, &s, &s.keeper, "d1", &token, "2580", 3).status,
        201
    );
    let over = card_redeem(&app, &s, &s.keeper, "d2", &token, "2580", 3);
    assert_eq!((over.status, over.code()), (422, "cap_exceeded"));
    assert_eq!(
        card_redeem(&app, &s, &s.keeper, "d3", &token, "2580", 2).status,
        201,
        "exactly up to the cap"
    );
    app.advance(Duration::days(1));
    let keeper = app.token("qingle-shop");
    assert_eq!(
        card_redeem(&app, &s, &keeper, "d4", &token, "2580", 3).status,
        201,
        "a new day"
    );
}

#[test]
fn a_sheet_of_cards_prints_without_pins() {
    let app = TestApp::start();
    let s = shop_world(&app, "10");
    let resp = app.post(
        &format!("/api/v1/villages/{}/cards/sheet", s.w.qingle),
        Some(&s.w.committee),
        json!({"cards": [{"household_id": s.w.households[0], "pin": "2580"}, {"household_id": s.w.households[1], "pin": "1357"}]}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(
        resp.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(resp.text.matches("<svg").count(), 2);
    assert!(
        resp.text.contains("张*明") && resp.text.contains("1号") && !resp.text.contains("张小明")
    );
    let bad = app.post(
        &format!("/api/v1/villages/{}/cards/sheet", s.w.qingle),
        Some(&s.w.committee),
        json!({"cards": [{"household_id": s.w.liangui_household, "pin": "2580"}]}),
    );
    assert_eq!(bad.fields(), vec!["cards[0].household_id"]);
}

#[test]
fn the_township_renames_a_shop_and_changes_the_villages_it_serves() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let token = new_card(&app, &s, "2468");
    let path = format!("/api/v1/shops/{}", s.id);

    let bad = app.patch(&path, Some(&s.w.admin), json!({"village_ids": [9999]}));
    assert_eq!(
        (bad.status, bad.fields()),
        (422, vec!["village_ids[0]".to_owned()])
    );
    let by_committee = app.patch(&path, Some(&s.w.committee), json!({"name": "别的名字"}));
    assert_eq!(by_committee.status, 403);
    assert_eq!(
        card_redeem(&app, &s, &s.keeper, "before", &token, "2468", 1).status,
        201
    );

    // From now on the shop serves 莲桂村 alone: a 庆乐村 card buys nothing here.
    let moved = app.patch(
        &path,
        Some(&s.w.admin),
        json!({"name": "莲桂积分超市", "village_ids": [s.w.liangui]}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["village_ids"], json!([s.w.liangui]));
    let refused = card_redeem(&app, &s, &s.keeper, "after", &token, "2468", 1);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains("本店不为这个村兑换"),
        "{}",
        refused.text
    );
    let listed = app.get("/api/v1/shops", Some(&s.w.admin));
    assert!(listed.text.contains("莲桂积分超市"), "{}", listed.text);

    // The sale made before is still the shop's, to settle as ever.
    let sales = app.get(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        Some(&s.w.admin),
    );
    assert_eq!(sales.body["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_village_that_settles_at_cost_pays_the_shop_what_the_goods_cost() {
    let app = TestApp::start();
    let mut s = shop_world(&app, "200");
    let at_cost = app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"settle_at": "cost_price", "yuan_per_point": "2.00"}}),
    );
    assert_eq!(at_cost.status, 200, "{}", at_cost.text);
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    // 30 points of oil and 20 of rice; each costs the shop 25.00 yuan.
    let paid = redeem(
        &app,
        &s,
        "mixed",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}, {"goods_id": s.rice, "quantity": 2}]),
    );
    assert_eq!(paid.status, 201, "{}", paid.text);
    advance(&app, &mut s, Duration::days(1));
    let statement = app.post(
        &format!("/api/v1/shops/{}/settlements", s.id),
        Some(&s.w.admin),
        json!({"period_start": "2026-11-01", "period_end": "2026-11-28"}),
    );
    assert_eq!(statement.status, 201, "{}", statement.text);
    assert_eq!(
        (
            statement.body["points"].as_str(),
            statement.body["yuan"].as_str()
        ),
        (Some("50.00"), Some("75.00")),
        "{}",
        statement.text
    );
    // The statement keeps the basis it was drawn up on, whatever the policy says later.
    let back = app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        json!({"policy": {"settle_at": "points_rate", "yuan_per_point": "1.00"}}),
    );
    assert_eq!(back.status, 200, "{}", back.text);
    let read = app.get(
        &format!("/api/v1/settlements/{}", statement.id()),
        Some(&s.w.admin),
    );
    assert_eq!(
        read.body["bases"],
        json!([{"village_id": s.w.qingle, "settle_at": "cost_price", "yuan_per_point": "2.00"}]),
        "{}",
        read.text
    );
    assert_eq!(read.body["yuan"], "75.00");
}

#[test]
fn a_scan_holds_the_code_for_that_shop_until_the_checkout_is_done() {
    let app = TestApp::start();
    let mut s = shop_world(&app, "100");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let scanned = issue(&app, &villager, s.w.households[0]);
    let code = scanned.body["code"].as_str().unwrap().to_owned();
    let scan = |keeper: &str, shop: i64| {
        app.post(
            &format!("/api/v1/shops/{shop}/scan"),
            Some(keeper),
            json!({"code": code}),
        )
    };
    // Scanned 55 s into its 60 s life, while the villager's page renews it.
    app.advance(Duration::seconds(55));
    assert_eq!(scan(&s.keeper, s.id).status, 200);
    let status = app.get(
        &format!("/api/v1/payment-codes/{}", scanned.id()),
        Some(&villager),
    );
    assert_eq!(status.body["status"], "active");
    assert_eq!(status.body["reserved_by"], "庆乐积分超市");
    issue(&app, &villager, s.w.households[0]);

    // Another shop serving the village may not take it meanwhile.
    let other = app.post(
        "/api/v1/shops",
        Some(&s.w.admin),
        json!({"name": "庆乐二店", "village_ids": [s.w.qingle], "keeper": {"username": "qingle-shop2", "password": crate::support::PASSWORD, "name": "韦秀英"}}),
    );
    assert_eq!(other.status, 201, "{}", other.text);
    let second = app.token("qingle-shop2");
    let refused = scan(&second, other.id());
    assert_eq!(
        (refused.status, refused.code()),
        (422, "code_invalid"),
        "{}",
        refused.text
    );
    assert!(refused.text.contains("正在别的店结算"), "{}", refused.text);

    // Two minutes later, long past its first expiry, the checkout still goes through.
    advance(&app, &mut s, Duration::seconds(120));
    let sold = redeem(
        &app,
        &s,
        "held",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}]),
    );
    assert_eq!(sold.status, 201, "{}", sold.text);

    // A code scanned and left: its hold ends three minutes after the scan.
    let left = issue(&app, &villager, s.w.households[0]);
    let left_code = left.body["code"].as_str().unwrap().to_owned();
    let rescan = app.post(
        &format!("/api/v1/shops/{}/scan", s.id),
        Some(&s.keeper),
        json!({"code": left_code}),
    );
    assert_eq!(rescan.status, 200, "{}", rescan.text);
    advance(&app, &mut s, Duration::seconds(181));
    let late = redeem(
        &app,
        &s,
        "late",
        &left_code,
        json!([{"goods_id": s.rice, "quantity": 1}]),
    );
    assert_eq!(late.code(), "code_expired", "{}", late.text);
}

#[test]
fn goods_carry_their_package_barcode_once_per_shop() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let set = |goods: i64, barcode: &str| {
        app.patch(
            &format!("/api/v1/goods/{goods}"),
            Some(&s.keeper),
            json!({ "barcode": barcode }),
        )
    };
    let tagged = set(s.oil, "6901234567892");
    assert_eq!(tagged.status, 200, "{}", tagged.text);
    assert_eq!(tagged.body["barcode"], "6901234567892");
    let wrong = set(s.rice, "6901234567893");
    assert_eq!(
        (wrong.status, wrong.fields()),
        (422, vec!["barcode".to_owned()]),
        "a bad check digit"
    );
    let taken = set(s.rice, "6901234567892");
    assert_eq!(
        (taken.status, taken.fields()),
        (422, vec!["barcode".to_owned()]),
        "{}",
        taken.text
    );
    assert_eq!(
        set(s.oil, "").body["barcode"],
        Value::Null,
        "empty takes it away"
    );
    assert_eq!(set(s.rice, "6901234567892").status, 200, "free again");
    let created = app.post(
        &format!("/api/v1/shops/{}/goods", s.id),
        Some(&s.keeper),
        json!({"name": "酱油", "unit": "瓶", "points_price": "6", "cost_yuan": "5.50", "stock": 3, "barcode": "96385074"}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["barcode"], "96385074");
}
