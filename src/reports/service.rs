//! What reads across features for people to see: a household's balance and statement,
//! rankings and the honour board. Reads only: no use case here writes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{
    BoardQuery, BusinessFigures, RankedAsset, RankingPeriod, RankingQuery, VillageFigures, ranks,
    star_title, stars, to_next_star,
};
use super::store::{self, RankedRow};
use super::views::{
    BalanceView, BoardDeduction, BoardHousehold, BoardVillage, DoorPlate, GroupRankingView,
    HonourBoard, HouseholdRecord, RankedGroup, RankedHousehold, RankingScope, RankingView,
    StarLevel,
};
use crate::amount::Amount;
use crate::auth::Principal;
use crate::auth::policy::{Action, Target, authorize, permits};
use crate::clock::{shanghai_midnight, shanghai_today};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::ledger::model::Asset;
use crate::ledger::service::{holdings, household_entries};
use crate::ledger::views::EntryView;
use crate::org::model::mask_name;
use crate::org::policy::VillagePolicy;
use crate::org::service::{
    household_target, village_policy, village_summary, village_summary_by_code, village_target,
};
use crate::paging::{Page, PageQuery, PageRequest, encode_cursor};

/// A household's points, honour, stars and what is waiting out its notice.
pub fn balance(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
) -> AppResult<BalanceView> {
    let (village_id, target) = household_target(conn, household_id)?;
    authorize(p, Action::ViewBalance, &target)?;
    let pending = crate::claims::service::pending(conn, household_id)?;
    let held = holdings(conn, village_id, household_id)?;
    let policy = village_policy(conn, village_id)?;
    Ok(BalanceView {
        household_id,
        points: held.points,
        honour: held.honour,
        pending,
        stars: stars(&policy, held.honour),
        star_levels: policy.star_thresholds.len(),
        next_star_needs: to_next_star(&policy, held.honour),
        updated_at: held.updated_at,
    })
}

/// A household's statement: its entries, newest first.
pub fn household_ledger(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    page: &PageQuery,
) -> AppResult<Page<EntryView>> {
    let (village_id, target) = household_target(conn, household_id)?;
    authorize(p, Action::ViewBalance, &target)?;
    household_entries(conn, village_id, household_id, page.request()?)
}

/// One household's place in a ranking.
struct Standing {
    rank: usize,
    household: RankedRow,
    amount: i64,
    honour: i64,
}

/// A village's households ranked, best first, with the period's Shanghai dates.
struct Table {
    dates: Option<(NaiveDate, NaiveDate)>,
    standings: Vec<Standing>,
}

impl Table {
    /// A household's place; an inactive one has none.
    fn standing_of(&self, household_id: i64) -> AppResult<&Standing> {
        self.standings
            .iter()
            .find(|s| s.household.id == household_id)
            .ok_or(AppError::NotFound)
    }
}

/// Ranks the village's active households (one group's when given) by an asset over a
/// period: three queries whatever the village's size, the ranking itself in memory.
fn rank_households(
    conn: &mut DbConnection,
    village_id: i64,
    asset: RankedAsset,
    period: RankingPeriod,
    at: NaiveDate,
    group_id: Option<i64>,
) -> AppResult<Table> {
    let households = store::households(conn, village_id, group_id)?;
    let honour: HashMap<i64, i64> = store::balances(conn, village_id, Asset::Honour)?
        .into_iter()
        .collect();
    let dates = period.dates(at);
    let amounts: HashMap<i64, i64> = match (dates, asset) {
        (None, RankedAsset::Honour) => honour.clone(),
        (None, RankedAsset::Points) => store::balances(conn, village_id, Asset::Points)?
            .into_iter()
            .collect(),
        (Some((from, to)), _) => {
            let end = to.succ_opt().unwrap_or(to);
            store::period_sums(
                conn,
                village_id,
                asset.asset(),
                shanghai_midnight(from).naive_utc(),
                shanghai_midnight(end).naive_utc(),
            )?
            .into_iter()
            .collect()
        }
    };
    let mut rows: Vec<(RankedRow, i64)> = households
        .into_iter()
        .map(|h| {
            let amount = amounts.get(&h.id).copied().unwrap_or(0);
            (h, amount)
        })
        .collect();
    // Best first; equals in the order they joined the village.
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
    let standings = ranks(&rows, |r| r.1)
        .into_iter()
        .zip(rows)
        .map(|(rank, (household, amount))| Standing {
            rank,
            honour: honour.get(&household.id).copied().unwrap_or(0),
            household,
            amount,
        })
        .collect();
    Ok(Table { dates, standings })
}

