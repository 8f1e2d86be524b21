//! The forms on a child's record (`/children/{id}`): a placement change and the end of the
//! current period of care, a health check, a note, and the withdrawal of a consent. Each
//! posts to its API twin's path without `/api/v1` (so one action gates both) and records
//! through the same service function as the API.
//!
//! Rules:
//! - A form is offered only on today's record (not on a view of an earlier day), and only
//!   when a role of the user is granted the page it posts to (`access::PAGES`).
//! - Placement change and period end are offered for the open period, and carry its
//!   `version`: a stale one is refused by the service and the record shows "This record was
//!   changed by someone else" as it is now (409), keeping what was typed. A health check or
//!   a note adds to the record and changes nothing already there, so it needs no version.
//! - A withdrawal is offered for each consent an open assessment relies on (given, not yet
//!   withdrawn); one withdrawn meanwhile by someone else is a 409 with the reason.
//! - Invalid input re-renders the record (422) with the error summary, inline errors and
//!   the form open as typed; a recorded change answers 303 back to the record, which says
//!   what was recorded.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::child;
use super::forms::{self, ChoiceField, DateField, FormErrors, Posted, SelectField, TextArea, TextField};
use crate::access::Role;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::{extract, AppState};
use crate::service::assessments::{self, ConsentWithdrawal};
use crate::service::care::{self, ObligationCompletion};
use crate::service::children::{self, NewHealthCheck, NewNote};
use crate::service::periods::{self, NewPlacement, PeriodEnd};
use crate::service::views::ChildDetail;
use crate::service::DomainCtx;
use crate::ssda903;

/// The forms offered on one record, each with its fields (values kept for the one that
/// failed).
#[derive(Default)]
pub struct RecordForms {
    pub placement: Option<PlacementForm>,
    pub end: Option<EndForm>,
    pub health_check: Option<HealthCheckForm>,
    pub note: Option<TextArea>,
    pub withdrawals: Vec<WithdrawalForm>,
    /// A leaving-care summary or adoption medical report to record as given.
    pub obligations: Vec<ObligationForm>,
    /// The form that failed, so the template opens it.
    pub failed: Option<String>,
}

impl RecordForms {
    pub fn is_open(&self, form: &str) -> bool {
        self.failed.as_deref() == Some(form)
    }
}

pub struct PlacementForm {
    pub period_id: String,
    pub version: i32,
    pub started_on: DateField,
    pub placement_type: SelectField,
    pub out_of_area: ChoiceField,
    pub host_la: TextField,
    pub host_provider_email: TextField,
}

pub struct EndForm {
    pub period_id: String,
    pub version: i32,
    pub ended_on: DateField,
    pub reason: SelectField,
}

pub struct HealthCheckForm {
    pub kind: ChoiceField,
    pub checked_on: DateField,
    pub up_to_date: ChoiceField,
    pub sdq_score: TextField,
    pub sdq_reason: SelectField,
    pub outcome: TextArea,
}

pub struct WithdrawalForm {
    pub consent_id: String,
    /// What the consent was for and when, for the form's heading.
    pub about: String,
    pub withdrawn_on: DateField,
    /// Whether this is the form that failed (shown open).
    pub open: bool,
}

pub struct ObligationForm {
    pub obligation_id: String,
    /// What it is, for the form's heading.
    pub about: &'static str,
    pub completed_on: DateField,
    pub open: bool,
}

/// Each form: its key (also `?done=`), what the banner says once it is recorded.
const DONE: [(&str, &str); 7] = [
    ("period", "Period of care started"),
    ("placement", "Placement change recorded"),
    ("end", "Period of care ended"),
    ("health_check", "Health check added"),
    ("note", "Note added"),
    ("withdrawal", "Consent withdrawal recorded"),
    ("obligation", "Recorded as given"),
];

/// What the banner says for `?done=` (nothing for a key it does not know).
pub fn done_message(key: &str) -> Option<&'static str> {
    DONE.iter().find(|(k, _)| *k == key).map(|(_, m)| *m)
}

const HEALTH_CHECK_KINDS: [(&str, &str, Option<&str>); 4] = [
    ("dental", "Dental check", None),
    ("immunisations", "Immunisations", None),
    (
        "sdq",
        "Strengths and Difficulties Questionnaire (SDQ)",
        Some("Ages 4 to 16"),
    ),
    ("development", "Development check", Some("Under-5s")),
];

/// The completion form's date field, named after the obligation (several on one page).
fn obligation_field(obligation_id: &str) -> String {
    format!("completed_on-{obligation_id}")
}

/// The withdrawal form's date field: named after the consent, so several on one page
/// keep their ids apart.
fn withdrawal_field(consent_id: &str) -> String {
    format!("withdrawn_on-{consent_id}")
}

fn may(roles: &[Role], path: &str) -> bool {
    super::may(roles, "POST", path)
}

