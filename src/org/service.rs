//! Organisation use cases. Each checks access through the policy module first and
//! writes in one transaction.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::import::parse_households;
use super::model::*;
use super::policy::VillagePolicy;
use super::store::{self, GroupRow, HouseholdRow, MemberRow, VillageRow};
use crate::audit::{self, Event};
use crate::auth::policy::{Action, Target, authorize, permits, visible_groups};
use crate::auth::secrets::Pepper;
use crate::auth::service::{InviteFor, RoleView, issue_invite, roles_view};
use crate::auth::{Caller, Principal, RoleName, password};
use crate::db::{DbConnection, TextState, Tx, reference, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::paging::{Page, PageQuery, PageRequest};

/// A unique index refused the write: someone else has the same value.
fn unique_or(err: diesel::result::Error, message: &str) -> AppError {
    if crate::error::fault::is_duplicate(&err) {
        AppError::Conflict(message.to_owned())
    } else {
        err.into()
    }
}

fn village_view(row: VillageRow) -> VillageView {
    VillageView {
        policy: VillagePolicy::from_stored(&row.policy),
        id: row.id,
        township_id: row.township_id,
        code: row.code,
        name: row.name,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    }
}

fn group_view(row: GroupRow) -> GroupView {
    GroupView {
        id: row.id,
        village_id: row.village_id,
        name: row.name,
        created_at: utc(row.created_at),
    }
}

/// A member as the caller may see them; `wechat` is known only to those who may see it.
fn member_view(row: MemberRow, full: bool, wechat: Option<bool>) -> MemberView {
    MemberView {
        id: row.id,
        household_id: row.household_id,
        name: if full { row.name } else { mask_name(&row.name) },
        relation: row.relation,
        phone: if full { row.phone } else { None },
        active: row.active,
        wechat_bound: wechat,
        created_at: utc(row.created_at),
    }
}

/// Whether the caller sees full names and phones of this household.
fn sees_details(p: &Principal, row: &HouseholdRow, target: &Target) -> bool {
    p.household_id() == Some(row.id) || permits(p, Action::ViewContactDetails, target)
}

fn household_view(p: &Principal, row: HouseholdRow, target: &Target) -> HouseholdView {
    let full = sees_details(p, &row, target);
    HouseholdView {
        display_name: mask_name(&row.head_name),
        head_name: full.then(|| row.head_name.clone()),
        phone: if full { row.phone.clone() } else { None },
        active: row.active,
        id: row.id,
        village_id: row.village_id,
        group_id: row.group_id,
        door_no: row.door_no,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    }
}

/// Where a village sits, for policy checks by other features.
pub fn village_target(conn: &mut DbConnection, village_id: i64) -> AppResult<Target> {
    let village = store::village(conn, village_id)?.ok_or(AppError::NotFound)?;
    Ok(Target::village(village.township_id, village.id))
}

/// A household's village and where it sits, for policy checks by other features.
pub fn household_target(conn: &mut DbConnection, household_id: i64) -> AppResult<(i64, Target)> {
    let household = store::household(conn, household_id)?.ok_or(AppError::NotFound)?;
    let village = store::village(conn, household.village_id)?.ok_or(AppError::NotFound)?;
    Ok((
        village.id,
        Target::household(
            village.township_id,
            village.id,
            household.group_id,
            household.id,
        ),
    ))
}

/// Every village as (id, code, name), for operator tools.
pub fn all_villages(conn: &mut DbConnection) -> AppResult<Vec<(i64, String, String)>> {
    Ok(store::all_villages(conn)?
        .into_iter()
        .map(|v| (v.id, v.code, v.name))
        .collect())
}

/// (code, name) of a village, for printed sheets and public pages.
pub fn village_summary(conn: &mut DbConnection, village_id: i64) -> AppResult<(String, String)> {
    let village = store::village(conn, village_id)?.ok_or(AppError::NotFound)?;
    Ok((village.code, village.name))
}

/// (id, name) of a village by its code, for public pages.
pub fn village_summary_by_code(
    conn: &mut DbConnection,
    code: &str,
) -> AppResult<Option<(i64, String)>> {
    Ok(store::village_by_code(conn, code)?.map(|v| (v.id, v.name)))
}

/// (village, door number, head's name) of a household, for receipts and the counter.
pub fn household_brief(
    conn: &mut DbConnection,
    household_id: i64,
) -> AppResult<(i64, String, String)> {
    let h = store::household(conn, household_id)?.ok_or(AppError::NotFound)?;
    Ok((h.village_id, h.door_no, h.head_name))
}

/// The member who stands for a household (invited first, signed in by its card): its
/// first active member, as the register lists them.
pub fn household_head(conn: &mut DbConnection, household_id: i64) -> AppResult<Option<i64>> {
    Ok(store::members_of(conn, household_id)?
        .into_iter()
        .find(|m| m.active)
        .map(|m| m.id))
}

/// A household's door number and head's name as the caller may see it: in full for those
/// who see contact details (and the household itself), masked (张*明) for everyone else.
pub fn household_label(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
) -> AppResult<(String, String)> {
    let row = store::household(conn, household_id)?.ok_or(AppError::NotFound)?;
    let (_, target) = household_target(conn, household_id)?;
    let name = if sees_details(p, &row, &target) {
        row.head_name.clone()
    } else {
        mask_name(&row.head_name)
    };
    Ok((row.door_no, name))
}

/// A staff member's name, for the audit trail (none once the row is gone).
pub fn staff_name(conn: &mut DbConnection, staff_id: i64) -> AppResult<Option<String>> {
    Ok(store::staff_row(conn, staff_id)?.map(|(row, _)| row.name))
}

/// A member's name, for the audit trail.
pub fn member_name(conn: &mut DbConnection, member_id: i64) -> AppResult<Option<String>> {
    Ok(store::member(conn, member_id)?.map(|m| m.name))
}

/// A member as others may see them: the household's door number and the member's masked
/// name ("3号 李*芳"), e.g. the villager who objected to a claim.
pub fn member_masked(conn: &mut DbConnection, member_id: i64) -> AppResult<String> {
    let member = store::member(conn, member_id)?.ok_or(AppError::NotFound)?;
    let household = store::household(conn, member.household_id)?.ok_or(AppError::NotFound)?;
    Ok(format!("{} {}", household.door_no, mask_name(&member.name)))
}

/// Checks that a member belongs to a household.
pub fn member_of_household(
    conn: &mut DbConnection,
    member_id: i64,
    household_id: i64,
) -> AppResult<()> {
    match store::member(conn, member_id)? {
        Some(m) if m.household_id == household_id => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

pub fn village_by_code(conn: &mut DbConnection, code: &str) -> AppResult<Option<i64>> {
    Ok(store::village_by_code(conn, code)?.map(|v| v.id))
}

/// (id, door number) of the village's active households, for features that act on each.
pub fn active_households(
    conn: &mut DbConnection,
    village_id: i64,
) -> AppResult<Vec<(i64, String)>> {
    Ok(store::active_doors(conn, village_id)?)
}

/// Every village's id and policy, for jobs that act on each as its policy says.
pub fn village_policies(conn: &mut DbConnection) -> AppResult<Vec<(i64, VillagePolicy)>> {
    Ok(store::village_policies(conn)?
        .into_iter()
        .map(|(id, policy)| (id, VillagePolicy::from_stored(&policy)))
        .collect())
}

/// A village's policy. Kept parsed as a reference row of its own (see `db::reference`):
/// every balance read, sale and claim asks for it, and parsing its JSON each time was a
/// visible share of a balance read.
pub fn village_policy(conn: &mut DbConnection, village_id: i64) -> AppResult<VillagePolicy> {
    let parsed = reference::get(village_id, || {
        store::village(conn, village_id)
            .map(|found| found.map(|village| VillagePolicy::from_stored(&village.policy)))
    })?;
    parsed.ok_or(AppError::NotFound)
}

/// Records an organisation change in the village's audit trail.
fn audit_change(
    tx: &mut Tx<'_>,
    c: &Caller,
    village_id: i64,
    action: &str,
    subject: (&str, i64),
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let event = Event {
        village_id: Some(village_id),
        action,
        subject_kind: subject.0,
        subject_id: Some(subject.1),
        detail,
    };
    Ok(audit::record(tx, c, event, now)?)
}

fn village_in_scope(
    conn: &mut DbConnection,
    p: &Principal,
    id: i64,
    action: Action,
) -> AppResult<(VillageRow, Target)> {
    let village = store::village(conn, id)?.ok_or(AppError::NotFound)?;
    let target = Target::village(village.township_id, village.id);
    authorize(p, action, &target)?;
    Ok((village, target))
}

fn household_in_scope(
    conn: &mut DbConnection,
    p: &Principal,
    id: i64,
    action: Action,
) -> AppResult<(HouseholdRow, Target)> {
    let household = store::household(conn, id)?.ok_or(AppError::NotFound)?;
    let village = store::village(conn, household.village_id)?.ok_or(AppError::NotFound)?;
    let target = Target::household(
        village.township_id,
        village.id,
        household.group_id,
        household.id,
    );
    authorize(p, action, &target)?;
    Ok((household, target))
}

/// A group given by id must belong to the village.
fn check_group(conn: &mut DbConnection, village_id: i64, group_id: Option<i64>) -> AppResult<()> {
    match group_id {
        None => Ok(()),
        Some(id) => match store::group(conn, id)? {
            Some(g) if g.village_id == village_id => Ok(()),
            _ => Err(AppError::field("group_id", "本村没有这个小组")),
        },
    }
}

fn normalize_phone(phone: &str) -> String {
    phone.chars().filter(|c| !c.is_whitespace()).collect()
}

// ---- township --------------------------------------------------------------

pub fn create_township_if_none(
    conn: &mut DbConnection,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<TownshipView> {
    write_tx(conn, |conn| {
        let row = match store::first_township(conn)? {
            Some(row) => row,
            None => store::insert_township(conn, name, now.naive_utc())?,
        };
        Ok(TownshipView {
            id: row.id,
            name: row.name,
        })
    })
}

/// Creates the township (if none) and a township administrator; used by `jifen bootstrap`.
pub fn bootstrap(
    conn: &mut DbConnection,
    township_name: &str,
    username: &str,
    password_text: &str,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let hash = password::hash(password_text)?;
    let township = create_township_if_none(conn, township_name, now)?;
    write_tx(conn, |conn| {
        if store::username_taken(conn, username)? {
            return Err(AppError::Conflict(format!("用户名 {username} 已被使用")));
        }
        let staff = store::insert_staff(
            conn,
            store::NewStaff {
                township_id: township.id,
                username,
                password_hash: &hash,
                name,
                now: now.naive_utc(),
            },
        )?;
        store::insert_role(
            conn,
            staff.id,
            RoleName::TownshipAdmin,
            township.id,
            None,
            now.naive_utc(),
        )?;
        Ok(staff.id)
    })
}

pub fn township_name(conn: &mut DbConnection, township_id: i64) -> AppResult<String> {
    Ok(store::township_name(conn, township_id)?)
}

pub fn township_is_empty(conn: &mut DbConnection) -> AppResult<bool> {
    Ok(store::count_townships(conn)? == 0)
}

// ---- villages --------------------------------------------------------------

pub fn list_villages(
    conn: &mut DbConnection,
    p: &Principal,
    page: &PageQuery,
) -> AppResult<Page<VillageView>> {
    if !p.is_staff() {
        return Err(AppError::Forbidden("只有工作人员可以查看村列表。"));
    }
    let request = page.request()?;
    let whole_township = p.has_role(RoleName::TownshipAdmin);
    let own = p.village_ids();
    let only = (!whole_township).then_some(own.as_slice());
    let rows = store::villages_page(conn, p.township_id, only, request)?;
    Ok(Page::from_rows(rows, request, |r| r.id, village_view))
}

pub fn create_village(
    conn: &mut DbConnection,
    c: &Caller,
    req: &CreateVillage,
    now: DateTime<Utc>,
) -> AppResult<VillageView> {
    let p = &c.principal;
    authorize(p, Action::CreateVillage, &Target::township(p.township_id))?;
    let policy = VillagePolicy::default()
        .patched(&req.policy.clone().unwrap_or_default(), "policy")?
        .stamped(&VillagePolicy::default(), now);
    write_tx(conn, |conn| {
        if store::village_by_code(conn, &req.code)?.is_some() {
            return Err(AppError::Conflict(format!("村代码 {} 已被使用", req.code)));
        }
        let id = store::insert_village(
            conn,
            store::NewVillage {
                township_id: p.township_id,
                code: &req.code,
                name: req.name.trim(),
                policy: policy.to_stored(),
                now: now.naive_utc(),
            },
        )
        .map_err(|e| unique_or(e, "村代码已被使用"))?;
        let detail = json!({"code": req.code, "name": req.name.trim(), "policy": policy});
        audit_change(conn, c, id, "village_create", ("village", id), detail, now)?;
        store::village(conn, id)?
            .map(village_view)
            .ok_or(AppError::NotFound)
    })
}

pub fn get_village(conn: &mut DbConnection, p: &Principal, id: i64) -> AppResult<VillageView> {
    let (village, _) = village_in_scope(conn, p, id, Action::ViewVillage)?;
    Ok(village_view(village))
}

pub fn patch_village(
    conn: &mut DbConnection,
    c: &Caller,
    id: i64,
    req: &PatchVillage,
    now: DateTime<Utc>,
) -> AppResult<VillageView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let (village, _) = village_in_scope(conn, p, id, Action::EditVillage)?;
        let current = VillagePolicy::from_stored(&village.policy);
        let policy = match &req.policy {
            Some(patch) => current.patched(patch, "policy")?.stamped(&current, now),
            None => current,
        };
        let name = req.name.as_deref().map(str::trim).unwrap_or(&village.name);
        store::update_village(conn, id, name, &policy.to_stored(), now.naive_utc())?;
        let detail = json!({"name": name, "policy": policy});
        audit_change(conn, c, id, "village_update", ("village", id), detail, now)?;
        store::village(conn, id)?
            .map(village_view)
            .ok_or(AppError::NotFound)
    })
}

// ---- groups ----------------------------------------------------------------

pub fn list_groups(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    page: &PageQuery,
) -> AppResult<Page<GroupView>> {
    village_in_scope(conn, p, village_id, Action::ViewGroups)?;
    let request = page.request()?;
    let rows = store::groups_page(conn, village_id, request)?;
    Ok(Page::from_rows(rows, request, |r| r.id, group_view))
}

pub fn create_group(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    req: &CreateGroup,
    now: DateTime<Utc>,
) -> AppResult<GroupView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        village_in_scope(conn, p, village_id, Action::CreateGroup)?;
        let name = req.name.trim();
        if store::group_by_name(conn, village_id, name)?.is_some() {
            return Err(AppError::Conflict(format!("本村已有小组“{name}”")));
        }
        let group = store::insert_group(conn, village_id, name, now.naive_utc())
            .map_err(|e| unique_or(e, "本村已有同名小组"))?;
        let detail = json!({"name": name});
        audit_change(
            conn,
            c,
            village_id,
            "group_create",
            ("group", group.id),
            detail,
            now,
        )?;
        Ok(group_view(group))
    })
}

