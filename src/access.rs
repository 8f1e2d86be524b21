//! Who may do what: the roles, the actions, the route table and the permission matrix, in
//! one place. Pure. The HTTP layer maps every request to an action through `ROUTES`;
//! a route missing from the table is refused (deny by default).
//!
//! Roles decide *what* a user may do; the user's organisation decides *which children*:
//! a local authority's staff see the children it is responsible for, ICB and provider
//! staff see the children of every local authority in their ICB.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, calendar, settings; no children's records.
    Admin,
    /// Notifications, booking, outcomes, out-of-area requests.
    HealthAdmin,
    /// Completes assessments, records outcomes and notes.
    Clinician,
    /// Consent, notifications and placement changes for their own authority's children.
    SocialWorker,
    /// Designated and named professionals: read everything in their ICB, the assurance
    /// list, meeting actions (notes), the audit.
    Assurance,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::HealthAdmin,
        Role::Clinician,
        Role::SocialWorker,
        Role::Assurance,
        Role::ReadOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::HealthAdmin => "health_admin",
            Role::Clinician => "clinician",
            Role::SocialWorker => "social_worker",
            Role::Assurance => "assurance",
            Role::ReadOnly => "read_only",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown role {s:?}; must be one of {}", names.join(", "))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    ChildRead,
    ChildCreate,
    ChildUpdate,
    HealthCheckAdd,
    NoteAdd,
    PeriodStart,
    PlacementChange,
    PeriodEnd,
    AssessmentRead,
    Notify,
    Consent,
    ConsentWithdraw,
    Book,
    RecordOutcome,
    Complete,
    Reoffer,
    MarkNotRequired,
    Close,
    OutOfAreaUpdate,
    AssuranceRead,
    CalendarRead,
    AuditRead,
    AuditExport,
    UserAdmin,
    TokenAdmin,
    EscalationRead,
    OutboxAdmin,
    Me,
    MetricsRead,
    MeetingRead,
    MeetingWrite,
    MeetingActionRead,
    MeetingActionClose,
    /// Importing GOV.UK's bank holidays (moves due dates: the ICB's admins only, by reach).
    CalendarImport,
    SealedRecordOpen,
    /// Freezing a month's KPI figures as published (the board's figures of record).
    KpiPublish,
    /// Importing a local authority's SSDA903 files from the admin console (`/admin/import`):
    /// admins, for an authority in their scope. A page only: the API has no twin (the CLI
    /// `import ssda903` is the other way in).
    Ssda903Import,
}

impl Action {
    pub const ALL: [Action; 37] = [
        Action::ChildRead,
        Action::ChildCreate,
        Action::ChildUpdate,
        Action::HealthCheckAdd,
        Action::NoteAdd,
        Action::PeriodStart,
        Action::PlacementChange,
        Action::PeriodEnd,
        Action::AssessmentRead,
        Action::Notify,
        Action::Consent,
        Action::ConsentWithdraw,
        Action::Book,
        Action::RecordOutcome,
        Action::Complete,
        Action::Reoffer,
        Action::MarkNotRequired,
        Action::Close,
        Action::OutOfAreaUpdate,
        Action::AssuranceRead,
        Action::CalendarRead,
        Action::AuditRead,
        Action::AuditExport,
        Action::UserAdmin,
        Action::TokenAdmin,
        Action::EscalationRead,
        Action::OutboxAdmin,
        Action::Me,
        Action::MetricsRead,
        Action::MeetingRead,
        Action::MeetingWrite,
        Action::MeetingActionRead,
        Action::MeetingActionClose,
        Action::CalendarImport,
        Action::SealedRecordOpen,
        Action::KpiPublish,
        Action::Ssda903Import,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::ChildRead => "child_read",
            Action::ChildCreate => "child_create",
            Action::ChildUpdate => "child_update",
            Action::HealthCheckAdd => "health_check_add",
            Action::NoteAdd => "note_add",
            Action::PeriodStart => "period_start",
            Action::PlacementChange => "placement_change",
            Action::PeriodEnd => "period_end",
            Action::AssessmentRead => "assessment_read",
            Action::Notify => "notify",
            Action::Consent => "consent",
            Action::ConsentWithdraw => "consent_withdraw",
            Action::Book => "book",
            Action::RecordOutcome => "record_outcome",
            Action::Complete => "complete",
            Action::Reoffer => "reoffer",
            Action::MarkNotRequired => "mark_not_required",
            Action::Close => "close",
            Action::OutOfAreaUpdate => "out_of_area_update",
            Action::AssuranceRead => "assurance_read",
            Action::CalendarRead => "calendar_read",
            Action::AuditRead => "audit_read",
            Action::AuditExport => "audit_export",
            Action::UserAdmin => "user_admin",
            Action::TokenAdmin => "token_admin",
            Action::EscalationRead => "escalation_read",
            Action::OutboxAdmin => "outbox_admin",
            Action::Me => "me",
            Action::MetricsRead => "metrics_read",
            Action::MeetingRead => "meeting_read",
            Action::MeetingWrite => "meeting_write",
            Action::MeetingActionRead => "meeting_action_read",
            Action::MeetingActionClose => "meeting_action_close",
            Action::CalendarImport => "calendar_import",
            Action::Ssda903Import => "ssda903_import",
            Action::SealedRecordOpen => "sealed_record_open",
            Action::KpiPublish => "kpi_publish",
        }
    }

    /// Whether the action reads or changes a child's data (and so is limited by scope).
    pub fn touches_children(self) -> bool {
        !matches!(
            self,
            Action::CalendarRead
                | Action::CalendarImport
                | Action::AuditExport
                | Action::UserAdmin
                | Action::TokenAdmin
                | Action::OutboxAdmin
                | Action::Me
                | Action::MetricsRead
        )
    }
}

