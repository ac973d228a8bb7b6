//! Village lists as files (API.md "Township reports and exports"): the register (农户名册)
//! with what each household holds now, and a ranking, whole, as the list filters them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::model::{RankedAsset, RankingQuery};
use super::store;
use crate::amount::Amount;
use crate::auth::Principal;
use crate::checklist::model::{ChecklistFilter, ItemView};
use crate::claims::model::ClaimFilter;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::export::{Cell, Sheet};
use crate::ledger::model::Asset;
use crate::org::model::{HouseholdFilter, HouseholdView};

/// The facts every village export carries: the village and its chain head now.
pub fn village_facts(
    conn: &mut DbConnection,
    village_id: i64,
) -> AppResult<(String, Vec<(&'static str, String)>)> {
    let (_, name) = crate::org::service::village_summary(conn, village_id)?;
    let head = store::chain_heads(conn, &[village_id])?
        .into_iter()
        .next()
        .map_or_else(
            || "（尚无记账）".to_owned(),
            |(_, seq, hash)| head_text(seq, &hash),
        );
    Ok((name.clone(), vec![("村", name), ("账本链头", head)]))
}

/// A chain head as every export writes it, whole, so a reader can check it against
/// `jifen verify` or the village's board.
pub fn head_text(seq: i64, hash: &str) -> String {
    format!("第 {seq} 笔 {hash}")
}

/// A household of the register with its group's name and what it holds now.
pub struct RegisterLine {
    pub household: HouseholdView,
    pub group: Option<String>,
    pub points: Amount,
    pub honour: Amount,
    /// Stars (星级) the honour has reached under the village's thresholds.
    pub stars: usize,
}

/// The households the list shows under `filter`, with their group and balances.
pub fn register_lines(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &HouseholdFilter,
) -> AppResult<Vec<RegisterLine>> {
    let households = crate::org::service::all_households(conn, p, village_id, filter)?;
    let policy = crate::org::service::village_policy(conn, village_id)?;
    let groups: HashMap<i64, String> = store::groups(conn, village_id)?.into_iter().collect();
    let mut held = |asset| -> AppResult<HashMap<i64, i64>> {
        Ok(store::balances(conn, village_id, asset)?
            .into_iter()
            .collect())
    };
    let (points, honour) = (held(Asset::Points)?, held(Asset::Honour)?);
    let of =
        |map: &HashMap<i64, i64>, id: i64| Amount::from_minor(map.get(&id).copied().unwrap_or(0));
    Ok(households
        .into_iter()
        .map(|h| {
            let honour = of(&honour, h.id);
            RegisterLine {
                group: h.group_id.and_then(|g| groups.get(&g).cloned()),
                points: of(&points, h.id),
                stars: super::model::stars(&policy, honour),
                honour,
                household: h,
            }
        })
        .collect())
}

pub fn households(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &HouseholdFilter,
    now: DateTime<Utc>,
) -> AppResult<Sheet> {
    let lines = register_lines(conn, p, village_id, filter)?;
    let (village, facts) = village_facts(conn, village_id)?;
    let mut sheet = Sheet::new(
        format!("{village} 农户名册"),
        vec![
            "门牌号",
            "户主",
            "村民小组",
            "电话",
            "积分",
            "荣誉分",
            "星级",
            "状态",
            "登记日期",
        ],
    );
    sheet.facts = facts;
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        sheet.facts.push(("查找", q.trim().to_owned()));
    }
    if filter.group_id.is_some() {
        let group = lines.first().and_then(|l| l.group.clone());
        sheet.facts.push(("村民小组", group.unwrap_or_default()));
    }
    let (mut all_points, mut all_honour) = (0, 0);
    for line in lines {
        let h = line.household;
        all_points += line.points.minor();
        all_honour += line.honour.minor();
        sheet.rows.push(vec![
            h.door_no.into(),
            h.head_name.unwrap_or(h.display_name).into(),
            line.group.into(),
            h.phone.into(),
            line.points.into(),
            line.honour.into(),
            Cell::Count(line.stars as i64),
            if h.active { "在册" } else { "已停用" }.into(),
            Cell::Date(
                h.created_at
                    .with_timezone(&crate::clock::shanghai())
                    .date_naive(),
            ),
        ]);
    }
    sheet.total = Some(vec![
        format!("共 {} 户", sheet.rows.len()).into(),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Amount::from_minor(all_points).into(),
        Amount::from_minor(all_honour).into(),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ]);
    Ok(sheet.made_at(now))
}

