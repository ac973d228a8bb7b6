//! Shared pieces of the JSON API: bodies and queries that are parsed and validated
//! into problem+json errors naming the field, and the caller's address.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::config::Settings;
use crate::db::idempotency::{IdempotencyKey, Outcome};
use crate::error::{AppError, FieldError};

/// A JSON body, deserialized with the path of any bad field and then validated.
pub struct ValidJson<T>(pub T);

/// A query string, deserialized and validated like [`ValidJson`].
pub struct ValidQuery<T>(pub T);

/// A JSON answer or a problem: what read handlers return.
pub type Json<T> = Result<actix_web::web::Json<T>, AppError>;

/// Runs `work` with a pooled connection off the async workers and answers its result as
/// JSON: the body of most handlers.
pub async fn json<T, F>(db: &crate::db::Db, work: F) -> Json<T>
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    Ok(web::Json(db.run(work).await?))
}

/// Largest JSON body accepted.
const JSON_LIMIT: usize = 256 * 1024;

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { parse_json(&body.await?).map(ValidJson) })
    }
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, AppError>> + 'static {
    let body = web::Bytes::from_request(req, payload);
    async move {
        let bytes = body.await.map_err(|_| AppError::PayloadTooLarge)?;
        if bytes.len() > JSON_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        Ok(bytes)
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ValidQuery))
    }
}

pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, AppError> {
    refuse_controls(bytes)?;
    let value: T = match deserialize(bytes) {
        Ok(value) => value,
        Err(refused) => match whole_numbers_as_integers(bytes) {
            Some(rewritten) => serde_path_to_error::deserialize(rewritten)
                .map_err(|e| field_error(e.path().to_string(), &e.into_inner().to_string()))?,
            None => return Err(refused),
        },
    };
    value.validate()?;
    Ok(value)
}

fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Every body is an object; serde would also fill a struct from an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AppError::field("body", "请求内容须是一个 JSON 对象"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| field_error(e.path().to_string(), &e.into_inner().to_string()))?;
    de.end()
        .map_err(|_| AppError::field("body", "JSON 后面有多余的内容"))?;
    Ok(value)
}

/// JSON Schema counts `2.0` as the integer 2 (and so does the OpenAPI document), serde
/// does not: a body serde refused is read once more with every whole number written as
/// an integer, when it holds any.
fn whole_numbers_as_integers(bytes: &[u8]) -> Option<serde_json::Value> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    rewrite_whole_numbers(&mut value).then_some(value)
}

/// Rewrites every value (no short cut), saying whether any changed.
fn rewrite_each<'a>(values: impl Iterator<Item = &'a mut serde_json::Value>) -> bool {
    values
        .map(rewrite_whole_numbers)
        .filter(|&rewritten| rewritten)
        .count()
        > 0
}

fn rewrite_whole_numbers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            // Past 2^53 a float no longer spells one integer.
            const EXACT: f64 = 9_007_199_254_740_992.0;
            match number.as_f64() {
                Some(float) if float.fract() == 0.0 && float.abs() <= EXACT => {
                    *value = Value::from(float as i64);
                    true
                }
                _ => false,
            }
        }
        Value::Array(items) => rewrite_each(items.iter_mut()),
        Value::Object(fields) => rewrite_each(fields.values_mut()),
        _ => false,
    }
}

/// Refuses a body whose strings hold control characters, naming each field (see
/// [`crate::text`]); a body that is not JSON is left to the deserializer to name.
fn refuse_controls(bytes: &[u8]) -> Result<(), AppError> {
    if !crate::text::may_hold_controls(bytes) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let problems = crate::text::json_problems(&value);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(problems))
    }
}

pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, AppError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some(problem) =
        crate::text::pairs_problem(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        return Err(AppError::Validation(vec![problem]));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(de)
        .map_err(|e| field_error(e.path().to_string(), &e.into_inner().to_string()))?;
    value.validate()?;
    Ok(value)
}

/// Turns a serde message into a field error: serde names missing and unknown fields
/// in the message rather than the path, so they are lifted out of it.
fn field_error(path: String, message: &str) -> AppError {
    let path = if path == "." || path == "?" {
        String::new()
    } else {
        path
    };
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    // serde_json appends the position; the field path says more to a person.
    let message = message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at]);
    let quoted = message.split('`').nth(1);
    let (field, text) = if let (true, Some(name)) = (message.starts_with("missing field"), quoted) {
        (join(name), "必须填写".to_owned())
    } else if let (true, Some(name)) = (message.starts_with("unknown field"), quoted) {
        (join(name), "没有这个字段".to_owned())
    } else if message.starts_with("unknown variant") {
        (path, format!("取值不在允许范围内（{message}）"))
    } else if message.contains("EOF while parsing") && path.is_empty() {
        ("body".to_owned(), "请求内容不是完整的 JSON".to_owned())
    } else {
        let field = if path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        (field, format!("格式不对（{message}）"))
    };
    AppError::Validation(vec![FieldError::new(field, text)])
}

