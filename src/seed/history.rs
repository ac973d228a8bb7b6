//! Three months of village life before the demo's today, made day by day through the same
//! use cases as real use: the committee's monthly awards, villagers' claims reviewed the
//! next day, notice and posting, purchases at the shops, a void, an open objection and a
//! settled statement. So the chain, the notice board, the rankings, the dashboard and the
//! shops' statements have something to show, and every household has points to spend.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth::Caller;
use crate::auth::secrets::Pepper;
use crate::claims::model::{AwardRequest, ClaimRequest, ClaimStatus};
use crate::claims::service as claims;
use crate::clock::{shanghai_midnight, shanghai_today};
use crate::db::Tx;
use crate::db::idempotency::IdempotencyKey;
use crate::error::AppResult;
use crate::shop::model::{CreateSettlement, LineRequest, PayRequest, RedeemRequest, ScanRequest};
use crate::shop::{service as shop, settlement};

/// A village as the history needs it.
pub(super) struct Village {
    pub id: i64,
    pub code: String,
    pub committee: Caller,
    /// Each active household with its head, who claims and pays for it.
    pub households: Vec<(i64, Caller)>,
    /// The checklist's item ids by code.
    pub items: HashMap<String, i64>,
    /// Which of the history's shops serves the village.
    pub shop: usize,
}

/// A shop with its keeper and what is on its shelves: (goods id, points price in
/// hundredths, stock left).
pub(super) struct Shop {
    pub id: i64,
    pub keeper: Caller,
    pub goods: Vec<(i64, i64, i64)>,
}

/// A committee award to a share of the village: on `day` of the month `months_ago`
/// before this one, `item` to `percent` of the households.
struct Award {
    months_ago: u32,
    day: u32,
    item: &'static str,
    percent: u32,
}

const fn award(months_ago: u32, day: u32, item: &'static str, percent: u32) -> Award {
    Award {
        months_ago,
        day,
        item,
        percent,
    }
}

/// Inspections each month (门前三包, 垃圾分类), the monthly 议事会, clean-up days, an
/// anti-drug talk, and the year's 好媳妇 and 美丽庭院 chosen in the autumn.
const AWARDS: &[Award] = &[
    award(3, 5, "B01", 85),
    award(3, 5, "B02", 70),
    award(3, 12, "G01", 60),
    award(3, 20, "I01", 50),
    award(2, 5, "B01", 85),
    award(2, 5, "B02", 75),
    award(2, 12, "G01", 55),
    award(2, 15, "D02", 40),
    award(2, 18, "A02", 4),
    award(2, 25, "I01", 45),
    award(1, 5, "B01", 90),
    award(1, 5, "B02", 80),
    award(1, 12, "G01", 65),
    award(1, 15, "D02", 45),
    award(1, 20, "B04", 8),
    award(1, 22, "I01", 50),
];

/// What villagers claim themselves, none of which the committee awards above, with the
/// cap the checklist sets: (item, most in its period, the period's key).
const CLAIMABLE: &[(&str, u32, Period)] = &[
    ("B03", 4, Period::Ever),
    ("C06", 1, Period::Year),
    ("D07", 1, Period::Month),
    ("E01", 1, Period::Year),
    ("E03", 4, Period::Ever),
    ("F02", 2, Period::Month),
    ("I02", 8, Period::Ever),
    ("G04", 2, Period::Month),
];

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Period {
    Ever,
    Year,
    Month,
}

impl Period {
    fn key(self, day: NaiveDate) -> (i32, u32) {
        match self {
            Period::Ever => (0, 0),
            Period::Year => (day.year(), 0),
            Period::Month => (day.year(), day.month()),
        }
    }
}

const REJECTIONS: &[&str] = &[
    "当天没有组织这项活动，请核对日期后重新申报。",
    "同一件事已经由组长申报过了。",
    "说明写得不清楚，请补充后重新申报。",
];

