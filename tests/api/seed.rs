//! `jifen seed --demo` loads the demo township into an empty database, and only then.

use std::process::Command;

use diesel::prelude::*;
use jifen::db::schema::{
    accounts, checklist_items, claims, goods, households, redemption_voids, redemptions,
    role_bindings, settlements, villages,
};

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
        "nahong-committee",
        "nahong-secretary",
        "banlan-supervisor",
        "nahong-leader1",
        "nahong-shop",
    ] {
        assert!(stdout.contains(account), "{account} missing from {stdout}");
    }
    let credentials = data.path().join("demo-credentials.txt");
    let saved = std::fs::read_to_string(&credentials).unwrap();
    assert!(saved.contains("nahong-committee"), "{saved}");
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
    assert_eq!(codes, ["nahong", "banlan", "nonghuai"]);
    assert!(stdout.contains("驻村第一书记"), "{stdout}");
    let count: i64 = households::table.count().get_result(&mut conn).unwrap();
    assert!(count >= 400, "{count} households");
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
    let items: i64 = checklist_items::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(items >= 3 * 40, "{items} checklist items");
    assert!(goods::table.count().get_result::<i64>(&mut conn).unwrap() >= 10);
    // Three months of history: every status a review queue and a notice board show.
    let statuses: Vec<String> = claims::table
        .select(claims::status)
        .distinct()
        .load(&mut conn)
        .unwrap();
    for status in ["submitted", "in_notice", "objected", "rejected", "posted"] {
        assert!(statuses.iter().any(|s| s == status), "no {status} claim");
    }
    assert!(
        redemptions::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap()
            >= 50
    );
    assert_eq!(
        redemption_voids::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap(),
        1
    );
    let paid: i64 = settlements::table
        .filter(settlements::status.eq("paid"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(paid, 2, "last month settled and paid for both shops");
    // A newcomer can buy at the counter at once: nearly every household has points.
    let broke: i64 = accounts::table
        .filter(accounts::owner_kind.eq("household"))
        .filter(accounts::asset.eq("points"))
        .filter(accounts::balance.lt(600))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(
        broke * 100 <= count,
        "{broke} households without enough for a bottle of soy sauce"
    );
    let verify = Command::new(env!("CARGO_BIN_EXE_jifen"))
        .arg("verify")
        .env("JIFEN_DATABASE_URL", db.url())
        .env("JIFEN_DATA_DIR", data.path())
        .env("JIFEN_LOG", "error")
        .output()
        .expect("run jifen verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    let second = seed(&db, data.path());
    assert!(
        !second.status.success(),
        "a non-empty database is never seeded again"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("not empty"));
}