// ---- households ------------------------------------------------------------

/// Every household the list shows under `filter`'s search and group: all its pages.
pub fn all_households(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &HouseholdFilter,
) -> AppResult<Vec<HouseholdView>> {
    crate::paging::every_page(|page| {
        let filter = HouseholdFilter {
            q: filter.q.clone(),
            group_id: filter.group_id,
            limit: page.limit,
            cursor: page.cursor,
        };
        list_households(conn, p, village_id, &filter)
    })
}

pub fn list_households(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &HouseholdFilter,
) -> AppResult<Page<HouseholdView>> {
    let (_, target) = village_in_scope(conn, p, village_id, Action::ListHouseholds)?;
    let request = PageQuery {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    }
    .request()?;
    let groups = visible_groups(p, village_id);
    let rows = store::households_page(
        conn,
        store::HouseholdQuery {
            village_id,
            text: filter.q.as_deref().map(str::trim),
            group_id: filter.group_id,
            groups: groups.as_deref(),
            page: request,
        },
    )?;
    Ok(Page::from_rows(
        rows,
        request,
        |r| r.id,
        |row| {
            let target = Target {
                group_id: row.group_id,
                household_id: Some(row.id),
                ..target
            };
            household_view(p, row, &target)
        },
    ))
}

/// Adds a household and its head as the first member.
fn insert_household_with_head(
    tx: &mut Tx<'_>,
    village_id: i64,
    group_id: Option<i64>,
    door_no: &str,
    head_name: &str,
    phone: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<HouseholdRow> {
    if store::household_by_door(tx, village_id, door_no)?.is_some() {
        return Err(AppError::Conflict(format!("门牌号 {door_no} 已有住户")));
    }
    let id = store::insert_household(
        tx,
        store::NewHousehold {
            village_id,
            group_id,
            door_no,
            head_name,
            phone,
            now: now.naive_utc(),
        },
    )
    .map_err(|e| unique_or(e, "门牌号已有住户"))?;
    let row = store::household(tx, id)?.ok_or(AppError::NotFound)?;
    store::insert_member(tx, &row, head_name, "户主", now.naive_utc())?;
    Ok(row)
}

pub fn create_household(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    req: &CreateHousehold,
    now: DateTime<Utc>,
) -> AppResult<HouseholdView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let (_, target) = village_in_scope(conn, p, village_id, Action::ManageHouseholds)?;
        check_group(conn, village_id, req.group_id)?;
        let phone = req.phone.as_deref().map(normalize_phone);
        let row = insert_household_with_head(
            conn,
            village_id,
            req.group_id,
            req.door_no.trim(),
            req.head_name.trim(),
            phone.as_deref(),
            now,
        )?;
        let detail = json!({"door_no": row.door_no, "group_id": row.group_id});
        audit_change(
            conn,
            c,
            village_id,
            "household_create",
            ("household", row.id),
            detail,
            now,
        )?;
        let target = Target {
            group_id: row.group_id,
            household_id: Some(row.id),
            ..target
        };
        Ok(household_view(p, row, &target))
    })
}

