//! Household cards (户卡): a printed QR token and a PIN for villagers without a phone.
//! Five wrong PINs lock the card for 30 minutes; ten in a (Shanghai) day hold it until a
//! committee member unlocks it; a card spends at most the village's `card_daily_cap` a day.

use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde_json::json;

use super::model::{CardSheetRequest, CardState, CardStatus, CardView, IssueCard, is_pin};
use super::store::{self, CardRow, Lock};
use crate::audit::{self, Event};
use crate::auth::policy::{Action, authorize};
use crate::auth::secrets::{Pepper, random_digits};
use crate::auth::service::with_villager_attempt;
use crate::auth::token::Subject;
use crate::auth::{Auth, Caller, session, wechat};
use crate::clock::{shanghai_midnight, shanghai_today};
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::org::model::mask_name;
use crate::org::service::{
    ensure_active_household, household_brief, household_head, household_target, village_policy,
    village_target,
};

/// 25 digits: a little over 83 bits.
const TOKEN_DIGITS: usize = 25;
const LOCK_AFTER: i32 = 5;
const HOLD_AFTER: i32 = 10;
const LOCK_FOR: Duration = Duration::minutes(30);

/// Refuses a card that is held or still locked.
pub fn check_open(card: &CardRow, now: NaiveDateTime) -> AppResult<()> {
    if card.held {
        return Err(AppError::CardLocked {
            until_committee: true,
        });
    }
    if card.locked_until.is_some_and(|until| until > now) {
        return Err(AppError::CardLocked {
            until_committee: false,
        });
    }
    Ok(())
}

/// The card after one more wrong PIN.
pub fn after_failure(mut card: CardRow, today: NaiveDate, now: NaiveDateTime) -> CardRow {
    if card.failure_day != Some(today) {
        card.failure_day = Some(today);
        card.day_failures = 0;
    }
    card.day_failures += 1;
    card.failures += 1;
    if card.day_failures >= HOLD_AFTER {
        card.held = true;
    } else if card.failures % LOCK_AFTER == 0 {
        card.locked_until = Some(now + LOCK_FOR);
    }
    card
}

fn pin_hash(pepper: &Pepper, serial: &str, pin: &str) -> String {
    pepper.hash(&format!("card-pin:{serial}:{pin}"))
}

fn token_hash(pepper: &Pepper, token: &str) -> String {
    pepper.hash(&format!("card-token:{token}"))
}

