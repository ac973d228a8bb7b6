//! The township's dashboard (API.md "Township reports and exports"): per village, what
//! households did in a period and what the township owes for the points they hold. Every
//! figure comes from one query over all the villages in sight, never one per village.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::store;
use crate::amount::Amount;
use crate::auth::Principal;
use crate::auth::policy::{Action, Target, authorize, permits};
use crate::claims::model::ClaimStatus;
use crate::clock::{shanghai_midnight, shanghai_today};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::export::{Cell, Sheet};
use crate::ledger::model::TxKind;
use crate::org::policy::VillagePolicy;

/// The longest period one dashboard covers.
const MAX_MONTHS: u32 = 36;

/// `?from=&to=`: Shanghai dates, both included; this year by default.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// First day (default 1 January of this year).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last day, included (default 31 December of this year).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// One village in sight: its row only, and its groups as `groups`.
    pub village_id: Option<i64>,
}

/// Claims submitted in the period, by where they stand now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct ClaimFigures {
    pub submitted: i64,
    /// Approved: on notice, objected to, or posted.
    pub approved: i64,
    pub rejected: i64,
    /// Overturned by the supervisors.
    pub overturned: i64,
}

/// One village's figures, or the totals of all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    pub households: i64,
    /// Households with any claim, award, deduction or redemption in the period.
    pub active_households: i64,
    /// active ÷ households, two decimals ("0.83").
    #[schema(example = "0.83")]
    pub participation: String,
    pub claims: ClaimFigures,
    /// Points awarded to households in the period (net of reversals).
    pub awarded: Amount,
    pub deducted: Amount,
    /// Points spent at shops, net of voids.
    pub redeemed: Amount,
    /// Points cleared by 清零.
    pub expired: Amount,
    /// The positive points balances of households now.
    pub outstanding: Amount,
    /// outstanding × the village's yuan per point.
    pub liability_yuan: Amount,
    /// Redemptions in the period that stand.
    pub redemptions: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct VillageFigures {
    pub village_id: i64,
    #[schema(example = "庆乐村")]
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// One group of a village, as the village's own statistics list it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct GroupFigures {
    /// Null for the households in no group.
    pub group_id: Option<i64>,
    #[schema(example = "第一村民小组")]
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Claims of the period by the category of their item.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CategoryFigures {
    #[schema(example = "人居环境")]
    pub category: String,
    pub claims: i64,
    /// Points of those claims that were posted.
    pub points: Amount,
}

/// Points given and spent in one month of the period (an extension of API.md, for the
/// dashboard's chart).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MonthFigures {
    /// `2026-03`
    #[schema(example = "2026-03")]
    pub month: String,
    pub awarded: Amount,
    pub redeemed: Amount,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Dashboard {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub villages: Vec<VillageFigures>,
    /// With `village_id`: the village's groups, each a row (households in no group last,
    /// as 未分组, when there are any); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupFigures>>,
    pub totals: Figures,
    pub by_category: Vec<CategoryFigures>,
    pub by_month: Vec<MonthFigures>,
}

/// The period asked for, checked: `[from, to]` in Shanghai dates.
fn period(q: &DashboardQuery, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    let year = today.year();
    let from = q.from.or(NaiveDate::from_ymd_opt(year, 1, 1));
    let to = q.to.or(NaiveDate::from_ymd_opt(year, 12, 31));
    let (Some(from), Some(to)) = (from, to) else {
        return Err(AppError::field("from", "日期不对"));
    };
    if to < from {
        return Err(AppError::field("to", "结束日期不能早于开始日期"));
    }
    if from.checked_add_months(chrono::Months::new(MAX_MONTHS)) <= Some(to) {
        return Err(AppError::field("to", "一次最多统计三年"));
    }
    Ok((from, to))
}

/// The UTC instants `[first midnight, midnight after the last day)`.
fn instants((from, to): (NaiveDate, NaiveDate)) -> (NaiveDateTime, NaiveDateTime) {
    let end = to.succ_opt().unwrap_or(to);
    (
        shanghai_midnight(from).naive_utc(),
        shanghai_midnight(end).naive_utc(),
    )
}

/// The villages whose figures the caller sees: the township's for its admin, their own
/// for a village's committee and supervisors.
fn villages_in_sight(
    conn: &mut DbConnection,
    p: &Principal,
) -> AppResult<Vec<(i64, String, VillagePolicy)>> {
    let visible: Vec<_> = store::township_villages(conn, p.township_id)?
        .into_iter()
        .filter(|(id, _, _)| {
            permits(
                p,
                Action::ViewDashboard,
                &Target::village(p.township_id, *id),
            )
        })
        .map(|(id, name, policy)| (id, name, VillagePolicy::from_stored(&policy)))
        .collect();
    if visible.is_empty() {
        // Not ours to see: 404 for a villager, 403 for other staff.
        authorize(p, Action::ViewDashboard, &Target::township(p.township_id))?;
    }
    Ok(visible)
}

pub fn dashboard(
    conn: &mut DbConnection,
    p: &Principal,
    q: &DashboardQuery,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Dashboard> {
    let dates = period(q, shanghai_today(now))?;
    let mut villages = villages_in_sight(conn, p)?;
    if let Some(asked) = q.village_id {
        villages.retain(|(id, _, _)| *id == asked);
        if villages.is_empty() {
            return Err(AppError::NotFound);
        }
    }
    let ids: Vec<i64> = villages.iter().map(|(id, _, _)| *id).collect();
    let span = instants(dates);
    let households = store::dashboard_households(conn, &ids)?;
    let one = if q.village_id.is_some() {
        villages.pop()
    } else {
        None
    };
    let (villages, groups, by_month) = match one {
        Some((village_id, name, policy)) => {
            let group_of: HashMap<i64, Option<i64>> =
                households.iter().map(|h| (h.id, h.group_id)).collect();
            let (mut by_group, by_month) = tally(conn, &ids, dates, &households, |_, h| {
                group_of.get(&h).copied().flatten()
            })?;
            let names = store::groups(conn, village_id)?;
            let mut groups = Vec::with_capacity(names.len() + 1);
            let rows = names
                .into_iter()
                .map(|(id, name)| (Some(id), name))
                .chain(std::iter::once((None, "未分组".to_owned())));
            for (group_id, name) in rows {
                let figures = by_group.remove(&group_id).unwrap_or_default();
                if group_id.is_none() && figures == Figures::default() {
                    continue;
                }
                groups.push(GroupFigures {
                    group_id,
                    name,
                    figures: finished(figures, &policy)?,
                });
            }
            let mut village = totals(groups.iter().map(|g| &g.figures));
            village.liability_yuan = liability(village.outstanding, &policy)?;
            let row = VillageFigures {
                village_id,
                name,
                figures: village,
            };
            (vec![row], Some(groups), by_month)
        }
        None => {
            let (mut by_village, by_month) = tally(conn, &ids, dates, &households, |v, _| v)?;
            let rows = villages
                .into_iter()
                .map(|(village_id, name, policy)| {
                    let figures = by_village.remove(&village_id).unwrap_or_default();
                    Ok(VillageFigures {
                        village_id,
                        name,
                        figures: finished(figures, &policy)?,
                    })
                })
                .collect::<AppResult<Vec<_>>>()?;
            (rows, None, by_month)
        }
    };
    let totals = totals(villages.iter().map(|v| &v.figures));
    let by_category = store::claims_by_category(conn, &ids, span)?
        .into_iter()
        .map(|(category, claims, points)| CategoryFigures {
            category,
            claims,
            points: Amount::from_minor(points),
        })
        .collect();
    Ok(Dashboard {
        from: dates.0,
        to: dates.1,
        villages,
        groups,
        totals,
        by_category,
        by_month,
    })
}

/// Each household's deeds of the period and points held now, added up under `key`
/// (its village, or its group), and the period's months: one query per figure family.
fn tally<K: std::hash::Hash + Eq>(
    conn: &mut DbConnection,
    ids: &[i64],
    dates: (NaiveDate, NaiveDate),
    households: &[store::DashboardHousehold],
    key: impl Fn(i64, i64) -> K,
) -> AppResult<(HashMap<K, Figures>, Vec<MonthFigures>)> {
    let span = instants(dates);
    let mut by: HashMap<K, Figures> = HashMap::new();
    for h in households.iter().filter(|h| h.active) {
        by.entry(key(h.village_id, h.id)).or_default().households += 1;
    }
    for (village, household, status, n) in store::claim_counts(conn, ids, span)? {
        count_claim(
            &mut by.entry(key(village, household)).or_default().claims,
            status,
            n,
        );
    }
    // The period's flows are its months' flows: read once, month by month, for both.
    let mut by_month = Vec::new();
    for (month, span) in months(dates)? {
        let mut f = Figures::default();
        for flow in store::point_flows(conn, ids, span)? {
            let (kind, gains, losses) = (flow.kind, flow.gains, flow.losses);
            let at = by
                .entry(key(flow.village_id, flow.household_id))
                .or_default();
            add_flow(at, kind, gains, losses);
            add_flow(&mut f, kind, gains, losses);
        }
        by_month.push(MonthFigures {
            month,
            awarded: f.awarded,
            redeemed: f.redeemed,
        });
    }
    for (village, household, n) in store::redemption_counts(conn, ids, span)? {
        by.entry(key(village, household)).or_default().redemptions += n;
    }
    let active: HashSet<(i64, i64)> = store::active_households(conn, ids, span)?
        .into_iter()
        .collect();
    for (village, household) in active {
        by.entry(key(village, household))
            .or_default()
            .active_households += 1;
    }
    for (village, household, held) in store::outstanding(conn, ids)? {
        let f = by.entry(key(village, household)).or_default();
        f.outstanding = plus(f.outstanding, held);
    }
    Ok((by, by_month))
}

/// Figures with what follows from the sums: liability at the village's rate, participation.
fn finished(mut figures: Figures, policy: &VillagePolicy) -> AppResult<Figures> {
    figures.liability_yuan = liability(figures.outstanding, policy)?;
    figures.participation = participation(figures.active_households, figures.households);
    Ok(figures)
}

fn liability(outstanding: Amount, policy: &VillagePolicy) -> AppResult<Amount> {
    crate::shop::settlement::to_yuan(outstanding, policy.yuan_per_point)
        .ok_or_else(|| AppError::internal("liability out of range"))
}

fn count_claim(claims: &mut ClaimFigures, status: ClaimStatus, n: i64) {
    claims.submitted += n;
    match status {
        ClaimStatus::InNotice | ClaimStatus::Objected | ClaimStatus::Posted => claims.approved += n,
        ClaimStatus::Rejected => claims.rejected += n,
        ClaimStatus::Overturned => claims.overturned += n,
        ClaimStatus::Submitted | ClaimStatus::Reversed => {}
    }
}

/// Adds a kind of transaction's gains and losses (hundredths, losses negative) to the
/// figures: a reversal undoes an award when it takes points away, a deduction when it
/// gives them back.
fn add_flow(f: &mut Figures, kind: TxKind, gains: i64, losses: i64) {
    let add = |a: &mut Amount, minor: i64| *a = plus(*a, minor);
    match kind {
        TxKind::Award => add(&mut f.awarded, gains + losses),
        TxKind::Deduction => add(&mut f.deducted, -(gains + losses)),
        TxKind::Reversal => {
            add(&mut f.awarded, losses);
            add(&mut f.deducted, -gains);
        }
        TxKind::Redemption | TxKind::Void => add(&mut f.redeemed, -(gains + losses)),
        TxKind::Expiry => add(&mut f.expired, -(gains + losses)),
        TxKind::Settlement => {}
    }
}

/// `a` and `minor` hundredths more; a figure that large is past any township's points.
fn plus(a: Amount, minor: i64) -> Amount {
    Amount::from_minor(a.minor().saturating_add(minor))
}

/// active ÷ all as "0.83"; "0.00" for a village without households.
fn participation(active: i64, households: i64) -> String {
    if households == 0 {
        return "0.00".to_owned();
    }
    let hundredths = (active * 100 * 2 + households) / (households * 2);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn totals<'a>(rows: impl Iterator<Item = &'a Figures>) -> Figures {
    let mut t = Figures::default();
    let add = |a: Amount, b: Amount| plus(a, b.minor());
    for f in rows {
        t.households += f.households;
        t.active_households += f.active_households;
        t.claims.submitted += f.claims.submitted;
        t.claims.approved += f.claims.approved;
        t.claims.rejected += f.claims.rejected;
        t.claims.overturned += f.claims.overturned;
        t.awarded = add(t.awarded, f.awarded);
        t.deducted = add(t.deducted, f.deducted);
        t.redeemed = add(t.redeemed, f.redeemed);
        t.expired = add(t.expired, f.expired);
        t.outstanding = add(t.outstanding, f.outstanding);
        t.liability_yuan = add(t.liability_yuan, f.liability_yuan);
        t.redemptions += f.redemptions;
    }
    t.participation = participation(t.active_households, t.households);
    t
}

/// Each month of the period ("2026-03") with its UTC instants, the first and last cut
/// to the period.
fn months(
    (from, to): (NaiveDate, NaiveDate),
) -> AppResult<Vec<(String, (NaiveDateTime, NaiveDateTime))>> {
    let mut out = Vec::new();
    let mut first = from.with_day(1).unwrap_or(from);
    while first <= to {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| AppError::internal("month out of range"))?;
        let last = next.pred_opt().unwrap_or(next).min(to);
        out.push((
            first.format("%Y-%m").to_string(),
            instants((first.max(from), last)),
        ));
        first = next;
    }
    Ok(out)
}

/// The dashboard as a sheet: a row per village with its chain head, and the totals.
pub fn export(
    conn: &mut DbConnection,
    p: &Principal,
    q: &DashboardQuery,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Sheet> {
    let board = dashboard(conn, p, q, now)?;
    let ids: Vec<i64> = board.villages.iter().map(|v| v.village_id).collect();
    let heads: HashMap<i64, String> = store::chain_heads(conn, &ids)?
        .into_iter()
        .map(|(village, seq, hash)| (village, super::exports::head_text(seq, &hash)))
        .collect();
    let scope = match (board.villages.as_slice(), &board.groups) {
        ([only], Some(_)) => format!("{}各组", only.name),
        ([only], None) => only.name.clone(),
        _ => crate::org::service::township_name(conn, p.township_id)?,
    };
    let mut sheet = Sheet::new(
        format!("{scope} 积分工作统计"),
        vec![
            if board.groups.is_some() {
                "村民小组"
            } else {
                "村"
            },
            "户数",
            "参与户数",
            "参与率",
            "申报",
            "通过",
            "驳回",
            "异议成立",
            "奖励积分",
            "扣减积分",
            "兑换积分",
            "清零积分",
            "未兑积分",
            "折合金额（元）",
            "兑换笔数",
            "账本链头",
        ],
    );
    sheet.facts.push((
        "期间",
        format!(
            "{} 至 {}",
            board.from.format("%Y-%m-%d"),
            board.to.format("%Y-%m-%d")
        ),
    ));
    match &board.groups {
        // A village's groups share its chain: its head goes on the totals row.
        Some(groups) => {
            sheet.rows = groups
                .iter()
                .map(|g| figure_cells(g.name.clone(), &g.figures, None))
                .collect();
            let head = board
                .villages
                .first()
                .and_then(|v| heads.get(&v.village_id).cloned());
            sheet.total = Some(figure_cells("合计".to_owned(), &board.totals, head));
        }
        None => {
            sheet.rows = board
                .villages
                .iter()
                .map(|v| {
                    figure_cells(
                        v.name.clone(),
                        &v.figures,
                        heads.get(&v.village_id).cloned(),
                    )
                })
                .collect();
            sheet.total = Some(figure_cells("合计".to_owned(), &board.totals, None));
        }
    }
    Ok(sheet.made_at(now))
}

fn figure_cells(name: String, f: &Figures, head: Option<String>) -> Vec<Cell> {
    vec![
        name.into(),
        Cell::Count(f.households),
        Cell::Count(f.active_households),
        Amount::parse(&f.participation).ok().into(),
        Cell::Count(f.claims.submitted),
        Cell::Count(f.claims.approved),
        Cell::Count(f.claims.rejected),
        Cell::Count(f.claims.overturned),
        f.awarded.into(),
        f.deducted.into(),
        f.redeemed.into(),
        f.expired.into(),
        f.outstanding.into(),
        f.liability_yuan.into(),
        Cell::Count(f.redemptions),
        head.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participation_rounds_to_two_decimals() {
        assert_eq!(participation(5, 6), "0.83");
        assert_eq!(participation(6, 6), "1.00");
        assert_eq!(participation(0, 0), "0.00");
        assert_eq!(participation(1, 3), "0.33");
    }

    #[test]
    fn a_reversal_undoes_what_it_reverses() {
        let mut f = Figures::default();
        add_flow(&mut f, TxKind::Award, 3000, 0);
        add_flow(&mut f, TxKind::Deduction, 0, -500);
        add_flow(&mut f, TxKind::Reversal, 500, -1000);
        assert_eq!(f.awarded, Amount::from_minor(2000));
        assert_eq!(f.deducted, Amount::from_minor(0));
    }

    #[test]
    fn the_period_defaults_to_this_year_and_is_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(
            period(&DashboardQuery::default(), today).unwrap(),
            (d("2026-01-01").unwrap(), d("2026-12-31").unwrap())
        );
        let backwards = DashboardQuery {
            from: d("2026-05-01"),
            to: d("2026-04-01"),
            ..Default::default()
        };
        assert!(period(&backwards, today).is_err());
        let long = DashboardQuery {
            from: d("2020-01-01"),
            to: d("2026-01-01"),
            ..Default::default()
        };
        assert!(period(&long, today).is_err());
    }
}
