//! `/assessments/{id}`: one assessment, its clock, and a form for each step that its state
//! allows and the user's roles may take. Each form posts to the step's page, the API's path
//! without `/api/v1` (so the same action gates both), which records it through the same
//! service function as the API.
//!
//! Rules:
//! - A form is offered only when `workflow::allowed_events` allows its step in the current
//!   state and a role of the user is granted the page it posts to (`access::PAGES`): no
//!   button leads to a refusal.
//! - Every form carries the record's `version`; a stale one is refused by the service and
//!   the page shows "This record was changed by someone else" with the record as it is now
//!   (status 409), keeping what was typed. A step the state no longer allows is shown the
//!   same way with the service's reason.
//! - Invalid input re-renders the page (422) with the error summary and inline errors; a
//!   recorded step answers 303 back to the page, which says what was recorded.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Europe::London;

use super::forms::{self, ChoiceField, DateField, FormErrors, Posted, TextArea, TextField};
use super::layout::Layout;
use crate::access::Role;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::{extract, AppState};
use crate::service::assessments::{
    self as steps, AppointmentInput, CloseInput, CompletionInput, ConsentInput, NotRequiredInput, NotificationInput,
    OutOfAreaUpdate, OutcomeInput, ReofferInput,
};
use crate::service::casework::{self, AssessmentCase};
use crate::service::DomainCtx;
use crate::workflow::{self, Outcome};

#[derive(Template, WebTemplate)]
#[template(path = "assessment.html")]
pub struct AssessmentPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub case: AssessmentCase,
    pub today: NaiveDate,
    /// What was just recorded, for the success banner.
    pub done: Option<&'static str>,
    pub forms: Forms,
    /// The assurance meeting's actions on this assessment that the user may see.
    pub meeting_actions: Vec<crate::service::meetings::ActionView>,
    pub may_close_actions: bool,
    /// This page's path (where a close form comes back to).
    pub here: String,
}

/// The forms offered, each with its fields (values kept for the one that failed).
#[derive(Default)]
pub struct Forms {
    pub version: i32,
    pub notification: Option<DateField>,
    pub consent: Option<ConsentForm>,
    pub book: Option<BookForm>,
    pub outcome: Option<OutcomeForm>,
    pub completion: Option<CompletionForm>,
    pub reoffer: Option<DateField>,
    pub not_required: Option<DateField>,
    pub close: Option<CloseForm>,
    pub request: Option<RequestForm>,
}

impl Forms {
    pub fn any(&self) -> bool {
        self.notification.is_some()
            || self.consent.is_some()
            || self.book.is_some()
            || self.outcome.is_some()
            || self.completion.is_some()
            || self.reoffer.is_some()
            || self.not_required.is_some()
            || self.close.is_some()
            || self.request.is_some()
    }
}

pub struct ConsentForm {
    /// Radios when both consent and a refusal may be recorded; else the one decision.
    pub decision: Option<ChoiceField>,
    pub fixed_decision: &'static str,
    pub on: DateField,
    pub basis: ChoiceField,
    pub given_by: TextField,
    pub scope: ChoiceField,
    /// Whether the person who gave consent is the birth mother (birth history needs it).
    pub birth_mother: ChoiceField,
    pub confirmed_by: TextField,
    pub competence_assessed_by: TextField,
    pub reoffer_plan: TextArea,
}

pub struct BookForm {
    pub rebook: bool,
    pub date: DateField,
    pub time: TextField,
    pub clinician: TextField,
    pub location: TextField,
}

pub struct OutcomeForm {
    pub appointment_id: String,
    pub appointment_version: i32,
    pub when: String,
    pub outcome: ChoiceField,
}

pub struct CompletionForm {
    pub seen_on: DateField,
    pub report_received_on: DateField,
    pub method: ChoiceField,
}

pub struct CloseForm {
    pub closed_on: DateField,
    pub reason: TextField,
}

pub struct RequestForm {
    pub id: String,
    pub version: i32,
    pub requested_on: DateField,
    pub acknowledged_on: DateField,
    pub appointment_offered_on: DateField,
    pub report_received_on: DateField,
}

