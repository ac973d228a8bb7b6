//! The one place that decides access. Handlers name an [`Action`] and the [`Target`]
//! it touches; nothing else hand-rolls a scope check.
//!
//! A caller who cannot see the target at all gets 404, so ids cannot be probed; a
//! caller who can see it but may not do this gets 403.

use super::model::{Principal, RoleBinding, RoleName};
use crate::error::{AppError, AppResult};

use RoleName::{Committee, GroupLeader, Supervisor, TownshipAdmin, Villager};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    CreateVillage,
    ManageStaff,
    ViewVillage,
    EditVillage,
    ViewGroups,
    CreateGroup,
    ListHouseholds,
    ManageHouseholds,
    ViewHousehold,
    EditHousehold,
    ViewChecklist,
    ManageChecklist,
    ViewBalance,
    ViewVillageLedger,
    Award,
    Reverse,
    VerifyLedger,
    ViewAudit,
    SubmitClaim,
    ListClaims,
    ViewClaim,
    ReviewClaim,
    AddEvidence,
    Object,
    DecideObjection,
    ManageShops,
    ManageGoods,
    ShopCounter,
    ViewShopRedemptions,
    IssuePaymentCode,
    ViewRedemption,
    VoidRedemption,
    Settle,
    /// Phone numbers and full names of households other than one's own.
    ViewContactDetails,
    /// A village's rankings whatever its policy (villagers see them only when public).
    ViewRankings,
    /// The dashboard's figures of a village (the township sees all its villages').
    ViewDashboard,
    /// A signed statement of a household's points and honour (积分证明).
    IssueStatement,
    /// Create, close and check households in at village events.
    ManageEvents,
    ViewEvents,
}

impl Action {
    fn allowed(self) -> &'static [RoleName] {
        match self {
            Action::CreateVillage | Action::ManageStaff => &[TownshipAdmin],
            Action::ViewVillage => &[TownshipAdmin, Committee, Supervisor, GroupLeader, Villager],
            Action::EditVillage => &[TownshipAdmin, Committee],
            Action::ViewGroups => &[TownshipAdmin, Committee, Supervisor, GroupLeader],
            Action::CreateGroup | Action::ManageHouseholds | Action::ManageChecklist => {
                &[Committee]
            }
            Action::ViewChecklist => &[TownshipAdmin, Committee, Supervisor, GroupLeader, Villager],
            Action::ViewBalance => &[Committee, Supervisor, GroupLeader, Villager],
            Action::ViewVillageLedger | Action::ViewAudit => &[Committee, Supervisor],
            Action::Award | Action::Reverse => &[Committee],
            Action::VerifyLedger => &[TownshipAdmin, Committee, Supervisor],
            Action::SubmitClaim | Action::AddEvidence => &[Committee, GroupLeader, Villager],
            Action::ListClaims | Action::ViewClaim => {
                &[Committee, Supervisor, GroupLeader, Villager]
            }
            Action::ReviewClaim => &[Committee],
            Action::Object => &[Villager],
            Action::DecideObjection => &[Supervisor],
            Action::ManageShops => &[TownshipAdmin],
            Action::ManageGoods | Action::ViewShopRedemptions => {
                &[TownshipAdmin, RoleName::Shopkeeper]
            }
            Action::ShopCounter => &[RoleName::Shopkeeper],
            Action::IssuePaymentCode => &[Villager],
            Action::ViewRedemption => &[
                TownshipAdmin,
                RoleName::Shopkeeper,
                Committee,
                Supervisor,
                Villager,
            ],
            Action::VoidRedemption => &[RoleName::Shopkeeper, Committee],
            Action::Settle => &[TownshipAdmin],
            Action::ListHouseholds => &[Committee, Supervisor, GroupLeader],
            Action::ViewHousehold => &[Committee, Supervisor, GroupLeader, Villager],
            Action::EditHousehold => &[Committee, Villager],
            Action::ViewContactDetails => &[TownshipAdmin, Committee, Supervisor],
            Action::ViewRankings => &[TownshipAdmin, Committee, Supervisor, GroupLeader],
            Action::ViewDashboard => &[TownshipAdmin, Committee, Supervisor],
            Action::IssueStatement => &[Committee, Villager],
            Action::ManageEvents => &[Committee],
            Action::ViewEvents => &[TownshipAdmin, Committee, Supervisor, GroupLeader, Villager],
        }
    }
}

/// Where a resource sits in the organisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub township_id: i64,
    pub village_id: Option<i64>,
    pub group_id: Option<i64>,
    pub household_id: Option<i64>,
    /// A shop, for shop-level resources (goods, counter, redemptions).
    pub shop_id: Option<i64>,
}

impl Target {
    pub fn township(township_id: i64) -> Self {
        Self {
            township_id,
            ..Self::default()
        }
    }

    pub fn village(township_id: i64, village_id: i64) -> Self {
        Self {
            village_id: Some(village_id),
            ..Self::township(township_id)
        }
    }

    pub fn shop(township_id: i64, shop_id: i64) -> Self {
        Self {
            shop_id: Some(shop_id),
            ..Self::township(township_id)
        }
    }

