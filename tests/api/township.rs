//! Issue 15: the township's dashboard and exports (API.md "Township reports and exports").

use calamine::Reader;
use serde_json::{Value, json};

use crate::ledger::add_item;
use crate::shop::{issue, redeem, shop_world};
use crate::support::TestApp;

/// Deducts `item`'s points from one household of qingle, as the committee's award of a
/// negative item does.
pub fn deduct(
    app: &TestApp,
    w: &crate::support::World,
    key: &str,
    item: i64,
    household: i64,
    on: &str,
) -> crate::support::Resp {
    let resp = app.post_with_key(
        &format!("/api/v1/villages/{}/awards", w.qingle),
        &w.committee,
        key,
        json!({"item_id": item, "household_ids": [household], "occurred_on": on}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp
}

fn dashboard(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app.get(&format!("/api/v1/township/dashboard{query}"), Some(token));
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body
}

fn row(board: &Value, village: i64) -> &Value {
    board["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["village_id"] == village)
        .unwrap_or_else(|| panic!("village {village} not in {board}"))
}

#[test]
fn the_dashboard_counts_what_households_did_and_what_the_township_owes() {
    let app = TestApp::start();
    // Households 0 and 1 of qingle hold 100 points each; a shop sells oil at 30.
    let s = shop_world(&app, "100");
    let w = &s.w;
    let litter = add_item(&app, w, "D01", "-5");
    deduct(&app, w, "deduct", litter, w.households[1], "2026-11-27");
    let villager = app.villager(&w.committee, w.households[0]);
    let code = issue(&app, &villager, w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let sold = redeem(
        &app,
        &s,
        "sale",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}]),
    );
    assert_eq!(sold.status, 201, "{}", sold.text);

    let board = dashboard(&app, &w.admin, "");
    assert_eq!(board["from"], "2026-01-01");
    assert_eq!(board["to"], "2026-12-31");
    let qingle = row(&board, w.qingle);
    assert_eq!(qingle["name"], "庆乐村");
    assert_eq!(qingle["households"], 3);
    // Households 0 and 1 were awarded (1 also deducted, 0 also spent); 2 did nothing.
    assert_eq!(qingle["active_households"], 2);
    assert_eq!(qingle["participation"], "0.67");
    assert_eq!(qingle["awarded"], "200.00");
    assert_eq!(qingle["deducted"], "5.00");
    assert_eq!(qingle["redeemed"], "30.00");
    assert_eq!(qingle["expired"], "0.00");
    assert_eq!(qingle["outstanding"], "165.00");
    assert_eq!(qingle["liability_yuan"], "165.00");
    assert_eq!(qingle["redemptions"], 1);
    let liangui = row(&board, w.liangui);
    assert_eq!(
        (
            liangui["households"].as_i64(),
            liangui["participation"].as_str()
        ),
        (Some(1), Some("0.00"))
    );
    let totals = &board["totals"];
    assert_eq!(totals["households"], 4);
    assert_eq!(totals["participation"], "0.50");
    assert_eq!(totals["outstanding"], "165.00");
    assert_eq!(board["by_category"][0]["category"], "类别");
    let november = board["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == "2026-11")
        .unwrap()
        .clone();
    assert_eq!(
        (november["awarded"].as_str(), november["redeemed"].as_str()),
        (Some("200.00"), Some("30.00"))
    );
    assert_eq!(board["by_month"].as_array().unwrap().len(), 12);

    // A period before anything happened counts nothing but what is held now.
    let spring = dashboard(&app, &w.admin, "?from=2026-03-01&to=2026-03-31");
    assert_eq!(row(&spring, w.qingle)["awarded"], "0.00");
    assert_eq!(row(&spring, w.qingle)["outstanding"], "165.00");
}

#[test]
fn committees_see_their_own_village_and_villagers_none() {
    let app = TestApp::start();
    let w = app.world();
    let own = dashboard(&app, &w.committee, "");
    let ids: Vec<i64> = own["villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["village_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [w.qingle]);
    assert_eq!(
        dashboard(&app, &w.supervisor, "")["villages"][0]["village_id"],
        w.qingle
    );
    let leader = app.get("/api/v1/township/dashboard", Some(&w.leader));
    assert_eq!(leader.status, 403, "{}", leader.text);
    let villager = app.villager(&w.committee, w.households[0]);
    let resp = app.get("/api/v1/township/dashboard", Some(&villager));
    assert_eq!(resp.status, 404, "{}", resp.text);
}

#[test]
fn a_bad_period_is_refused_by_name() {
    let app = TestApp::start();
    let w = app.world();
    for (query, field) in [
        ("?from=2026-13-01", "from"),
        ("?from=2026-05-01&to=2026-04-01", "to"),
        ("?from=2020-01-01&to=2026-01-01", "to"),
    ] {
        let resp = app.get(
            &format!("/api/v1/township/dashboard{query}"),
            Some(&w.admin),
        );
        assert_eq!(resp.status, 422, "{query}: {}", resp.text);
        assert_eq!(resp.fields(), [field], "{query}");
    }
}

#[test]
fn the_dashboard_exports_as_a_titled_sheet_with_a_chinese_name() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let csv = app.get(
        "/api/v1/township/dashboard/export?format=csv",
        Some(&s.w.admin),
    );
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let disposition = csv.header("content-disposition").unwrap();
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let name = percent_encoding::percent_decode_str(disposition.split("UTF-8''").nth(1).unwrap())
        .decode_utf8()
        .unwrap()
        .into_owned();
    assert!(
        name.contains("积分工作统计") && name.ends_with(".csv"),
        "{name}"
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].contains("积分工作统计"), "{}", lines[0]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("期间：2026-01-01 至 2026-12-31"))
    );
    let header = lines
        .iter()
        .position(|l| l.starts_with("村,户数,"))
        .unwrap();
    assert!(
        lines[header + 1].starts_with("庆乐村,3,2,0.67,"),
        "{}",
        lines[header + 1]
    );
    // Each village's chain head, whole, as the village's verify report gives it.
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", s.w.qingle),
        Some(&s.w.supervisor),
    );
    let head = format!(
        "第 {} 笔 {}",
        report.body["head"]["seq"],
        report.body["head"]["hash"].as_str().unwrap()
    );
    assert!(
        lines[header + 1].ends_with(&head),
        "{} / {head}",
        lines[header + 1]
    );
    assert!(lines.last().unwrap().starts_with("合计,4,"));

    let xlsx = app.get("/api/v1/township/dashboard/export", Some(&s.w.admin));
    assert_eq!(xlsx.status, 200);
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes)).unwrap();
    let name = book.sheet_names()[0].clone();
    assert!(name.contains("积分工作统计"), "{name}");
    let cells = book.worksheet_range(&name).unwrap();
    let qingle = cells
        .rows()
        .find(|r| r[0] == "庆乐村")
        .expect("a row for 庆乐村");
    // Numbers are numbers, not text.
    assert_eq!(qingle[1], calamine::Data::Float(3.0));
    assert_eq!(qingle[3], calamine::Data::Float(0.67));
}