/// Each form: its key (also `?done=`), what the banner says once it is recorded.
const DONE: [(&str, &str); 9] = [
    ("notification", "Notification recorded"),
    ("consent", "Consent decision recorded"),
    ("appointment", "Appointment booked"),
    ("outcome", "Appointment outcome recorded"),
    ("completion", "Assessment completed"),
    ("reoffer", "Assessment offered again"),
    ("not_required", "Marked not required"),
    ("close", "Assessment closed"),
    ("request", "Out-of-area request updated"),
];

const CONSENT_BASES: [(&str, &str, Option<&str>); 4] = [
    ("parent_with_pr", "A parent with parental responsibility", None),
    (
        "local_authority",
        "The local authority, under a care or placement order",
        None,
    ),
    (
        "young_person",
        "The young person",
        Some("16 or 17, or younger and judged competent"),
    ),
    ("court", "The court", None),
];

const CONSENT_SCOPES: [(&str, &str, Option<&str>); 4] = [
    ("assessment", "The assessment", None),
    ("share_report", "Sharing the report with the GP, school and carer", None),
    ("obtain_records", "Obtaining health records", None),
    (
        "birth_history",
        "Birth history",
        Some("Only with the birth mother's consent"),
    ),
];

const METHODS: [(&str, &str, Option<&str>); 2] = [
    ("face_to_face", "Face-to-face assessment", None),
    (
        "brief_health_summary",
        "Brief health summary",
        Some("Written without the child after repeated non-attendance: review health assessments only"),
    ),
];

fn outcomes() -> Vec<(&'static str, String, Option<&'static str>)> {
    Outcome::ALL
        .iter()
        .map(|o| (o.as_str(), super::format::outcome(o.as_str()), None))
        .collect()
}

/// Whether the user may post to this page.
fn may(roles: &[Role], path: &str) -> bool {
    super::may(roles, "POST", path)
}

/// Who can consent under the period's legal status, in words.
fn basis_hint(legal_status: Option<&str>) -> String {
    match legal_status {
        Some(ls) if crate::ssda903::la_holds_parental_responsibility(ls) => format!(
            "Under legal status {ls} the local authority shares parental responsibility and may consent."
        ),
        Some(ls) => format!(
            "Under legal status {ls} the local authority does not hold parental responsibility: consent comes from a parent with it, the young person or the court."
        ),
        None => "Who could give consent depends on the legal status.".to_string(),
    }
}

