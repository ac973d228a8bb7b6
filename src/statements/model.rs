//! What a household statement says, how it is asked for, and what its check answers.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use validator::Validate;

use crate::amount::Amount;

/// What the document says it is, so a reader knows how to read it.
pub const KIND: &str = "jifen.household_statement";
pub const VERSION: i64 = 1;
/// How long a statement may be relied on.
pub const VALID_DAYS: i64 = 90;

/// `POST /households/{id}/statements`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementRequest {
    /// What the statement is for, printed on it, e.g. "申请积分贷".
    #[validate(length(min = 1, max = 40, message = "请写明用途（最多 40 个字）"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(example = "申请积分贷", min_length = 1, max_length = 40)]
    pub purpose: String,
    /// First day of the honours listed (default: a year before `to`).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-01-01")]
    pub from: Option<NaiveDate>,
    /// Last day of the honours listed, today at the latest (default: today).
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-31")]
    pub to: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatementVillage {
    #[schema(example = "qingle")]
    pub code: String,
    #[schema(example = "庆乐村")]
    pub name: String,
}

/// One posted award or deduction of the period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatementEntry {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    #[schema(example = "照顾孤寡老人")]
    pub item: String,
    #[schema(example = "10.00")]
    pub points: Amount,
}

/// Where the village's hash chain stood when the statement was issued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatementChain {
    pub seq: i64,
    pub hash: String,
}

/// The statement as signed. Its canonical JSON is what the signature covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatementDocument {
    /// Always `jifen.household_statement`.
    #[schema(example = "jifen.household_statement")]
    pub kind: String,
    /// The document's layout, 1.
    pub version: i64,
    pub statement_id: i64,
    /// The key that signed it (`/.well-known/jifen-statement-keys`).
    pub key_id: String,
    #[schema(example = "XX镇")]
    pub township: String,
    pub village: StatementVillage,
    pub household_id: i64,
    #[schema(example = "3组12号")]
    pub door_no: String,
    /// In full: the household asked for it, for a bank.
    #[schema(example = "张小明")]
    pub head_name: String,
    #[schema(example = "申请积分贷")]
    pub purpose: String,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// Spendable points when issued.
    #[schema(example = "120.00")]
    pub points: Amount,
    /// Honour when issued (never expires).
    #[schema(example = "180.00")]
    pub honour: Amount,
    pub stars: i64,
    pub star_levels: i64,
    /// Place by honour among the village's households (equal honour shares a place).
    pub rank: i64,
    pub households: i64,
    /// Awards posted for what happened between `from` and `to` (reversed ones left out).
    pub honours: Vec<StatementEntry>,
    /// Deductions posted for what happened between `from` and `to`.
    pub deductions: Vec<StatementEntry>,
    pub chain: StatementChain,
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<FixedOffset>,
    /// Where the QR on the printed statement leads: the server's own check of it.
    pub verify_url: String,
}

/// A statement: its document, exactly as signed, and the signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedStatement {
    pub id: i64,
    #[schema(value_type = StatementDocument)]
    pub document: Value,
    /// Ed25519 over the document's canonical JSON, base64.
    pub signature: String,
    pub key_id: String,
}

/// `POST /statements/verify`: a statement as saved or typed in.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The document as received, any change included.
    #[schema(value_type = Object)]
    #[validate(custom(function = "an_object"))]
    pub document: Value,
    #[validate(length(min = 1, max = 200, message = "请填写签名"))]
    #[schema(min_length = 1, max_length = 200)]
    pub signature: String,
}

fn an_object(document: &Value) -> Result<(), validator::ValidationError> {
    if document.is_object() {
        Ok(())
    } else {
        Err(validator::ValidationError::new("object")
            .with_message("证明内容应是一个 JSON 对象".into()))
    }
}

/// What a check of a statement found.
#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct Verification {
    /// The signature is a published key's over this very document.
    pub valid: bool,
    /// When it was issued; null unless valid.
    pub issued_at: Option<DateTime<Utc>>,
    /// Valid, but past its `expires_at`.
    pub expired: bool,
    /// The chain position it names is in this server's books of its village.
    pub chain_seq_present: bool,
    /// The key that signed it; null unless valid.
    pub key_id: Option<String>,
}

impl Verification {
    pub fn invalid() -> Self {
        Verification {
            valid: false,
            issued_at: None,
            expired: false,
            chain_seq_present: false,
            key_id: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKeyView {
    pub key_id: String,
    /// Always `Ed25519`.
    #[schema(example = "Ed25519")]
    pub alg: &'static str,
    /// The 32-byte public key, base64.
    pub public_key: String,
}

/// `/.well-known/jifen-statement-keys`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementKeys {
    pub keys: Vec<PublicKeyView>,
}
