//! One error type for the whole service, rendered as RFC 9457 problem+json with the
//! stable `code` values of API.md.

pub mod fault;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `policy.notice_days` or `row 3: door_no`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// Not open for this now: an event's check-in before its start, after its end, once
    /// closed or full (API.md: 422 `invalid_state`, where other state conflicts are 409).
    #[error("not open now: {0}")]
    NotOpen(String),
    #[error("idempotency key reused with another request")]
    IdempotencyConflict,
    #[error("insufficient points")]
    InsufficientPoints,
    #[error("insufficient stock")]
    InsufficientStock,
    #[error("payment code invalid: {0}")]
    CodeInvalid(&'static str),
    #[error("payment code expired")]
    CodeExpired,
    #[error("payment code used")]
    CodeUsed,
    #[error("PIN incorrect")]
    PinIncorrect,
    #[error("card locked")]
    CardLocked { until_committee: bool },
    #[error("card daily cap exceeded")]
    CardCapExceeded { cap: crate::amount::Amount },
    #[error("cap exceeded")]
    CapExceeded {
        cap: i32,
        used: i64,
        /// "每月" or "一共" (`Period::cap_every`).
        every: &'static str,
        /// "本月", or empty (`Period::cap_this`).
        this: &'static str,
    },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("payload too large")]
    PayloadTooLarge,
    /// The path exists, but not for this method; `allow` lists the methods it answers.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("service unavailable: {0}")]
    Unavailable(&'static str),
    #[error("database error: {0}")]
    Database(#[source] diesel::result::Error),
    /// The database (or its disk) cannot serve right now; not the request's fault.
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(#[source] diesel::result::Error),
    /// A bug or a failure nobody expected. The cause is kept, for the log line of the
    /// request that met it; the client only hears that something went wrong.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// Whether a unique index refused the write (see `fault::is_duplicate`).
    pub fn is_duplicate(&self) -> bool {
        matches!(self, AppError::Database(err) if fault::is_duplicate(err))
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(cause.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::InvalidState(_) | AppError::NotOpen(_) => "invalid_state",
            AppError::IdempotencyConflict => "idempotency_conflict",
            AppError::InsufficientPoints => "insufficient_points",
            AppError::CapExceeded { .. } | AppError::CardCapExceeded { .. } => "cap_exceeded",
            AppError::PinIncorrect => "pin_incorrect",
            AppError::CardLocked { .. } => "card_locked",
            AppError::InsufficientStock => "insufficient_stock",
            AppError::CodeInvalid(_) => "code_invalid",
            AppError::CodeExpired => "code_expired",
            AppError::CodeUsed => "code_used",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::Unavailable(_) | AppError::DatabaseUnavailable(_) => "unavailable",
            AppError::Database(_) | AppError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "Validation failed",
            AppError::Unauthenticated(_) => "Unauthenticated",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound => "Not found",
            AppError::Conflict(_) => "Conflict",
            AppError::InvalidState(_) | AppError::NotOpen(_) => "Invalid state",
            AppError::IdempotencyConflict => "Idempotency key reused",
            AppError::InsufficientPoints => "Insufficient points",
            AppError::CapExceeded { .. } | AppError::CardCapExceeded { .. } => "Cap exceeded",
            AppError::PinIncorrect => "PIN incorrect",
            AppError::CardLocked { .. } => "Card locked",
            AppError::InsufficientStock => "Insufficient stock",
            AppError::CodeInvalid(_) => "Payment code invalid",
            AppError::CodeExpired => "Payment code expired",
            AppError::CodeUsed => "Payment code used",
            AppError::RateLimited { .. } => "Too many attempts",
            AppError::PayloadTooLarge => "Payload too large",
            AppError::MethodNotAllowed { .. } => "Method not allowed",
            AppError::Unavailable(_) | AppError::DatabaseUnavailable(_) => "Service unavailable",
            AppError::Database(_) | AppError::Internal(_) => "Internal error",
        }
    }

    /// Words for a person; database and internal details never leave the server.
    fn detail(&self) -> String {
        match self {
            AppError::Validation(_) => "提交的内容有误，请按提示修改。".into(),
            AppError::Unauthenticated(why) => (*why).into(),
            AppError::Forbidden(why) => (*why).into(),
            AppError::NotFound => "找不到该记录。".into(),
            AppError::Conflict(why) | AppError::InvalidState(why) | AppError::NotOpen(why) => {
                why.clone()
            }
            AppError::IdempotencyConflict => "这个 Idempotency-Key 已用于另一个请求。".into(),
            AppError::InsufficientPoints => "积分不够。".into(),
            AppError::InsufficientStock => "库存不够。".into(),
            AppError::CodeInvalid(why) => (*why).into(),
            AppError::CodeExpired => "付款码已过期，请让村民刷新付款码。".into(),
            AppError::CodeUsed => "这个付款码已经用过了，请让村民刷新付款码。".into(),
            AppError::PinIncorrect => "密码不对，请再试一次。".into(),
            AppError::CardLocked {
                until_committee: false,
            } => "密码错误次数太多，户卡已锁定 30 分钟。".into(),
            AppError::CardLocked {
                until_committee: true,
            } => "户卡今天已锁定，请找村委会解锁。".into(),
            AppError::CardCapExceeded { cap } => format!("户卡每天最多兑换 {cap} 分。"),
            AppError::CapExceeded {
                cap,
                used,
                every,
                this,
            } => {
                if *used == 0 {
                    format!("这一项{every}最多 {cap} 次，这次报多了。")
                } else {
                    format!("这一项{every}最多 {cap} 次，{this}已有 {used} 次。")
                }
            }
            AppError::RateLimited { retry_after_secs } => {
                format!(
                    "尝试次数太多，请 {} 分钟后再试。",
                    retry_after_secs.div_ceil(60)
                )
            }
            AppError::PayloadTooLarge => "上传的内容太大。".into(),
            AppError::MethodNotAllowed { .. } => "这个地址不支持这种请求方式。".into(),
            AppError::Unavailable(why) => (*why).into(),
            AppError::DatabaseUnavailable(_) => "数据库暂时不能用，请稍后再试。".into(),
            AppError::Database(_) | AppError::Internal(_) => "服务器出错了，请稍后再试。".into(),
        }
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation_failed")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[schema(example = "validation_failed")]
    pub code: String,
    pub errors: Vec<FieldError>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::InvalidState(_) => StatusCode::CONFLICT,
            AppError::IdempotencyConflict => StatusCode::CONFLICT,
            AppError::InsufficientPoints
            | AppError::NotOpen(_)
            | AppError::CapExceeded { .. }
            | AppError::InsufficientStock
            | AppError::CodeInvalid(_)
            | AppError::CodeExpired
            | AppError::PinIncorrect
            | AppError::CardCapExceeded { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::CardLocked { .. } => StatusCode::LOCKED,
            AppError::CodeUsed => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable(_) | AppError::DatabaseUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            // Inside the request's span, so the line carries its id.
            let cause = std::error::Error::source(self).map(|c| format!("{c:?}"));
            tracing::error!(error = %self, cause, "request failed");
        }
        let problem = self.problem();
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if let AppError::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let AppError::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, allow.as_str()));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_OUTAGE));
        }
        if let AppError::Unauthenticated(_) = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(problem)
    }
}

