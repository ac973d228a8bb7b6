//! The connection type, its pool, and the one way to run a write transaction.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool};

use super::reference::{self, References};
use super::statements::{self, Recorder, StatementCount};
use super::target::{DbTarget, TargetError};
use super::writer::{self, WriterTurns};
use crate::error::{AppError, AppResult};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Per-connection SQLite settings live here, not in a migration (STACK.md trap 9).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;";

/// How long a SQLite writer waits for another process's write (a command beside the
/// server); the server's own writers take turns before they ask (`writer.rs`).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct DbManager {
    target: DbTarget,
    sqlite_busy_timeout: Duration,
}

impl DbManager {
    pub fn new(target: DbTarget) -> Self {
        Self::with_busy_timeout(target, SQLITE_BUSY_TIMEOUT)
    }

    pub fn with_busy_timeout(target: DbTarget, sqlite_busy_timeout: Duration) -> Self {
        Self {
            target,
            sqlite_busy_timeout,
        }
    }

    pub fn connect(&self) -> ConnectionResult<DbConnection> {
        match &self.target {
            DbTarget::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    ConnectionError::BadConnection("database path is not UTF-8".into())
                })?;
                let mut conn = SqliteConnection::establish(path)?;
                let busy = format!(
                    "PRAGMA busy_timeout = {};",
                    self.sqlite_busy_timeout.as_millis()
                );
                conn.batch_execute(SQLITE_PRAGMAS)
                    .and_then(|()| conn.batch_execute(&busy))
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                conn.set_instrumentation(StatementCount::default());
                Ok(DbConnection::Sqlite(conn))
            }
            DbTarget::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                conn.set_instrumentation(StatementCount::default());
                Ok(DbConnection::Pg(conn))
            }
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        DbManager::connect(self).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection the server closed, or whose transaction manager broke (the server
    /// went away mid-transaction), is dropped, never handed out again.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        match conn {
            DbConnection::Sqlite(c) => c.is_broken(),
            DbConnection::Pg(c) => c.is_broken() || StatementCount::saw_closed(c.instrumentation()),
        }
    }
}

pub type DbPool = Pool<DbManager>;

/// The pool retries a database that is down every few milliseconds; one line every ten
/// seconds says so without flooding the log.
#[derive(Debug, Default)]
struct OutageLog {
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl r2d2::HandleError<r2d2::Error> for OutageLog {
    fn handle_error(&self, error: r2d2::Error) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            *last = Some(std::time::Instant::now());
            tracing::warn!(error = %error, "cannot connect to the database");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] r2d2::PoolError),
}

/// A handle to the pool that runs blocking diesel work off the async workers.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    references: Arc<References>,
    writers: Arc<WriterTurns>,
    recorder: Arc<Recorder>,
    sqlite_busy_timeout: Duration,
}

/// Makes the folder a SQLite file lives in, so a first start in a new place works.
pub fn ensure_data_dir(target: &DbTarget) -> Result<(), OpenError> {
    if let DbTarget::Sqlite(path) = target
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

impl Db {
    /// A server's pool: one connection kept open and ready.
    pub fn open(
        url: &str,
        pool_size: u32,
        acquire_timeout: Duration,
        sqlite_busy_timeout: Duration,
    ) -> Result<Self, OpenError> {
        let manager = DbManager::with_busy_timeout(DbTarget::parse(url)?, sqlite_busy_timeout);
        Self::open_with(manager, pool_size, Some(1), acquire_timeout)
    }

    /// A pool for a command that runs and exits. It opens connections only when asked:
    /// a pool that keeps one ready opens the next in the background as soon as the first
    /// is taken, and a process exiting while libpq is in the middle of that crashes
    /// (SIGSEGV in the r2d2 worker, 23 of 60 `jifen migrate` runs on PostgreSQL).
    pub fn open_for_command(
        url: &str,
        pool_size: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, OpenError> {
        Self::open_with(
            DbManager::new(DbTarget::parse(url)?),
            pool_size,
            Some(0),
            acquire_timeout,
        )
    }

    fn open_with(
        manager: DbManager,
        pool_size: u32,
        min_idle: Option<u32>,
        acquire_timeout: Duration,
    ) -> Result<Self, OpenError> {
        ensure_data_dir(&manager.target)?;
        let sqlite_busy_timeout = manager.sqlite_busy_timeout;
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(min_idle)
            // A test query before every check-out is a round trip per request; a closed
            // connection is found by the query that fails on it instead (`has_broken`).
            .test_on_check_out(false)
            .connection_timeout(acquire_timeout)
            .error_handler(Box::new(OutageLog::default()))
            .build(manager)?;
        Ok(Self {
            pool,
            references: Arc::default(),
            writers: Arc::default(),
            recorder: Arc::default(),
            sqlite_busy_timeout,
        })
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs blocking `work` as this server's on this thread: its statements counted for
    /// the request (`tally`) and written down when recording, its reference copies and
    /// its writers' turns at hand.
    fn on_this_thread<T>(&self, tally: Option<&AtomicU64>, work: impl FnOnce() -> T) -> T {
        statements::tallied(tally, || {
            self.recorder
                .around(|| self.references.serving(|| self.writers.serving(work)))
        })
    }

    /// This server's fresh copy of a reference row (see `reference.rs`), read without a
    /// connection or a trip to the blocking pool.
    pub fn fresh_reference<T: Clone + 'static>(&self, id: i64) -> Option<T> {
        self.references.fresh_copy(id)
    }

    /// Writes down the statements this server sends, when started (for tests that read
    /// their plans).
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let server = self.clone();
        let tally = statements::request_tally();
        tokio::task::spawn_blocking(move || {
            server.on_this_thread(tally.as_deref(), || {
                let mut conn = server.pool.get()?;
                work(&mut conn)
            })
        })
        .await
        .map_err(AppError::internal)?
    }
}

/// Why the database cannot serve now, for `/readyz`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotReady {
    /// No connection within the probe's time.
    Unreachable,
    /// Migrations are pending.
    Behind,
    /// It answers but takes no write (a full disk, a read-only file).
    Unwritable,
}

