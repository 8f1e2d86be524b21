//! `/children/{id}?as_of=`: a child's whole record, as it stood on a day.
//!
//! Rules:
//! - The record is the API's (`service::children::detail`): the same scope (a child outside
//!   it is a 404 page), the same audit entry, the same derived clocks for `as_of`.
//! - `as_of` comes as `YYYY-MM-DD` (links) or as Day, Month and Year fields (the form on the
//!   page); a date that is not real is shown as an error with today's record.
//! - The current period is the latest that had started by `as_of`; its placement the latest
//!   that had started by then.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;

use super::forms::{self, DateField, FormErrors, Posted};
use super::layout::Layout;
use super::record::{self, RecordForms};
use crate::access::Role;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::{extract, AppState};
use crate::service::children;
use crate::service::views::{
    AppointmentView, ChildDetail, ConsentView, LegalStatusChangeView, PeriodView, PlacementView,
};

#[derive(Template, WebTemplate)]
#[template(path = "child.html")]
pub struct ChildPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub detail: ChildDetail,
    pub as_of: NaiveDate,
    pub today: NaiveDate,
    pub as_of_field: DateField,
    pub roles: Vec<Role>,
    /// What was just recorded, for the success banner.
    pub done: Option<&'static str>,
    /// The forms offered on today's record (`record`).
    pub forms: RecordForms,
    /// The assurance meeting's actions on this child's assessments that the user may see.
    pub meeting_actions: Vec<crate::service::meetings::ActionView>,
    pub may_close_actions: bool,
    /// This page's path (where a close form comes back to).
    pub here: String,
}

impl ChildPage {
    pub fn may_open_assessments(&self) -> bool {
        super::may(&self.roles, "GET", &format!("/assessments/{}", self.detail.child.id))
    }

    /// A new period can start when none is open, and the user's roles allow it.
    pub fn may_start_period(&self) -> bool {
        let open = self.detail.periods.iter().any(|p| p.ended_on.is_none());
        !open
            && super::may(
                &self.roles,
                "POST",
                &format!("/children/{}/periods/new", self.detail.child.id),
            )
    }

    /// The latest period of care that had started by `as_of`.
    pub fn period(&self) -> Option<&PeriodView> {
        self.detail.periods.iter().rfind(|p| p.started_on <= self.as_of)
    }

    /// The legal status of the current period in force on `as_of` (its latest change on
    /// or before then, else the status it started with).
    pub fn legal_status(&self) -> Option<&str> {
        let p = self.period()?;
        Some(
            self.status_changes_of(&p.id)
                .last()
                .map_or(p.legal_status.as_str(), |c| c.legal_status.as_str()),
        )
    }

    /// A period's legal-status changes effective by `as_of`, oldest first.
    pub fn status_changes_of(&self, period_id: &str) -> Vec<&LegalStatusChangeView> {
        self.detail
            .legal_status_changes
            .iter()
            .filter(|c| c.period_id == period_id && c.changed_on <= self.as_of)
            .collect()
    }

    /// The periods that had started by `as_of`, newest first (for the history table).
    pub fn periods_so_far(&self) -> Vec<&PeriodView> {
        self.detail
            .periods
            .iter()
            .rev()
            .filter(|p| p.started_on <= self.as_of)
            .collect()
    }

    /// When a period ended, if it had by `as_of`.
    pub fn ended_by_as_of(&self, p: &PeriodView) -> Option<NaiveDate> {
        p.ended_on.filter(|end| *end <= self.as_of)
    }

    /// Whether that period was still open on `as_of`.
    pub fn in_care(&self) -> bool {
        self.period()
            .is_some_and(|p| p.ended_on.is_none_or(|end| end > self.as_of))
    }

    /// When the current period ended, if it had by `as_of`.
    pub fn period_end(&self) -> Option<NaiveDate> {
        self.period()?.ended_on.filter(|end| *end <= self.as_of)
    }

    /// The placement in force on `as_of` within the current period.
    pub fn placement(&self) -> Option<&PlacementView> {
        self.period()?.placements.iter().rfind(|p| p.started_on <= self.as_of)
    }

    pub fn appointments_of(&self, assessment_id: &str) -> Vec<&AppointmentView> {
        self.detail
            .appointments
            .iter()
            .filter(|a| a.assessment_id == assessment_id)
            .collect()
    }

