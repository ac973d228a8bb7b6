//! The demo township of `seed-data/`: loaded by `jifen seed --demo`, and on the first
//! start with an empty embedded database, through the same use cases the API runs.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use rand::Rng;
use serde::Deserialize;

use crate::amount::Amount;
use crate::auth::policy::{Action, Target, authorize};
use crate::auth::secrets::{Pepper, write_private};
use crate::auth::service::load_principal;
use crate::auth::token::Subject;
use crate::auth::{Caller, PrincipalKind, RoleName};
use crate::db::{DbConnection, TextState, Tx, write_tx};
use crate::error::{AppError, AppResult};
use crate::org::model::{CreateGroup, CreateStaff, CreateVillage, RoleRequest};
use crate::org::policy::PolicyPatch;
use crate::org::service as org;
use crate::shop::model::CreateGoods;

mod history;

#[derive(Deserialize)]
struct Demo {
    township: String,
    villages: Vec<DemoVillage>,
    shops: Vec<DemoShop>,
    staff: Vec<DemoStaff>,
    #[serde(default)]
    goods: Vec<DemoGoods>,
}

#[derive(Deserialize)]
struct DemoGoods {
    shop: String,
    items: Vec<DemoGoodsItem>,
}

#[derive(Deserialize)]
struct DemoGoodsItem {
    name: String,
    unit: String,
    points: String,
    cost: String,
    stock: i64,
    /// The package's EAN-13, for the counter's scanner.
    #[serde(default)]
    barcode: Option<String>,
}

#[derive(Deserialize)]
struct DemoVillage {
    code: String,
    name: String,
    groups: Vec<String>,
    notice_days: Option<u32>,
    /// The honour board (光荣榜) and ranks on door plates are public.
    public_rankings: Option<bool>,
}

#[derive(Deserialize)]
struct DemoShop {
    name: String,
    villages: Vec<String>,
}

#[derive(Deserialize)]
struct DemoStaff {
    username: String,
    name: String,
    /// What the village calls the post (驻村第一书记, 屯长), for the credentials list.
    title: Option<String>,
    roles: Vec<DemoRole>,
}

#[derive(Deserialize)]
struct DemoRole {
    role: RoleName,
    village: Option<String>,
    group: Option<String>,
    shop: Option<String>,
}

/// Copies built into the binary, used when `seed-data/` is not beside it.
const EMBEDDED: &[(&str, &[u8])] = &[
    (
        "township.toml",
        include_bytes!("../../seed-data/township.toml"),
    ),
    (
        "checklist.csv",
        include_bytes!("../../seed-data/checklist.csv"),
    ),
    (
        "households/nahong.csv",
        include_bytes!("../../seed-data/households/nahong.csv"),
    ),
    (
        "households/banlan.csv",
        include_bytes!("../../seed-data/households/banlan.csv"),
    ),
    (
        "households/nonghuai.csv",
        include_bytes!("../../seed-data/households/nonghuai.csv"),
    ),
];

/// Reads `seed-data/NAME` from the working directory when present (so the demo can be
/// edited), else the copy built into the binary.
fn read(name: &str) -> Option<Vec<u8>> {
    let on_disk = PathBuf::from("seed-data").join(name);
    std::fs::read(on_disk).ok().or_else(|| {
        EMBEDDED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| bytes.to_vec())
    })
}

/// The accounts made for the demo, with passwords generated for this install.
pub struct DemoCredentials {
    accounts: Vec<(String, String, String)>,
    file: PathBuf,
}

impl DemoCredentials {
    pub fn announce(&self, url: &str) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "\n==== jifen 演示数据已载入 / demo township loaded ===="
        );
        let _ = writeln!(text, "打开 / open: {url}/");
        let _ = writeln!(
            text,
            "  村委会工作台 / committee desk: {url}/admin/  (农户 → 打印邀请码, for villagers)"
        );
        let _ = writeln!(text, "  商店收银台 / shop counter:    {url}/shop/");
        let _ = writeln!(
            text,
            "  村民 / villagers:             {url}/h5/  (邀请码 / invite code)"
        );
        let _ = writeln!(text, "API 文档 / API docs (Swagger UI): {url}/swagger-ui/");
        let _ = writeln!(
            text,
            "登录 / sign in: POST {url}/api/v1/auth/login {{\"username\", \"password\"}}"
        );
        let _ = writeln!(text, "账号 / accounts (只显示这一次 / shown once):");
        for (username, password, what) in &self.accounts {
            let _ = writeln!(text, "  {username:<20} {password:<14} {what}");
        }
        let _ = writeln!(text, "已保存到 / saved to {}\n", self.file.display());
        text
    }
}

fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn invalid(message: String) -> AppError {
    AppError::field("seed-data", message)
}

/// Loads the demo in one transaction and writes the credentials file, with the full
/// addresses under `url` (the file is read later, away from the terminal).
pub fn load_demo(
    conn: &mut DbConnection,
    data_dir: &Path,
    url: &str,
    pepper: &Pepper,
    now: DateTime<Utc>,
) -> AppResult<DemoCredentials> {
    let text = read("township.toml").ok_or_else(|| invalid("township.toml missing".into()))?;
    let text = String::from_utf8(text).map_err(|_| invalid("township.toml is not UTF-8".into()))?;
    let demo: Demo = toml::from_str(&text).map_err(|e| invalid(format!("township.toml: {e}")))?;
    let accounts = write_tx(conn, |tx| Loader::new(tx, now).load(&demo, pepper))?;
    std::fs::create_dir_all(data_dir).map_err(AppError::internal)?;
    let file = data_dir.join("demo-credentials.txt");
    let credentials = DemoCredentials {
        accounts,
        file: file.clone(),
    };
    write_private(&file, credentials.announce(url).as_bytes()).map_err(AppError::internal)?;
    Ok(credentials)
}

struct Loader<'c, 't> {
    tx: &'c mut Tx<'t>,
    now: DateTime<Utc>,
    villages: HashMap<String, i64>,
    /// Village names by code, for the credentials list.
    village_names: HashMap<String, String>,
    groups: HashMap<(String, String), i64>,
    shops: HashMap<String, i64>,
    /// Each shop's goods: (id, points price in hundredths, stock).
    goods: HashMap<i64, Vec<(i64, i64, i64)>>,
    accounts: Vec<(String, String, String)>,
}

impl<'c, 't> Loader<'c, 't> {
    fn new(tx: &'c mut Tx<'t>, now: DateTime<Utc>) -> Self {
        Self {
            tx,
            now,
            villages: HashMap::new(),
            village_names: HashMap::new(),
            groups: HashMap::new(),
            shops: HashMap::new(),
            goods: HashMap::new(),
            accounts: Vec::new(),
        }
    }

    fn load(mut self, demo: &Demo, pepper: &Pepper) -> AppResult<Vec<(String, String, String)>> {
        let (admins, rest): (Vec<_>, Vec<_>) = demo
            .staff
            .iter()
            .partition(|s| s.roles.iter().any(|r| r.role == RoleName::TownshipAdmin));
        let first_admin = admins
            .first()
            .ok_or_else(|| invalid("township.toml needs a township_admin".into()))?;
        let admin = self.bootstrap(&demo.township, first_admin)?;
        for village in &demo.villages {
            self.village(&admin, village)?;
        }
        for shop in &demo.shops {
            let ids = shop
                .villages
                .iter()
                .map(|code| self.village_id(code))
                .collect::<AppResult<Vec<_>>>()?;
            let id = crate::shop::service::open_shop(
                self.tx,
                admin.principal.township_id,
                &shop.name,
                &ids,
                self.now,
            )?;
            self.shops.insert(shop.name.clone(), id);
        }
        // Group leaders wait until the committees have made their groups.
        let (leaders, others): (Vec<_>, Vec<_>) = rest
            .into_iter()
            .chain(admins.into_iter().skip(1))
            .partition(|s| s.roles.iter().any(|r| r.group.is_some()));
        for staff in others {
            self.staff(&admin, staff)?;
        }
        for village in &demo.villages {
            self.groups_and_households(village)?;
        }
        for staff in leaders {
            self.staff(&admin, staff)?;
        }
        for shelf in &demo.goods {
            self.goods(&admin, shelf)?;
        }
        let villages = demo
            .villages
            .iter()
            .map(|v| self.life_of(v, &demo.shops))
            .collect::<AppResult<Vec<_>>>()?;
        let shops = demo
            .shops
            .iter()
            .map(|s| self.shop_life(&demo.staff, s))
            .collect::<AppResult<Vec<_>>>()?;
        history::History::new(admin, pepper, villages, shops).live(self.tx, self.now)?;
        Ok(self.accounts)
    }

