//! Registering a child and starting their period of care: `/children/new`, then
//! `/children/{id}/periods/new` (legal status, placement, out of area). Two pages, each one
//! transaction through the API's service functions (`children::register`,
//! `periods::start`), so a failed second step never leaves half a record behind.
//!
//! Rules:
//! - The local authority is chosen from those whose children the user works with.
//! - Legal status and placement type are offered as readable choices with their SSDA903
//!   codes; an out-of-area placement asks for the host authority and provider's email.
//! - Invalid input re-renders the form (422) with what was typed; success answers 303.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{self, ChoiceField, DateField, FormErrors, Posted, SelectField, TextField};
use super::layout::Layout;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::{extract, AppState};
use crate::service::children::{self, NewChild};
use crate::service::periods::{self, NewPeriod, NewPlacement};
use crate::service::views::ChildSummary;
use crate::ssda903;

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
pub struct RegisterPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub given_name: TextField,
    pub family_name: TextField,
    pub date_of_birth: DateField,
    pub sex: ChoiceField,
    pub local_id: TextField,
    /// Radios when the user works with several authorities; else the one, fixed.
    pub responsible_la: Option<ChoiceField>,
    pub fixed_la: Option<String>,
    pub nhs_number: TextField,
    pub uasc: ChoiceField,
    pub gp_practice: TextField,
    pub social_worker_email: TextField,
}

#[derive(Template, WebTemplate)]
#[template(path = "period.html")]
pub struct PeriodPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub child: ChildSummary,
    pub started_on: DateField,
    pub legal_status: SelectField,
    pub category_of_need: SelectField,
    pub placement_type: SelectField,
    pub out_of_area: ChoiceField,
    pub host_la: TextField,
    pub host_provider_email: TextField,
    pub prior_assessment_on: DateField,
}

/// Service field, form field, the id the error summary links to.
const CHILD_FIELDS: &[(&str, &str, &str)] = &[
    ("given_name", "given_name", "given_name"),
    ("family_name", "family_name", "family_name"),
    ("date_of_birth", "date_of_birth", "date_of_birth-day"),
    ("sex", "sex", "sex-1"),
    ("local_id", "local_id", "local_id"),
    ("responsible_la", "responsible_la", "responsible_la-1"),
    ("nhs_number", "nhs_number", "nhs_number"),
    ("gp_practice", "gp_practice", "gp_practice"),
    ("social_worker_email", "social_worker_email", "social_worker_email"),
];

const PERIOD_FIELDS: &[(&str, &str, &str)] = &[
    ("started_on", "started_on", "started_on-day"),
    ("legal_status", "legal_status", "legal_status"),
    ("category_of_need", "category_of_need", "category_of_need"),
    ("placement.placement_type", "placement_type", "placement_type"),
    ("placement.out_of_area", "out_of_area", "out_of_area-1"),
    ("placement.host_la", "host_la", "host_la"),
    (
        "placement.host_provider_email",
        "host_provider_email",
        "host_provider_email",
    ),
    ("placement.started_on", "started_on", "started_on-day"),
    ("prior_assessment_on", "prior_assessment_on", "prior_assessment_on-day"),
];

