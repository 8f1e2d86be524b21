//! One error type at the edge. Data code returns `QueryResult`; services and handlers
//! return `AppError`, which answers as RFC 9457 `application/problem+json`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request could not be read at all (malformed JSON, wrong types, bad query string).
    #[error("{detail}")]
    BadRequest { detail: String, errors: Vec<FieldError> },
    /// Well-formed, but a value breaks a rule.
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("invalid request"))]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("sign in first: send a bearer token or a session cookie")]
    Unauthenticated,
    /// With the methods the path does allow, for the `Allow` header (RFC 9110).
    #[error("this method is not allowed on this path")]
    MethodNotAllowed(String),
    /// A body sent as something other than JSON (the message says what came).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Forbidden(String),
    /// A workflow step that is not allowed in the current state.
    #[error("{0}")]
    Conflict(String),
    #[error("the record has changed since version {sent} was read (now version {current}); read it again")]
    StaleVersion { sent: i32, current: i32 },
    #[error("the database is not available")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The same error with one field named as the caller's input names it (a service
    /// shared by a page and an API route names the page's field).
    pub fn field_renamed(self, from: &str, to: &str) -> AppError {
        match self {
            AppError::Invalid(errors) => AppError::Invalid(
                errors
                    .into_iter()
                    .map(|e| {
                        if e.field == from {
                            FieldError::new(to, e.message)
                        } else {
                            e
                        }
                    })
                    .collect(),
            ),
            e => e,
        }
    }

    pub fn bad_request(field: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::BadRequest {
            detail: message.clone(),
            errors: vec![FieldError::new(field, message)],
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "Malformed request",
            AppError::Invalid(_) => "Invalid value",
            AppError::NotFound(_) => "Not found",
            AppError::Unauthenticated => "Not signed in",
            AppError::MethodNotAllowed(_) => "Method Not Allowed",
            AppError::UnsupportedMediaType(_) => "Unsupported Media Type",
            AppError::Forbidden(_) => "Forbidden",
            AppError::Conflict(_) => "Step not allowed",
            AppError::StaleVersion { .. } => "Stale version",
            AppError::Unavailable => "Service unavailable",
            AppError::Internal(_) => "Internal error",
        }
    }

    fn type_uri(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "/problems/malformed-request",
            AppError::Invalid(_) => "/problems/invalid-value",
            AppError::NotFound(_) => "/problems/not-found",
            AppError::Unauthenticated => "/problems/unauthenticated",
            AppError::MethodNotAllowed(_) => "/problems/http-405",
            AppError::UnsupportedMediaType(_) => "/problems/unsupported-media-type",
            AppError::Forbidden(_) => "/problems/forbidden",
            AppError::Conflict(_) => "/problems/step-not-allowed",
            AppError::StaleVersion { .. } => "/problems/stale-version",
            AppError::Unavailable => "/problems/unavailable",
            AppError::Internal(_) => "/problems/internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::BadRequest { errors, .. } => errors.clone(),
            AppError::Invalid(errors) => errors.clone(),
            AppError::UnsupportedMediaType(message) => vec![FieldError::new("Content-Type", message.clone())],
            _ => Vec::new(),
        }
    }
}

/// The problem document (RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) | AppError::StaleVersion { .. } => StatusCode::CONFLICT,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            // The cause goes to the log only; it may hold SQL, never shown to the caller.
            tracing::error!(%cause, "internal error");
        }
        let status = self.status_code();
        let body = Problem {
            type_uri: self.type_uri().to_string(),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            errors: self.field_errors(),
        };
        let mut response = HttpResponse::build(status);
        match self {
            AppError::Unauthenticated => {
                response.insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::MethodNotAllowed(allow) => {
                response.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        response.content_type("application/problem+json").json(body)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound("record"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::Conflict("a record with the same identifying values already exists".into())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Answers a unique violation with `conflict`: the answer the check before the write gives,
/// so a request that lost a race (another committed the same thing first, which its check
/// could not see yet) is told exactly what a request that came second is told. Use it on
/// each write guarded by a unique constraint; other errors pass through.
pub fn on_unique_violation<T>(result: diesel::QueryResult<T>, conflict: impl FnOnce() -> AppError) -> AppResult<T> {
    use diesel::result::{DatabaseErrorKind, Error};
    match result {
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(conflict()),
        other => Ok(other?),
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> AppError {
        tracing::warn!(error = %e, "database pool");
        AppError::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> AppError {
        AppError::Internal(e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
