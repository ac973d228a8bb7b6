//! Door plates' requests and answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Which households get a plate: the listed ones (a plate they had is replaced, and its
/// old token stops working), or, with none listed, every active household that has none
/// yet — so issuing for the village never voids plates already on doors. A household
/// listed twice gets one plate.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuePlates {
    #[validate(length(min = 1, max = 5000, message = "须列出 1 到 5000 户"))]
    #[schema(min_items = 1, max_items = 5000)]
    pub household_ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlateView {
    pub household_id: i64,
    /// Random, 256 bits; the plate's QR points at `url`.
    pub plate_token: String,
    /// `public_url` + `/p/{plate_token}`.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatesIssued {
    pub plates: Vec<PlateView>,
}

/// One plate as the printed sheet shows it.
pub struct PrintedPlate {
    pub village: String,
    pub door_no: String,
    /// The token's last six characters, printed small: which plate is the current one
    /// when a household's was replaced.
    pub mark: String,
    pub qr_svg: String,
}

/// The path a plate's QR opens, under the server's public address.
pub fn plate_url(base: &str, token: &str) -> String {
    format!("{}/p/{token}", base.trim_end_matches('/'))
}