pub fn get_household(conn: &mut DbConnection, p: &Principal, id: i64) -> AppResult<HouseholdView> {
    let (row, target) = household_in_scope(conn, p, id, Action::ViewHousehold)?;
    Ok(household_view(p, row, &target))
}

pub fn patch_household(
    conn: &mut DbConnection,
    c: &Caller,
    id: i64,
    req: &PatchHousehold,
    now: DateTime<Utc>,
) -> AppResult<HouseholdView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let (mut row, target) = household_in_scope(conn, p, id, Action::EditHousehold)?;
        let committee = permits(p, Action::ManageHouseholds, &target);
        let beyond_phone = req.door_no.is_some()
            || req.head_name.is_some()
            || req.group_id.is_some()
            || req.active.is_some();
        if !committee && beyond_phone {
            return Err(AppError::Forbidden(
                "村民只能修改自家的电话，其他信息请找村委会。",
            ));
        }
        if let Some(group_id) = req.group_id {
            check_group(conn, row.village_id, group_id)?;
            row.group_id = group_id;
        }
        if let Some(door_no) = &req.door_no {
            let door_no = door_no.trim();
            if door_no != row.door_no
                && store::household_by_door(conn, row.village_id, door_no)?.is_some()
            {
                return Err(AppError::Conflict(format!("门牌号 {door_no} 已有住户")));
            }
            row.door_no = door_no.to_owned();
        }
        if let Some(head_name) = &req.head_name {
            row.head_name = head_name.trim().to_owned();
        }
        if let Some(phone) = &req.phone {
            row.phone = phone.as_deref().map(normalize_phone);
        }
        if let Some(active) = req.active {
            if active != row.active && !committee {
                return Err(AppError::Forbidden("只有村委会可以停用或启用农户。"));
            }
            if row.active && !active {
                for mut member in store::members_of(conn, row.id)? {
                    end_sign_ins(conn, &mut member, now)?;
                }
            }
            row.active = active;
        }
        row.updated_at = now.naive_utc();
        store::update_household(conn, &row).map_err(|e| unique_or(e, "门牌号已有住户"))?;
        // Which fields changed, not their values: phone numbers stay out of the trail.
        let fields: Vec<&str> = [
            ("door_no", req.door_no.is_some()),
            ("head_name", req.head_name.is_some()),
            ("group_id", req.group_id.is_some()),
            ("phone", req.phone.is_some()),
            ("active", req.active.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, named)| named.then_some(name))
        .collect();
        let detail = json!({"fields": fields, "active": row.active});
        audit_change(
            conn,
            c,
            row.village_id,
            "household_update",
            ("household", row.id),
            detail,
            now,
        )?;
        let target = Target {
            group_id: row.group_id,
            ..target
        };
        Ok(household_view(p, row, &target))
    })
}

