use serde_json::json;

use crate::support::TestApp;

#[test]
fn villages_have_the_default_policy_and_patches_change_only_named_fields() {
    let app = TestApp::start();
    let w = app.world();
    let village = app.get(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(village.status, 200);
    let policy = &village.body["policy"];
    assert_eq!(policy["notice_days"], 5);
    assert_eq!(policy["allow_self_report"], true);
    assert_eq!(policy["yuan_per_point"], "1.00");
    assert_eq!(policy["expiry"], json!({"kind": "none"}));
    assert_eq!(policy["public_rankings"], false);
    assert_eq!(policy["code_ttl_seconds"], 60);
    assert_eq!(policy["void_window_minutes"], 10);
    assert_eq!(policy["card_daily_cap"], "200.00");
    assert_eq!(policy["star_thresholds"][0], "20.00");

    let patched = app.patch(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
        json!({"policy": {"notice_days": 0, "yuan_per_point": "0.5", "expiry": {"kind": "annual", "month": 12, "day": 31}}}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["policy"]["notice_days"], 0);
    assert_eq!(patched.body["policy"]["yuan_per_point"], "0.50");
    assert_eq!(patched.body["policy"]["code_ttl_seconds"], 60);
    assert_eq!(patched.body["name"], "庆乐村");
    let reread = app.get(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(reread.body["policy"]["expiry"]["month"], 12);
}

#[test]
fn funding_shares_must_add_up_to_a_hundred() {
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/villages/{}", w.qingle);
    let short = app.patch(
        &path,
        Some(&w.committee),
        json!({"policy": {"funding": [{"source": "collective", "percent": 60}]}}),
    );
    assert_eq!(
        (short.status, short.fields()),
        (422, vec!["policy.funding".to_owned()])
    );
    let unknown = app.patch(
        &path,
        Some(&w.committee),
        json!({"policy": {"funding": [{"source": "lottery", "percent": 100}]}}),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    let too_much = app.patch(
        &path,
        Some(&w.committee),
        json!({"policy": {"funding": [{"source": "collective", "percent": 150}]}}),
    );
    assert_eq!(too_much.status, 422, "{}", too_much.text);
    assert!(
        too_much.fields()[0].starts_with("policy.funding"),
        "{}",
        too_much.text
    );
    let village = app.get(&path, Some(&w.committee));
    assert_eq!(village.body["policy"]["funding"], json!([]));
}

#[test]
fn policy_out_of_range_names_the_field_and_changes_nothing() {
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/villages/{}", w.qingle);
    for (policy, field) in [
        (json!({"notice_days": 31}), "policy.notice_days"),
        (json!({"code_ttl_seconds": 10}), "policy.code_ttl_seconds"),
        (
            json!({"void_window_minutes": 1441}),
            "policy.void_window_minutes",
        ),
        (json!({"yuan_per_point": "0.001"}), "policy.yuan_per_point"),
        (json!({"yuan_per_point": 1.5}), "policy.yuan_per_point"),
        (json!({"card_daily_cap": "-1"}), "policy.card_daily_cap"),
        (json!({"expiry": {"kind": "monthly"}}), "policy.expiry"),
        (
            json!({"expiry": {"kind": "annual", "month": 2, "day": 30}}),
            "policy.expiry",
        ),
        (
            json!({"star_thresholds": ["50", "20"]}),
            "policy.star_thresholds",
        ),
        (json!({"notice_dayz": 3}), "policy.notice_dayz"),
    ] {
        let resp = app.patch(
            &path,
            Some(&w.committee),
            json!({"name": "改名村", "policy": policy}),
        );
        assert_eq!(resp.status, 422, "{policy}: {}", resp.text);
        assert_eq!(resp.code(), "validation_failed");
        assert!(
            resp.fields().iter().any(|f| f.starts_with(field)),
            "{policy}: expected {field}, got {:?}",
            resp.fields()
        );
    }
    let village = app.get(&path, Some(&w.committee));
    assert_eq!(village.body["name"], "庆乐村");
    assert_eq!(village.body["policy"]["notice_days"], 5);
}

#[test]
fn village_codes_are_checked_and_unique() {
    let app = TestApp::start();
    let w = app.world();
    let bad = app.post(
        "/api/v1/villages",
        Some(&w.admin),
        json!({"name": "林渌村", "code": "Lin Lu"}),
    );
    assert_eq!((bad.status, bad.fields()), (422, vec!["code".to_owned()]));
    let taken = app.post(
        "/api/v1/villages",
        Some(&w.admin),
        json!({"name": "另一个", "code": "qingle"}),
    );
    assert_eq!((taken.status, taken.code()), (409, "conflict"));
    let ok = app.post(
        "/api/v1/villages",
        Some(&w.admin),
        json!({"name": "林渌村", "code": "linlu", "policy": {"notice_days": 3}}),
    );
    assert_eq!(ok.status, 201);
    assert_eq!(ok.body["policy"]["notice_days"], 3);
    let list = app.get("/api/v1/villages", Some(&w.admin));
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
    // A committee member sees only their own village in the list.
    let own = app.get("/api/v1/villages", Some(&w.committee));
    let codes: Vec<_> = own.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].clone())
        .collect();
    assert_eq!(codes, vec![json!("qingle")]);
}

#[test]
fn households_are_searched_filtered_and_paged() {
    let app = TestApp::start();
    let w = app.world();
    let base = format!("/api/v1/villages/{}/households", w.qingle);
    let all = app.get(&base, Some(&w.committee));
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    let by_name = app.get(&format!("{base}?q=%E7%8E%8B"), Some(&w.committee));
    assert_eq!(by_name.body["items"][0]["head_name"], "王德福");
    assert_eq!(by_name.body["items"].as_array().unwrap().len(), 1);
    let by_door = app.get(&format!("{base}?q=8%E5%8F%B7"), Some(&w.committee));
    assert_eq!(by_door.body["items"][0]["door_no"], "8号");
    let wildcard = app.get(&format!("{base}?q=%25"), Some(&w.committee));
    assert_eq!(wildcard.body["items"].as_array().unwrap().len(), 0);
    let group = app.get(
        &format!("{base}?group_id={}", w.qingle_group2),
        Some(&w.committee),
    );
    assert_eq!(group.body["items"].as_array().unwrap().len(), 1);
    let group1 = app.get(
        &format!("{base}?group_id={}", w.qingle_group1),
        Some(&w.committee),
    );
    assert_eq!(group1.body["items"].as_array().unwrap().len(), 2);

    let first = app.get(&format!("{base}?limit=2"), Some(&w.committee));
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app.get(
        &format!("{base}?limit=2&cursor={cursor}"),
        Some(&w.committee),
    );
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert!(second.body["next_cursor"].is_null());
    assert_eq!(second.body["items"][0]["id"], w.households[2]);

    let bad_limit = app.get(&format!("{base}?limit=501"), Some(&w.committee));
    assert_eq!(
        (bad_limit.status, bad_limit.fields()),
        (422, vec!["limit".to_owned()])
    );
    let bad_cursor = app.get(&format!("{base}?cursor=zzz"), Some(&w.committee));
    assert_eq!(
        (bad_cursor.status, bad_cursor.fields()),
        (422, vec!["cursor".to_owned()])
    );
    let bad_group = app.get(&format!("{base}?group_id=abc"), Some(&w.committee));
    assert_eq!(
        (bad_group.status, bad_group.fields()),
        (422, vec!["group_id".to_owned()])
    );
}

#[test]
fn a_household_starts_with_its_head_as_member_and_members_can_be_added() {
    let app = TestApp::start();
    let w = app.world();
    let household = w.households[0];
    let path = format!("/api/v1/households/{household}/members");
    let added = app.post(
        &path,
        Some(&w.committee),
        json!({"name": "李秀英", "relation": "配偶"}),
    );
    assert_eq!(added.status, 201);
    let members = app.get(&path, Some(&w.committee));
    let names: Vec<_> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("张小明"), json!("李秀英")]);
    assert_eq!(members.body["items"][0]["relation"], "户主");
}

