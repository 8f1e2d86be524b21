//! Authentication and authorisation for `/api/v1` and the browser pages, in one place:
//! every request is mapped to an action through `access::ROUTES` or `access::PAGES`
//! (unknown routes are refused), its credentials are checked (bearer token, or session
//! cookie plus the CSRF token for changes: the `X-CSRF-Token` header for the API, the
//! form's `csrf` field for pages, checked before the handler runs), and the role matrix
//! decides. Refusals are audited. A signed-out browser asking for a page is sent to
//! `/login?next=<the page>`.

use std::future::{ready, Ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::AppState;
use crate::access::{self, Action, Role};
use crate::audit::{Actor, AuditEvent};
use crate::auth::{self, Principal};
use crate::db::models::now_utc;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::settings::AuthSettings;

pub const SESSION_COOKIE: &str = "cla_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a request presented.
#[derive(Debug, Clone)]
pub enum Credentials {
    Bearer(String),
    Session(String),
    None,
}

pub fn credentials(req: &HttpRequest) -> Credentials {
    if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("");
        // The scheme name is case-insensitive (RFC 9110).
        return match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Credentials::Bearer(token.trim().to_string())
            }
            _ => Credentials::Bearer(String::new()),
        };
    }
    match req.cookie(SESSION_COOKIE) {
        Some(c) => Credentials::Session(c.value().to_string()),
        None => Credentials::None,
    }
}

/// The peer's address. Forwarded headers are not trusted: they are the client's to forge.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A request that passed: who, in which role, doing what. Handlers take it as an argument.
#[derive(Debug, Clone)]
pub struct Access {
    pub principal: Principal,
    pub action: Action,
    pub role: Role,
    pub client_address: String,
}

impl Access {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.principal.user_id.clone()),
            email: Some(self.principal.email.clone()),
            role: Some(self.role.as_str().to_string()),
            client_address: Some(self.client_address.clone()),
        }
    }
}

impl FromRequest for Access {
    type Error = AppError;
    type Future = Ready<Result<Access, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Access>()
                .cloned()
                .ok_or(AppError::Unauthenticated),
        )
    }
}

/// Where a request is going, which decides how it is checked and how refusals look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// `/api/v1`: bearer token or session (plus the CSRF header for changes); problem+json.
    Api,
    /// The browser service's pages: session, CSRF form field on posts, HTML refusals.
    Page,
    /// Health, readiness, the OpenAPI document, the sign-in form and the static assets.
    Public,
}

impl Zone {
    pub fn of(path: &str) -> Zone {
        if path.starts_with("/api/v1/") || path == "/api/v1" || path == "/metrics" {
            Zone::Api
        } else if path.starts_with("/api/")
            || path.starts_with("/assets/")
            || matches!(path, "/api" | "/health" | "/ready" | "/login" | "/favicon.ico")
        {
            Zone::Public
        } else {
            Zone::Page
        }
    }

    fn audit_entity(self) -> &'static str {
        match self {
            Zone::Page => "page",
            _ => "api",
        }
    }
}

