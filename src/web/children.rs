//! `/children?q=`: finding a child by name, local id or NHS number, a page at a time.
//!
//! Rules:
//! - The search is the API's (`service::children::search`): the same scope, the same
//!   matching, and it is on the audit trail.
//! - `PAGE` children a page, in name order; `page` counts from 1.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{FormErrors, Posted, TextField};
use super::layout::Layout;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::AppState;
use crate::service::children;
use crate::service::views::ChildSummary;

pub const PAGE: usize = 25;
const QUERY_MAX: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "children.html")]
pub struct SearchPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub q: TextField,
    pub searched: bool,
    pub children: Vec<ChildSummary>,
    pub page: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
}

pub async fn search(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let posted = Posted::parse(req.query_string().as_bytes());
    let text = posted.get("q").to_string();
    let page = posted
        .get("page")
        .parse::<usize>()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let mut errors = FormErrors::new();
    if text.chars().count() > QUERY_MAX {
        errors.add("q", "q", format!("Search for at most {QUERY_MAX} characters"));
    }
    let mut found = Vec::new();
    let mut more = false;
    if errors.is_empty() {
        let query = text.clone();
        let offset = (page - 1) * PAGE;
        let result = state
            .run_as(&access, move |conn, ctx| {
                children::search(conn, ctx, &query, PAGE, offset)
            })
            .await?;
        more = result.total > offset + result.items.len();
        found = result.items;
    }
    let link = |p: usize| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !text.is_empty() {
            s.append_pair("q", &text);
        }
        s.append_pair("page", &p.to_string());
        format!("/children?{}", s.finish())
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = SearchPage {
        layout: Layout::signed_in(
            super::forms::title("Find a child", &errors),
            &access.principal,
            req.path(),
        ),
        q: TextField::new("q", "Name, local id or NHS number", &posted, &errors)
            .kind("search")
            .hint("For example, Smith, A1234 or 999 000 0018"),
        searched: !text.is_empty(),
        children: found,
        previous: (page > 1).then(|| link(page - 1)),
        next: more.then(|| link(page + 1)),
        page,
        errors,
    };
    Ok(super::respond(&req, status, page))
}
