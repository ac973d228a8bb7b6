//! `jifen seed --demo` loads the demo township into an empty database, and only then.

use std::process::Command;

use diesel::prelude::*;
use jifen::db::schema::{checklist_items, claims, goods, households, role_bindings, villages};

use crate::support::TestDb;

fn seed(db: &TestDb, data_dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jifen"))
        .args(["seed", "--demo"])
        .env("JIFEN_DATABASE_URL", db.url())
        .env("JIFEN_DATA_DIR", data_dir)
        .env("JIFEN_LOG", "error")
        .output()
        .expect("run jifen seed")
}

#[test]
fn the_demo_township_loads_once() {
    let db = TestDb::fresh();
    let data = tempfile::tempdir().unwrap();
    let first = seed(&db, data.path());
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for account in [
        "township-admin",
        "qingle-committee",
        "liangui-supervisor",
        "qingle-leader1",
        "qingle-shop",
    ] {
        assert!(stdout.contains(account), "{account} missing from {stdout}");
    }
    let credentials = data.path().join("demo-credentials.txt");
    let saved = std::fs::read_to_string(&credentials).unwrap();
    assert!(saved.contains("qingle-committee"), "{saved}");
    assert!(
        saved.contains("http://127.0.0.1:8080/admin/"),
        "the saved file has whole addresses: {saved}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credentials)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "credentials readable by others");
    }

    let mut conn = db.connect();
    let codes: Vec<String> = villages::table
        .order(villages::id)
        .select(villages::code)
        .load(&mut conn)
        .unwrap();
    assert_eq!(codes, ["qingle", "liangui", "linlu"]);
    let count: i64 = households::table.count().get_result(&mut conn).unwrap();
    assert!(count >= 30, "{count} households");
    let roles: Vec<String> = role_bindings::table
        .select(role_bindings::role)
        .distinct()
        .load(&mut conn)
        .unwrap();
    for role in [
        "township_admin",
        "committee",
        "supervisor",
        "group_leader",
        "shopkeeper",
    ] {
        assert!(roles.iter().any(|r| r == role), "no {role} in the demo");
    }
    assert!(
        checklist_items::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap()
            >= 30
    );
    assert!(goods::table.count().get_result::<i64>(&mut conn).unwrap() >= 5);
    // Last months' awards are posted: a newcomer can buy at the counter at once.
    let posted: i64 = claims::table
        .filter(claims::status.eq("posted"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(posted, count * 4, "four posted awards for each household");

    let second = seed(&db, data.path());
    assert!(
        !second.status.success(),
        "a non-empty database is never seeded again"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("not empty"));
}
