//! Reading requests so that every mistake names its field. The rules, for every JSON body
//! and query string (the sign-in form's email is held to the same text rule in
//! `auth::login`):
//!
//! - A JSON body must be sent as `Content-Type: application/json` (parameters allowed; a
//!   charset, if given, must be UTF-8). Anything else answers 415, before the body is read
//!   as JSON. An empty body answers 400.
//! - Syntax errors and wrong types answer 400 naming the field (`serde_path_to_error`);
//!   unknown fields are refused.
//! - Dates are `YYYY-MM-DD` exactly and timestamps RFC 3339 with an offset: each date field
//!   is declared with `crate::input::date` / `optional_date` / `timestamp`, which answer 400
//!   naming the field for anything else.
//! - No text may hold a control character: NUL, the other C0 controls, DEL and the C1
//!   controls. Only the free-text fields a body names in [`JsonInput::MULTILINE`] may hold
//!   tab, CR and LF; every other string, and every query parameter, is single-line. A
//!   breach answers 422 naming every field at fault (the request is well-formed; the value
//!   breaks a rule), checked here once so that no such value reaches a service, a log line
//!   or the database (PostgreSQL cannot store NUL).
//! - Ids in paths are UUIDs; anything else cannot name a record (404).
//! - Every list reads its page (`limit` 1-1000, `offset` from 0) by one rule ([`page`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, AppResult, FieldError};
use crate::input;
use crate::service::validate::Checks;

/// The query of a list with nothing to filter by: which page.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1-1000.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// A list's `limit` (1-1000, default `default_limit`) and `offset` (not negative): the same
/// rule for every list, 422 outside it.
pub fn page(limit: Option<i64>, offset: Option<i64>, default_limit: i64) -> AppResult<(usize, usize)> {
    let mut c = Checks::new();
    let page = c.page(limit, offset, default_limit);
    c.finish()?;
    Ok(page)
}

/// A request body that is to be JSON: the bytes and the media type they were sent as.
/// Handlers take it instead of `web::Bytes` and read it with [`json`].
pub struct Body {
    bytes: web::Bytes,
    media: Result<(), String>,
}

impl FromRequest for Body {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Body, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let media = json_media_type(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            Ok(Body {
                bytes: bytes.await?,
                media,
            })
        })
    }
}

/// `application/json`, with any parameters, but a charset only if it is UTF-8 (the only
/// encoding JSON may travel in, RFC 8259).
fn json_media_type(req: &HttpRequest) -> Result<(), String> {
    let refuse = |what: &str| {
        Err(format!(
            "send the body as JSON with Content-Type: application/json (got {what})"
        ))
    };
    let mime = match req.mime_type() {
        Ok(Some(m)) => m,
        Ok(None) => return refuse("no Content-Type"),
        Err(_) => return refuse("an unreadable Content-Type"),
    };
    let json = mime.type_().as_str().eq_ignore_ascii_case("application")
        && mime.subtype().as_str().eq_ignore_ascii_case("json")
        && mime.suffix().is_none();
    let utf8 = mime
        .get_param("charset")
        .is_none_or(|c| c.as_str().eq_ignore_ascii_case("utf-8"));
    if json && utf8 {
        Ok(())
    } else {
        refuse(mime.essence_str())
    }
}

/// A JSON body type, and which of its text fields may span lines (tab, CR and LF): by
/// default none, so a new body is single-line throughout until it says otherwise.
pub trait JsonInput: DeserializeOwned {
    /// Paths as errors name them: `reason`, `placement.host_la`.
    const MULTILINE: &'static [&'static str] = &[];
}

/// Parses a JSON body: 400 when empty or malformed (naming the field), 415 when not sent as
/// JSON, 422 naming each field that holds a control character it may not.
pub fn json<T: JsonInput>(body: &Body) -> AppResult<T> {
    if body.bytes.is_empty() {
        return Err(AppError::bad_request("body", "a JSON body is required"));
    }
    body.media.clone().map_err(AppError::UnsupportedMediaType)?;
    from_bytes(&body.bytes)
}

