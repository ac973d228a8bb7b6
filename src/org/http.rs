//! Organisation endpoints (API.md "Organisation").

use actix_multipart::Multipart;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::*;
use super::service;
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::{FileUpload, Json, ValidJson, ValidQuery, created, json, read_file_part};
use crate::paging::{Page, PageQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_villages)
        .service(create_village)
        .service(get_village)
        .service(patch_village)
        .service(list_groups)
        .service(create_group)
        .service(list_households)
        .service(create_household)
        .service(import_households)
        .service(households_template)
        .service(get_household)
        .service(patch_household)
        .service(list_members)
        .service(add_member)
        .service(patch_member)
        .service(unbind_wechat)
        .service(sign_out_member)
        .service(create_invite)
        .service(list_staff)
        .service(create_staff)
        .service(patch_staff)
        .service(reset_staff_password);
}

/// Villages the caller works in (all of the township for its administrators).
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of villages", body = Page<VillageView>),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Villagers cannot list villages"),
    )
)]
#[get("/villages")]
async fn list_villages(
    state: web::Data<AppState>,
    p: Principal,
    q: ValidQuery<PageQuery>,
) -> Json<Page<VillageView>> {
    json(&state.db, move |conn| {
        service::list_villages(conn, &p, &q.0)
    })
    .await
}

/// Opens a village with its policy (defaults where not given).
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    request_body = CreateVillage,
    responses(
        (status = 201, description = "The new village", body = VillageView),
        (status = 403, description = "Only the township administrator opens villages"),
        (status = 409, description = "The code is taken"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[post("/villages")]
async fn create_village(
    state: web::Data<AppState>,
    c: Caller,
    body: ValidJson<CreateVillage>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let village = state
        .db
        .run(move |conn| service::create_village(conn, &c, &body.0, now))
        .await?;
    Ok(created(&village))
}

/// One village with its policy.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    responses(
        (status = 200, description = "The village", body = VillageView),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}")]
async fn get_village(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<VillageView> {
    let id = id.into_inner();
    json(&state.db, move |conn| service::get_village(conn, &p, id)).await
}

/// Renames a village or changes the policy fields named in `policy`.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = PatchVillage,
    responses(
        (status = 200, description = "The changed village", body = VillageView),
        (status = 403, description = "Only the committee or township may change it"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 422, description = "A field is invalid, e.g. `policy.notice_days`"),
    )
)]
#[patch("/villages/{village_id}")]
async fn patch_village(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<PatchVillage>,
) -> Json<VillageView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::patch_village(conn, &c, id, &body.0, now)
    })
    .await
}

/// The village's groups (村民小组).
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), PageQuery),
    responses(
        (status = 200, description = "A page of groups", body = Page<GroupView>),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/groups")]
async fn list_groups(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> Json<Page<GroupView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        service::list_groups(conn, &p, id, &q.0)
    })
    .await
}

/// Adds a group to the village.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = CreateGroup,
    responses(
        (status = 201, description = "The new group", body = GroupView),
        (status = 403, description = "Only the committee adds groups"),
        (status = 409, description = "A group of that name exists"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[post("/villages/{village_id}/groups")]
async fn create_group(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CreateGroup>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let group = state
        .db
        .run(move |conn| service::create_group(conn, &c, id, &body.0, now))
        .await?;
    Ok(created(&group))
}

/// Households of the village, searchable by door number or head's name; a group
/// leader sees the households of their group.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id"), HouseholdFilter),
    responses(
        (status = 200, description = "A page of households", body = Page<HouseholdView>),
        (status = 403, description = "The caller may not list households"),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/households")]
async fn list_households(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    q: ValidQuery<HouseholdFilter>,
) -> Json<Page<HouseholdView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| {
        service::list_households(conn, &p, id, &q.0)
    })
    .await
}

/// Adds a household; its head becomes its first member.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = CreateHousehold,
    responses(
        (status = 201, description = "The new household", body = HouseholdView),
        (status = 403, description = "Only the committee adds households"),
        (status = 409, description = "The door number is taken"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[post("/villages/{village_id}/households")]
async fn create_household(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CreateHousehold>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let household = state
        .db
        .run(move |conn| service::create_household(conn, &c, id, &body.0, now))
        .await?;
    Ok(created(&household))
}

/// Imports households from CSV or XLSX: all rows or none. Known door numbers are
/// updated, new ones created, groups created when new.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Counts of households created and updated", body = ImportResult),
        (status = 403, description = "Only the committee imports"),
        (status = 413, description = "File larger than 5 MB"),
        (status = 422, description = "Every bad row, as `row N: column`"),
    )
)]
#[post("/villages/{village_id}/households/import")]
async fn import_households(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    form: Multipart,
) -> Json<ImportResult> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let file = read_file_part(form).await?;
    json(&state.db, move |conn| {
        service::import_households(conn, &c, id, &file, now)
    })
    .await
}

