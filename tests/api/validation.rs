//! Bad input gets a 4xx problem naming the field; no input yields a 500.

use serde_json::json;

use crate::support::TestApp;

#[test]
fn missing_and_mistyped_fields_are_named() {
    let app = TestApp::start();
    let w = app.world();
    let path = format!("/api/v1/villages/{}/households", w.qingle);
    let cases = [
        (json!({}), "door_no"),
        (json!({"door_no": "9号"}), "head_name"),
        (json!({"door_no": 9, "head_name": "某人"}), "door_no"),
        (json!({"door_no": "", "head_name": "某人"}), "door_no"),
        (
            json!({"door_no": "9号", "head_name": "某人", "phone": "call me"}),
            "phone",
        ),
        (
            json!({"door_no": "9号", "head_name": "某人", "group_id": "one"}),
            "group_id",
        ),
        (
            json!({"door_no": "9号", "head_name": "某人", "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let resp = app.post(&path, Some(&w.committee), body.clone());
        assert_eq!(resp.status, 422, "{body}: {}", resp.text);
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(resp.fields(), vec![field.to_owned()], "{body}");
        assert!(
            resp.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let list = app.get(&path, Some(&w.committee));
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        3,
        "nothing was created"
    );
}

#[test]
fn junk_bodies_never_yield_a_500() {
    let app = TestApp::start();
    let w = app.world();
    let household = w.households[0];
    let posts = [
        "/api/v1/auth/login".to_owned(),
        "/api/v1/auth/refresh".to_owned(),
        "/api/v1/auth/logout".to_owned(),
        "/api/v1/auth/invite".to_owned(),
        "/api/v1/villages".to_owned(),
        format!("/api/v1/villages/{}/groups", w.qingle),
        format!("/api/v1/villages/{}/households", w.qingle),
        format!("/api/v1/villages/{}/households/import", w.qingle),
        format!("/api/v1/households/{household}/members"),
        format!("/api/v1/households/{household}/invites"),
        "/api/v1/staff".to_owned(),
    ];
    let junk: [(&'static [u8], &str); 8] = [
        (b"", "application/json"),
        (b"{", "application/json"),
        (b"null", "application/json"),
        (b"[]", "application/json"),
        (b"\"x\"", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"{\"a\":1e999999}", "application/json"),
        (
            b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\xff\r\n",
            "multipart/form-data; boundary=x",
        ),
    ];
    for path in &posts {
        for (body, content_type) in junk {
            let token = if path.contains("villages") && !path.ends_with("/villages") {
                &w.committee
            } else {
                &w.admin
            };
            let resp = app.post_raw(path, Some(token), body, content_type);
            assert!(
                (400..500).contains(&resp.status),
                "POST {path} with {body:?} gave {}: {}",
                resp.status,
                resp.text
            );
            assert_eq!(
                resp.header("content-type"),
                Some("application/problem+json"),
                "POST {path} with {body:?}"
            );
        }
    }
    for path in [
        format!("/api/v1/villages/{}", w.qingle),
        format!("/api/v1/households/{household}"),
    ] {
        for (body, content_type) in junk {
            let resp = app.send_patch_raw(&path, &w.committee, body, content_type);
            assert!(
                (400..500).contains(&resp.status),
                "PATCH {path} with {body:?} gave {}",
                resp.status
            );
        }
    }
}

#[test]
fn huge_numbers_and_strings_are_refused_cleanly() {
    let app = TestApp::start();
    let w = app.world();
    let resp = app.get(
        &format!(
            "/api/v1/villages/{}/households?limit=99999999999999999999",
            w.qingle
        ),
        Some(&w.committee),
    );
    assert_eq!(
        (resp.status, resp.fields()),
        (422, vec!["limit".to_owned()])
    );
    let long = "长".repeat(200);
    let resp = app.post(
        &format!("/api/v1/villages/{}/groups", w.qingle),
        Some(&w.committee),
        json!({"name": long}),
    );
    assert_eq!((resp.status, resp.fields()), (422, vec!["name".to_owned()]));
    let resp = app.get(
        "/api/v1/households/99999999999999999999999",
        Some(&w.committee),
    );
    assert_eq!(resp.status, 404);
}

#[test]
fn amounts_and_dates_are_taken_only_in_their_documented_form() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let path = format!("/api/v1/villages/{}/checklist", w.qingle);
    for points in ["+5", " 5 ", "5.", ".5", "5e0", "5.000"] {
        let resp = app.post(
            &path,
            Some(&w.committee),
            json!({"code": "X01", "category": "类别", "title": "事项", "points": points,
                   "period": "event", "cap_count": null, "proposers": ["committee"]}),
        );
        assert_eq!(
            (resp.status, resp.fields()),
            (422, vec!["points".to_owned()]),
            "{points:?}: {}",
            resp.text
        );
    }
    let item = crate::ledger::add_item(&app, &w, "A01", "5");
    for day in [
        "0000-01-01",
        "-2026-01-01",
        "1999-12-31",
        "2026-11-27T00:00:00",
        "27/11/2026",
    ] {
        let resp = crate::ledger::award(
            &app,
            &w,
            &format!("day-{day}"),
            json!({"item_id": item, "household_ids": [w.households[0]], "occurred_on": day}),
        );
        assert_eq!(
            (resp.status, resp.fields()),
            (422, vec!["occurred_on".to_owned()]),
            "{day}: {}",
            resp.text
        );
    }
    let ledger = app.get(
        &format!("/api/v1/villages/{}/ledger", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        ledger.body["items"].as_array().unwrap().len(),
        0,
        "nothing was awarded"
    );
}

/// JSON Schema (and so the OpenAPI document) counts `2.0` as the integer 2: it is taken as
/// one, in the body and in the idempotency digest. `2.5` stays a type error.
#[test]
fn whole_numbers_written_with_a_fraction_are_integers() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let item = crate::ledger::add_item(&app, &w, "A01", "5");
    let body = |quantity: serde_json::Value| {
        json!({"item_id": item, "household_ids": [w.households[0]], "quantity": quantity,
               "occurred_on": "2026-11-27"})
    };
    let halves = crate::ledger::award(&app, &w, "halves", body(json!(2.5)));
    assert_eq!(
        (halves.status, halves.fields()),
        (422, vec!["quantity".to_owned()]),
        "{}",
        halves.text
    );
    let awarded = crate::ledger::award(&app, &w, "whole", body(json!(2.0)));
    assert_eq!(awarded.status, 201, "{}", awarded.text);
    assert_eq!(awarded.body["claims"][0]["quantity"], 2, "{}", awarded.text);
    let replayed = crate::ledger::award(&app, &w, "whole", body(json!(2)));
    assert_eq!(
        (replayed.status, replayed.header("Idempotency-Replayed")),
        (201, Some("true")),
        "2 and 2.0 are one request: {}",
        replayed.text
    );
    // Read exactly, however large: 3669825688517542.0 is not 3669825688517542.5.
    let large = json!({"item_id": item, "household_ids": [3669825688517542.0_f64],
                       "occurred_on": "2026-11-27"});
    let stranger = crate::ledger::award(&app, &w, "large", large);
    assert!(
        stranger.status == 422 && !stranger.text.contains("floating point"),
        "{}",
        stranger.text
    );
}

/// Every body is a JSON object: serde alone would fill a struct from an array.
#[test]
fn a_body_that_is_not_an_object_is_refused() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let path = format!("/api/v1/villages/{}", w.qingle);
    for body in [
        json!([null, null]),
        json!(["改名村", null]),
        json!("庆乐村"),
        json!(5),
    ] {
        let resp = app.patch(&path, Some(&w.committee), body.clone());
        assert_eq!(
            (resp.status, resp.fields()),
            (422, vec!["body".to_owned()]),
            "{body}: {}",
            resp.text
        );
    }
    let village = app.get(&path, Some(&w.committee));
    assert_eq!(village.body["name"], "庆乐村", "{}", village.text);
}

/// An upload holds the one part the document names; another part is refused, like an
/// unknown JSON field, and nothing is imported.
#[test]
fn an_upload_with_a_part_of_another_name_is_refused() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let path = format!("/api/v1/villages/{}/checklist/import", w.qingle);
    let resp = app.post_raw(
        &path,
        Some(&w.committee),
        b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\r\n\
\xe7\xbc\x96\xe5\x8f\xb7\r\n--b--\r\n",
        "multipart/form-data; boundary=b",
    );
    assert_eq!(
        (resp.status, resp.fields()),
        (422, vec!["file".to_owned()]),
        "{}",
        resp.text
    );
    let items = app.get(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(items.body["items"], json!([]), "{}", items.text);
}

/// Sign-in, refresh and invite bodies refuse a field they do not have, as every other body
/// does (and as the document says: `additionalProperties: false`).
#[test]
fn sign_in_bodies_refuse_fields_they_do_not_have() {
    let app = TestApp::start();
    for (path, body, field) in [
        (
            "/api/v1/auth/login",
            json!({"username": "admin", "password": "x", "remember": true}),
            "remember",
        ),
        (
            "/api/v1/auth/refresh",
            json!({"refresh_token": "x", "extra": 1}),
            "extra",
        ),
        (
            "/api/v1/auth/invite",
            json!({"invite_code": "1234567890", "extra": 1}),
            "extra",
        ),
    ] {
        let resp = app.post(path, None, body);
        assert_eq!(
            (resp.status, resp.fields()),
            (422, vec![field.to_owned()]),
            "{path}: {}",
            resp.text
        );
    }
}
