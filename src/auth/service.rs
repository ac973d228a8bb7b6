//! Sign-in use cases. Each runs in one database transaction where it writes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::context::Auth;
use super::model::{Principal, PrincipalKind, RoleBinding, RoleName, ScopeKind};
use super::rate_limit::SignInLimits;
use super::secrets::{Pepper, random_digits, random_token, sha256_hex};
use super::store::{self, MemberIdentity};
use super::token::TokenKeys;
use super::token::{ACCESS_TTL, REFRESH_TTL, Subject, Verified};
use crate::db::{Db, DbConnection, Tx, reference, write_tx};
use crate::error::{AppError, AppResult};
use diesel::QueryResult;

/// Invite codes are ten digits: easy to type on a phone, rate-limited against guessing.
pub const INVITE_DIGITS: usize = 10;
pub const INVITE_TTL: Duration = Duration::days(14);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 64, message = "请填写用户名"))]
    #[schema(example = "qingle-committee", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub username: String,
    #[validate(length(min = 1, max = 256, message = "请填写密码"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 512, message = "请提供刷新凭证"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// The ten digits on the invite slip; spaces and dashes are ignored.
    #[validate(length(min = 1, max = 64, message = "请填写邀请码"))]
    #[schema(
        example = "3841 0926 57",
        min_length = 1,
        max_length = 64,
        pattern = "^[ -]*([0-9][ -]*){10}$"
    )]
    #[validate(custom(function = "crate::text::single_line"))]
    pub invite_code: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub role: RoleName,
    pub scope: ScopeKind,
    pub scope_id: i64,
}

/// The signed-in caller (`GET /api/v1/me`). Never carries hashes, PINs or tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: i64,
    pub kind: PrincipalKind,
    pub name: String,
    pub roles: Vec<RoleView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub village_id: Option<i64>,
}