/// The village's households by the honour they hold now (stars, plates).
fn by_honour(conn: &mut DbConnection, village_id: i64) -> AppResult<Table> {
    let ever = NaiveDate::MIN;
    rank_households(
        conn,
        village_id,
        RankedAsset::Honour,
        RankingPeriod::All,
        ever,
        None,
    )
}

/// Who may see a village's rankings: its staff always, its villagers when the policy
/// makes rankings public; anyone else is told there is nothing there.
fn may_see_rankings(p: &Principal, target: &Target, policy: &VillagePolicy) -> AppResult<()> {
    if permits(p, Action::ViewRankings, target) {
        return Ok(());
    }
    if policy.public_rankings && permits(p, Action::ViewVillage, target) {
        return Ok(());
    }
    Err(AppError::NotFound)
}

/// A ranking as asked, once the caller may see it: the village's policy and who is
/// looking, what is counted over which days, and the ranked households.
struct Ranked {
    policy: VillagePolicy,
    names: Names,
    scope: RankingScope,
    table: Table,
}

fn ranked(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    q: &RankingQuery,
    group_id: Option<i64>,
    today: NaiveDate,
) -> AppResult<Ranked> {
    let target = village_target(conn, village_id)?;
    let policy = village_policy(conn, village_id)?;
    may_see_rankings(p, &target, &policy)?;
    if let Some(group) = group_id {
        let known = store::groups(conn, village_id)?
            .iter()
            .any(|(id, _)| *id == group);
        if !known {
            return Err(AppError::field("group_id", "本村没有这个组"));
        }
    }
    let (asset, period) = (q.asset.unwrap_or_default(), q.period.unwrap_or_default());
    let table = rank_households(
        conn,
        village_id,
        asset,
        period,
        q.at.unwrap_or(today),
        group_id,
    )?;
    Ok(Ranked {
        policy,
        names: Names::for_viewer(p, &target),
        scope: RankingScope {
            village_id,
            asset,
            period,
            from: table.dates.map(|d| d.0),
            to: table.dates.map(|d| d.1),
        },
        table,
    })
}

fn group_names(conn: &mut DbConnection, village_id: i64) -> AppResult<HashMap<i64, String>> {
    Ok(store::groups(conn, village_id)?.into_iter().collect())
}

/// `GET /villages/{id}/rankings`: a page of the village's households, best first.
pub fn rankings(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    q: &RankingQuery,
    today: NaiveDate,
) -> AppResult<RankingView> {
    let page = q.page().request()?;
    let r = ranked(conn, p, village_id, q, q.group_id, today)?;
    let groups = group_names(conn, village_id)?;
    let items = page_of(r.table.standings, page, |s| {
        ranked_view(&s, &r.policy, &groups, r.names)
    });
    Ok(RankingView {
        scope: r.scope,
        items: items.items,
        next_cursor: items.next_cursor,
    })
}

/// A page of a ranking; the cursor is the place of the last item given.
fn page_of<T>(
    standings: Vec<Standing>,
    page: PageRequest,
    view: impl Fn(Standing) -> T,
) -> Page<T> {
    let skip = usize::try_from(page.after.unwrap_or(0)).unwrap_or(0);
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let total = standings.len();
    let items: Vec<T> = standings
        .into_iter()
        .skip(skip)
        .take(limit)
        .map(view)
        .collect();
    let shown = skip + items.len();
    let next_cursor = (shown < total).then(|| encode_cursor(i64::try_from(shown).unwrap_or(0)));
    Page { items, next_cursor }
}

