//! Lists page by `limit` and an opaque `cursor` (API.md conventions).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return (1–500, default 50).
    #[validate(range(min = 1, max = 500, message = "须在 1 到 500 之间"))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A decoded page request: items with id greater than `after`, at most `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<i64>,
}

impl PageQuery {
    /// The first page at the largest size, for screens that show a whole list at once.
    pub fn largest() -> Self {
        Self {
            limit: Some(MAX_LIMIT),
            cursor: None,
        }
    }

    pub fn request(&self) -> AppResult<PageRequest> {
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor)?),
        };
        Ok(PageRequest {
            limit: self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
            after,
        })
    }
}

/// Every item of a paged list, asking page after page at the largest size: for files and
/// screens that hold a whole list.
pub fn every_page<T>(mut page: impl FnMut(PageQuery) -> AppResult<Page<T>>) -> AppResult<Vec<T>> {
    let mut items = Vec::new();
    let mut asked = PageQuery::largest();
    loop {
        let got = page(asked)?;
        items.extend(got.items);
        match got.next_cursor {
            Some(cursor) => {
                asked = PageQuery {
                    cursor: Some(cursor),
                    ..PageQuery::largest()
                }
            }
            None => return Ok(items),
        }
    }
}

fn decode_cursor(cursor: &str) -> AppResult<i64> {
    let invalid = || AppError::field("cursor", "翻页标记无效");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("id:")
        .and_then(|id| id.parse().ok())
        .ok_or_else(invalid)
}

pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        request: PageRequest,
        id: impl Fn(&R) -> i64,
        view: impl FnMut(R) -> T,
    ) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

impl<T> Page<T> {
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_junk_is_a_field_error() {
        let q = PageQuery {
            limit: Some(2),
            cursor: Some(encode_cursor(41)),
        };
        assert_eq!(
            q.request().unwrap(),
            PageRequest {
                limit: 2,
                after: Some(41)
            }
        );
        let bad = PageQuery {
            limit: None,
            cursor: Some("!!".into()),
        };
        assert!(matches!(bad.request(), Err(AppError::Validation(_))));
    }

    #[test]
    fn an_extra_row_means_another_page() {
        let request = PageRequest {
            limit: 2,
            after: None,
        };
        let page = Page::from_rows(vec![1, 2, 3], request, |r| *r, |r| r);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(encode_cursor(2)));
        let last = Page::from_rows(vec![1, 2], request, |r| *r, |r| r);
        assert_eq!(last.next_cursor, None);
    }
}