/// The body's bytes, once its media type passed.
fn from_bytes<T: JsonInput>(bytes: &[u8]) -> AppResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| path_error(e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| AppError::bad_request("body", e.to_string()))?;
    // Parsed again as a tree to walk its strings: the body is small (`max_body_bytes`) and
    // this keeps the check independent of how each type spells its fields.
    let tree: Value = serde_json::from_slice(bytes).map_err(|e| AppError::bad_request("body", e.to_string()))?;
    let mut errors = Vec::new();
    control_characters(&tree, &mut String::new(), T::MULTILINE, &mut errors);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Every string in `value`, by its path, against the text rule.
fn control_characters(value: &Value, path: &mut String, multiline: &[&str], errors: &mut Vec<FieldError>) {
    match value {
        Value::String(text) => {
            let free = multiline.contains(&path.as_str());
            if let Some(c) = input::control_character(text, free) {
                let field = if path.is_empty() { "body" } else { path.as_str() };
                errors.push(FieldError::new(field, input::control_character_message(c, free)));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                control_characters(item, path, multiline, errors);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                control_characters(item, path, multiline, errors);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Parses a query string the same way: 400 naming the parameter, then 422 naming each
/// parameter that holds a control character (every parameter is single-line).
pub fn query<T: DeserializeOwned>(query: &str) -> AppResult<T> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.inner().to_string();
        AppError::BadRequest {
            detail: format!("invalid query parameter: {message}"),
            errors: vec![FieldError::new(
                if field == "." { "query".into() } else { field },
                message,
            )],
        }
    })?;
    let errors: Vec<FieldError> = form_urlencoded::parse(query.as_bytes())
        .filter_map(|(key, text)| {
            let message = |c| input::control_character_message(c, false);
            if let Some(c) = input::control_character(&key, false) {
                return Some(FieldError::new("query", message(c)));
            }
            input::control_character(&text, false).map(|c| FieldError::new(key.into_owned(), message(c)))
        })
        .collect();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn path_error(path: String, inner: &impl std::fmt::Display) -> AppError {
    let message = inner.to_string();
    let field = field_of(&path, &message);
    AppError::BadRequest {
        detail: format!("{field}: {message}"),
        errors: vec![FieldError::new(field, message)],
    }
}

/// The field to blame: the path where parsing stopped, extended by the name serde reports
/// for a missing field (whose path is the enclosing object). A path of "." (the top) or "?"
/// (the text ended mid-value) blames the body as a whole.
fn field_of(path: &str, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    let base = match path {
        "." | "?" | "" => None,
        p => Some(p),
    };
    match (base, missing) {
        (Some(b), Some(m)) => format!("{b}.{m}"),
        (None, Some(m)) => m.to_string(),
        (Some(b), None) => b.to_string(),
        (None, None) => "body".to_string(),
    }
}

/// Ids are UUIDs; anything else cannot name a record.
pub fn id(raw: &str, what: &'static str) -> AppResult<String> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.to_string())
        .map_err(|_| AppError::NotFound(what))
}

/// `If-Match: "3"` (or `3`) carries the version a client read.
pub fn if_match(req: &actix_web::HttpRequest) -> AppResult<Option<i32>> {
    let Some(value) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    text.parse::<i32>()
        .map(Some)
        .map_err(|_| AppError::bad_request("If-Match", "must be the record's version number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Child {
        #[serde(deserialize_with = "crate::input::date")]
        date_of_birth: chrono::NaiveDate,
        uasc: Option<bool>,
        name: Option<String>,
    }
    impl JsonInput for Child {}

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Note {
        body: String,
        author: String,
        tags: Option<Vec<String>>,
        placement: Option<Place>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Place {
        host_la: String,
    }
    impl JsonInput for Note {
        const MULTILINE: &'static [&'static str] = &["body"];
    }

    fn fields_of(err: AppError) -> (u16, Vec<String>) {
        let status = actix_web::ResponseError::status_code(&err).as_u16();
        match err {
            AppError::BadRequest { errors, .. } | AppError::Invalid(errors) => {
                (status, errors.into_iter().map(|e| e.field).collect())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = from_bytes::<Child>(br#"{"date_of_birth": "2020-02-30"}"#).unwrap_err();
        assert_eq!(fields_of(err), (400, vec!["date_of_birth".to_string()]));
        let err = from_bytes::<Child>(br#"{"date_of_birth": "2020-02-03", "uasc": "yes"}"#).unwrap_err();
        assert_eq!(fields_of(err), (400, vec!["uasc".to_string()]));
    }

    #[test]
    fn lenient_dates_are_malformed() {
        for bad in [" 2023-01-01", "2023-1-1", "2023-01-01 ", "20230101"] {
            let body = format!(r#"{{"date_of_birth": "{bad}"}}"#);
            let err = from_bytes::<Child>(body.as_bytes()).unwrap_err();
            assert_eq!(fields_of(err), (400, vec!["date_of_birth".to_string()]), "{bad:?}");
        }
    }

    #[test]
    fn missing_fields_are_named_with_their_path() {
        assert_eq!(field_of(".", "missing field `local_id` at line 1 column 2"), "local_id");
        assert_eq!(
            field_of("placement", "missing field `placement_type`"),
            "placement.placement_type"
        );
        assert_eq!(field_of("?", "EOF while parsing an object"), "body");
        assert_eq!(field_of("uasc", "invalid type"), "uasc");
    }

    #[test]
    fn trailing_garbage_and_empty_bodies_are_rejected() {
        assert!(from_bytes::<Child>(br#"{"date_of_birth": "2020-02-03"} x"#).is_err());
        assert!(from_bytes::<Child>(b"").is_err());
    }

    #[test]
    fn control_characters_are_refused_naming_each_field() {
        let err = from_bytes::<Child>(br#"{"date_of_birth": "2020-02-03", "name": "a\u0000b"}"#).unwrap_err();
        assert_eq!(fields_of(err), (422, vec!["name".to_string()]));
        let body = r#"{"body": "x\u0000", "author": "Dr\u0085", "tags": ["ok", "b\u0007"], "placement": {"host_la": "De\tvon"}}"#;
        let err = from_bytes::<Note>(body.as_bytes()).unwrap_err();
        let (status, mut fields) = fields_of(err);
        fields.sort();
        assert_eq!(status, 422);
        assert_eq!(fields, ["author", "body", "placement.host_la", "tags[1]"]);
    }

    #[test]
    fn only_multiline_fields_may_hold_tabs_and_line_breaks() {
        let ok = from_bytes::<Note>(br#"{"body": "seen\r\n\tall well", "author": "Dr A"}"#);
        assert!(ok.is_ok(), "{ok:?}");
        let err = from_bytes::<Note>(br#"{"body": "seen", "author": "Dr\nA"}"#).unwrap_err();
        assert_eq!(fields_of(err), (422, vec!["author".to_string()]));
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Search {
        q: Option<String>,
        #[serde(default, deserialize_with = "crate::input::optional_date")]
        as_of: Option<chrono::NaiveDate>,
    }

    #[test]
    fn query_parameters_are_single_line_and_dates_strict() {
        assert!(query::<Search>("q=Smith&as_of=2026-01-31").is_ok());
        let none = query::<Search>("q=Smith").expect("as_of may be left out");
        assert_eq!(none.as_of, None);
        let err = query::<Search>("q=a%00b").unwrap_err();
        assert_eq!(fields_of(err), (422, vec!["q".to_string()]));
        let err = query::<Search>("q=a%0Ab").unwrap_err();
        assert_eq!(fields_of(err), (422, vec!["q".to_string()]));
        for bad in ["as_of=2026-1-31", "as_of=%202026-01-31", "as_of=2026-01-31%20"] {
            let err = query::<Search>(bad).unwrap_err();
            assert_eq!(fields_of(err), (400, vec!["as_of".to_string()]), "{bad}");
        }
    }

    #[test]
    fn ids_must_be_uuids() {
        assert!(id("not-a-uuid", "child").is_err());
        assert!(id("0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f00", "child").is_ok());
    }
}
