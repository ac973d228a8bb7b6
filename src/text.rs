//! What text from outside may hold. PostgreSQL refuses U+0000 in text and control
//! characters do nothing good in a name or on a printed slip, so they are refused at the
//! edge, naming the field: nowhere are they allowed but newline and tab (and the carriage
//! return browsers send with a newline), and those only in text that may run over lines.

use serde_json::Value;
use validator::ValidationError;

use crate::error::FieldError;

/// A character no text field may hold.
pub fn forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t' | '\r')
}

pub const FORBIDDEN_MESSAGE: &str = "含有不能识别的控制字符";

/// For `#[validate(custom(function = "crate::text::single_line"))]`: one line of text,
/// no control characters at all.
pub fn single_line(text: &str) -> Result<(), ValidationError> {
    if text.chars().any(char::is_control) {
        return Err(ValidationError::new("single_line")
            .with_message("只能填一行文字，不能有换行或控制字符".into()));
    }
    Ok(())
}

/// For `#[validate(custom(function = "crate::text::multi_line"))]`: text that may run
/// over lines (a note, a reason), with no other control characters.
pub fn multi_line(text: &str) -> Result<(), ValidationError> {
    if text.chars().any(forbidden) {
        return Err(ValidationError::new("multi_line").with_message(FORBIDDEN_MESSAGE.into()));
    }
    Ok(())
}

/// Every string in a JSON document holding a forbidden character, by field path
/// (`lines[0].name`, as the deserializer names fields).
pub fn json_problems(value: &Value) -> Vec<FieldError> {
    let mut found = Vec::new();
    walk(value, String::new(), &mut found);
    found
}

fn walk(value: &Value, path: String, found: &mut Vec<FieldError>) {
    match value {
        Value::String(text) if text.chars().any(forbidden) => {
            let field = if path.is_empty() {
                "body".to_owned()
            } else {
                path
            };
            found.push(FieldError::new(field, FORBIDDEN_MESSAGE));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{index}]"), found);
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                let inner = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                if name.chars().any(forbidden) {
                    found.push(FieldError::new("body", FORBIDDEN_MESSAGE));
                }
                walk(item, inner, found);
            }
        }
        _ => {}
    }
}

/// Whether a JSON body may hold a forbidden character at all: JSON carries control
/// characters in strings only as `\u` escapes, and DEL and the C1 controls raw. Most
/// bodies have neither, and skip the walk.
pub fn may_hold_controls(json: &[u8]) -> bool {
    json.windows(2)
        .any(|w| w == b"\\u" || w[0] == 0x7f || (w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1])))
        || json.last() == Some(&0x7f)
}

/// The first forbidden field among name/value pairs (a query string or a page form).
pub fn pairs_problem<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<FieldError> {
    pairs
        .into_iter()
        .find(|(name, value)| name.chars().any(forbidden) || value.chars().any(forbidden))
        .map(|(name, _)| {
            let field = if name.chars().any(forbidden) {
                "query"
            } else {
                name
            };
            FieldError::new(field, FORBIDDEN_MESSAGE)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn newlines_and_tabs_pass_only_where_lines_may_run_over() {
        assert!(!forbidden('\n') && !forbidden('\t') && !forbidden('\r'));
        assert!(
            forbidden('\0') && forbidden('\u{7f}') && forbidden('\u{85}') && forbidden('\u{1b}')
        );
        assert!(single_line("张小明").is_ok());
        assert!(single_line("张\n小明").is_err());
        assert!(single_line("张\t小明").is_err());
    }

    #[test]
    fn problems_are_named_by_their_path() {
        let body = json!({"name": "ok", "lines": [{"note": "a\u{0}b"}], "x": {"y": "\u{7}"}});
        let fields: Vec<String> = json_problems(&body).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["lines[0].note", "x.y"]);
        assert!(json_problems(&json!({"note": "第一行\n第二行\t完"})).is_empty());
    }

    #[test]
    fn bodies_without_escapes_or_raw_controls_skip_the_walk() {
        assert!(!may_hold_controls(r#"{"name":"张小明"}"#.as_bytes()));
        assert!(may_hold_controls(br#"{"name":"\u0000"}"#));
        assert!(may_hold_controls("{\"name\":\"\u{85}\"}".as_bytes()));
        assert!(may_hold_controls("{\"name\":\"\u{7f}\"}".as_bytes()));
    }
}
