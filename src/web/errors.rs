//! Errors as NHS-styled pages for browsers: the same refusals as the API's problem+json
//! (404, 403, 409, 500 ...) rendered as HTML wherever the request was for a page.
//!
//! Rules:
//! - A page request's error answer is HTML with the same status; `/api` keeps problem+json.
//! - The signed-in user's header stays on an error page, so they can carry on.
//! - A record outside the user's scope reads exactly like one that does not exist.
//! - An internal error says only that something went wrong (the cause goes to the log).
//! - A page that is not signed in is sent to sign in, never shown a 401.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, Responder};
use askama::Template;
use askama_web::WebTemplate;

use super::layout::Layout;
use crate::error::AppError;
use crate::http::auth::{Access, SignedIn, Zone};

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub heading: String,
    pub paragraphs: Vec<String>,
}

/// Whether an error on this path should be answered with a page.
pub fn is_page(path: &str) -> bool {
    Zone::of(path) == Zone::Page || path == "/login"
}

/// What an error page says for a status (and the error behind it, when there is one).
pub fn content(status: StatusCode, error: Option<&AppError>) -> (String, Vec<String>) {
    let detail = error.map(|e| e.to_string()).filter(|d| !d.is_empty());
    let (heading, mut paragraphs): (&str, Vec<String>) = match status.as_u16() {
        400 => ("There is a problem with the request", Vec::new()),
        403 if detail.as_deref().is_some_and(|d| d.contains("CSRF")) => (
            "This form has expired",
            vec!["Go back, reload the page and try again.".into()],
        ),
        403 => (
            "You do not have permission to see this page",
            vec!["Your roles do not allow this. If you need it for your work, ask your administrator.".into()],
        ),
        404 => (
            "Page not found",
            vec![
                "If you typed the web address, check it is correct.".into(),
                "If you pasted the web address, check you copied the entire address.".into(),
                "A child's record you do not have access to is not shown either.".into(),
            ],
        ),
        405 => ("This page cannot be used that way", Vec::new()),
        409 if matches!(error, Some(AppError::StaleVersion { .. })) => (
            super::forms::STALE,
            vec!["Nothing was saved. Go back and reload the page to see it as it is now, then try again.".into()],
        ),
        409 => ("This step cannot be recorded now", Vec::new()),
        413 => ("The form is too large", Vec::new()),
        422 => ("Check what you entered", Vec::new()),
        429 => ("Too many requests", vec!["Wait a while and try again.".into()]),
        _ => (
            "Sorry, there is a problem with the service",
            vec!["Try again later.".into()],
        ),
    };
    // Say what the service said, except where it could hold internals.
    let shows_detail =
        matches!(status.as_u16(), 400 | 405 | 409 | 413 | 422) && !matches!(error, Some(AppError::StaleVersion { .. }));
    if let Some(d) = detail.filter(|_| shows_detail) {
        paragraphs.insert(0, sentence(&d));
    }
    (heading.to_string(), paragraphs)
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The error page for a request.
pub fn page(req: &HttpRequest, status: StatusCode, error: Option<&AppError>) -> HttpResponse {
    if status == StatusCode::UNAUTHORIZED {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login"))
            .finish();
    }
    let (heading, paragraphs) = content(status, error);
    let principal = {
        let ext = req.extensions();
        ext.get::<Access>()
            .map(|a| a.principal.clone())
            .or_else(|| ext.get::<SignedIn>().map(|s| s.0.clone()))
    };
    let layout = match &principal {
        Some(p) => Layout::signed_in(heading.clone(), p, req.path()),
        None => Layout::public(heading.clone()),
    };
    ErrorPage {
        layout,
        heading,
        paragraphs,
    }
    .customize()
    .with_status(status)
    .respond_to(req)
    .map_into_boxed_body()
}

/// The error handler's half for pages: any error answer not already HTML becomes a page.
pub fn as_page<B>(res: ServiceResponse<B>) -> ErrorHandlerResponse<B> {
    let status = res.status();
    let error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(copy_of);
    let (req, _) = res.into_parts();
    let response: HttpResponse<BoxBody> = page(&req, status, error.as_ref());
    ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_body(|_, b| EitherBody::right(b)))
}

/// `AppError` is not `Clone` (it wraps nothing that could not be, but says so explicitly
/// here): the page needs only what it shows.
fn copy_of(e: &AppError) -> AppError {
    match e {
        AppError::BadRequest { detail, errors } => AppError::BadRequest {
            detail: detail.clone(),
            errors: errors.clone(),
        },
        AppError::Invalid(list) => AppError::Invalid(list.clone()),
        AppError::NotFound(what) => AppError::NotFound(what),
        AppError::Unauthenticated => AppError::Unauthenticated,
        AppError::MethodNotAllowed(allow) => AppError::MethodNotAllowed(allow.clone()),
        AppError::UnsupportedMediaType(m) => AppError::UnsupportedMediaType(m.clone()),
        AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
        AppError::Conflict(m) => AppError::Conflict(m.clone()),
        AppError::StaleVersion { sent, current } => AppError::StaleVersion {
            sent: *sent,
            current: *current,
        },
        AppError::Unavailable => AppError::Unavailable,
        AppError::Internal(_) => AppError::Internal(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_reads_the_same_for_unknown_and_out_of_scope() {
        let (heading, _) = content(StatusCode::NOT_FOUND, Some(&AppError::NotFound("child")));
        assert_eq!(heading, "Page not found");
        let (unknown, _) = content(StatusCode::NOT_FOUND, None);
        assert_eq!(heading, unknown);
    }

    #[test]
    fn a_stale_version_says_someone_else_changed_it() {
        let (heading, text) = content(
            StatusCode::CONFLICT,
            Some(&AppError::StaleVersion { sent: 1, current: 2 }),
        );
        assert_eq!(heading, "This record was changed by someone else");
        assert!(text.iter().any(|p| p.contains("Nothing was saved")));
    }

    #[test]
    fn a_refused_step_names_what_is_allowed() {
        let e =
            AppError::Conflict("cannot record consent on an IHA in state booked; allowed from booked: outcome".into());
        let (heading, text) = content(StatusCode::CONFLICT, Some(&e));
        assert_eq!(heading, "This step cannot be recorded now");
        assert!(text[0].starts_with("Cannot record consent"), "{text:?}");
    }

    #[test]
    fn internal_errors_show_no_detail() {
        let (_, text) = content(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(&AppError::Internal("SELECT secret".into())),
        );
        assert!(text.iter().all(|p| !p.contains("SELECT")), "{text:?}");
    }

    #[test]
    fn pages_and_the_api_are_told_apart() {
        assert!(is_page("/children/abc"));
        assert!(is_page("/login"));
        assert!(!is_page("/api/v1/children"));
        assert!(!is_page("/assets/x.css"));
        assert!(!is_page("/health"));
    }
}
