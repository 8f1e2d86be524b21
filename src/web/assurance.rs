//! `/assurance`: the weekly IHA assurance meeting's list, its CSV (`/assurance.csv`), its
//! print view (`/assurance/print`) and the changes since the previous meeting
//! (`/assurance/changes`).
//!
//! Rules:
//! - The list is the API's (`service::assurance`): the same scope, order, summary and
//!   filters, on the audit trail. Every view of it is chosen by its URL (meeting date,
//!   window, filters, page), so a view can be bookmarked and shared.
//! - The meeting date defaults to this week's Monday; the window to the configured weeks.
//! - A row names the child by initials and local id only (the page is shown on a screen in
//!   a meeting room); the CSV and the print view show the same.
//! - The print view has no navigation and prints the date and filters at the top; its
//!   table header repeats on every page (A4 landscape, `static/app.css`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use serde::de::IntoDeserializer;
use serde::Deserialize;

use super::format::{self, Tag};
use super::forms::{self, FormErrors, Posted, SelectField};
use super::layout::Layout;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::AppState;
use crate::service::assurance::{
    self, monday_of, AssuranceItem, AssuranceQuery, ListFilters, ListSort, MeetingChanges,
};
use crate::service::meeting_list::{self, RowExtras};
use crate::status::{Attribution, Blocker, Rag};

/// Rows a page.
pub const PAGE: usize = 50;

/// The meeting a URL asks for.
#[derive(Debug, Clone)]
pub struct View {
    pub as_of: NaiveDate,
    pub weeks: u32,
    pub filters: ListFilters,
    pub page: usize,
}

fn parse_code<T: for<'de> Deserialize<'de>>(text: &str) -> Option<T> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text)).ok()
}

/// A code from a fixed list, or an error naming its field.
fn pick<T: for<'de> Deserialize<'de>>(
    errors: &mut FormErrors,
    name: &str,
    text: Option<String>,
    what: &str,
) -> Option<T> {
    let found = parse_code(text.as_deref()?);
    if found.is_none() {
        errors.add(name, name, format!("Choose a {what} from the list"));
    }
    found
}