impl RecordForms {
    /// The forms for this record and user; `failed` names the form whose values to keep.
    pub fn build(
        detail: &ChildDetail,
        roles: &[Role],
        failed: Option<(&str, &Posted)>,
        errors: &FormErrors,
    ) -> RecordForms {
        let empty = Posted::default();
        let none = FormErrors::new();
        let pick = |key: &str| match failed {
            Some((k, p)) if k == key => (p, errors),
            _ => (&empty, &none),
        };
        let mut forms = RecordForms {
            failed: failed.map(|(k, _)| k.to_string()),
            ..RecordForms::default()
        };
        let child_id = &detail.child.id;
        if let Some(p) = detail.periods.iter().find(|p| p.ended_on.is_none()) {
            if may(roles, &format!("/periods/{}/placements", p.id)) {
                let (posted, e) = pick("placement");
                let out_of_area = forms::no_or_yes(
                    "out_of_area",
                    "Is the new placement outside the local authority's area?",
                    "The host area's CLA health provider is asked to carry out the open assessment",
                    posted,
                    e,
                );
                forms.placement = Some(PlacementForm {
                    period_id: p.id.clone(),
                    version: p.version,
                    started_on: DateField::new("placement_started_on", "Date the placement started", posted, e),
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
                });
            }
            if may(roles, &format!("/periods/{}/end", p.id)) {
                let (posted, e) = pick("end");
                // X1 continues care in a new episode: it is not offered as an end of care
                // (the service refuses it).
                let reasons: Vec<(String, String)> = forms::coded(ssda903::REASONS_EPISODE_CEASED)
                    .into_iter()
                    .filter(|(code, _)| code != "X1")
                    .collect();
                forms.end = Some(EndForm {
                    period_id: p.id.clone(),
                    version: p.version,
                    ended_on: DateField::new("ended_on", "Date the child stopped being looked after", posted, e),
                    reason: SelectField::new("end_reason", "Why care ended", &reasons, posted, e),
                });
            }
        }
        if may(roles, &format!("/children/{child_id}/health-checks")) {
            let (posted, e) = pick("health_check");
            let mut up_to_date = ChoiceField::new(
                "up_to_date",
                "Immunisations up to date for age? (immunisations only)",
                &[("yes", "Yes", None), ("no", "No", None)],
                posted,
                e,
            );
            up_to_date.hint = Some("Leave blank for other checks".into());
            let mut sdq_reason = SelectField::new(
                "sdq_reason",
                "Or why there is no score (SDQ only)",
                &forms::coded(ssda903::SDQ_REASONS),
                posted,
                e,
            );
            sdq_reason.options[0].1 = "A score was obtained".into();
            forms.health_check = Some(HealthCheckForm {
                kind: ChoiceField::new("kind", "Which check", &HEALTH_CHECK_KINDS, posted, e),
                checked_on: DateField::new("checked_on", "Date of the check", posted, e),
                up_to_date,
                sdq_score: TextField::new("sdq_score", "SDQ total score (SDQ only)", posted, e)
                    .hint("A whole number from 0 to 40")
                    .width("nhsuk-input--width-2"),
                sdq_reason,
                outcome: TextArea::new("check_outcome", "Outcome (optional)", posted, e),
            });
        }
        if may(roles, &format!("/children/{child_id}/notes")) {
            let (posted, e) = pick("note");
            forms.note = Some(TextArea::new("note_body", "Note", posted, e));
        }
        for o in detail.health_obligations.iter().filter(|o| o.completed_on.is_none()) {
            if !may(roles, &format!("/obligations/{}/completion", o.id)) {
                continue;
            }
            let key = format!("obligation:{}", o.id);
            let (posted, e) = pick(&key);
            forms.obligations.push(ObligationForm {
                obligation_id: o.id.clone(),
                about: super::format::obligation_kind(&o.kind),
                completed_on: DateField::new(&obligation_field(&o.id), "Date it was given", posted, e),
                open: forms.is_open(&key),
            });
        }
        for a in detail.assessments.iter().filter(|a| a.state.is_open()) {
            for c in detail
                .consents
                .iter()
                .filter(|c| c.assessment_id == a.id && c.given_on.is_some() && c.withdrawn_on.is_none())
            {
                if !may(roles, &format!("/consents/{}/withdrawal", c.id)) {
                    continue;
                }
                let key = format!("withdrawal:{}", c.id);
                let (posted, e) = pick(&key);
                let name = withdrawal_field(&c.id);
                let about = format!(
                    "the consent to the {} given by {}{}",
                    a.kind.as_str(),
                    c.given_by,
                    c.given_on
                        .map(|d| format!(" on {}", super::format::date(&d)))
                        .unwrap_or_default()
                );
                forms.withdrawals.push(WithdrawalForm {
                    consent_id: c.id.clone(),
                    about,
                    withdrawn_on: DateField::new(&name, "Date consent was withdrawn", posted, e),
                    open: forms.is_open(&key),
                });
            }
        }
        forms
    }
}

