//! Village lists as files (API.md "Township reports and exports"): the register (农户名册)
//! with what each household holds now, and a ranking, whole, as the list filters them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::model::{RankedAsset, RankingQuery};
use super::store;
use crate::amount::Amount;
use crate::auth::Principal;
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
}

/// The households the list shows under `filter`, with their group and balances.
pub fn register_lines(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    filter: &HouseholdFilter,
) -> AppResult<Vec<RegisterLine>> {
    let households = crate::org::service::all_households(conn, p, village_id, filter)?;
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
        .map(|h| RegisterLine {
            group: h.group_id.and_then(|g| groups.get(&g).cloned()),
            points: of(&points, h.id),
            honour: of(&honour, h.id),
            household: h,
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
    let mut asked = RankingQuery {
        limit: Some(crate::paging::MAX_LIMIT),
        cursor: None,
        ..q.clone()
    };
    let mut places = Vec::new();
    loop {
        let page = super::service::rankings(conn, p, village_id, &asked, today)?;
        places.extend(page.items);
        match page.next_cursor {
            Some(next) => asked.cursor = Some(next),
            None => break,
        }
    }
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