/// The permission matrix. Everything not listed is refused.
pub fn permits(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    // The assurance meeting's record: assurance and health admins write it, read-only users
    // read it; social workers see and close the actions assigned to them (the service
    // limits them to those).
    match (role, action) {
        (Assurance | HealthAdmin, MeetingRead | MeetingWrite | MeetingActionRead | MeetingActionClose) => return true,
        (ReadOnly, MeetingRead | MeetingActionRead) => return true,
        (SocialWorker, MeetingActionRead | MeetingActionClose) => return true,
        _ => {}
    }
    match role {
        // An admin reads no child's record, except a sealed pre-adoption one, with a reason
        // on the audit trail (DOMAIN.md "Care leavers and adoption").
        Admin => matches!(
            action,
            CalendarRead
                | CalendarImport
                | Ssda903Import
                | AuditRead
                | AuditExport
                | UserAdmin
                | TokenAdmin
                | OutboxAdmin
                | Me
                | MetricsRead
                | SealedRecordOpen
        ),
        HealthAdmin => matches!(
            action,
            ChildRead
                | ChildCreate
                | ChildUpdate
                | HealthCheckAdd
                | NoteAdd
                | PeriodStart
                | PlacementChange
                | PeriodEnd
                | AssessmentRead
                | Notify
                | Book
                | RecordOutcome
                | Reoffer
                | MarkNotRequired
                | Close
                | OutOfAreaUpdate
                | AssuranceRead
                | EscalationRead
                | CalendarRead
                | Me
        ),
        Clinician => matches!(
            action,
            ChildRead
                | HealthCheckAdd
                | NoteAdd
                | AssessmentRead
                | RecordOutcome
                | Complete
                | MarkNotRequired
                | EscalationRead
                | CalendarRead
                | Me
        ),
        SocialWorker => matches!(
            action,
            ChildRead
                | ChildCreate
                | ChildUpdate
                | NoteAdd
                | PeriodStart
                | PlacementChange
                | PeriodEnd
                | AssessmentRead
                | Notify
                | Consent
                | ConsentWithdraw
                | Reoffer
                | EscalationRead
                | CalendarRead
                | Me
        ),
        // Publishing the board's figures is the designated professionals' decision.
        Assurance => matches!(
            action,
            ChildRead
                | NoteAdd
                | AssessmentRead
                | AssuranceRead
                | KpiPublish
                | EscalationRead
                | CalendarRead
                | AuditRead
                | AuditExport
                | Me
        ),
        ReadOnly => matches!(action, ChildRead | AssessmentRead | AssuranceRead | CalendarRead | Me),
    }
}

