//! The browser's way in: a sign-in form, a signed-in page with a sign-out form. Plain
//! server-rendered HTML, no script (the CSP forbids it), every value escaped, and a CSRF
//! token on every form.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::{client_address, SESSION_COOKIE};
use super::AppState;
use crate::auth::{self, token, LoginAttempt, LoginOutcome, Principal};
use crate::db::models::now_utc;
use crate::error::{AppError, AppResult};

const LOGIN_CSRF_COOKIE: &str = "cla_login_csrf";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(home)))
        .service(
            web::resource("/login")
                .route(web::get().to(login_form))
                .route(web::post().to(login)),
        )
        .service(web::resource("/logout").route(web::post().to(logout)));
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} - cla-tracker</title></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

fn html(status: actix_web::http::StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page(title, body))
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

fn login_page(csrf: &str, message: Option<&str>) -> String {
    let notice = message
        .map(|m| format!("<p role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    format!(
        "<h1>Sign in</h1>{notice}<form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <p><label for=\"email\">Email</label> <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required></p>\
         <p><label for=\"password\">Password</label> <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>\
         <p><button type=\"submit\">Sign in</button></p></form>",
        escape(csrf)
    )
}

/// The form carries a fresh token that must come back both as a field and as a cookie
/// (double submit), so another site cannot sign a browser in to an account of its choosing.
pub async fn login_form(state: web::Data<AppState>) -> HttpResponse {
    let csrf = token::new_csrf_token();
    let mut response = html(actix_web::http::StatusCode::OK, "Sign in", &login_page(&csrf, None));
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
        return Ok(html(
            actix_web::http::StatusCode::FORBIDDEN,
            "Sign in",
            "<h1>Sign in</h1><p>The form has expired. <a href=\"/login\">Try again</a>.</p>",
        ));
    }
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
            let mut r = HttpResponse::SeeOther().insert_header((header::LOCATION, "/")).finish();
            let _ = r.add_cookie(&cookie(&state, SESSION_COOKIE, value));
            let _ = r.add_removal_cookie(&cookie(&state, LOGIN_CSRF_COOKIE, String::new()));
            r
        }
        LoginOutcome::Refused => {
            // One message for unknown email, wrong password and locked account alike.
            let msg = "Email or password not recognised. After repeated failures an account is locked for a while.";
            let mut r = html(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "Sign in",
                &login_page(&fresh, Some(msg)),
            );
            let _ = r.add_cookie(&cookie(&state, LOGIN_CSRF_COOKIE, fresh));
            r
        }
        LoginOutcome::Throttled => {
            let msg = "Too many failed sign-ins from this address. Wait a while and try again.";
            let mut r = html(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                "Sign in",
                &login_page(&fresh, Some(msg)),
            );
            let _ = r.add_cookie(&cookie(&state, LOGIN_CSRF_COOKIE, fresh));
            r
        }
    })
}

async fn session_principal(state: &AppState, req: &HttpRequest) -> AppResult<Option<Principal>> {
    let Some(value) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let settings = state.settings.auth.clone();
    state
        .run(move |conn, _| Ok(auth::by_session(conn, &value, now_utc(), &settings)?))
        .await
}

pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let Some(p) = session_principal(&state, &req).await? else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login"))
            .finish());
    };
    let csrf = p.session.as_ref().map(|s| s.csrf_token.as_str()).unwrap_or("");
    let roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
    let body = format!(
        "<h1>cla-tracker</h1><p>Signed in as {} ({}) of {} with roles: {}.</p>\
         <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
        escape(&p.display_name),
        escape(&p.email),
        escape(&p.organisation_code),
        escape(&roles.join(", ")),
        escape(csrf)
    );
    Ok(html(actix_web::http::StatusCode::OK, "Home", &body))
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

pub async fn logout(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> AppResult<HttpResponse> {
    let form = serde_urlencoded::from_bytes::<LogoutForm>(&body).ok();
    let Some(p) = session_principal(&state, &req).await? else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/login"))
            .finish());
    };
    let expected = p.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default();
    if !form.is_some_and(|f| token::constant_time_eq(&f.csrf, &expected)) {
        return Ok(html(
            actix_web::http::StatusCode::FORBIDDEN,
            "Sign out",
            "<h1>Sign out</h1><p>The form has expired. <a href=\"/\">Go back</a>.</p>",
        ));
    }
    let address = client_address(&req);
    state.run(move |conn, _| auth::logout(conn, &p, &address)).await?;
    let mut r = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .finish();
    let _ = r.add_removal_cookie(&cookie(&state, SESSION_COOKIE, String::new()));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
