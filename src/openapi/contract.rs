//! What the handlers' annotations leave to one place: the answers every operation of a
//! kind can give whatever it does, and the characters every request string may hold. The
//! rules mirror the extractors (`crate::http`, `crate::text`), so the document says what
//! the server does without each annotation repeating it.

use utoipa::openapi::content::{Content, ContentBuilder};
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    ArrayItems, KnownFormat, Object, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{ObjectBuilder, OpenApi, Ref, RefOr};

/// One line of text: no control character at all (`crate::text::single_line`).
pub const SINGLE_LINE: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// Text over lines: newline, tab and carriage return, no other control character
/// (`crate::text::multi_line`, and what every JSON string is held to). Fields validated
/// as multi-line carry this pattern in their `#[schema]` attribute; every other request
/// string without a pattern of its own is single-line.
pub const MULTI_LINE: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// `crate::date::parse`: a business date from 2000 to 2100 (its `format: date` says the
/// rest). Months and days are spelt out so that nearly every string the pattern allows is
/// a date: fuzzers draw from the pattern and filter by the format, and a looser pattern
/// left too few to draw from for an operation with two dates.
const BUSINESS_DATE: &str = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// An RFC 3339 instant with its offset (an event's start and end), spelt out the same way
/// as [`BUSINESS_DATE`] so that what fuzzers draw from it is nearly always an instant.
const TIMESTAMP: &str = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$";

/// `IdempotencyKey::new`: 1–128 visible ASCII characters.
const IDEMPOTENCY_KEY: &str = "^[\\x21-\\x7E]{1,128}$";

const PROBLEM_JSON: &str = "application/problem+json";

/// The header that says how many seconds to wait: the database cannot serve, sign-in is limited.
const RETRY_AFTER: &str = "Retry-After";

pub fn complete(doc: &mut OpenApi) {
    let request_schemas = request_schema_names(doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        for operation in operations(item) {
            add_common_answers(path, operation);
            constrain_parameters(operation);
            if let Some(body) = operation.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let Some(RefOr::T(schema)) = content.schema.as_mut() {
                        constrain_strings(schema);
                    }
                }
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        for schema in components.schemas.values_mut() {
            if let RefOr::T(Schema::Object(object)) = schema {
                object.properties.values_mut().for_each(plain_reference);
            }
        }
        for name in request_schemas {
            if let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) {
                constrain_strings(schema);
            }
        }
    }
}

/// A field with a serde default whose type is another schema comes out as
/// `oneOf: [$ref]` with a `default`; generators (openapi-python-client) cannot give a model
/// a default and drop the schema, so the field becomes the bare reference.
fn plain_reference(property: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::OneOf(one_of)) = property
        && one_of.default.is_some()
        && let [RefOr::Ref(reference)] = one_of.items.as_slice()
    {
        *property = RefOr::Ref(reference.clone());
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The answers an operation gives by its shape: a bearer token can be missing or stale
/// (401), and `auth::policy::authorize` answers 404 for a target out of the caller's sight
/// and 403 for one in sight but not theirs; a path id can name nothing (404), a body or a query can
/// be invalid (422) or a body too large (413), and anything under `/api/` reads the
/// database, which can be down (503).
fn add_common_answers(path: &str, operation: &mut Operation) {
    let needs_token = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_input = operation.request_body.is_some()
        || operation
            .parameters
            .iter()
            .flatten()
            .any(|p| !matches!(p.parameter_in, ParameterIn::Path));
    let answers = &mut operation.responses.responses;
    // A refusal the annotation describes in words alone is a problem+json like all others.
    for (status, answer) in answers.iter_mut() {
        if let RefOr::T(answer) = answer
            && answer.content.is_empty()
            && status.starts_with(['4', '5'])
        {
            answer
                .content
                .insert(PROBLEM_JSON.to_owned(), problem_content());
        }
    }
    let mut add = |status: &str, description: &str| {
        answers
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem(description)));
    };
    if needs_token {
        add("401", "No valid access token: sign in (again)");
        add("403", "The caller sees this but may not do it");
    }
    if needs_token || path.contains('{') {
        add(
            "404",
            "Nothing by that id, or nothing here, in the caller's sight",
        );
    }
    if operation.request_body.is_some() {
        add("413", "The body is larger than the server takes");
    }
    if has_input {
        add("422", "A field is invalid; `errors` names each one");
    }
    if path.starts_with("/api/") {
        answers.entry("503".to_owned()).or_insert_with(unavailable);
    }
    if let Some(RefOr::T(too_many)) = answers.get_mut("429") {
        too_many.headers.insert(
            RETRY_AFTER.to_owned(),
            retry_after("Seconds until another try is counted"),
        );
    }
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content())
        .build()
}

