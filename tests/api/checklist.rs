use serde_json::{Value, json};

use crate::support::{TestApp, World};

fn item(code: &str, points: &str) -> Value {
    json!({"code": code, "category": "孝老爱亲", "title": "照顾孤寡老人", "description": "每月上门两次",
           "points": points, "period": "month", "cap_count": 2, "proposers": ["villager", "committee"],
           "evidence_required": true})
}

fn create(app: &TestApp, w: &World, body: Value) -> crate::support::Resp {
    app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        body,
    )
}

#[test]
fn items_are_created_listed_versioned_and_retired() {
    let app = TestApp::start();
    let w = app.world();
    let created = create(&app, &w, item("A01", "5"));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["points"], "5.00");
    assert_eq!(created.body["period"], "month");
    assert_eq!(created.body["active"], true);
    let id = created.id();

    let revised = app.send_put(
        &format!("/api/v1/checklist/{id}"),
        &w.committee,
        item("A01", "6.5"),
    );
    assert_eq!(revised.status, 200, "{}", revised.text);
    assert_eq!(
        (
            revised.body["version"].as_i64(),
            revised.body["points"].as_str()
        ),
        (Some(2), Some("6.50"))
    );

    let villager = app.villager(&w.committee, w.households[0]);
    let list = app.get(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&villager),
    );
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"][0]["version"], 2);

    let retired = app.post(
        &format!("/api/v1/checklist/{id}/retire"),
        Some(&w.committee),
        json!({}),
    );
    assert_eq!(
        (retired.status, retired.body["active"].as_bool()),
        (200, Some(false))
    );
    let list = app.get(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&villager),
    );
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
    let all = app.get(
        &format!(
            "/api/v1/villages/{}/checklist?include_retired=true",
            w.qingle
        ),
        Some(&w.committee),
    );
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn points_must_be_exact_non_zero_and_bounded() {
    let app = TestApp::start();
    let w = app.world();
    for (points, code) in [
        (json!("0"), "P0"),
        (json!("1.005"), "P1"),
        (json!("10000.01"), "P2"),
        (json!(5), "P3"),
        (json!("五"), "P4"),
    ] {
        let mut body = item(code, "1");
        body["points"] = points.clone();
        let resp = create(&app, &w, body);
        assert_eq!(
            (resp.status, resp.fields()),
            (422, vec!["points".to_owned()]),
            "{points}"
        );
    }
    let mut deduction = item("D01", "-10000");
    deduction["proposers"] = json!(["committee"]);
    assert_eq!(create(&app, &w, deduction).status, 201);
    let mut bad = item("X01", "1");
    bad["period"] = json!("weekly");
    assert_eq!(create(&app, &w, bad).fields(), vec!["period"]);
    let mut bad = item("X02", "1");
    bad["proposers"] = json!([]);
    assert_eq!(create(&app, &w, bad).fields(), vec!["proposers"]);
    assert_eq!(create(&app, &w, item("A01", "1")).status, 201);
    assert_eq!(create(&app, &w, item("A01", "1")).status, 409);
}

#[test]
fn only_the_committee_of_the_village_edits() {
    let app = TestApp::start();
    let w = app.world();
    let id = create(&app, &w, item("A01", "5")).id();
    assert_eq!(
        app.post(
            &format!("/api/v1/villages/{}/checklist", w.qingle),
            Some(&w.supervisor),
            item("A02", "1")
        )
        .status,
        403
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/villages/{}/checklist", w.qingle),
            Some(&w.other_committee),
            item("A02", "1")
        )
        .status,
        404
    );
    assert_eq!(
        app.send_put(
            &format!("/api/v1/checklist/{id}"),
            &w.other_committee,
            item("A01", "1")
        )
        .status,
        404
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/checklist/{id}/retire"),
            Some(&w.leader),
            json!({})
        )
        .status,
        403
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/villages/{}/checklist", w.qingle),
            Some(&w.other_committee)
        )
        .status,
        404
    );
}

#[test]
fn import_is_all_or_nothing_and_versions_changes() {
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/villages/{}/checklist/import", w.qingle);
    let bad = "编号,类别,事项,分值,周期,申报人\nA01,孝老爱亲,照顾老人,5,每月,村民\nA02,环境卫生,乱倒垃圾,0,每次,村委\n";
    let resp = app.upload(&path, Some(&w.committee), "c.csv", bad.as_bytes().to_vec());
    assert_eq!(
        (resp.status, resp.fields()),
        (422, vec!["row 3: points".to_owned()])
    );
    let list = app.get(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);

    let good = "编号,类别,事项,分值,周期,上限次数,申报人,需要证据\nA01,孝老爱亲,照顾老人,5,每月,2,村民、组长,是\nB01,环境卫生,乱倒垃圾,-3,每次,,村委,否\n";
    let resp = app.upload(&path, Some(&w.committee), "c.csv", good.as_bytes().to_vec());
    assert_eq!(
        resp.body,
        json!({"created": 2, "updated": 0}),
        "{}",
        resp.text
    );
    let again = app.upload(&path, Some(&w.committee), "c.csv", good.as_bytes().to_vec());
    assert_eq!(again.body, json!({"created": 0, "updated": 0}));
    let changed = good.replace("照顾老人,5", "照顾老人,8");
    let resp = app.upload(&path, Some(&w.committee), "c.csv", changed.into_bytes());
    assert_eq!(resp.body, json!({"created": 0, "updated": 1}));
    let list = app.get(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(list.body["items"][0]["points"], "8.00");
    assert_eq!(list.body["items"][0]["version"], 2);
    assert_eq!(list.body["items"][1]["points"], "-3.00");
}