/// The middleware. Every request to `/api/v1` and to a page is mapped to an action through
/// `access` (unknown routes are refused), its credentials are checked and the role matrix
/// decides. Public routes pass untouched.
pub async fn authorize(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let zone = Zone::of(req.path());
    if zone == Zone::Public {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(AppError::Internal("no application state".into())));
    };
    if zone == Zone::Api && req.path() == "/metrics" && is_scraper(req.request(), &state.settings.metrics_token) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let limit = body_limit(req.path(), state.settings.max_body_bytes);
    if zone == Zone::Page && req.method() == actix_web::http::Method::POST && limit > state.settings.max_body_bytes {
        // A large body is buffered only for a signed-in user: the session is checked before
        // the upload is read (and again, with the CSRF token, below).
        let request = Request {
            zone,
            method: req.method().as_str().to_string(),
            path: req.path().to_string(),
            credentials: credentials(req.request()),
            csrf: None,
            client_address: client_address(req.request()),
        };
        let (settings, pool, metrics) = (state.settings.auth.clone(), state.pool.clone(), state.metrics.clone());
        let known = web::block(move || {
            let mut conn = super::pooled(&pool, &metrics)?;
            identify(&mut conn, &request, &settings).map(|p| p.is_some())
        })
        .await
        .map_err(AppError::from)
        .and_then(|r| r);
        match known {
            Ok(true) => {}
            Ok(false) => {
                let redirect = sign_in_first(req.request());
                return Ok(req.into_response(redirect));
            }
            Err(e) => return Ok(req.error_response(e)),
        }
    }
    let csrf = match zone {
        Zone::Page if req.method() == actix_web::http::Method::POST => {
            match form_csrf(&mut req, (limit > state.settings.max_body_bytes).then_some(limit)).await {
                Ok(token) => token,
                Err(e) => return Ok(req.error_response(e)),
            }
        }
        _ => req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let request = Request {
        zone,
        method: req.method().as_str().to_string(),
        path: req.path().to_string(),
        credentials: credentials(req.request()),
        csrf,
        client_address: client_address(req.request()),
    };
    let settings = state.settings.auth.clone();
    let pool = state.pool.clone();
    let metrics = state.metrics.clone();
    let decision = web::block(move || {
        let mut conn = super::pooled(&pool, &metrics)?;
        let principal = identify(&mut conn, &request, &settings)?;
        let access = principal.clone().map(|p| authorise(&mut conn, &request, p));
        Ok::<_, AppError>((principal, access))
    })
    .await
    .map_err(AppError::from)
    .and_then(|r| r);
    match decision {
        Ok((_, Some(Ok(access)))) => {
            req.extensions_mut().insert(access);
            next.call(req).await.map(ServiceResponse::map_into_boxed_body)
        }
        Ok((None, _)) if zone == Zone::Page => {
            let redirect = sign_in_first(req.request());
            Ok(req.into_response(redirect))
        }
        Ok((principal, refusal)) => {
            // Error pages still show who is signed in.
            if let Some(p) = principal {
                req.extensions_mut().insert(SignedIn(p));
            }
            let error = refusal.and_then(Result::err).unwrap_or(AppError::Unauthenticated);
            Ok(req.error_response(error))
        }
        Err(e) => Ok(req.error_response(e)),
    }
}

/// Whether the request bears the token configured for scraping `/metrics` (none when the
/// setting is empty).
fn is_scraper(req: &HttpRequest, metrics_token: &str) -> bool {
    match credentials(req) {
        Credentials::Bearer(token) => !metrics_token.is_empty() && auth::token::constant_time_eq(&token, metrics_token),
        _ => false,
    }
}

/// The signed-in user of a request that was refused (for the error page's header).
#[derive(Debug, Clone)]
pub struct SignedIn(pub Principal);

/// A signed-out browser goes to the sign-in form, which brings it back here afterwards
/// (pages read with GET only: a form posted while signed out is not replayed).
fn sign_in_first(req: &HttpRequest) -> actix_web::HttpResponse {
    let wanted = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let location = match req.method().as_str() {
        "GET" | "HEAD" if wanted != "/" => format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(wanted.as_bytes()).collect::<String>()
        ),
        _ => "/login".to_string(),
    };
    actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// The most a page's body may hold: `max_body_bytes` (64 kB by default, sized for forms),
/// except the SSDA903 upload and its rejections download (`web::import_admin::PATHS`),
/// which take [`UPLOAD_MAX_BODY_BYTES`]: a local authority's year of header, episodes,
/// UASC and OC2 files is a few hundred kilobytes as CSV and several times that as XML, and
/// its rejected rows come back as CSV in a form field. Such a body is read only once the
/// session is known (`authorize`).
pub fn body_limit(path: &str, configured: usize) -> usize {
    if crate::web::import_admin::PATHS.contains(&path) {
        configured.max(UPLOAD_MAX_BODY_BYTES)
    } else {
        configured
    }
}

/// 16 MiB: the most `max_body_bytes` may be set to.
pub const UPLOAD_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A page form's `csrf` field: from an url-encoded body, or the `csrf` part of a
/// `multipart/form-data` one (`http::multipart`). The body is read here whole (within the
/// configured size, or `upload_limit` on an upload path) and put back for the handler.
async fn form_csrf(req: &mut ServiceRequest, upload_limit: Option<usize>) -> AppResult<Option<String>> {
    let body = match upload_limit {
        Some(limit) => read_body(req, limit).await?,
        None => req
            .extract::<web::Bytes>()
            .await
            .map_err(|_| AppError::bad_request("body", "the form could not be read"))?,
    };
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = match super::multipart::boundary(content_type) {
        // A malformed multipart body carries no token: the request is refused as such.
        Some(boundary) => super::multipart::parse(&body, &boundary)
            .ok()
            .and_then(|form| form.text("csrf").map(str::to_string)),
        None => form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned()),
    };
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    req.set_payload(payload.into());
    Ok(token)
}