/// A live card by the token in its QR.
pub fn live_card(
    conn: &mut DbConnection,
    pepper: &Pepper,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<CardRow> {
    found_live(conn, pepper, token, now, Lock::None)
}

/// A card whose row this transaction has locked (`FOR UPDATE` on PostgreSQL; SQLite's
/// immediate transaction holds the database): its PIN counters and spends cannot change
/// under it.
pub struct LockedCard(CardRow);

impl LockedCard {
    pub fn row(&self) -> &CardRow {
        &self.0
    }
}

/// A live card by the token in its QR, locked for the rest of the transaction.
pub fn lock_live_card(
    tx: &mut Tx<'_>,
    pepper: &Pepper,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<LockedCard> {
    found_live(tx, pepper, token, now, Lock::ForUpdate).map(LockedCard)
}

fn found_live(
    conn: &mut DbConnection,
    pepper: &Pepper,
    token: &str,
    now: DateTime<Utc>,
    lock: Lock,
) -> AppResult<CardRow> {
    let token: String = token.chars().filter(char::is_ascii_digit).collect();
    let card = store::card_by_token(conn, &token_hash(pepper, &token), lock)?
        .ok_or(AppError::CodeInvalid("认不出这张户卡，请重新扫。"))?;
    if card.revoked_at.is_some() {
        return Err(AppError::CodeInvalid("这张户卡已经换新，旧卡不能用了。"));
    }
    check_open(&card, now.naive_utc())?;
    Ok(card)
}

/// Checks the PIN on the card's locked row. A wrong one is counted (and stays counted:
/// the caller keeps this refusal's effects) and may lock the card.
pub fn check_pin(
    tx: &mut Tx<'_>,
    pepper: &Pepper,
    LockedCard(card): LockedCard,
    pin: &str,
    now: DateTime<Utc>,
) -> AppResult<CardRow> {
    if pin_hash(pepper, &card.serial, pin) == card.pin_hash {
        if card.failures != 0 {
            let reset = CardRow {
                failures: 0,
                ..card.clone()
            };
            store::save_card_state(tx, &reset)?;
        }
        return Ok(card);
    }
    let counted = after_failure(card, shanghai_today(now), now.naive_utc());
    store::save_card_state(tx, &counted)?;
    Err(match check_open(&counted, now.naive_utc()) {
        Err(locked) => locked,
        Ok(()) => AppError::PinIncorrect,
    })
}

/// A household card signs its household in on the page: the way back, without a new
/// slip, for a villager who signed out or lost the session. The card's PIN counts and
/// locks as at the counter; a new card ends the old one's way in, and the committee's
/// "sign out everywhere" ends the sessions it made. An openid WeChat vouched for on the
/// way in is bound, as an invite binds it. The session token.
pub fn sign_in(
    conn: &mut DbConnection,
    auth: &Auth,
    with: CardSignIn<'_>,
    addr: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    if !is_pin(with.pin) {
        return Err(AppError::field("pin", "密码是 4 到 6 位数字"));
    }
    with_villager_attempt(conn, &auth.limits, addr, now, |tx| {
        let locked = lock_live_card(tx, &auth.pepper, with.token, now)?;
        let card = check_pin(tx, &auth.pepper, locked, with.pin, now)?;
        ensure_active_household(tx, card.household_id)?;
        let member = household_head(tx, card.household_id)?
            .ok_or(AppError::CodeInvalid("这一户还没有成员，请找村委会。"))?;
        if let Some(openid) = with.openid {
            wechat::bind(tx, openid, member, now)?;
        }
        tracing::info!(
            household_id = card.household_id,
            "signed in with the household card"
        );
        session::start(tx, Subject::villager(member), now)
    })
}

/// What a villager gives to sign in with the household card.
pub struct CardSignIn<'a> {
    /// The 25 digits, as scanned or typed (spaces allowed).
    pub token: &'a str,
    pub pin: &'a str,
    pub openid: Option<&'a str>,
}

/// Refuses a spend that would take the card past the village's daily cap. Runs under
/// the card's row lock (see [`check_pin`]), so it sees every earlier spend of the card.
pub fn check_daily_cap(
    conn: &mut DbConnection,
    card: &CardRow,
    total: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let cap = village_policy(conn, card.village_id)?.card_daily_cap;
    let today = shanghai_today(now);
    let from = shanghai_midnight(today).naive_utc();
    let to = shanghai_midnight(today + chrono::Days::new(1)).naive_utc();
    let spent = store::card_spent(conn, card.id, from, to)?;
    if spent
        .checked_add(total)
        .is_none_or(|after| after > cap.minor())
    {
        return Err(AppError::CardCapExceeded { cap });
    }
    Ok(())
}

/// Makes a card for a household (the old one stops working). Runs in the caller's
/// transaction.
fn make_card(
    tx: &mut Tx<'_>,
    c: &Caller,
    pepper: &Pepper,
    site: &str,
    household_id: i64,
    pin: &str,
    now: DateTime<Utc>,
) -> AppResult<CardView> {
    let (village_id, target) = household_target(tx, household_id)?;
    authorize(&c.principal, Action::ManageHouseholds, &target)?;
    ensure_active_household(tx, household_id)?;
    let token = random_digits(TOKEN_DIGITS);
    let id = store::replace_card(
        tx,
        &store::NewCard {
            village_id,
            household_id,
            token_hash: &token_hash(pepper, &token),
            created_by: c.principal.id,
            now: now.naive_utc(),
        },
    )?;
    let serial = format!("C{village_id}-{id:06}");
    store::set_card_identity(tx, id, &serial, &pin_hash(pepper, &serial, pin))?;
    let entry = Event {
        village_id: Some(village_id),
        action: "card_issue",
        subject_kind: "household",
        subject_id: Some(household_id),
        detail: json!({"serial": serial}),
    };
    audit::record(tx, c, entry, now)?;
    let (_, door_no, head_name) = household_brief(tx, household_id)?;
    let sign_in_url = format!("{site}/h5/login?card={token}");
    Ok(CardView {
        qr_svg: super::code::qr_svg(&sign_in_url)
            .ok_or_else(|| AppError::internal("QR rendering failed"))?,
        sign_in_url,
        serial,
        card_token: token,
        household_id,
        door_no,
        display_name: mask_name(&head_name),
    })
}

/// A card for one household; `site` is the address phones open (`crate::http::public_base`).
pub fn issue(
    conn: &mut DbConnection,
    c: &Caller,
    pepper: &Pepper,
    site: &str,
    household_id: i64,
    req: &IssueCard,
    now: DateTime<Utc>,
) -> AppResult<CardView> {
    write_tx(conn, |conn| {
        make_card(conn, c, pepper, site, household_id, &req.pin, now)
    })
}

/// Cards for many households at once (all or none), for [`sheet_html`].
pub fn issue_sheet(
    conn: &mut DbConnection,
    c: &Caller,
    pepper: &Pepper,
    site: &str,
    village_id: i64,
    req: &CardSheetRequest,
    now: DateTime<Utc>,
) -> AppResult<Vec<CardView>> {
    write_tx(conn, |conn| {
        let target = village_target(conn, village_id)?;
        authorize(&c.principal, Action::ManageHouseholds, &target)?;
        let mut cards = Vec::with_capacity(req.cards.len());
        for (index, card) in req.cards.iter().enumerate() {
            match household_target(conn, card.household_id) {
                Ok((v, _)) if v == village_id => cards.push(make_card(
                    conn,
                    c,
                    pepper,
                    site,
                    card.household_id,
                    &card.pin,
                    now,
                )?),
                Ok(_) | Err(AppError::NotFound) => {
                    return Err(AppError::Validation(vec![FieldError::new(
                        format!("cards[{index}].household_id"),
                        "本村没有这一户",
                    )]));
                }
                Err(other) => return Err(other),
            }
        }
        Ok(cards)
    })
}

#[derive(Template)]
#[template(path = "shop/cards.html", config = "src/web/askama.toml")]
struct Sheet<'a> {
    css: &'static str,
    js: &'static str,
    cards: Vec<PrintedCard<'a>>,
}

