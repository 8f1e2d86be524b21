use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Access;
use super::children::AsOf;
use super::extract::{self, JsonInput};
use super::AppState;
use crate::db::DbConn;
use crate::error::{AppResult, Problem};
use crate::service::assessment_list::{AssessmentFilter, AssessmentPage};
use crate::service::assessments::*;
use crate::service::views::{AppointmentView, AssessmentView, Booked, ConsentView, OutOfAreaRequestView};
use crate::service::DomainCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/assessments").route(web::get().to(list)))
        .service(web::resource("/assessments/{id}").route(web::get().to(get)))
        .service(web::resource("/assessments/{id}/notification").route(web::post().to(notification)))
        .service(web::resource("/assessments/{id}/consent").route(web::post().to(consent)))
        .service(web::resource("/assessments/{id}/appointments").route(web::post().to(appointment)))
        .service(web::resource("/assessments/{id}/completion").route(web::post().to(completion)))
        .service(web::resource("/assessments/{id}/reoffer").route(web::post().to(reoffer_step)))
        .service(web::resource("/assessments/{id}/not-required").route(web::post().to(not_required)))
        .service(web::resource("/assessments/{id}/close").route(web::post().to(close_step)))
        .service(web::resource("/appointments/{id}").route(web::get().to(get_appointment)))
        .service(web::resource("/appointments/{id}/outcome").route(web::post().to(outcome)))
        .service(web::resource("/out-of-area-requests/{id}").route(web::post().to(out_of_area)))
        .service(web::resource("/consents/{id}/withdrawal").route(web::post().to(withdrawal)));
}

impl JsonInput for NotificationInput {}
impl JsonInput for ConsentInput {
    const MULTILINE: &'static [&'static str] = &["reoffer_plan"];
}
impl JsonInput for AppointmentInput {}
impl JsonInput for OutcomeInput {}
impl JsonInput for CompletionInput {}
impl JsonInput for ReofferInput {}
impl JsonInput for NotRequiredInput {}
impl JsonInput for CloseInput {
    const MULTILINE: &'static [&'static str] = &["reason"];
}
impl JsonInput for OutOfAreaUpdate {}
impl JsonInput for ConsentWithdrawal {}

/// Step inputs carry an optional `version`; `If-Match` sets it too.
trait Versioned {
    fn version_mut(&mut self) -> &mut Option<i32>;
}

macro_rules! versioned {
    ($($t:ty),*) => {
        $(impl Versioned for $t {
            fn version_mut(&mut self) -> &mut Option<i32> {
                &mut self.version
            }
        })*
    };
}
versioned!(
    NotificationInput,
    ConsentInput,
    AppointmentInput,
    OutcomeInput,
    CompletionInput,
    ReofferInput,
    NotRequiredInput,
    CloseInput
);

type StepFn<I, O> = fn(&mut DbConn, &DomainCtx, &str, I) -> AppResult<O>;

/// Reads a step's id, body and `If-Match`, and runs it as the caller.
async fn run_step<I, O>(
    state: &AppState,
    access: &Access,
    raw_id: &str,
    what: &'static str,
    req: &HttpRequest,
    body: &extract::Body,
    f: StepFn<I, O>,
) -> AppResult<O>
where
    I: JsonInput + Versioned + Send + 'static,
    O: Send + 'static,
{
    let id = extract::id(raw_id, what)?;
    let mut input: I = extract::json(body)?;
    if let Some(v) = extract::if_match(req)? {
        *input.version_mut() = Some(v);
    }
    state.run_as(access, move |conn, ctx| f(conn, ctx, &id, input)).await
}

/// A step answering the assessment after it.
async fn step<I>(
    state: &AppState,
    access: &Access,
    raw_id: &str,
    what: &'static str,
    req: &HttpRequest,
    body: &extract::Body,
    f: StepFn<I, AssessmentView>,
) -> AppResult<HttpResponse>
where
    I: JsonInput + Versioned + Send + 'static,
{
    let view = run_step(state, access, raw_id, what, req, body, f).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(get, path = "/api/v1/assessments", operation_id = "list_assessments", tag = "assessments", params(AssessmentFilter),
    responses((status = 200, body = AssessmentPage), (status = 404, body = Problem, description = "child_id names no child you can see"),
        (status = 422, body = Problem)))]
pub async fn list(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let filter: AssessmentFilter = extract::query(req.query_string())?;
    if let Some(child) = &filter.child_id {
        extract::id(child, "child")?;
    }
    let page = state
        .run_as(&access, move |conn, ctx| {
            crate::service::assessment_list::list(conn, ctx, filter)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}", operation_id = "get_assessment", tag = "assessments", params(("id" = String, Path, format = Uuid), AsOf),
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "assessment")?;
    let q: AsOf = extract::query(req.query_string())?;
    let view = state
        .run_as(&access, move |conn, ctx| {
            let as_of = crate::service::validate::as_of(q.as_of, ctx.today)?;
            crate::service::assessments::get(conn, ctx, &id, as_of)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/notification", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = NotificationInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn notification(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    step(&state, &access, &path, "assessment", &req, &body, notify).await
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/consent", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = ConsentInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn consent(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    step(
        &state,
        &access,
        &path,
        "assessment",
        &req,
        &body,
        crate::service::assessments::consent,
    )
    .await
}

/// Books (or rebooks): answers 201 with the assessment after the step and, in
/// `appointment`, the appointment made, which `Location` names.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/appointments", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = AppointmentInput,
    responses((status = 201, body = Booked, headers(("Location" = String, description = "/api/v1/appointments/{appointment id}"))),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn appointment(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let booked = run_step(&state, &access, &path, "assessment", &req, &body, book).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/appointments/{}", booked.appointment.id),
        ))
        .json(booked))
}

/// One appointment.
#[utoipa::path(get, path = "/api/v1/appointments/{id}", tag = "assessments", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = AppointmentView), (status = 404, body = Problem)))]
pub async fn get_appointment(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "appointment")?;
    let view = state
        .run_as(&access, move |conn, ctx| {
            crate::service::assessments::get_appointment(conn, ctx, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/appointments/{id}/outcome", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = OutcomeInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn outcome(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    step(&state, &access, &path, "appointment", &req, &body, record_outcome).await
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/completion", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = CompletionInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn completion(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    step(&state, &access, &path, "assessment", &req, &body, complete).await
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/reoffer", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = ReofferInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reoffer_step(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    step(&state, &access, &path, "assessment", &req, &body, reoffer).await
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/not-required", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = NotRequiredInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn not_required(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    step(&state, &access, &path, "assessment", &req, &body, mark_not_required).await
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/close", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = CloseInput,
    responses((status = 200, body = AssessmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close_step(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    step(&state, &access, &path, "assessment", &req, &body, close).await
}

#[utoipa::path(post, path = "/api/v1/out-of-area-requests/{id}", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = OutOfAreaUpdate,
    responses((status = 200, body = OutOfAreaRequestView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn out_of_area(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "out-of-area request")?;
    let mut input: OutOfAreaUpdate = extract::json(&body)?;
    if let Some(v) = extract::if_match(&req)? {
        input.version = v;
    }
    let view = state
        .run_as(&access, move |conn, ctx| update_out_of_area(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/consents/{id}/withdrawal", tag = "assessments", params(("id" = String, Path, format = Uuid)), request_body = ConsentWithdrawal,
    responses((status = 200, body = ConsentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn withdrawal(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "consent")?;
    let input: ConsentWithdrawal = extract::json(&body)?;
    let view = state
        .run_as(&access, move |conn, ctx| withdraw_consent(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
