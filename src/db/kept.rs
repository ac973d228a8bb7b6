//! Statements kept prepared although diesel would prepare them on every call.
//!
//! Diesel's statement cache keeps no `UPDATE`, no upsert and no insert with optional
//! values, because for those one Rust type can stand for several SQL texts. Keyed by
//! its SQL text instead of its type, such a statement is kept correctly whatever its
//! type: [`Kept`] does that for the handful a redemption sends, which were a tenth of
//! its time re-preparing (bench/README.md, "perf").

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;

/// A statement the connection keeps prepared under its SQL text.
#[derive(Debug, Clone, Copy)]
pub struct Kept<Q>(Q);

impl<Q> QueryId for Kept<Q> {
    type QueryId = ();
    // No static id: the cache then keys the statement by its SQL text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Kept<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Kept<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for Kept<Q> {}

/// `.kept()` on any statement.
pub trait Keep: Sized {
    fn kept(self) -> Kept<Self> {
        Kept(self)
    }
}

impl<Q> Keep for Q {}
