//! `/escalations`: the open escalations of the children in the user's scope, highest level
//! first, by rule, with what became of each recipient's mail; filtered by local authority
//! and rule in the URL. `/outbox`: the outbox's dead letters, each with a requeue button
//! (`POST /outbox/{id}/requeue`), for admins; shown on `/escalations` too to a user who
//! holds both roles.
//!
//! Rules:
//! - The lists are the API's (`service::escalations::list_open`, `service::outbox::list`):
//!   the same scope, filters, paging and audit. A local authority's admin sees only the mail
//!   about its own children; an ICB's admin all in the ICB, and the weekly pack.
//! - A requeue posts the session's CSRF token, is audited by the service and answers 303
//!   back to the page it came from (`?done=requeued`).
//! - A filter that cannot be read is left out and named in an error summary (the page
//!   still answers 200 with the unfiltered list, like the meeting's list).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{FormErrors, Posted, SelectField};
use super::layout::Layout;
use super::query_value;
use crate::error::{AppError, AppResult};
use crate::http::auth::Access;
use crate::http::{extract, AppState};
use crate::paging::Page;
use crate::service::escalations::{self, EscalationView, OpenFilter};
use crate::service::meeting_list;
use crate::service::outbox::{self, OutboxQuery, OutboxView};

const PER_PAGE: usize = 50;

#[derive(Template, WebTemplate)]
#[template(path = "escalations.html")]
pub struct EscalationsPage {
    pub layout: Layout,
    pub errors: FormErrors,
    /// The open escalations (None for a user who may not read them).
    pub open: Option<Page<EscalationView>>,
    pub la: SelectField,
    pub rule: SelectField,
    /// The dead letters (None for a user who is not an admin).
    pub dead: Option<Page<OutboxView>>,
    /// Where a requeue form comes back to.
    pub here: String,
    pub done: bool,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// Local authority names by code.
    names: Vec<(String, String)>,
}

impl EscalationsPage {
    pub fn la_name(&self, code: &Option<String>) -> String {
        let code = code.as_deref().unwrap_or("");
        self.names
            .iter()
            .find(|(c, _)| c == code)
            .map_or_else(|| code.to_string(), |(_, n)| n.clone())
    }
}

/// A delivery status in words.
pub fn status_words(status: &str) -> &'static str {
    match status {
        outbox::PENDING => "Waiting to be sent",
        outbox::SENDING => "Being sent",
        outbox::SENT => "Sent",
        outbox::DEAD => "Failed (dead letter)",
        _ => "Not sent: no usable address",
    }
}

/// The NHS tag colour of a delivery status.
pub fn status_tag(status: &str) -> &'static str {
    match status {
        outbox::SENT => "nhsuk-tag--green",
        outbox::PENDING | outbox::SENDING => "nhsuk-tag--blue",
        _ => "nhsuk-tag--red",
    }
}

fn choose(name: &str, label: &str, options: Vec<(String, String)>, chosen: &str) -> SelectField {
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

/// `/escalations` (and `/outbox`, the same page as admins see it).
pub async fn page(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let roles = access.principal.roles.clone();
    let may_read = super::may(&roles, "GET", "/escalations");
    let may_requeue = super::may(&roles, "GET", "/outbox");
    let (la, rule) = (query_value(&req, "la"), query_value(&req, "rule"));
    let offset: usize = query_value(&req, "offset").parse().unwrap_or(0);
    let mut errors = FormErrors::new();
    let filter = match escalations_filter(&state, &la, &rule) {
        Ok(f) => f,
        Err(AppError::Invalid(list)) => {
            for e in list {
                errors.add(&e.field, &e.field, e.message);
            }
            OpenFilter::default()
        }
        Err(e) => return Err(e),
    };
    let today = state.today();
    let (open, dead, names) = state
        .run_reaching(&access, move |conn, ctx, reach| {
            let names = meeting_list::row_extras(conn, ctx, &[], today)?.authorities;
            let open = if may_read {
                Some(escalations::list_open(conn, ctx, &filter, PER_PAGE, offset)?)
            } else {
                None
            };
            let dead = if may_requeue {
                let q = OutboxQuery {
                    status: Some(outbox::DEAD.into()),
                    limit: Some(200),
                    offset: None,
                };
                Some(outbox::list(conn, &q, reach)?)
            } else {
                None
            };
            Ok((open, dead, names))
        })
        .await?;
    let rules: Vec<(String, String)> = state
        .ladder
        .rules
        .iter()
        .map(|r| (r.id.clone(), r.id.replace('_', " ")))
        .collect();
    let link = |to: usize| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !la.is_empty() {
            q.append_pair("la", &la);
        }
        if !rule.is_empty() {
            q.append_pair("rule", &rule);
        }
        q.append_pair("offset", &to.to_string());
        format!("/escalations?{}", q.finish())
    };
    let total = open.as_ref().map_or(0, |p| p.total);
    let previous = (offset > 0).then(|| link(offset.saturating_sub(PER_PAGE)));
    let next = (offset + PER_PAGE < total).then(|| link(offset + PER_PAGE));
    let title = if may_read { "Escalations" } else { "Undelivered mail" };
    // 200 with the summary, like the meeting's list: the page still shows the list.
    let status = StatusCode::OK;
    let page = EscalationsPage {
        layout: Layout::signed_in(super::forms::title(title, &errors), &access.principal, req.path()),
        la: choose("la", "Local authority", names.clone(), &la),
        rule: choose("rule", "Rule", rules, &rule),
        errors,
        open,
        dead,
        here: req.path().to_string(),
        done: query_value(&req, "done") == "requeued",
        previous,
        next,
        names,
    };
    Ok(super::respond(&req, status, page))
}

fn escalations_filter(state: &AppState, la: &str, rule: &str) -> AppResult<OpenFilter> {
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    crate::http::escalations::open_filter(&state.ladder, some(la).as_deref(), some(rule).as_deref())
}

/// Requeues one dead letter and goes back to the page it was on.
pub async fn requeue(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "message")?;
    let posted = Posted::parse(&body);
    state
        .run_reaching(&access, move |conn, ctx, reach| {
            outbox::requeue(conn, &ctx.actor, &id, reach)
        })
        .await?;
    let back = match posted.get("next") {
        "/escalations" => "/escalations?done=requeued",
        _ => "/outbox?done=requeued",
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, back))
        .finish())
}