fn ranked_view(
    s: &Standing,
    policy: &VillagePolicy,
    groups: &HashMap<i64, String>,
    names: Names,
) -> RankedHousehold {
    RankedHousehold {
        rank: s.rank,
        household_id: s.household.id,
        door_no: s.household.door_no.clone(),
        display_name: names.show(&s.household.head_name),
        group: s.household.group_id.and_then(|g| groups.get(&g).cloned()),
        amount: Amount::from_minor(s.amount),
        stars: stars(policy, Amount::from_minor(s.honour)),
    }
}

/// A group's households and what they earned together (hundredths).
struct GroupTotal {
    id: i64,
    name: String,
    households: usize,
    amount: i64,
}

impl GroupTotal {
    fn per_household(&self) -> i64 {
        match i64::try_from(self.households) {
            Ok(n) if n > 0 => self.amount / n,
            _ => 0,
        }
    }
}

/// `GET /villages/{id}/group-rankings`: the village's groups by what their households
/// earned on average (groups differ in size; the total is shown beside it).
pub fn group_rankings(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    q: &RankingQuery,
    today: NaiveDate,
) -> AppResult<GroupRankingView> {
    let r = ranked(conn, p, village_id, q, None, today)?;
    let mut groups: Vec<GroupTotal> = store::groups(conn, village_id)?
        .into_iter()
        .map(|(id, name)| {
            let members = r
                .table
                .standings
                .iter()
                .filter(|s| s.household.group_id == Some(id));
            let (households, amount) = members.fold((0usize, 0i64), |(n, sum), s| {
                (n + 1, sum.saturating_add(s.amount))
            });
            GroupTotal {
                id,
                name,
                households,
                amount,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.per_household()
            .cmp(&a.per_household())
            .then(a.id.cmp(&b.id))
    });
    let items = ranks(&groups, GroupTotal::per_household)
        .into_iter()
        .zip(groups)
        .map(|(rank, g)| RankedGroup {
            rank,
            per_household: Amount::from_minor(g.per_household()),
            group_id: g.id,
            group: g.name,
            households: g.households,
            amount: Amount::from_minor(g.amount),
        })
        .collect();
    Ok(GroupRankingView {
        scope: r.scope,
        items,
    })
}

/// How many places 红榜 shows (more when the last place is shared).
const RED_PLACES: usize = 10;

/// `GET /villages/{code}/honour-board`: public when the village's policy says so, else
/// there is no board to see (404).
pub fn honour_board(
    conn: &mut DbConnection,
    code: &str,
    q: &BoardQuery,
    now: DateTime<Utc>,
) -> AppResult<HonourBoard> {
    let (village_id, village_name) =
        village_summary_by_code(conn, code)?.ok_or(AppError::NotFound)?;
    let policy = village_policy(conn, village_id)?;
    if !policy.public_rankings {
        return Err(AppError::NotFound);
    }
    let today = shanghai_today(now);
    let period = q.period.unwrap_or(RankingPeriod::Month);
    let at = q.at.unwrap_or(today);
    let groups = group_names(conn, village_id)?;
    let table = rank_households(conn, village_id, RankedAsset::Honour, period, at, None)?;
    let red = table
        .standings
        .iter()
        .filter(|s| s.amount > 0 && s.rank <= RED_PLACES)
        .map(|s| ranked_view(s, &policy, &groups, Names::Masked))
        .collect();
    let black = if policy.public_deductions {
        board_deductions(conn, village_id, &table, &groups)?
    } else {
        Vec::new()
    };
    Ok(HonourBoard {
        village: BoardVillage {
            code: code.to_owned(),
            name: village_name,
        },
        period,
        period_label: period.label(at),
        from: table.dates.map(|d| d.0),
        to: table.dates.map(|d| d.1),
        red,
        black,
        stars: star_levels(&table, &policy, &groups, Names::Masked),
        star_levels: policy.star_thresholds.len(),
        head: crate::ledger::service::head(conn, village_id)?,
        generated_at: now,
    })
}

/// Whose eyes a list is for: names in full for those who see contact details, else masked.
#[derive(Clone, Copy)]
enum Names {
    Full,
    Masked,
}

impl Names {
    fn for_viewer(p: &Principal, target: &Target) -> Self {
        if permits(p, Action::ViewContactDetails, target) {
            Names::Full
        } else {
            Names::Masked
        }
    }

    fn show(self, name: &str) -> String {
        match self {
            Names::Full => name.to_owned(),
            Names::Masked => mask_name(name),
        }
    }
}

fn board_household(s: &Standing, groups: &HashMap<i64, String>, names: Names) -> BoardHousehold {
    BoardHousehold {
        door_no: s.household.door_no.clone(),
        display_name: names.show(&s.household.head_name),
        group: s.household.group_id.and_then(|g| groups.get(&g).cloned()),
    }
}

/// 黑榜: each household with deductions standing in the period, most deducted first,
/// with the items it was deducted for.
fn board_deductions(
    conn: &mut DbConnection,
    village_id: i64,
    table: &Table,
    groups: &HashMap<i64, String>,
) -> AppResult<Vec<BoardDeduction>> {
    let between = table.dates.map(|(from, to)| {
        let end = to.succ_opt().unwrap_or(to);
        (
            shanghai_midnight(from).naive_utc(),
            shanghai_midnight(end).naive_utc(),
        )
    });
    let mut by_household: HashMap<i64, (Vec<String>, i64)> = HashMap::new();
    for (household, title, total) in store::deductions(conn, village_id, between)? {
        let entry = by_household.entry(household).or_default();
        if !entry.0.contains(&title) {
            entry.0.push(title);
        }
        entry.1 = entry.1.saturating_add(total);
    }
    let mut black: Vec<(i64, BoardDeduction)> = table
        .standings
        .iter()
        .filter_map(|s| {
            let (items, total) = by_household.remove(&s.household.id)?;
            Some((
                total,
                BoardDeduction {
                    household: board_household(s, groups, Names::Masked),
                    items,
                    amount: Amount::from_minor(total),
                },
            ))
        })
        .collect();
    black.sort_by_key(|(total, _)| *total);
    Ok(black.into_iter().map(|(_, d)| d).collect())
}

/// Star households by level, the highest first; households without a star are not named.
fn star_levels(
    table: &Table,
    policy: &VillagePolicy,
    groups: &HashMap<i64, String>,
    names: Names,
) -> Vec<StarLevel> {
    (1..=policy.star_thresholds.len())
        .rev()
        .filter_map(|level| {
            let households: Vec<BoardHousehold> = table
                .standings
                .iter()
                .filter(|s| stars(policy, Amount::from_minor(s.honour)) == level)
                .map(|s| board_household(s, groups, names))
                .collect();
            (!households.is_empty()).then(|| StarLevel {
                stars: level,
                title: star_title(level).unwrap_or_default(),
                households,
            })
        })
        .collect()
}

/// The village's star households by level for its desk: whatever the policy, names in
/// full for the committee and supervisors.
pub fn star_roll(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
) -> AppResult<Vec<StarLevel>> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ViewRankings, &target)?;
    let policy = village_policy(conn, village_id)?;
    let groups = group_names(conn, village_id)?;
    let table = by_honour(conn, village_id)?;
    Ok(star_levels(
        &table,
        &policy,
        &groups,
        Names::for_viewer(p, &target),
    ))
}