impl Forms {
    /// The forms for this assessment and user; `failed` names the form whose values to keep.
    pub fn build(
        case: &AssessmentCase,
        roles: &[Role],
        failed: Option<(&str, &Posted)>,
        errors: &FormErrors,
        confirmer: &str,
    ) -> Forms {
        let a = &case.assessment;
        let allowed = workflow::allowed_events(a.kind, a.state);
        let allows = |step: &str| allowed.contains(&step);
        let base = format!("/assessments/{}", a.id);
        let empty = Posted::default();
        let none = FormErrors::new();
        let pick = |key: &str| match failed {
            Some((k, p)) if k == key => (p, errors),
            _ => (&empty, &none),
        };
        let mut forms = Forms {
            version: a.version,
            ..Forms::default()
        };
        if allows("notification") && may(roles, &format!("{base}/notification")) {
            let (p, e) = pick("notification");
            forms.notification =
                Some(DateField::new("received_on", "Date health was told", p, e).hint("For example, 5 1 2026"));
        }
        let consent_ok = allows("consent") && a.kind == workflow::Kind::Iha;
        if (consent_ok || allows("refusal")) && may(roles, &format!("{base}/consent")) {
            let (p, e) = pick("consent");
            forms.consent = Some(consent_form(case, consent_ok, allows("refusal"), p, e, confirmer));
        }
        if allows("appointment") && may(roles, &format!("{base}/appointments")) {
            let (p, e) = pick("appointment");
            forms.book = Some(BookForm {
                rebook: a.state == workflow::State::Booked,
                date: DateField::new("appointment_date", "Date of the appointment", p, e),
                time: TextField::new("appointment_time", "Time", p, e)
                    .hint("Use the 24-hour clock, for example 14:30")
                    .width("nhsuk-input--width-5"),
                clinician: TextField::new("clinician", "Clinician", p, e),
                location: TextField::new("location", "Where", p, e),
            });
        }
        if allows("outcome") {
            if let Some(ap) = case.pending_appointment() {
                if may(roles, &format!("/appointments/{}/outcome", ap.id)) {
                    let (p, e) = pick("outcome");
                    let options = outcomes();
                    let refs: Vec<(&str, &str, Option<&str>)> =
                        options.iter().map(|(v, l, h)| (*v, l.as_str(), *h)).collect();
                    forms.outcome = Some(OutcomeForm {
                        appointment_id: ap.id.clone(),
                        appointment_version: ap.version,
                        when: super::format::when(&ap.starts_at),
                        outcome: ChoiceField::new("outcome", "What happened", &refs, p, e),
                    });
                }
            }
        }
        if allows("completion") && may(roles, &format!("{base}/completion")) {
            let (p, e) = pick("completion");
            let mut method = ChoiceField::new("method", "How it was completed", &METHODS, p, e);
            if p.get("method").is_empty() {
                method.choices[0].checked = true;
            }
            forms.completion = Some(CompletionForm {
                seen_on: DateField::new("seen_on", "Date the child was seen", p, e),
                report_received_on: DateField::new(
                    "report_received_on",
                    "Date the report was received (optional)",
                    p,
                    e,
                ),
                method,
            });
        }
        if allows("reoffer") && may(roles, &format!("{base}/reoffer")) {
            let (p, e) = pick("reoffer");
            forms.reoffer = Some(DateField::new("offered_on", "Date it was offered again", p, e));
        }
        if allows("not_required") && may(roles, &format!("{base}/not-required")) {
            let (p, e) = pick("not_required");
            forms.not_required = Some(
                DateField::new(
                    "prior_assessment_on",
                    "Date of the assessment that stands in for it",
                    p,
                    e,
                )
                .hint("An assessment in the 3 months before the child became looked after"),
            );
        }
        if allows("close") && may(roles, &format!("{base}/close")) {
            let (p, e) = pick("close");
            forms.close = Some(CloseForm {
                closed_on: DateField::new("closed_on", "Date closed", p, e),
                reason: TextField::new("reason", "Why it is closed", p, e),
            });
        }
        if let Some(r) = &case.request {
            if may(roles, &format!("/out-of-area-requests/{}", r.id)) {
                let (p, e) = pick("request");
                let kept = failed.is_some_and(|(k, _)| k == "request");
                let date = |name: &str, label: &str, stored: Option<NaiveDate>| {
                    let field = DateField::new(name, label, p, e);
                    if kept {
                        field
                    } else {
                        field.with_date(stored)
                    }
                };
                forms.request = Some(RequestForm {
                    id: r.id.clone(),
                    version: r.version,
                    requested_on: date("requested_on", "Asked the host provider on", r.requested_on),
                    acknowledged_on: date(
                        "acknowledged_on",
                        "The host provider acknowledged on",
                        r.acknowledged_on,
                    ),
                    appointment_offered_on: date(
                        "appointment_offered_on",
                        "The host offered an appointment on",
                        r.appointment_offered_on,
                    ),
                    report_received_on: date(
                        "request_report_received_on",
                        "The host's report came back on",
                        r.report_received_on,
                    ),
                });
            }
        }
        forms
    }
}