    /// A village with its committee, households and checklist, for the history.
    fn life_of(&mut self, v: &DemoVillage, shops: &[DemoShop]) -> AppResult<history::Village> {
        let id = self.village_id(&v.code)?;
        let committee = self.committee_of(id)?;
        let households = org::active_households(self.tx, id)?
            .into_iter()
            .map(|(household_id, _)| {
                let head = org::household_head(self.tx, household_id)?
                    .ok_or_else(|| invalid(format!("household {household_id} has no head")))?;
                Ok((household_id, villager_caller(self.tx, head)?))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let filter = crate::checklist::model::ChecklistFilter {
            include_retired: false,
            limit: Some(500),
            cursor: None,
        };
        let items = crate::checklist::service::list(self.tx, &committee.principal, id, &filter)?
            .items
            .into_iter()
            .map(|i| (i.code, i.id))
            .collect();
        let shop = shops
            .iter()
            .position(|s| s.villages.contains(&v.code))
            .ok_or_else(|| invalid(format!("no shop serves {}", v.code)))?;
        Ok(history::Village {
            id,
            code: v.code.clone(),
            committee,
            households,
            items,
            shop,
        })
    }

    /// A shop with its keeper and shelves, for the history.
    fn shop_life(&mut self, staff: &[DemoStaff], s: &DemoShop) -> AppResult<history::Shop> {
        let id = *self
            .shops
            .get(&s.name)
            .ok_or_else(|| invalid(format!("unknown shop {}", s.name)))?;
        let username = staff
            .iter()
            .find(|st| st.roles.iter().any(|r| r.shop.as_deref() == Some(&s.name)))
            .map(|st| st.username.clone())
            .ok_or_else(|| invalid(format!("{} has no shopkeeper", s.name)))?;
        let keeper_id = crate::auth::service::staff_id_by_username(self.tx, &username)?
            .ok_or_else(|| invalid(format!("unknown staff {username}")))?;
        let keeper = seed_caller(self.tx, keeper_id)?;
        let goods = self.goods.get(&id).cloned().unwrap_or_default();
        Ok(history::Shop { id, keeper, goods })
    }

    fn bootstrap(&mut self, township: &str, staff: &DemoStaff) -> AppResult<Caller> {
        let password = generate_password();
        let id = org::bootstrap(
            self.tx,
            township,
            &staff.username,
            &password,
            &staff.name,
            self.now,
        )?;
        self.accounts.push((
            staff.username.clone(),
            password,
            format!("{} 乡镇管理员", staff.name),
        ));
        seed_caller(self.tx, id)
    }

    fn village_id(&self, code: &str) -> AppResult<i64> {
        self.villages
            .get(code)
            .copied()
            .ok_or_else(|| invalid(format!("unknown village {code}")))
    }

    fn village(&mut self, admin: &Caller, v: &DemoVillage) -> AppResult<()> {
        let request = CreateVillage {
            name: v.name.clone(),
            code: v.code.clone(),
            policy: Some(PolicyPatch {
                notice_days: v.notice_days,
                public_rankings: v.public_rankings,
                ..PolicyPatch::default()
            }),
        };
        let view = org::create_village(self.tx, admin, &request, self.now)?;
        self.villages.insert(v.code.clone(), view.id);
        self.village_names.insert(v.code.clone(), v.name.clone());
        Ok(())
    }

    /// Someone on the village committee, to add what only a committee may add.
    fn committee_of(&mut self, village_id: i64) -> AppResult<Caller> {
        for (username, _, _) in self.accounts.clone() {
            let Some(id) = crate::auth::service::staff_id_by_username(self.tx, &username)? else {
                continue;
            };
            let caller = seed_caller(self.tx, id)?;
            let target = Target::village(caller.principal.township_id, village_id);
            if authorize(&caller.principal, Action::ManageHouseholds, &target).is_ok() {
                return Ok(caller);
            }
        }
        Err(invalid(format!(
            "village {village_id} has no committee member in township.toml"
        )))
    }

    fn groups_and_households(&mut self, v: &DemoVillage) -> AppResult<()> {
        let village_id = self.village_id(&v.code)?;
        let committee = self.committee_of(village_id)?;
        for name in &v.groups {
            let group = org::create_group(
                self.tx,
                &committee,
                village_id,
                &CreateGroup { name: name.clone() },
                self.now,
            )?;
            self.groups.insert((v.code.clone(), name.clone()), group.id);
        }
        if let Some(csv) = read(&format!("households/{}.csv", v.code)) {
            org::import_households(self.tx, &committee, village_id, &csv, self.now)?;
        }
        if let Some(csv) = read("checklist.csv") {
            crate::checklist::service::import(self.tx, &committee, village_id, &csv, self.now)?;
        }
        Ok(())
    }

    fn goods(&mut self, admin: &Caller, shelf: &DemoGoods) -> AppResult<()> {
        let shop_id = *self
            .shops
            .get(&shelf.shop)
            .ok_or_else(|| invalid(format!("unknown shop {}", shelf.shop)))?;
        for item in &shelf.items {
            let amount = |text: &str| {
                Amount::parse(text).map_err(|e| invalid(format!("{}: {e}", item.name)))
            };
            let request = CreateGoods {
                name: item.name.clone(),
                unit: item.unit.clone(),
                points_price: amount(&item.points)?,
                cost_yuan: amount(&item.cost)?,
                stock: item.stock,
                barcode: item.barcode.clone(),
            };
            let view =
                crate::shop::service::create_goods(self.tx, admin, shop_id, &request, self.now)?;
            self.goods.entry(shop_id).or_default().push((
                view.id,
                view.points_price.minor(),
                view.stock,
            ));
        }
        Ok(())
    }

    fn scope_of(&self, role: &DemoRole, township_id: i64) -> AppResult<i64> {
        let village = || {
            role.village
                .as_deref()
                .ok_or_else(|| invalid(format!("{} needs a village", role.role.as_str())))
        };
        match role.role {
            RoleName::TownshipAdmin => Ok(township_id),
            RoleName::Committee | RoleName::Supervisor => self.village_id(village()?),
            RoleName::GroupLeader => {
                let group = role.group.clone().unwrap_or_default();
                self.groups
                    .get(&(village()?.to_owned(), group.clone()))
                    .copied()
                    .ok_or_else(|| invalid(format!("unknown group {group}")))
            }
            RoleName::Shopkeeper => {
                let shop = role.shop.clone().unwrap_or_default();
                self.shops
                    .get(&shop)
                    .copied()
                    .ok_or_else(|| invalid(format!("unknown shop {shop}")))
            }
            RoleName::Villager => Err(invalid("staff cannot be villagers".into())),
        }
    }

    fn staff(&mut self, admin: &Caller, staff: &DemoStaff) -> AppResult<()> {
        let roles = staff
            .roles
            .iter()
            .map(|r| {
                Ok(RoleRequest {
                    role: r.role,
                    scope_id: self.scope_of(r, admin.principal.township_id)?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let what = match &staff.title {
            Some(title) => format!(
                "{title}（{}）",
                describe_roles(&staff.roles, &self.village_names)
            ),
            None => describe_roles(&staff.roles, &self.village_names),
        };
        let password = generate_password();
        let request = CreateStaff {
            username: staff.username.clone(),
            password: password.clone(),
            name: staff.name.clone(),
            roles,
        };
        org::create_staff(self.tx, admin, &request, self.now)?;
        self.accounts.push((
            staff.username.clone(),
            password,
            format!("{} {what}", staff.name),
        ));
        Ok(())
    }
}

/// A staff account acting for the seed loader; the audit trail shows `seed` as address.
fn seed_caller(conn: &mut DbConnection, id: i64) -> AppResult<Caller> {
    caller(conn, PrincipalKind::Staff, id)
}

/// A household member acting in the demo's history.
fn villager_caller(conn: &mut DbConnection, member_id: i64) -> AppResult<Caller> {
    caller(conn, PrincipalKind::Villager, member_id)
}

fn caller(conn: &mut DbConnection, kind: PrincipalKind, id: i64) -> AppResult<Caller> {
    let principal = load_principal(conn, Subject { kind, id })?;
    Ok(Caller {
        principal,
        addr: "seed".to_owned(),
    })
}

fn describe_roles(roles: &[DemoRole], village_names: &HashMap<String, String>) -> String {
    roles
        .iter()
        .map(|r| {
            let role = match r.role {
                RoleName::TownshipAdmin => "乡镇管理员",
                RoleName::Committee => "村委会",
                RoleName::Supervisor => "村务监督委员会",
                RoleName::GroupLeader => "村民小组长",
                RoleName::Shopkeeper => "积分超市店主",
                RoleName::Villager => "村民",
            };
            let village = r.village.as_ref().map(|code| {
                village_names
                    .get(code)
                    .cloned()
                    .unwrap_or_else(|| code.clone())
            });
            let place = [village, r.group.clone(), r.shop.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            format!("{role} {place}").trim().to_owned()
        })
        .collect::<Vec<_>>()
        .join("、")
}
