//! Reading requests so that every mistake names its field: JSON bodies and query strings
//! go through `serde_path_to_error`, ids that are not UUIDs are simply unknown (404), and
//! every list reads its page (`limit` 1-1000, `offset` from 0) by one rule.

use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, FieldError};
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

/// Parses a JSON body; a syntax error or a wrong type answers 400 naming the field.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    if body.is_empty() {
        return Err(AppError::bad_request("body", "a JSON body is required"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| path_error(e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| AppError::bad_request("body", e.to_string()))?;
    Ok(value)
}

/// Parses a query string the same way.
pub fn query<T: DeserializeOwned>(query: &str) -> AppResult<T> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.inner().to_string();
        AppError::BadRequest {
            detail: format!("invalid query parameter: {message}"),
            errors: vec![FieldError::new(
                if field == "." { "query".into() } else { field },
                message,
            )],
        }
    })
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
    struct Body {
        date_of_birth: chrono::NaiveDate,
        uasc: Option<bool>,
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = json::<Body>(br#"{"date_of_birth": "2020-02-30"}"#).unwrap_err();
        match err {
            AppError::BadRequest { errors, .. } => assert_eq!(errors[0].field, "date_of_birth"),
            other => panic!("{other:?}"),
        }
        let err = json::<Body>(br#"{"date_of_birth": "2020-02-03", "uasc": "yes"}"#).unwrap_err();
        match err {
            AppError::BadRequest { errors, .. } => assert_eq!(errors[0].field, "uasc"),
            other => panic!("{other:?}"),
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
        assert!(json::<Body>(br#"{"date_of_birth": "2020-02-03"} x"#).is_err());
        assert!(json::<Body>(b"").is_err());
    }

    #[test]
    fn ids_must_be_uuids() {
        assert!(id("not-a-uuid", "child").is_err());
        assert!(id("0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f00", "child").is_ok());
    }
}
