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