fn problem_content() -> Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build()
}

fn unavailable() -> RefOr<Response> {
    let mut response =
        problem("The database cannot serve right now (`unavailable`); nothing was changed");
    response.headers.insert(
        RETRY_AFTER.to_owned(),
        retry_after("Seconds to wait before trying again"),
    );
    RefOr::T(response)
}

fn retry_after(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some(description))
        .build()
}

/// Queries and headers go through `crate::text` like bodies; a path with a control
/// character names nothing (404, `server::guard`).
fn constrain_parameters(operation: &mut Operation) {
    let parameters = operation.parameters.iter_mut().flatten();
    for parameter in parameters.filter(|p| !matches!(p.parameter_in, ParameterIn::Path)) {
        let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() else {
            continue;
        };
        if parameter.name == "Idempotency-Key" {
            schema.pattern = Some(IDEMPOTENCY_KEY.to_owned());
        } else {
            single_line_by_default(schema);
        }
    }
}

/// Gives every string of a request schema without a pattern, format or enum of its own
/// the single-line pattern, through objects, arrays and alternatives.
fn constrain_strings(schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            single_line_by_default(object);
            for property in object.properties.values_mut() {
                if let RefOr::T(inner) = property {
                    constrain_strings(inner);
                }
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items
                && let RefOr::T(inner) = items.as_mut()
            {
                constrain_strings(inner);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(inline(constrain_strings)),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(inline(constrain_strings)),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(inline(constrain_strings)),
        _ => {}
    }
}

fn inline(f: fn(&mut Schema)) -> impl FnMut(&mut RefOr<Schema>) {
    move |item| {
        if let RefOr::T(schema) = item {
            f(schema);
        }
    }
}

/// Every request date is read by `crate::date::strict`; every other string without a
/// pattern, format or enum of its own is one line.
fn single_line_by_default(object: &mut Object) {
    let is_string = match &object.schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    };
    if !is_string || object.pattern.is_some() || object.enum_values.is_some() {
        return;
    }
    match &object.format {
        Some(SchemaFormat::KnownFormat(KnownFormat::Date)) => {
            object.pattern = Some(BUSINESS_DATE.to_owned());
        }
        Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)) => {
            object.pattern = Some(TIMESTAMP.to_owned());
        }
        Some(_) => {}
        None => object.pattern = Some(SINGLE_LINE.to_owned()),
    }
}

/// Names of the component schemas a request body refers to, directly or through others.
fn request_schema_names(doc: &OpenApi) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for item in doc.paths.paths.values() {
        let bodies = [&item.get, &item.put, &item.post, &item.delete, &item.patch]
            .into_iter()
            .flatten()
            .filter_map(|operation| operation.request_body.as_ref());
        for body in bodies {
            for content in body.content.values() {
                if let Some(schema) = &content.schema {
                    collect_refs(schema, &mut pending);
                }
            }
        }
    }
    let schemas = doc.components.as_ref().map(|c| &c.schemas);
    while let Some(name) = pending.pop() {
        if names.contains(&name) {
            continue;
        }
        if let Some(schema) = schemas.and_then(|s| s.get(&name)) {
            collect_refs(schema, &mut pending);
        }
        names.push(name);
    }
    names
}

fn collect_refs(schema: &RefOr<Schema>, found: &mut Vec<String>) {
    let schema = match schema {
        RefOr::Ref(reference) => {
            if let Some(name) = reference.ref_location.strip_prefix("#/components/schemas/") {
                found.push(name.to_owned());
            }
            return;
        }
        RefOr::T(schema) => schema,
    };
    match schema {
        Schema::Object(object) => object
            .properties
            .values()
            .for_each(|property| collect_refs(property, found)),
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &array.items {
                collect_refs(items, found);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter().for_each(|i| collect_refs(i, found)),
        Schema::AllOf(all_of) => all_of.items.iter().for_each(|i| collect_refs(i, found)),
        Schema::AnyOf(any_of) => any_of.items.iter().for_each(|i| collect_refs(i, found)),
        _ => {}
    }
}