/// The household import template: 门牌号, 户主, 小组 (a drop-down of the village's
/// groups), 电话 and 成员, door and phone columns kept as text, and how to fill each.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    responses(
        (status = 200, description = "An XLSX workbook: the sheet to fill and a sheet 填写说明", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "Only the committee imports households"),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/households/import/template")]
async fn households_template(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Result<actix_web::HttpResponse, AppError> {
    let id = id.into_inner();
    crate::http::download(&state.db, move |conn| {
        service::households_template(conn, &p, id)
    })
    .await
}

/// One household.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    responses(
        (status = 200, description = "The household", body = HouseholdView),
        (status = 404, description = "No such household in the caller's scope"),
    )
)]
#[get("/households/{household_id}")]
async fn get_household(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<HouseholdView> {
    let id = id.into_inner();
    json(&state.db, move |conn| service::get_household(conn, &p, id)).await
}

/// Changes a household; a villager may change only their own phone number.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    request_body = PatchHousehold,
    responses(
        (status = 200, description = "The changed household", body = HouseholdView),
        (status = 403, description = "Not allowed to change these fields"),
        (status = 404, description = "No such household in the caller's scope"),
        (status = 409, description = "The door number is taken"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[patch("/households/{household_id}")]
async fn patch_household(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<PatchHousehold>,
) -> Json<HouseholdView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::patch_household(conn, &c, id, &body.0, now)
    })
    .await
}

/// Changes a member: name, relation, phone, or standing (`active: false` ends every
/// sign-in and WeChat binding of the member, who stays in history).
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("member_id" = i64, Path, description = "Member id")),
    request_body = PatchMember,
    responses(
        (status = 200, description = "The changed member", body = MemberView),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Only the committee manages members"),
        (status = 404, description = "No such member in the caller's scope"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[patch("/members/{member_id}")]
async fn patch_member(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<PatchMember>,
) -> Json<MemberView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::patch_member(conn, &c, id, &body.0, now)
    })
    .await
}

/// Unbinds every WeChat openid of a member (a lost phone) and ends all of the member's
/// sign-ins; the member can sign in again with a new invite code.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("member_id" = i64, Path, description = "Member id")),
    responses(
        (status = 204, description = "Unbound and signed out everywhere"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Only the committee manages members"),
        (status = 404, description = "No such member in the caller's scope"),
    )
)]
#[delete("/members/{member_id}/wechat")]
async fn unbind_wechat(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    sign_out(&state, c, id.into_inner(), true).await
}

/// Ends all of a member's page sessions, refresh tokens and access tokens at once (a
/// phone passed on); WeChat stays bound.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("member_id" = i64, Path, description = "Member id")),
    responses(
        (status = 204, description = "Signed out everywhere"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Only the committee manages members"),
        (status = 404, description = "No such member in the caller's scope"),
    )
)]
#[delete("/members/{member_id}/sessions")]
async fn sign_out_member(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    sign_out(&state, c, id.into_inner(), false).await
}