impl AppError {
    /// The problem+json body of this error.
    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            kind: format!("/problems/{code}"),
            title: self.title().into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            code: code.into(),
            errors: match self {
                AppError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }

    /// A refusal that a replay of the same request must repeat (a 4xx from the use case).
    pub fn is_rejection(&self) -> bool {
        self.status_code().is_client_error()
    }

    /// A refusal whose own bookkeeping must stay (a wrong PIN counts towards the lockout).
    pub fn keeps_effects(&self) -> bool {
        matches!(self, AppError::PinIncorrect | AppError::CardLocked { .. })
    }

    /// A sign-in refused for its credentials (an unknown code or card, a wrong PIN, a
    /// locked card): a failure for the sign-in limits to count.
    pub fn is_refused_credential(&self) -> bool {
        self.keeps_effects()
            || matches!(
                self,
                AppError::Unauthenticated(_) | AppError::CodeInvalid(_)
            )
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        flatten_validation("", &errors, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        AppError::Validation(out)
    }
}

fn flatten_validation(
    prefix: &str,
    errors: &validator::ValidationErrors,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|e| {
                let message = e
                    .message
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "格式不对".into());
                FieldError::new(path.clone(), message)
            })),
            ValidationErrorsKind::Struct(inner) => flatten_validation(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten_validation(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
}

/// Seconds a client waits before trying again after a 503.
const RETRY_AFTER_OUTAGE: &str = "5";

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        if fault::is_outage(&err) {
            AppError::DatabaseUnavailable(err)
        } else {
            AppError::Database(err)
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %err, "database pool exhausted or unreachable");
        AppError::Unavailable("数据库暂时无法连接，请稍后再试。")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_and_tells_the_client_nothing_of_it() {
        let disk = std::io::Error::other("disk at /var/lib/jifen is full");
        let err = AppError::internal(disk);
        let cause = std::error::Error::source(&err).expect("the cause is kept");
        assert!(
            cause.downcast_ref::<std::io::Error>().is_some(),
            "{cause:?}"
        );
        let problem = serde_json::to_string(&err.problem()).unwrap();
        assert!(!problem.contains("/var/lib"), "{problem}");
        assert_eq!(err.problem().status, 500);
    }
}
