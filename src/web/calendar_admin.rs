//! `/admin/calendar`: importing GOV.UK's `bank-holidays.json` in two steps. The admin
//! pastes the file and asks for a preview (`POST /admin/calendar/preview`): the holidays it
//! adds, removes or renames in the years it covers, and the open IHA due dates that would
//! move (counts by move, naming no child: an admin may not read children's records). Nothing
//! is written until they confirm (`POST /admin/calendar`), which imports the same text,
//! audited, and puts the new calendar in force at once.
//!
//! Why a pasted text area and not a file upload: a page form's CSRF token is checked by the
//! authorisation middleware (`http::auth::form_csrf`) before any handler runs, from an
//! url-encoded body. A file input needs `multipart/form-data`, which would put a multipart
//! parser on that security path, before the user is known, for a text file of about 20 kB
//! that fits `max_body_bytes` url-encoded. Pasting keeps one body format and one CSRF check
//! for every page; the confirm step carries the previewed text back in a hidden field, and
//! the import reads and checks it again, so what is imported is what was previewed. (The
//! SSDA903 files, larger and several, are uploaded since: `web::import_admin`, whose
//! multipart body the middleware reads with `http::multipart`.)
//!
//! Rules: every route is in `access::PAGES` under `calendar_import` (admins), and only the
//! ICB's administrators, who oversee the deployment, may preview or import (403 otherwise,
//! `calendar_store::may_import`): the calendar moves every authority's due dates.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{self, FormErrors, Posted, TextArea};
use super::layout::Layout;
use super::query_value;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::AppState;
use crate::service::calendar_store::{self, CalendarPreview, HolidayChange};

/// The pasted file's field.
const FILE: &str = "file";

#[derive(Template, WebTemplate)]
#[template(path = "admin_calendar.html")]
pub struct CalendarPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub done: bool,
    pub file: TextArea,
    /// The previewed changes, with the text to confirm.
    pub preview: Option<(CalendarPreview, String)>,
    /// The years the calendar in force has published data for.
    pub data_years: Option<(i32, i32)>,
}

impl CalendarPage {
    /// The previewed holiday changes, one table each: (caption, rows).
    pub fn change_tables(&self) -> Vec<(&'static str, &[HolidayChange])> {
        let Some((p, _)) = &self.preview else {
            return Vec::new();
        };
        vec![
            ("Holidays added", p.added.as_slice()),
            ("Holidays removed", p.removed.as_slice()),
            ("Holidays renamed (the new name)", p.renamed.as_slice()),
        ]
    }
}

fn draw(
    state: &AppState,
    access: &Access,
    req: &HttpRequest,
    posted: &Posted,
    errors: FormErrors,
    preview: Option<(CalendarPreview, String)>,
) -> CalendarPage {
    let title = match &preview {
        Some(_) => "Check the bank holiday changes",
        None => "Bank holidays",
    };
    let mut file = TextArea::new(FILE, "Contents of bank-holidays.json", posted, &errors);
    file.hint = Some(
        "Open https://www.gov.uk/bank-holidays.json, copy all of it and paste it here. Only England and Wales is read."
            .into(),
    );
    CalendarPage {
        layout: Layout::signed_in(forms::title(title, &errors), &access.principal, req.path()),
        done: query_value(req, "done") == "imported",
        errors,
        file,
        preview,
        data_years: state.calendar().data_years(),
    }
}

pub async fn page(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let page = draw(&state, &access, &req, &Posted::default(), FormErrors::new(), None);
    Ok(super::respond(&req, StatusCode::OK, page))
}

/// The pasted text, or the form again asking for it.
fn pasted(posted: &Posted) -> Option<String> {
    posted.optional(FILE).filter(|t| !t.trim().is_empty())
}

pub async fn preview(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let Some(text) = pasted(&posted) else {
        let e = crate::error::AppError::invalid(FILE, "paste the contents of bank-holidays.json");
        return refused(&state, &access, &req, posted, e);
    };
    let checked = text.clone();
    let result = state
        .run_reaching(&access, move |conn, ctx, reach| {
            calendar_store::preview_for(conn, ctx, reach, &checked)
        })
        .await;
    match result {
        Ok(preview) => {
            let page = draw(&state, &access, &req, &posted, FormErrors::new(), Some((preview, text)));
            Ok(super::respond(&req, StatusCode::OK, page))
        }
        Err(e) => refused(&state, &access, &req, posted, e),
    }
}

pub async fn import(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let Some(text) = pasted(&posted) else {
        let e = crate::error::AppError::invalid(FILE, "paste the contents of bank-holidays.json");
        return refused(&state, &access, &req, posted, e);
    };
    let result = state
        .run_reaching(&access, move |conn, ctx, reach| {
            calendar_store::import_for(conn, ctx, reach, &text)
        })
        .await;
    match result {
        Ok(_) => {
            state.reload_calendar().await?;
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/calendar?done=imported"))
                .finish())
        }
        Err(e) => refused(&state, &access, &req, posted, e),
    }
}

/// The form again with the file's error (422), or the refusal as it is (403 and the like).
fn refused(
    state: &AppState,
    access: &Access,
    req: &HttpRequest,
    posted: Posted,
    error: crate::error::AppError,
) -> AppResult<HttpResponse> {
    let fields = [(FILE, FILE, FILE)];
    let Some((errors, status)) = forms::refusal(&error, &fields, "calendar-form", |m| m.to_string()) else {
        return Err(error);
    };
    let page = draw(state, access, req, &posted, errors, None);
    Ok(super::respond(req, status, page))
}