/// Ends a member's sign-ins (and with `wechat` their WeChat bindings): 204.
async fn sign_out(
    state: &AppState,
    c: Caller,
    member_id: i64,
    wechat: bool,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    state
        .db
        .run(move |conn| service::sign_out_member(conn, &c, member_id, wechat, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Members of a household.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    responses(
        (status = 200, description = "All members (one page)", body = Page<MemberView>),
        (status = 404, description = "No such household in the caller's scope"),
    )
)]
#[get("/households/{household_id}/members")]
async fn list_members(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<Page<MemberView>> {
    let id = id.into_inner();
    json(&state.db, move |conn| service::list_members(conn, &p, id)).await
}

/// Adds a member to a household.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    request_body = CreateMember,
    responses(
        (status = 201, description = "The new member", body = MemberView),
        (status = 403, description = "Only the committee adds members"),
        (status = 404, description = "No such household in the caller's scope"),
        (status = 422, description = "A field is invalid"),
    )
)]
#[post("/households/{household_id}/members")]
async fn add_member(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CreateMember>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let member = state
        .db
        .run(move |conn| service::add_member(conn, &c, id, &body.0, now))
        .await?;
    Ok(created(&member))
}

/// Makes a single-use invite code (valid 14 days) for a member to sign in with; the
/// member's earlier unused codes stop working.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("household_id" = i64, Path, description = "Household id")),
    request_body = CreateInvite,
    responses(
        (status = 201, description = "The invite code, shown only this once", body = InviteView),
        (status = 403, description = "Only the committee makes invites"),
        (status = 404, description = "No such household in the caller's scope"),
        (status = 409, description = "`invalid_state`: the household or the member is deactivated"),
        (status = 422, description = "The member is not of this household"),
    )
)]
#[post("/households/{household_id}/invites")]
async fn create_invite(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CreateInvite>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let pepper = state.auth.pepper.clone();
    let invite = state
        .db
        .run(move |conn| service::create_invite(conn, &pepper, &c, id, &body.0, now))
        .await?;
    Ok(created(&invite))
}

/// Staff accounts of the township.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of staff accounts", body = Page<StaffView>),
        (status = 403, description = "Only the township administrator manages staff"),
    )
)]
#[get("/staff")]
async fn list_staff(
    state: web::Data<AppState>,
    p: Principal,
    q: ValidQuery<PageQuery>,
) -> Json<Page<StaffView>> {
    json(&state.db, move |conn| service::list_staff(conn, &p, &q.0)).await
}

/// Creates a staff account with its role bindings.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    request_body = CreateStaff,
    responses(
        (status = 201, description = "The new account", body = StaffView),
        (status = 403, description = "Only the township administrator manages staff"),
        (status = 409, description = "The username is taken"),
        (status = 422, description = "A field is invalid, e.g. `roles[0].scope_id`"),
    )
)]
#[post("/staff")]
async fn create_staff(
    state: web::Data<AppState>,
    c: Caller,
    body: ValidJson<CreateStaff>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let staff = state
        .db
        .run(move |conn| service::create_staff(conn, &c, &body.0, now))
        .await?;
    Ok(created(&staff))
}

/// Renames a staff account, replaces its roles, or disables or enables it.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("staff_id" = i64, Path, description = "Staff id")),
    request_body = PatchStaff,
    responses(
        (status = 200, description = "The changed account", body = StaffView),
        (status = 403, description = "Only the township administrator manages staff"),
        (status = 404, description = "No such staff account in the township"),
        (status = 422, description = "A field is invalid, e.g. `roles[0].scope_id`, or the administrator would lock themselves out (`active`, `roles`)"),
    )
)]
#[patch("/staff/{staff_id}")]
async fn patch_staff(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<PatchStaff>,
) -> Json<StaffView> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| {
        service::update_staff(conn, &c, id, &body.0, now)
    })
    .await
}

/// Sets a new password for a staff member; their sign-ins end.
#[utoipa::path(
    tag = "organisation",
    security(("bearer" = [])),
    params(("staff_id" = i64, Path, description = "Staff id")),
    request_body = ResetPassword,
    responses(
        (status = 204, description = "The password is set"),
        (status = 403, description = "Only the township administrator manages staff"),
        (status = 404, description = "No such staff account in the township"),
        (status = 422, description = "`password` is too short"),
    )
)]
#[post("/staff/{staff_id}/password")]
async fn reset_staff_password(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<ResetPassword>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    state
        .db
        .run(move |conn| service::reset_staff_password(conn, &c, id, &body.0, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