/// A ranking, every place of it, as the list filters it (asset, period, group).
pub fn rankings(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    q: &RankingQuery,
    now: DateTime<Utc>,
) -> AppResult<Sheet> {
    let today = crate::clock::shanghai_today(now);
    let places = crate::paging::every_page(|page| {
        let asked = RankingQuery {
            limit: page.limit,
            cursor: page.cursor,
            ..q.clone()
        };
        let view = super::service::rankings(conn, p, village_id, &asked, today)?;
        Ok(crate::paging::Page {
            items: view.items,
            next_cursor: view.next_cursor,
        })
    })?;
    let asset = q.asset.unwrap_or_default();
    let period = q.period.unwrap_or_default();
    let (village, facts) = village_facts(conn, village_id)?;
    let counted = match asset {
        RankedAsset::Honour => "荣誉分",
        RankedAsset::Points => "积分",
    };
    let mut sheet = Sheet::new(
        format!(
            "{village} {counted}排行 {}",
            period.label(q.at.unwrap_or(today))
        ),
        vec!["名次", "门牌号", "户主", "村民小组", counted, "星级"],
    );
    sheet.facts = facts;
    sheet.rows = places
        .into_iter()
        .map(|r| {
            vec![
                Cell::Count(r.rank as i64),
                r.door_no.into(),
                r.display_name.into(),
                r.group.into(),
                r.amount.into(),
                Cell::Count(r.stars as i64),
            ]
        })
        .collect();
    Ok(sheet.made_at(now))
}