/// Ends every way a member is signed in, at once: refresh tokens and page sessions go,
/// access tokens issued before now stop counting, and WeChat no longer signs them in (the
/// binding is how a lost phone would sign in again).
fn end_sign_ins(tx: &mut Tx<'_>, member: &mut MemberRow, now: DateTime<Utc>) -> AppResult<usize> {
    member.signed_out_at = Some(now.naive_utc());
    store::update_member(tx, member)?;
    crate::auth::service::end_member_sign_ins(tx, member.id, now)?;
    crate::auth::service::unbind_wechat(tx, member.id)
}

/// A member the committee of their village manages, with the household's place.
fn managed_member(
    conn: &mut DbConnection,
    p: &Principal,
    member_id: i64,
) -> AppResult<(MemberRow, HouseholdRow, Target)> {
    let member = store::member(conn, member_id)?.ok_or(AppError::NotFound)?;
    let (household, target) =
        household_in_scope(conn, p, member.household_id, Action::ManageHouseholds)?;
    Ok((member, household, target))
}

/// Changes a member's name, relation, phone or standing. Deactivating ends every
/// sign-in and WeChat binding of the member; they stay in history.
pub fn patch_member(
    conn: &mut DbConnection,
    c: &Caller,
    member_id: i64,
    req: &PatchMember,
    now: DateTime<Utc>,
) -> AppResult<MemberView> {
    write_tx(conn, |conn| {
        let (mut member, household, _) = managed_member(conn, &c.principal, member_id)?;
        if let Some(name) = &req.name {
            member.name = name.trim().to_owned();
        }
        if let Some(relation) = &req.relation {
            member.relation = relation.trim().to_owned();
        }
        if let Some(phone) = &req.phone {
            member.phone = phone.as_deref().map(normalize_phone);
        }
        let deactivated = member.active && req.active == Some(false);
        if let Some(active) = req.active {
            member.active = active;
        }
        if deactivated {
            end_sign_ins(conn, &mut member, now)?;
        } else {
            store::update_member(conn, &member)?;
        }
        let fields: Vec<&str> = [
            ("name", req.name.is_some()),
            ("relation", req.relation.is_some()),
            ("phone", req.phone.is_some()),
            ("active", req.active.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, named)| named.then_some(name))
        .collect();
        let detail =
            json!({"fields": fields, "active": member.active, "household_id": household.id});
        audit_change(
            conn,
            c,
            household.village_id,
            "member_update",
            ("member", member_id),
            detail,
            now,
        )?;
        let wechat = !crate::auth::service::wechat_bound(conn, &[member_id])?.is_empty();
        Ok(member_view(member, true, Some(wechat)))
    })
}