struct PrintedCard<'a> {
    card: &'a CardView,
    qr: &'a str,
    /// The token in groups of five, to type at the counter or at sign-in.
    digits: String,
}

/// Eight cards to an A4 page, cut along the borders; no PIN is printed.
pub fn sheet_html(cards: &[CardView]) -> String {
    let sheet = Sheet {
        css: crate::assets::css_path(),
        js: crate::assets::js_path(),
        cards: cards
            .iter()
            .map(|card| PrintedCard {
                card,
                qr: super::code::svg_element(&card.qr_svg),
                digits: in_fives(&card.card_token),
            })
            .collect(),
    };
    sheet.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "card sheet template failed");
        "<!doctype html><meta charset=utf-8><p>户卡没能生成，请稍后再试。</p>".to_owned()
    })
}

fn in_fives(digits: &str) -> String {
    let chars: Vec<char> = digits.chars().collect();
    chars
        .chunks(5)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn status_of(card: &CardRow, now: NaiveDateTime) -> CardState {
    if card.revoked_at.is_some() {
        CardState::Revoked
    } else if card.held {
        CardState::Held
    } else if card.locked_until.is_some_and(|t| t > now) {
        CardState::Locked
    } else {
        CardState::Active
    }
}

/// Clears a lockout (committee of the card's village).
pub fn unlock(
    conn: &mut DbConnection,
    c: &Caller,
    serial: &str,
    now: DateTime<Utc>,
) -> AppResult<CardStatus> {
    write_tx(conn, |conn| {
        let card = store::card_by_serial(conn, serial)?.ok_or(AppError::NotFound)?;
        let (_, target) = household_target(conn, card.household_id)?;
        authorize(&c.principal, Action::ManageHouseholds, &target)?;
        let cleared = CardRow {
            failures: 0,
            day_failures: 0,
            locked_until: None,
            held: false,
            ..card
        };
        store::save_card_state(conn, &cleared)?;
        let entry = Event {
            village_id: Some(cleared.village_id),
            action: "card_unlock",
            subject_kind: "household",
            subject_id: Some(cleared.household_id),
            detail: json!({"serial": serial}),
        };
        audit::record(conn, c, entry, now)?;
        Ok(CardStatus {
            status: status_of(&cleared, now.naive_utc()),
            serial: cleared.serial,
            household_id: cleared.household_id,
            locked_until: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> CardRow {
        CardRow {
            id: 1,
            village_id: 1,
            household_id: 1,
            serial: "C1-000001".into(),
            pin_hash: String::new(),
            failures: 0,
            failure_day: None,
            day_failures: 0,
            locked_until: None,
            held: false,
            revoked_at: None,
        }
    }

    #[test]
    fn five_wrong_pins_lock_for_half_an_hour_and_ten_hold_the_card() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let t0 = day.and_hms_opt(2, 0, 0).unwrap();
        let mut c = card();
        for _ in 0..4 {
            c = after_failure(c, day, t0);
        }
        assert!(check_open(&c, t0).is_ok());
        c = after_failure(c, day, t0);
        assert!(matches!(
            check_open(&c, t0),
            Err(AppError::CardLocked {
                until_committee: false
            })
        ));
        assert!(check_open(&c, t0 + LOCK_FOR).is_ok());
        let later = t0 + LOCK_FOR;
        for _ in 0..5 {
            c = after_failure(c, day, later);
        }
        assert!(matches!(
            check_open(&c, later + Duration::days(1)),
            Err(AppError::CardLocked {
                until_committee: true
            })
        ));
    }

    #[test]
    fn a_new_day_starts_a_new_daily_count() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let t0 = day.and_hms_opt(2, 0, 0).unwrap();
        let mut c = card();
        for _ in 0..4 {
            c = after_failure(c, day, t0);
        }
        let next = day.succ_opt().unwrap();
        c = after_failure(c, next, t0 + Duration::days(1));
        assert_eq!(c.day_failures, 1);
    }
}
