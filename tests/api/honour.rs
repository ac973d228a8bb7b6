//! Issue 14: rankings, the honour board and stars (API.md "Honour, rankings and expiry").

use chrono::Duration;
use serde_json::{Value, json};

use crate::ledger::{add_item, award, ledger_world};
use crate::pages::{browser, page_text, signed_in_browser};
use crate::support::{TestApp, World};

fn awarded(app: &TestApp, w: &World, key: &str, item: i64, households: &[i64]) -> Value {
    let resp = award(
        app,
        w,
        key,
        json!({"item_id": item, "household_ids": households, "occurred_on": "2026-11-27"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.body
}

/// Patches the village's policy as its committee; it must be accepted.
pub fn policy(app: &TestApp, w: &World, policy: Value) {
    let resp = app.patch(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
        json!({ "policy": policy }),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
}

/// (household, rank, amount) of each item, in order.
fn standings(body: &Value) -> Vec<(i64, i64, String)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["household_id"].as_i64().unwrap(),
                i["rank"].as_i64().unwrap(),
                i["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn ranking(app: &TestApp, w: &World, token: &str, query: &str) -> Value {
    let resp = app.get(
        &format!("/api/v1/villages/{}/rankings?{query}", w.qingle),
        Some(token),
    );
    assert_eq!(resp.status, 200, "{query}: {}", resp.text);
    resp.body
}

#[test]
fn equal_honour_shares_a_rank_names_are_masked_and_pages_follow_on() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let [h0, h1, h2] = [w.households[0], w.households[1], w.households[2]];
    let ten = add_item(&app, &w, "A01", "10");
    let five = add_item(&app, &w, "A02", "5");
    awarded(&app, &w, "a1", ten, &[h1, h0]);
    awarded(&app, &w, "a2", five, &[h2]);

    let all = ranking(&app, &w, &w.committee, "");
    assert_eq!(
        (all["asset"].as_str(), all["period"].as_str()),
        (Some("honour"), Some("all"))
    );
    assert_eq!(
        standings(&all),
        [
            (h0, 1, "10.00".into()),
            (h1, 1, "10.00".into()),
            (h2, 3, "5.00".into())
        ]
    );
    assert_eq!(all["items"][0]["display_name"], "张小明");
    assert_eq!(all["items"][0]["group"], "第一村民小组");
    // A group leader works in the village but sees names masked.
    let led = ranking(&app, &w, &w.leader, "");
    assert_eq!(led["items"][0]["display_name"], "张*明");

    let first = ranking(&app, &w, &w.supervisor, "limit=2");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = ranking(&app, &w, &w.supervisor, &format!("limit=2&cursor={cursor}"));
    assert_eq!(standings(&second), [(h2, 3, "5.00".into())]);
    assert!(second["next_cursor"].is_null());

    // One group's households are ranked among themselves.
    let group = ranking(
        &app,
        &w,
        &w.committee,
        &format!("group_id={}", w.qingle_group2),
    );
    assert_eq!(standings(&group), [(h2, 1, "5.00".into())]);
}

#[test]
fn villagers_see_rankings_only_when_the_village_makes_them_public() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "10");
    awarded(&app, &w, "a1", item, &[w.households[1]]);
    let villager = app.villager(&w.committee, w.households[0]);
    let path = format!("/api/v1/villages/{}/rankings", w.qingle);
    assert_eq!(app.get(&path, Some(&villager)).status, 404);
    let groups = format!("/api/v1/villages/{}/group-rankings", w.qingle);
    assert_eq!(app.get(&groups, Some(&villager)).status, 404);

    policy(&app, &w, json!({"public_rankings": true}));
    let seen = app.get(&path, Some(&villager));
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["items"][0]["display_name"], "王*福");
    assert_eq!(seen.body["items"][0]["household_id"], w.households[1]);
    // Another village's committee still finds nothing there.
    assert_eq!(app.get(&path, Some(&w.other_committee)).status, 404);
}

