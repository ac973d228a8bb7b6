//! The database refuses edits of history, and what slips past it is caught by `verify`.

use std::process::Command;

use diesel::RunQueryDsl;
use serde_json::json;

use crate::ledger::{add_item, award, ledger_world};
use crate::support::TestApp;

fn award_some(app: &TestApp, w: &crate::support::World) {
    let item = add_item(app, w, "A01", "5");
    let resp = award(
        app,
        w,
        "k1",
        json!({"item_id": item, "household_ids": [w.households[0], w.households[1]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
}

#[test]
fn raw_updates_and_deletes_of_history_are_refused() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    award_some(&app, &w);
    let mut conn = app.db.connect();
    for sql in [
        "UPDATE postings SET amount = amount + 100",
        "DELETE FROM postings",
        "UPDATE ledger_transactions SET memo = 'edited'",
        "DELETE FROM ledger_transactions",
        "UPDATE audit_events SET addr = 'nowhere'",
        "DELETE FROM audit_events",
        "UPDATE idempotency_records SET status = 200",
        "DELETE FROM idempotency_records",
        "UPDATE claim_events SET note = 'x'",
        "DELETE FROM claim_events",
    ] {
        let result = diesel::sql_query(sql).execute(&mut conn);
        let err = result.expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if app.db.is_postgres() {
        for table in [
            "postings",
            "ledger_transactions",
            "audit_events",
            "idempotency_records",
            "claim_events",
        ] {
            let err = diesel::sql_query(format!("TRUNCATE {table} CASCADE"))
                .execute(&mut conn)
                .expect_err(table);
            assert!(err.to_string().contains("append-only"), "{table}: {err}");
        }
    }
}

fn run_verify(app: &TestApp) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_jifen"))
        .args(["verify", "--village", "qingle"])
        .env("JIFEN_DATABASE_URL", app.db.url())
        .env("JIFEN_LOG", "error")
        .output()
        .expect("run jifen verify");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn an_amount_altered_behind_the_triggers_back_is_reported() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    award_some(&app, &w);
    let (sound, text) = run_verify(&app);
    assert!(sound, "{text}");
    assert!(text.contains("qingle 庆乐村: 2 transactions"), "{text}");

    let mut conn = app.db.connect();
    let statements: &[&str] = if app.db.is_postgres() {
        &[
            "ALTER TABLE postings DISABLE TRIGGER postings_append_only",
            "UPDATE postings SET amount = amount + 100 WHERE id = (SELECT MIN(id) FROM postings)",
            "ALTER TABLE postings ENABLE TRIGGER postings_append_only",
        ]
    } else {
        &[
            "DROP TRIGGER postings_no_update",
            "UPDATE postings SET amount = amount + 100 WHERE id = (SELECT MIN(id) FROM postings)",
        ]
    };
    for sql in statements {
        diesel::sql_query(*sql)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let (sound, text) = run_verify(&app);
    assert!(!sound, "verify missed the tampering: {text}");
    assert!(
        text.contains("NOT SOUND") && text.contains("hash does not match"),
        "{text}"
    );
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(report.body["ok"], false);
    assert!(!report.body["problems"].as_array().unwrap().is_empty());
    let township = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&w.admin),
    );
    assert_eq!(
        township.body["ok"], false,
        "the township admin may verify too"
    );
}