const NOTES: &[&str] = &[
    "和屯里几户一起去的",
    "上午去的，组长在场",
    "",
    "带着孩子一起参加",
];

/// The people who act in the history, and what it remembers between days.
pub(super) struct History<'p> {
    pub admin: Caller,
    pub pepper: &'p Pepper,
    pub villages: Vec<Village>,
    pub shops: Vec<Shop>,
    rng: StdRng,
    /// Claims waiting for the committee: (village index, claim id).
    submitted: Vec<(usize, i64)>,
    /// Claims approved on the day before, which a neighbour may object to.
    approved: Vec<(usize, i64, i64)>,
    /// Claims per household, item and period, so no claim runs over its cap.
    used: HashMap<(i64, &'static str, (i32, u32)), u32>,
    /// The last redemption, for the one void.
    last_sale: Option<i64>,
    /// Statements approved and waiting to be paid.
    settlements: Vec<i64>,
    keys: usize,
}

impl<'p> History<'p> {
    pub fn new(
        admin: Caller,
        pepper: &'p Pepper,
        villages: Vec<Village>,
        shops: Vec<Shop>,
    ) -> Self {
        Self {
            admin,
            pepper,
            villages,
            shops,
            rng: StdRng::seed_from_u64(20_261_201),
            submitted: Vec::new(),
            approved: Vec::new(),
            used: HashMap::new(),
            last_sale: None,
            settlements: Vec::new(),
            keys: 0,
        }
    }

    /// Lives every day from the first of the month three months ago to yesterday, then
    /// posts what is due today.
    pub fn live(mut self, tx: &mut Tx<'_>, now: DateTime<Utc>) -> AppResult<()> {
        let today = shanghai_today(now);
        let first = month_start(today, 3);
        let mut day = first;
        while day < today {
            let morning = shanghai_midnight(day) + Duration::hours(9);
            self.awards(tx, today, day, morning)?;
            self.review(tx, morning + Duration::hours(1))?;
            self.claims(tx, day, morning + Duration::hours(5))?;
            if day > first + Duration::days(10) {
                self.sales(tx, morning + Duration::hours(7))?;
            }
            let last_month = month_start(today, 1);
            if day == last_month + Duration::days(5) {
                self.settle(tx, month_start(today, 2), morning + Duration::hours(2))?;
            }
            if day == last_month + Duration::days(9) {
                self.pay(tx, morning + Duration::hours(2))?;
            }
            if day == last_month + Duration::days(19) {
                self.void(tx, morning + Duration::hours(9))?;
            }
            if day.succ_opt() == Some(today) {
                self.objection(tx, morning + Duration::hours(11))?;
            }
            claims::post_due(tx, morning + Duration::hours(12))?;
            day = day.succ_opt().unwrap_or(today);
        }
        claims::post_due(tx, now)?;
        Ok(())
    }

    fn key(&mut self, scope: &str) -> AppResult<IdempotencyKey> {
        self.keys += 1;
        IdempotencyKey::new(
            format!("seed:{scope}"),
            Some(&format!("demo-{}", self.keys)),
            "POST",
            "/seed",
            &serde_json::Value::Null,
        )
    }

    fn awards(
        &mut self,
        tx: &mut Tx<'_>,
        today: NaiveDate,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        for a in AWARDS {
            if month_start(today, a.months_ago).with_day(a.day) != Some(day) {
                continue;
            }
            for v in 0..self.villages.len() {
                let village = &self.villages[v];
                let Some(&item_id) = village.items.get(a.item) else {
                    continue;
                };
                let household_ids: Vec<i64> = village
                    .households
                    .iter()
                    .map(|(id, _)| *id)
                    .filter(|_| self.rng.random_range(0..100) < a.percent)
                    .collect();
                if household_ids.is_empty() {
                    continue;
                }
                let request = AwardRequest {
                    item_id,
                    household_ids,
                    quantity: Some(1),
                    occurred_on: day,
                    note: Some("村委会评定".to_owned()),
                };
                let key = self.key(&self.villages[v].code.clone())?;
                let village = &self.villages[v];
                claims::award(tx, &key, &village.committee, village.id, &request, at)?;
            }
        }
        Ok(())
    }

