//! The database refuses edits of history, and what slips past it is caught by `verify`.

use std::process::Command;

use diesel::RunQueryDsl;
use serde_json::json;

use crate::ledger::{add_item, award, ledger_world};
use jifen::db::DbConnection;

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
    verify_with(app, &[])
}

/// `jifen verify --village qingle` with more arguments: (sound, what it printed).
fn verify_with(app: &TestApp, more: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_jifen"))
        .args(["verify", "--village", "qingle"])
        .args(more)
        .env("JIFEN_DATABASE_URL", app.db.url())
        .env("JIFEN_LOG", "error")
        .output()
        .expect("run jifen verify");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Runs `edit` on a connection of the test's own with the append-only triggers of
/// `tables` out of the way, as someone holding the database's password could.
fn behind_the_triggers(app: &TestApp, tables: &[&str], edit: impl FnOnce(&mut DbConnection)) {
    let mut conn = app.db.connect();
    let toggle = |conn: &mut DbConnection, on: bool| {
        for table in tables {
            let statements = match (app.db.is_postgres(), on) {
                (true, false) => vec![format!(
                    "ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
                )],
                (true, true) => vec![format!(
                    "ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"
                )],
                (false, false) => vec![
                    format!("DROP TRIGGER IF EXISTS {table}_no_update"),
                    format!("DROP TRIGGER IF EXISTS {table}_no_delete"),
                ],
                (false, true) => vec![],
            };
            for sql in statements {
                execute(conn, &sql);
            }
        }
    };
    toggle(&mut conn, false);
    edit(&mut conn);
    toggle(&mut conn, true);
}

fn execute(conn: &mut DbConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[test]
fn an_amount_altered_behind_the_triggers_back_is_reported() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    award_some(&app, &w);
    let (sound, text) = run_verify(&app);
    assert!(sound, "{text}");
    assert!(text.contains("qingle 庆乐村: 2 transactions"), "{text}");

    behind_the_triggers(&app, &["postings"], |conn| {
        execute(
            conn,
            "UPDATE postings SET amount = amount + 100 WHERE id = (SELECT MIN(id) FROM postings)",
        )
    });
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

fn verify_expecting(app: &TestApp, mark: &str) -> (bool, String) {
    verify_with(app, &["--expect", mark])
}

#[test]
fn a_chain_cut_back_with_its_head_is_caught_by_a_head_someone_noted() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    award_some(&app, &w);
    let ledger = app.get(
        &format!("/api/v1/villages/{}/ledger", w.qingle),
        Some(&w.committee),
    );
    let last = ledger.body["items"][0]["id"].as_i64().unwrap();
    let reversal = app.post_with_key(
        &format!("/api/v1/ledger/{last}/reverse"),
        &w.committee,
        "undo",
        json!({"reason": "录错了"}),
    );
    assert_eq!(reversal.status, 201, "{}", reversal.text);
    // What the notice board (and every receipt) shows: someone notes it.
    let head = app.get("/api/v1/villages/qingle/ledger/head", None);
    let noted = format!(
        "{}:{}",
        head.body["seq"],
        head.body["hash"].as_str().unwrap()
    );
    assert_eq!(head.body["seq"], 3);
    assert!(verify_expecting(&app, &noted).0);

    // Behind the triggers' back: the last link goes, the head and balances are rewound
    // to match, so the chain on its own looks whole.
    behind_the_triggers(&app, &["postings", "ledger_transactions"], |conn| {
        for sql in [
            "DELETE FROM postings WHERE transaction_id IN (SELECT id FROM ledger_transactions WHERE seq = 3)",
            "DELETE FROM ledger_transactions WHERE seq = 3",
            "UPDATE accounts SET balance = (SELECT COALESCE(SUM(amount), 0) FROM postings WHERE postings.account_id = accounts.id)",
            "UPDATE chain_heads SET seq = 2, hash = (SELECT hash FROM ledger_transactions t WHERE t.village_id = chain_heads.village_id AND t.seq = 2)",
        ] {
            execute(conn, sql);
        }
    });
    let (sound, text) = run_verify(&app);
    assert!(sound, "without a noted head the cut is invisible: {text}");

    let (sound, text) = verify_expecting(&app, &noted);
    assert!(!sound, "the noted head must catch the cut: {text}");
    assert!(
        text.contains("seq 3 that was noted is not in the chain"),
        "{text}"
    );
    let path = format!("/api/v1/villages/{}/ledger/verify", w.qingle);
    let report = app.get(&format!("{path}?expect={noted}"), Some(&w.supervisor));
    assert_eq!(report.body["ok"], false, "{}", report.text);
    // An earlier noted position still holds; a malformed one is named.
    let first = ledger.body["items"][1]["hash"].as_str().unwrap();
    let still = app.get(&format!("{path}?expect=1:{first}"), Some(&w.supervisor));
    assert_eq!(still.body["ok"], true, "{}", still.text);
    let rewritten = app.get(&format!("{path}?expect=2:{first}"), Some(&w.supervisor));
    assert_eq!(rewritten.body["ok"], false, "{}", rewritten.text);
    let bad = app.get(&format!("{path}?expect=3-abc"), Some(&w.supervisor));
    assert_eq!((bad.status, bad.fields()), (422, vec!["expect".to_owned()]));
}

#[test]
fn who_made_a_transaction_is_part_of_its_hash() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    award_some(&app, &w);
    assert!(run_verify(&app).0);
    behind_the_triggers(&app, &["ledger_transactions"], |conn| {
        execute(
            conn,
            "UPDATE ledger_transactions SET actor_id = actor_id + 1",
        )
    });
    let (sound, text) = run_verify(&app);
    assert!(!sound && text.contains("hash does not match"), "{text}");
}