/// Signs a member out everywhere (a phone lost or passed on): sessions, refresh tokens
/// and access tokens; with `wechat`, their WeChat bindings go too.
pub fn sign_out_member(
    conn: &mut DbConnection,
    c: &Caller,
    member_id: i64,
    wechat: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    write_tx(conn, |conn| {
        let (mut member, household, _) = managed_member(conn, &c.principal, member_id)?;
        member.signed_out_at = Some(now.naive_utc());
        store::update_member(conn, &member)?;
        crate::auth::service::end_member_sign_ins(conn, member_id, now)?;
        let (action, detail) = if wechat {
            let openids = crate::auth::service::unbind_wechat(conn, member_id)?;
            (
                "member_wechat_unbind",
                json!({"openids": openids, "household_id": household.id}),
            )
        } else {
            ("member_sign_out", json!({"household_id": household.id}))
        };
        audit_change(
            conn,
            c,
            household.village_id,
            action,
            ("member", member_id),
            detail,
            now,
        )
    })
}

/// Refuses a household that was deactivated: it can no longer earn, lose or spend.
pub fn ensure_active_household(conn: &mut DbConnection, household_id: i64) -> AppResult<()> {
    let household = store::household(conn, household_id)?.ok_or(AppError::NotFound)?;
    if household.active {
        Ok(())
    } else {
        Err(AppError::InvalidState(format!(
            "{} 已停用，不能再申报、加减分或兑换。",
            household.door_no
        )))
    }
}

/// Whether a payment code the member made at `issued_at` may still pay: the member and
/// the household active, and the code made after the member was last signed out.
pub fn member_may_pay(
    conn: &mut DbConnection,
    member_id: i64,
    issued_at: chrono::NaiveDateTime,
) -> AppResult<bool> {
    let Some(member) = store::member(conn, member_id)? else {
        return Ok(false);
    };
    let household = store::household(conn, member.household_id)?.ok_or(AppError::NotFound)?;
    Ok(member.active && household.active && member.signed_out_at.is_none_or(|at| issued_at > at))
}

pub fn list_members(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
) -> AppResult<Page<MemberView>> {
    let (row, target) = household_in_scope(conn, p, household_id, Action::ViewHousehold)?;
    let full = sees_details(p, &row, &target);
    let rows = store::members_of(conn, household_id)?;
    let bound = if p.is_staff() && full {
        let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
        Some(crate::auth::service::wechat_bound(conn, &ids)?)
    } else {
        None
    };
    Ok(Page {
        items: rows
            .into_iter()
            .map(|m| {
                let wechat = bound.as_ref().map(|b| b.contains(&m.id));
                member_view(m, full, wechat)
            })
            .collect(),
        next_cursor: None,
    })
}

