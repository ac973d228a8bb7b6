//! Control characters (U+0000 above all, which PostgreSQL refuses in text) are refused in
//! every text field, naming it, before anything is stored; newline and tab only where
//! text may run over lines.

use serde_json::{Value, json};

use crate::support::TestApp;

/// Follows `$ref`s into the document's components.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn is_string(schema: &Value) -> bool {
    schema["type"] == "string"
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("string")))
}

/// Every string leaf of a request schema, as (field path, a body holding `value` there).
fn string_leaves(doc: &Value, schema: &Value, value: &Value) -> Vec<(String, Value)> {
    let schema = resolve(doc, schema);
    if is_string(schema) {
        return vec![(String::new(), value.clone())];
    }
    let mut leaves = Vec::new();
    for variant in ["oneOf", "anyOf", "allOf"] {
        for inner in schema[variant].as_array().into_iter().flatten() {
            leaves.extend(string_leaves(doc, inner, value));
        }
    }
    if let Some(items) = schema.get("items") {
        for (path, body) in string_leaves(doc, items, value) {
            leaves.push((format!("[0]{}", dotted(&path)), json!([body])));
        }
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        for (path, body) in string_leaves(doc, property, value) {
            leaves.push((format!("{name}{}", dotted(&path)), json!({ name: body })));
        }
    }
    leaves
}

fn dotted(path: &str) -> String {
    if path.is_empty() || path.starts_with('[') {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}

fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in template.chars() {
        match c {
            '{' => inside = true,
            '}' => {
                inside = false;
                out.push('1');
            }
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn every_text_field_of_every_endpoint_refuses_control_characters() {
    let app = TestApp::start();
    let w = app.world();
    let doc = serde_json::to_value(jifen::openapi::document()).unwrap();
    let client = reqwest::blocking::Client::new();
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = op["requestBody"]["content"].get("application/json") else {
                continue;
            };
            for bad in ["\u{0}", "a\u{7}b", "\u{1b}[31m", "x\u{85}"] {
                for (field, body) in string_leaves(&doc, &schema["schema"], &json!(bad)) {
                    let request = client
                        .request(
                            method.to_uppercase().parse().unwrap(),
                            app.url(&concrete(template)),
                        )
                        .bearer_auth(&w.committee)
                        .header("idempotency-key", "text-check")
                        .json(&body);
                    let resp = request.send().unwrap();
                    let status = resp.status().as_u16();
                    let text = resp.text().unwrap();
                    assert_eq!(status, 422, "{method} {template} {body}: {text}");
                    let problem: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(
                        problem["errors"][0]["field"], field,
                        "{method} {template} {body}: {text}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 4 * 60, "only {checked} fields checked");
    eprintln!("{checked} text fields refused control characters");

    // Query strings too, where a search term goes to the database.
    for path in [
        format!("/api/v1/villages/{}/households?q=%00", w.qingle),
        format!("/api/v1/villages/{}/claims?cursor=a%07", w.qingle),
    ] {
        let resp = app.get(&path, Some(&w.committee));
        assert_eq!(resp.status, 422, "{path}: {}", resp.text);
    }
    let households = app.get(
        &format!("/api/v1/villages/{}/households", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        households.body["items"].as_array().unwrap().len(),
        3,
        "nothing was created"
    );
}

#[test]
fn names_are_one_line_and_notes_may_run_over_lines() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    for (door, head, field) in [("9号\n", "某人", "door_no"), ("9号", "某\t人", "head_name")]
    {
        let resp = app.post(
            &format!("/api/v1/villages/{}/households", w.qingle),
            Some(&w.committee),
            json!({"door_no": door, "head_name": head}),
        );
        assert_eq!(
            (resp.status, resp.fields()),
            (422, vec![field.to_owned()]),
            "{}",
            resp.text
        );
    }
    let item = crate::ledger::add_item(&app, &w, "A01", "5");
    let award = crate::ledger::award(
        &app,
        &w,
        "note",
        json!({"item_id": item, "household_ids": [w.households[0]], "occurred_on": "2026-11-27",
               "note": "帮五保户修屋顶\n连续三天\t辛苦"}),
    );
    assert_eq!(award.status, 201, "{}", award.text);
    let claim = &award.body["claims"][0];
    assert!(
        claim.to_string().contains("帮五保户修屋顶\\n连续三天"),
        "{claim}"
    );
}

#[test]
fn an_import_cell_with_a_control_character_is_named_by_row_and_column() {
    let app = TestApp::start();
    let w = app.world();
    let csv = "门牌号,户主\n50号,钟\u{0}伟\n".as_bytes().to_vec();
    let resp = app.upload(
        &format!("/api/v1/villages/{}/households/import", w.qingle),
        Some(&w.committee),
        "h.csv",
        csv,
    );
    assert_eq!(
        (resp.status, resp.fields()),
        (422, vec!["row 2: 户主".to_owned()]),
        "{}",
        resp.text
    );
}

#[test]
fn page_forms_refuse_control_characters_in_words() {
    let app = TestApp::start();
    app.world();
    for (page, fields) in [
        (
            "/staff/login",
            [("username", "admin\u{0}"), ("password", "x")],
        ),
        (
            "/h5/login",
            [("invite_code", "1234\u{0}567890"), ("next", "/h5/")],
        ),
    ] {
        let b = crate::pages::browser();
        let html = b.get(app.url(page)).send().unwrap().text().unwrap();
        let csrf = crate::pages::csrf_of(&html);
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let resp = b.post(app.url(page)).form(&form).send().unwrap();
        assert_eq!(resp.status(), 422, "{page}");
        assert!(resp.text().unwrap().contains("不能识别的字符"), "{page}");
    }
}
