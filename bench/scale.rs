//! `bench/scale`'s generator: a province-sized PostgreSQL database, made through the
//! same use cases and posting function the server runs (issue 13, point 6).
//!
//! Usage: `scale URL ADMIN VILLAGES HOUSEHOLDS_PER_VILLAGE POSTINGS [WORKERS]` on a
//! migrated, bootstrapped database (`jifen migrate`, `jifen bootstrap`). Villages are
//! created by `org::service::create_village` as the township admin `ADMIN`; households
//! and their heads by one set-based insert per village (the use case's own two rows,
//! a million times, would take the afternoon and prove nothing more); then awards of
//! one point to every household in turn through `ledger::posting::post` (so every chain
//! is valid: `jifen verify` checks it), villages split between workers. Each ledger
//! transaction awards ten households (forty postings), as a committee's list of awards
//! could: one household per transaction runs at ~4,000 postings/s here, and ten million
//! would take 40 minutes.

use std::time::Instant;

use chrono::Utc;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use jifen::auth::service::{load_principal, staff_id_by_username};
use jifen::auth::token::Subject;
use jifen::auth::{Caller, PrincipalKind};
use jifen::db::{DbConnection, DbManager, DbTarget, write_tx};
use jifen::error::{AppError, AppResult};
use jifen::ledger::model::{Actor, TxKind, issuance_legs};
use jifen::ledger::posting::{Posting, post};
use jifen::org::model::CreateVillage;
use jifen::org::service::create_village;

/// Households whose awards one database transaction commits.
const BATCH: usize = 50;
/// Households awarded by one ledger transaction.
const PER_POSTING: usize = 10;

struct Plan {
    url: String,
    admin: String,
    villages: i64,
    households: i64,
    postings: i64,
    workers: i64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, admin, villages, households, postings, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: scale URL ADMIN VILLAGES HOUSEHOLDS_PER_VILLAGE POSTINGS [WORKERS]".into(),
        );
    };
    let plan = Plan {
        url: url.clone(),
        admin: admin.clone(),
        villages: villages.parse()?,
        households: households.parse()?,
        postings: postings.parse()?,
        workers: rest.first().map(|w| w.parse()).transpose()?.unwrap_or(2),
    };
    let started = Instant::now();
    let ids = villages_and_households(&plan)?;
    println!(
        "{} villages, {} households in {:.0} s",
        ids.len(),
        ids.len() as i64 * plan.households,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let awards = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..plan.workers)
            .map(|w| {
                let mine: Vec<i64> = ids
                    .iter()
                    .copied()
                    .skip(w as usize)
                    .step_by(plan.workers as usize)
                    .collect();
                let plan = &plan;
                scope.spawn(move || award_all(plan, &mine))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .sum::<AppResult<i64>>()
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{awards} awards ({} postings) in {seconds:.0} s: {:.0} postings/s",
        awards * 4,
        awards as f64 * 4.0 / seconds
    );
    Ok(())
}

fn connect(plan: &Plan) -> Result<DbConnection, Box<dyn std::error::Error>> {
    Ok(DbManager::new(DbTarget::parse(&plan.url)?).connect()?)
}

