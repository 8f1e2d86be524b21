//! Authentication and authorisation for `/api/v1`, in one place: every request is mapped
//! to an action through `access::ROUTES` (unknown routes are refused), its credentials are
//! checked (bearer token, or session cookie plus CSRF header for changes), and the role
//! matrix decides. Refusals are audited.

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

/// The middleware. Public routes (health, readiness, the OpenAPI document, sign-in pages)
/// live outside `/api/v1` and pass untouched.
pub async fn authorize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.path().starts_with("/api/v1") {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(AppError::Internal("no application state".into())));
    };
    let request = Request {
        method: req.method().as_str().to_string(),
        path: req.path().to_string(),
        credentials: credentials(req.request()),
        csrf_header: req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        client_address: client_address(req.request()),
    };
    let settings = state.settings.auth.clone();
    let pool = state.pool.clone();
    let decision = web::block(move || {
        let mut conn = pool.get()?;
        decide(&mut conn, &request, &settings)
    })
    .await
    .map_err(AppError::from)
    .and_then(|r| r);
    match decision {
        Ok(access) => {
            req.extensions_mut().insert(access);
            next.call(req).await.map(ServiceResponse::map_into_boxed_body)
        }
        Err(e) => Ok(req.error_response(e)),
    }
}

struct Request {
    method: String,
    path: String,
    credentials: Credentials,
    csrf_header: Option<String>,
    client_address: String,
}

fn decide(conn: &mut DbConn, r: &Request, settings: &AuthSettings) -> AppResult<Access> {
    let now = now_utc();
    let principal = match &r.credentials {
        Credentials::Bearer(token) => auth::by_token(conn, token, now)?,
        Credentials::Session(cookie) => auth::by_session(conn, cookie, now, settings)?,
        Credentials::None => None,
    };
    let Some(principal) = principal else {
        let reason = match r.credentials {
            Credentials::None => "no credentials",
            _ => "invalid, expired or revoked credentials",
        };
        refuse(conn, None, r, reason)?;
        return Err(AppError::Unauthenticated);
    };
    let Some(action) = access::route_action(&r.method, &r.path) else {
        refuse(conn, Some(&principal), r, "no such route")?;
        let allowed = access::allowed_methods(&r.path);
        return Err(if allowed.is_empty() {
            AppError::NotFound("resource")
        } else {
            AppError::MethodNotAllowed(allowed.join(", "))
        });
    };
    if let (Credentials::Session(_), Some(session)) = (&r.credentials, &principal.session) {
        let safe = matches!(r.method.as_str(), "GET" | "HEAD");
        let token_ok = r
            .csrf_header
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
                entity: "api",
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