/// How long `/readyz` waits for the database before saying it is not ready.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Db {
    /// Whether the database answers within seconds, is migrated, and takes a write.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        let (pool, writers, busy) = (
            self.pool.clone(),
            self.writers.clone(),
            self.sqlite_busy_timeout,
        );
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get_timeout(PROBE_TIMEOUT)
                .map_err(|_| NotReady::Unreachable)?;
            if !super::migrate::is_current(&mut conn).map_err(|_| NotReady::Unreachable)? {
                return Err(NotReady::Behind);
            }
            match probe_write(&mut conn, &writers, busy) {
                Ok(()) => Ok(()),
                // Busy with other writers is not down.
                Err(err) if crate::error::fault::is_busy(&err) => Ok(()),
                Err(err) => {
                    tracing::warn!(error = %err, "the database takes no write");
                    Err(NotReady::Unwritable)
                }
            }
        })
        .await
        .unwrap_or(Err(NotReady::Unreachable))
    }
}

/// Rewrites the readiness row; on SQLite in this server's turn, and without waiting long
/// for another process's write lock.
fn probe_write(conn: &mut DbConnection, writers: &WriterTurns, busy: Duration) -> QueryResult<()> {
    use super::schema::readiness;
    let write = |conn: &mut DbConnection| {
        diesel::update(readiness::table.find(1))
            .set(readiness::checked_at.eq(chrono::Utc::now().naive_utc()))
            .execute(conn)
            .map(drop)
    };
    match conn {
        DbConnection::Sqlite(sqlite) => {
            let _turn = writers.wait();
            sqlite.batch_execute("PRAGMA busy_timeout = 1000")?;
            let result = write(conn);
            conn.batch_execute(&format!("PRAGMA busy_timeout = {}", busy.as_millis()))?;
            result
        }
        DbConnection::Pg(_) => write(conn),
    }
}

/// A write transaction in progress. Only [`write_tx`] makes one, so a
/// function that takes `&mut Tx` cannot be called outside a transaction: code holding only
/// a pooled connection does not compile. Reads inside the transaction use it as a
/// connection (it dereferences to one).
pub struct Tx<'c> {
    conn: &'c mut DbConnection,
}

impl std::ops::Deref for Tx<'_> {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        self.conn
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut DbConnection {
        self.conn
    }
}

impl Tx<'_> {
    /// Runs `work` in a savepoint: an error from it undoes what it wrote and leaves the
    /// transaction open.
    pub fn savepoint<T>(&mut self, work: impl FnOnce(&mut Tx<'_>) -> AppResult<T>) -> AppResult<T> {
        Connection::transaction(&mut *self.conn, |conn| work(&mut Tx { conn }))
    }
}

/// Runs `work` in one transaction that takes the write lock up front on SQLite
/// (`BEGIN IMMEDIATE`, after the server's other writers: `writer.rs`), so two writers
/// never deadlock on a lock upgrade (STACK.md trap 10). PostgreSQL runs READ COMMITTED
/// with conditional updates.
pub fn write_tx<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut Tx<'_>) -> AppResult<T>,
) -> AppResult<T> {
    type Manager = <DbConnection as Connection>::TransactionManager;
    if in_transaction(conn) {
        // A use case run as part of a larger one (the demo seed, a claim with its photo)
        // joins the larger one's transaction.
        return work(&mut Tx { conn });
    }
    let writers = match conn {
        DbConnection::Sqlite(_) => writer::serving(),
        DbConnection::Pg(_) => None,
    };
    let _turn = writers.as_deref().map(WriterTurns::wait);
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        DbConnection::Pg(inner) => AnsiTransactionManager::begin_transaction(inner),
    }
    .map_err(map_busy)?;
    match work(&mut Tx { conn: &mut *conn }) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => {
                reference::committed();
                Ok(value)
            }
            Err(err) => {
                reference::rolled_back();
                Err(map_busy(err))
            }
        },
        Err(err) => {
            reference::rolled_back();
            if let Err(rollback) = Manager::rollback_transaction(conn) {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    }
}

pub(super) fn in_transaction(conn: &mut DbConnection) -> bool {
    let depth = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
        }
        DbConnection::Pg(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
        }
    };
    matches!(depth, Ok(Some(_)))
}

/// A SQLite writer that waited out the busy timeout, a connection cut mid-commit, a full
/// disk: outages, answered 503 (see `fault.rs`); anything else is a bug.
fn map_busy(err: diesel::result::Error) -> AppError {
    err.into()
}
