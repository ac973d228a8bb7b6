//! Which database a URL names. Only explicit schemes are accepted, so a typo never
//! silently becomes a new SQLite file (STACK.md trap 1).

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "unsupported database URL {0:?}: use sqlite://PATH (e.g. sqlite://data/jifen.db) or postgres://USER:PASSWORD@HOST/DB"
    )]
    UnknownScheme(String),
    #[error("sqlite:// URL has no file path")]
    EmptyPath,
}

impl DbTarget {
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(TargetError::EmptyPath);
            }
            return Ok(DbTarget::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbTarget::Postgres(url.to_owned()));
        }
        // Never echo a URL that may carry a password.
        let scheme = url.split("://").next().filter(|s| s.len() < url.len());
        Err(TargetError::UnknownScheme(scheme.map_or_else(
            || "(no scheme)".to_owned(),
            |s| format!("{s}://…"),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_choose_the_backend() {
        assert_eq!(
            DbTarget::parse("sqlite://data/jifen.db"),
            Ok(DbTarget::Sqlite("data/jifen.db".into()))
        );
        assert_eq!(
            DbTarget::parse("sqlite:///var/lib/jifen.db"),
            Ok(DbTarget::Sqlite("/var/lib/jifen.db".into()))
        );
        assert_eq!(
            DbTarget::parse("postgresql://u:p@h/db"),
            Ok(DbTarget::Postgres("postgresql://u:p@h/db".into()))
        );
    }

    #[test]
    fn anything_else_is_refused_without_leaking_secrets() {
        let err = DbTarget::parse("mysql://root:secret@h/db").unwrap_err();
        assert!(!err.to_string().contains("secret"));
        assert!(DbTarget::parse("data/jifen.db").is_err());
        assert_eq!(DbTarget::parse("sqlite://"), Err(TargetError::EmptyPath));
    }
}
