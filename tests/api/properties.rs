//! Random sequences of awards, deductions, reversals, repeated keys and bad input,
//! driven through the real server and mirrored in an in-memory model. After every step
//! the balances agree, every transaction sums to zero, the chain has no gaps, and each
//! idempotency key has at most one outcome.

use std::collections::HashMap;

use diesel::prelude::*;
use proptest::prelude::*;
use serde_json::json;

use crate::ledger::{add_item, award, ledger_world};
use crate::support::{TestApp, World};

#[derive(Clone, Debug)]
enum Op {
    /// Award item `item` × `quantity` to household `household`, under key `key`.
    Award {
        household: usize,
        item: usize,
        quantity: i64,
        key: u8,
    },
    /// Reverse the `pick`-th transaction so far (a reversal too), under key `key`.
    Reverse { pick: usize, key: u8 },
    /// An award naming a household of another village: refused, changes nothing.
    Foreign { key: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..3usize, 0..3usize, 1..4i64, 0..12u8).prop_map(|(household, item, quantity, key)| Op::Award { household, item, quantity, key }),
        2 => (0..40usize, 0..12u8).prop_map(|(pick, key)| Op::Reverse { pick, key }),
        1 => (0..12u8).prop_map(|key| Op::Foreign { key }),
    ]
}

/// Points per unit of the three items, in hundredths.
const ITEMS: [(&str, i64); 3] = [("5", 500), ("-3", -300), ("1.25", 125)];

#[derive(Default)]
struct Model {
    /// Points of each household (honour moves the same way here).
    balances: [i64; 3],
    /// (household, amount, reversal of, reversed) per transaction, in order.
    transactions: Vec<Tx>,
    /// What each key was first used for, and the status it got.
    keys: HashMap<u8, (String, u16)>,
}

struct Tx {
    household: usize,
    amount: i64,
    is_reversal: bool,
    reversed: bool,
    id: i64,
}

fn minor(text: &str) -> i64 {
    let value: f64 = text.parse().unwrap_or(f64::NAN);
    (value * 100.0).round() as i64
}

struct Harness {
    app: TestApp,
    w: World,
    items: Vec<i64>,
}

impl Harness {
    fn new() -> Self {
        let app = TestApp::start();
        let w = ledger_world(&app);
        let items = ITEMS
            .iter()
            .enumerate()
            .map(|(i, (points, _))| add_item(&app, &w, &format!("P{i}"), points))
            .collect();
        Self { app, w, items }
    }

    fn reverse(&self, tx: i64, key: &str) -> crate::support::Resp {
        self.app.post_with_key(
            &format!("/api/v1/ledger/{tx}/reverse"),
            &self.w.committee,
            key,
            json!({"reason": "测试"}),
        )
    }

    fn step(&self, model: &mut Model, op: &Op) {
        let key_name = |k: u8| format!("key-{k}");
        match op {
            Op::Award {
                household,
                item,
                quantity,
                key,
            } => {
                let body = json!({"item_id": self.items[*item], "household_ids": [self.w.households[*household]],
                                  "quantity": quantity, "occurred_on": "2026-11-27"});
                let fingerprint = format!("award {household} {item} {quantity}");
                let resp = award(&self.app, &self.w, &key_name(*key), body);
                if self.expect_key(model, *key, &fingerprint, resp.status) {
                    return;
                }
                assert_eq!(resp.status, 201, "{}", resp.text);
                let amount = ITEMS[*item].1 * quantity;
                model.balances[*household] += amount;
                let id = resp.body["claims"][0]["transaction_id"].as_i64().unwrap();
                model.transactions.push(Tx {
                    household: *household,
                    amount,
                    is_reversal: false,
                    reversed: false,
                    id,
                });
                model.keys.insert(*key, (fingerprint, 201));
            }
            Op::Reverse { pick, key } => {
                if model.transactions.is_empty() {
                    return;
                }
                let index = pick % model.transactions.len();
                let target = model.transactions[index].id;
                let fingerprint = format!("reverse {target}");
                let resp = self.reverse(target, &key_name(*key));
                if self.expect_key(model, *key, &fingerprint, resp.status) {
                    return;
                }
                let tx = &model.transactions[index];
                let expected = if tx.is_reversal || tx.reversed {
                    409
                } else {
                    201
                };
                assert_eq!(resp.status, expected, "{}", resp.text);
                if expected == 201 {
                    let (household, amount) = (tx.household, tx.amount);
                    model.transactions[index].reversed = true;
                    model.balances[household] -= amount;
                    model.transactions.push(Tx {
                        household,
                        amount: -amount,
                        is_reversal: true,
                        reversed: false,
                        id: resp.id(),
                    });
                }
                model.keys.insert(*key, (fingerprint, expected));
            }
            Op::Foreign { key } => {
                let body = json!({"item_id": self.items[0], "household_ids": [self.w.liangui_household], "occurred_on": "2026-11-27"});
                let resp = award(&self.app, &self.w, &key_name(*key), body);
                if self.expect_key(model, *key, "foreign", resp.status) {
                    return;
                }
                assert_eq!(resp.status, 422, "{}", resp.text);
                model.keys.insert(*key, ("foreign".into(), 422));
            }
        }
    }

    /// A key seen before: the same request replays its status, another one is a 409.
    fn expect_key(&self, model: &Model, key: u8, fingerprint: &str, status: u16) -> bool {
        match model.keys.get(&key) {
            None => false,
            Some((first, first_status)) if first == fingerprint => {
                assert_eq!(status, *first_status, "replay of {fingerprint}");
                true
            }
            Some(_) => {
                assert_eq!(status, 409, "key reused for {fingerprint}");
                true
            }
        }
    }

    fn check(&self, model: &Model) {
        for (index, household) in self.w.households.iter().enumerate() {
            let balance = self.app.get(
                &format!("/api/v1/households/{household}/balance"),
                Some(&self.w.committee),
            );
            assert_eq!(
                minor(balance.body["points"].as_str().unwrap()),
                model.balances[index],
                "points of household {index}"
            );
            assert_eq!(
                minor(balance.body["honour"].as_str().unwrap()),
                model.balances[index],
                "honour of household {index}"
            );
        }
        let report = self.app.get(
            &format!("/api/v1/villages/{}/ledger/verify", self.w.qingle),
            Some(&self.w.supervisor),
        );
        assert_eq!(report.body["ok"], true, "{}", report.text);
        assert_eq!(
            report.body["transactions"].as_u64(),
            Some(model.transactions.len() as u64)
        );
        let head = self.app.get("/api/v1/villages/qingle/ledger/head", None);
        assert_eq!(
            head.body["seq"].as_u64(),
            Some(model.transactions.len() as u64)
        );
        self.check_keys_unique();
    }

    fn check_keys_unique(&self) {
        use jifen::db::schema::idempotency_records::dsl::*;
        let mut conn = self.app.db.connect();
        let keys: Vec<String> = idempotency_records
            .select(idem_key)
            .load(&mut conn)
            .unwrap();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len(), "a key has two stored outcomes");
    }
}

fn run(ops: &[Op]) {
    let harness = Harness::new();
    let mut model = Model::default();
    for op in ops {
        harness.step(&mut model, op);
        harness.check(&model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, max_shrink_iters: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_agrees_with_a_model(ops in proptest::collection::vec(op(), 1..25)) {
        run(&ops);
    }
}