/// A change to record: its form, how its fields map onto the service's, and the input.
struct Change<I> {
    form: String,
    /// (service field, form field, id to link to).
    fields: Vec<(String, String, String)>,
    input: Option<I>,
    posted: Posted,
    errors: FormErrors,
}

impl<I> Change<I> {
    fn new(form: &str, fields: &[(&str, &str, &str)], posted: Posted) -> Change<I> {
        Change {
            form: form.to_string(),
            fields: fields
                .iter()
                .map(|(s, f, t)| (s.to_string(), f.to_string(), t.to_string()))
                .collect(),
            input: None,
            posted,
            errors: FormErrors::new(),
        }
    }
}

/// Records a change: invalid input or a refusal re-renders the record with the form as
/// typed; success answers 303 back to the record.
async fn submit<I, F>(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    child_id: String,
    change: Change<I>,
    call: F,
) -> AppResult<HttpResponse>
where
    I: Send + 'static,
    F: FnOnce(&mut DbConn, &DomainCtx, I) -> AppResult<()> + Send + 'static,
{
    let Change {
        form,
        fields,
        input,
        posted,
        mut errors,
    } = change;
    let form_id = format!("{}-form", form.replace(':', "-"));
    let input = match input {
        Some(input) if errors.is_empty() => input,
        _ => {
            if errors.is_empty() {
                errors.add("form", &form_id, "Check the form and try again");
            }
            let failed = Some((form.as_str(), &posted));
            return child::render(
                &state,
                &access,
                &req,
                child_id,
                failed,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state.run_as(&access, move |conn, ctx| call(conn, ctx, input)).await {
        Ok(()) => {
            let done = form.split(':').next().unwrap_or(&form).to_string();
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/children/{child_id}?done={done}")))
                .finish())
        }
        Err(e) => {
            let refs: Vec<(&str, &str, &str)> = fields
                .iter()
                .map(|(s, f, t)| (s.as_str(), f.as_str(), t.as_str()))
                .collect();
            let Some((errors, status)) = forms::refusal(&e, &refs, &form_id, |message| {
                format!("{}: {message}. Check the record as it is now.", forms::STALE)
            }) else {
                return Err(e);
            };
            let failed = Some((form.as_str(), &posted));
            child::render(&state, &access, &req, child_id, failed, errors, status).await
        }
    }
}

/// The child a form about a period or consent came from (to go back to).
fn child_of(posted: &Posted) -> AppResult<String> {
    extract::id(posted.get("child"), "child")
}

/// `/periods/{id}/placements`: a placement change on the open period.
pub async fn placement(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let period = extract::id(&path, "period")?;
    let posted = Posted::parse(&body);
    let child_id = child_of(&posted)?;
    let mut change = Change::new(
        "placement",
        &[
            ("started_on", "placement_started_on", "placement_started_on-day"),
            ("placement_type", "placement_type", "placement_type"),
            ("out_of_area", "out_of_area", "out_of_area-1"),
            ("host_la", "host_la", "host_la"),
            ("host_provider_email", "host_provider_email", "host_provider_email"),
        ],
        posted,
    );
    let p = &change.posted;
    let started_on = forms::read_date(
        p,
        "placement_started_on",
        "Date the placement started",
        &mut change.errors,
    );
    if p.get("placement_type").is_empty() {
        change
            .errors
            .add("placement_type", "placement_type", "Select the placement");
    }
    let out_of_area = p.get("out_of_area") == "yes";
    change.input = started_on.map(|started_on| NewPlacement {
        started_on: Some(started_on),
        placement_type: p.get("placement_type").to_string(),
        out_of_area,
        host_la: p.optional("host_la").filter(|_| out_of_area),
        host_provider_email: p.optional("host_provider_email").filter(|_| out_of_area),
        version: p.version(),
    });
    submit(state, access, req, child_id, change, move |conn, ctx, input| {
        periods::change_placement(conn, ctx, &period, input).map(|_| ())
    })
    .await
}

/// `/periods/{id}/end`: the end of the open period of care.
pub async fn end(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let period = extract::id(&path, "period")?;
    let posted = Posted::parse(&body);
    let child_id = child_of(&posted)?;
    let mut change = Change::new(
        "end",
        &[
            ("ended_on", "ended_on", "ended_on-day"),
            ("reason", "end_reason", "end_reason"),
        ],
        posted,
    );
    let p = &change.posted;
    let ended_on = forms::read_date(
        p,
        "ended_on",
        "Date the child stopped being looked after",
        &mut change.errors,
    );
    let reason = p.get("end_reason").to_string();
    if reason.is_empty() {
        change.errors.add("end_reason", "end_reason", "Select why care ended");
    }
    // An adoption order seals the record: the user can no longer see it, so the answer
    // goes to the search page rather than back to a record that is now "Page not found".
    let seals = crate::adoption::seals_record(&reason);
    change.input = ended_on.map(|ended_on| PeriodEnd {
        ended_on,
        reason,
        version: p.version(),
    });
    let res = submit(state, access, req, child_id, change, move |conn, ctx, input| {
        periods::end(conn, ctx, &period, input).map(|_| ())
    })
    .await?;
    if seals && res.status() == StatusCode::SEE_OTHER {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/children"))
            .finish());
    }
    Ok(res)
}

/// `/children/{id}/health-checks`: a dental check, immunisations, an SDQ or a development check.
pub async fn health_check(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let child_id = extract::id(&path, "child")?;
    let mut change = Change::new(
        "health_check",
        &[
            ("kind", "kind", "kind-1"),
            ("checked_on", "checked_on", "checked_on-day"),
            ("up_to_date", "up_to_date", "up_to_date-1"),
            ("sdq_score", "sdq_score", "sdq_score"),
            ("sdq_reason", "sdq_reason", "sdq_reason"),
            ("outcome", "check_outcome", "check_outcome"),
        ],
        Posted::parse(&body),
    );
    let p = &change.posted;
    let kind = p.get("kind").to_string();
    if kind.is_empty() {
        change
            .errors
            .add("kind", &ChoiceField::target("kind"), "Select which check");
    }
    let checked_on = forms::read_date(p, "checked_on", "Date of the check", &mut change.errors);
    let sdq_score = match p.get("sdq_score") {
        "" => None,
        s => match s.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                change.errors.add(
                    "sdq_score",
                    "sdq_score",
                    "SDQ total score must be a whole number from 0 to 40",
                );
                None
            }
        },
    };
    let up_to_date = match p.get("up_to_date") {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    change.input = checked_on.map(|checked_on| NewHealthCheck {
        kind,
        checked_on,
        up_to_date,
        sdq_score,
        sdq_reason: p.optional("sdq_reason"),
        outcome: p.optional("check_outcome"),
    });
    let target = child_id.clone();
    submit(state, access, req, child_id, change, move |conn, ctx, input| {
        children::add_health_check(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

/// `/children/{id}/notes`: a note, signed with the user's name.
pub async fn note(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let child_id = extract::id(&path, "child")?;
    let mut change = Change::new("note", &[("body", "note_body", "note_body")], Posted::parse(&body));
    let text = change.posted.get("note_body").to_string();
    if text.is_empty() {
        change.errors.add("note_body", "note_body", "Enter the note");
    }
    change.input = Some(NewNote {
        body: text,
        author: access.principal.display_name.clone(),
        assessment_id: None,
    });
    let target = child_id.clone();
    submit(state, access, req, child_id, change, move |conn, ctx, input| {
        children::add_note(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

/// `/consents/{id}/withdrawal`: consent withdrawn; the form names its child.
pub async fn withdrawal(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let consent = extract::id(&path, "consent")?;
    let posted = Posted::parse(&body);
    let child_id = child_of(&posted)?;
    let name = withdrawal_field(&consent);
    let target = DateField::target(&name);
    let mut change = Change::new(
        &format!("withdrawal:{consent}"),
        &[("withdrawn_on", &name, &target)],
        posted,
    );
    let withdrawn_on = forms::read_date(&change.posted, &name, "Date consent was withdrawn", &mut change.errors);
    change.input = withdrawn_on.map(|withdrawn_on| ConsentWithdrawal { withdrawn_on });
    submit(state, access, req, child_id, change, move |conn, ctx, input| {
        assessments::withdraw_consent(conn, ctx, &consent, input).map(|_| ())
    })
    .await
}

/// `/obligations/{id}/completion`: a leaving-care summary or adoption medical report given.
pub async fn obligation(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let obligation = extract::id(&path, "obligation")?;
    let posted = Posted::parse(&body);
    let child_id = child_of(&posted)?;
    let name = obligation_field(&obligation);
    let target = DateField::target(&name);
    let mut change = Change::new(
        &format!("obligation:{obligation}"),
        &[("completed_on", &name, &target)],
        posted,
    );
    let completed_on = forms::read_date(&change.posted, &name, "Date it was given", &mut change.errors);
    change.input = completed_on.map(|completed_on| ObligationCompletion { completed_on });
    submit(state, access, req, child_id, change, move |conn, ctx, input| {
        care::complete(conn, ctx, &obligation, input).map(|_| ())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_says_only_what_it_knows() {
        assert_eq!(done_message("note"), Some("Note added"));
        assert_eq!(done_message("<script>"), None);
        assert_eq!(done_message(""), None);
    }
}
