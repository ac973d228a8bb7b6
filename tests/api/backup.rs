//! `jifen backup` copies the embedded database while the server writes to it, and
//! `jifen restore` loads the copy into an empty database whose chains verify; a backup of
//! PostgreSQL is refused with a pointer to pg_dump.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use diesel::prelude::*;
use jifen::db::schema::claims;
use serde_json::json;

use crate::support::{TestApp, TestDb};

fn jifen(args: &[&str], url: &str, data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jifen"))
        .args(args)
        .env("JIFEN_DATABASE_URL", url)
        .env("JIFEN_DATA_DIR", data)
        .env("JIFEN_LOG", "error")
        .output()
        .expect("run jifen")
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_backup_taken_while_the_server_writes_restores_and_verifies() {
    let app = TestApp::start();
    let w = app.world();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("jifen-copy.db");
    let copy_arg = copy.to_str().unwrap();
    if app.db.is_postgres() {
        let out = jifen(&["backup", copy_arg], app.db.url(), dir.path());
        assert!(!out.status.success());
        assert!(said(&out).contains("pg_dump"), "{}", said(&out));
        assert!(!copy.exists());
        return;
    }
    let item_id = app.instant_award_item(&w, "3");

    // The committee keeps awarding (each award a ledger transaction) while two backups
    // are taken.
    let (stop, written) = (AtomicBool::new(false), AtomicUsize::new(0));
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let n = written.load(Ordering::SeqCst);
                let award = app.post_with_key(
                    &format!("/api/v1/villages/{}/awards", w.qingle),
                    &w.committee,
                    &format!("load-{n}"),
                    json!({"item_id": item_id, "household_ids": [w.households[n % 3]],
                           "occurred_on": "2026-11-27"}),
                );
                assert_eq!(award.status, 201, "{}", award.text);
                written.fetch_add(1, Ordering::SeqCst);
            }
        });
        while written.load(Ordering::SeqCst) < 5 {
            std::thread::yield_now();
        }
        let first = jifen(&["backup", copy_arg], app.db.url(), dir.path());
        assert!(first.status.success(), "{}", said(&first));
        assert!(said(&first).contains("backed up to"), "{}", said(&first));
        let again = jifen(&["backup", copy_arg], app.db.url(), dir.path());
        assert!(!again.status.success(), "a backup never overwrites");
        stop.store(true, Ordering::SeqCst);
    });
    let total = written.load(Ordering::SeqCst) as i64;

    let restored = TestDb::fresh();
    let out = jifen(&["restore", copy_arg], restored.url(), dir.path());
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("庆乐村: "), "{}", said(&out));
    assert!(said(&out).contains(": sound"), "{}", said(&out));
    // The copy holds the awards made before it was taken, each whole.
    let mut conn = restored.connect();
    let copied: i64 = claims::table.count().get_result(&mut conn).unwrap();
    assert!((5..=total).contains(&copied), "{copied} of {total} awards");
    let posted: i64 = claims::table
        .filter(claims::status.eq("posted"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(posted, copied);

    let twice = jifen(&["restore", copy_arg], restored.url(), dir.path());
    assert!(!twice.status.success());
    assert!(
        said(&twice).contains("restore loads only into an empty database"),
        "{}",
        said(&twice)
    );
    std::fs::write(dir.path().join("notes.txt"), "not a database").unwrap();
    let junk = dir.path().join("notes.txt");
    let out = jifen(
        &["restore", junk.to_str().unwrap()],
        TestDb::fresh().url(),
        dir.path(),
    );
    assert!(
        said(&out).contains("is not a jifen database"),
        "{}",
        said(&out)
    );
}