fn register_page(access: &Access, posted: &Posted, errors: FormErrors) -> RegisterPage {
    let e = &errors;
    let scope = &access.principal.scope;
    let las: Vec<(&str, &str, Option<&str>)> = scope.iter().map(|c| (c.as_str(), c.as_str(), None)).collect();
    let mut nhs_number = TextField::new("nhs_number", "NHS number (optional)", posted, e)
        .hint("10 digits. A child may arrive without one: it can be added later")
        .width("nhsuk-input--width-10");
    nhs_number.autocomplete = Some("off");
    RegisterPage {
        layout: Layout::signed_in(forms::title("Register a child", e), &access.principal, "/children/new"),
        given_name: TextField::new("given_name", "Given name", posted, e),
        family_name: TextField::new("family_name", "Family name", posted, e),
        date_of_birth: DateField::new("date_of_birth", "Date of birth", posted, e).hint("For example, 15 3 2014"),
        sex: ChoiceField::new(
            "sex",
            "Sex",
            &[("F", "Female", None), ("M", "Male", None), ("U", "Not known", None)],
            posted,
            e,
        ),
        local_id: TextField::new("local_id", "Local id", posted, e)
            .hint("The local authority's own id for the child (SSDA903 CHILD)")
            .width("nhsuk-input--width-20"),
        responsible_la: (scope.len() > 1)
            .then(|| ChoiceField::new("responsible_la", "Responsible local authority", &las, posted, e)),
        fixed_la: (scope.len() == 1).then(|| scope[0].clone()),
        nhs_number,
        uasc: ChoiceField::new(
            "uasc",
            "Unaccompanied asylum-seeking child",
            &[("yes", "Yes, this child is an unaccompanied asylum-seeking child", None)],
            posted,
            e,
        ),
        gp_practice: TextField::new("gp_practice", "GP practice (optional)", posted, e),
        social_worker_email: TextField::new("social_worker_email", "Social worker's email (optional)", posted, e)
            .kind("email"),
        errors,
    }
}

pub async fn new_child(access: Access, req: HttpRequest) -> HttpResponse {
    super::respond(
        &req,
        StatusCode::OK,
        register_page(&access, &Posted::default(), FormErrors::new()),
    )
}