    pub fn consents_of(&self, assessment_id: &str) -> Vec<&ConsentView> {
        self.detail
            .consents
            .iter()
            .filter(|c| c.assessment_id == assessment_id)
            .collect()
    }

    /// "IHA" or "RHA" for an assessment of this record.
    pub fn kind_of(&self, assessment_id: &str) -> &'static str {
        self.detail
            .assessments
            .iter()
            .find(|a| a.id == assessment_id)
            .map(|a| a.kind.as_str())
            .unwrap_or("")
    }
}

/// The `as_of` asked for: `as_of=YYYY-MM-DD`, or the Day/Month/Year fields (None for
/// today, or when it is not a real date: `errors` says so).
fn asked_as_of(posted: &Posted, errors: &mut FormErrors) -> Option<NaiveDate> {
    let iso = posted.get("as_of");
    if !iso.is_empty() {
        return match iso.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add("as_of", "as_of-day", "Date to view the record on must be a real date");
                None
            }
        };
    }
    forms::read_optional_date(posted, "as_of", "Date to view the record on", errors)
}

pub async fn record(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let posted = Posted::parse(req.query_string().as_bytes());
    let mut errors = FormErrors::new();
    let as_of = asked_as_of(&posted, &mut errors);
    let view = View {
        as_of,
        as_of_posted: (!errors.is_empty()).then_some(posted),
        failed: None,
        errors,
    };
    show(&state, &access, &req, id, view).await
}

/// The record as it is today, after a form on it failed: `failed` names the form and what
/// was posted, `errors` what is wrong (or that the record changed meanwhile).
pub async fn render(
    state: &AppState,
    access: &Access,
    req: &HttpRequest,
    id: String,
    failed: Option<(&str, &Posted)>,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let view = View {
        as_of: None,
        as_of_posted: None,
        failed: failed.map(|(k, p)| (k.to_string(), p.clone())),
        errors,
    };
    let mut res = show(state, access, req, id, view).await?;
    *res.status_mut() = status;
    Ok(res)
}

/// What to show: the day, and the errors of the `as_of` fields or of a failed form.
struct View {
    as_of: Option<NaiveDate>,
    /// The `as_of` fields as asked, when they were not a real date.
    as_of_posted: Option<Posted>,
    failed: Option<(String, Posted)>,
    errors: FormErrors,
}

async fn show(state: &AppState, access: &Access, req: &HttpRequest, id: String, view: View) -> AppResult<HttpResponse> {
    let today = state.today();
    let as_of = view.as_of.unwrap_or(today);
    let child_id = id.clone();
    let detail = state
        .run_as(access, move |conn, ctx| children::detail(conn, ctx, &id, as_of))
        .await?;
    let roles = &access.principal.roles;
    let meeting_actions = match crate::access::granting_role(roles, crate::access::Action::MeetingActionRead) {
        Some(role) => {
            let as_reader = Access {
                role,
                action: crate::access::Action::MeetingActionRead,
                ..access.clone()
            };
            state
                .run_as(&as_reader, move |conn, ctx| {
                    crate::service::meetings::actions_of_child(conn, ctx, &child_id)
                })
                .await?
        }
        None => Vec::new(),
    };
    let name = format!("{} {}", detail.child.given_name, detail.child.family_name);
    let errors = view.errors;
    let as_of_field = match &view.as_of_posted {
        Some(posted) => DateField::new("as_of", "Show the record as it stood on", posted, &errors),
        None => DateField::new("as_of", "Show the record as it stood on", &Posted::default(), &errors)
            .with_date(Some(as_of)),
    };
    let roles = access.principal.roles.clone();
    let offered = if as_of == today && view.as_of_posted.is_none() {
        let failed = view.failed.as_ref().map(|(k, p)| (k.as_str(), p));
        RecordForms::build(&detail, &roles, failed, &errors)
    } else {
        RecordForms::default()
    };
    let status = if view.as_of_posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let done = if errors.is_empty() {
        record::done_message(&super::query_value(req, "done"))
    } else {
        None
    };
    let path = format!("/children/{}", detail.child.id);
    let page = ChildPage {
        layout: Layout::signed_in(forms::title(&name, &errors), &access.principal, &path),
        errors,
        detail,
        as_of,
        today,
        as_of_field,
        roles,
        done,
        forms: offered,
        meeting_actions,
        may_close_actions: super::may(&access.principal.roles, "POST", "/assurance/meetings/actions/x/close"),
        here: path.clone(),
    };
    Ok(super::respond(req, status, page))
}
