//! The browser service: server-rendered pages in the NHS.UK design system over the same
//! service layer as the API, working without JavaScript. One file per journey:
//!
//! - `home`: the signed-in user's work, by role (`/`);
//! - `children`: finding a child (`/children?q=`);
//! - `child`: a child's whole record (`/children/{id}?as_of=`);
//! - `register`: registering a child and starting a period of care (`/children/new`,
//!   `/children/{id}/periods/new`);
//! - `assessment`: one assessment and the forms for its next steps (`/assessments/{id}`,
//!   posting to the API's step paths without `/api/v1`);
//! - `assurance`: the weekly IHA assurance meeting's list, CSV, print view and changes
//!   (`/assurance`, `/assurance.csv`, `/assurance/print`, `/assurance/changes`);
//! - `reports`, `charts`, `delays`: the board's monthly figures with a trend chart per
//!   measure (`/reports`), each figure's children (`/reports/{measure}/{month}`) and the
//!   delay analysis of late IHAs (`/reports/delays`);
//! - `meetings`: the meeting's record: opening it, its minutes, actions, decisions, notes;
//! - `escalations`: the open escalations in scope and the outbox's dead letters
//!   (`/escalations`, `/outbox`);
//! - `admin`: the admin console (`/admin`: users, organisations, tokens, audit);
//! - `calendar_admin`, `import_admin`: the console's imports, GOV.UK's bank holidays
//!   (`/admin/calendar`) and a local authority's SSDA903 files (`/admin/import`);
//! - `signin`: the sign-in page (handled in `http::pages`);
//! - shared: `layout` (header, navigation, footer), `forms` (design-system form pieces),
//!   `format` (dates, NHS numbers, RAG tags), `errors` (error pages), `assets` (embedded CSS,
//!   JavaScript and icons).
//!
//! Rules:
//! - Every page goes through the same middleware as the API (`http::auth`): it is in
//!   `access::PAGES` mapped to its API twin's action, or it is refused; a signed-out browser
//!   is sent to `/login?next=<page>`; a form post must carry the session's CSRF token.
//! - Handlers parse, call one service function through `AppState::run_as` (scope and audit
//!   as for the API) and render a template; no business rule lives here or in a template.
//! - Templates are askama: compiled with the crate and escaped by default. No HTML is built
//!   with `format!`.
//! - Pages answer under a strict CSP: everything from this origin, no inline script or
//!   style (`PAGE_CSP`); `/api` keeps its stricter policy.

pub mod admin;
pub mod assessment;
pub mod assets;
pub mod assurance;
pub mod calendar_admin;
pub mod charts;
pub mod child;
pub mod children;
pub mod delays;
pub mod errors;
pub mod escalations;
pub mod format;
pub mod forms;
pub mod home;
pub mod import_admin;
pub mod layout;
pub mod meetings;
pub mod publications;
pub mod record;
pub mod register;
pub mod reports;
pub mod signin;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, Responder};

use crate::http::auth::Zone;

pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(assets::routes)
        .service(
            web::resource("/")
                .route(web::get().to(home::page))
                .route(web::head().to(home::page)),
        )
        .service(
            web::resource("/children")
                .route(web::get().to(children::search))
                .route(web::head().to(children::search)),
        )
        .service(
            web::resource("/children/new")
                .route(web::get().to(register::new_child))
                .route(web::head().to(register::new_child))
                .route(web::post().to(register::create_child)),
        )
        .service(
            web::resource("/children/{id}")
                .route(web::get().to(child::record))
                .route(web::head().to(child::record)),
        )
        .service(
            web::resource("/children/{id}/periods/new")
                .route(web::get().to(register::new_period))
                .route(web::head().to(register::new_period))
                .route(web::post().to(register::start_period)),
        )
        .service(
            web::resource("/assessments/{id}")
                .route(web::get().to(assessment::page))
                .route(web::head().to(assessment::page)),
        )
        .service(web::resource("/assessments/{id}/notification").route(web::post().to(assessment::notification)))
        .service(web::resource("/assessments/{id}/consent").route(web::post().to(assessment::consent)))
        .service(web::resource("/assessments/{id}/appointments").route(web::post().to(assessment::book)))
        .service(web::resource("/assessments/{id}/completion").route(web::post().to(assessment::completion)))
        .service(web::resource("/assessments/{id}/reoffer").route(web::post().to(assessment::reoffer)))
        .service(web::resource("/assessments/{id}/not-required").route(web::post().to(assessment::not_required)))
        .service(web::resource("/assessments/{id}/close").route(web::post().to(assessment::close)))
        .service(web::resource("/appointments/{id}/outcome").route(web::post().to(assessment::outcome)))
        .service(web::resource("/out-of-area-requests/{id}").route(web::post().to(assessment::request)))
        .service(web::resource("/periods/{id}/placements").route(web::post().to(record::placement)))
        .service(web::resource("/periods/{id}/end").route(web::post().to(record::end)))
        .service(web::resource("/children/{id}/health-checks").route(web::post().to(record::health_check)))
        .service(web::resource("/obligations/{id}/completion").route(web::post().to(record::obligation)))
        .service(web::resource("/children/{id}/notes").route(web::post().to(record::note)))
        .service(web::resource("/consents/{id}/withdrawal").route(web::post().to(record::withdrawal)))
        .service(web::resource("/assurance").route(web::get().to(assurance::page)))
        .service(web::resource("/assurance.csv").route(web::get().to(assurance::csv)))
        .service(web::resource("/assurance/print").route(web::get().to(assurance::print)))
        .service(web::resource("/assurance/changes").route(web::get().to(assurance::changes)))
        .service(web::resource("/assurance/meetings").route(web::post().to(meetings::open)))
        .service(web::resource("/assurance/meetings/actions/{id}/close").route(web::post().to(meetings::close)))
        .service(web::resource("/assurance/meetings/{id}").route(web::get().to(meetings::minutes_page)))
        .service(web::resource("/assurance/meetings/{id}/actions").route(web::post().to(meetings::add_action)))
        .service(web::resource("/assurance/meetings/{id}/notes").route(web::post().to(meetings::add_note)))
        .service(web::resource("/reports").route(web::get().to(reports::page)))
        .service(web::resource("/reports/delays").route(web::get().to(delays::page)))
        .service(web::resource("/reports/{measure}/{month}").route(web::get().to(reports::children)))
        .service(web::resource("/reports/publications").route(web::post().to(publications::publish)))
        .service(
            web::resource("/reports/{measure}/{month}/restatement").route(web::get().to(publications::restatement)),
        )
        .configure(console_routes);
}