impl From<&Principal> for MeView {
    fn from(p: &Principal) -> Self {
        let household = p.roles.iter().find(|b| b.role == RoleName::Villager);
        MeView {
            id: p.id,
            kind: p.kind,
            name: p.name.clone(),
            roles: p.roles.iter().map(RoleView::from).collect(),
            household_id: household.map(|b| b.scope_id),
            village_id: household.and_then(|b| b.village_id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    pub user: MeView,
}

pub fn staff_id_by_username(conn: &mut DbConnection, username: &str) -> AppResult<Option<i64>> {
    Ok(store::staff_by_username(conn, username)?.map(|s| s.id))
}

/// The role bindings of a staff account, as shown to clients.
pub fn roles_view(conn: &mut DbConnection, staff_id: i64) -> AppResult<Vec<RoleView>> {
    Ok(store::roles_of_staff(conn, staff_id)?
        .into_iter()
        .map(|b| RoleView::from(&b))
        .collect())
}

impl From<&RoleBinding> for RoleView {
    fn from(b: &RoleBinding) -> Self {
        RoleView {
            role: b.role,
            scope: b.role.scope(),
            scope_id: b.scope_id,
        }
    }
}

/// Loads the caller behind an access token: like [`load_principal`], and a villager's
/// token issued before they were signed out everywhere (a lost phone) no longer counts.
pub fn load_token_principal(conn: &mut DbConnection, token: Verified) -> AppResult<Principal> {
    match token.subject.kind {
        PrincipalKind::Villager => {
            villager_of_token(&token, store::member_identity(conn, token.subject.id)?)
        }
        PrincipalKind::Staff => load_principal(conn, token.subject),
    }
}

/// The caller behind an access token from the server's fresh copies of its rows (see
/// `db::reference`), without a database connection; None when a row must be read.
pub fn cached_token_principal(db: &Db, token: &Verified) -> Option<AppResult<Principal>> {
    match token.subject.kind {
        PrincipalKind::Villager => {
            let member = db.fresh_reference::<MemberIdentity>(token.subject.id)?;
            Some(villager_of_token(token, Some(member)))
        }
        PrincipalKind::Staff => db
            .fresh_reference::<StaffPrincipal>(token.subject.id)
            .map(|StaffPrincipal(p)| Ok(p)),
    }
}

fn villager_of_token(token: &Verified, member: Option<MemberIdentity>) -> AppResult<Principal> {
    let member = member.ok_or(AppError::Unauthenticated("账号已停用，请重新登录。"))?;
    if member
        .signed_out_at
        .is_some_and(|at| token.issued_at < at.and_utc().timestamp())
    {
        return Err(AppError::Unauthenticated("已在别处退出登录，请重新登录。"));
    }
    Ok(villager_principal(member))
}

/// Ends every sign-in of a member at once: refresh tokens, page sessions, and (through
/// the member's `signed_out_at`, which the caller sets) access tokens already issued.
pub fn end_member_sign_ins(tx: &mut Tx<'_>, member_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let member = Subject {
        kind: PrincipalKind::Villager,
        id: member_id,
    };
    Ok(store::revoke_sign_ins(tx, member, now.naive_utc())?)
}

/// Ends a staff member's refresh tokens and page sessions (disabled, or given a new
/// password); an access token already issued lasts out its minutes.
pub fn end_staff_sign_ins(tx: &mut Tx<'_>, staff_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let staff = Subject {
        kind: PrincipalKind::Staff,
        id: staff_id,
    };
    Ok(store::revoke_sign_ins(tx, staff, now.naive_utc())?)
}

/// The role bindings of a staff account as stored.
pub fn role_bindings(conn: &mut DbConnection, staff_id: i64) -> AppResult<Vec<RoleBinding>> {
    Ok(store::roles_of_staff(conn, staff_id)?)
}

/// Forgets the member's WeChat openids; how many there were.
pub fn unbind_wechat(tx: &mut Tx<'_>, member_id: i64) -> AppResult<usize> {
    Ok(store::unbind_wechat(tx, member_id)?)
}

/// Which of these members have WeChat bound.
pub fn wechat_bound(conn: &mut DbConnection, member_ids: &[i64]) -> AppResult<Vec<i64>> {
    Ok(store::wechat_bound(conn, member_ids)?)
}

/// Loads the caller behind a token; an account that is gone or disabled is signed out.
/// The caller is a reference row (see `db::reference`): a change to staff, roles or
/// members made on this server counts at once, one made on another within seconds.
pub fn load_principal(conn: &mut DbConnection, subject: Subject) -> AppResult<Principal> {
    let gone = AppError::Unauthenticated("账号已停用，请重新登录。");
    match subject.kind {
        PrincipalKind::Staff => {
            let staff = reference::get(subject.id, || read_staff_principal(conn, subject.id))?;
            staff.map(|StaffPrincipal(p)| p).ok_or(gone)
        }
        PrincipalKind::Villager => store::member_identity(conn, subject.id)?
            .map(villager_principal)
            .ok_or(gone),
    }
}

fn villager_principal(member: MemberIdentity) -> Principal {
    Principal {
        id: member.member_id,
        kind: PrincipalKind::Villager,
        name: member.name,
        township_id: member.township_id,
        roles: vec![RoleBinding {
            role: RoleName::Villager,
            scope_id: member.household_id,
            village_id: Some(member.village_id),
        }],
    }
}

/// An active staff account with its roles, as one kind of reference row.
#[derive(Clone)]
struct StaffPrincipal(Principal);

fn read_staff_principal(conn: &mut DbConnection, id: i64) -> QueryResult<Option<StaffPrincipal>> {
    let Some(staff) = store::staff_by_id(conn, id)?.filter(|s| s.active) else {
        return Ok(None);
    };
    Ok(Some(StaffPrincipal(Principal {
        id: staff.id,
        kind: PrincipalKind::Staff,
        name: staff.name,
        township_id: staff.township_id,
        roles: store::roles_of_staff(conn, staff.id)?,
    })))
}

fn issue_pair(
    tx: &mut Tx<'_>,
    keys: &TokenKeys,
    subject: Subject,
    family: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let principal = load_principal(tx, subject)?;
    let refresh_token = random_token();
    let family = family.map_or_else(random_token, str::to_owned);
    let (staff_id, member_id) = match subject.kind {
        PrincipalKind::Staff => (Some(subject.id), None),
        PrincipalKind::Villager => (None, Some(subject.id)),
    };
    store::insert_refresh_token(
        tx,
        &store::NewRefreshToken {
            token_hash: &sha256_hex(&refresh_token),
            family: &family,
            staff_id,
            member_id,
            expires_at: (now + REFRESH_TTL).naive_utc(),
            created_at: now.naive_utc(),
        },
    )?;
    Ok(TokenPair {
        access_token: keys.issue(subject, now)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL.num_seconds(),
        user: MeView::from(&principal),
    })
}

/// Staff sign-in by username and password, limited per username and address.
pub async fn login(
    auth: std::sync::Arc<Auth>,
    req: &LoginRequest,
    addr: &str,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let subject = authenticate_staff(&auth, req, addr, now).await?;
    let db = auth.db.clone();
    db.run(move |conn| write_tx(conn, |tx| issue_pair(tx, &auth.keys, subject, None, now)))
        .await
}

/// Checks a staff username and password (rate-limited, see [`SignInLimits`]). The
/// password is checked on a password worker, holding no database connection.
///
/// [`SignInLimits`]: super::rate_limit::SignInLimits
pub async fn authenticate_staff(
    auth: &Auth,
    req: &LoginRequest,
    addr: &str,
    now: DateTime<Utc>,
) -> AppResult<Subject> {
    let username = req.username.trim().to_lowercase();
    let (lookup, at) = (username.clone(), addr.to_owned());
    let limits = auth.limits;
    let (attempt, staff) = auth
        .db
        .run(move |conn| {
            let attempt = limits.password_attempt(conn, &lookup, &at, now)?;
            Ok((attempt, store::staff_by_username(conn, &lookup)?))
        })
        .await?;
    let password_ok = auth
        .passwords
        .verify(
            req.password.clone(),
            staff.as_ref().map(|s| s.password_hash.clone()),
        )
        .await?;
    let staff = staff.filter(|s| password_ok && s.active);
    let limits = auth.limits;
    let Some(staff) = staff else {
        tracing::info!(username = %username, addr = %addr, "staff sign-in refused");
        // The attempt stays counted: it was a failure.
        drop(attempt);
        return Err(AppError::Unauthenticated("用户名或密码不对。"));
    };
    auth.db
        .run(move |conn| limits.password_accepted(conn, attempt))
        .await?;
    Ok(Subject::staff(staff.id))
}

enum Rotation {
    Issued(Box<TokenPair>),
    Refused,
}

/// Trades a refresh token for a new pair. A token presented twice means it leaked or a
/// client misbehaved: the whole family is revoked.
pub fn refresh(
    conn: &mut DbConnection,
    keys: &TokenKeys,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    let hash = sha256_hex(token);
    let rotation = write_tx(conn, |conn| {
        let Some(row) = store::refresh_token_by_hash(conn, &hash)? else {
            return Ok(Rotation::Refused);
        };
        if row.revoked_at.is_some() || row.expires_at <= now.naive_utc() {
            return Ok(Rotation::Refused);
        }
        if row.used_at.is_some() || !store::use_refresh_token(conn, row.id, now.naive_utc())? {
            tracing::warn!(
                family_row = row.id,
                "refresh token reused; revoking its family"
            );
            store::revoke_family(conn, &row.family, now.naive_utc())?;
            return Ok(Rotation::Refused);
        }
        let subject = match (row.staff_id, row.member_id) {
            (Some(id), _) => Subject::staff(id),
            (None, Some(id)) => Subject::villager(id),
            (None, None) => return Ok(Rotation::Refused),
        };
        issue_pair(conn, keys, subject, Some(&row.family), now)
            .map(|p| Rotation::Issued(Box::new(p)))
    })?;
    match rotation {
        Rotation::Issued(pair) => Ok(*pair),
        Rotation::Refused => Err(AppError::Unauthenticated("登录已失效，请重新登录。")),
    }
}

/// Revokes the refresh token and every token rotated from the same sign-in.
pub fn logout(conn: &mut DbConnection, token: &str, now: DateTime<Utc>) -> AppResult<()> {
    let now = now.naive_utc();
    let hash = sha256_hex(token);
    write_tx(conn, |conn| {
        if let Some(row) = store::refresh_token_by_hash(conn, &hash)? {
            store::revoke_family(conn, &row.family, now)?;
        }
        Ok(())
    })
}

/// Digits only, so `3841-0926 57` and `3841092657` are the same code.
fn normalize_invite(code: &str) -> AppResult<String> {
    let digits: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != INVITE_DIGITS || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::field("invite_code", "邀请码是 10 位数字"));
    }
    Ok(digits)
}