#[derive(diesel::QueryableByName)]
struct Link {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    village_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    memo: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    created_at: chrono::NaiveDateTime,
}

#[derive(diesel::QueryableByName)]
struct Leg {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    amount: i64,
}

/// Rewrites the village's chain as a release before version 2 would have written it.
fn rehash_as_version_one(conn: &mut jifen::db::DbConnection) {
    use jifen::ledger::model::{ChainEntry, ChainVersion, GENESIS_HASH};
    let links: Vec<Link> = diesel::sql_query(
        "SELECT id, village_id, seq, kind, memo, created_at FROM ledger_transactions ORDER BY seq",
    )
    .load(conn)
    .unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    for link in links {
        let legs: Vec<Leg> = diesel::sql_query(format!(
            "SELECT a.owner_kind || ':' || CAST(a.owner_id AS TEXT) || ':' || a.asset || ':' || a.purpose AS key, p.amount \
             FROM postings p JOIN accounts a ON a.id = p.account_id WHERE p.transaction_id = {}",
            link.id
        ))
        .load(conn)
        .unwrap();
        let hash = ChainEntry {
            version: ChainVersion::V1,
            village_id: link.village_id,
            seq: link.seq,
            kind: &link.kind,
            memo: &link.memo,
            created_at: link.created_at.and_utc(),
            reverses_seq: None,
            actor_kind: "ignored",
            actor_id: None,
            postings: legs.into_iter().map(|l| (l.key, l.amount)).collect(),
        }
        .hash(&prev);
        diesel::sql_query(format!(
            "UPDATE ledger_transactions SET chain_version = 1, prev_hash = '{prev}', hash = '{hash}' WHERE id = {}",
            link.id
        ))
        .execute(conn)
        .unwrap();
        prev = hash;
    }
    diesel::sql_query(format!("UPDATE chain_heads SET hash = '{prev}'"))
        .execute(conn)
        .unwrap();
}

#[test]
fn links_hashed_before_version_two_keep_verifying_and_the_chain_goes_on() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    award_some(&app, &w);
    behind_the_triggers(&app, &["ledger_transactions"], rehash_as_version_one);
    let (sound, text) = run_verify(&app);
    assert!(sound, "version 1 links verify under version 1: {text}");

    // New links are version 2, chained onto the old ones.
    let item = add_item(&app, &w, "A02", "3");
    let resp = award(
        &app,
        &w,
        "k2",
        json!({"item_id": item, "household_ids": [w.households[2]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    let (sound, text) = run_verify(&app);
    assert!(sound && text.contains("3 transactions"), "{text}");
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        chain_version: i32,
    }
    let versions: Vec<i32> =
        diesel::sql_query("SELECT chain_version FROM ledger_transactions ORDER BY seq")
            .load::<Version>(&mut app.db.connect())
            .unwrap()
            .into_iter()
            .map(|v| v.chain_version)
            .collect();
    assert_eq!(versions, [1, 1, 2]);
}

#[test]
fn a_kind_renamed_behind_the_triggers_is_refused_by_reads_and_reported_by_verify() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    award_some(&app, &w);
    behind_the_triggers(&app, &["ledger_transactions"], |conn| {
        execute(
            conn,
            "UPDATE ledger_transactions SET kind = 'gift' WHERE seq = 1",
        )
    });
    // Read as nothing it is not: before typed states, an unknown kind was read as `award`.
    let ledger = app.get(
        &format!("/api/v1/villages/{}/ledger", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        (ledger.status, ledger.code()),
        (500, "internal"),
        "{}",
        ledger.text
    );
    assert!(!ledger.text.contains("award"), "{}", ledger.text);
    // Verify reads the link as stored and says where it broke.
    let report = app.get(
        &format!("/api/v1/villages/{}/ledger/verify", w.qingle),
        Some(&w.supervisor),
    );
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(report.body["ok"], false, "{}", report.text);
    let (sound, text) = run_verify(&app);
    assert!(!sound && text.contains("hash does not match"), "{text}");
}