/// The role (of those a user holds) that grants an action, for the audit trail.
pub fn granting_role(roles: &[Role], action: Action) -> Option<Role> {
    roles.iter().copied().find(|r| permits(*r, action))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// Every protected route and the action it performs. Patterns use actix syntax.
pub const ROUTES: &[(Method, &str, Action)] = &[
    (Method::Get, "/api/v1/me", Action::Me),
    (Method::Get, "/api/v1/children", Action::ChildRead),
    (Method::Post, "/api/v1/children", Action::ChildCreate),
    (Method::Get, "/api/v1/children/{id}", Action::ChildRead),
    (Method::Patch, "/api/v1/children/{id}", Action::ChildUpdate),
    (
        Method::Post,
        "/api/v1/children/{id}/health-checks",
        Action::HealthCheckAdd,
    ),
    (Method::Post, "/api/v1/children/{id}/notes", Action::NoteAdd),
    (Method::Get, "/api/v1/children/{id}/access-history", Action::AuditRead),
    (Method::Post, "/api/v1/children/{id}/periods", Action::PeriodStart),
    (Method::Post, "/api/v1/periods/{id}/placements", Action::PlacementChange),
    (Method::Post, "/api/v1/periods/{id}/end", Action::PeriodEnd),
    // Recording a leaving-care summary or adoption medical report as given is a completion.
    (Method::Post, "/api/v1/obligations/{id}/completion", Action::Complete),
    (
        Method::Post,
        "/api/v1/children/{id}/sealed-record",
        Action::SealedRecordOpen,
    ),
    // A legal-status change is, like a placement change, a new episode within the period.
    (
        Method::Post,
        "/api/v1/periods/{id}/legal-status",
        Action::PlacementChange,
    ),
    (Method::Get, "/api/v1/assessments", Action::AssessmentRead),
    (Method::Get, "/api/v1/assessments/{id}", Action::AssessmentRead),
    (Method::Post, "/api/v1/assessments/{id}/notification", Action::Notify),
    (Method::Post, "/api/v1/assessments/{id}/consent", Action::Consent),
    (Method::Post, "/api/v1/assessments/{id}/appointments", Action::Book),
    (Method::Post, "/api/v1/assessments/{id}/completion", Action::Complete),
    (Method::Post, "/api/v1/assessments/{id}/reoffer", Action::Reoffer),
    (
        Method::Post,
        "/api/v1/assessments/{id}/not-required",
        Action::MarkNotRequired,
    ),
    (Method::Post, "/api/v1/assessments/{id}/close", Action::Close),
    (Method::Get, "/api/v1/appointments/{id}", Action::AssessmentRead),
    (Method::Post, "/api/v1/appointments/{id}/outcome", Action::RecordOutcome),
    (
        Method::Post,
        "/api/v1/out-of-area-requests/{id}",
        Action::OutOfAreaUpdate,
    ),
    (
        Method::Post,
        "/api/v1/consents/{id}/withdrawal",
        Action::ConsentWithdraw,
    ),
    (Method::Get, "/api/v1/assurance/iha", Action::AssuranceRead),
    (Method::Get, "/api/v1/reports/kpi", Action::AssuranceRead),
    (Method::Get, "/api/v1/reports/kpi.csv", Action::AssuranceRead),
    (Method::Get, "/api/v1/reports/kpi.xlsx", Action::AssuranceRead),
    (Method::Get, "/api/v1/reports/kpi/publications", Action::AssuranceRead),
    (
        Method::Post,
        "/api/v1/reports/kpi/{month}/publication",
        Action::KpiPublish,
    ),
    (
        Method::Get,
        "/api/v1/reports/kpi/{measure}/{month}/restatement",
        Action::AssuranceRead,
    ),
    (
        Method::Get,
        "/api/v1/reports/kpi/{measure}/{month}",
        Action::AssuranceRead,
    ),
    (Method::Get, "/api/v1/reports/delays", Action::AssuranceRead),
    (Method::Get, "/api/v1/calendar/holidays", Action::CalendarRead),
    (Method::Get, "/api/v1/calendar/add-working-days", Action::CalendarRead),
    (Method::Post, "/api/v1/calendar/holidays", Action::CalendarImport),
    (Method::Post, "/api/v1/calendar/preview", Action::CalendarImport),
    (Method::Get, "/api/v1/audit/export", Action::AuditExport),
    (Method::Get, "/api/v1/audit/verify", Action::AuditExport),
    (Method::Get, "/api/v1/users", Action::UserAdmin),
    (Method::Post, "/api/v1/users", Action::UserAdmin),
    (Method::Post, "/api/v1/users/{id}/disable", Action::UserAdmin),
    (Method::Post, "/api/v1/users/{id}/unlock", Action::UserAdmin),
    (Method::Post, "/api/v1/users/{id}/password", Action::UserAdmin),
    (Method::Get, "/api/v1/organisations", Action::UserAdmin),
    (Method::Post, "/api/v1/organisations", Action::UserAdmin),
    (
        Method::Post,
        "/api/v1/organisations/{id}/team-manager",
        Action::UserAdmin,
    ),
    (
        Method::Post,
        "/api/v1/organisations/{id}/host-icb-nurse",
        Action::UserAdmin,
    ),
    (Method::Get, "/api/v1/tokens", Action::TokenAdmin),
    (Method::Post, "/api/v1/tokens", Action::TokenAdmin),
    (Method::Post, "/api/v1/tokens/{id}/revoke", Action::TokenAdmin),
    (Method::Get, "/api/v1/escalations", Action::EscalationRead),
    (Method::Get, "/api/v1/outbox", Action::OutboxAdmin),
    (Method::Post, "/api/v1/outbox/{id}/requeue", Action::OutboxAdmin),
    (Method::Get, "/metrics", Action::MetricsRead),
    (Method::Get, "/api/v1/assurance/meetings", Action::MeetingRead),
    (Method::Post, "/api/v1/assurance/meetings", Action::MeetingWrite),
    (
        Method::Get,
        "/api/v1/assurance/meetings/actions",
        Action::MeetingActionRead,
    ),
    (
        Method::Post,
        "/api/v1/assurance/meetings/actions/{id}/close",
        Action::MeetingActionClose,
    ),
    (Method::Get, "/api/v1/assurance/meetings/{id}", Action::MeetingRead),
    (
        Method::Post,
        "/api/v1/assurance/meetings/{id}/actions",
        Action::MeetingWrite,
    ),
    (
        Method::Post,
        "/api/v1/assurance/meetings/{id}/notes",
        Action::MeetingWrite,
    ),
];

/// Every page of the browser service and the action it performs: the same action as its
/// API twin (a test checks), so a role sees in the browser exactly what it may read or do
/// through the API. A page missing here is refused, like an API route. A literal segment
/// (`/children/new`) comes before the `{id}` pattern that would also match it.
pub const PAGES: &[(Method, &str, Action)] = &[
    (Method::Get, "/", Action::Me),
    (Method::Post, "/logout", Action::Me),
    (Method::Get, "/children", Action::ChildRead),
    (Method::Get, "/children/new", Action::ChildCreate),
    (Method::Post, "/children/new", Action::ChildCreate),
    (Method::Get, "/children/{id}", Action::ChildRead),
    (Method::Get, "/children/{id}/periods/new", Action::PeriodStart),
    (Method::Post, "/children/{id}/periods/new", Action::PeriodStart),
    (Method::Get, "/assessments/{id}", Action::AssessmentRead),
    (Method::Post, "/assessments/{id}/notification", Action::Notify),
    (Method::Post, "/assessments/{id}/consent", Action::Consent),
    (Method::Post, "/assessments/{id}/appointments", Action::Book),
    (Method::Post, "/assessments/{id}/completion", Action::Complete),
    (Method::Post, "/assessments/{id}/reoffer", Action::Reoffer),
    (Method::Post, "/assessments/{id}/not-required", Action::MarkNotRequired),
    (Method::Post, "/assessments/{id}/close", Action::Close),
    (Method::Post, "/appointments/{id}/outcome", Action::RecordOutcome),
    (Method::Post, "/out-of-area-requests/{id}", Action::OutOfAreaUpdate),
    (Method::Post, "/periods/{id}/placements", Action::PlacementChange),
    (Method::Post, "/periods/{id}/end", Action::PeriodEnd),
    (Method::Post, "/children/{id}/health-checks", Action::HealthCheckAdd),
    (Method::Post, "/obligations/{id}/completion", Action::Complete),
    (Method::Post, "/children/{id}/notes", Action::NoteAdd),
    (Method::Post, "/consents/{id}/withdrawal", Action::ConsentWithdraw),
    (Method::Get, "/assurance", Action::AssuranceRead),
    (Method::Get, "/assurance.csv", Action::AssuranceRead),
    (Method::Get, "/assurance/print", Action::AssuranceRead),
    (Method::Get, "/assurance/changes", Action::AssuranceRead),
    (Method::Post, "/assurance/meetings", Action::MeetingWrite),
    (
        Method::Post,
        "/assurance/meetings/actions/{id}/close",
        Action::MeetingActionClose,
    ),
    (Method::Get, "/assurance/meetings/{id}", Action::MeetingRead),
    (Method::Post, "/assurance/meetings/{id}/actions", Action::MeetingWrite),
    (Method::Post, "/assurance/meetings/{id}/notes", Action::MeetingWrite),
    (Method::Get, "/reports", Action::AssuranceRead),
    (Method::Get, "/reports/delays", Action::AssuranceRead),
    (Method::Get, "/reports/{measure}/{month}", Action::AssuranceRead),
    (Method::Post, "/reports/publications", Action::KpiPublish),
    (
        Method::Get,
        "/reports/{measure}/{month}/restatement",
        Action::AssuranceRead,
    ),
    (Method::Get, "/escalations", Action::EscalationRead),
    (Method::Get, "/outbox", Action::OutboxAdmin),
    (Method::Post, "/outbox/{id}/requeue", Action::OutboxAdmin),
    (Method::Get, "/admin", Action::UserAdmin),
    (Method::Get, "/admin/users", Action::UserAdmin),
    (Method::Post, "/admin/users", Action::UserAdmin),
    (Method::Post, "/admin/users/{id}/disable", Action::UserAdmin),
    (Method::Post, "/admin/users/{id}/unlock", Action::UserAdmin),
    (Method::Post, "/admin/users/{id}/password", Action::UserAdmin),
    (Method::Get, "/admin/organisations", Action::UserAdmin),
    (Method::Post, "/admin/organisations", Action::UserAdmin),
    (
        Method::Post,
        "/admin/organisations/{id}/team-manager",
        Action::UserAdmin,
    ),
    (
        Method::Post,
        "/admin/organisations/{id}/host-icb-nurse",
        Action::UserAdmin,
    ),
    (Method::Get, "/admin/tokens", Action::TokenAdmin),
    (Method::Post, "/admin/tokens", Action::TokenAdmin),
    (Method::Post, "/admin/tokens/{id}/revoke", Action::TokenAdmin),
    (Method::Get, "/admin/audit", Action::AuditExport),
    (Method::Get, "/admin/calendar", Action::CalendarImport),
    (Method::Post, "/admin/calendar", Action::CalendarImport),
    (Method::Post, "/admin/calendar/preview", Action::CalendarImport),
    (Method::Get, "/admin/import", Action::Ssda903Import),
    (Method::Post, "/admin/import", Action::Ssda903Import),
    (Method::Post, "/admin/import/rejections", Action::Ssda903Import),
];

/// The action a request performs, if the route is known. `{id}` matches one path segment.
pub fn route_action(method: &str, path: &str) -> Option<Action> {
    action_in(ROUTES, method, path)
}

/// The methods some route allows on this path: none means the path is unknown (404), and
/// otherwise a wrong method is 405 with these in `Allow`.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    allowed_in(ROUTES, path)
}

