//! Every scope rule: outside one's scope is 404, inside but not allowed is 403.

use serde_json::json;

use crate::support::TestApp;

#[test]
fn another_village_is_not_found() {
    let app = TestApp::start();
    let w = app.world();
    let other = w.liangui;
    for path in [
        format!("/api/v1/villages/{other}"),
        format!("/api/v1/villages/{other}/groups"),
        format!("/api/v1/villages/{other}/households"),
        format!("/api/v1/households/{}", w.liangui_household),
        format!("/api/v1/households/{}/members", w.liangui_household),
    ] {
        for token in [&w.committee, &w.supervisor, &w.leader] {
            let resp = app.get(&path, Some(token));
            assert_eq!((resp.status, resp.code()), (404, "not_found"), "GET {path}");
        }
    }
    let write = app.post(
        &format!("/api/v1/villages/{other}/households"),
        Some(&w.committee),
        json!({"door_no": "9", "head_name": "某人"}),
    );
    assert_eq!(write.status, 404);
    let patch = app.patch(
        &format!("/api/v1/villages/{other}"),
        Some(&w.committee),
        json!({"name": "x"}),
    );
    assert_eq!(patch.status, 404);
    let invite = app.post(
        &format!("/api/v1/households/{}/invites", w.liangui_household),
        Some(&w.committee),
        json!({"member_id": 1}),
    );
    assert_eq!(invite.status, 404);
    // Ids that do not exist look the same as ids out of scope.
    assert_eq!(
        app.get("/api/v1/villages/999999", Some(&w.committee))
            .status,
        404
    );
    assert_eq!(
        app.get("/api/v1/households/abc", Some(&w.committee)).status,
        404
    );
}

#[test]
fn villagers_see_their_own_household_only() {
    let app = TestApp::start();
    let w = app.world();
    let own = w.households[0];
    let villager = app.villager(&w.committee, own);
    let mine = app.get(&format!("/api/v1/households/{own}"), Some(&villager));
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["head_name"], "张小明");
    assert_eq!(
        app.get(
            &format!("/api/v1/households/{own}/members"),
            Some(&villager)
        )
        .status,
        200
    );
    for other in [w.households[1], w.households[2], w.liangui_household] {
        assert_eq!(
            app.get(&format!("/api/v1/households/{other}"), Some(&villager))
                .status,
            404
        );
        assert_eq!(
            app.get(
                &format!("/api/v1/households/{other}/members"),
                Some(&villager)
            )
            .status,
            404
        );
    }
    let list = app.get(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&villager),
    );
    assert_eq!((list.status, list.code()), (403, "forbidden"));
    assert_eq!(
        app.get(&format!("/api/v1/villages/{}", w.liangui), Some(&villager))
            .status,
        404
    );
    assert_eq!(app.get("/api/v1/villages", Some(&villager)).status, 403);
    assert_eq!(app.get("/api/v1/staff", Some(&villager)).status, 404);
    let invite = app.post(
        &format!("/api/v1/households/{own}/invites"),
        Some(&villager),
        json!({"member_id": 1}),
    );
    assert_eq!(invite.status, 403);
}

#[test]
fn group_leaders_see_their_group_masked() {
    let app = TestApp::start();
    let w = app.world();
    let list = app.get(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&w.leader),
    );
    assert_eq!(list.status, 200);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "only group 1: {}", list.text);
    assert_eq!(items[0]["display_name"], "张*明");
    assert!(items[0].get("head_name").is_none());
    assert!(items[0].get("phone").is_none());
    assert_eq!(
        app.get(
            &format!("/api/v1/households/{}", w.households[2]),
            Some(&w.leader)
        )
        .status,
        404
    );
    let members = app.get(
        &format!("/api/v1/households/{}/members", w.households[0]),
        Some(&w.leader),
    );
    assert_eq!(members.body["items"][0]["name"], "张*明");
    let add = app.post(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&w.leader),
        json!({"door_no": "9", "head_name": "某人"}),
    );
    assert_eq!(add.status, 403);
}

#[test]
fn phones_are_shown_to_committee_and_supervisors_only() {
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/households/{}", w.households[0]);
    for token in [&w.committee, &w.supervisor] {
        let resp = app.get(&path, Some(token));
        assert_eq!(resp.body["phone"], "13800138000");
        assert_eq!(resp.body["head_name"], "张小明");
    }
    let other_villager = app.villager(&w.committee, w.households[1]);
    assert_eq!(app.get(&path, Some(&other_villager)).status, 404);
}

#[test]
fn supervisors_read_but_do_not_write() {
    let app = TestApp::start();
    let w = app.world();
    assert_eq!(
        app.get(
            &format!("/api/v1/villages/{}/households", w.qingle),
            Some(&w.supervisor)
        )
        .status,
        200
    );
    let add = app.post(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&w.supervisor),
        json!({"door_no": "9", "head_name": "某人"}),
    );
    assert_eq!((add.status, add.code()), (403, "forbidden"));
    let group = app.post(
        &format!("/api/v1/villages/{}/groups", w.qingle),
        Some(&w.supervisor),
        json!({"name": "新组"}),
    );
    assert_eq!(group.status, 403);
    let policy = app.patch(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.supervisor),
        json!({"policy": {"notice_days": 0}}),
    );
    assert_eq!(policy.status, 403);
}

#[test]
fn only_the_township_admin_manages_villages_and_staff() {
    let app = TestApp::start();
    let w = app.world();
    let village = app.post(
        "/api/v1/villages",
        Some(&w.committee),
        json!({"name": "新村", "code": "xin"}),
    );
    assert_eq!(village.status, 403);
    assert_eq!(app.get("/api/v1/staff", Some(&w.committee)).status, 403);
    let staff = app.post(
        "/api/v1/staff",
        Some(&w.committee),
        json!({"username": "sneaky", "password": "long-enough-1", "name": "x", "roles": [{"role": "township_admin", "scope_id": 1}]}),
    );
    assert_eq!(staff.status, 403);
    // The township admin may read and steer villages but not household records.
    assert_eq!(
        app.get(&format!("/api/v1/villages/{}", w.qingle), Some(&w.admin))
            .status,
        200
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/villages/{}/households", w.qingle),
            Some(&w.admin)
        )
        .status,
        403
    );
}

#[test]
fn a_deactivated_or_removed_account_is_signed_out() {
    use diesel::prelude::*;
    use jifen::db::schema::staff;
    let app = TestApp::start();
    let w = app.world();
    let mut conn = app.db.connect();
    diesel::update(staff::table.filter(staff::username.eq("qingle-committee")))
        .set(staff::active.eq(false))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&w.committee)).status, 401);
    assert_eq!(
        app.login("qingle-committee", crate::support::PASSWORD)
            .status,
        401
    );
}