/// Uses up an invite code, inside the caller's transaction, and returns its member.
/// Run it through [`with_villager_attempt`], which limits the attempts.
pub fn redeem_invite(
    tx: &mut Tx<'_>,
    pepper: &Pepper,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let code = normalize_invite(code)?;
    store::consume_invite(tx, &pepper.hash(&code), now.naive_utc())?.ok_or(
        AppError::Unauthenticated("邀请码不对、已用过或已过期，请向村委会要一张新的。"),
    )
}

/// Runs a villager's sign-in (`work`, its own transaction: an invite code, or a household
/// card and its PIN) as one counted attempt: outside that transaction, so a failure stays
/// counted although the work rolls back. A refusal of the code or card counts as a
/// failure, and a wrong PIN's count on the card is kept; a malformed request counts for
/// nothing.
pub fn with_villager_attempt<T>(
    conn: &mut DbConnection,
    limits: &SignInLimits,
    addr: &str,
    now: DateTime<Utc>,
    work: impl FnOnce(&mut Tx<'_>) -> AppResult<T>,
) -> AppResult<T> {
    let attempt = limits.invite_attempt(conn, addr, now)?;
    let result = write_tx(conn, |tx| match work(tx) {
        Err(err) if err.keeps_effects() => Ok(Err(err)),
        other => other.map(Ok),
    })
    .and_then(|kept| kept);
    match &result {
        Ok(_) => limits.invite_accepted(conn, attempt, addr, now)?,
        Err(err) if err.is_refused_credential() => drop(attempt),
        Err(_) => limits.give_back(conn, attempt)?,
    }
    result
}

/// Villager sign-in with a single-use invite code.
pub fn sign_in_with_invite(
    conn: &mut DbConnection,
    auth: &Auth,
    code: &str,
    addr: &str,
    now: DateTime<Utc>,
) -> AppResult<TokenPair> {
    with_villager_attempt(conn, &auth.limits, addr, now, |tx| {
        let member_id = redeem_invite(tx, &auth.pepper, code, now)?;
        issue_pair(tx, &auth.keys, Subject::villager(member_id), None, now)
    })
}

/// A fresh invite code for a member; earlier unused codes for the member stop working.
/// Runs inside the caller's transaction.
pub fn issue_invite(
    tx: &mut Tx<'_>,
    pepper: &Pepper,
    member: InviteFor,
    now: DateTime<Utc>,
) -> AppResult<(String, DateTime<Utc>)> {
    let code = random_digits(INVITE_DIGITS);
    let expires_at = now + INVITE_TTL;
    store::replace_invite(
        tx,
        &store::NewInvite {
            village_id: member.village_id,
            household_id: member.household_id,
            member_id: member.member_id,
            code_hash: &pepper.hash(&code),
            created_by: member.created_by,
            expires_at: expires_at.naive_utc(),
            created_at: now.naive_utc(),
        },
    )?;
    Ok((code, expires_at))
}

pub struct InviteFor {
    pub village_id: i64,
    pub household_id: i64,
    pub member_id: i64,
    pub created_by: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_ignore_spaces_and_dashes() {
        assert_eq!(normalize_invite("3841 0926-57").unwrap(), "3841092657");
        assert!(normalize_invite("38410926").is_err());
        assert!(normalize_invite("38410926ab").is_err());
    }
}