#[test]
fn door_numbers_are_unique_per_village() {
    let app = TestApp::start();
    let w = app.world();
    let dup = app.post(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&w.committee),
        json!({"door_no": "1号", "head_name": "另一户"}),
    );
    assert_eq!((dup.status, dup.code()), (409, "conflict"));
    // Another village may use the same door number.
    app.create_household(&w.other_committee, w.liangui, "1号", "谭一", None);
    let moved = app.patch(
        &format!("/api/v1/households/{}", w.households[1]),
        Some(&w.committee),
        json!({"door_no": "1号"}),
    );
    assert_eq!(moved.status, 409);
}

#[test]
fn committee_patches_households_and_villagers_only_their_phone() {
    let app = TestApp::start();
    let w = app.world();
    let household = w.households[0];
    let path = format!("/api/v1/households/{household}");
    let moved = app.patch(
        &path,
        Some(&w.committee),
        json!({"group_id": w.qingle_group2, "head_name": "张明"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["group_id"], w.qingle_group2);
    assert_eq!(moved.body["head_name"], "张明");
    let foreign_group = app.patch(&path, Some(&w.committee), json!({"group_id": 999}));
    assert_eq!(
        (foreign_group.status, foreign_group.fields()),
        (422, vec!["group_id".to_owned()])
    );

    let villager = app.villager(&w.committee, household);
    let phone = app.patch(&path, Some(&villager), json!({"phone": "139 0000 1111"}));
    assert_eq!(phone.status, 200, "{}", phone.text);
    assert_eq!(phone.body["phone"], "13900001111");
    let rename = app.patch(&path, Some(&villager), json!({"head_name": "别人"}));
    assert_eq!((rename.status, rename.code()), (403, "forbidden"));
    let cleared = app.patch(&path, Some(&w.committee), json!({"phone": null}));
    assert!(cleared.body.get("phone").is_none());
}

#[test]
fn staff_roles_must_name_scopes_that_exist() {
    let app = TestApp::start();
    let w = app.world();
    let bad = app.post(
        "/api/v1/staff",
        Some(&w.admin),
        json!({"username": "new-one", "password": "long-enough-1", "name": "新人",
               "roles": [{"role": "committee", "scope_id": w.qingle}, {"role": "supervisor", "scope_id": 9999}]}),
    );
    assert_eq!(
        (bad.status, bad.fields()),
        (422, vec!["roles[1].scope_id".to_owned()])
    );
    let villager = app.post(
        "/api/v1/staff",
        Some(&w.admin),
        json!({"username": "new-one", "password": "long-enough-1", "name": "新人", "roles": [{"role": "villager", "scope_id": 1}]}),
    );
    assert_eq!(
        (villager.status, villager.fields()),
        (422, vec!["roles[0].role".to_owned()])
    );
    let unknown_role = app.post(
        "/api/v1/staff",
        Some(&w.admin),
        json!({"username": "new-one", "password": "long-enough-1", "name": "新人", "roles": [{"role": "mayor", "scope_id": 1}]}),
    );
    assert_eq!(
        (unknown_role.status, unknown_role.fields()),
        (422, vec!["roles[0].role".to_owned()])
    );
    let dup = app.post(
        "/api/v1/staff",
        Some(&w.admin),
        json!({"username": "qingle-committee", "password": "long-enough-1", "name": "重名", "roles": [{"role": "committee", "scope_id": w.qingle}]}),
    );
    assert_eq!((dup.status, dup.code()), (409, "conflict"));
    let list = app.get("/api/v1/staff", Some(&w.admin));
    assert_eq!(list.status, 200);
    let usernames: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap().to_owned())
        .collect();
    assert!(usernames.contains(&"qingle-leader".to_owned()));
    assert!(!list.text.contains("argon2"));
}

#[test]
fn household_import_is_all_or_nothing() {
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/villages/{}/households/import", w.qingle);
    let bad =
        "门牌号,户主,小组,电话,成员\n20号,曾庆华,第三村民小组,,林淑贞\n21号,,第三村民小组,abc,\n"
            .as_bytes()
            .to_vec();
    let resp = app.upload(&path, Some(&w.committee), "households.csv", bad);
    assert_eq!(resp.status, 422, "{}", resp.text);
    assert_eq!(resp.fields(), vec!["row 3: head_name", "row 3: phone"]);
    let list = app.get(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        3,
        "nothing was imported"
    );

    let good = "\u{feff}door_no,head_name,group,phone,members\n20号,曾庆华,第三村民小组,13800000020,林淑贞、曾小华\n1号,张小明,第一村民小组,13800000001,李秀英\n"
        .as_bytes()
        .to_vec();
    let resp = app.upload(&path, Some(&w.committee), "households.csv", good);
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body, json!({"created": 1, "updated": 1}));
    let groups = app.get(
        &format!("/api/v1/villages/{}/groups", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        groups.body["items"].as_array().unwrap().len(),
        3,
        "the new group was created"
    );
    let new_household = app.get(
        &format!("/api/v1/villages/{}/households?q=20%E5%8F%B7", w.qingle),
        Some(&w.committee),
    );
    let id = new_household.body["items"][0]["id"].as_i64().unwrap();
    let members = app.get(
        &format!("/api/v1/households/{id}/members"),
        Some(&w.committee),
    );
    assert_eq!(members.body["items"].as_array().unwrap().len(), 3);
}

#[test]
fn household_import_reads_xlsx() {
    let app = TestApp::start();
    let w = app.world();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, header) in ["门牌号", "户主", "电话"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "30号").unwrap();
    sheet.write_string(1, 1, "罗锦添").unwrap();
    sheet.write_number(1, 2, 13800000030.0).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let resp = app.upload(
        &format!("/api/v1/villages/{}/households/import", w.qingle),
        Some(&w.committee),
        "h.xlsx",
        bytes,
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let found = app.get(
        &format!("/api/v1/villages/{}/households?q=30", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(found.body["items"][0]["phone"], "13800000030");
}

/// The roles a staff member has when they sign in now, as `/me` says: (role, scope).
fn roles_on_sign_in(app: &TestApp, username: &str) -> Vec<(String, i64)> {
    let me = app.get("/api/v1/me", Some(&app.token(username)));
    me.body["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().to_owned(),
                r["scope_id"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_township_renames_staff_gives_them_other_roles_and_disables_them() {
    let app = TestApp::start();
    let w = app.world();
    let made = app.create_staff(&w.admin, "new-one", "committee", w.qingle);
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.id();
    let path = format!("/api/v1/staff/{id}");
    let kept = app.login("new-one", crate::support::PASSWORD).body["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    // Moved to the other village's supervisory committee, under their full name.
    let moved = app.patch(
        &path,
        Some(&w.admin),
        json!({"name": "王新人", "roles": [{"role": "supervisor", "scope_id": w.liangui}]}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["name"], "王新人");
    assert_eq!(
        roles_on_sign_in(&app, "new-one"),
        vec![("supervisor".to_owned(), w.liangui)]
    );

    // A scope that is not there changes nothing.
    let bad = app.patch(
        &path,
        Some(&w.admin),
        json!({"name": "改不了", "roles": [{"role": "committee", "scope_id": 9999}]}),
    );
    assert_eq!(
        (bad.status, bad.fields()),
        (422, vec!["roles[0].scope_id".to_owned()])
    );
    let listed = app.get("/api/v1/staff", Some(&w.admin));
    assert!(listed.text.contains("王新人") && !listed.text.contains("改不了"));

    // Disabled: no new sign-in, and the refresh token of the old one is dead.
    let off = app.patch(&path, Some(&w.admin), json!({"active": false}));
    assert_eq!(
        (off.status, off.body["active"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(app.login("new-one", crate::support::PASSWORD).status, 401);
    let refreshed = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": kept}));
    assert_eq!(refreshed.status, 401, "{}", refreshed.text);
    let on = app.patch(&path, Some(&w.admin), json!({"active": true}));
    assert_eq!(on.status, 200, "{}", on.text);
    assert_eq!(app.login("new-one", crate::support::PASSWORD).status, 200);

    // Only the township's admin manages staff; there is no such account 9999.
    let by_committee = app.patch(&path, Some(&w.committee), json!({"active": false}));
    assert_eq!(by_committee.status, 403);
    let nobody = app.patch(
        "/api/v1/staff/9999",
        Some(&w.admin),
        json!({"active": false}),
    );
    assert_eq!(nobody.status, 404);
}

#[test]
fn the_township_admin_cannot_lock_themselves_out() {
    let app = TestApp::start();
    let w = app.world();
    let me = app.get("/api/v1/me", Some(&w.admin)).body["id"]
        .as_i64()
        .expect("the admin's id");
    let path = format!("/api/v1/staff/{me}");
    let off = app.patch(&path, Some(&w.admin), json!({"active": false}));
    assert_eq!((off.status, off.fields()), (422, vec!["active".to_owned()]));
    let demoted = app.patch(
        &path,
        Some(&w.admin),
        json!({"roles": [{"role": "committee", "scope_id": w.qingle}]}),
    );
    assert_eq!(
        (demoted.status, demoted.fields()),
        (422, vec!["roles".to_owned()])
    );
    assert_eq!(app.get("/api/v1/staff", Some(&w.admin)).status, 200);
}

#[test]
fn a_new_password_from_the_township_ends_the_old_one_and_its_sign_ins() {
    let app = TestApp::start();
    let w = app.world();
    let id = app
        .create_staff(&w.admin, "forgetful", "committee", w.qingle)
        .id();
    let old = app.login("forgetful", crate::support::PASSWORD);
    let path = format!("/api/v1/staff/{id}/password");

    let short = app.post(&path, Some(&w.admin), json!({"password": "short"}));
    assert_eq!(
        (short.status, short.fields()),
        (422, vec!["password".to_owned()])
    );
    assert_eq!(app.login("forgetful", crate::support::PASSWORD).status, 200);

    let by_committee = app.post(
        &path,
        Some(&w.committee),
        json!({"password": "a-new-one-2026"}),
    );
    assert_eq!(by_committee.status, 403);
    let reset = app.post(&path, Some(&w.admin), json!({"password": "a-new-one-2026"}));
    assert_eq!(reset.status, 204, "{}", reset.text);
    assert_eq!(app.login("forgetful", crate::support::PASSWORD).status, 401);
    assert_eq!(app.login("forgetful", "a-new-one-2026").status, 200);
    let refreshed = app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": old.body["refresh_token"]}),
    );
    assert_eq!(refreshed.status, 401, "{}", refreshed.text);
    assert!(
        !app.get(
            &format!("/api/v1/villages/{}/audit", w.qingle),
            Some(&w.committee)
        )
        .text
        .contains("a-new-one-2026")
    );
}
