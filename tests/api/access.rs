//! Taking access back: a lost phone signed out everywhere, WeChat unbound, a member or a
//! household deactivated; history kept, each step in the audit trail.

use chrono::Duration;
use serde_json::json;

use crate::support::{Resp, TestApp};

fn head_member(app: &TestApp, committee: &str, household: i64) -> i64 {
    app.get(
        &format!("/api/v1/households/{household}/members"),
        Some(committee),
    )
    .body["items"][0]["id"]
        .as_i64()
        .unwrap()
}

/// Signs the household's head in with an invite: (access token, refresh token).
fn sign_in(app: &TestApp, committee: &str, household: i64) -> (String, String) {
    let code = app.invite(committee, household);
    let resp = app.post("/api/v1/auth/invite", None, json!({"invite_code": code}));
    assert_eq!(resp.status, 200, "{}", resp.text);
    (
        resp.body["access_token"].as_str().unwrap().to_owned(),
        resp.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn me(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).status
}

fn refresh(app: &TestApp, token: &str) -> Resp {
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": token}),
    )
}

fn audit_actions(app: &TestApp, committee: &str, village: i64) -> Vec<String> {
    app.get(
        &format!("/api/v1/villages/{village}/audit?limit=500"),
        Some(committee),
    )
    .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_lost_phone_is_signed_out_everywhere_at_once() {
    let app = TestApp::start();
    let s = crate::shop::shop_world(&app, "100");
    let w = &s.w;
    let (access, refresh_token) = sign_in(&app, &w.committee, w.households[0]);
    let code = app.post(
        &format!("/api/v1/households/{}/payment-codes", w.households[0]),
        Some(&access),
        json!({}),
    );
    assert_eq!(code.status, 201);
    assert_eq!(me(&app, &access), 200);
    app.advance(Duration::seconds(2));

    let member = head_member(&app, &w.committee, w.households[0]);
    let path = format!("/api/v1/members/{member}/sessions");
    assert_eq!(
        app.delete(&path, Some(&w.supervisor)).status,
        403,
        "the committee's to do"
    );
    assert_eq!(app.delete(&path, Some(&w.other_committee)).status, 404);
    assert_eq!(app.delete(&path, Some(&w.committee)).status, 204);

    // The phone's access token, its refresh token and the code on its screen are all dead.
    assert_eq!(me(&app, &access), 401);
    assert_eq!(refresh(&app, &refresh_token).status, 401);
    let paid = app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        &s.keeper,
        "lost",
        json!({"code": code.body["code"], "lines": [{"goods_id": s.rice, "quantity": 1}]}),
    );
    assert_eq!(
        (paid.status, paid.code()),
        (422, "code_invalid"),
        "{}",
        paid.text
    );

    // A new invite signs the villager in again on the new phone.
    let (again, _) = sign_in(&app, &w.committee, w.households[0]);
    assert_eq!(me(&app, &again), 200);
    assert!(audit_actions(&app, &w.committee, w.qingle).contains(&"member_sign_out".to_owned()));
}