pub async fn create_child(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let mut errors = FormErrors::new();
    for (name, message) in [
        ("given_name", "Enter the child's given name"),
        ("family_name", "Enter the child's family name"),
    ] {
        if posted.get(name).is_empty() {
            errors.add(name, name, message);
        }
    }
    let date_of_birth = forms::read_date(&posted, "date_of_birth", "Date of birth", &mut errors);
    if posted.get("sex").is_empty() {
        errors.add("sex", "sex-1", "Select the child's sex");
    }
    let responsible_la = match access.principal.scope.as_slice() {
        [only] => only.clone(),
        _ => posted.get("responsible_la").to_string(),
    };
    if posted.get("local_id").is_empty() {
        errors.add("local_id", "local_id", "Enter the local authority's id for the child");
    }
    if responsible_la.is_empty() {
        errors.add(
            "responsible_la",
            "responsible_la-1",
            "Select the responsible local authority",
        );
    }
    let (Some(date_of_birth), true) = (date_of_birth, errors.is_empty()) else {
        return Ok(super::respond(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            register_page(&access, &posted, errors),
        ));
    };
    let input = NewChild {
        local_id: posted.get("local_id").to_string(),
        given_name: posted.get("given_name").to_string(),
        family_name: posted.get("family_name").to_string(),
        date_of_birth,
        sex: posted.get("sex").to_string(),
        responsible_la,
        nhs_number: posted.optional("nhs_number"),
        uasc: posted.get("uasc") == "yes",
        gp_practice: posted.optional("gp_practice"),
        social_worker_email: posted.optional("social_worker_email"),
    };
    match state
        .run_as(&access, move |conn, ctx| children::register(conn, ctx, input))
        .await
    {
        Ok(child) => Ok(see_other(&format!("/children/{}/periods/new", child.id))),
        Err(e) => match FormErrors::from_error(&e, CHILD_FIELDS, "register-form") {
            Some(errors) => Ok(super::respond(
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                register_page(&access, &posted, errors),
            )),
            None => Err(e),
        },
    }
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

fn period_page(access: &Access, child: ChildSummary, posted: &Posted, errors: FormErrors) -> PeriodPage {
    let e = &errors;
    let out_of_area = forms::no_or_yes(
        "out_of_area",
        "Is the placement outside the local authority's area?",
        "The host area's CLA health provider is asked to carry out the assessment",
        posted,
        e,
    );
    let mut category = SelectField::new(
        "category_of_need",
        "Category of need (optional)",
        &forms::coded(ssda903::CATEGORIES_OF_NEED),
        posted,
        e,
    );
    category.options[0].1 = "Not recorded".into();
    PeriodPage {
        layout: Layout::signed_in(
            forms::title("Start a period of care", e),
            &access.principal,
            "/children/",
        ),
        child,
        started_on: DateField::new("started_on", "Date the child became looked after", posted, e)
            .hint("Day 0 of the assessment's clock"),
        legal_status: SelectField::new(
            "legal_status",
            "Legal status",
            &forms::coded(ssda903::LEGAL_STATUSES),
            posted,
            e,
        ),
        category_of_need: category,
        placement_type: SelectField::new(
            "placement_type",
            "Placement",
            &forms::coded(ssda903::PLACEMENT_TYPES),
            posted,
            e,
        ),
        out_of_area,
        host_la: TextField::new("host_la", "Host local authority (if out of area)", posted, e),
        host_provider_email: TextField::new(
            "host_provider_email",
            "Host provider's email (if out of area)",
            posted,
            e,
        )
        .kind("email"),
        prior_assessment_on: DateField::new(
            "prior_assessment_on",
            "Date of an assessment in the 3 months before (optional)",
            posted,
            e,
        )
        .hint("It stands in for the initial health assessment"),
        errors,
    }
}

async fn child_for_form(state: &AppState, access: &Access, id: String) -> AppResult<ChildSummary> {
    let today = state.today();
    let detail = state
        .run_as(access, move |conn, ctx| children::detail(conn, ctx, &id, today))
        .await?;
    Ok(detail.child)
}

pub async fn new_period(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let child = child_for_form(&state, &access, id).await?;
    Ok(super::respond(
        &req,
        StatusCode::OK,
        period_page(&access, child, &Posted::default(), FormErrors::new()),
    ))
}

pub async fn start_period(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let posted = Posted::parse(&body);
    let mut errors = FormErrors::new();
    let started_on = forms::read_date(&posted, "started_on", "Date the child became looked after", &mut errors);
    let prior = forms::read_optional_date(
        &posted,
        "prior_assessment_on",
        "Date of the earlier assessment",
        &mut errors,
    );
    for (name, message) in [
        ("legal_status", "Select the legal status"),
        ("placement_type", "Select the placement"),
    ] {
        if posted.get(name).is_empty() {
            errors.add(name, name, message);
        }
    }
    let out_of_area = posted.get("out_of_area") == "yes";
    let input = started_on.filter(|_| errors.is_empty()).map(|started_on| NewPeriod {
        started_on,
        legal_status: posted.get("legal_status").to_string(),
        category_of_need: posted.optional("category_of_need"),
        placement: Some(NewPlacement {
            started_on: None,
            placement_type: posted.get("placement_type").to_string(),
            out_of_area,
            host_la: posted.optional("host_la").filter(|_| out_of_area),
            host_provider_email: posted.optional("host_provider_email").filter(|_| out_of_area),
            version: None,
        }),
        prior_assessment_on: prior,
    });
    let failed = match input {
        None => None,
        Some(input) => {
            let child = id.clone();
            match state
                .run_as(&access, move |conn, ctx| periods::start(conn, ctx, &child, input))
                .await
            {
                Ok(_) => return Ok(see_other(&format!("/children/{id}?done=period"))),
                Err(e) => Some(e),
            }
        }
    };
    let errors = match failed {
        None => errors,
        Some(e) => match FormErrors::from_error(&e, PERIOD_FIELDS, "period-form") {
            Some(errors) => errors,
            None => return Err(e),
        },
    };
    let child = child_for_form(&state, &access, id).await?;
    Ok(super::respond(
        &req,
        StatusCode::UNPROCESSABLE_ENTITY,
        period_page(&access, child, &posted, errors),
    ))
}
