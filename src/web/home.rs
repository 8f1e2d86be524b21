//! `/`: the signed-in user's work, by role (`service::work` decides what each list holds).
//!
//! Rules:
//! - Each section is shown only to a user holding the role it is for, and read as that role
//!   (the audit trail names it); a user with several roles sees each of their sections.
//! - Queues show their whole count and the first `FIRST` items, soonest due first; the
//!   health admin's queues may be ordered most likely to be late first (`?sort=likely_late`;
//!   any other value is the default order, as on the meeting page).
//! - Each item shows its lateness forecast in words, with the step that drives it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;

use super::layout::{role_name, Layout};
use crate::access::{Action, Role};
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::AppState;
use crate::service::work::{self, AppointmentItem, Queue, QueueSort, WorkItem};

/// Items shown per queue.
pub const FIRST: usize = 10;

/// Appointments shown of a clinician's week (a whole service's week can run to thousands).
pub const WEEK_FIRST: usize = 50;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub roles: Vec<&'static str>,
    pub as_of: NaiveDate,
    pub health_admin: Option<Vec<Queue>>,
    pub social_worker: Option<SocialWorkerWork>,
    pub clinician: Option<ClinicianWork>,
    pub may_find_children: bool,
    pub recent_days: i64,
    /// Whether the health admin's queues are most likely to be late first.
    pub by_likelihood: bool,
}

/// The home page's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct HomeQuery {
    pub sort: Option<String>,
}

pub struct SocialWorkerWork {
    pub queues: Vec<Queue>,
    pub non_attendances: Vec<WorkItem>,
}

pub struct ClinicianWork {
    pub week: (NaiveDate, NaiveDate),
    pub appointments: Vec<AppointmentItem>,
    /// All the week's appointments, of which `appointments` are the first.
    pub appointments_total: usize,
    pub reports: Queue,
}

/// The access of a section's role, if the user holds it and it may read assessments.
fn as_role(access: &Access, role: Role) -> Option<Access> {
    let holds = access.principal.roles.contains(&role);
    (holds && crate::access::permits(role, Action::AssessmentRead)).then(|| Access {
        role,
        action: Action::AssessmentRead,
        ..access.clone()
    })
}

pub async fn page(
    state: web::Data<AppState>,
    access: Access,
    query: web::Query<HomeQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let as_of = state.today();
    let sort = match query.sort.as_deref() {
        Some("likely_late") => QueueSort::LikelyLate,
        _ => QueueSort::Due,
    };
    let health_admin = match as_role(&access, Role::HealthAdmin) {
        Some(a) => Some(
            state
                .run_as(&a, move |conn, ctx| {
                    work::health_admin_queues(conn, ctx, as_of, FIRST, sort)
                })
                .await?,
        ),
        None => None,
    };
    let social_worker = match as_role(&access, Role::SocialWorker) {
        Some(a) => Some(
            state
                .run_as(&a, move |conn, ctx| {
                    Ok(SocialWorkerWork {
                        queues: work::social_worker_queues(conn, ctx, as_of, FIRST)?,
                        non_attendances: work::recent_non_attendances(conn, ctx, as_of, FIRST)?,
                    })
                })
                .await?,
        ),
        None => None,
    };
    let clinician = match as_role(&access, Role::Clinician) {
        Some(a) => Some(
            state
                .run_as(&a, move |conn, ctx| {
                    let (appointments, appointments_total) =
                        work::appointments_this_week(conn, ctx, as_of, WEEK_FIRST)?;
                    Ok(ClinicianWork {
                        week: work::week_of(as_of),
                        appointments,
                        appointments_total,
                        reports: work::reports_awaited(conn, ctx, as_of, FIRST)?,
                    })
                })
                .await?,
        ),
        None => None,
    };
    let p = &access.principal;
    let page = HomePage {
        layout: Layout::signed_in("Your work", p, req.path()),
        roles: p.roles.iter().map(role_name).collect(),
        as_of,
        health_admin,
        social_worker,
        clinician,
        may_find_children: crate::access::granting_role(&p.roles, Action::ChildRead).is_some(),
        recent_days: work::RECENT_DAYS,
        by_likelihood: sort == QueueSort::LikelyLate,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}
