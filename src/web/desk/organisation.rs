//! The township's own desk (乡镇管理): its villages, its shops and their keepers, its
//! staff and their roles. Pages over the same use cases the API serves; every change
//! goes from the pages' forms to the JSON API.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde_json::json;

use super::{Nav, render};
use crate::auth::service::RoleView;
use crate::auth::{Principal, RoleName};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::org::model::{StaffView, VillageView};
use crate::paging::PageQuery;
use crate::shop::model::ShopView;
use crate::state::AppState;
use crate::web::page::Chrome;

/// What a role can be given for, by name: the township, its villages, their groups
/// and its shops.
struct Scopes {
    township: (i64, String),
    villages: Vec<(i64, String)>,
    groups: Vec<(i64, String)>,
    shops: Vec<(i64, String)>,
}

/// A role as the form sends it (JSON `{role, scope_id}`) and as people say it.
struct RoleChoice {
    value: String,
    label: String,
}

impl Scopes {
    fn load(conn: &mut DbConnection, p: &Principal) -> AppResult<Self> {
        let all = PageQuery::largest();
        let villages = villages(conn, p)?;
        let mut groups = Vec::new();
        for village in &villages {
            for group in crate::org::service::list_groups(conn, p, village.id, &all)?.items {
                groups.push((group.id, format!("{}{}", village.name, group.name)));
            }
        }
        let shops = crate::shop::service::list_shops(conn, p, &all)?.items;
        Ok(Scopes {
            township: (
                p.township_id,
                crate::org::service::township_name(conn, p.township_id)?,
            ),
            villages: villages.into_iter().map(|v| (v.id, v.name)).collect(),
            groups,
            shops: shops.into_iter().map(|s| (s.id, s.name)).collect(),
        })
    }

    /// Every role the township can give, as the role picker lists them.
    fn choices(&self) -> Vec<RoleChoice> {
        let mut choices = vec![choice(
            RoleName::TownshipAdmin,
            &self.township,
            "乡镇管理员",
        )];
        for village in &self.villages {
            choices.push(choice(RoleName::Committee, village, "村委"));
            choices.push(choice(RoleName::Supervisor, village, "监督委员"));
        }
        for group in &self.groups {
            choices.push(choice(RoleName::GroupLeader, group, "组长"));
        }
        for shop in &self.shops {
            choices.push(choice(RoleName::Shopkeeper, shop, "店主"));
        }
        choices
    }

    /// "村委（庆乐村）".
    fn words(&self, role: &RoleView) -> String {
        let among = |list: &[(i64, String)]| {
            list.iter()
                .find(|(id, _)| *id == role.scope_id)
                .map_or_else(|| format!("#{}", role.scope_id), |(_, n)| n.clone())
        };
        let (title, scope) = match role.role {
            RoleName::TownshipAdmin => ("乡镇管理员", self.township.1.clone()),
            RoleName::Committee => ("村委", among(&self.villages)),
            RoleName::Supervisor => ("监督委员", among(&self.villages)),
            RoleName::GroupLeader => ("组长", among(&self.groups)),
            RoleName::Shopkeeper => ("店主", among(&self.shops)),
            RoleName::Villager => ("村民", String::new()),
        };
        format!("{title}（{scope}）")
    }
}

fn choice(role: RoleName, (id, name): &(i64, String), title: &str) -> RoleChoice {
    RoleChoice {
        value: role_json(role, *id),
        label: format!("{title} · {name}"),
    }
}

fn role_json(role: RoleName, scope_id: i64) -> String {
    json!({"role": role, "scope_id": scope_id}).to_string()
}

fn villages(conn: &mut DbConnection, p: &Principal) -> AppResult<Vec<VillageView>> {
    Ok(crate::org::service::list_villages(conn, p, &PageQuery::largest())?.items)
}

fn staff(conn: &mut DbConnection, p: &Principal) -> AppResult<Vec<StaffView>> {
    Ok(crate::org::service::list_staff(conn, p, &PageQuery::largest())?.items)
}

// ---- villages ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "desk/villages.html", config = "src/web/askama.toml")]
struct VillagesPage {
    chrome: Chrome,
    nav: Nav,
    villages: Vec<VillageView>,
}

#[get("/admin/villages")]
async fn villages_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "villages",
        |conn, p, _| {
            township_admin(p)?;
            villages(conn, p)
        },
        |chrome, nav, villages| VillagesPage {
            chrome,
            nav,
            villages,
        },
    )
    .await
}

/// The township's pages are its admin's; a committee's desk has no such tab.
fn township_admin(p: &Principal) -> AppResult<()> {
    if p.has_role(RoleName::TownshipAdmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "只有乡镇管理员可以管理村、商店和工作人员。",
        ))
    }
}