fn consent_form(
    case: &AssessmentCase,
    consent: bool,
    refusal: bool,
    p: &Posted,
    e: &FormErrors,
    confirmer: &str,
) -> ConsentForm {
    let decisions: Vec<(&str, &str, Option<&str>)> = [
        ("given", "Consent given", None),
        (
            "refused",
            "Refused by the young person",
            Some("A competent young person's refusal: the assessment stops, and is offered again later"),
        ),
    ]
    .into_iter()
    .filter(|(v, _, _)| (*v == "given" && consent) || (*v == "refused" && refusal))
    .collect();
    let mut basis = ChoiceField::new("basis", "Who gave or refused consent", &CONSENT_BASES, p, e);
    basis.hint = Some(basis_hint(case.legal_status.as_deref()));
    let mut scope = ChoiceField::new("scope", "What the consent covers", &CONSENT_SCOPES, p, e);
    if p.all("scope").is_empty() {
        scope.choices[0].checked = true;
    }
    let mut confirmed_by = TextField::new("confirmed_by", "Social worker who confirmed it", p, e);
    if p.get("confirmed_by").is_empty() {
        confirmed_by.value = confirmer.to_string();
    }
    let mut reoffer_plan = TextArea::new(
        "reoffer_plan",
        "Plan to offer the assessment again (for a refusal)",
        p,
        e,
    );
    reoffer_plan.hint = None;
    ConsentForm {
        fixed_decision: decisions.first().map(|(v, _, _)| *v).unwrap_or("given"),
        decision: (decisions.len() > 1).then(|| ChoiceField::new("decision", "Decision", &decisions, p, e)),
        on: DateField::new("consent_on", "Date of the decision", p, e),
        basis,
        given_by: TextField::new("given_by", "Name of the person who decided", p, e),
        scope,
        birth_mother: forms::no_or_yes(
            "given_by_birth_mother",
            "Is the person who gave consent the child's birth mother?",
            "Needed to obtain the birth history",
            p,
            e,
        ),
        confirmed_by,
        competence_assessed_by: TextField::new("competence_assessed_by", "Who judged the young person competent", p, e)
            .hint("Needed when a young person under 16 decides"),
        reoffer_plan,
    }
}

fn done_message(query: &str) -> Option<&'static str> {
    let key = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned())?;
    DONE.iter().find(|(k, _)| *k == key).map(|(_, m)| *m)
}

async fn render(
    state: &AppState,
    access: &Access,
    req: &HttpRequest,
    id: String,
    failed: Option<(&str, &Posted)>,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let case = state
        .run_as(access, move |conn, ctx| {
            casework::assessment_case(conn, ctx, &id, ctx.today)
        })
        .await?;
    let meeting_actions = actions_on(state, access, &case).await?;
    let p = &access.principal;
    let forms = Forms::build(&case, &p.roles, failed, &errors, &p.display_name);
    let title = format!(
        "{} for {} {}",
        super::format::kind(&case.assessment.kind),
        case.child.given_name,
        case.child.family_name
    );
    let case_id = case.assessment.id.clone();
    let page = AssessmentPage {
        layout: Layout::signed_in(forms::title(&title, &errors), p, "/children/"),
        done: if errors.is_empty() {
            done_message(req.query_string())
        } else {
            None
        },
        errors,
        case,
        today: state.today(),
        forms,
        meeting_actions,
        may_close_actions: super::may(&p.roles, "POST", "/assurance/meetings/actions/x/close"),
        here: format!("/assessments/{}", case_id),
    };
    Ok(super::respond(req, status, page))
}

/// The meeting's actions on this assessment, read as the child's record reads them (under
/// the role that grants reading actions; none for a user without one).
async fn actions_on(
    state: &AppState,
    access: &Access,
    case: &AssessmentCase,
) -> AppResult<Vec<crate::service::meetings::ActionView>> {
    let action = crate::access::Action::MeetingActionRead;
    let Some(role) = crate::access::granting_role(&access.principal.roles, action) else {
        return Ok(Vec::new());
    };
    let as_reader = Access {
        role,
        action,
        ..access.clone()
    };
    let (child_id, assessment_id) = (case.child.id.clone(), case.assessment.id.clone());
    let all = state
        .run_as(&as_reader, move |conn, ctx| {
            crate::service::meetings::actions_of_child(conn, ctx, &child_id)
        })
        .await?;
    Ok(all.into_iter().filter(|a| a.assessment_id == assessment_id).collect())
}

pub async fn page(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "assessment")?;
    render(&state, &access, &req, id, None, FormErrors::new(), StatusCode::OK).await
}

/// A step to record: its form, how its fields map onto the service's, and the call.
struct Step<I> {
    form: &'static str,
    /// (service field, form field, id to link to).
    fields: &'static [(&'static str, &'static str, &'static str)],
    input: Option<I>,
    /// The form as posted, and what is wrong with it before the service is asked.
    posted: Posted,
    errors: FormErrors,
}

