//! Issue 15, point 5: household statements 积分证明 a bank can check (API.md "Household
//! statements"): signed, checkable by anyone with the public key, online and offline.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Value, json};

use crate::ledger::add_item;
use crate::shop::shop_world;
use crate::support::TestApp;
use crate::township::deduct;

/// The canonical JSON of API.md, written here again so the server's own is checked.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        scalar => scalar.to_string(),
    }
}

fn published_key(app: &TestApp) -> (String, VerifyingKey, String) {
    let keys = app.get("/.well-known/jifen-statement-keys", None);
    assert_eq!(keys.status, 200, "{}", keys.text);
    let key = &keys.body["keys"][0];
    assert_eq!(key["alg"], "Ed25519");
    let text = key["public_key"].as_str().unwrap().to_owned();
    let bytes: [u8; 32] = STANDARD.decode(&text).unwrap().try_into().unwrap();
    (
        key["key_id"].as_str().unwrap().to_owned(),
        VerifyingKey::from_bytes(&bytes).unwrap(),
        text,
    )
}

fn issue(app: &TestApp, token: &str, household: i64) -> Value {
    let resp = app.post(
        &format!("/api/v1/households/{household}/statements"),
        Some(token),
        json!({"purpose": "申请积分贷"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.body
}

fn verify(app: &TestApp, document: &Value, signature: &str) -> Value {
    let resp = app.post(
        "/api/v1/statements/verify",
        None,
        json!({"document": document, "signature": signature}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body
}

#[test]
fn a_statement_is_signed_over_what_the_household_holds_and_did() {
    let app = TestApp::start();
    // Households 0 and 1 were awarded 100 on 2026-11-27; household 0 then loses 5.
    let s = shop_world(&app, "100");
    let w = &s.w;
    let litter = add_item(&app, w, "D01", "-5");
    deduct(&app, w, "deduct", litter, w.households[0], "2026-11-28");

    let statement = issue(&app, &w.committee, w.households[0]);
    let doc = &statement["document"];
    assert_eq!(doc["kind"], "jifen.household_statement");
    assert_eq!(doc["statement_id"], statement["id"]);
    assert_eq!(doc["village"]["name"], "庆乐村");
    assert_eq!(doc["door_no"], "1号");
    assert_eq!(doc["head_name"], "张小明", "the head's name in full");
    assert_eq!(doc["purpose"], "申请积分贷");
    assert_eq!(
        (doc["points"].as_str(), doc["honour"].as_str()),
        (Some("95.00"), Some("95.00"))
    );
    assert_eq!(doc["rank"], 2, "household 1 holds 100 honour, this one 95");
    assert_eq!(doc["households"], 3);
    assert_eq!(doc["honours"].as_array().unwrap().len(), 1);
    assert_eq!(doc["honours"][0]["date"], "2026-11-27");
    assert_eq!(doc["honours"][0]["points"], "100.00");
    assert_eq!(doc["deductions"][0]["points"], "-5.00");
    assert_eq!(doc["from"], "2025-11-29");
    assert_eq!(doc["to"], "2026-11-28");
    assert_eq!(doc["issued_at"], "2026-11-28T10:00:00+08:00");
    assert_eq!(doc["expires_at"], "2027-02-26T10:00:00+08:00");

    // The signature is the published key's over the canonical JSON, checked here alone.
    let (key_id, key, _) = published_key(&app);
    assert_eq!(statement["key_id"], key_id.as_str());
    assert_eq!(doc["key_id"], key_id.as_str());
    let signature: [u8; 64] = STANDARD
        .decode(statement["signature"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    key.verify(
        canonical(doc).as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .expect("the signature verifies against the published key");

    // The chain head it names is the village's, and in the chain.
    let head = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(doc["chain"]["seq"], head.body["head"]["seq"]);
    assert_eq!(doc["chain"]["hash"], head.body["head"]["hash"]);
    let check = verify(&app, doc, statement["signature"].as_str().unwrap());
    assert_eq!(
        check,
        json!({"valid": true, "issued_at": "2026-11-28T02:00:00Z", "expired": false,
               "chain_seq_present": true, "key_id": key_id})
    );

    // Read back as issued, by the household too; its QR's page says it holds.
    let villager = app.villager(&w.committee, w.households[0]);
    let again = app.get(
        &format!("/api/v1/statements/{}", statement["id"]),
        Some(&villager),
    );
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body, statement);
    let url = doc["verify_url"].as_str().unwrap();
    let path = &url[url.find("/v/").expect("a check address")..];
    let page = app.get(path, None);
    assert_eq!(page.status, 200);
    assert!(page.text.contains("真实证明"), "{}", page.text);
    assert!(page.text.contains("村账本里这一笔仍在"), "{}", page.text);
    assert_eq!(app.get("/v/not-a-token", None).status, 404);
}

#[test]
fn any_changed_byte_makes_a_statement_invalid() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let statement = issue(&app, &s.w.committee, s.w.households[0]);
    let (doc, signature) = (
        &statement["document"],
        statement["signature"].as_str().unwrap(),
    );
    let text = canonical(doc);
    let chars: Vec<char> = text.chars().collect();
    let mut checked = 0;
    for at in 0..chars.len() {
        let mut changed = chars.clone();
        changed[at] = match chars[at] {
            '0' => '1',
            c if c.is_ascii_digit() => '0',
            'a' => 'b',
            c if c.is_ascii_alphabetic() => 'a',
            c if !c.is_ascii() => '王',
            _ => continue,
        };
        if changed[at] == chars[at] {
            changed[at] = '9';
        }
        let changed: String = changed.into_iter().collect();
        // Only changes that still read as a document: the rest never reach a check.
        let Ok(forged) = serde_json::from_str::<Value>(&changed) else {
            continue;
        };
        let check = verify(&app, &forged, signature);
        assert_eq!(check["valid"], false, "changed at {at}: {changed}");
        assert_eq!(check["issued_at"], Value::Null);
        checked += 1;
    }
    assert!(checked > 300, "only {checked} changes checked");
    // A changed signature fails too, and so does one that is not base64.
    let mut bytes = STANDARD.decode(signature).unwrap();
    bytes[10] ^= 1;
    assert_eq!(verify(&app, doc, &STANDARD.encode(&bytes))["valid"], false);
    assert_eq!(verify(&app, doc, "签名")["valid"], false);
    assert_eq!(verify(&app, doc, signature)["valid"], true);
    let missing = app.post("/api/v1/statements/verify", None, json!({"document": doc}));
    assert_eq!(missing.status, 422);
    assert_eq!(missing.fields(), ["signature"]);
    let listed = app.post(
        "/api/v1/statements/verify",
        None,
        json!({"document": [doc], "signature": signature}),
    );
    assert_eq!(
        (listed.status, listed.fields()),
        (422, vec!["document".to_owned()])
    );
}

#[test]
fn an_expired_statement_says_so_and_the_offline_check_agrees() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let statement = issue(&app, &s.w.committee, s.w.households[1]);
    let (doc, signature) = (
        &statement["document"],
        statement["signature"].as_str().unwrap(),
    );
    let (_, _, public_key) = published_key(&app);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("积分证明.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&statement).unwrap()).unwrap();
    let offline = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_jifen"))
            .args([
                "statement-verify",
                file.to_str().unwrap(),
                "--public-key",
                &public_key,
            ])
            .env("JIFEN_LOG", "warn")
            .output()
            .expect("run jifen")
    };
    // The test clock is in 2026, the command's is today's: what it says of the expiry
    // depends on the date, so only the signature is asserted offline.
    let out = offline(&file);
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("庆乐村 2号 王德福"), "{said}");
    assert!(!said.contains("NOT VALID"), "{said}");
    let mut forged = statement.clone();
    forged["document"]["points"] = json!("10000.00");
    std::fs::write(&file, serde_json::to_vec(&forged).unwrap()).unwrap();
    let out = offline(&file);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT VALID"));

    app.advance(Duration::days(89));
    assert_eq!(verify(&app, doc, signature)["expired"], false);
    app.advance(Duration::days(1));
    let check = verify(&app, doc, signature);
    assert_eq!(
        (check["valid"].as_bool(), check["expired"].as_bool()),
        (Some(true), Some(true))
    );
    let url = doc["verify_url"].as_str().unwrap();
    let page = app.get(&url[url.find("/v/").unwrap()..], None);
    assert!(
        page.text.contains("已在 2027年2月26日 过期"),
        "{}",
        page.text
    );
}

#[test]
fn a_statement_from_another_server_with_the_shared_key_verifies() {
    let shared = |s: &mut jifen::config::Settings| {
        s.signing_key = Some("shared-statement-key-shared-statement-key".into());
    };
    let first = TestApp::start_with(shared);
    let second = TestApp::start_with(shared);
    let stranger = TestApp::start();
    let s = shop_world(&first, "100");
    let statement = issue(&first, &s.w.committee, s.w.households[0]);
    let (doc, signature) = (
        &statement["document"],
        statement["signature"].as_str().unwrap(),
    );
    assert_eq!(published_key(&first).0, published_key(&second).0);
    let there = verify(&second, doc, signature);
    assert_eq!(there["valid"], true, "{there}");
    // The other server keeps other books: the chain position is not in them.
    assert_eq!(there["chain_seq_present"], false);
    assert_eq!(verify(&stranger, doc, signature)["valid"], false);
}

#[test]
fn only_the_committee_and_the_household_itself_ask_for_one() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let w = &s.w;
    let villager = app.villager(&w.committee, w.households[0]);
    let own = issue(&app, &villager, w.households[0]);
    let path = |h: i64| format!("/api/v1/households/{h}/statements");
    let body = json!({"purpose": "评优"});
    assert_eq!(
        app.post(&path(w.households[1]), Some(&villager), body.clone())
            .status,
        404
    );
    assert_eq!(
        app.post(&path(w.households[0]), Some(&w.supervisor), body.clone())
            .status,
        403
    );
    assert_eq!(
        app.post(
            &path(w.households[0]),
            Some(&w.other_committee),
            body.clone()
        )
        .status,
        404
    );
    let read = format!("/api/v1/statements/{}", own["id"]);
    assert_eq!(app.get(&read, Some(&w.supervisor)).status, 200);
    assert_eq!(app.get(&read, Some(&w.other_committee)).status, 404);
    let neighbour = app.villager(&w.committee, w.households[1]);
    assert_eq!(app.get(&read, Some(&neighbour)).status, 404);

    // Bad requests name the field and issue nothing.
    let bad = |body: Value| app.post(&path(w.households[0]), Some(&w.committee), body);
    assert_eq!(bad(json!({"purpose": ""})).fields(), ["purpose"]);
    assert_eq!(bad(json!({})).fields(), ["purpose"]);
    assert_eq!(
        bad(json!({"purpose": "贷款", "to": "2026-12-31"})).fields(),
        ["to"]
    );
    assert_eq!(
        bad(json!({"purpose": "贷款", "from": "2026-11-28", "to": "2026-11-01"})).fields(),
        ["to"]
    );
    assert_eq!(
        bad(json!({"purpose": "贷款", "from": "2020-01-01"})).fields(),
        ["from"]
    );

    // The printed page: the QR, the public key and the signature, a way back.
    let page = app.get_page(&read, Some(&w.committee));
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text.contains("农户积分证明"), "{}", page.text);
    assert!(page.text.contains("<svg"), "a QR");
    assert!(page.text.contains(&published_key(&app).2));
    assert!(page.text.contains(own["signature"].as_str().unwrap()));
    assert!(
        page.text
            .contains(&format!("/admin/households/{}", w.households[0]))
    );
}
