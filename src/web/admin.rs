//! `/admin`: the admin console. Users (list, add with roles and organisation, disable,
//! reset password, unlock), organisations (list, add, the local authority team manager's
//! address, a host area's ICB Designated Nurse address), API tokens (list, issue, revoke), and the audit trail (verify, its head, and
//! the export by date range).
//!
//! Rules:
//! - Each page is in `access::PAGES` under the action of the JSON admin API it stands
//!   beside (`user_admin`, `token_admin`, `audit_export`), so only admin roles reach it.
//! - Everything is within the admin's reach (`service::reach`, `service::accounts`): a
//!   local authority's admin sees and manages only its own staff and tokens; an ICB's
//!   admin everything in the ICB, and only they add organisations.
//! - A generated password or a new token is shown once, on the page answering the post
//!   (never in a URL, never stored in clear); other changes answer 303 back to their list
//!   with a banner (`?done=`). Invalid input shows the list again with the error summary,
//!   inline errors and the values kept (422). Every change is audited by the service.
//! - The audit export is the API's (`GET /api/v1/audit/export`, scoped by reach): the form
//!   asks for it with the session cookie.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{self, ChoiceField, FormErrors, Posted, SelectField, TextField};
use super::layout::{role_name, Layout};
use super::query_value;
use crate::access::Role;
use crate::auth::{NewOrganisation, TokenView, UserView};
use crate::error::{AppError, AppResult};
use crate::http::auth::Access;
use crate::http::{extract, AppState};
use crate::service::accounts::{self, AuditStatus, NewAccount, OrganisationRow};

/// The console's sections, in the order the overview lists them: (path, title, what).
const SECTIONS: [(&str, &str, &str); 7] = [
    (
        "/admin/users",
        "Users",
        "Add accounts, disable them, reset passwords, unlock",
    ),
    (
        "/admin/organisations",
        "Organisations",
        "Local authorities, providers, the team manager's and host ICB Designated Nurse addresses",
    ),
    ("/admin/tokens", "API tokens", "Issue and revoke integration tokens"),
    (
        "/outbox",
        "Undelivered mail",
        "Requeue escalation mail the relay refused",
    ),
    ("/admin/audit", "Audit trail", "Check the chain and export entries"),
    (
        "/admin/calendar",
        "Bank holidays",
        "Import GOV.UK's bank holidays: see what changes, then confirm",
    ),
    (
        "/admin/import",
        "SSDA903 import",
        "Upload a local authority's SSDA903 files: check them, or import its children",
    ),
];

/// Banners for `?done=`.
const DONE: [(&str, &str); 7] = [
    ("disabled", "The account is disabled"),
    ("unlocked", "The account is unlocked"),
    ("revoked", "The token is revoked"),
    ("organisation", "Organisation added"),
    ("team_manager", "Team manager's address saved"),
    ("host_icb_nurse", "Host ICB Designated Nurse's address saved"),
    ("requeued", "The message is back in the queue"),
];

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub layout: Layout,
    pub errors: FormErrors,
    /// "home", "users", "organisations", "tokens" or "audit".
    pub section: &'static str,
    pub done: Option<&'static str>,
    /// A password or token shown once: (what it is, for whom, the secret).
    pub secret: Option<(String, String, String)>,
    /// The sections this admin may open (path, title, what).
    pub sections: Vec<(&'static str, &'static str, &'static str)>,
    pub users: Vec<UserView>,
    pub organisations: Vec<OrganisationRow>,
    pub tokens: Vec<TokenView>,
    pub audit: Option<AuditStatus>,
    pub may_add_organisations: bool,
    // The add-user form.
    pub email: TextField,
    pub display_name: TextField,
    pub org: SelectField,
    pub roles: ChoiceField,
    // The add-organisation form.
    pub org_kind: SelectField,
    pub org_name: TextField,
    pub org_code: TextField,
    // The issue-token form.
    pub token_email: TextField,
    pub token_label: TextField,
    // The export form.
    pub from: TextField,
    pub to: TextField,
}