pub fn add_member(
    conn: &mut DbConnection,
    c: &Caller,
    household_id: i64,
    req: &CreateMember,
    now: DateTime<Utc>,
) -> AppResult<MemberView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let (row, _) = household_in_scope(conn, p, household_id, Action::ManageHouseholds)?;
        let member = store::insert_member(
            conn,
            &row,
            req.name.trim(),
            req.relation.trim(),
            now.naive_utc(),
        )?;
        let detail = json!({"household_id": row.id, "relation": member.relation});
        audit_change(
            conn,
            c,
            row.village_id,
            "member_add",
            ("member", member.id),
            detail,
            now,
        )?;
        Ok(member_view(member, true, Some(false)))
    })
}

pub fn create_invite(
    conn: &mut DbConnection,
    pepper: &Pepper,
    c: &Caller,
    household_id: i64,
    req: &CreateInvite,
    now: DateTime<Utc>,
) -> AppResult<InviteView> {
    let p = &c.principal;
    write_tx(conn, |conn| {
        let (row, _) = household_in_scope(conn, p, household_id, Action::ManageHouseholds)?;
        let member = store::member(conn, req.member_id)?
            .filter(|m| m.household_id == row.id)
            .ok_or_else(|| AppError::field("member_id", "这一户没有这个成员"))?;
        ensure_active_household(conn, row.id)?;
        if !member.active {
            return Err(AppError::InvalidState(format!(
                "{} 已停用，请先启用再发邀请码。",
                member.name
            )));
        }
        let invite = InviteFor {
            village_id: row.village_id,
            household_id: row.id,
            member_id: member.id,
            created_by: p.id,
        };
        let (invite_code, expires_at) = issue_invite(conn, pepper, invite, now)?;
        // Never the code itself.
        let detail = json!({"household_id": row.id, "expires_at": expires_at});
        audit_change(
            conn,
            c,
            row.village_id,
            "invite_issue",
            ("member", member.id),
            detail,
            now,
        )?;
        Ok(InviteView {
            invite_code,
            expires_at,
            member_id: member.id,
        })
    })
}

/// Who an invite slip is for: a household's head, or any one member.
#[derive(Clone, Copy, Debug)]
pub enum Invitee {
    HeadOf(i64),
    Member(i64),
}

/// An invite with what its slip prints: the door and the member's name.
pub struct SlipInvite {
    pub door_no: String,
    pub name: String,
    pub invite: InviteView,
}

/// Invites each one, all or none (the desk prints them as slips; a new slip ends the
/// member's earlier one).
pub fn invite_all(
    conn: &mut DbConnection,
    pepper: &Pepper,
    c: &Caller,
    invitees: &[Invitee],
    now: DateTime<Utc>,
) -> AppResult<Vec<SlipInvite>> {
    write_tx(conn, |tx| {
        invitees
            .iter()
            .map(|&invitee| {
                let (household_id, member_id) = match invitee {
                    Invitee::HeadOf(household_id) => {
                        let head = household_head(tx, household_id)?
                            .ok_or(AppError::field("household_ids", "这一户还没有成员"))?;
                        (household_id, head)
                    }
                    Invitee::Member(member_id) => {
                        let member = store::member(tx, member_id)?.ok_or(AppError::NotFound)?;
                        (member.household_id, member_id)
                    }
                };
                let (_, door_no, _) = household_brief(tx, household_id)?;
                let name = store::member(tx, member_id)?
                    .map(|m| m.name)
                    .unwrap_or_default();
                let request = CreateInvite { member_id };
                let invite = create_invite(tx, pepper, c, household_id, &request, now)?;
                Ok(SlipInvite {
                    door_no,
                    name,
                    invite,
                })
            })
            .collect()
    })
}