fn csv_rows(resp: &crate::support::Resp) -> Vec<String> {
    assert_eq!(resp.status, 200, "{}", resp.text);
    let lines: Vec<String> = resp.text.lines().map(str::to_owned).collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("门牌号,"))
        .unwrap_or_else(|| panic!("no header in {}", resp.text));
    lines[header..].to_vec()
}

#[test]
fn the_register_exports_each_households_points_and_honour_as_the_list_filters() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let w = &s.w;
    let path = format!("/api/v1/villages/{}/households/export?format=csv", w.qingle);
    let all = csv_rows(&app.get(&path, Some(&w.committee)));
    assert_eq!(
        all[0],
        "门牌号,户主,村民小组,电话,积分,荣誉分,星级,状态,登记日期"
    );
    assert_eq!(
        all.len(),
        1 + 3 + 1,
        "header, three households, the total: {all:?}"
    );
    assert!(
        all[1].contains(",100.00,100.00,3,在册,2026-"),
        "100 honour reaches three stars: {}",
        all[1]
    );
    assert!(all[1].contains("第一村民小组"), "{}", all[1]);
    assert_eq!(all[4], "共 3 户,,,,200.00,200.00,,,");
    let text = app.get(&path, Some(&w.committee)).text;
    assert!(
        text.lines().any(|l| l.starts_with("账本链头：第 ")),
        "{text}"
    );

    // The list's filters hold: one group, or a search.
    let group = csv_rows(&app.get(
        &format!("{path}&group_id={}", w.qingle_group2),
        Some(&w.committee),
    ));
    assert_eq!(group.len(), 1 + 1 + 1, "{group:?}");
    // A group leader lists only their own group, and so exports only it.
    let leader = csv_rows(&app.get(&path, Some(&w.leader)));
    assert_eq!(leader.len(), 1 + 2 + 1, "{leader:?}");

    let xlsx = app.get(
        &format!("/api/v1/villages/{}/households/export", w.qingle),
        Some(&w.committee),
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes)).unwrap();
    let name = book.sheet_names()[0].clone();
    assert_eq!(name, "庆乐村 农户名册");
    let cells = book.worksheet_range(&name).unwrap();
    let first = cells
        .rows()
        .find(|r| r[4] == calamine::Data::Float(100.0))
        .expect("points as a number");
    assert!(
        matches!(first[8], calamine::Data::DateTime(_)),
        "{:?}",
        first[8]
    );

    let villager = app.villager(&w.committee, w.households[0]);
    assert_eq!(app.get(&path, Some(&villager)).status, 403);
}