/// The action a page request performs, if the page is known.
pub fn page_action(method: &str, path: &str) -> Option<Action> {
    // HEAD reads what GET reads.
    let method = if method == "HEAD" { "GET" } else { method };
    action_in(PAGES, method, path)
}

/// The methods some page allows on this path, as [`allowed_methods`] for the API.
pub fn page_allowed_methods(path: &str) -> Vec<&'static str> {
    allowed_in(PAGES, path)
}

fn action_in(table: &[(Method, &str, Action)], method: &str, path: &str) -> Option<Action> {
    table
        .iter()
        .find(|(m, pattern, _)| m.as_str() == method && pattern_matches(pattern, path))
        .map(|(_, _, action)| *action)
}

/// The methods of the patterns that serve `path`: where several match, the router takes
/// the one with the most literal segments (registered first, as `/children/new` is before
/// `/children/{id}`), so only its methods are allowed there.
fn allowed_in(table: &[(Method, &str, Action)], path: &str) -> Vec<&'static str> {
    let literal = |pattern: &str| pattern.split('/').filter(|s| !s.starts_with('{')).count();
    let matching: Vec<&(Method, &str, Action)> = table
        .iter()
        .filter(|(_, pattern, _)| pattern_matches(pattern, path))
        .collect();
    let most = matching.iter().map(|(_, p, _)| literal(p)).max().unwrap_or(0);
    matching
        .into_iter()
        .filter(|(_, p, _)| literal(p) == most)
        .map(|(m, _, _)| m.as_str())
        .collect()
}