#[test]
fn a_deactivated_member_cannot_sign_in_and_is_kept_in_history() {
    let app = TestApp::start();
    let w = app.world();
    let (access, _) = sign_in(&app, &w.committee, w.households[0]);
    let member = head_member(&app, &w.committee, w.households[0]);
    let path = format!("/api/v1/members/{member}");
    let villager_try = app.patch(&path, Some(&access), json!({"active": false}));
    assert_eq!(villager_try.status, 403, "{}", villager_try.text);
    let changed = app.patch(
        &path,
        Some(&w.committee),
        json!({"relation": "户主", "phone": "139 0000 0001", "active": false}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        (
            changed.body["active"].as_bool(),
            changed.body["phone"].as_str()
        ),
        (Some(false), Some("13900000001"))
    );
    assert_eq!(me(&app, &access), 401);
    let invite = app.post(
        &format!("/api/v1/households/{}/invites", w.households[0]),
        Some(&w.committee),
        json!({"member_id": member}),
    );
    assert_eq!(
        (invite.status, invite.code()),
        (409, "invalid_state"),
        "{}",
        invite.text
    );
    let members = app.get(
        &format!("/api/v1/households/{}/members", w.households[0]),
        Some(&w.committee),
    );
    assert_eq!(members.body["items"][0]["active"], false, "still listed");

    let back = app.patch(&path, Some(&w.committee), json!({"active": true}));
    assert_eq!(back.body["active"], true);
    let (again, _) = sign_in(&app, &w.committee, w.households[0]);
    assert_eq!(me(&app, &again), 200);
    assert!(audit_actions(&app, &w.committee, w.qingle).contains(&"member_update".to_owned()));
}

#[test]
fn a_deactivated_household_can_no_longer_sign_in_earn_or_spend() {
    let app = TestApp::start();
    let s = crate::shop::shop_world(&app, "100");
    let w = &s.w;
    let household = w.households[0];
    let (access, _) = sign_in(&app, &w.committee, household);
    let card = app.post(
        &format!("/api/v1/households/{household}/cards"),
        Some(&w.committee),
        json!({"pin": "2580"}),
    );
    let refused = app.patch(
        &format!("/api/v1/households/{household}"),
        Some(&access),
        json!({"active": false}),
    );
    assert_eq!(refused.status, 403, "a villager cannot: {}", refused.text);
    let done = app.patch(
        &format!("/api/v1/households/{household}"),
        Some(&w.committee),
        json!({"active": false}),
    );
    assert_eq!(
        (done.status, done.body["active"].as_bool()),
        (200, Some(false)),
        "{}",
        done.text
    );
    assert_eq!(me(&app, &access), 401);

    // No earning or losing...
    let item = crate::ledger::add_item(&app, w, "B01", "5");
    let award = crate::ledger::award(
        &app,
        w,
        "after",
        json!({"item_id": item, "household_ids": [w.households[1], household], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(
        (award.status, award.fields()),
        (422, vec!["household_ids[1]".to_owned()]),
        "{}",
        award.text
    );
    let claim = app.post(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.committee),
        json!({"household_id": household, "item_id": item, "occurred_on": "2026-11-27"}),
    );
    assert_eq!(
        (claim.status, claim.code()),
        (409, "invalid_state"),
        "{}",
        claim.text
    );
    // ...and no spending with the household card.
    let paid = app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        &s.keeper,
        "card",
        json!({"card_token": card.body["card_token"], "pin": "2580", "lines": [{"goods_id": s.rice, "quantity": 1}]}),
    );
    assert_eq!(
        (paid.status, paid.code()),
        (422, "code_invalid"),
        "{}",
        paid.text
    );
    // The books keep everything it ever had.
    let balance = app.get(
        &format!("/api/v1/households/{household}/balance"),
        Some(&w.committee),
    );
    assert_eq!(balance.body["points"], "100.00");
    assert!(audit_actions(&app, &w.committee, w.qingle).contains(&"household_update".to_owned()));

    let back = app.patch(
        &format!("/api/v1/households/{household}"),
        Some(&w.committee),
        json!({"active": true}),
    );
    assert_eq!(back.body["active"], true);
    let (again, _) = sign_in(&app, &w.committee, household);
    assert_eq!(me(&app, &again), 200);
}

#[test]
fn unbinding_wechat_sends_the_phone_back_to_the_invite_page() {
    let (app, wechat) = crate::wechat::start_with_wechat();
    let w = app.world();
    wechat.hold_phone("o-lost-phone");
    crate::wechat::bind_phone(&app, &w.committee, w.households[0]);
    let member = head_member(&app, &w.committee, w.households[0]);
    let members = app.get(
        &format!("/api/v1/households/{}/members", w.households[0]),
        Some(&w.committee),
    );
    assert_eq!(members.body["items"][0]["wechat_bound"], true);
    assert!(
        crate::wechat::phone_lands_on(&app).ends_with("/h5/"),
        "bound: straight in"
    );

    assert_eq!(
        app.delete(
            &format!("/api/v1/members/{member}/wechat"),
            Some(&w.committee)
        )
        .status,
        204
    );
    let members = app.get(
        &format!("/api/v1/households/{}/members", w.households[0]),
        Some(&w.committee),
    );
    assert_eq!(members.body["items"][0]["wechat_bound"], false);
    assert!(
        crate::wechat::phone_lands_on(&app).starts_with("/h5/login"),
        "the lost phone must ask for an invite code again"
    );
    assert!(
        audit_actions(&app, &w.committee, w.qingle).contains(&"member_wechat_unbind".to_owned())
    );
}
