//! The sign-in page (the form's handling, sign-in and sign-out, is in `http::pages`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{FormErrors, TextField};
use super::layout::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub csrf: String,
    /// Where the form posts: `/login`, carrying the page to return to.
    pub action: String,
    pub email: TextField,
    pub password: TextField,
}

/// The sign-in form, with a form-wide message after a refused attempt (the email typed is
/// kept; the password never is).
pub fn form(req: &HttpRequest, status: StatusCode, csrf: &str, email: &str, message: Option<&str>) -> HttpResponse {
    let errors = message.map(FormErrors::whole_form).unwrap_or_default();
    let next = super::safe_next(next_param(req).as_deref());
    let action = if next == "/" {
        "/login".to_string()
    } else {
        format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    };
    LoginPage {
        layout: Layout::public(super::forms::title("Sign in", &errors)),
        csrf: csrf.to_string(),
        action,
        email: TextField {
            name: "email".into(),
            label: "Email address".into(),
            // Typed text is kept, but never a control character (a NUL has no place in a page).
            value: email.chars().filter(|c| !c.is_control()).collect(),
            input_type: "email",
            autocomplete: Some("username"),
            ..TextField::default()
        },
        password: TextField {
            name: "password".into(),
            label: "Password".into(),
            input_type: "password",
            autocomplete: Some("current-password"),
            ..TextField::default()
        },
        errors,
    }
    .customize()
    .with_status(status)
    .respond_to(req)
    .map_into_boxed_body()
}

/// `next` from the query string, if any.
pub fn next_param(req: &HttpRequest) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
}

/// A sign-in form whose token did not match: start again.
pub fn expired(req: &HttpRequest) -> HttpResponse {
    let (heading, paragraphs) = (
        "Sign in".to_string(),
        vec!["The form has expired. Sign in again.".to_string()],
    );
    super::errors::ErrorPage {
        layout: Layout::public(heading.clone()),
        heading,
        paragraphs,
    }
    .customize()
    .with_status(StatusCode::FORBIDDEN)
    .respond_to(req)
    .map_into_boxed_body()
}
