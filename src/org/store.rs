//! Diesel queries for the organisation. No rules here, only reads and writes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::model::RoleName;
use crate::db::schema::{
    households, members, role_bindings, shops, staff, townships, village_groups, villages,
};
use crate::db::{DbConnection, reference};
use crate::paging::PageRequest;

#[derive(Queryable, Selectable)]
#[diesel(table_name = townships)]
pub struct TownshipRow {
    pub id: i64,
    pub name: String,
}

pub fn first_township(conn: &mut DbConnection) -> QueryResult<Option<TownshipRow>> {
    townships::table
        .order(townships::id)
        .select(TownshipRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_township(
    conn: &mut DbConnection,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<TownshipRow> {
    diesel::insert_into(townships::table)
        .values((townships::name.eq(name), townships::created_at.eq(now)))
        .returning(townships::id)
        .get_result(conn)
        .map(|id| TownshipRow {
            id,
            name: name.to_owned(),
        })
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = villages)]
pub struct VillageRow {
    pub id: i64,
    pub township_id: i64,
    pub code: String,
    pub name: String,
    pub policy: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A village by id; a reference row (see `db::reference`).
pub fn village(conn: &mut DbConnection, id: i64) -> QueryResult<Option<VillageRow>> {
    reference::get(id, || {
        villages::table
            .find(id)
            .select(VillageRow::as_select())
            .first(conn)
            .optional()
    })
}

pub fn all_villages(conn: &mut DbConnection) -> QueryResult<Vec<VillageRow>> {
    villages::table
        .order(villages::id)
        .select(VillageRow::as_select())
        .load(conn)
}

/// Every village's id and stored policy, for the server's jobs: one read of a small table
/// (a township has hundreds of villages), in no particular order.
pub fn village_policies(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String)>> {
    villages::table
        .select((villages::id, villages::policy))
        .load(conn)
}

pub fn village_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<VillageRow>> {
    villages::table
        .filter(villages::code.eq(code))
        .select(VillageRow::as_select())
        .first(conn)
        .optional()
}

/// Villages of a township, optionally only some, in id order after the cursor.
pub fn villages_page(
    conn: &mut DbConnection,
    township_id: i64,
    only: Option<&[i64]>,
    page: PageRequest,
) -> QueryResult<Vec<VillageRow>> {
    let mut query = villages::table
        .filter(villages::township_id.eq(township_id))
        .filter(villages::id.gt(page.after.unwrap_or(0)))
        .order(villages::id)
        .limit(page.limit + 1)
        .select(VillageRow::as_select())
        .into_boxed();
    if let Some(ids) = only {
        query = query.filter(villages::id.eq_any(ids.to_vec()));
    }
    query.load(conn)
}

pub struct NewVillage<'a> {
    pub township_id: i64,
    pub code: &'a str,
    pub name: &'a str,
    pub policy: String,
    pub now: NaiveDateTime,
}

pub fn insert_village(conn: &mut DbConnection, v: NewVillage) -> QueryResult<i64> {
    reference::changed(conn);
    diesel::insert_into(villages::table)
        .values((
            villages::township_id.eq(v.township_id),
            villages::code.eq(v.code),
            villages::name.eq(v.name),
            villages::policy.eq(v.policy),
            villages::created_at.eq(v.now),
            villages::updated_at.eq(v.now),
        ))
        .returning(villages::id)
        .get_result(conn)
}

pub fn update_village(
    conn: &mut DbConnection,
    id: i64,
    name: &str,
    policy: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    reference::changed(conn);
    diesel::update(villages::table.find(id))
        .set((
            villages::name.eq(name),
            villages::policy.eq(policy),
            villages::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = village_groups)]
pub struct GroupRow {
    pub id: i64,
    pub village_id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
}

pub fn group(conn: &mut DbConnection, id: i64) -> QueryResult<Option<GroupRow>> {
    village_groups::table
        .find(id)
        .select(GroupRow::as_select())
        .first(conn)
        .optional()
}

pub fn group_by_name(
    conn: &mut DbConnection,
    village_id: i64,
    name: &str,
) -> QueryResult<Option<GroupRow>> {
    village_groups::table
        .filter(village_groups::village_id.eq(village_id))
        .filter(village_groups::name.eq(name))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()
}

pub fn groups_page(
    conn: &mut DbConnection,
    village_id: i64,
    page: PageRequest,
) -> QueryResult<Vec<GroupRow>> {
    village_groups::table
        .filter(village_groups::village_id.eq(village_id))
        .filter(village_groups::id.gt(page.after.unwrap_or(0)))
        .order(village_groups::id)
        .limit(page.limit + 1)
        .select(GroupRow::as_select())
        .load(conn)
}

pub fn insert_group(
    conn: &mut DbConnection,
    village_id: i64,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<GroupRow> {
    let id = diesel::insert_into(village_groups::table)
        .values((
            village_groups::village_id.eq(village_id),
            village_groups::name.eq(name),
            village_groups::created_at.eq(now),
        ))
        .returning(village_groups::id)
        .get_result(conn)?;
    Ok(GroupRow {
        id,
        village_id,
        name: name.to_owned(),
        created_at: now,
    })
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = households)]
pub struct HouseholdRow {
    pub id: i64,
    pub village_id: i64,
    pub group_id: Option<i64>,
    pub door_no: String,
    pub head_name: String,
    pub phone: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub active: bool,
}

/// A household by id; a reference row (see `db::reference`).
pub fn household(conn: &mut DbConnection, id: i64) -> QueryResult<Option<HouseholdRow>> {
    reference::get(id, || {
        households::table
            .find(id)
            .select(HouseholdRow::as_select())
            .first(conn)
            .optional()
    })
}

pub fn household_by_door(
    conn: &mut DbConnection,
    village_id: i64,
    door_no: &str,
) -> QueryResult<Option<HouseholdRow>> {
    households::table
        .filter(households::village_id.eq(village_id))
        .filter(households::door_no.eq(door_no))
        .select(HouseholdRow::as_select())
        .first(conn)
        .optional()
}

pub struct HouseholdQuery<'a> {
    pub village_id: i64,
    pub text: Option<&'a str>,
    pub group_id: Option<i64>,
    /// Restricts to these groups (a group leader's view); `None` is the whole village.
    pub groups: Option<&'a [i64]>,
    pub page: PageRequest,
}

/// `%` and `_` in a search are literal characters, not wildcards.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub fn households_page(
    conn: &mut DbConnection,
    q: HouseholdQuery,
) -> QueryResult<Vec<HouseholdRow>> {
    let mut query = households::table
        .filter(households::village_id.eq(q.village_id))
        .filter(households::id.gt(q.page.after.unwrap_or(0)))
        .order(households::id)
        .limit(q.page.limit + 1)
        .select(HouseholdRow::as_select())
        .into_boxed();
    if let Some(text) = q.text.filter(|t| !t.is_empty()) {
        let pattern = like_pattern(text);
        query = query.filter(
            households::door_no
                .like(pattern.clone())
                .escape('\\')
                .or(households::head_name.like(pattern).escape('\\')),
        );
    }
    if let Some(group_id) = q.group_id {
        query = query.filter(households::group_id.eq(group_id));
    }
    if let Some(groups) = q.groups {
        query = query.filter(households::group_id.eq_any(groups.to_vec()));
    }
    query.load(conn)
}

/// (id, door number) of the village's active households, in id order.
pub fn active_doors(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<(i64, String)>> {
    households::table
        .filter(households::village_id.eq(village_id))
        .filter(households::active.eq(true))
        .order(households::id)
        .select((households::id, households::door_no))
        .load(conn)
}

pub struct NewHousehold<'a> {
    pub village_id: i64,
    pub group_id: Option<i64>,
    pub door_no: &'a str,
    pub head_name: &'a str,
    pub phone: Option<&'a str>,
    pub now: NaiveDateTime,
}

pub fn insert_household(conn: &mut DbConnection, h: NewHousehold) -> QueryResult<i64> {
    reference::changed(conn);
    diesel::insert_into(households::table)
        .values((
            households::village_id.eq(h.village_id),
            households::group_id.eq(h.group_id),
            households::door_no.eq(h.door_no),
            households::head_name.eq(h.head_name),
            households::phone.eq(h.phone),
            households::created_at.eq(h.now),
            households::updated_at.eq(h.now),
        ))
        .returning(households::id)
        .get_result(conn)
}

pub fn update_household(conn: &mut DbConnection, row: &HouseholdRow) -> QueryResult<()> {
    reference::changed(conn);
    diesel::update(households::table.find(row.id))
        .set((
            households::group_id.eq(row.group_id),
            households::door_no.eq(&row.door_no),
            households::head_name.eq(&row.head_name),
            households::phone.eq(&row.phone),
            households::updated_at.eq(row.updated_at),
            households::active.eq(row.active),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = members)]
pub struct MemberRow {
    pub id: i64,
    pub household_id: i64,
    pub name: String,
    pub relation: String,
    pub created_at: NaiveDateTime,
    pub active: bool,
    pub phone: Option<String>,
    pub signed_out_at: Option<NaiveDateTime>,
}

/// A member by id; a reference row (see `db::reference`).
pub fn member(conn: &mut DbConnection, id: i64) -> QueryResult<Option<MemberRow>> {
    reference::get(id, || {
        members::table
            .find(id)
            .select(MemberRow::as_select())
            .first(conn)
            .optional()
    })
}

/// Stores a member's name, relation, phone, standing and sign-out moment.
pub fn update_member(conn: &mut DbConnection, row: &MemberRow) -> QueryResult<()> {
    reference::changed(conn);
    diesel::update(members::table.find(row.id))
        .set((
            members::name.eq(&row.name),
            members::relation.eq(&row.relation),
            members::phone.eq(&row.phone),
            members::active.eq(row.active),
            members::signed_out_at.eq(row.signed_out_at),
        ))
        .execute(conn)
        .map(drop)
}

pub fn members_of(conn: &mut DbConnection, household_id: i64) -> QueryResult<Vec<MemberRow>> {
    members::table
        .filter(members::household_id.eq(household_id))
        .order(members::id)
        .select(MemberRow::as_select())
        .load(conn)
}

pub fn insert_member(
    conn: &mut DbConnection,
    household: &HouseholdRow,
    name: &str,
    relation: &str,
    now: NaiveDateTime,
) -> QueryResult<MemberRow> {
    reference::changed(conn);
    let id = diesel::insert_into(members::table)
        .values((
            members::village_id.eq(household.village_id),
            members::household_id.eq(household.id),
            members::name.eq(name),
            members::relation.eq(relation),
            members::created_at.eq(now),
        ))
        .returning(members::id)
        .get_result(conn)?;
    Ok(MemberRow {
        id,
        household_id: household.id,
        name: name.to_owned(),
        relation: relation.to_owned(),
        created_at: now,
        active: true,
        phone: None,
        signed_out_at: None,
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = staff)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

pub fn staff_page(
    conn: &mut DbConnection,
    township_id: i64,
    page: PageRequest,
) -> QueryResult<Vec<StaffRow>> {
    staff::table
        .filter(staff::township_id.eq(township_id))
        .filter(staff::id.gt(page.after.unwrap_or(0)))
        .order(staff::id)
        .limit(page.limit + 1)
        .select(StaffRow::as_select())
        .load(conn)
}

pub fn username_taken(conn: &mut DbConnection, username: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        staff::table.filter(staff::username.eq(username)),
    ))
    .get_result(conn)
}

pub struct NewStaff<'a> {
    pub township_id: i64,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub name: &'a str,
    pub now: NaiveDateTime,
}

pub fn insert_staff(conn: &mut DbConnection, s: NewStaff) -> QueryResult<StaffRow> {
    reference::changed(conn);
    let id = diesel::insert_into(staff::table)
        .values((
            staff::township_id.eq(s.township_id),
            staff::username.eq(s.username),
            staff::password_hash.eq(s.password_hash),
            staff::name.eq(s.name),
            staff::active.eq(true),
            staff::created_at.eq(s.now),
        ))
        .returning(staff::id)
        .get_result(conn)?;
    Ok(StaffRow {
        id,
        username: s.username.to_owned(),
        name: s.name.to_owned(),
        active: true,
        created_at: s.now,
    })
}

/// A staff account and its township.
pub fn staff_row(conn: &mut DbConnection, id: i64) -> QueryResult<Option<(StaffRow, i64)>> {
    staff::table
        .find(id)
        .select((StaffRow::as_select(), staff::township_id))
        .first(conn)
        .optional()
}

pub fn rename_staff(conn: &mut DbConnection, id: i64, name: &str) -> QueryResult<()> {
    reference::changed(conn);
    diesel::update(staff::table.find(id))
        .set(staff::name.eq(name))
        .execute(conn)
        .map(drop)
}

pub fn set_staff_active(conn: &mut DbConnection, id: i64, active: bool) -> QueryResult<()> {
    reference::changed(conn);
    diesel::update(staff::table.find(id))
        .set(staff::active.eq(active))
        .execute(conn)
        .map(drop)
}

pub fn set_staff_password(conn: &mut DbConnection, id: i64, hash: &str) -> QueryResult<()> {
    diesel::update(staff::table.find(id))
        .set(staff::password_hash.eq(hash))
        .execute(conn)
        .map(drop)
}

pub fn delete_roles(conn: &mut DbConnection, staff_id: i64) -> QueryResult<()> {
    reference::changed(conn);
    diesel::delete(role_bindings::table.filter(role_bindings::staff_id.eq(staff_id)))
        .execute(conn)
        .map(drop)
}

pub fn insert_role(
    conn: &mut DbConnection,
    staff_id: i64,
    role: RoleName,
    scope_id: i64,
    village_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    reference::changed(conn);
    diesel::insert_into(role_bindings::table)
        .values((
            role_bindings::staff_id.eq(staff_id),
            role_bindings::role.eq(role),
            role_bindings::scope_id.eq(scope_id),
            role_bindings::village_id.eq(village_id),
            role_bindings::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn shop_township(conn: &mut DbConnection, shop_id: i64) -> QueryResult<Option<i64>> {
    shops::table
        .find(shop_id)
        .select(shops::township_id)
        .first(conn)
        .optional()
}

pub fn township_name(conn: &mut DbConnection, township_id: i64) -> QueryResult<String> {
    townships::table
        .find(township_id)
        .select(townships::name)
        .first(conn)
}

pub fn count_townships(conn: &mut DbConnection) -> QueryResult<i64> {
    townships::table.count().get_result(conn)
}