    /// The committee reviews what was claimed before today: most approved, some sent back.
    fn review(&mut self, tx: &mut Tx<'_>, at: DateTime<Utc>) -> AppResult<()> {
        self.approved.clear();
        for (v, claim_id) in std::mem::take(&mut self.submitted) {
            let committee = &self.villages[v].committee;
            if self.rng.random_range(0..10) == 0 {
                let reason = REJECTIONS[self.rng.random_range(0..REJECTIONS.len())];
                claims::reject(tx, committee, claim_id, reason, at)?;
            } else {
                let view = claims::approve(tx, committee, claim_id, at)?;
                if view.status == ClaimStatus::InNotice {
                    self.approved.push((v, claim_id, view.household_id));
                }
            }
        }
        Ok(())
    }

    /// A few villagers in each village claim what they did today, within its cap.
    fn claims(&mut self, tx: &mut Tx<'_>, day: NaiveDate, at: DateTime<Utc>) -> AppResult<()> {
        for v in 0..self.villages.len() {
            for n in 0..self.rng.random_range(0..4) {
                let h = self.rng.random_range(0..self.villages[v].households.len());
                let (item, cap, period) = CLAIMABLE[self.rng.random_range(0..CLAIMABLE.len())];
                let household_id = self.villages[v].households[h].0;
                let used = self
                    .used
                    .entry((household_id, item, period.key(day)))
                    .or_default();
                let Some(&item_id) = self.villages[v].items.get(item) else {
                    continue;
                };
                if *used >= cap {
                    continue;
                }
                *used += 1;
                let note = NOTES[self.rng.random_range(0..NOTES.len())];
                let request = ClaimRequest {
                    household_id,
                    item_id,
                    quantity: Some(1),
                    occurred_on: day,
                    note: (!note.is_empty()).then(|| note.to_owned()),
                    member_id: None,
                };
                let village = &self.villages[v];
                let head = &village.households[h].1;
                let at = at + Duration::minutes(17 * i64::from(n));
                let view = claims::submit(tx, head, village.id, &request, at)?;
                self.submitted.push((v, view.id));
            }
        }
        Ok(())
    }

    /// Households with points to spare buy a thing or two with a payment code, keeping at
    /// least half of what they have and never less than ten points.
    fn sales(&mut self, tx: &mut Tx<'_>, at: DateTime<Utc>) -> AppResult<()> {
        for v in 0..self.villages.len() {
            for n in 0..self.rng.random_range(0..4) {
                let at = at + Duration::minutes(11 * i64::from(n));
                let h = self.rng.random_range(0..self.villages[v].households.len());
                self.sale(tx, v, h, at)?;
            }
        }
        Ok(())
    }

    fn sale(&mut self, tx: &mut Tx<'_>, v: usize, h: usize, at: DateTime<Utc>) -> AppResult<()> {
        let village = &self.villages[v];
        let (household_id, head) = &village.households[h];
        let balance =
            crate::reports::service::balance(tx, &village.committee.principal, *household_id)?;
        let points = balance.points.minor();
        let mut budget = points - (points / 2).max(1000);
        let shop_index = village.shop;
        let mut lines = Vec::new();
        let goods = &mut self.shops[shop_index].goods;
        for _ in 0..2 {
            let pick = self.rng.random_range(0..goods.len());
            let (goods_id, price, stock) = &mut goods[pick];
            if *price > budget
                || *stock == 0
                || lines.iter().any(|l: &LineRequest| l.goods_id == *goods_id)
            {
                continue;
            }
            budget -= *price;
            *stock -= 1;
            lines.push(LineRequest {
                goods_id: *goods_id,
                quantity: 1,
            });
        }
        if lines.is_empty() {
            return Ok(());
        }
        let code = shop::issue_code(tx, head, self.pepper, *household_id, at)?.code;
        let shop = &self.shops[shop_index];
        let scan = ScanRequest {
            code: Some(code.clone()),
            card_token: None,
        };
        shop::scan(tx, &shop.keeper, self.pepper, shop.id, &scan, at)?;
        let request = RedeemRequest {
            code: Some(code),
            card_token: None,
            pin: None,
            lines,
            proxy_name: None,
        };
        let key = self.key(&format!("shop-{}", shop.id))?;
        let shop = &self.shops[shop_index];
        let receipt = shop::redeem(tx, &key, &shop.keeper, self.pepper, shop.id, &request, at)?;
        let id = serde_json::from_str::<serde_json::Value>(&receipt.body)
            .ok()
            .and_then(|body| body["id"].as_i64());
        self.last_sale = id;
        Ok(())
    }