impl AdminPage {
    pub fn role_names(&self, roles: &[String]) -> String {
        roles
            .iter()
            .map(|r| {
                r.parse::<Role>()
                    .map(|r| role_name(&r).to_string())
                    .unwrap_or_else(|_| r.clone())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn kind_name(&self, kind: &str) -> &'static str {
        match kind {
            "icb" => "ICB",
            "provider" => "Provider",
            "local_authority" => "Local authority",
            _ => "Host provider",
        }
    }
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// What a page is drawn from: the section, the posted form that failed (with its errors),
/// a secret to show once.
struct Draw {
    section: &'static str,
    posted: Posted,
    errors: FormErrors,
    secret: Option<(String, String, String)>,
    status: StatusCode,
}

impl Draw {
    fn section(section: &'static str) -> Draw {
        Draw {
            section,
            posted: Posted::default(),
            errors: FormErrors::new(),
            secret: None,
            status: StatusCode::OK,
        }
    }
}

async fn render(state: &AppState, access: &Access, req: &HttpRequest, d: Draw) -> AppResult<HttpResponse> {
    let section = d.section;
    let roles = access.principal.roles.clone();
    let may_tokens = super::may(&roles, "GET", "/admin/tokens");
    let (users, organisations, tokens, audit, oversees) = state
        .run_reaching(access, move |conn, _, reach| {
            let orgs = accounts::organisations(conn, reach)?;
            let users = match section {
                "users" => crate::auth::list_users(conn, reach)?,
                _ => Vec::new(),
            };
            let tokens = match section {
                "tokens" if may_tokens => crate::auth::list_tokens(conn, reach)?,
                _ => Vec::new(),
            };
            let audit = match section {
                "audit" => Some(accounts::audit_status(conn)?),
                _ => None,
            };
            Ok((users, orgs, tokens, audit, reach.oversees()))
        })
        .await?;
    let (p, e) = (&d.posted, &d.errors);
    let org_options: Vec<(String, String)> = organisations
        .iter()
        .map(|o| (o.code.clone(), format!("{} ({})", o.name, o.code)))
        .collect();
    let role_options: Vec<(&str, &str, Option<&str>)> =
        Role::ALL.iter().map(|r| (r.as_str(), role_name(r), None)).collect();
    let kinds: Vec<(String, String)> = [
        ("local_authority", "Local authority"),
        ("provider", "Provider"),
        ("host_provider", "Host provider"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect();
    let title = SECTIONS
        .iter()
        .find(|(path, _, _)| path.ends_with(section))
        .map_or("Admin console", |(_, t, _)| t);
    let today = state.today();
    let month_ago = today - chrono::Duration::days(30);
    let dates = if p.get("from").is_empty() {
        Posted::parse(format!("from={month_ago}&to={today}").as_bytes())
    } else {
        p.clone()
    };
    let page = AdminPage {
        layout: Layout::signed_in(forms::title(title, e), &access.principal, req.path()),
        section,
        done: DONE
            .iter()
            .find(|(k, _)| *k == query_value(req, "done"))
            .map(|(_, m)| *m),
        secret: d.secret,
        sections: SECTIONS
            .iter()
            .filter(|(path, _, _)| super::may(&roles, "GET", path))
            .copied()
            .collect(),
        users,
        tokens,
        audit,
        may_add_organisations: oversees,
        email: TextField::new("email", "Email address", p, e).kind("email"),
        display_name: TextField::new("display_name", "Full name", p, e),
        org: SelectField::new("org", "Organisation", &org_options, p, e),
        roles: ChoiceField::new("role", "Roles", &role_options, p, e),
        org_kind: SelectField::new("kind", "Kind", &kinds, p, e),
        org_name: TextField::new("name", "Name", p, e),
        org_code: TextField::new("code", "Code", p, e)
            .hint("The local authority's code, for example 933")
            .width("nhsuk-input--width-10"),
        token_email: TextField::new("token_email", "Email address of the account", p, e).kind("email"),
        token_label: TextField::new("label", "What the token is for", p, e),
        from: TextField::new("from", "From", &dates, e)
            .hint("YYYY-MM-DD")
            .width("nhsuk-input--width-10"),
        to: TextField::new("to", "To", &dates, e)
            .hint("YYYY-MM-DD, at most a year after the first day")
            .width("nhsuk-input--width-10"),
        organisations,
        errors: d.errors,
    };
    Ok(super::respond(req, d.status, page))
}

/// The page again with the failed form's errors (422), or the refusal as it is.
async fn refused(
    state: &AppState,
    access: &Access,
    req: &HttpRequest,
    section: &'static str,
    posted: Posted,
    error: AppError,
    fields: &[(&str, &str, &str)],
) -> AppResult<HttpResponse> {
    let Some((errors, status)) = forms::refusal(&error, fields, &format!("{section}-form"), |m| m.to_string()) else {
        return Err(error);
    };
    let d = Draw {
        section,
        posted,
        errors,
        secret: None,
        status,
    };
    render(state, access, req, d).await
}

pub async fn home(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    render(&state, &access, &req, Draw::section("home")).await
}

pub async fn users(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    render(&state, &access, &req, Draw::section("users")).await
}

pub async fn organisations(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    render(&state, &access, &req, Draw::section("organisations")).await
}

pub async fn tokens(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    render(&state, &access, &req, Draw::section("tokens")).await
}

pub async fn audit(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    render(&state, &access, &req, Draw::section("audit")).await
}

const USER_FIELDS: [(&str, &str, &str); 5] = [
    ("email", "email", "email"),
    ("name", "display_name", "display_name"),
    ("org", "org", "org"),
    ("role", "role", "role-1"),
    ("password", "email", "email"),
];

pub async fn add_user(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let mut roles = Vec::new();
    for r in posted.all("role") {
        match r.parse::<Role>() {
            Ok(r) => roles.push(r),
            Err(_) => {
                let e = AppError::invalid("role", "choose roles from the list");
                return refused(&state, &access, &req, "users", posted, e, &USER_FIELDS).await;
            }
        }
    }
    let input = NewAccount {
        email: posted.get("email").to_string(),
        display_name: posted.get("display_name").to_string(),
        organisation_code: posted.get("org").to_string(),
        roles,
    };
    let params = state.password_params();
    let result = state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::add_user(conn, &ctx.actor, reach, input, &params)
        })
        .await;
    match result {
        Ok((user, password)) => {
            let mut d = Draw::section("users");
            d.secret = Some(("The account's password".into(), user.email, password));
            render(&state, &access, &req, d).await
        }
        Err(e) => refused(&state, &access, &req, "users", posted, e, &USER_FIELDS).await,
    }
}

pub async fn disable_user(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "user")?;
    state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::disable_user(conn, &ctx.actor, reach, &id)
        })
        .await?;
    Ok(see_other("/admin/users?done=disabled"))
}