#[test]
fn a_period_counts_what_was_awarded_deducted_and_reversed_in_it() {
    let app = TestApp::start();
    let mut w = ledger_world(&app);
    let [h0, h1, h2] = [w.households[0], w.households[1], w.households[2]];
    let ten = add_item(&app, &w, "A01", "10");
    let fine = add_item(&app, &w, "B01", "-3");
    // November (the clock starts on 28 November, Shanghai).
    let november = awarded(&app, &w, "nov", ten, &[h0, h1]);
    // 1 December 00:30 in Shanghai is still 30 November in UTC: December counts it.
    app.advance(Duration::hours(2 * 24 + 14) + Duration::minutes(30));
    w.committee = app.token("qingle-committee");
    awarded(&app, &w, "dec", ten, &[h2]);
    awarded(&app, &w, "fine", fine, &[h0]);
    let reversed = november["claims"][1]["transaction_id"].as_i64().unwrap();
    let resp = app.post_with_key(
        &format!("/api/v1/ledger/{reversed}/reverse"),
        &w.committee,
        "undo",
        json!({"reason": "记错了"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);

    let month = ranking(&app, &w, &w.committee, "period=month&at=2026-12-01");
    assert_eq!(
        (month["from"].as_str(), month["to"].as_str()),
        (Some("2026-12-01"), Some("2026-12-31"))
    );
    assert_eq!(
        standings(&month),
        [
            (h2, 1, "10.00".into()),
            (h0, 2, "-3.00".into()),
            (h1, 3, "-10.00".into())
        ]
    );
    let november_only = ranking(&app, &w, &w.committee, "period=month&at=2026-11-15");
    assert_eq!(
        standings(&november_only),
        [
            (h0, 1, "10.00".into()),
            (h1, 1, "10.00".into()),
            (h2, 3, "0.00".into())
        ]
    );
    // The quarter holds both months: what stands now, as the balances say.
    let quarter = ranking(
        &app,
        &w,
        &w.committee,
        "period=quarter&at=2026-11-01&asset=points",
    );
    assert_eq!(
        standings(&quarter),
        [
            (h2, 1, "10.00".into()),
            (h0, 2, "7.00".into()),
            (h1, 3, "0.00".into())
        ]
    );
    let all = ranking(&app, &w, &w.committee, "asset=points");
    assert_eq!(standings(&all), standings(&quarter));
    // Stars come from honour now, whatever the period.
    assert_eq!(month["items"][0]["stars"], 0);
}

#[test]
fn groups_rank_by_what_their_households_earned_on_average() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let [h0, h1, h2] = [w.households[0], w.households[1], w.households[2]];
    let ten = add_item(&app, &w, "A01", "10");
    let six = add_item(&app, &w, "A02", "6");
    awarded(&app, &w, "a1", ten, &[h0]);
    awarded(&app, &w, "a2", six, &[h1, h2]);
    let resp = app.get(
        &format!("/api/v1/villages/{}/group-rankings", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let items = resp.body["items"].as_array().unwrap();
    let row = |i: usize| {
        (
            items[i]["group_id"].as_i64().unwrap(),
            items[i]["rank"].as_i64().unwrap(),
            items[i]["households"].as_i64().unwrap(),
            items[i]["amount"].as_str().unwrap(),
            items[i]["per_household"].as_str().unwrap(),
        )
    };
    assert_eq!(row(0), (w.qingle_group1, 1, 2, "16.00", "8.00"));
    assert_eq!(row(1), (w.qingle_group2, 2, 1, "6.00", "6.00"));
}

#[test]
fn a_bad_ranking_query_names_its_field() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let other_group = app.post(
        &format!("/api/v1/villages/{}/groups", w.liangui),
        Some(&w.other_committee),
        json!({"name": "别村小组"}),
    );
    assert_eq!(other_group.status, 201, "{}", other_group.text);
    for (query, field) in [
        ("period=week", "period"),
        ("asset=gold", "asset"),
        ("at=2026-13-01", "at"),
        ("limit=0", "limit"),
        (&*format!("group_id={}", other_group.id()), "group_id"),
    ] {
        let resp = app.get(
            &format!("/api/v1/villages/{}/rankings?{query}", w.qingle),
            Some(&w.committee),
        );
        assert_eq!(resp.status, 422, "{query}: {}", resp.text);
        assert_eq!(resp.fields(), [field], "{query}");
    }
}

#[test]
fn the_honour_board_is_public_only_when_the_policy_says_and_black_only_with_deductions() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let [h0, h1, h2] = [w.households[0], w.households[1], w.households[2]];
    let ten = add_item(&app, &w, "A01", "10");
    let five = add_item(&app, &w, "A02", "5");
    let fine = add_item(&app, &w, "B01", "-2");
    awarded(&app, &w, "a1", ten, &[h0, h1]);
    awarded(&app, &w, "a2", five, &[h2]);
    awarded(&app, &w, "fine", fine, &[h2]);
    let board = "/api/v1/villages/qingle/honour-board";
    assert_eq!(app.get(board, None).status, 404);

    policy(
        &app,
        &w,
        json!({"public_rankings": true, "star_thresholds": ["3", "10"]}),
    );
    let resp = app.get(board, None);
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = &resp.body;
    assert_eq!(body["village"]["name"], "庆乐村");
    assert_eq!(
        (body["period"].as_str(), body["period_label"].as_str()),
        (Some("month"), Some("2026年11月"))
    );
    let red: Vec<_> = body["red"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rank"].as_i64().unwrap(),
                r["display_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        red,
        [
            (1, "张*明".into()),
            (1, "王*福".into()),
            (3, "黄*坤".into())
        ]
    );
    assert!(
        !resp.text.contains("13800138000"),
        "no phone on a public board"
    );
    assert_eq!(body["black"], json!([]));
    assert_eq!(body["stars"][0]["stars"], 2);
    assert_eq!(body["stars"][0]["title"], "二星级文明户");
    assert_eq!(body["stars"][0]["households"].as_array().unwrap().len(), 2);
    assert_eq!(body["stars"][1]["stars"], 1);
    assert_eq!(body["stars"][1]["households"][0]["door_no"], "8号");
    assert_eq!(body["head"]["seq"], 4);

    policy(&app, &w, json!({"public_deductions": true}));
    let black = app.get(board, None).body["black"].clone();
    assert_eq!(
        black,
        json!([{"door_no": "8号", "display_name": "黄*坤", "group": "第二村民小组",
                "items": ["事项B01"], "amount": "-2.00"}])
    );
    // Another month has nothing on either list.
    let later = app.get(&format!("{board}?period=month&at=2026-10-01"), None);
    assert_eq!(
        (later.body["red"].clone(), later.body["black"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(app.get(&format!("{board}?period=decade"), None).status, 422);
}

#[test]
fn the_home_page_shows_the_star_scale_the_next_star_and_the_expiry_warning() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let twelve = add_item(&app, &w, "A01", "12");
    awarded(&app, &w, "a1", twelve, &[w.households[0]]);
    policy(
        &app,
        &w,
        json!({"star_thresholds": ["5", "10", "20"],
               "expiry": {"kind": "annual", "month": 12, "day": 1}}),
    );
    let b = signed_in_browser(&app, &w.committee, w.households[0]);
    let home = page_text(&app, &b, "/h5/");
    for words in [
        "★★☆",
        "二星级文明户",
        "再得 8 荣誉分就升一星",
        "12 分将于 2026年12月1日 清零",
    ] {
        assert!(home.contains(words), "{words}: {home}");
    }
    assert!(
        !home.contains("/h5/honour/"),
        "no board link while rankings are private"
    );
    // 1 January: 清零 is 11 months away, too far to warn about.
    policy(
        &app,
        &w,
        json!({"expiry": {"kind": "annual", "month": 1, "day": 1}}),
    );
    let home = page_text(&app, &b, "/h5/");
    assert!(!home.contains("分将于"), "{home}");
}

#[test]
fn the_honour_board_page_appears_when_the_committee_makes_rankings_public() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let ten = add_item(&app, &w, "A01", "10");
    awarded(&app, &w, "a1", ten, &[w.households[0]]);
    let anyone = browser();
    let hidden = anyone.get(app.url("/h5/honour/qingle")).send().unwrap();
    assert_eq!(hidden.status(), 404);
    assert!(hidden.text().unwrap().contains("这个村还没有公开光荣榜"));
    assert!(!page_text(&app, &anyone, "/h5/board/qingle").contains("/h5/honour/qingle"));

    policy(&app, &w, json!({"public_rankings": true}));
    let page = anyone.get(app.url("/h5/honour/qingle")).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    for words in [
        "红榜",
        "第1名",
        "1号 张*明家",
        "+10 分",
        "2026年11月",
        "打印光荣榜",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert!(!html.contains("张小明") && !html.contains("黑榜"), "{html}");
    assert!(page_text(&app, &anyone, "/h5/board/qingle").contains("/h5/honour/qingle"));
    let b = signed_in_browser(&app, &w.committee, w.households[1]);
    assert!(page_text(&app, &b, "/h5/").contains("/h5/honour/qingle"));
    let bad = anyone
        .get(app.url("/h5/honour/qingle?period=decade"))
        .send()
        .unwrap();
    assert_eq!(bad.status(), 422);
}

fn issue_plates(app: &TestApp, w: &World, body: Value) -> crate::support::Resp {
    app.post(
        &format!("/api/v1/villages/{}/plates", w.qingle),
        Some(&w.committee),
        body,
    )
}

/// The token of each plate issued, by household.
fn plate_tokens(resp: &crate::support::Resp) -> Vec<(i64, String)> {
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.body["plates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let token = p["plate_token"].as_str().unwrap().to_owned();
            assert!(p["url"].as_str().unwrap().ends_with(&format!("/p/{token}")));
            (p["household_id"].as_i64().unwrap(), token)
        })
        .collect()
}

#[test]
fn a_door_plate_opens_the_households_honour_and_a_new_plate_voids_the_old() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let ten = add_item(&app, &w, "A01", "10");
    awarded(&app, &w, "a1", ten, &[w.households[0]]);
    let first = plate_tokens(&issue_plates(&app, &w, json!({})));
    assert_eq!(first.iter().map(|p| p.0).collect::<Vec<_>>(), w.households);
    assert!(
        first.iter().all(|(_, t)| t.len() >= 22),
        "at least 128 random bits"
    );
    assert!(
        plate_tokens(&issue_plates(&app, &w, json!({}))).is_empty(),
        "no plate is voided by issuing for the village"
    );

    let anyone = browser();
    let page = |token: &str| anyone.get(app.url(&format!("/p/{token}"))).send().unwrap();
    let own = page(&first[0].1);
    assert_eq!(own.status(), 200);
    let html = own.text().unwrap();
    for words in ["1号", "张*明家", ">10<", "事项A01", "2026年11月27日"] {
        assert!(html.contains(words), "{words}: {html}");
    }
    for never in ["张小明", "13800138000", "分可用", "全村排名"] {
        assert!(!html.contains(never), "{never} on a public plate: {html}");
    }
    policy(&app, &w, json!({"public_rankings": true}));
    let ranked = page(&first[0].1).text().unwrap();
    assert!(
        ranked.contains("第 1 名") && ranked.contains("共 3 户"),
        "{ranked}"
    );

    // Rotating one plate: the old address opens nothing, the new one the same household.
    let rotated = plate_tokens(&issue_plates(
        &app,
        &w,
        json!({"household_ids": [w.households[0]]}),
    ));
    assert_eq!(rotated.len(), 1);
    let old = page(&first[0].1);
    assert_eq!(old.status(), 404);
    assert!(old.text().unwrap().contains("门牌码已经停用"));
    assert!(page(&rotated[0].1).text().unwrap().contains("张*明家"));
    assert!(
        page(&first[1].1).text().unwrap().contains("王*福家"),
        "others keep theirs"
    );

    let stranger = issue_plates(
        &app,
        &w,
        json!({"household_ids": [w.households[1], w.liangui_household]}),
    );
    assert_eq!(stranger.status, 422, "{}", stranger.text);
    assert_eq!(stranger.fields(), ["household_ids[1]"]);
    let by_supervisor = app.post(
        &format!("/api/v1/villages/{}/plates", w.qingle),
        Some(&w.supervisor),
        json!({}),
    );
    assert_eq!(by_supervisor.status, 403);

    let sheet = app.get(
        &format!("/api/v1/villages/{}/plates/sheet", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(sheet.status, 200);
    assert_eq!(
        sheet.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(sheet.text.matches("<svg").count(), 3, "{}", sheet.text);
    assert!(sheet.text.contains("8号") && sheet.text.contains("庆乐村"));
    let mark = |token: &str| format!("码尾 {}", &token[token.len() - 6..]);
    assert!(
        !sheet.text.contains(&mark(&first[0].1)),
        "the replaced plate is not printed"
    );
    assert!(sheet.text.contains(&mark(&rotated[0].1)));
}

#[test]
fn plates_point_at_the_public_address() {
    let app = TestApp::start_with(|s| s.public_url = Some("https://jifen.example.cn/".into()));
    let w = ledger_world(&app);
    let resp = issue_plates(&app, &w, json!({"household_ids": [w.households[0]]}));
    let url = resp.body["plates"][0]["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(url.starts_with("https://jifen.example.cn/p/"), "{url}");
}
