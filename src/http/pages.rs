//! The browser's way in and out: the sign-in form (rendered by `web::signin`) and
//! sign-out. The sign-in form is public and carries its own double-submit CSRF token;
//! sign-out is a page behind the middleware like any other form.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::{client_address, Access, SESSION_COOKIE};
use super::AppState;
use crate::auth::{self, token, LoginAttempt, LoginOutcome};
use crate::error::{AppError, AppResult};
use crate::web::signin;

const LOGIN_CSRF_COOKIE: &str = "cla_login_csrf";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login_form))
            .route(web::head().to(login_form))
            .route(web::post().to(login)),
    )
    .service(web::resource("/logout").route(web::post().to(logout)));
}

fn secure(state: &AppState) -> bool {
    state.settings.public_url.starts_with("https://")
}

fn cookie<'a>(state: &AppState, name: &'a str, value: String) -> Cookie<'a> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    c.set_secure(secure(state));
    c
}

/// The form carries a fresh token that must come back both as a field and as a cookie
/// (double submit), so another site cannot sign a browser in to an account of its choosing.
pub async fn login_form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let csrf = token::new_csrf_token();
    let mut response = signin::form(&req, actix_web::http::StatusCode::OK, &csrf, "", None);
    let _ = response.add_cookie(&cookie(&state, LOGIN_CSRF_COOKIE, csrf));
    response
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> AppResult<HttpResponse> {
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return Err(AppError::bad_request(
            "body",
            "expected the sign-in form's fields: email, password, csrf",
        ));
    };
    let cookie_csrf = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if cookie_csrf.is_empty() || !token::constant_time_eq(&cookie_csrf, &form.csrf) {
        return Ok(signin::expired(&req));
    }
    let typed_email = form.email.clone();
    let previous = req.cookie(SESSION_COOKIE).map(|c| token::hash_token(c.value()));
    let address = client_address(&req);
    let settings = state.settings.auth.clone();
    let dummy = state.dummy_hash.clone();
    let outcome = state
        .run(move |conn, _| {
            let attempt = LoginAttempt {
                email: &form.email,
                password: &form.password,
                client_address: &address,
                previous_session: previous,
            };
            auth::login(conn, attempt, &settings, &dummy)
        })
        .await?;
    let fresh = token::new_csrf_token();
    Ok(match outcome {
        LoginOutcome::Success { cookie: value, .. } => {
            let next = crate::web::safe_next(signin::next_param(&req).as_deref());
            let mut r = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next))
                .finish();
            let _ = r.add_cookie(&cookie(&state, SESSION_COOKIE, value));
            let _ = r.add_removal_cookie(&cookie(&state, LOGIN_CSRF_COOKIE, String::new()));
            r
        }
        LoginOutcome::Refused => {
            // One message for unknown email, wrong password and locked account alike.
            let msg = "Email or password not recognised. After repeated failures an account is locked for a while.";
            let mut r = signin::form(
                &req,
                actix_web::http::StatusCode::UNAUTHORIZED,
                &fresh,
                &typed_email,
                Some(msg),
            );
            let _ = r.add_cookie(&cookie(&state, LOGIN_CSRF_COOKIE, fresh));
            r
        }
        LoginOutcome::Throttled => {
            let msg = "Too many failed sign-ins from this address. Wait a while and try again.";
            let mut r = signin::form(
                &req,
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                &fresh,
                &typed_email,
                Some(msg),
            );
            let _ = r.add_cookie(&cookie(&state, LOGIN_CSRF_COOKIE, fresh));
            r
        }
    })
}

/// Ends the session. The middleware has checked the form's CSRF token against the session
/// before this runs; a signed-out browser never gets here (it is sent to sign in).
pub async fn logout(state: web::Data<AppState>, req: HttpRequest, access: Access) -> AppResult<HttpResponse> {
    let address = client_address(&req);
    let p = access.principal;
    state.run(move |conn, _| auth::logout(conn, &p, &address)).await?;
    let mut r = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .finish();
    let _ = r.add_removal_cookie(&cookie(&state, SESSION_COOKIE, String::new()));
    Ok(r)
}