#[test]
fn a_ranking_exports_every_place_with_its_title_and_period() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let ten = add_item(&app, &w, "A01", "10");
    let body = json!({"item_id": ten, "household_ids": [w.households[1], w.households[0]], "occurred_on": "2026-11-27"});
    assert_eq!(crate::ledger::award(&app, &w, "a1", body).status, 201);
    let path = format!(
        "/api/v1/villages/{}/rankings/export?period=year&format=csv",
        w.qingle
    );
    let resp = app.get(&path, Some(&w.committee));
    assert_eq!(resp.status, 200, "{}", resp.text);
    let lines: Vec<&str> = resp.text.lines().collect();
    assert_eq!(lines[0], "\u{feff}庆乐村 荣誉分排行 2026年");
    let header = lines.iter().position(|l| l.starts_with("名次,")).unwrap();
    assert_eq!(lines[header], "名次,门牌号,户主,村民小组,荣誉分,星级");
    // Equal honour shares first place; the committee sees names in full.
    assert!(
        lines[header + 1].starts_with("1,1号,张小明,第一村民小组,10.00,"),
        "{}",
        lines[header + 1]
    );
    assert!(lines[header + 2].starts_with("1,"), "{}", lines[header + 2]);
    assert_eq!(
        lines.len(),
        header + 4,
        "every household has a place: {lines:?}"
    );

    // Villagers see rankings only when the village makes them public.
    let villager = app.villager(&w.committee, w.households[0]);
    assert_eq!(app.get(&path, Some(&villager)).status, 404);
}

/// The lines of a CSV export from its header on, the header found by its first column.
fn table_from(resp: &crate::support::Resp, first_column: &str) -> Vec<String> {
    assert_eq!(resp.status, 200, "{}", resp.text);
    let lines: Vec<String> = resp.text.lines().map(str::to_owned).collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with(&format!("{first_column},")))
        .unwrap_or_else(|| panic!("no header in {}", resp.text));
    lines[header..].to_vec()
}