fn pattern_matches(pattern: &str, path: &str) -> bool {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && !g.is_empty() => continue,
            (Some(w), Some(g)) if w == g => continue,
            _ => return false,
        }
    }
}

/// docs/permissions.md: the matrix with a preamble (a test keeps the file current).
pub fn permissions_document() -> String {
    format!(
        "# Permissions\n\nGenerated from `src/access.rs` (`cargo test` fails when this file is out of date; \
         regenerate with `CLA_REGENERATE_DOCS=1 cargo test --lib access`).\n\n\
         Every request to `/api/v1` is mapped to an action by the route table below; a route not in \
         the table is refused. A user may perform an action when any of their roles has \"yes\". \
         Which children they see is decided by their organisation: a local authority's staff see \
         the children it is responsible for; ICB and provider staff see the children of every \
         local authority in their ICB; a child outside that scope answers 404. Users, tokens, \
         outbox messages and audit entries are limited by organisation too \
         (`src/service/reach.rs`): a local authority's admins and auditors reach only its own, an \
         ICB's everything in the ICB; another's user, organisation, token or message answers 404. \
         Adding organisations and importing the bank holiday calendar (`calendar_import`, which \
         moves every authority's due dates) are for an ICB's admins only: a local authority's \
         admin is refused (403). Importing a local authority's SSDA903 files from the admin \
         console (`ssda903_import`, a page only) is for admins, and only for an authority \
         in their scope: a local authority's admin imports its own children, an ICB's admin \
         those of any authority in the ICB. `GET /metrics` \
         (Prometheus) also answers a request whose bearer token is the one configured as \
         `metrics_token` (`CLA_METRICS_TOKEN`), so a scraper needs no user account.\n\n{}\n\
         ## Pages\n\n\
         The browser service's pages go through the same check: each page is mapped to the \
         action of its API twin, and a page not in this table is refused. A signed-out browser \
         is sent to `/login`; every form carries the session's CSRF token.\n\n{}",
        matrix_markdown(),
        table_markdown(PAGES)
    )
}