// ---- shops ------------------------------------------------------------------

struct ShopLine {
    shop: ShopView,
    /// The villages it serves, by name.
    serves: String,
    keepers: Vec<StaffView>,
}

#[derive(Template)]
#[template(path = "desk/shops.html", config = "src/web/askama.toml")]
struct ShopsPage {
    chrome: Chrome,
    nav: Nav,
    shops: Vec<ShopLine>,
    villages: Vec<(i64, String)>,
}

#[get("/admin/shops")]
async fn shops_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "shops",
        |conn, p, _| {
            township_admin(p)?;
            let villages: Vec<(i64, String)> = villages(conn, p)?
                .into_iter()
                .map(|v| (v.id, v.name))
                .collect();
            let staff = staff(conn, p)?;
            let shops = crate::shop::service::list_shops(conn, p, &PageQuery::largest())?.items;
            let lines = shops
                .into_iter()
                .map(|shop| shop_line(shop, &villages, &staff))
                .collect();
            Ok((lines, villages))
        },
        |chrome, nav, (shops, villages)| ShopsPage {
            chrome,
            nav,
            shops,
            villages,
        },
    )
    .await
}

impl ShopLine {
    fn serves_village(&self, village_id: &i64) -> bool {
        self.shop.village_ids.contains(village_id)
    }
}

fn shop_line(shop: ShopView, villages: &[(i64, String)], staff: &[StaffView]) -> ShopLine {
    let serves = villages
        .iter()
        .filter(|(id, _)| shop.village_ids.contains(id))
        .map(|(_, name)| name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    let keepers = staff
        .iter()
        .filter(|s| {
            s.roles
                .iter()
                .any(|r| r.role == RoleName::Shopkeeper && r.scope_id == shop.id)
        })
        .cloned()
        .collect();
    ShopLine {
        shop,
        serves,
        keepers,
    }
}

// ---- staff ------------------------------------------------------------------

struct StaffLine {
    staff: StaffView,
    roles: String,
}

#[derive(Template)]
#[template(path = "desk/staff.html", config = "src/web/askama.toml")]
struct StaffPage {
    chrome: Chrome,
    nav: Nav,
    staff: Vec<StaffLine>,
    choices: Vec<RoleChoice>,
}

#[get("/admin/staff")]
async fn staff_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "staff",
        |conn, p, _| {
            township_admin(p)?;
            let scopes = Scopes::load(conn, p)?;
            let lines = staff(conn, p)?
                .into_iter()
                .map(|staff| StaffLine {
                    roles: staff
                        .roles
                        .iter()
                        .map(|r| scopes.words(r))
                        .collect::<Vec<_>>()
                        .join("、"),
                    staff,
                })
                .collect();
            Ok((lines, scopes.choices()))
        },
        |chrome, nav, (staff, choices)| StaffPage {
            chrome,
            nav,
            staff,
            choices,
        },
    )
    .await
}

/// A role the account holds: in words, and the account's other roles as the form
/// sends them when this one is taken away.
struct HeldRole {
    label: String,
    value: String,
    others: String,
}

#[derive(Template)]
#[template(path = "desk/staff_member.html", config = "src/web/askama.toml")]
struct StaffMemberPage {
    chrome: Chrome,
    nav: Nav,
    staff: StaffView,
    held: Vec<HeldRole>,
    choices: Vec<RoleChoice>,
    /// Whether this is the admin's own account (which they cannot disable).
    own: bool,
}

#[get("/admin/staff/{staff_id}")]
async fn staff_member_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let id = id.into_inner();
    render(
        &req,
        &state,
        "staff",
        move |conn, p, _| {
            township_admin(p)?;
            let member = crate::org::service::get_staff(conn, p, id)?;
            let scopes = Scopes::load(conn, p)?;
            let held = held_roles(&scopes, &member.roles);
            Ok((member, held, scopes.choices(), id == p.id))
        },
        |chrome, nav, (staff, held, choices, own)| StaffMemberPage {
            chrome,
            nav,
            staff,
            held,
            choices,
            own,
        },
    )
    .await
}

fn held_roles(scopes: &Scopes, roles: &[RoleView]) -> Vec<HeldRole> {
    roles
        .iter()
        .enumerate()
        .map(|(index, role)| HeldRole {
            label: scopes.words(role),
            value: role_json(role.role, role.scope_id),
            others: serde_json::Value::Array(
                roles
                    .iter()
                    .enumerate()
                    .filter(|(other, _)| *other != index)
                    .map(|(_, r)| json!({"role": r.role, "scope_id": r.scope_id}))
                    .collect(),
            )
            .to_string(),
        })
        .collect()
}