/// The escalations overview, the outbox's dead letters and the admin console.
fn console_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/escalations").route(web::get().to(escalations::page)))
        .service(web::resource("/outbox").route(web::get().to(escalations::page)))
        .service(web::resource("/outbox/{id}/requeue").route(web::post().to(escalations::requeue)))
        .service(web::resource("/admin").route(web::get().to(admin::home)))
        .service(
            web::resource("/admin/users")
                .route(web::get().to(admin::users))
                .route(web::post().to(admin::add_user)),
        )
        .service(web::resource("/admin/users/{id}/disable").route(web::post().to(admin::disable_user)))
        .service(web::resource("/admin/users/{id}/unlock").route(web::post().to(admin::unlock_user)))
        .service(web::resource("/admin/users/{id}/password").route(web::post().to(admin::reset_password)))
        .service(
            web::resource("/admin/organisations")
                .route(web::get().to(admin::organisations))
                .route(web::post().to(admin::add_organisation)),
        )
        .service(web::resource("/admin/organisations/{id}/team-manager").route(web::post().to(admin::team_manager)))
        .service(web::resource("/admin/organisations/{id}/host-icb-nurse").route(web::post().to(admin::host_icb_nurse)))
        .service(
            web::resource("/admin/tokens")
                .route(web::get().to(admin::tokens))
                .route(web::post().to(admin::issue_token)),
        )
        .service(web::resource("/admin/tokens/{id}/revoke").route(web::post().to(admin::revoke_token)))
        .service(web::resource("/admin/audit").route(web::get().to(admin::audit)))
        .service(
            web::resource("/admin/calendar")
                .route(web::get().to(calendar_admin::page))
                .route(web::post().to(calendar_admin::import)),
        )
        .service(web::resource("/admin/calendar/preview").route(web::post().to(calendar_admin::preview)))
        .service(
            web::resource("/admin/import")
                // The handler reads the upload whole, as the middleware did (`body_limit`).
                .app_data(web::PayloadConfig::new(crate::http::auth::UPLOAD_MAX_BODY_BYTES))
                .route(web::get().to(import_admin::page))
                .route(web::post().to(import_admin::import)),
        )
        .service(
            web::resource("/admin/import/rejections")
                .app_data(web::PayloadConfig::new(crate::http::auth::UPLOAD_MAX_BODY_BYTES))
                .route(web::post().to(import_admin::rejections)),
        );
}

/// Whether a user with these roles may open this page (the route table and role matrix).
pub fn may(roles: &[crate::access::Role], method: &str, path: &str) -> bool {
    crate::access::page_action(method, path).is_some_and(|action| crate::access::granting_role(roles, action).is_some())
}

/// Sets the pages' content security policy (the API's default stays on everything else).
pub async fn page_policy(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let page = errors::is_page(req.path()) || Zone::of(req.path()) == Zone::Page;
    let mut res = next.call(req).await?;
    if page {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    }
    Ok(res)
}

/// Where to go after signing in: a path on this site, or the home page. Anything that could
/// leave the site (`//host`, `/\host`, a scheme) or loop back to sign-in is refused.
pub fn safe_next(raw: Option<&str>) -> String {
    let Some(path) = raw.filter(|p| !p.is_empty() && p.len() <= 2000) else {
        return "/".into();
    };
    let same_origin = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace());
    let loops = ["/login", "/logout"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}?")) || path.starts_with(&format!("{p}/")));
    if same_origin && !loops {
        path.to_string()
    } else {
        "/".into()
    }
}

/// A rendered page with a status (askama_web's responder, customised).
pub fn respond(req: &HttpRequest, status: actix_web::http::StatusCode, page: impl Responder) -> HttpResponse {
    page.customize()
        .with_status(status)
        .respond_to(req)
        .map_into_boxed_body()
}

/// A query string's value for `name` ("" when absent).
pub fn query_value(req: &HttpRequest, name: &str) -> String {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_path_on_this_site_or_home() {
        assert_eq!(
            safe_next(Some("/children/abc?as_of=2026-01-05")),
            "/children/abc?as_of=2026-01-05"
        );
        assert_eq!(safe_next(None), "/");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "/login",
            "/login?next=/x",
            "/logout",
            "/a\nb",
            "/a b",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }
}
