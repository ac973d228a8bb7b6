//! Embedded migrations, one tree per backend with the same versions.

use diesel::migration::MigrationVersion;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration; returns the versions applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let names = |applied: Vec<MigrationVersion>| applied.iter().map(ToString::to_string).collect();
    Ok(match conn {
        DbConnection::Sqlite(c) => names(c.run_pending_migrations(SQLITE)?),
        DbConnection::Pg(c) => names(c.run_pending_migrations(POSTGRES)?),
    })
}

/// True when the database has every migration this build knows.
pub fn is_current(conn: &mut DbConnection) -> Result<bool, MigrationError> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE)?,
        DbConnection::Pg(c) => c.has_pending_migration(POSTGRES)?,
    };
    Ok(!pending)
}