/// Door number and head's name of each household the caller may list in the village, to
/// name the households of ledger lines.
fn household_names(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<HashMap<i64, (String, String)>> {
    let households =
        crate::org::service::all_households(conn, p, village_id, &HouseholdFilter::default())?;
    Ok(households
        .into_iter()
        .map(|h| (h.id, (h.door_no, h.head_name.unwrap_or(h.display_name))))
        .collect())
}

/// The village ledger (账本流水), oldest first as a book is read: one row per transaction
/// with the household it concerns, the points and honour it moved for that household, and
/// its place in the chain.
pub fn ledger(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Sheet> {
    let mut transactions =
        crate::paging::every_page(|page| crate::books::village_ledger(conn, p, village_id, &page))?;
    transactions.reverse();
    let names = household_names(conn, p, village_id)?;
    let (village, facts) = village_facts(conn, village_id)?;
    let mut sheet = Sheet::new(
        format!("{village} 账本流水"),
        vec![
            "序号",
            "时间",
            "类别",
            "门牌号",
            "户主",
            "积分",
            "荣誉分",
            "摘要",
            "冲正第几笔",
            "哈希",
        ],
    );
    sheet.facts = facts;
    let seq_of: HashMap<i64, i64> = transactions.iter().map(|t| (t.id, t.seq)).collect();
    for t in transactions {
        let moved = |asset: Asset| {
            t.postings
                .iter()
                .find(|posting| posting.asset == asset && household_of(&posting.account).is_some())
                .map(|posting| posting.amount)
        };
        let household = t
            .postings
            .iter()
            .find_map(|posting| household_of(&posting.account))
            .and_then(|id| names.get(&id));
        sheet.rows.push(vec![
            Cell::Count(t.seq),
            Cell::Time(t.created_at),
            t.kind.words().into(),
            household.map(|(door, _)| door.clone()).into(),
            household.map(|(_, name)| name.clone()).into(),
            moved(Asset::Points).into(),
            moved(Asset::Honour).into(),
            t.memo.into(),
            t.reverses_id
                .and_then(|id| seq_of.get(&id))
                .map_or(Cell::Empty, |seq| Cell::Count(*seq)),
            t.hash.into(),
        ]);
    }
    Ok(sheet.made_at(now))
}

/// The household an account belongs to, from its canonical name
/// (`household:12:points:holdings`).
fn household_of(account: &str) -> Option<i64> {
    account
        .strip_prefix("household:")?
        .split(':')
        .next()?
        .parse()
        .ok()
}

/// The village's claims (申报记录) as the list filters them (status), oldest first.
pub fn claims(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &ClaimFilter,
    now: DateTime<Utc>,
) -> AppResult<Sheet> {
    let mut claims = crate::paging::every_page(|page| {
        let asked = ClaimFilter {
            status: filter.status,
            limit: page.limit,
            cursor: page.cursor,
        };
        crate::claims::service::list(conn, p, village_id, &asked)
    })?;
    claims.sort_by_key(|c| c.id);
    let items: HashMap<i64, ItemView> = crate::paging::every_page(|page| {
        let asked = ChecklistFilter {
            include_retired: true,
            limit: page.limit,
            cursor: page.cursor,
        };
        crate::checklist::service::list(conn, p, village_id, &asked)
    })?
    .into_iter()
    .map(|item| (item.id, item))
    .collect();
    let names = household_names(conn, p, village_id)?;
    let (village, facts) = village_facts(conn, village_id)?;
    let mut sheet = Sheet::new(
        format!("{village} 申报记录"),
        vec![
            "编号",
            "门牌号",
            "户主",
            "类别",
            "事项",
            "每次分值",
            "次数",
            "合计",
            "状态",
            "发生日期",
            "公示截止",
            "说明",
        ],
    );
    sheet.facts = facts;
    if let Some(status) = filter.status {
        sheet.facts.push(("状态", status.words().to_owned()));
    }
    for c in claims {
        let household = names.get(&c.household_id);
        let item = items.get(&c.item_id);
        sheet.rows.push(vec![
            Cell::Count(c.id),
            household.map(|(door, _)| door.clone()).into(),
            household.map(|(_, name)| name.clone()).into(),
            item.map(|i| i.category.clone()).into(),
            item.map(|i| i.title.clone()).into(),
            c.points.into(),
            Cell::Count(c.quantity.into()),
            c.total.into(),
            c.status.words().into(),
            Cell::Date(c.occurred_on),
            c.notice_ends_at.map_or(Cell::Empty, Cell::Time),
            c.note.into(),
        ]);
    }
    Ok(sheet.made_at(now))
}

/// A shop's receipts (兑换记录), oldest first, with what each took and whether it was
/// voided; the total counts only those that stand.
pub fn redemptions(
    conn: &mut DbConnection,
    p: &Principal,
    shop_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Sheet> {
    let mut receipts = crate::paging::every_page(|page| {
        crate::shop::service::list_redemptions(conn, p, shop_id, &page)
    })?;
    receipts.sort_by_key(|r| r.id);
    let shop = crate::shop::service::shop_name(conn, shop_id)?;
    let mut sheet = Sheet::new(
        format!("{shop} 兑换记录"),
        vec![
            "小票号",
            "时间",
            "门牌号",
            "户主",
            "商品",
            "积分",
            "兑换后余额",
            "代领人",
            "状态",
            "账本序号",
        ],
    );
    sheet.facts = vec![("商店", shop)];
    let mut standing = 0;
    for r in receipts {
        if !r.voided {
            standing += r.total_points.minor();
        }
        let goods = r
            .lines
            .iter()
            .map(|l| format!("{}×{}{}", l.name, l.quantity, l.unit))
            .collect::<Vec<_>>()
            .join("、");
        sheet.rows.push(vec![
            r.receipt_no.into(),
            Cell::Time(r.created_at),
            r.door_no.into(),
            r.display_name.into(),
            goods.into(),
            r.total_points.into(),
            r.points_after.into(),
            r.proxy_name.into(),
            if r.voided { "已作废" } else { "有效" }.into(),
            Cell::Count(r.chain.seq),
        ]);
    }
    let mut total = vec![Cell::Empty; sheet.columns.len()];
    total[0] = format!("共 {} 笔", sheet.rows.len()).into();
    total[5] = Amount::from_minor(standing).into();
    sheet.total = Some(total);
    Ok(sheet.made_at(now))
}
