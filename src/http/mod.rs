//! The HTTP shell: state, the app factory, and the server. Handlers parse, call one service
//! function in `web::block` (diesel is synchronous) and serialise the answer.

mod accounts;
mod admin;
mod assessments;
mod assurance;
pub mod auth;
mod calendar;
mod care;
mod children;
mod delays;
pub mod escalations;
pub mod extract;
pub mod meetings;
pub mod multipart;
pub mod openapi;
mod ops;
mod pages;
mod periods;
pub mod reports;

use std::net::TcpListener;
use std::sync::{Arc, RwLock};

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::NaiveDate;

use crate::calendar::Calendar;
use crate::db::{DbConn, Pool};
use crate::error::{AppError, AppResult, Problem};
use crate::service::reach::Reach;
use crate::service::{DomainCtx, Scope};
use crate::settings::Settings;

/// Shared by every worker. The calendar sits behind a lock because an import by another
/// instance (or the CLI) is picked up while running.
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub calendar: Arc<RwLock<Arc<Calendar>>>,
    /// A hash of nothing anyone knows: sign-ins for unknown accounts verify against it so
    /// they take as long as real ones.
    pub dummy_hash: Arc<String>,
    /// The escalation ladder read at start-up.
    pub ladder: Arc<crate::escalation::Ladder>,
    /// Appends the audit entries of reads in group commits (`audit::group`).
    pub audit: Arc<crate::audit::group::Appender>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    pub fn today(&self) -> NaiveDate {
        crate::today(&self.settings)
    }

    /// Puts the calendar as stored in force at once (after an import here; other instances
    /// notice the import by its fingerprint, `cli::spawn_housekeeping`).
    pub async fn reload_calendar(&self) -> AppResult<()> {
        let calendar = self.run(|conn, _| crate::service::calendar_store::load(conn)).await?;
        match self.calendar.write() {
            Ok(mut slot) => *slot = Arc::new(calendar),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(calendar),
        }
        Ok(())
    }

    /// The hashing cost of a password the console generates: that of the command line's
    /// `user add` (`[auth]` settings).
    pub fn password_params(&self) -> crate::auth::password::PasswordParams {
        crate::auth::password::PasswordParams {
            memory_kib: self.settings.auth.argon2_memory_kib,
            iterations: self.settings.auth.argon2_iterations,
            parallelism: 1,
        }
    }

    pub fn calendar(&self) -> Arc<Calendar> {
        match self.calendar.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn ctx(&self) -> DomainCtx {
        DomainCtx::new(self.calendar(), &self.settings, self.today())
    }

    /// Runs `f` for a signed-in user: their scope limits which children it sees, the audit
    /// trail names them, and a failure is itself put on record.
    pub async fn run_as<T, F>(&self, access: &auth::Access, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &DomainCtx) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let mut ctx = self.ctx();
        ctx.actor = access.actor();
        ctx.scope = Scope::LocalAuthorities(Arc::new(access.principal.scope.clone()));
        let access = access.clone();
        let appender = self.audit.clone();
        let metrics = self.metrics.clone();
        web::block(move || {
            let mut conn = pooled(&pool, &metrics)?;
            let (result, receipts) = crate::audit::group::deferring(&appender, || f(&mut conn, &ctx));
            if let Err(e) = &result {
                if !matches!(e, AppError::Unavailable | AppError::Internal(_)) {
                    auth::audit_failure(&mut conn, &access, e);
                }
            }
            // The connection goes back before waiting for the reads' audit entries, and
            // the answer is given only once they have committed (`audit::group`).
            drop(conn);
            let written = crate::audit::group::wait_all(receipts);
            result.and_then(|answer| written.map(|()| answer))
        })
        .await?
    }

    /// [`AppState::run_as`] for the routes about accounts, the outbox and the audit trail:
    /// `f` also gets what the user reaches there (`service::reach`).
    pub async fn run_reaching<T, F>(&self, access: &auth::Access, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &DomainCtx, &Reach) -> AppResult<T> + Send + 'static,
    {
        let principal = access.principal.clone();
        self.run_as(access, move |conn, ctx| {
            let reach = Reach::of(conn, &principal)?;
            f(conn, ctx, &reach)
        })
        .await
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, as the system.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &DomainCtx) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let ctx = self.ctx();
        let metrics = self.metrics.clone();
        web::block(move || {
            let mut conn = pooled(&pool, &metrics)?;
            f(&mut conn, &ctx)
        })
        .await?
    }
}