/// Records a step: invalid input or a refusal re-renders the page with the form as typed;
/// success answers 303 back to the assessment.
async fn submit<I, F>(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    assessment_id: String,
    step: Step<I>,
    call: F,
) -> AppResult<HttpResponse>
where
    I: Send + 'static,
    F: FnOnce(&mut DbConn, &DomainCtx, I) -> AppResult<()> + Send + 'static,
{
    let Step { posted, mut errors, .. } = step;
    let input = match step.input {
        Some(input) if errors.is_empty() => input,
        _ => {
            if errors.is_empty() {
                errors.add("form", &format!("{}-form", step.form), "Check the form and try again");
            }
            let failed = Some((step.form, &posted));
            return render(
                &state,
                &access,
                &req,
                assessment_id,
                failed,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state.run_as(&access, move |conn, ctx| call(conn, ctx, input)).await {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/assessments/{assessment_id}?done={}", step.form),
            ))
            .finish()),
        Err(e) => {
            let form_id = format!("{}-form", step.form);
            let Some((errors, status)) = forms::refusal(&e, step.fields, &form_id, |message| {
                format!("{}.", capitalised(message))
            }) else {
                return Err(e);
            };
            let failed = Some((step.form, &posted));
            render(&state, &access, &req, assessment_id, failed, errors, status).await
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn text_or(posted: &Posted, name: &str, errors: &mut FormErrors, missing: &str) -> String {
    let v = posted.get(name);
    if v.is_empty() {
        errors.add(name, name, missing);
    }
    v.to_string()
}

fn chosen(posted: &Posted, name: &str, errors: &mut FormErrors, missing: &str) -> String {
    let v = posted.get(name);
    if v.is_empty() {
        errors.add(name, &ChoiceField::target(name), missing);
    }
    v.to_string()
}

/// Reads the common parts of a step's post: the assessment id from the path, the form.
fn read(path: &str, body: &[u8]) -> AppResult<(String, Posted)> {
    Ok((extract::id(path, "assessment")?, Posted::parse(body)))
}

pub async fn notification(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, posted) = read(&path, &body)?;
    let mut errors = FormErrors::new();
    let received_on = forms::read_date(&posted, "received_on", "Date health was told", &mut errors);
    let version = posted.version();
    let step = Step {
        form: "notification",
        fields: &[("received_on", "received_on", "received_on-day")],
        input: received_on.map(|received_on| NotificationInput { received_on, version }),
        posted,
        errors,
    };
    let target = id.clone();
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::notify(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

pub async fn consent(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, posted) = read(&path, &body)?;
    let mut errors = FormErrors::new();
    let decision = posted.get("decision").to_string();
    if !["given", "refused"].contains(&decision.as_str()) {
        errors.add("decision", &ChoiceField::target("decision"), "Select the decision");
    }
    let on = forms::read_date(&posted, "consent_on", "Date of the decision", &mut errors);
    let basis = chosen(&posted, "basis", &mut errors, "Select who gave or refused consent");
    let given_by = text_or(
        &posted,
        "given_by",
        &mut errors,
        "Enter the name of the person who decided",
    );
    let scope = posted.all("scope");
    let refused = decision == "refused";
    let given_by_birth_mother = posted.get("given_by_birth_mother") == "yes";
    // The service's rule (`birth_history_allowed`), said here the way the page says things.
    if !basis.is_empty() && !crate::service::assessments::birth_history_allowed(&scope, &basis, given_by_birth_mother) {
        errors.add(
            "given_by_birth_mother",
            &ChoiceField::target("given_by_birth_mother"),
            "Birth history can only be obtained with the birth mother's consent: select yes if she gave it, or untick birth history",
        );
    }
    let input = on.map(|on| ConsentInput {
        given_on: (!refused).then_some(on),
        refused_on: refused.then_some(on),
        basis,
        given_by,
        scope: (!scope.is_empty()).then_some(scope),
        confirmed_by: posted.optional("confirmed_by"),
        competence_assessed_by: posted.optional("competence_assessed_by"),
        reoffer_plan: posted.optional("reoffer_plan"),
        given_by_birth_mother,
        version: posted.version(),
    });
    let step = Step {
        form: "consent",
        fields: &[
            ("decision", "decision", "decision-1"),
            ("given_on", "consent_on", "consent_on-day"),
            ("refused_on", "consent_on", "consent_on-day"),
            ("basis", "basis", "basis-1"),
            ("given_by", "given_by", "given_by"),
            ("scope", "scope", "scope-1"),
            (
                "given_by_birth_mother",
                "given_by_birth_mother",
                "given_by_birth_mother-1",
            ),
            ("confirmed_by", "confirmed_by", "confirmed_by"),
            (
                "competence_assessed_by",
                "competence_assessed_by",
                "competence_assessed_by",
            ),
            ("reoffer_plan", "reoffer_plan", "reoffer_plan"),
        ],
        input,
        posted,
        errors,
    };
    let target = id.clone();
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::consent(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

/// "14:30" (or "9:05") on a date in England, as the instant it names.
fn london_time(date: NaiveDate, time: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, &'static str> {
    let t = NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| "Enter a time like 14:30")?;
    London
        .from_local_datetime(&date.and_time(t))
        .single()
        .map(|dt| dt.fixed_offset())
        .ok_or("That time does not exist or happens twice on that day (the clocks change): choose another")
}

pub async fn book(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, posted) = read(&path, &body)?;
    let mut errors = FormErrors::new();
    let date = forms::read_date(&posted, "appointment_date", "Date of the appointment", &mut errors);
    let time = posted.get("appointment_time");
    let starts_at = match (date, time.is_empty()) {
        (_, true) => {
            errors.add(
                "appointment_time",
                "appointment_time",
                "Enter the time of the appointment",
            );
            None
        }
        (Some(d), false) => match london_time(d, time) {
            Ok(at) => Some(at),
            Err(message) => {
                errors.add("appointment_time", "appointment_time", message);
                None
            }
        },
        (None, false) => None,
    };
    let clinician = text_or(&posted, "clinician", &mut errors, "Enter the clinician");
    let location = text_or(&posted, "location", &mut errors, "Enter where the appointment is");
    let step = Step {
        form: "appointment",
        fields: &[
            ("starts_at", "appointment_date", "appointment_date-day"),
            ("clinician", "clinician", "clinician"),
            ("location", "location", "location"),
        ],
        input: starts_at.map(|starts_at| AppointmentInput {
            starts_at,
            clinician,
            location,
            booked_on: None,
            version: posted.version(),
        }),
        posted,
        errors,
    };
    let target = id.clone();
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::book(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

/// `/appointments/{id}/outcome`: the form names its assessment (to come back to).
pub async fn outcome(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let appointment = extract::id(&path, "appointment")?;
    let posted = Posted::parse(&body);
    let id = extract::id(posted.get("assessment"), "assessment")?;
    let mut errors = FormErrors::new();
    let outcome = chosen(&posted, "outcome", &mut errors, "Select what happened");
    let step = Step {
        form: "outcome",
        fields: &[("outcome", "outcome", "outcome-1")],
        input: Some(OutcomeInput {
            outcome,
            recorded_on: None,
            version: posted.version(),
        }),
        posted,
        errors,
    };
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::record_outcome(conn, ctx, &appointment, input).map(|_| ())
    })
    .await
}

pub async fn completion(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, posted) = read(&path, &body)?;
    let mut errors = FormErrors::new();
    let seen_on = forms::read_date(&posted, "seen_on", "Date the child was seen", &mut errors);
    let report = forms::read_optional_date(
        &posted,
        "report_received_on",
        "Date the report was received",
        &mut errors,
    );
    let step = Step {
        form: "completion",
        fields: &[
            ("seen_on", "seen_on", "seen_on-day"),
            ("report_received_on", "report_received_on", "report_received_on-day"),
            ("method", "method", "method-1"),
        ],
        input: seen_on.map(|seen_on| CompletionInput {
            seen_on,
            report_received_on: report,
            method: posted.optional("method"),
            version: posted.version(),
        }),
        posted,
        errors,
    };
    let target = id.clone();
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::complete(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

pub async fn reoffer(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, posted) = read(&path, &body)?;
    let mut errors = FormErrors::new();
    let offered_on = forms::read_date(&posted, "offered_on", "Date it was offered again", &mut errors);
    let step = Step {
        form: "reoffer",
        fields: &[("offered_on", "offered_on", "offered_on-day")],
        input: offered_on.map(|offered_on| ReofferInput {
            offered_on,
            version: posted.version(),
        }),
        posted,
        errors,
    };
    let target = id.clone();
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::reoffer(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

pub async fn not_required(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, posted) = read(&path, &body)?;
    let mut errors = FormErrors::new();
    let prior = forms::read_date(&posted, "prior_assessment_on", "Date of the assessment", &mut errors);
    let step = Step {
        form: "not_required",
        fields: &[("prior_assessment_on", "prior_assessment_on", "prior_assessment_on-day")],
        input: prior.map(|prior_assessment_on| NotRequiredInput {
            prior_assessment_on,
            decided_on: None,
            version: posted.version(),
        }),
        posted,
        errors,
    };
    let target = id.clone();
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::mark_not_required(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

pub async fn close(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (id, posted) = read(&path, &body)?;
    let mut errors = FormErrors::new();
    let closed_on = forms::read_date(&posted, "closed_on", "Date closed", &mut errors);
    let reason = text_or(&posted, "reason", &mut errors, "Enter why it is closed");
    let step = Step {
        form: "close",
        fields: &[
            ("closed_on", "closed_on", "closed_on-day"),
            ("reason", "reason", "reason"),
        ],
        input: closed_on.map(|closed_on| CloseInput {
            closed_on,
            reason,
            version: posted.version(),
        }),
        posted,
        errors,
    };
    let target = id.clone();
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::close(conn, ctx, &target, input).map(|_| ())
    })
    .await
}

/// `/out-of-area-requests/{id}`: the host's dates; the form names its assessment.
pub async fn request(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let request = extract::id(&path, "out-of-area request")?;
    let posted = Posted::parse(&body);
    let id = extract::id(posted.get("assessment"), "assessment")?;
    let mut errors = FormErrors::new();
    let mut date = |name: &str, what: &str| forms::read_optional_date(&posted, name, what, &mut errors);
    let requested_on = date("requested_on", "Date asked");
    let acknowledged_on = date("acknowledged_on", "Date acknowledged");
    let appointment_offered_on = date("appointment_offered_on", "Date an appointment was offered");
    let report_received_on = date("request_report_received_on", "Date the report came back");
    let version = posted.version();
    let step = Step {
        form: "request",
        fields: &[
            ("requested_on", "requested_on", "requested_on-day"),
            ("acknowledged_on", "acknowledged_on", "acknowledged_on-day"),
            (
                "appointment_offered_on",
                "appointment_offered_on",
                "appointment_offered_on-day",
            ),
            (
                "report_received_on",
                "request_report_received_on",
                "request_report_received_on-day",
            ),
        ],
        input: version.map(|version| OutOfAreaUpdate {
            version,
            requested_on,
            acknowledged_on,
            appointment_offered_on,
            report_received_on,
            host_icb_email: None,
        }),
        posted,
        errors,
    };
    submit(state, access, req, id, step, move |conn, ctx, input| {
        steps::update_out_of_area(conn, ctx, &request, input).map(|_| ())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appointment_times_are_read_in_england() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            london_time(d("2026-01-07"), "14:30").unwrap().to_rfc3339(),
            "2026-01-07T14:30:00+00:00"
        );
        assert_eq!(
            london_time(d("2026-07-07"), "09:05").unwrap().to_rfc3339(),
            "2026-07-07T09:05:00+01:00"
        );
        assert!(
            london_time(d("2026-03-29"), "01:30").is_err(),
            "the hour the clocks skip"
        );
        assert!(london_time(d("2026-01-07"), "2pm").is_err());
    }

    #[test]
    fn the_banner_says_only_what_it_knows() {
        assert_eq!(done_message("done=consent"), Some("Consent decision recorded"));
        assert_eq!(done_message("done=%3Cscript%3E"), None);
        assert_eq!(done_message(""), None);
    }

    #[test]
    fn consent_hint_follows_the_legal_status() {
        assert!(basis_hint(Some("V2")).contains("does not hold parental responsibility"));
        assert!(basis_hint(Some("C2")).contains("may consent"));
    }
}
