use crate::support::TestApp;

#[test]
fn served_document_equals_the_committed_one() {
    let app = TestApp::start();
    let served = app.get("/api-docs/openapi.json", None);
    assert_eq!(served.status, 200);
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json"))
            .expect("committed openapi.json parses");
    assert!(
        served.body == committed,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
    assert_eq!(
        jifen::openapi::document_json(),
        include_str!("../../openapi/openapi.json")
    );
}

#[test]
fn every_response_has_a_description_and_every_operation_is_documented() {
    let doc = jifen::openapi::document();
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["openapi"], "3.1.0");
    let paths = json["paths"].as_object().unwrap();
    for expected in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/invite",
        "/api/v1/me",
        "/api/v1/villages",
        "/api/v1/villages/{village_id}",
        "/api/v1/villages/{village_id}/groups",
        "/api/v1/villages/{village_id}/households",
        "/api/v1/villages/{village_id}/households/import",
        "/api/v1/households/{household_id}",
        "/api/v1/households/{household_id}/members",
        "/api/v1/households/{household_id}/invites",
        "/api/v1/staff",
        "/api/v1/villages/{village_id}/checklist",
        "/api/v1/checklist/{item_id}",
        "/api/v1/checklist/{item_id}/retire",
        "/api/v1/villages/{village_id}/checklist/import",
    ] {
        assert!(
            paths.contains_key(expected),
            "{expected} missing from the OpenAPI document"
        );
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

#[test]
fn swagger_ui_is_served_without_other_hosts() {
    let app = TestApp::start();
    let page = app.get("/swagger-ui/", None);
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui"));
    for asset in [
        "/swagger-ui/swagger-ui.css",
        "/swagger-ui/swagger-ui-bundle.js",
        "/swagger-ui/swagger-initializer.js",
    ] {
        let resp = app.get(asset, None);
        assert_eq!(resp.status, 200, "{asset}");
    }
    let init = app.get("/swagger-ui/swagger-initializer.js", None);
    assert!(init.text.contains("/api-docs/openapi.json"));
    assert!(
        !page.text.contains("https://") && !page.text.contains("http://"),
        "Swagger UI loads from another host"
    );
}

/// Every list in the document answers `{items, next_cursor}` (API.md "Conventions"), as
/// documented and as served.
#[test]
fn every_list_endpoint_answers_items_and_next_cursor() {
    use serde_json::{Value, json};
    let app = TestApp::start();
    let s = crate::shop::shop_world(&app, "100");
    let w = &s.w;
    let item = crate::ledger::add_item(&app, w, "E01", "3");
    let claim = app.post(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.committee),
        json!({"household_id": w.households[0], "item_id": item, "occurred_on": "2026-11-27"}),
    );
    assert_eq!(claim.status, 201, "{}", claim.text);
    let doc = serde_json::to_value(jifen::openapi::document()).unwrap();
    let mut lists = 0;
    for (template, path_item) in doc["paths"].as_object().unwrap() {
        let Some(op) = path_item.get("get") else {
            continue;
        };
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert_ne!(
            schema["type"], "array",
            "GET {template} answers a bare array"
        );
        let is_page = schema["$ref"]
            .as_str()
            .is_some_and(|r| r.starts_with("#/components/schemas/Page_"));
        if !is_page {
            continue;
        }
        let path = template
            .replace("{village_id}", &w.qingle.to_string())
            .replace("{household_id}", &w.households[0].to_string())
            .replace("{shop_id}", &s.id.to_string())
            .replace("{claim_id}", &claim.id().to_string());
        assert!(!path.contains('{'), "no id for {template}");
        let token = if path.starts_with("/api/v1/shops") || path.starts_with("/api/v1/staff") {
            &w.admin
        } else {
            &w.committee
        };
        for query in ["", "?limit=1"] {
            let resp = app.get(&format!("{path}{query}"), Some(token));
            assert_eq!(resp.status, 200, "GET {path}{query}: {}", resp.text);
            assert!(
                resp.body["items"].is_array(),
                "GET {path}{query}: {}",
                resp.text
            );
            let next = &resp.body["next_cursor"];
            assert!(
                resp.body.as_object().unwrap().contains_key("next_cursor")
                    && (next.is_null() || next.is_string()),
                "GET {path}{query}: {}",
                resp.text
            );
            if let Value::String(cursor) = next {
                let more = app.get(&format!("{path}?limit=1&cursor={cursor}"), Some(token));
                assert_eq!(more.status, 200, "GET {path} next page: {}", more.text);
                assert_ne!(
                    more.body["items"], resp.body["items"],
                    "GET {path} pages on"
                );
            }
        }
        lists += 1;
    }
    assert!(lists >= 15, "only {lists} lists found");
}