impl View {
    /// Reads the query string; each value that cannot be used is an error naming its field,
    /// and the list is shown without it.
    pub fn read(posted: &Posted, today: NaiveDate, default_weeks: u32, errors: &mut FormErrors) -> View {
        let as_of = match posted.get("as_of") {
            "" => monday_of(today),
            text => match text.parse::<NaiveDate>() {
                Ok(d) if crate::service::validate::as_of(Some(d), today).is_ok() => d,
                _ => {
                    errors.add("as_of", "as_of", "Meeting date must be a real date, like 2026-01-05");
                    monday_of(today)
                }
            },
        };
        let weeks = match posted.get("weeks") {
            "" => default_weeks,
            text => match text.parse::<u32>() {
                Ok(w) if (1..=104).contains(&w) => w,
                _ => {
                    errors.add("weeks", "weeks", "Weeks must be a whole number from 1 to 104");
                    default_weeks
                }
            },
        };
        let mut code = |name: &str, what: &str| -> Option<String> {
            let text = posted.get(name);
            if text.is_empty() {
                return None;
            }
            if text.len() > 40 || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                errors.add(name, name, format!("Choose a {what} from the list"));
                return None;
            }
            Some(text.to_string())
        };
        let la = code("la", "local authority");
        let rag = code("rag", "status");
        let blocker = code("blocker", "blocker");
        let attribution = code("attribution", "party");
        let out_of_area = code("out_of_area", "answer");
        let has_open_actions = code("has_open_actions", "answer");
        let likely_late = code("likely_late", "answer");
        let sort = code("sort", "order");
        let filters = ListFilters {
            la,
            rag: pick(errors, "rag", rag, "status"),
            blocker: pick(errors, "blocker", blocker, "blocker"),
            attribution: pick(errors, "attribution", attribution, "party"),
            out_of_area: match out_of_area.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                Some(_) => {
                    errors.add("out_of_area", "out_of_area", "Choose yes or no");
                    None
                }
                None => None,
            },
            has_open_actions: match has_open_actions.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                Some(_) => {
                    errors.add("has_open_actions", "has_open_actions", "Choose yes or no");
                    None
                }
                None => None,
            },
            likely_late: match likely_late.as_deref() {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            },
            sort: match sort.as_deref() {
                Some("likely_late") => ListSort::LikelyLate,
                _ => ListSort::Due,
            },
        };
        let page = posted
            .get("page")
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .unwrap_or(1);
        View {
            as_of,
            weeks,
            filters,
            page,
        }
    }

    /// The view's query string (without the page), as links and forms carry it.
    pub fn query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("as_of", &self.as_of.to_string());
        s.append_pair("weeks", &self.weeks.to_string());
        let f = &self.filters;
        if let Some(la) = &f.la {
            s.append_pair("la", la);
        }
        if let Some(r) = f.rag {
            s.append_pair("rag", r.as_str());
        }
        if let Some(b) = f.blocker {
            s.append_pair("blocker", &code_of(&b));
        }
        if let Some(a) = f.attribution {
            s.append_pair("attribution", &code_of(&a));
        }
        if let Some(o) = f.out_of_area {
            s.append_pair("out_of_area", if o { "yes" } else { "no" });
        }
        if let Some(o) = f.has_open_actions {
            s.append_pair("has_open_actions", if o { "yes" } else { "no" });
        }
        if let Some(o) = f.likely_late {
            s.append_pair("likely_late", if o { "yes" } else { "no" });
        }
        if f.sort == ListSort::LikelyLate {
            s.append_pair("sort", "likely_late");
        }
        s.finish()
    }

    pub fn link(&self, path: &str) -> String {
        format!("{path}?{}", self.query())
    }

    fn page_link(&self, page: usize) -> String {
        format!("/assurance?{}&page={page}", self.query())
    }

    /// The API's query for this view.
    fn api_query(&self, limit: Option<i64>, offset: Option<i64>) -> AssuranceQuery {
        AssuranceQuery {
            as_of: Some(self.as_of),
            weeks: Some(self.weeks),
            limit,
            offset,
            la: self.filters.la.clone(),
            rag: self.filters.rag,
            blocker: self.filters.blocker,
            attribution: self.filters.attribution,
            out_of_area: self.filters.out_of_area,
            has_open_actions: self.filters.has_open_actions,
            likely_late: self.filters.likely_late,
            sort: Some(self.filters.sort),
        }
    }

    /// The filters in words, for the print view's heading ("none" when there are none).
    pub fn filters_in_words(&self, la_name: &str) -> Vec<String> {
        let f = &self.filters;
        let mut words = Vec::new();
        if f.la.is_some() {
            words.push(format!("Local authority: {la_name}"));
        }
        if let Some(r) = &f.rag {
            words.push(format!("Status: {}", format::rag_short(r).text));
        }
        if let Some(b) = &f.blocker {
            words.push(format!("Waiting on: {}", format::blocker(b)));
        }
        if let Some(a) = &f.attribution {
            words.push(format!("Late step is: {}", format::attribution(a)));
        }
        if let Some(o) = f.out_of_area {
            words.push(format!("Out of area: {}", if o { "yes" } else { "no" }));
        }
        if let Some(o) = f.has_open_actions {
            words.push(format!("Open actions: {}", if o { "yes" } else { "no" }));
        }
        words
    }
}

/// A code as the API spells it (`host_provider`).
fn code_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One row as the meeting reads it.
pub struct Row {
    pub child_id: String,
    pub assessment_id: String,
    pub initials: String,
    pub local_id: String,
    pub la_name: String,
    pub day_zero: NaiveDate,
    pub due_on: NaiveDate,
    pub time_left: String,
    pub state: &'static str,
    pub rag: Tag,
    pub blocker: &'static str,
    pub attribution: &'static str,
    pub host: Option<String>,
    pub out_of_area: bool,
    pub escalation: Option<String>,
    pub open_actions: Vec<String>,
    /// The lateness forecast in words: ("62% likely late, expected 3 Mar 2027", driver).
    pub forecast: Option<(String, String)>,
}