    pub fn household(
        township_id: i64,
        village_id: i64,
        group_id: Option<i64>,
        household_id: i64,
    ) -> Self {
        Self {
            group_id,
            household_id: Some(household_id),
            ..Self::village(township_id, village_id)
        }
    }
}

/// Whether this one binding lets its holder see the target at all.
fn sees(binding: &RoleBinding, target: &Target) -> bool {
    if let Some(shop_id) = target.shop_id {
        return match binding.role {
            TownshipAdmin => binding.scope_id == target.township_id,
            RoleName::Shopkeeper => binding.scope_id == shop_id,
            _ => false,
        };
    }
    if target.village_id.is_none() {
        // The township itself is in sight of all its staff, not of villagers.
        return binding.role != Villager;
    }
    let in_village = target.village_id.is_some() && binding.village_id == target.village_id;
    match binding.role {
        TownshipAdmin => binding.scope_id == target.township_id,
        Committee | Supervisor => in_village,
        GroupLeader => {
            in_village
                && (target.household_id.is_none() || target.group_id == Some(binding.scope_id))
        }
        Villager => {
            in_village
                && (target.household_id.is_none() || target.household_id == Some(binding.scope_id))
        }
        RoleName::Shopkeeper => false,
    }
}

/// Allows the action, or answers 404 (target out of sight) or 403 (in sight, not allowed).
pub fn authorize(principal: &Principal, action: Action, target: &Target) -> AppResult<()> {
    if principal.township_id != target.township_id {
        return Err(AppError::NotFound);
    }
    let mut visible = principal
        .roles
        .iter()
        .filter(|b| sees(b, target))
        .peekable();
    if visible.peek().is_none() {
        return Err(AppError::NotFound);
    }
    if visible.any(|b| action.allowed().contains(&b.role)) {
        Ok(())
    } else {
        Err(AppError::Forbidden("您没有权限做这件事。"))
    }
}

/// True when [`authorize`] would allow the action; for shaping answers, not guarding them.
pub fn permits(principal: &Principal, action: Action, target: &Target) -> bool {
    authorize(principal, action, target).is_ok()
}

/// The groups whose households a caller may list in a village: `None` means all.
pub fn visible_groups(principal: &Principal, village_id: i64) -> Option<Vec<i64>> {
    let in_village = |b: &&RoleBinding| b.village_id == Some(village_id);
    let whole_village = principal
        .roles
        .iter()
        .filter(in_village)
        .any(|b| matches!(b.role, Committee | Supervisor));
    if whole_village {
        return None;
    }
    Some(
        principal
            .roles
            .iter()
            .filter(in_village)
            .filter(|b| b.role == GroupLeader)
            .map(|b| b.scope_id)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::model::PrincipalKind;

    fn staff(roles: Vec<RoleBinding>) -> Principal {
        Principal {
            id: 1,
            kind: PrincipalKind::Staff,
            name: "x".into(),
            township_id: 1,
            roles,
        }
    }

    fn bind(role: RoleName, scope_id: i64, village_id: Option<i64>) -> RoleBinding {
        RoleBinding {
            role,
            scope_id,
            village_id,
        }
    }

    #[test]
    fn another_village_is_not_found() {
        let committee = staff(vec![bind(Committee, 10, Some(10))]);
        assert!(matches!(
            authorize(&committee, Action::ViewVillage, &Target::village(1, 11)),
            Err(AppError::NotFound)
        ));
        assert!(
            authorize(
                &committee,
                Action::ManageHouseholds,
                &Target::village(1, 10)
            )
            .is_ok()
        );
    }

    #[test]
    fn visible_but_not_allowed_is_forbidden() {
        let supervisor = staff(vec![bind(Supervisor, 10, Some(10))]);
        assert!(matches!(
            authorize(
                &supervisor,
                Action::ManageHouseholds,
                &Target::village(1, 10)
            ),
            Err(AppError::Forbidden(_))
        ));
    }

    #[test]
    fn villagers_see_only_their_household() {
        let mut villager = staff(vec![bind(Villager, 5, Some(10))]);
        villager.kind = PrincipalKind::Villager;
        let own = Target::household(1, 10, None, 5);
        let other = Target::household(1, 10, None, 6);
        assert!(authorize(&villager, Action::ViewHousehold, &own).is_ok());
        assert!(matches!(
            authorize(&villager, Action::ViewHousehold, &other),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn group_leaders_see_their_group_only() {
        let leader = staff(vec![bind(GroupLeader, 3, Some(10))]);
        assert!(
            authorize(
                &leader,
                Action::ViewHousehold,
                &Target::household(1, 10, Some(3), 7)
            )
            .is_ok()
        );
        assert!(matches!(
            authorize(
                &leader,
                Action::ViewHousehold,
                &Target::household(1, 10, Some(4), 8)
            ),
            Err(AppError::NotFound)
        ));
        assert_eq!(visible_groups(&leader, 10), Some(vec![3]));
    }

    #[test]
    fn township_admin_sees_the_township() {
        let admin = staff(vec![bind(TownshipAdmin, 1, None)]);
        assert!(authorize(&admin, Action::CreateVillage, &Target::township(1)).is_ok());
        assert!(matches!(
            authorize(&admin, Action::CreateVillage, &Target::township(2)),
            Err(AppError::NotFound)
        ));
    }
}
