//! Telling a database that cannot serve right now (down, restarting, its disk full or
//! read-only, a connection cut) from a bug. The first is answered with a quick 503 and
//! `Retry-After`, and the service recovers by itself when the fault clears.

use diesel::result::{DatabaseErrorKind, Error};

/// What the backends say, in their own words, when the fault is theirs and not the
/// request's. diesel names only some kinds; SQLite's result codes and PostgreSQL's
/// server states come through as text.
const OUTAGE_WORDS: [&str; 16] = [
    // SQLite
    "database or disk is full",
    "disk i/o error",
    "attempt to write a readonly database",
    "unable to open database file",
    "database is locked",
    "database table is locked",
    // PostgreSQL and libpq
    "server closed the connection",
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "could not connect to server",
    "connection refused",
    "no connection to the server",
    "deadlock detected",
    "canceling statement due to",
];

/// Whether `err` means the database cannot serve right now.
pub fn is_outage(err: &Error) -> bool {
    match err {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
        | Error::BrokenTransactionManager => true,
        Error::DatabaseError(_, info) => {
            let message = info.message().to_lowercase();
            OUTAGE_WORDS.iter().any(|words| message.contains(words))
        }
        _ => false,
    }
}

/// A unique index refused the write: the row is there already (another request, another
/// server, or the same value twice).
pub fn is_duplicate(err: &Error) -> bool {
    matches!(
        err,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// SQLite's write lock held by other writers past the wait: busy, not down.
pub fn is_busy(err: &Error) -> bool {
    matches!(err, Error::DatabaseError(_, info) if info.message().contains("database is locked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn outages_are_told_from_bugs() {
        assert!(is_outage(&database_error(
            DatabaseErrorKind::Unknown,
            "database or disk is full"
        )));
        assert!(is_outage(&database_error(
            DatabaseErrorKind::Unknown,
            "FATAL:  terminating connection due to administrator command"
        )));
        assert!(is_outage(&database_error(
            DatabaseErrorKind::ClosedConnection,
            "gone"
        )));
        assert!(is_outage(&Error::BrokenTransactionManager));
        assert!(!is_outage(&database_error(
            DatabaseErrorKind::UniqueViolation,
            "duplicate key"
        )));
        assert!(!is_outage(&database_error(
            DatabaseErrorKind::Unknown,
            "no such column: nope"
        )));
        assert!(!is_outage(&Error::NotFound));
    }

    #[test]
    fn a_duplicate_is_told_by_its_kind_not_its_words() {
        assert!(is_duplicate(&database_error(
            DatabaseErrorKind::UniqueViolation,
            "whatever the backend says"
        )));
        assert!(!is_duplicate(&database_error(
            DatabaseErrorKind::Unknown,
            "UNIQUE constraint failed"
        )));
    }
}
