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

/// A documented path asked with a method it does not declare answers 405 with `Allow`;
/// a path the document does not have stays 404.
#[test]
fn an_undeclared_method_is_405_naming_the_methods_the_path_answers() {
    use reqwest::Method;
    let app = TestApp::start();
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/villages/1/claims", "GET, POST"),
        (Method::PUT, "/api/v1/auth/login", "POST"),
        (Method::TRACE, "/healthz", "GET"),
        (Method::POST, "/api/v1/claims/7", "GET"),
        // A word in the path is not taken for the id of `/statements/{id}`.
        (Method::OPTIONS, "/api/v1/statements/verify", "POST"),
        (Method::GET, "/api/v1/statements/verify", "POST"),
    ] {
        let resp = app.send_method(method.clone(), path, None);
        assert_eq!(
            (resp.status, resp.header("allow"), resp.code()),
            (405, Some(allow), "method_not_allowed"),
            "{method} {path}: {}",
            resp.text
        );
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json")
        );
    }
    let nothing = app.send_method(Method::DELETE, "/api/v1/nothing-here", None);
    assert_eq!(nothing.status, 404, "{}", nothing.text);
}

/// What an operation can answer by its shape is in the document: 401/403/404 where a
/// token is needed, 404 for a path id, 413/422 for a body, 422 for a query, 503 with
/// `Retry-After` for anything that reads the database. Operation ids are unique and say
/// what they do.
#[test]
fn every_operation_documents_what_its_shape_can_answer() {
    let doc = serde_json::to_value(jifen::openapi::document()).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(
                id.contains('_')
                    || ["login", "logout", "healthz", "readyz", "metrics"].contains(&id),
                "{method} {path}: operationId {id:?} says too little"
            );
            let answers = op["responses"].as_object().unwrap();
            let has = |status: &str| answers.contains_key(status);
            let mut expected = Vec::new();
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                expected.extend(["401", "403", "404"]);
            }
            if path.contains('{') {
                expected.push("404");
            }
            if op.get("requestBody").is_some() {
                expected.extend(["413", "422"]);
            }
            let queried = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] != "path"));
            if queried {
                expected.push("422");
            }
            if has("429") {
                assert!(
                    answers["429"]["headers"]["Retry-After"].is_object(),
                    "{method} {path}: 429 without Retry-After"
                );
            }
            if path.starts_with("/api/") {
                expected.push("503");
                assert!(
                    answers["503"]["headers"]["Retry-After"].is_object(),
                    "{method} {path}: 503 without Retry-After"
                );
            }
            for status in expected {
                assert!(has(status), "{method} {path} does not document {status}");
                let problem = &answers[status]["content"]["application/problem+json"]["schema"];
                assert_eq!(
                    problem["$ref"], "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

/// Every string a request may carry says what it may hold (a pattern, an enum or a binary
/// format), and text over lines allows exactly what `crate::text` allows.
#[test]
fn every_request_string_says_what_it_may_hold() {
    use serde_json::Value;
    fn walk(
        schema: &Value,
        at: &str,
        schemas: &Value,
        seen: &mut Vec<String>,
        found: &mut Vec<String>,
    ) {
        if let Some(name) = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            if !seen.contains(&name.to_owned()) {
                seen.push(name.to_owned());
                walk(&schemas[name], name, schemas, seen, found);
            }
            return;
        }
        let is_string = schema["type"] == "string"
            || schema["type"]
                .as_array()
                .is_some_and(|t| t.contains(&Value::from("string")));
        if is_string {
            let said = schema.get("pattern").is_some()
                || schema.get("enum").is_some()
                || schema["format"] == "binary";
            if !said {
                found.push(at.to_owned());
            }
            if let Some(pattern) = schema["pattern"].as_str()
                && pattern.contains("\\u0008")
            {
                assert_eq!(pattern, jifen::openapi::MULTI_LINE, "{at}");
            }
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            walk(property, &format!("{at}.{name}"), schemas, seen, found);
        }
        if schema["items"].is_object() {
            walk(&schema["items"], &format!("{at}[]"), schemas, seen, found);
        }
        for key in ["oneOf", "allOf", "anyOf"] {
            for option in schema[key].as_array().into_iter().flatten() {
                walk(option, at, schemas, seen, found);
            }
        }
    }
    let doc = serde_json::to_value(jifen::openapi::document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let (mut seen, mut found) = (Vec::new(), Vec::new());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for content in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                walk(
                    &content.1["schema"],
                    &format!("{method} {path}"),
                    schemas,
                    &mut seen,
                    &mut found,
                );
            }
            for parameter in op["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] != "path" {
                    let at = format!("{method} {path} {}", parameter["name"]);
                    walk(&parameter["schema"], &at, schemas, &mut seen, &mut found);
                }
            }
        }
    }
    assert!(seen.len() > 30, "walked only {seen:?}");
    assert!(
        found.is_empty(),
        "strings that say nothing of what they hold: {found:?}"
    );
}

/// utoipa names a schema after its Rust type alone, so two types of one name in different
/// folders (a ranking's `Period` and the checklist's) would silently share one schema and
/// the document would describe one of them wrongly.
#[test]
fn no_two_schema_types_share_a_name() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for path in crate::support::rust_files(&src) {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut deriving = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[derive(") && line.contains("ToSchema") {
                deriving = true;
            } else if deriving && !line.starts_with('#') && !line.starts_with("///") {
                let name = line
                    .strip_prefix("pub struct ")
                    .or_else(|| line.strip_prefix("pub enum "))
                    .and_then(|rest| {
                        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                    });
                if let Some(name) = name {
                    seen.entry(name.to_owned())
                        .or_default()
                        .push(path.display().to_string());
                }
                deriving = false;
            }
        }
    }
    let shared: Vec<_> = seen.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(
        seen.contains_key("RankingPeriod"),
        "the scan finds schema types"
    );
    assert!(shared.is_empty(), "schema names used twice: {shared:?}");
}

/// Every `$ref` names a schema the document holds (a type used only in a query's
/// parameters is not collected by utoipa unless inlined; CI's spec validator refused such
/// a document once).
#[test]
fn every_reference_resolves() {
    fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner.as_str()) {
                        ("$ref", Some(target)) => out.push(target),
                        _ => refs(inner, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
            _ => {}
        }
    }
    let doc: serde_json::Value = serde_json::from_str(&jifen::openapi::document_json()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    let missing: Vec<&str> = found
        .into_iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "references to nothing: {missing:?}");
}