#[test]
fn the_ledger_claims_and_receipts_export_as_the_books_a_committee_keeps() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let w = &s.w;
    let litter = add_item(&app, w, "D01", "-5");
    let deducted = deduct(&app, w, "deduct", litter, w.households[1], "2026-11-28");
    let deduction = deducted.body["claims"][0]["transaction_id"]
        .as_i64()
        .unwrap();
    let reversed = app.post_with_key(
        &format!("/api/v1/ledger/{deduction}/reverse"),
        &w.committee,
        "undo",
        json!({"reason": "扣错了户"}),
    );
    assert_eq!(reversed.status, 201, "{}", reversed.text);
    let villager = app.villager(&w.committee, w.households[0]);
    let sell = |key: &str| {
        let code = issue(&app, &villager, w.households[0]).body["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let sold = redeem(
            &app,
            &s,
            key,
            &code,
            json!([{"goods_id": s.oil, "quantity": 1}]),
        );
        assert_eq!(sold.status, 201, "{}", sold.text);
        sold.id()
    };
    sell("sale-1");
    let wrong = sell("sale-2");
    let voided = app.post_with_key(
        &format!("/api/v1/redemptions/{wrong}/void"),
        &s.keeper,
        "void",
        json!({"reason": "拿错了"}),
    );
    assert_eq!(voided.status, 201, "{}", voided.text);

    // The ledger, oldest first, names the household of each line and what it moved.
    let path = format!("/api/v1/villages/{}/ledger/export?format=csv", w.qingle);
    let ledger = table_from(&app.get(&path, Some(&w.supervisor)), "序号");
    assert_eq!(
        ledger[0],
        "序号,时间,类别,门牌号,户主,积分,荣誉分,摘要,冲正第几笔,哈希"
    );
    let kinds: Vec<&str> = ledger[1..]
        .iter()
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["加分", "加分", "扣分", "冲正", "兑换", "兑换", "撤销兑换"]
    );
    assert!(
        ledger[1].starts_with("1,2026-") && ledger[1].contains(",加分,1号,张小明,100.00,100.00,"),
        "{}",
        ledger[1]
    );
    assert!(
        ledger[5].contains(",兑换,1号,张小明,-30.00,,"),
        "{}",
        ledger[5]
    );
    let reversal: Vec<&str> = ledger[4].split(',').collect();
    assert_eq!((reversal[5], reversal[8]), ("5.00", "3"), "{}", ledger[4]);
    let head = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&w.supervisor),
    );
    assert!(
        ledger
            .last()
            .unwrap()
            .ends_with(head.body["head"]["hash"].as_str().unwrap()),
        "the last line is the chain head"
    );
    // Whoever may not read the list may not export it.
    let list = app.get(
        &format!("/api/v1/villages/{}/ledger", w.qingle),
        Some(&villager),
    );
    assert_ne!(list.status, 200);
    assert_eq!(app.get(&path, Some(&villager)).status, list.status);

    // Claims, as the list filters them by status.
    let path = format!("/api/v1/villages/{}/claims/export?format=csv", w.qingle);
    let claims = table_from(&app.get(&path, Some(&w.committee)), "编号");
    assert_eq!(
        claims[0],
        "编号,门牌号,户主,类别,事项,每次分值,次数,合计,状态,发生日期,公示截止,说明"
    );
    assert_eq!(claims.len(), 1 + 3, "{claims:?}");
    assert!(
        claims[3].contains(",2号,") && claims[3].contains(",-5.00,1,-5.00,已冲正,2026-11-28,"),
        "{}",
        claims[3]
    );
    let reversed_only = table_from(
        &app.get(&format!("{path}&status=reversed"), Some(&w.committee)),
        "编号",
    );
    assert_eq!(reversed_only.len(), 1 + 1, "{reversed_only:?}");
    // The list's own filter agrees: a reversed claim is no longer counted as posted.
    let posted = app.get(
        &format!("/api/v1/villages/{}/claims?status=posted", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        posted.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        posted.text
    );
    assert_eq!(
        app.get(&format!("{path}&status=maybe"), Some(&w.committee))
            .status,
        422
    );

    // The shop's receipts: the voided one is marked and left out of the total.
    let path = format!("/api/v1/shops/{}/redemptions/export?format=csv", s.id);
    let receipts = table_from(&app.get(&path, Some(&w.admin)), "小票号");
    assert_eq!(
        receipts[0],
        "小票号,时间,门牌号,户主,商品,积分,兑换后余额,代领人,状态,账本序号"
    );
    assert_eq!(receipts.len(), 1 + 2 + 1, "{receipts:?}");
    assert!(
        receipts[1].contains(",30.00,70.00,,有效,"),
        "{}",
        receipts[1]
    );
    assert!(receipts[2].contains(",已作废,"), "{}", receipts[2]);
    assert!(receipts[1].contains("×1"), "{}", receipts[1]);
    assert_eq!(receipts[3], "共 2 笔,,,,,30.00,,,,");
    let xlsx = app.get(
        &format!("/api/v1/shops/{}/redemptions/export", s.id),
        Some(&s.keeper),
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes)).unwrap();
    let name = book.sheet_names()[0].clone();
    assert_eq!(name, "庆乐积分超市 兑换记录");
    let cells = book.worksheet_range(&name).unwrap();
    assert!(
        cells.rows().any(|r| r[5] == calamine::Data::Float(30.0)),
        "points as numbers"
    );
    assert_eq!(app.get(&path, Some(&villager)).status, 404);
}