/// The caller's address, for rate limits and audit. Behind `trusted_proxies` proxies it
/// is read from `X-Forwarded-For` (see [`forwarded_client`]); `Forwarded` is ignored.
pub fn client_addr(req: &HttpRequest) -> String {
    let hops = req
        .app_data::<web::Data<Settings>>()
        .map_or(0, |s| s.proxy_hops());
    let peer = || {
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned())
    };
    if hops == 0 {
        return peer();
    }
    forwarded_client(req.headers(), hops).unwrap_or_else(peer)
}

/// The address `hops` entries from the right of `X-Forwarded-For`. Each trusted proxy
/// appends the address it was reached from, so only the rightmost `hops` entries are
/// vouched for; anything further left was written by the client and is never read.
/// A header too short for the proxies that should have written it counts for nothing.
pub fn forwarded_client(
    headers: &actix_web::http::header::HeaderMap,
    hops: usize,
) -> Option<String> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let entry = entries.get(entries.len().checked_sub(hops)?)?;
    let ip = entry
        .parse::<std::net::IpAddr>()
        .or_else(|_| entry.parse::<std::net::SocketAddr>().map(|a| a.ip()))
        .ok()?;
    Some(ip.to_string())
}

/// A JSON body for a request that moves points or stock: validated like [`ValidJson`],
/// with its `Idempotency-Key` header and the digest that ties the key to this request.
pub struct IdempotentJson<T> {
    pub body: T,
    header: Option<String>,
    method: String,
    path: String,
    value: serde_json::Value,
}

impl<T> IdempotentJson<T> {
    /// The key in the caller's namespace (`Principal::idempotency_scope`).
    pub fn key(&self, scope: String) -> Result<IdempotencyKey, AppError> {
        IdempotencyKey::new(
            scope,
            self.header.as_deref(),
            &self.method,
            &self.path,
            &self.value,
        )
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for IdempotentJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        let header = req
            .headers()
            .get("idempotency-key")
            .map(|v| v.to_str().map(str::to_owned).unwrap_or_default());
        let (method, path) = (req.method().to_string(), req.path().to_owned());
        Box::pin(async move {
            let bytes = body.await?;
            let body: T = parse_json(&bytes)?;
            // The digest reads `2.0` as `2`, as the body was read.
            let mut value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            rewrite_whole_numbers(&mut value);
            Ok(IdempotentJson {
                body,
                header,
                method,
                path,
                value,
            })
        })
    }
}

/// Answers with a stored or fresh outcome of an idempotent request.
pub fn outcome_response(outcome: Outcome) -> actix_web::HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(outcome.status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = actix_web::HttpResponse::build(status);
    response.content_type(if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    });
    if outcome.replayed {
        response.insert_header(("Idempotency-Replayed", "true"));
    }
    response.body(outcome.body)
}

/// `201 Created` with a JSON body.
pub fn created<T: serde::Serialize>(body: &T) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created().json(body)
}

/// Largest file accepted by an import.
pub const UPLOAD_LIMIT: usize = 5 * 1024 * 1024;

/// A `multipart/form-data` upload with one file part named `file` (OpenAPI shape).
#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileUpload {
    /// CSV (UTF-8) or XLSX.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// A file in a response body, as bytes (OpenAPI shape: a binary string).
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}

