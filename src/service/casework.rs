//! One assessment with what a person needs to act on it: the child it is for, the legal
//! status consent is judged against, its appointments, consents and open out-of-area
//! request. What the browser's assessment page shows.
//!
//! Rules:
//! - The read is `assessments::get`'s: the same scope (404 outside it) and audit entry.
//! - The legal status is the assessment's period's.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::views::{AppointmentView, AssessmentView, ChildSummary, ConsentView, OutOfAreaRequestView};
use super::DomainCtx;
use crate::db::models;
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::AppResult;

#[derive(Debug)]
pub struct AssessmentCase {
    pub assessment: AssessmentView,
    pub child: ChildSummary,
    pub legal_status: Option<String>,
    /// Oldest first.
    pub appointments: Vec<AppointmentView>,
    pub consents: Vec<ConsentView>,
    /// The open request, with its version for an update.
    pub request: Option<OutOfAreaRequestView>,
}

impl AssessmentCase {
    /// The appointment whose outcome is still to be recorded (the latest booked).
    pub fn pending_appointment(&self) -> Option<&AppointmentView> {
        self.appointments.iter().rfind(|a| a.outcome.is_none())
    }
}

pub fn assessment_case(conn: &mut DbConn, ctx: &DomainCtx, id: &str, as_of: NaiveDate) -> AppResult<AssessmentCase> {
    let assessment = super::assessments::get(conn, ctx, id, as_of)?;
    let child = super::children::load(conn, &assessment.child_id)?;
    let legal_status: Option<String> = match &assessment.period_id {
        Some(pid) => periods::table
            .find(pid)
            .select(periods::legal_status)
            .first(conn)
            .optional()?,
        None => None,
    };
    let appointments: Vec<models::Appointment> = appointments::table
        .filter(appointments::assessment_id.eq(id))
        .order((appointments::starts_at.asc(), appointments::created_at.asc()))
        .select(models::Appointment::as_select())
        .load(conn)?;
    let consents: Vec<models::Consent> = consents::table
        .filter(consents::assessment_id.eq(id))
        .order(consents::created_at.asc())
        .select(models::Consent::as_select())
        .load(conn)?;
    let request = super::assessments::open_requests(conn, &[id])?;
    Ok(AssessmentCase {
        assessment,
        child: ChildSummary::from(&child),
        legal_status,
        appointments: appointments.iter().map(AppointmentView::from).collect(),
        consents: consents.iter().map(ConsentView::from).collect(),
        request: request.first().map(OutOfAreaRequestView::from),
    })
}