/// A pooled connection, counted as waiting (`/metrics`) until the pool hands it over.
pub fn pooled(pool: &Pool, metrics: &crate::metrics::Metrics) -> Result<crate::db::PooledConn, r2d2::Error> {
    use std::sync::atomic::Ordering::Relaxed;
    metrics.pool_waiting.fetch_add(1, Relaxed);
    let conn = pool.get();
    metrics.pool_waiting.fetch_sub(1, Relaxed);
    conn
}

/// Counts every answer by route pattern, method and status, and times it (`/metrics`).
async fn observe(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if let Some(state) = state {
        // The pattern, never the path: ids stay out of the labels.
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        state
            .metrics
            .observe_request(&route, method.as_str(), res.status().as_u16(), started.elapsed());
    }
    Ok(res)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(ops::routes)
        .configure(pages::routes)
        .configure(crate::web::routes)
        .service(
            web::scope("/api/v1")
                .configure(children::routes)
                .configure(periods::routes)
                .configure(care::routes)
                .configure(assessments::routes)
                .configure(assurance::routes)
                .configure(reports::routes)
                .configure(delays::routes)
                .configure(calendar::routes)
                .configure(admin::routes)
                .configure(accounts::routes)
                .configure(escalations::routes)
                .configure(meetings::routes),
        );
}

/// A bound, not yet running server; `port()` tells which port the OS chose for port 0.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(state: AppState, listener: TcpListener, workers: Option<usize>) -> std::io::Result<Application> {
        let port = listener.local_addr()?.port();
        let state = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(state.settings.max_body_bytes))
                .wrap(actix_web::middleware::from_fn(auth::authorize))
                .wrap(ErrorHandlers::new().default_handler(as_problem))
                .wrap(actix_web::middleware::from_fn(crate::web::page_policy))
                .wrap(security_headers(&state.settings.public_url))
                .wrap(actix_web::middleware::Compress::default())
                .wrap(actix_web::middleware::from_fn(observe))
                .configure(configure)
                .default_service(web::to(not_found))
        })
        .listen(listener)?;
        if let Some(n) = workers {
            server = server.workers(n);
        }
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn server(self) -> Server {
        self.server
    }
}

fn security_headers(public_url: &str) -> DefaultHeaders {
    let headers = DefaultHeaders::new();
    // Browsers honour HSTS only over TLS; the public URL says whether users reach us so.
    let headers = if public_url.starts_with("https://") {
        headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
    } else {
        headers
    };
    headers
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        // Answers hold children's data: never cache them anywhere.
        .add((header::CACHE_CONTROL, "no-store"))
}

async fn not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound("resource"))
}

/// Framework errors (payload too large, wrong method, unsupported media) come out as
/// plain text; this turns every error response that is not yet problem+json into one, or,
/// for a page, into an HTML error page.
fn as_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Pages rendered on purpose (a form shown again with its errors) pass untouched.
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if html {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    if crate::web::errors::is_page(res.request().path()) {
        return Ok(crate::web::errors::as_page(res));
    }
    let ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, _) = res.into_parts();
    let detail = match status.as_u16() {
        413 => "the request body is too large".to_string(),
        405 => "this method is not allowed on this path".to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let problem = Problem {
        type_uri: format!("/problems/http-{}", status.as_u16()),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
    };
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let response = HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(BoxBody::new(body));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_body(|_, b| EitherBody::right(b)),
    ))
}
