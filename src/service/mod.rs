//! Application services: each public function is one use case, run in one transaction,
//! applying the pure rules (`workflow`, `obligations`, `status`) to rows from `db`.

pub mod assessments;
pub mod assurance;
pub mod calendar_store;
pub mod children;
pub mod housekeeping;
pub mod periods;
pub mod validate;
pub mod views;

use std::sync::Arc;

use chrono::NaiveDate;

use crate::calendar::Calendar;
use crate::error::{AppError, AppResult};
use crate::obligations::{FifthBirthdayPolicy, RhaPolicy};
use crate::settings::Settings;
use crate::status::ClockPolicy;

/// Everything the rules need besides the rows: the calendar in force, the policies from
/// settings, and what "today" is.
#[derive(Clone)]
pub struct DomainCtx {
    pub calendar: Arc<Calendar>,
    pub clock: ClockPolicy,
    pub rha: RhaPolicy,
    pub today: NaiveDate,
}

impl DomainCtx {
    pub fn new(calendar: Arc<Calendar>, settings: &Settings, today: NaiveDate) -> DomainCtx {
        DomainCtx {
            calendar,
            clock: clock_policy(settings),
            rha: rha_policy(settings),
            today,
        }
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