#[test]
fn one_villages_figures_come_with_a_row_for_each_group() {
    let app = TestApp::start();
    // Households 0 and 1 (group 1) were awarded 100 each; household 0 spends 30.
    let s = shop_world(&app, "100");
    let w = &s.w;
    let villager = app.villager(&w.committee, w.households[0]);
    let code = issue(&app, &villager, w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let sold = redeem(
        &app,
        &s,
        "sale",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}]),
    );
    assert_eq!(sold.status, 201, "{}", sold.text);

    let board = dashboard(&app, &w.committee, &format!("?village_id={}", w.qingle));
    let groups = board["groups"].as_array().expect("groups");
    let brief: Vec<(&str, i64, i64, &str, &str)> = groups
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap(),
                g["households"].as_i64().unwrap(),
                g["active_households"].as_i64().unwrap(),
                g["redeemed"].as_str().unwrap(),
                g["outstanding"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("第一村民小组", 2, 2, "30.00", "170.00"),
            ("第二村民小组", 1, 0, "0.00", "0.00")
        ]
    );
    assert_eq!(groups[0]["group_id"], w.qingle_group1);
    assert_eq!(board["villages"].as_array().unwrap().len(), 1);
    assert_eq!(board["villages"][0]["outstanding"], "170.00");
    assert_eq!(board["totals"]["households"], 3);
    // Without it, no groups; another village's is out of sight.
    assert!(dashboard(&app, &w.committee, "").get("groups").is_none());
    let other = app.get(
        &format!("/api/v1/township/dashboard?village_id={}", w.liangui),
        Some(&w.committee),
    );
    assert_eq!(other.status, 404);

    let csv = app.get(
        &format!(
            "/api/v1/township/dashboard/export?format=csv&village_id={}",
            w.qingle
        ),
        Some(&w.admin),
    );
    let lines = table_from(&csv, "村民小组");
    assert!(
        lines[1].starts_with("第一村民小组,2,2,1.00,"),
        "{}",
        lines[1]
    );
    assert!(lines[3].starts_with("合计,3,2,0.67,"), "{}", lines[3]);
    assert!(
        csv.text.starts_with("\u{feff}庆乐村各组 积分工作统计"),
        "{}",
        csv.text
    );
}
