//! Organisation types, requests and views, and the masking rule for names.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::policy::{PolicyPatch, VillagePolicy};
use crate::auth::RoleName;
use crate::auth::service::RoleView;

/// `张小明` → `张*明`, `张三` → `张*`: the form shown to anyone who may not see the full
/// name (API.md: phone numbers and full names only to committee, supervisor, township).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

fn valid_code(code: &str) -> Result<(), validator::ValidationError> {
    let ok = (2..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("code")
            .with_message("只能用 2–32 个小写字母、数字或 -".into()))
    }
}

fn valid_phone(phone: &str) -> Result<(), validator::ValidationError> {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let ok = (5..=20).contains(&digits)
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '));
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("phone").with_message("不是有效的电话号码".into()))
    }
}

fn valid_username(name: &str) -> Result<(), validator::ValidationError> {
    let ok = (3..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("username")
            .with_message("只能用 3–32 个小写字母、数字或 - _ .".into()))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TownshipView {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VillageView {
    pub id: i64,
    pub township_id: i64,
    #[schema(example = "qingle")]
    pub code: String,
    #[schema(example = "庆乐村")]
    pub name: String,
    pub policy: VillagePolicy,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVillage {
    #[validate(length(min = 1, max = 64, message = "请填写 1–64 个字的村名"))]
    #[schema(example = "庆乐村", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: String,
    #[validate(custom(function = "valid_code"))]
    #[schema(example = "qingle", pattern = "^[a-z0-9-]{2,32}$")]
    #[validate(custom(function = "crate::text::single_line"))]
    pub code: String,
    #[validate(nested)]
    pub policy: Option<PolicyPatch>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchVillage {
    #[validate(length(min = 1, max = 64, message = "请填写 1–64 个字的村名"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    #[validate(nested)]
    pub policy: Option<PolicyPatch>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub id: i64,
    pub village_id: i64,
    #[schema(example = "第一村民小组")]
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    #[validate(length(min = 1, max = 32, message = "请填写 1–32 个字的组名"))]
    #[schema(example = "第一村民小组", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: String,
}

/// A household as the caller may see it: `head_name` and `phone` only for those
/// allowed contact details (and the household itself); `display_name` always masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdView {
    pub id: i64,
    pub village_id: i64,
    pub group_id: Option<i64>,
    #[schema(example = "庆乐村3组12号")]
    pub door_no: String,
    #[schema(example = "张*明")]
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "张小明")]
    pub head_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// False once the committee has deactivated it: kept in history, its members can no
    /// longer sign in, earn or spend.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHousehold {
    #[validate(length(min = 1, max = 32, message = "请填写 1–32 个字的门牌号"))]
    #[schema(example = "12号", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub door_no: String,
    #[validate(length(min = 1, max = 32, message = "请填写户主姓名"))]
    #[schema(example = "张小明", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub head_name: String,
    pub group_id: Option<i64>,
    #[validate(custom(function = "valid_phone"))]
    #[schema(example = "13800138000", pattern = "^[-+ ]*([0-9][-+ ]*){5,20}$")]
    #[validate(custom(function = "crate::text::single_line"))]
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchHousehold {
    #[validate(length(min = 1, max = 32, message = "请填写 1–32 个字的门牌号"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 32)]
    pub door_no: Option<String>,
    #[validate(length(min = 1, max = 32, message = "请填写户主姓名"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 32)]
    pub head_name: Option<String>,
    /// A group id, or null to take the household out of its group.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub group_id: Option<Option<i64>>,
    /// A phone number, or null to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "valid_phone"))]
    #[schema(value_type = Option<String>, pattern = "^[-+ ]*([0-9][-+ ]*){5,20}$")]
    #[validate(custom(function = "crate::text::single_line"))]
    pub phone: Option<Option<String>>,
    /// False deactivates the household (committee only): every member's sign-ins end.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub household_id: i64,
    #[schema(example = "张小明")]
    pub name: String,
    #[schema(example = "户主")]
    pub relation: String,
    /// Only for those who see the household's contact details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub active: bool,
    /// Whether a WeChat account signs this member in (committee and supervisors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechat_bound: Option<bool>,
    pub created_at: DateTime<Utc>,
}

/// A change to a member; fields not named stay as they are.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMember {
    #[validate(length(min = 1, max = 32, message = "请填写姓名"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 32)]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 16, message = "请填写与户主的关系"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 16)]
    pub relation: Option<String>,
    /// A phone number, or null to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "valid_phone"))]
    #[schema(value_type = Option<String>, pattern = "^[-+ ]*([0-9][-+ ]*){5,20}$")]
    #[validate(custom(function = "crate::text::single_line"))]
    pub phone: Option<Option<String>>,
    /// False deactivates the member: their sign-ins and WeChat bindings end.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    #[validate(length(min = 1, max = 32, message = "请填写姓名"))]
    #[schema(example = "李秀英", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: String,
    #[validate(length(min = 1, max = 16, message = "请填写与户主的关系"))]
    #[schema(example = "配偶", min_length = 1, max_length = 16)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub relation: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    pub member_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InviteView {
    /// Ten digits to hand to the villager; shown once, stored only as a hash.
    #[schema(example = "3841092657")]
    pub invite_code: String,
    pub expires_at: DateTime<Utc>,
    pub member_id: i64,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: RoleName,
    /// Township id, village id, group id or shop id, as the role asks.
    pub scope_id: i64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    #[validate(custom(function = "valid_username"))]
    #[schema(example = "qingle-wang", pattern = "^[a-z0-9._-]{3,32}$")]
    #[validate(custom(function = "crate::text::single_line"))]
    pub username: String,
    #[validate(length(min = 8, max = 256, message = "密码至少 8 位"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    #[validate(length(min = 1, max = 32, message = "请填写姓名"))]
    #[schema(example = "王建国", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: String,
    #[validate(length(min = 1, max = 20, message = "至少给一个角色"), nested)]
    #[schema(min_items = 1, max_items = 20)]
    pub roles: Vec<RoleRequest>,
}

/// What the township changes of a staff account; what it leaves out stays.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchStaff {
    #[validate(length(min = 1, max = 32, message = "请填写姓名"))]
    #[schema(example = "王建国", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub name: Option<String>,
    /// Every role the account holds from now on (replaces the old ones).
    #[validate(length(min = 1, max = 20, message = "至少给一个角色"), nested)]
    #[schema(min_items = 1, max_items = 20)]
    pub roles: Option<Vec<RoleRequest>>,
    /// false: the account is disabled and its sign-ins end.
    pub active: Option<bool>,
}

/// A new password the township sets for a staff member who forgot theirs.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    #[validate(length(min = 8, max = 256, message = "密码至少 8 位"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaffView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub active: bool,
    pub roles: Vec<RoleView>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HouseholdFilter {
    /// Part of a door number or head's name.
    #[validate(length(max = 32, message = "最多 32 个字"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[param(max_length = 32)]
    pub q: Option<String>,
    pub group_id: Option<i64>,
    #[validate(range(min = 1, max = 500, message = "须在 1 到 500 之间"))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub created: usize,
    pub updated: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_in_the_middle() {
        assert_eq!(mask_name("张小明"), "张*明");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
        assert_eq!(mask_name("李"), "*");
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let p: PatchHousehold = serde_json::from_str(r#"{"phone": null}"#).unwrap();
        assert_eq!(p.phone, Some(None));
        let p: PatchHousehold = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.phone, None);
    }
}