/// The household import template, with the village's groups in the 小组 drop-down.
pub fn households_template(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<crate::export::ExportFile> {
    let (village, _) = village_in_scope(conn, p, village_id, Action::ManageHouseholds)?;
    let groups = store::groups_page(
        conn,
        village.id,
        PageRequest {
            limit: crate::paging::MAX_LIMIT,
            after: None,
        },
    )?
    .into_iter()
    .map(|g| g.name)
    .collect();
    let columns = super::import::template_columns(groups);
    crate::export::ExportFile::template(&format!("{}-农户导入模板", village.name), &columns)
}

pub fn import_households(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    file: &[u8],
    now: DateTime<Utc>,
) -> AppResult<ImportResult> {
    let p = &c.principal;
    let (village, _) = village_in_scope(conn, p, village_id, Action::ManageHouseholds)?;
    let lines = parse_households(file)?;
    write_tx(conn, |conn| {
        let mut result = ImportResult {
            created: 0,
            updated: 0,
        };
        for line in &lines {
            let group_id = match &line.group {
                None => None,
                Some(name) => Some(match store::group_by_name(conn, village.id, name)? {
                    Some(g) => g.id,
                    None => store::insert_group(conn, village.id, name, now.naive_utc())?.id,
                }),
            };
            let phone = line.phone.as_deref().map(normalize_phone);
            let household = match store::household_by_door(conn, village.id, &line.door_no)? {
                Some(mut row) => {
                    row.head_name = line.head_name.clone();
                    row.group_id = group_id.or(row.group_id);
                    row.phone = phone.or(row.phone);
                    row.updated_at = now.naive_utc();
                    store::update_household(conn, &row)?;
                    result.updated += 1;
                    row
                }
                None => {
                    result.created += 1;
                    insert_household_with_head(
                        conn,
                        village.id,
                        group_id,
                        &line.door_no,
                        &line.head_name,
                        phone.as_deref(),
                        now,
                    )?
                }
            };
            let known: Vec<String> = store::members_of(conn, household.id)?
                .into_iter()
                .map(|m| m.name)
                .collect();
            for name in line
                .members
                .iter()
                .filter(|n| !known.contains(n) && **n != line.head_name)
            {
                store::insert_member(conn, &household, name, "家庭成员", now.naive_utc())?;
            }
        }
        let detail = json!({"created": result.created, "updated": result.updated});
        audit_change(
            conn,
            c,
            village.id,
            "household_import",
            ("village", village.id),
            detail,
            now,
        )?;
        Ok(result)
    })
}

// ---- staff -----------------------------------------------------------------

pub fn list_staff(
    conn: &mut DbConnection,
    p: &Principal,
    page: &PageQuery,
) -> AppResult<Page<StaffView>> {
    authorize(p, Action::ManageStaff, &Target::township(p.township_id))?;
    let request: PageRequest = page.request()?;
    let rows = store::staff_page(conn, p.township_id, request)?;
    Page::from_rows(rows, request, |r| r.id, |r| r).try_map(|row| {
        let roles = roles_view(conn, row.id)?;
        Ok(staff_view(row, roles))
    })
}

/// One staff account of the township, with its roles.
pub fn get_staff(conn: &mut DbConnection, p: &Principal, staff_id: i64) -> AppResult<StaffView> {
    authorize(p, Action::ManageStaff, &Target::township(p.township_id))?;
    let row = township_staff(conn, p.township_id, staff_id)?;
    let roles = roles_view(conn, staff_id)?;
    Ok(staff_view(row, roles))
}

fn staff_view(row: store::StaffRow, roles: Vec<RoleView>) -> StaffView {
    StaffView {
        id: row.id,
        username: row.username,
        name: row.name,
        active: row.active,
        roles,
        created_at: utc(row.created_at),
    }
}

/// Checks that a role's scope exists in the caller's township; returns its village.
fn resolve_scope(
    conn: &mut DbConnection,
    township_id: i64,
    index: usize,
    role: &RoleRequest,
) -> Result<Option<i64>, FieldError> {
    let field = format!("roles[{index}].scope_id");
    let missing = || FieldError::new(field.clone(), "没有这个范围");
    match role.role {
        RoleName::TownshipAdmin => (role.scope_id == township_id)
            .then_some(None)
            .ok_or_else(missing),
        RoleName::Committee | RoleName::Supervisor => store::village(conn, role.scope_id)
            .map_err(|_| missing())?
            .filter(|v| v.township_id == township_id)
            .map(|v| Some(v.id))
            .ok_or_else(missing),
        RoleName::GroupLeader => {
            let group = store::group(conn, role.scope_id)
                .map_err(|_| missing())?
                .ok_or_else(missing)?;
            store::village(conn, group.village_id)
                .map_err(|_| missing())?
                .filter(|v| v.township_id == township_id)
                .map(|v| Some(v.id))
                .ok_or_else(missing)
        }
        RoleName::Shopkeeper => store::shop_township(conn, role.scope_id)
            .map_err(|_| missing())?
            .filter(|t| *t == township_id)
            .map(|_| None)
            .ok_or_else(missing),
        RoleName::Villager => Err(FieldError::new(
            format!("roles[{index}].role"),
            "工作人员不能是村民角色",
        )),
    }
}

pub fn create_staff(
    conn: &mut DbConnection,
    c: &Caller,
    req: &CreateStaff,
    now: DateTime<Utc>,
) -> AppResult<StaffView> {
    let p = &c.principal;
    authorize(p, Action::ManageStaff, &Target::township(p.township_id))?;
    let hash = password::hash(&req.password)?;
    write_tx(conn, |conn| {
        let scopes = resolve_roles(conn, p.township_id, &req.roles)?;
        if store::username_taken(conn, &req.username)? {
            return Err(AppError::Conflict(format!(
                "用户名 {} 已被使用",
                req.username
            )));
        }
        let row = store::insert_staff(
            conn,
            store::NewStaff {
                township_id: p.township_id,
                username: &req.username,
                password_hash: &hash,
                name: req.name.trim(),
                now: now.naive_utc(),
            },
        )
        .map_err(|e| unique_or(e, "用户名已被使用"))?;
        let villages = bind_roles(conn, row.id, scopes, now)?;
        let roles = roles_view(conn, row.id)?;
        let detail = json!({"username": row.username, "roles": roles});
        audit_staff(conn, c, &villages, "staff_create", row.id, &detail, now)?;
        Ok(staff_view(row, roles))
    })
}

/// The township renames a staff account, gives it other roles, or disables it (its
/// sign-ins end; a token already issued lasts out its 15 minutes, as for a role taken
/// away). The township's admin cannot lock themselves out.
pub fn update_staff(
    conn: &mut DbConnection,
    c: &Caller,
    staff_id: i64,
    req: &PatchStaff,
    now: DateTime<Utc>,
) -> AppResult<StaffView> {
    let p = &c.principal;
    authorize(p, Action::ManageStaff, &Target::township(p.township_id))?;
    write_tx(conn, |conn| {
        let before = township_staff(conn, p.township_id, staff_id)?;
        refuse_self_lockout(p, staff_id, req)?;
        let mut villages = staff_villages(conn, staff_id)?;
        if let Some(roles) = &req.roles {
            let scopes = resolve_roles(conn, p.township_id, roles)?;
            store::delete_roles(conn, staff_id)?;
            villages.extend(bind_roles(conn, staff_id, scopes, now)?);
        }
        if let Some(name) = &req.name {
            store::rename_staff(conn, staff_id, name.trim())?;
        }
        if let Some(active) = req.active {
            store::set_staff_active(conn, staff_id, active)?;
            if !active {
                crate::auth::service::end_staff_sign_ins(conn, staff_id, now)?;
            }
        }
        let row = township_staff(conn, p.township_id, staff_id)?;
        let roles = roles_view(conn, staff_id)?;
        let detail = json!({
            "username": row.username,
            "name": (before.name != row.name).then_some(&row.name),
            "active": (before.active != row.active).then_some(row.active),
            "roles": req.roles.is_some().then_some(&roles),
        });
        audit_staff(conn, c, &villages, "staff_update", staff_id, &detail, now)?;
        Ok(staff_view(row, roles))
    })
}

/// The township sets a new password for a staff member (who forgot theirs, or whose
/// password got out): their sign-ins end, the new password is told to them in person.
pub fn reset_staff_password(
    conn: &mut DbConnection,
    c: &Caller,
    staff_id: i64,
    req: &ResetPassword,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = &c.principal;
    authorize(p, Action::ManageStaff, &Target::township(p.township_id))?;
    // No account, no password hashed: hashing takes a password worker's second.
    township_staff(conn, p.township_id, staff_id)?;
    let hash = password::hash(&req.password)?;
    write_tx(conn, |conn| {
        let row = township_staff(conn, p.township_id, staff_id)?;
        store::set_staff_password(conn, staff_id, &hash)?;
        crate::auth::service::end_staff_sign_ins(conn, staff_id, now)?;
        let villages = staff_villages(conn, staff_id)?;
        let detail = json!({"username": row.username});
        audit_staff(
            conn,
            c,
            &villages,
            "staff_password_reset",
            staff_id,
            &detail,
            now,
        )
    })
}

/// A staff account of this township; another township's is not found.
fn township_staff(
    conn: &mut DbConnection,
    township_id: i64,
    staff_id: i64,
) -> AppResult<store::StaffRow> {
    store::staff_row(conn, staff_id)?
        .filter(|(_, township)| *township == township_id)
        .map(|(row, _)| row)
        .ok_or(AppError::NotFound)
}

fn refuse_self_lockout(p: &Principal, staff_id: i64, req: &PatchStaff) -> AppResult<()> {
    if staff_id != p.id {
        return Ok(());
    }
    if req.active == Some(false) {
        return Err(AppError::field("active", "不能停用自己的账号"));
    }
    let keeps_admin = req.roles.as_ref().is_none_or(|roles| {
        roles
            .iter()
            .any(|r| r.role == RoleName::TownshipAdmin && r.scope_id == p.township_id)
    });
    if !keeps_admin {
        return Err(AppError::field(
            "roles",
            "不能去掉自己的乡镇管理员身份，请让另一位管理员来改",
        ));
    }
    Ok(())
}

/// The roles asked for, each checked against the township; its village where it has one.
fn resolve_roles<'a>(
    conn: &mut DbConnection,
    township_id: i64,
    roles: &'a [RoleRequest],
) -> AppResult<Vec<(&'a RoleRequest, Option<i64>)>> {
    let mut scopes = Vec::new();
    let mut errors = Vec::new();
    for (index, role) in roles.iter().enumerate() {
        match resolve_scope(conn, township_id, index, role) {
            Ok(village_id) => scopes.push((role, village_id)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(scopes)
}

/// Binds the roles to the account, each once; the villages they reach.
fn bind_roles(
    conn: &mut DbConnection,
    staff_id: i64,
    mut scopes: Vec<(&RoleRequest, Option<i64>)>,
    now: DateTime<Utc>,
) -> AppResult<std::collections::BTreeSet<i64>> {
    let villages = scopes.iter().filter_map(|(_, v)| *v).collect();
    scopes.sort_by_key(|(r, _)| (r.role.as_str(), r.scope_id));
    scopes.dedup_by_key(|(r, _)| (r.role, r.scope_id));
    for (role, village_id) in scopes {
        store::insert_role(
            conn,
            staff_id,
            role.role,
            role.scope_id,
            village_id,
            now.naive_utc(),
        )?;
    }
    Ok(villages)
}

/// The villages the account's roles reach now.
fn staff_villages(
    conn: &mut DbConnection,
    staff_id: i64,
) -> AppResult<std::collections::BTreeSet<i64>> {
    Ok(crate::auth::service::role_bindings(conn, staff_id)?
        .into_iter()
        .filter_map(|b| b.village_id)
        .collect())
}

/// A change to a staff account goes in the audit trail of every village it touches.
fn audit_staff(
    tx: &mut Tx<'_>,
    c: &Caller,
    villages: &std::collections::BTreeSet<i64>,
    action: &str,
    staff_id: i64,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for village_id in villages {
        audit_change(
            tx,
            c,
            *village_id,
            action,
            ("staff", staff_id),
            detail.clone(),
            now,
        )?;
    }
    Ok(())
}