/// The whole body of an upload, at most `limit` bytes.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> AppResult<web::Bytes> {
    use futures_util::StreamExt;
    let unreadable = || AppError::bad_request("body", "the form could not be read");
    let too_large = || {
        AppError::bad_request(
            "body",
            format!(
                "the upload is larger than the {} MB a page accepts",
                limit / (1024 * 1024)
            ),
        )
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

struct Request {
    zone: Zone,
    method: String,
    path: String,
    credentials: Credentials,
    /// The CSRF token sent: the header for the API, the form field for pages.
    csrf: Option<String>,
    client_address: String,
}

/// Who is asking, if anyone; a request without valid credentials is recorded.
fn identify(conn: &mut DbConn, r: &Request, settings: &AuthSettings) -> AppResult<Option<Principal>> {
    let now = now_utc();
    let principal = match &r.credentials {
        Credentials::Bearer(token) => auth::by_token(conn, token, now)?,
        Credentials::Session(cookie) => auth::by_session(conn, cookie, now, settings)?,
        Credentials::None => None,
    };
    if principal.is_none() {
        let reason = match r.credentials {
            Credentials::None => "no credentials",
            _ => "invalid, expired or revoked credentials",
        };
        refuse(conn, None, r, reason)?;
    }
    Ok(principal)
}

/// Whether the signed-in user may make this request: known route, CSRF token for changes
/// made with a session, and a role that grants the action.
fn authorise(conn: &mut DbConn, r: &Request, principal: Principal) -> AppResult<Access> {
    let (action, allowed) = match r.zone {
        Zone::Page => (
            access::page_action(&r.method, &r.path),
            access::page_allowed_methods(&r.path),
        ),
        _ => (
            access::route_action(&r.method, &r.path),
            access::allowed_methods(&r.path),
        ),
    };
    let Some(action) = action else {
        refuse(conn, Some(&principal), r, "no such route")?;
        return Err(if allowed.is_empty() {
            AppError::NotFound("resource")
        } else {
            AppError::MethodNotAllowed(allowed.join(", "))
        });
    };
    if let (Credentials::Session(_), Some(session)) = (&r.credentials, &principal.session) {
        let safe = matches!(r.method.as_str(), "GET" | "HEAD");
        let token_ok = r
            .csrf
            .as_deref()
            .is_some_and(|h| auth::token::constant_time_eq(h, &session.csrf_token));
        if !safe && !token_ok {
            refuse(conn, Some(&principal), r, "missing or wrong CSRF token")?;
            return Err(AppError::Forbidden(
                "the request's CSRF token is missing or wrong".into(),
            ));
        }
    }
    let Some(role) = access::granting_role(&principal.roles, action) else {
        refuse(conn, Some(&principal), r, "role not permitted")?;
        return Err(AppError::Forbidden(format!(
            "your roles do not permit {}",
            action.name()
        )));
    };
    Ok(Access {
        principal,
        action,
        role,
        client_address: r.client_address.clone(),
    })
}

/// Records a refused request (no credentials, bad credentials, wrong role, bad CSRF).
fn refuse(conn: &mut DbConn, who: Option<&Principal>, r: &Request, reason: &str) -> AppResult<()> {
    let actor = Actor {
        user_id: who.map(|p| p.user_id.clone()),
        email: who.map(|p| p.email.clone()),
        role: None,
        client_address: Some(r.client_address.clone()),
    };
    let changes = serde_json::json!({ "method": [null, r.method], "path": [null, r.path], "reason": [null, reason] });
    write_transaction(conn, |conn| {
        crate::audit::record(
            conn,
            &actor,
            AuditEvent {
                action: "request",
                entity: r.zone.audit_entity(),
                entity_id: None,
                child_id: None,
                outcome: "denied",
                changes: Some(changes.to_string()),
            },
        )
    })?;
    Ok(())
}

/// Records a request that was authorised but failed in the service (for example a child
/// outside the caller's scope, answered 404): the attempt itself is on record.
pub fn audit_failure(conn: &mut DbConn, access: &Access, error: &AppError) {
    let status = actix_web::ResponseError::status_code(error).as_u16();
    let changes = serde_json::json!({ "action": [null, access.action.name()], "status": [null, status] });
    let result = write_transaction(conn, |conn| {
        crate::audit::record(
            conn,
            &access.actor(),
            AuditEvent {
                action: "request",
                entity: "api",
                entity_id: None,
                child_id: None,
                outcome: "failed",
                changes: Some(changes.to_string()),
            },
        )
    });
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not audit a failed request");
    }
}
