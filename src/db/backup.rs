//! `jifen backup` and `jifen restore` for the embedded database: a consistent copy taken
//! while the server serves (`VACUUM INTO` reads one snapshot, writers carry on), and
//! loading such a copy into an empty database. PostgreSQL has its own tools.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;

use super::target::{DbTarget, TargetError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "PostgreSQL is backed up with its own tools: `pg_dump -Fc -f jifen.dump DATABASE_URL`, and loaded with `pg_restore`"
    )]
    Postgres,
    #[error("{0} already exists; a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("{path} is not a jifen database: {why}")]
    NotJifen { path: PathBuf, why: String },
    #[error("{0} already holds a township; restore loads only into an empty database")]
    NotEmpty(PathBuf),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: diesel::ConnectionError,
    },
    #[error("{path}: {source}")]
    Sql {
        path: PathBuf,
        #[source]
        source: diesel::result::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Copies the database at `database_url` to `dest` (a new file), checked before it gets
/// its name, so a file at `dest` is always a whole copy. Answers its size in bytes.
pub fn backup(database_url: &str, dest: &Path) -> Result<u64, BackupError> {
    let source = sqlite_path(database_url)?;
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    let partial = PathBuf::from(format!("{}.partial", dest.display()));
    let _ = std::fs::remove_file(&partial);
    copy_into(&source, &partial)?;
    check(&partial)?;
    std::fs::rename(&partial, dest).map_err(|source| io(dest, source))?;
    std::fs::metadata(dest)
        .map(|m| m.len())
        .map_err(|source| io(dest, source))
}

/// Loads the copy at `source` into the database at `database_url`, which must hold no
/// township (a fresh, migrated one is replaced). The caller migrates and verifies.
pub fn restore(database_url: &str, source: &Path) -> Result<(), BackupError> {
    let target = sqlite_path(database_url)?;
    check(source)?;
    if target.exists() {
        if !is_empty(&target)? {
            return Err(BackupError::NotEmpty(target));
        }
        for file in [
            target.clone(),
            sidecar(&target, "-wal"),
            sidecar(&target, "-shm"),
        ] {
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&file, e)),
                _ => {}
            }
        }
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
    }
    copy_into(source, &target)
}

fn sqlite_path(database_url: &str) -> Result<PathBuf, BackupError> {
    match DbTarget::parse(database_url)? {
        DbTarget::Sqlite(path) => Ok(path),
        DbTarget::Postgres(_) => Err(BackupError::Postgres),
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn io(path: &Path, source: std::io::Error) -> BackupError {
    BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn open(path: &Path) -> Result<SqliteConnection, BackupError> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy()).map_err(|source| {
        BackupError::Open {
            path: path.to_owned(),
            source,
        }
    })?;
    // The server may hold the write lock for a moment; wait rather than fail.
    sql(
        path,
        diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn),
    )?;
    Ok(conn)
}

fn sql<T>(path: &Path, result: QueryResult<T>) -> Result<T, BackupError> {
    result.map_err(|source| BackupError::Sql {
        path: path.to_owned(),
        source,
    })
}

/// One consistent snapshot of `from`, written as a new database at `to`.
fn copy_into(from: &Path, to: &Path) -> Result<(), BackupError> {
    if !from.exists() {
        return Err(io(from, std::io::ErrorKind::NotFound.into()));
    }
    let mut conn = open(from)?;
    let query = diesel::sql_query("VACUUM INTO ?").bind::<Text, _>(to.to_string_lossy());
    sql(from, query.execute(&mut conn)).map(|_| ())
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The file is a whole SQLite database with jifen's tables.
fn check(path: &Path) -> Result<(), BackupError> {
    let not_jifen = |why: String| BackupError::NotJifen {
        path: path.to_owned(),
        why,
    };
    if !path.is_file() {
        return Err(not_jifen("no such file".into()));
    }
    let mut conn = open(path)?;
    let lines: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check")
            .load(&mut conn)
            .map_err(|e| not_jifen(e.to_string()))?;
    if lines.iter().map(|l| l.line.as_str()).ne(["ok"]) {
        let found: Vec<String> = lines.into_iter().take(3).map(|l| l.line).collect();
        return Err(not_jifen(found.join("; ")));
    }
    if !has_townships(&mut conn, path)? {
        return Err(not_jifen("it has no townships table".into()));
    }
    Ok(())
}

fn has_townships(conn: &mut SqliteConnection, path: &Path) -> Result<bool, BackupError> {
    let tables: Vec<Count> = sql(
        path,
        diesel::sql_query(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'townships'",
        )
        .load(conn),
    )?;
    Ok(tables.first().is_some_and(|c| c.n == 1))
}

fn is_empty(path: &Path) -> Result<bool, BackupError> {
    let mut conn = open(path)?;
    if !has_townships(&mut conn, path)? {
        return Ok(true);
    }
    let count: Vec<Count> = sql(
        path,
        diesel::sql_query("SELECT count(*) AS n FROM townships").load(&mut conn),
    )?;
    Ok(count.first().is_none_or(|c| c.n == 0))
}
