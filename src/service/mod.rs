//! Application services: each public function is one use case, run in one transaction,
//! applying the pure rules (`workflow`, `obligations`, `status`) to rows from `db`. An
//! audited read runs in two: it reads in a read transaction, then its audit entry is
//! appended by the group-commit appender (or, outside a request, in a short write
//! transaction), so that no read holds the write lock (`DomainCtx::read_audited`).

pub mod accounts;
pub mod assessment_list;
pub mod assessments;
pub mod assurance;
pub mod audit_trail;
pub mod calendar_store;
pub mod care;
pub mod casework;
pub mod children;
pub mod escalations;
pub mod forecast;
pub mod forecast_stamp;
pub mod health_import;
pub mod history_store;
pub mod housekeeping;
pub mod kpi_delays;
pub mod kpi_publication;
pub mod kpi_report;
pub mod kpi_workbook;
pub mod meeting_list;
pub mod meetings;
pub mod outbox;
pub mod pack;
pub mod periods;
pub mod rag_snapshot;
pub mod rag_store;
pub mod reach;
pub mod ssda903_export;
pub mod ssda903_import;
pub mod validate;
pub mod views;
pub mod work;

use std::sync::Arc;

use chrono::NaiveDate;

use crate::audit::{self, Actor, AuditEvent};
use crate::calendar::Calendar;
use crate::db::models::Child;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::obligations::{FifthBirthdayPolicy, RhaPolicy};
use crate::settings::Settings;
use crate::status::ClockPolicy;

/// Which children the caller may see: everything (the CLI and background work), or the
/// children of some local authorities (a signed-in user).
#[derive(Debug, Clone)]
pub enum Scope {
    Everything,
    LocalAuthorities(Arc<Vec<String>>),
}

impl Scope {
    pub fn allows(&self, local_authority: &str) -> bool {
        match self {
            Scope::Everything => true,
            Scope::LocalAuthorities(codes) => codes.iter().any(|c| c == local_authority),
        }
    }

    /// The codes to filter lists by, or None for no filter.
    pub fn codes(&self) -> Option<&[String]> {
        match self {
            Scope::Everything => None,
            Scope::LocalAuthorities(codes) => Some(codes),
        }
    }
}

/// Everything the rules need besides the rows: the calendar in force, the policies from
/// settings, what "today" is, and who is asking (for scope and the audit trail).
#[derive(Clone)]
pub struct DomainCtx {
    pub calendar: Arc<Calendar>,
    pub clock: ClockPolicy,
    pub rha: RhaPolicy,
    pub today: NaiveDate,
    pub actor: Actor,
    pub scope: Scope,
}

impl DomainCtx {
    /// A context for the system itself (CLI, background work): sees everything.
    pub fn new(calendar: Arc<Calendar>, settings: &Settings, today: NaiveDate) -> DomainCtx {
        DomainCtx {
            calendar,
            clock: clock_policy(settings),
            rha: rha_policy(settings),
            today,
            actor: Actor::system("cli"),
            scope: Scope::Everything,
        }
    }

    /// Out-of-scope records answer exactly like missing ones, so ids cannot be probed.
    pub fn check_visible(&self, child: &Child, what: &'static str) -> AppResult<()> {
        // A record sealed at the adoption order is hidden from every ordinary route, for
        // every role: only `care::open_sealed` (admins, with a reason) reads it.
        if self.scope.allows(&child.responsible_la) && child.sealed_on.is_none() {
            Ok(())
        } else {
            Err(AppError::NotFound(what))
        }
    }

    /// Appends to the audit trail, inside the caller's transaction.
    pub fn audit(&self, conn: &mut DbConn, event: AuditEvent<'_>) -> AppResult<()> {
        audit::record(conn, &self.actor, event)?;
        Ok(())
    }

    /// An audited read: `read` runs in a read transaction, then the entry `event` makes
    /// of its answer is appended. Reading, however long it takes, never holds SQLite's
    /// write lock or the audit chain's lock, so it cannot hold up other requests.
    ///
    /// In a request (`AppState::run_as`) the entry goes to the group-commit appender
    /// (`audit::group`), and the request waits for its batch's commit after returning its
    /// connection, before answering. Elsewhere (command line, background work) it is
    /// appended here in a short write transaction of its own. Either way the answer is
    /// shown only once its entry has committed: if the entry cannot be written, nothing is.
    pub fn read_audited<T, R, E>(&self, conn: &mut DbConn, read: R, event: E) -> AppResult<T>
    where
        R: FnOnce(&mut DbConn) -> AppResult<T>,
        E: for<'a> FnOnce(&'a T) -> AuditEvent<'a>,
    {
        let answer = crate::db::read_transaction(conn, read)?;
        let entry = audit::NewEntry::new(&self.actor, event(&answer));
        if let Some(entry) = audit::group::defer(entry) {
            crate::db::write_transaction(conn, |conn| audit::append(conn, &[&entry]))?;
        }
        Ok(answer)
    }
}

pub fn clock_policy(settings: &Settings) -> ClockPolicy {
    ClockPolicy {
        iha_due_working_days: settings.iha.due_working_days,
        notify_by: settings.iha.notify_by,
        consent_by: settings.iha.consent_by,
        appointment_by: settings.iha.appointment_by,
        report_by: settings.iha.report_by,
        rha_booking_lead_working_days: settings.rha.booking_lead_working_days,
    }
}

pub fn rha_policy(settings: &Settings) -> RhaPolicy {
    let fifth_birthday = match settings.rha.fifth_birthday_policy.as_str() {
        "age_on_due_date" => FifthBirthdayPolicy::AgeOnDueDate,
        _ => FifthBirthdayPolicy::AgeOnLastAssessment,
    };
    RhaPolicy {
        under_five_months: settings.rha.under_five_months,
        five_and_over_months: settings.rha.five_and_over_months,
        fifth_birthday,
    }
}

/// Optimistic concurrency: a caller that sends the version it read must still be current.
pub fn check_version(sent: Option<i32>, current: i32) -> AppResult<()> {
    match sent {
        Some(sent) if sent != current => Err(AppError::StaleVersion { sent, current }),
        _ => Ok(()),
    }
}
