//! Who is asking: staff with role bindings, or a villager acting for a household.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::text_state! {
    pub enum RoleName {
        TownshipAdmin = "township_admin",
        Committee = "committee",
        Supervisor = "supervisor",
        GroupLeader = "group_leader",
        Shopkeeper = "shopkeeper",
        Villager = "villager",
    }
}

impl RoleName {
    /// What kind of thing `scope_id` names for this role.
    pub fn scope(self) -> ScopeKind {
        match self {
            RoleName::TownshipAdmin => ScopeKind::Township,
            RoleName::Committee | RoleName::Supervisor => ScopeKind::Village,
            RoleName::GroupLeader => ScopeKind::Group,
            RoleName::Shopkeeper => ScopeKind::Shop,
            RoleName::Villager => ScopeKind::Household,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Township,
    Village,
    Group,
    Shop,
    Household,
}

/// A role held over one scope. `village_id` is filled for roles inside a village
/// (committee, supervisor, group leader, villager).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleBinding {
    pub role: RoleName,
    pub scope_id: i64,
    pub village_id: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Staff,
    Villager,
}

/// The signed-in caller, loaded fresh from the database on every request so that a
/// removed role or a deactivated account takes effect at once.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Staff id, or member id for a villager.
    pub id: i64,
    pub kind: PrincipalKind,
    pub name: String,
    pub township_id: i64,
    pub roles: Vec<RoleBinding>,
}

/// The caller of a use case: who, and from which address (for the audit trail).
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub addr: String,
}

impl Caller {
    /// `staff` or `member`, as the ledger and the audit trail name actors.
    pub fn kind(&self) -> &'static str {
        match self.principal.kind {
            PrincipalKind::Staff => "staff",
            PrincipalKind::Villager => "member",
        }
    }
}

impl Principal {
    /// Idempotency keys are per caller, so two clerks' keys never collide.
    pub fn idempotency_scope(&self) -> String {
        format!("{:?}:{}", self.kind, self.id)
    }

    /// The household a villager acts for.
    pub fn household_id(&self) -> Option<i64> {
        self.roles
            .iter()
            .find(|b| b.role == RoleName::Villager)
            .map(|b| b.scope_id)
    }

    pub fn is_staff(&self) -> bool {
        self.kind == PrincipalKind::Staff
    }

    /// Villages in which the caller holds any role.
    pub fn village_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.roles.iter().filter_map(|b| b.village_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn has_role(&self, role: RoleName) -> bool {
        self.roles.iter().any(|b| b.role == role)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn roles_read_back_by_name_and_nothing_else() {
        crate::db::assert_names_round_trip::<super::RoleName>();
    }
}
