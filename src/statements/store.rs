//! Issued statements: each kept as signed, found by id or by its check token's hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::household_statements as s;

#[derive(Queryable, Selectable)]
#[diesel(table_name = s)]
pub struct StatementRow {
    pub id: i64,
    pub household_id: i64,
    pub document: String,
    pub signature: String,
    pub key_id: String,
}

/// A statement's row before its document is written (the document names its own id).
pub struct NewStatement<'a> {
    pub village_id: i64,
    pub household_id: i64,
    pub key_id: &'a str,
    pub check_token_hash: &'a str,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewStatement<'_>) -> QueryResult<i64> {
    diesel::insert_into(s::table)
        .values((
            s::village_id.eq(new.village_id),
            s::household_id.eq(new.household_id),
            s::document.eq(""),
            s::signature.eq(""),
            s::key_id.eq(new.key_id),
            s::check_token_hash.eq(new.check_token_hash),
            s::issued_at.eq(new.issued_at),
            s::expires_at.eq(new.expires_at),
        ))
        .returning(s::id)
        .get_result(conn)
}

/// Writes the signed document of a statement just inserted.
pub fn seal(conn: &mut DbConnection, id: i64, document: &str, signature: &str) -> QueryResult<()> {
    diesel::update(s::table.find(id))
        .set((s::document.eq(document), s::signature.eq(signature)))
        .execute(conn)?;
    Ok(())
}

pub fn by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<StatementRow>> {
    s::table
        .find(id)
        .select(StatementRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_check_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<StatementRow>> {
    s::table
        .filter(s::check_token_hash.eq(token_hash))
        .select(StatementRow::as_select())
        .first(conn)
        .optional()
}