/// The villages `scale-N` (made if missing) with their households; their ids.
fn villages_and_households(plan: &Plan) -> Result<Vec<i64>, Box<dyn std::error::Error>> {
    let mut conn = connect(plan)?;
    let admin = staff_id_by_username(&mut conn, &plan.admin)?.ok_or("no such township admin")?;
    let caller = Caller {
        principal: load_principal(
            &mut conn,
            Subject {
                kind: PrincipalKind::Staff,
                id: admin,
            },
        )?,
        addr: "bench/scale".to_owned(),
    };
    let mut ids = Vec::new();
    for n in 0..plan.villages {
        let code = format!("scale-{n}");
        let request = CreateVillage {
            name: format!("规模{n}村"),
            code: code.clone(),
            policy: None,
        };
        let id = match create_village(&mut conn, &caller, &request, Utc::now()) {
            Ok(view) => view.id,
            Err(AppError::Conflict(_)) => village_id(&mut conn, &code)?,
            Err(other) => return Err(other.into()),
        };
        households(&mut conn, id, plan.households)?;
        ids.push(id);
    }
    Ok(ids)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The set-based inserts are PostgreSQL's (`generate_series`): scale measures production.
fn pg(conn: &mut DbConnection) -> QueryResult<&mut PgConnection> {
    match conn {
        DbConnection::Pg(pg) => Ok(pg),
        DbConnection::Sqlite(_) => Err(diesel::result::Error::QueryBuilderError(
            "bench/scale runs on PostgreSQL".into(),
        )),
    }
}

fn village_id(conn: &mut DbConnection, code: &str) -> QueryResult<i64> {
    let pg = pg(conn)?;
    Ok(diesel::sql_query("SELECT id FROM villages WHERE code = $1")
        .bind::<Text, _>(code)
        .get_result::<Id>(pg)?
        .id)
}

/// `count` households numbered 1号…, each with its head, in two statements.
fn households(conn: &mut DbConnection, village_id: i64, count: i64) -> QueryResult<()> {
    pg(conn)?.transaction(|pg| {
        diesel::sql_query(
            "INSERT INTO households (village_id, door_no, head_name, created_at, updated_at, active) \
             SELECT $1, n || '号', '张小明', now(), now(), true FROM generate_series(1, $2) n \
             ON CONFLICT DO NOTHING",
        )
        .bind::<BigInt, _>(village_id)
        .bind::<BigInt, _>(count)
        .execute(pg)?;
        diesel::sql_query(
            "INSERT INTO members (village_id, household_id, name, relation, created_at, active) \
             SELECT h.village_id, h.id, h.head_name, '户主', now(), true FROM households h \
             WHERE h.village_id = $1 AND NOT EXISTS (SELECT 1 FROM members m WHERE m.household_id = h.id)",
        )
        .bind::<BigInt, _>(village_id)
        .execute(pg)?;
        Ok(())
    })
}

fn household_ids(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<i64>> {
    let pg = pg(conn)?;
    Ok(
        diesel::sql_query("SELECT id FROM households WHERE village_id = $1 ORDER BY id")
            .bind::<BigInt, _>(village_id)
            .load::<Id>(pg)?
            .into_iter()
            .map(|r| r.id)
            .collect(),
    )
}

/// Awards every household of these villages in turn until the plan's postings are
/// made (this worker's share); how many households' awards it posted.
fn award_all(plan: &Plan, villages: &[i64]) -> AppResult<i64> {
    let mut conn = DbManager::new(DbTarget::parse(&plan.url).map_err(AppError::internal)?)
        .connect()
        .map_err(AppError::internal)?;
    let all_households = plan.villages * plan.households;
    let rounds = (plan.postings as u64 / 4)
        .div_ceil(all_households as u64)
        .max(1) as i64;
    let actor = Actor {
        kind: "system",
        id: None,
    };
    let mut awards = 0;
    for (n, &village) in villages.iter().enumerate() {
        let households = household_ids(&mut conn, village)?;
        for batch in households.chunks(BATCH) {
            write_tx(&mut conn, |tx| {
                for _ in 0..rounds {
                    for households in batch.chunks(PER_POSTING) {
                        let posting = Posting {
                            kind: TxKind::Award,
                            memo: "规模测试",
                            legs: households
                                .iter()
                                .flat_map(|&h| issuance_legs(village, h, 100))
                                .collect(),
                            reverses: None,
                            actor: actor.clone(),
                            at: Utc::now(),
                        };
                        post(tx, posting)?;
                    }
                }
                Ok(())
            })?;
            awards += rounds * batch.len() as i64;
        }
        if n % 100 == 99 {
            println!(
                "   a worker has posted {awards} awards ({} villages)",
                n + 1
            );
        }
    }
    Ok(awards)
}