impl Row {
    fn of(item: &AssuranceItem, extras: &RowExtras) -> Row {
        let a = &item.assessment;
        Row {
            child_id: item.child_id.clone(),
            assessment_id: a.id.clone(),
            initials: crate::escalation::initials(&item.given_name, &item.family_name),
            local_id: item.local_id.clone(),
            la_name: extras.la_name(&item.responsible_la),
            day_zero: a.clock_started_on,
            due_on: a.due_on,
            time_left: format::time_left(a),
            state: format::state(&a.state),
            rag: format::rag_short(&a.rag),
            blocker: format::blocker(&a.blocker),
            attribution: format::attribution(&a.breach_attribution),
            host: item.host_la.clone(),
            out_of_area: item.out_of_area,
            escalation: extras.escalation(&a.id),
            open_actions: extras.actions(&a.id),
            forecast: item.forecast.as_ref().map(format::forecast),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "assurance.html")]
pub struct MeetingPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub view: View,
    pub summary: assurance::AssuranceSummary,
    pub window_from: NaiveDate,
    pub rows: Vec<Row>,
    pub total: usize,
    pub first: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub as_of_field: forms::TextField,
    pub weeks_field: forms::TextField,
    pub selects: Vec<SelectField>,
    pub csv: String,
    pub print: String,
    pub changes: String,
    /// The meeting opened for this day, if any (and the user may read its minutes).
    pub meeting: Option<crate::service::meetings::MeetingView>,
    pub may_open: bool,
    pub chair: forms::TextField,
    pub attendees: forms::TextArea,
}

impl MeetingPage {
    /// The summary cards, in the order the meeting reads them.
    pub fn cards(&self) -> Vec<(&'static str, usize)> {
        let s = &self.summary;
        vec![
            ("Red", s.red),
            ("Amber", s.amber),
            ("Green", s.green),
            ("Open", s.open),
            ("Out of area", s.out_of_area),
        ]
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "assurance_print.html")]
pub struct PrintPage {
    pub title: String,
    pub view: View,
    pub filters: Vec<String>,
    pub summary: assurance::AssuranceSummary,
    pub window_from: NaiveDate,
    pub rows: Vec<Row>,
    pub printed_on: NaiveDate,
}

#[derive(Template, WebTemplate)]
#[template(path = "assurance_changes.html")]
pub struct ChangesPage {
    pub layout: Layout,
    pub view: View,
    pub changes: MeetingChanges,
    pub back: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

/// One list of changes as the page shows it: its id, heading, the items on this page,
/// how many it holds in all, the number of the first shown, and what to say when empty.
pub struct ChangeSection<'a> {
    pub key: &'static str,
    pub heading: &'static str,
    pub items: &'a [assurance::ChangedItem],
    pub total: usize,
    pub first: usize,
    pub empty: &'static str,
}

impl ChangesPage {
    /// Each list's items on this page: every list is paged alike, [`PAGE`] at a time.
    pub fn sections(&self) -> Vec<ChangeSection<'_>> {
        change_sections(&self.changes, self.view.page)
    }

    /// Whether a list has items after this page.
    fn more(changes: &MeetingChanges, page: usize) -> bool {
        [&changes.new, &changes.rag_changed, &changes.completed]
            .iter()
            .any(|list| list.len() > page * PAGE)
    }
}

/// The lists of changes on page `page` (from 1).
fn change_sections(c: &MeetingChanges, page: usize) -> Vec<ChangeSection<'_>> {
    let offset = (page - 1) * PAGE;
    [
        ("new", "New to the list", &c.new, "No child is new to the list."),
        ("rag", "Status changed", &c.rag_changed, "No status changed."),
        ("completed", "Completed", &c.completed, "Nothing was completed."),
    ]
    .into_iter()
    .map(|(key, heading, all, empty)| ChangeSection {
        key,
        heading,
        items: all.get(offset..).map_or(&[][..], |rest| &rest[..rest.len().min(PAGE)]),
        total: all.len(),
        first: offset + 1,
        empty,
    })
    .collect()
}

fn select(name: &str, label: &str, options: Vec<(String, String)>, chosen: &str) -> SelectField {
    let mut all = vec![(String::new(), "All".to_string(), chosen.is_empty())];
    all.extend(options.into_iter().map(|(v, l)| {
        let selected = v == chosen;
        (v, l, selected)
    }));
    SelectField {
        name: name.to_string(),
        label: label.to_string(),
        hint: None,
        options: all,
        error: None,
    }
}