/// Reads the part named `file` of a multipart upload.
pub async fn read_file_part(mut form: actix_multipart::Multipart) -> Result<Vec<u8>, AppError> {
    use futures_util::StreamExt;
    let bad_form = || AppError::field("file", "请用 multipart/form-data 上传一个名为 file 的文件");
    // The first part is the file; like a JSON body's unknown field, another name is refused.
    let Some(part) = form.next().await else {
        return Err(bad_form());
    };
    let mut part = part.map_err(|_| bad_form())?;
    if part.content_disposition().and_then(|d| d.get_name()) != Some("file") {
        return Err(bad_form());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(|_| bad_form())?;
        if bytes.len() + chunk.len() > UPLOAD_LIMIT {
            return Err(AppError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    // Only the file: any further part is refused, as a JSON body's unknown field is. (The
    // multipart stream moves on only once the field read is dropped.)
    drop(part);
    if let Some(extra) = form.next().await {
        let name = extra
            .ok()
            .and_then(|p| {
                p.content_disposition()
                    .and_then(|d| d.get_name())
                    .map(str::to_owned)
            })
            .filter(|n| !n.is_empty() && n.len() <= 64 && crate::text::single_line(n).is_ok())
            .unwrap_or_else(|| "file".to_owned());
        return Err(AppError::field(name, "只能上传一个名为 file 的文件"));
    }
    Ok(bytes)
}

/// The sheet `work` makes (off the async workers) as a download in `format`: the body of
/// every export handler.
pub async fn export<F>(
    db: &crate::db::Db,
    format: crate::export::FileFormat,
    work: F,
) -> Result<actix_web::HttpResponse, AppError>
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<crate::export::Sheet, AppError>
        + Send
        + 'static,
{
    download(db, move |conn| work(conn)?.render(format)).await
}

/// The file `work` makes (off the async workers) as a download.
pub async fn download<F>(db: &crate::db::Db, work: F) -> Result<actix_web::HttpResponse, AppError>
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<crate::export::ExportFile, AppError>
        + Send
        + 'static,
{
    Ok(attachment(db.run(work).await?))
}

/// The file as a download, its Chinese name per RFC 6266 (`filename*`) with an ASCII
/// fallback for old clients.
fn attachment(file: crate::export::ExportFile) -> actix_web::HttpResponse {
    let extension = file.file_name.rsplit('.').next().unwrap_or("dat");
    let disposition = format!(
        "attachment; filename=\"jifen-export.{extension}\"; filename*=UTF-8''{}",
        percent_encoding::utf8_percent_encode(&file.file_name, percent_encoding::NON_ALPHANUMERIC)
    );
    actix_web::HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header(("Content-Disposition", disposition))
        .body(file.bytes)
}

/// The address printed for phones to open (invite slips, household cards): `public_url`,
/// or else the one the desk's own browser reached the server at (its listen address may
/// be 0.0.0.0 or a port of 0).
pub fn public_base(req: &HttpRequest, settings: &Settings) -> String {
    match &settings.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[validate(range(min = 0, max = 30, message = "须在 0 到 30 之间"))]
        days: i64,
    }

    #[derive(Debug, Deserialize, Validate)]
    struct Outer {
        name: String,
        #[validate(nested)]
        inner: Option<Inner>,
    }

    fn fields(err: AppError) -> Vec<String> {
        match err {
            AppError::Validation(list) => list.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let missing = parse_json::<Outer>(br#"{}"#).unwrap_err();
        assert_eq!(fields(missing), ["name"]);
        let wrong_type = parse_json::<Outer>(br#"{"name": 5}"#).unwrap_err();
        assert_eq!(fields(wrong_type), ["name"]);
        let ok = parse_json::<Outer>(br#"{"name":"a","inner":{"days":3}}"#).unwrap();
        assert_eq!((ok.name.as_str(), ok.inner.map(|i| i.days)), ("a", Some(3)));
        let nested = parse_json::<Outer>(br#"{"name":"a","inner":{"days":"x"}}"#).unwrap_err();
        assert_eq!(fields(nested), ["inner.days"]);
        let unknown = parse_json::<Outer>(br#"{"name":"a","inner":{"dayz":1}}"#).unwrap_err();
        assert_eq!(fields(unknown), ["inner.dayz"]);
        let range = parse_json::<Outer>(br#"{"name":"a","inner":{"days":31}}"#).unwrap_err();
        assert_eq!(fields(range), ["inner.days"]);
    }

    #[test]
    fn the_client_is_read_from_the_right_of_x_forwarded_for() {
        use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
        let xff = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for v in values {
                map.append(
                    HeaderName::from_static("x-forwarded-for"),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            map
        };
        // The client wrote "6.6.6.6"; the one proxy appended what it saw.
        let one = xff(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(forwarded_client(&one, 1).as_deref(), Some("203.0.113.7"));
        let two = xff(&["6.6.6.6", "198.51.100.2, 10.0.0.5"]);
        assert_eq!(forwarded_client(&two, 2).as_deref(), Some("198.51.100.2"));
        assert_eq!(forwarded_client(&xff(&["203.0.113.7"]), 2), None);
        assert_eq!(forwarded_client(&xff(&["not-an-address"]), 1), None);
        assert_eq!(forwarded_client(&HeaderMap::new(), 1), None);
        assert_eq!(
            forwarded_client(&xff(&["[2001:db8::1]:4711"]), 1).as_deref(),
            Some("2001:db8::1")
        );
    }

    #[test]
    fn junk_is_a_body_error() {
        for junk in [
            &b""[..],
            b"{",
            b"\"text\"",
            b"null",
            b"\xff\xfe",
            br#"{"name":"a"} {}"#,
        ] {
            assert_eq!(fields(parse_json::<Outer>(junk).unwrap_err()), ["body"]);
        }
    }
}
