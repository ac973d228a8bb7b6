//! Access tokens: HS256 JWTs, 15 minutes, algorithm pinned. Expiry is checked against
//! the service's clock rather than the library's, so tests can move time.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::model::PrincipalKind;
use crate::error::{AppError, AppResult};

pub const ACCESS_TTL: Duration = Duration::minutes(15);
pub const REFRESH_TTL: Duration = Duration::days(30);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// Staff id or member id, as text (RFC 7519 `sub`).
    sub: String,
    kind: PrincipalKind,
    iat: i64,
    exp: i64,
}

/// Who an access token speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subject {
    pub kind: PrincipalKind,
    pub id: i64,
}

impl Subject {
    pub fn staff(id: i64) -> Self {
        Self {
            kind: PrincipalKind::Staff,
            id,
        }
    }

    pub fn villager(member_id: i64) -> Self {
        Self {
            kind: PrincipalKind::Villager,
            id: member_id,
        }
    }
}

/// A valid access token: who it speaks for and when it was issued (seconds since the
/// epoch), so that tokens issued before a member was signed out everywhere can be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub subject: Subject,
    pub issued_at: i64,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
        })
    }

    pub fn issue(&self, subject: Subject, now: DateTime<Utc>) -> AppResult<String> {
        let claims = Claims {
            sub: subject.id.to_string(),
            kind: subject.kind,
            iat: now.timestamp(),
            exp: (now + ACCESS_TTL).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> AppResult<Verified> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| AppError::Unauthenticated("登录凭证无效，请重新登录。"))?;
        if data.claims.exp <= now.timestamp() {
            return Err(AppError::Unauthenticated("登录已过期，请重新登录。"));
        }
        let id = data
            .claims
            .sub
            .parse()
            .map_err(|_| AppError::Unauthenticated("登录凭证无效，请重新登录。"))?;
        Ok(Verified {
            subject: Subject {
                kind: data.claims.kind,
                id,
            },
            issued_at: data.claims.iat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_by_the_clock() {
        let keys = TokenKeys::new(&[7u8; 32]).unwrap();
        let now = Utc::now();
        let subject = Subject {
            kind: PrincipalKind::Staff,
            id: 42,
        };
        let token = keys.issue(subject, now).unwrap();
        assert_eq!(keys.verify(&token, now).unwrap().subject, subject);
        assert_eq!(keys.verify(&token, now).unwrap().issued_at, now.timestamp());
        assert!(keys.verify(&token, now + ACCESS_TTL).is_err());
    }

    #[test]
    fn other_keys_and_algorithms_are_refused() {
        let now = Utc::now();
        let subject = Subject {
            kind: PrincipalKind::Villager,
            id: 1,
        };
        let token = TokenKeys::new(&[1u8; 32])
            .unwrap()
            .issue(subject, now)
            .unwrap();
        assert!(
            TokenKeys::new(&[2u8; 32])
                .unwrap()
                .verify(&token, now)
                .is_err()
        );
        // An unsigned token ("alg": "none") must never pass.
        let parts: Vec<&str> = token.split('.').collect();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let forged = format!("{none_header}.{}.", parts[1]);
        assert!(
            TokenKeys::new(&[1u8; 32])
                .unwrap()
                .verify(&forged, now)
                .is_err()
        );
    }
}