fn filter_fields(view: &View, las: &[(String, String)], posted: &Posted, errors: &FormErrors) -> Vec<SelectField> {
    let f = &view.filters;
    let words = |pairs: Vec<(&str, &str)>| pairs.into_iter().map(|(v, l)| (v.to_string(), l.to_string())).collect();
    let mut fields = vec![
        select("la", "Local authority", las.to_vec(), f.la.as_deref().unwrap_or("")),
        select(
            "rag",
            "Status",
            Rag::ALL
                .iter()
                .rev()
                .map(|r| (r.as_str().to_string(), format::rag_short(r).text.to_string()))
                .collect(),
            f.rag.map(Rag::as_str).unwrap_or(""),
        ),
        select(
            "blocker",
            "Waiting on",
            [
                Blocker::Notification,
                Blocker::Consent,
                Blocker::Booking,
                Blocker::Appointment,
                Blocker::Report,
                Blocker::HostProvider,
                Blocker::Refused,
                Blocker::None,
            ]
            .iter()
            .map(|b| (code_of(b), format::blocker(b).to_string()))
            .collect(),
            &f.blocker.as_ref().map(code_of).unwrap_or_default(),
        ),
        select(
            "attribution",
            "Whose step is late",
            [
                Attribution::LocalAuthority,
                Attribution::Health,
                Attribution::HostProvider,
                Attribution::None,
            ]
            .iter()
            .map(|a| (code_of(a), format::attribution(a).to_string()))
            .collect(),
            &f.attribution.as_ref().map(code_of).unwrap_or_default(),
        ),
        select(
            "out_of_area",
            "Out of area",
            words(vec![("yes", "Out of area"), ("no", "In area")]),
            match f.out_of_area {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
        ),
        select(
            "has_open_actions",
            "Open actions",
            words(vec![("yes", "With open actions"), ("no", "Without open actions")]),
            match f.has_open_actions {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
        ),
        select(
            "likely_late",
            "Forecast",
            words(vec![("yes", "Likely to be late"), ("no", "Not likely to be late")]),
            match f.likely_late {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
        ),
        select(
            "sort",
            "Order",
            words(vec![("likely_late", "Most likely to be late first")]),
            if f.sort == ListSort::LikelyLate {
                "likely_late"
            } else {
                ""
            },
        ),
    ];
    for field in &mut fields {
        field.error = errors.message(&field.name).map(str::to_string);
        if field.error.is_some() {
            let chosen = posted.get(&field.name).to_string();
            field.options.push((chosen.clone(), chosen, true));
            field.options[0].2 = false;
        }
    }
    fields
}

fn read_view(state: &AppState, req: &HttpRequest, errors: &mut FormErrors) -> (Posted, View) {
    let posted = Posted::parse(req.query_string().as_bytes());
    let view = View::read(&posted, state.today(), state.settings.assurance.default_weeks, errors);
    (posted, view)
}

pub async fn page(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::new();
    let (posted, view) = read_view(&state, &req, &mut errors);
    let default_weeks = state.settings.assurance.default_weeks;
    let offset = (view.page - 1) * PAGE;
    let q = view.api_query(Some(PAGE as i64), Some(offset as i64));
    let as_of = view.as_of;
    let (list, extras, meeting) = state
        .run_as(&access, move |conn, ctx| {
            let list = assurance::iha_list(conn, ctx, q, default_weeks)?;
            let ids: Vec<String> = list.items.iter().map(|i| i.assessment.id.clone()).collect();
            let extras = meeting_list::row_extras(conn, ctx, &ids, as_of)?;
            let meeting = crate::service::meetings::meeting_on(conn, as_of)?;
            Ok((list, extras, meeting))
        })
        .await?;
    let roles = &access.principal.roles;
    let may_open = super::may(roles, "POST", "/assurance/meetings");
    let may_read_minutes = super::may(roles, "GET", "/assurance/meetings/x");
    let rows: Vec<Row> = list.items.iter().map(|i| Row::of(i, &extras)).collect();
    let more = list.total > offset + rows.len();
    let shown = |field: &str, value: String| {
        if errors.message(field).is_some() {
            posted.get(field).to_string()
        } else {
            value
        }
    };
    let as_of_posted = Posted::parse(
        form_urlencoded::Serializer::new(String::new())
            .append_pair("as_of", &shown("as_of", view.as_of.to_string()))
            .append_pair("weeks", &shown("weeks", view.weeks.to_string()))
            .finish()
            .as_bytes(),
    );
    let page = MeetingPage {
        layout: Layout::signed_in(
            forms::title("IHA assurance meeting", &errors),
            &access.principal,
            req.path(),
        ),
        as_of_field: forms::TextField::new("as_of", "Meeting date", &as_of_posted, &errors)
            .hint("YYYY-MM-DD, for example 2026-01-05")
            .width("nhsuk-input--width-10"),
        weeks_field: forms::TextField::new("weeks", "Weeks of newly looked-after children", &as_of_posted, &errors)
            .kind("number")
            .width("nhsuk-input--width-3"),
        selects: filter_fields(&view, &extras.authorities, &posted, &errors),
        summary: list.summary,
        window_from: list.window_from,
        total: list.total,
        first: offset + 1,
        previous: (view.page > 1).then(|| view.page_link(view.page - 1)),
        next: more.then(|| view.page_link(view.page + 1)),
        meeting: meeting.filter(|_| may_read_minutes),
        may_open,
        chair: forms::TextField::new("chair", "Chair", &Posted::default(), &FormErrors::new()),
        attendees: forms::TextArea::new("attendees", "Who attended", &Posted::default(), &FormErrors::new()),
        csv: view.link("/assurance.csv"),
        print: view.link("/assurance/print"),
        changes: view.link("/assurance/changes"),
        rows,
        view,
        errors,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}

/// The whole filtered list with its extras (CSV and print).
async fn whole(
    state: &web::Data<AppState>,
    access: &Access,
    view: &View,
) -> AppResult<(assurance::AssuranceList, RowExtras)> {
    let (as_of, weeks, filters) = (view.as_of, view.weeks, view.filters.clone());
    state
        .run_as(access, move |conn, ctx| {
            let list = assurance::whole_filtered_list(conn, ctx, as_of, weeks, &filters)?;
            let ids: Vec<String> = list.items.iter().map(|i| i.assessment.id.clone()).collect();
            let extras = meeting_list::row_extras(conn, ctx, &ids, as_of)?;
            Ok((list, extras))
        })
        .await
}

/// A view whose URL cannot be read is refused as a bad request (these are not forms).
fn refuse(errors: &FormErrors) -> AppResult<()> {
    match errors.items.first() {
        Some(e) => Err(crate::error::AppError::BadRequest {
            detail: e.message.clone(),
            errors: Vec::new(),
        }),
        None => Ok(()),
    }
}

pub async fn csv(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::new();
    let (_, view) = read_view(&state, &req, &mut errors);
    refuse(&errors)?;
    let (list, extras) = whole(&state, &access, &view).await?;
    let rows: Vec<Row> = list.items.iter().map(|i| Row::of(i, &extras)).collect();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"assurance-{}.csv\"", view.as_of),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(csv_text(&rows)))
}

/// The CSV: a header line, then one line a row, fields quoted where they need it and any
/// leading formula character neutralised (spreadsheets would run it).
pub fn csv_text(rows: &[Row]) -> String {
    let mut out = String::with_capacity(rows.len() * 160 + 200);
    out.push_str(
        "local_id,initials,local_authority,day_0,due_on,time_left,state,rag,waiting_on,late_step,out_of_area,host,escalation,open_actions\r\n",
    );
    for r in rows {
        let fields = [
            r.local_id.clone(),
            r.initials.clone(),
            r.la_name.clone(),
            r.day_zero.to_string(),
            r.due_on.to_string(),
            r.time_left.clone(),
            r.state.to_string(),
            r.rag.text.to_string(),
            r.blocker.to_string(),
            r.attribution.to_string(),
            if r.out_of_area { "yes" } else { "no" }.to_string(),
            r.host.clone().unwrap_or_default(),
            r.escalation.clone().unwrap_or_default(),
            r.open_actions.join("; "),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

pub async fn print(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::new();
    let (_, view) = read_view(&state, &req, &mut errors);
    refuse(&errors)?;
    let (list, extras) = whole(&state, &access, &view).await?;
    let rows: Vec<Row> = list.items.iter().map(|i| Row::of(i, &extras)).collect();
    let la_name = view
        .filters
        .la
        .as_deref()
        .map(|c| extras.la_name(c))
        .unwrap_or_default();
    let page = PrintPage {
        title: format!("IHA assurance meeting, {}", format::date(&view.as_of)),
        filters: view.filters_in_words(&la_name),
        summary: list.summary,
        window_from: list.window_from,
        rows,
        printed_on: state.today(),
        view,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}

pub async fn changes(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::new();
    let (_, view) = read_view(&state, &req, &mut errors);
    refuse(&errors)?;
    let (as_of, weeks, filters) = (view.as_of, view.weeks, view.filters.clone());
    let changes = state
        .run_as(&access, move |conn, ctx| {
            assurance::changes_since_last_meeting(conn, ctx, as_of, weeks, &filters)
        })
        .await?;
    let link = |page: usize| format!("{}&page={page}", view.link("/assurance/changes"));
    let page = ChangesPage {
        layout: Layout::signed_in("Changes since the last meeting", &access.principal, req.path()),
        back: view.link("/assurance"),
        previous: (view.page > 1).then(|| link(view.page - 1)),
        next: ChangesPage::more(&changes, view.page).then(|| link(view.page + 1)),
        changes,
        view,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_meeting_is_this_weeks_monday() {
        assert_eq!(monday_of(d("2026-01-05")), d("2026-01-05"));
        assert_eq!(monday_of(d("2026-01-11")), d("2026-01-05"));
        assert_eq!(monday_of(d("2026-01-07")), d("2026-01-05"));
    }

    fn changed(n: usize) -> Vec<assurance::ChangedItem> {
        (0..n)
            .map(|i| assurance::ChangedItem {
                assessment_id: format!("a{i}"),
                child_id: format!("c{i}"),
                local_id: format!("L{i:04}"),
                initials: "A.B.".into(),
                responsible_la: "SOM".into(),
                rag: Rag::Red,
                previous_rag: None,
                completed_on: None,
            })
            .collect()
    }

    #[test]
    fn the_changes_since_the_last_meeting_are_paged_alike_in_every_list() {
        let changes = MeetingChanges {
            as_of: d("2026-01-05"),
            since: d("2025-12-29"),
            new: changed(PAGE * 2 + 3),
            rag_changed: changed(4),
            completed: Vec::new(),
        };
        let third = change_sections(&changes, 3);
        let shown: Vec<(usize, usize, usize)> = third.iter().map(|s| (s.items.len(), s.total, s.first)).collect();
        assert_eq!(
            shown,
            [
                (3, PAGE * 2 + 3, PAGE * 2 + 1),
                (0, 4, PAGE * 2 + 1),
                (0, 0, PAGE * 2 + 1)
            ]
        );
        assert_eq!(third[0].items[0].local_id, format!("L{:04}", PAGE * 2));
        assert_eq!(change_sections(&changes, 1)[1].items.len(), 4);
        assert!(ChangesPage::more(&changes, 2));
        assert!(!ChangesPage::more(&changes, 3));
        assert!(change_sections(&changes, 9).iter().all(|s| s.items.is_empty()));
    }

    #[test]
    fn a_view_round_trips_through_its_url() {
        let mut errors = FormErrors::new();
        let posted = Posted::parse(b"as_of=2026-01-12&weeks=4&la=SOM&rag=red&blocker=host_provider&attribution=local_authority&out_of_area=yes");
        let view = View::read(&posted, d("2026-01-14"), 6, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(view.filters.blocker, Some(Blocker::HostProvider));
        assert_eq!(view.filters.attribution, Some(Attribution::LocalAuthority));
        let again = View::read(&Posted::parse(view.query().as_bytes()), d("2026-01-14"), 6, &mut errors);
        assert_eq!(again.filters, view.filters);
        assert_eq!((again.as_of, again.weeks), (d("2026-01-12"), 4));
    }

    #[test]
    fn a_value_not_on_the_list_is_an_error_naming_its_field() {
        let mut errors = FormErrors::new();
        let view = View::read(
            &Posted::parse(b"rag=purple&weeks=0&as_of=2026-02-30"),
            d("2026-01-14"),
            6,
            &mut errors,
        );
        for field in ["rag", "weeks", "as_of"] {
            assert!(errors.message(field).is_some(), "{field}");
        }
        assert_eq!((view.as_of, view.weeks, view.filters.rag), (d("2026-01-12"), 6, None));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