pub async fn unlock_user(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "user")?;
    state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::unlock_user(conn, &ctx.actor, reach, &id)
        })
        .await?;
    Ok(see_other("/admin/users?done=unlocked"))
}

pub async fn reset_password(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "user")?;
    let params = state.password_params();
    let (user, password) = state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::reset_password(conn, &ctx.actor, reach, &id, &params)
        })
        .await?;
    let mut d = Draw::section("users");
    d.secret = Some(("The new password".into(), user.email, password));
    render(&state, &access, &req, d).await
}

const ORG_FIELDS: [(&str, &str, &str); 4] = [
    ("kind", "kind", "kind"),
    ("name", "name", "name"),
    ("code", "code", "code"),
    ("icb", "code", "code"),
];

pub async fn add_organisation(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let (kind, name, code) = (
        posted.get("kind").to_string(),
        posted.get("name").to_string(),
        posted.get("code").to_string(),
    );
    let icb = access.principal.organisation_code.clone();
    let result = state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::add_organisation(
                conn,
                &ctx.actor,
                reach,
                NewOrganisation {
                    kind: &kind,
                    name: &name,
                    code: &code,
                    icb_code: Some(&icb),
                },
            )
        })
        .await;
    match result {
        Ok(_) => Ok(see_other("/admin/organisations?done=organisation")),
        Err(e) => refused(&state, &access, &req, "organisations", posted, e, &ORG_FIELDS).await,
    }
}

pub async fn team_manager(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "organisation")?;
    let posted = Posted::parse(&body);
    let email = posted
        .optional("team_manager_email")
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    let result = state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::set_team_manager(conn, &ctx.actor, reach, &id, email.as_deref())
        })
        .await;
    match result {
        Ok(()) => Ok(see_other("/admin/organisations?done=team_manager")),
        Err(e) => {
            let fields = [("team_manager_email", "team_manager_email", "organisations-form")];
            refused(&state, &access, &req, "organisations", posted, e, &fields).await
        }
    }
}

/// A host area's ICB Designated Nurse: where out-of-area escalations go when a child placed
/// in that area waits on its provider and the request holds no host ICB address of its own.
pub async fn host_icb_nurse(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "organisation")?;
    let posted = Posted::parse(&body);
    let email = posted
        .optional("host_icb_nurse_email")
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    // The error summary links to this organisation's own input.
    let input = format!("hi-{id}");
    let result = state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::set_host_icb_nurse(conn, &ctx.actor, reach, &id, email.as_deref())
        })
        .await;
    match result {
        Ok(()) => Ok(see_other("/admin/organisations?done=host_icb_nurse")),
        Err(e) => {
            let fields = [("host_icb_nurse_email", "host_icb_nurse_email", input.as_str())];
            refused(&state, &access, &req, "organisations", posted, e, &fields).await
        }
    }
}

const TOKEN_FIELDS: [(&str, &str, &str); 2] = [("email", "token_email", "token_email"), ("label", "label", "label")];

pub async fn issue_token(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let (email, label) = (posted.get("token_email").to_string(), posted.get("label").to_string());
    let result = state
        .run_reaching(&access, move |conn, ctx, reach| {
            accounts::issue_token(conn, &ctx.actor, reach, &email, &label)
        })
        .await;
    match result {
        Ok((_, token)) => {
            let mut d = Draw::section("tokens");
            d.secret = Some((
                "The new token".into(),
                posted.get("token_email").trim().to_lowercase(),
                token,
            ));
            render(&state, &access, &req, d).await
        }
        Err(e) => refused(&state, &access, &req, "tokens", posted, e, &TOKEN_FIELDS).await,
    }
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "token")?;
    state
        .run_reaching(&access, move |conn, ctx, reach| {
            crate::auth::revoke_token(conn, &ctx.actor, &id, reach)
        })
        .await?;
    Ok(see_other("/admin/tokens?done=revoked"))
}