    /// A sale rung up with the wrong goods in the first village, voided by the shopkeeper
    /// a few minutes later.
    fn void(&mut self, tx: &mut Tx<'_>, at: DateTime<Utc>) -> AppResult<()> {
        self.last_sale = None;
        for h in 0..self.villages[0].households.len() {
            self.sale(tx, 0, h, at)?;
            if self.last_sale.is_some() {
                break;
            }
        }
        let Some(redemption_id) = self.last_sale else {
            return Ok(());
        };
        let shop = &self.shops[self.villages[0].shop];
        let (scope, keeper) = (format!("shop-{}", shop.id), shop.keeper.clone());
        let key = self.key(&scope)?;
        let reason = "拿错了商品，作废后重新兑换";
        shop::void(
            tx,
            &key,
            &keeper,
            redemption_id,
            reason,
            at + Duration::minutes(4),
        )?;
        Ok(())
    }

    /// The township settles each shop for the whole of `month`.
    fn settle(&mut self, tx: &mut Tx<'_>, month: NaiveDate, at: DateTime<Utc>) -> AppResult<()> {
        let period_end = month
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(month);
        for s in &self.shops {
            let request = CreateSettlement {
                period_start: month,
                period_end,
            };
            let draft = settlement::create(tx, &self.admin, s.id, &request, at)?;
            settlement::approve(tx, &self.admin, draft.id, at + Duration::hours(1))?;
            self.settlements.push(draft.id);
        }
        Ok(())
    }

    /// The township's finance office pays the approved statements.
    fn pay(&mut self, tx: &mut Tx<'_>, at: DateTime<Utc>) -> AppResult<()> {
        for id in std::mem::take(&mut self.settlements) {
            let pay = PayRequest {
                reference: format!("镇财政所转账 {}", at.format("%Y%m%d")),
                paid_on: None,
            };
            settlement::pay(tx, &self.admin, id, &pay, at)?;
        }
        Ok(())
    }

    /// A neighbour doubts a claim still on notice in the first village; the committee has
    /// yet to decide.
    fn objection(&mut self, tx: &mut Tx<'_>, at: DateTime<Utc>) -> AppResult<()> {
        let Some(&(v, claim_id, household_id)) = self.approved.iter().find(|(v, _, _)| *v == 0)
        else {
            return Ok(());
        };
        let village = &self.villages[v];
        let Some((_, neighbour)) = village
            .households
            .iter()
            .find(|(id, _)| *id != household_id)
        else {
            return Ok(());
        };
        let reason = "那天我也在场，没有看到他家来参加。";
        claims::object(tx, neighbour, claim_id, reason, at)?;
        Ok(())
    }
}

/// The first day of the month `months_ago` months before `day`'s.
fn month_start(day: NaiveDate, months_ago: u32) -> NaiveDate {
    let first = day.with_day(1).unwrap_or(day);
    first
        .checked_sub_months(Months::new(months_ago))
        .unwrap_or(first)
}
