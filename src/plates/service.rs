//! Issuing, rotating and printing door plates, and finding a plate's household.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::model::{IssuePlates, PlateView, PlatesIssued, PrintedPlate, plate_url};
use super::store;
use crate::audit::{self, Event};
use crate::auth::policy::{Action, authorize};
use crate::auth::secrets::random_token;
use crate::auth::{Caller, Principal};
use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::org::service::{active_households, village_summary, village_target};

/// `POST /villages/{id}/plates`: plates for the listed households (replacing theirs), or
/// for every active household without one.
pub fn issue(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    req: &IssuePlates,
    base_url: &str,
    now: DateTime<Utc>,
) -> AppResult<PlatesIssued> {
    write_tx(conn, |tx| {
        authorize(
            &c.principal,
            Action::ManageHouseholds,
            &village_target(tx, village_id)?,
        )?;
        let active: Vec<i64> = active_households(tx, village_id)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let chosen = match &req.household_ids {
            Some(ids) => checked(ids, &active)?,
            None => {
                let plated = plated(tx, village_id)?;
                active
                    .into_iter()
                    .filter(|id| !plated.contains(id))
                    .collect()
            }
        };
        let mut plates = Vec::with_capacity(chosen.len());
        for household_id in chosen {
            let token = random_token();
            store::put(
                tx,
                village_id,
                household_id,
                &token,
                now.naive_utc(),
                c.principal.id,
            )?;
            plates.push(PlateView {
                household_id,
                url: plate_url(base_url, &token),
                plate_token: token,
            });
        }
        let event = Event {
            village_id: Some(village_id),
            action: "plates_issue",
            subject_kind: "village",
            subject_id: Some(village_id),
            // Which households, never the tokens.
            detail: json!({"household_ids": plates.iter().map(|p| p.household_id).collect::<Vec<_>>()}),
        };
        audit::record(tx, c, event, now)?;
        Ok(PlatesIssued { plates })
    })
}

/// The listed households, each an active one of the village, once.
fn checked(ids: &[i64], active: &[i64]) -> AppResult<Vec<i64>> {
    let active: HashSet<i64> = active.iter().copied().collect();
    let errors: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(at, id)| !active.contains(id) || ids[..*at].contains(id))
        .map(|(at, _)| {
            FieldError::new(format!("household_ids[{at}]"), "不是本村在册的户，或重复了")
        })
        .collect();
    if errors.is_empty() {
        Ok(ids.to_vec())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Every plate of the village's active households, ready to print.
pub fn sheet(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    base_url: &str,
) -> AppResult<Vec<PrintedPlate>> {
    authorize(
        p,
        Action::ManageHouseholds,
        &village_target(conn, village_id)?,
    )?;
    let (_, village) = village_summary(conn, village_id)?;
    let doors: HashMap<i64, String> = active_households(conn, village_id)?.into_iter().collect();
    Ok(store::of_village(conn, village_id)?
        .into_iter()
        .filter_map(|(household_id, token)| {
            let door_no = doors.get(&household_id)?.clone();
            let qr_svg = crate::shop::code::qr_svg_inline(&plate_url(base_url, &token))?;
            let mark = token
                .get(token.len().saturating_sub(6)..)
                .unwrap_or_default()
                .to_owned();
            Some(PrintedPlate {
                village: village.clone(),
                door_no,
                mark,
                qr_svg,
            })
        })
        .collect())
}

/// Which households of the village have a plate.
pub fn plated(conn: &mut DbConnection, village_id: i64) -> AppResult<HashSet<i64>> {
    Ok(store::of_village(conn, village_id)?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

/// The household a plate's token belongs to; an old (rotated) or made-up token has none.
pub fn household_of(conn: &mut DbConnection, token: &str) -> AppResult<i64> {
    store::household_of(conn, token)?.ok_or(AppError::NotFound)
}