/// The matrix as a Markdown table.
pub fn matrix_markdown() -> String {
    table_markdown(ROUTES)
}

fn table_markdown(routes: &[(Method, &str, Action)]) -> String {
    let mut out = String::from("| method | path | action |");
    for r in Role::ALL {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|---|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for (m, path, action) in routes {
        out.push_str(&format!("| {} | `{path}` | {} |", m.as_str(), action.name()));
        for r in Role::ALL {
            out.push_str(if permits(r, *action) { " yes |" } else { " - |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_cannot_read_children_deny_by_default() {
        assert!(!permits(Role::Admin, Action::ChildRead));
        assert!(!permits(Role::Admin, Action::AssessmentRead));
        assert!(permits(Role::Admin, Action::UserAdmin));
    }

    #[test]
    fn only_social_workers_confirm_consent_and_only_clinicians_complete() {
        for r in Role::ALL {
            assert_eq!(permits(r, Action::Consent), r == Role::SocialWorker, "{r}");
            assert_eq!(permits(r, Action::Complete), r == Role::Clinician, "{r}");
        }
    }

    #[test]
    fn only_an_admin_may_open_a_sealed_record() {
        for r in Role::ALL {
            assert_eq!(permits(r, Action::SealedRecordOpen), r == Role::Admin, "{r}");
        }
        assert_eq!(
            route_action("POST", "/api/v1/children/abc/sealed-record"),
            Some(Action::SealedRecordOpen)
        );
        assert_eq!(route_action("GET", "/api/v1/children/abc/sealed-record"), None);
    }

    #[test]
    fn read_only_changes_nothing() {
        let writes = Action::ALL.iter().filter(|a| {
            !matches!(
                a,
                Action::ChildRead
                    | Action::AssessmentRead
                    | Action::AssuranceRead
                    | Action::CalendarRead
                    | Action::Me
                    | Action::MeetingRead
                    | Action::MeetingActionRead
            )
        });
        for a in writes {
            assert!(!permits(Role::ReadOnly, *a), "{a:?}");
        }
    }

    #[test]
    fn every_role_may_ask_who_it_is() {
        assert!(Role::ALL.iter().all(|r| permits(*r, Action::Me)));
    }

    #[test]
    fn routes_match_ids_but_not_extra_segments() {
        assert_eq!(route_action("GET", "/api/v1/children/abc"), Some(Action::ChildRead));
        assert_eq!(
            route_action("POST", "/api/v1/children/abc/periods"),
            Some(Action::PeriodStart)
        );
        assert_eq!(route_action("GET", "/api/v1/children/abc/periods"), None);
        assert_eq!(route_action("DELETE", "/api/v1/children/abc"), None);
        assert_eq!(route_action("GET", "/api/v1/children//"), None);
        assert_eq!(route_action("GET", "/api/v1/nothing"), None);
    }

    #[test]
    fn pages_perform_the_action_of_their_api_twin() {
        let mut twins = 0;
        for (m, path, action) in PAGES {
            let api = format!("/api/v1{path}");
            if let Some((_, _, api_action)) = ROUTES.iter().find(|(am, ap, _)| am == m && *ap == api) {
                assert_eq!(api_action, action, "{} {path} and {api}", m.as_str());
                twins += 1;
            }
        }
        assert!(twins >= 12, "the record pages and every step have API twins: {twins}");
        // Pages without a twin of the same path still do what their API call does.
        assert_eq!(
            page_action("POST", "/children/new"),
            route_action("POST", "/api/v1/children")
        );
        assert_eq!(
            page_action("POST", "/children/x/periods/new"),
            route_action("POST", "/api/v1/children/x/periods")
        );
    }

    #[test]
    fn unknown_pages_are_refused_and_literal_segments_win() {
        assert_eq!(page_action("GET", "/children/abc"), Some(Action::ChildRead));
        assert_eq!(page_action("GET", "/children/new"), Some(Action::ChildCreate));
        assert_eq!(page_action("HEAD", "/"), Some(Action::Me));
        assert_eq!(page_action("GET", "/children/abc/secret"), None);
        assert_eq!(page_action("POST", "/children/abc"), None);
        assert_eq!(page_allowed_methods("/children/abc"), vec!["GET"]);
        // `{month}/publication` is served before `{measure}/{month}` would match it.
        assert_eq!(allowed_methods("/api/v1/reports/kpi/2026-01/publication"), vec!["POST"]);
        assert!(page_allowed_methods("/settings").is_empty());
        assert_eq!(page_action("GET", "/api/v1/children"), None, "API routes are not pages");
    }

    #[test]
    fn every_action_is_reachable_by_some_route() {
        // The SSDA903 upload is a page only (the CLI is its other way in).
        let page_only = [Action::Ssda903Import];
        for a in Action::ALL {
            let table = if page_only.contains(&a) { PAGES } else { ROUTES };
            assert!(table.iter().any(|(_, _, r)| *r == a), "{a:?} has no route");
        }
        for a in page_only {
            assert!(!ROUTES.iter().any(|(_, _, r)| *r == a), "{a:?} is a page only");
        }
    }

    #[test]
    fn only_admins_import_ssda903_files() {
        for r in Role::ALL {
            assert_eq!(permits(r, Action::Ssda903Import), r == Role::Admin, "{r}");
        }
        assert_eq!(page_action("GET", "/admin/import"), Some(Action::Ssda903Import));
        assert_eq!(page_action("POST", "/admin/import"), Some(Action::Ssda903Import));
        assert_eq!(
            page_action("POST", "/admin/import/rejections"),
            Some(Action::Ssda903Import)
        );
        assert_eq!(page_action("GET", "/admin/import/rejections"), None);
        assert!(Action::Ssda903Import.touches_children());
    }

    #[test]
    fn docs_permissions_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/permissions.md");
        let want = permissions_document();
        if std::env::var_os("CLA_REGENERATE_DOCS").is_some() {
            std::fs::write(path, &want).expect("docs/permissions.md is writable");
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have, want,
            "docs/permissions.md is out of date: regenerate it (see its first line)"
        );
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
