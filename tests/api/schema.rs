//! The two migration trees and the hand-written schema must agree.

use std::collections::BTreeMap;

use diesel::prelude::*;
use jifen::db::schema::*;
use jifen::db::{DbConnection, DbManager, DbTarget, migrate};

use crate::support::TestDb;

/// Selecting every column of every table fails if `schema.rs` and the migrations differ.
fn select_every_column(conn: &mut DbConnection) {
    macro_rules! probe {
        ($($table:ident),*) => {$(
            $table::table
                .select($table::all_columns)
                .limit(0)
                .execute(conn)
                .unwrap_or_else(|e| panic!("table {}: {e}", stringify!($table)));
        )*};
    }
    probe!(
        townships,
        villages,
        village_groups,
        households,
        members,
        shops,
        shop_villages,
        staff,
        role_bindings,
        refresh_tokens,
        invite_codes,
        checklist_items,
        checklist_item_versions,
        accounts,
        chain_heads,
        ledger_transactions,
        postings,
        idempotency_records,
        audit_events,
        claims,
        claim_events,
        objections,
        claim_evidence,
        goods,
        payment_codes,
        receipt_counters,
        redemptions,
        redemption_lines,
        redemption_voids,
        stock_movements,
        settlements,
        settlement_lines,
        household_cards,
        web_sessions,
        readiness,
        sign_in_counters,
        expiry_runs,
        door_plates,
        settlement_villages
    );
}

#[test]
fn schema_agrees_with_migrations() {
    let db = TestDb::fresh();
    let mut conn = db.connect();
    migrate::run_pending(&mut conn).unwrap();
    assert!(migrate::is_current(&mut conn).unwrap());
    select_every_column(&mut conn);
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

type Shape = BTreeMap<String, Vec<(String, bool)>>;

fn shape(conn: &mut DbConnection) -> Shape {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, \
             (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             ORDER BY m.name, p.name"
        }
        DbConnection::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
             ORDER BY table_name, column_name"
        }
    };
    let mut out = Shape::new();
    for c in diesel::sql_query(sql).load::<Column>(conn).unwrap() {
        out.entry(c.table_name)
            .or_default()
            .push((c.column_name, c.nullable));
    }
    out
}

#[test]
fn both_migration_trees_make_the_same_tables_and_columns() {
    let pg = TestDb::fresh();
    if !pg.is_postgres() {
        eprintln!("JIFEN_TEST_PG_URL unset: comparing SQLite with itself only");
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("cmp.db").display());
    let mut sqlite = DbManager::new(DbTarget::parse(&sqlite_url).unwrap())
        .connect()
        .unwrap();
    migrate::run_pending(&mut sqlite).unwrap();
    let mut other = pg.connect();
    migrate::run_pending(&mut other).unwrap();
    let (left, right) = (shape(&mut sqlite), shape(&mut other));
    assert!(
        left.len() >= 11,
        "expected the foundation tables, got {:?}",
        left.keys()
    );
    assert_eq!(left, right);
}