/// How many honours a door plate lists.
const PLATE_HONOURS: i64 = 10;

/// The public page a household's door plate opens (the plate's token found it).
pub fn door_plate(conn: &mut DbConnection, household_id: i64) -> AppResult<DoorPlate> {
    let (village_id, _) = household_target(conn, household_id)?;
    let policy = village_policy(conn, village_id)?;
    let (village_code, village_name) = village_summary(conn, village_id)?;
    let table = by_honour(conn, village_id)?;
    // Inactive households are not ranked, and their plates open nothing.
    let own = table.standing_of(household_id)?;
    let honour = Amount::from_minor(own.honour);
    Ok(DoorPlate {
        village_name,
        village_code,
        door_no: own.household.door_no.clone(),
        display_name: mask_name(&own.household.head_name),
        honour,
        stars: stars(&policy, honour),
        star_levels: policy.star_thresholds.len(),
        rank: policy.public_rankings.then_some(own.rank),
        households: table.standings.len(),
        honours: store::latest_honours(conn, household_id, PLATE_HONOURS)?,
    })
}

/// What a household holds now and what it earned and lost between `from` and `to`
/// (dates it happened, inclusive), with its place by honour and the village's chain head.
/// For callers that have authorised the read themselves (statements).
pub fn household_record(
    conn: &mut DbConnection,
    household_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<HouseholdRecord> {
    let (village_id, _) = household_target(conn, household_id)?;
    let policy = village_policy(conn, village_id)?;
    let (village_code, village_name) = village_summary(conn, village_id)?;
    let table = by_honour(conn, village_id)?;
    // Inactive households are not ranked, and get no statement.
    let own = table.standing_of(household_id)?;
    let held = holdings(conn, village_id, household_id)?;
    let claims = store::posted_claims(conn, household_id, from, to)?;
    let transactions: Vec<i64> = claims.iter().filter_map(|c| c.transaction_id).collect();
    let reversed = crate::ledger::service::reversed_among(conn, &transactions)?;
    let (honours, deductions) = claims
        .into_iter()
        .filter(|c| c.transaction_id.is_none_or(|tx| !reversed.contains(&tx)))
        .map(|c| (c.occurred_on, c.title, Amount::from_minor(c.total)))
        .partition(|(_, _, total)| total.minor() > 0);
    Ok(HouseholdRecord {
        village_id,
        village_code,
        village_name,
        door_no: own.household.door_no.clone(),
        head_name: own.household.head_name.clone(),
        points: held.points,
        honour: held.honour,
        stars: stars(&policy, held.honour),
        star_levels: policy.star_thresholds.len(),
        rank: own.rank,
        households: table.standings.len(),
        honours,
        deductions,
        chain: crate::ledger::service::head(conn, village_id)?,
    })
}

/// Every village's figures for `/metrics`: points outstanding, claims by status,
/// redemptions and voids, 清零 runs, and how far posting lags behind notice.
pub fn business_figures(conn: &mut DbConnection, now: DateTime<Utc>) -> AppResult<BusinessFigures> {
    let villages = crate::org::service::all_villages(conn)?;
    let mut by_id: HashMap<i64, VillageFigures> = villages
        .iter()
        .map(|(id, code, _)| {
            let figures = VillageFigures {
                code: code.clone(),
                ..VillageFigures::default()
            };
            (*id, figures)
        })
        .collect();
    for (id, hundredths) in store::outstanding_by_village(conn)? {
        if let Some(v) = by_id.get_mut(&id) {
            v.outstanding = Amount::from_minor(hundredths);
        }
    }
    for (id, status, n) in store::claims_by_status(conn)? {
        if let Some(v) = by_id.get_mut(&id) {
            v.claims.push((status, n));
        }
    }
    for (id, n) in store::redemptions_by_village(conn, false)? {
        if let Some(v) = by_id.get_mut(&id) {
            v.redemptions = n;
        }
    }
    for (id, n) in store::redemptions_by_village(conn, true)? {
        if let Some(v) = by_id.get_mut(&id) {
            v.voided_redemptions = n;
        }
    }
    for (id, runs, hundredths) in store::expiry_runs_by_village(conn)? {
        if let Some(v) = by_id.get_mut(&id) {
            v.expiry_runs = runs;
            v.expired = Amount::from_minor(hundredths);
        }
    }
    let lag = store::oldest_unposted_notice(conn, now.naive_utc())?.map_or(0.0, |ended| {
        (now.naive_utc() - ended).as_seconds_f64().max(0.0)
    });
    Ok(BusinessFigures {
        villages: villages
            .iter()
            .filter_map(|(id, _, _)| by_id.remove(id))
            .collect(),
        posting_lag_seconds: lag,
    })
}
