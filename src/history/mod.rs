//! A record that remembers: every step of an assessment is a dated event kept for ever,
//! and the assessment on any day D is what replaying the events effective on or before D
//! gives. Pure: no I/O; `db::history` stores the events and the services write them.
//!
//! Rules (DOMAIN.md "History, and whose step was late"):
//!
//! - **Effective date and recording.** Each event has the day it happened (`effective_on`)
//!   and when and by whom it was recorded (`recorded_at`, `recorded_by`). A view "as of D"
//!   replays every event effective on or before D, whenever it was recorded; a view "as
//!   known at T" also leaves out the events recorded after T (restatements).
//! - **Corrections are new events.** An event that `supersedes` another takes its place;
//!   the one superseded is never replayed once the correction is known. Nothing is edited.
//! - **Order.** Events replay in effective-date order, and in the order they were recorded
//!   (`seq`) within a day. The opening event (kind, first state) always applies: it says
//!   what the assessment is, not something that happened to it.
//! - **Bookings.** A booking has the day it was made (effective) and the day it is for. The
//!   appointment in hand on D is the latest booking made by D without an outcome by D, so a
//!   later rebooking never changes an earlier day.
//! - **Outcomes.** An attendance or non-attendance is effective on the appointment's day;
//!   a cancellation on the day it was made. A non-attendance of the appointment in hand
//!   sends the assessment back to awaiting booking until the next booking.
//! - **Refusal and re-offer.** A refusal ends the assessment until a re-offer opens it
//!   again; both stay in the history, so a day between them shows the refusal.
//! - **Out-of-area requests.** Each request has its own events (opened, sent, acknowledged,
//!   appointment offered, report received, closed); the request that counts on D is the
//!   latest opened by D and not closed by D.

mod replay;

pub use replay::{replay, Replayed};

use chrono::{NaiveDate, NaiveDateTime};

use crate::workflow::{Outcome, State};

/// One recorded step of one assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    /// The order of recording within the assessment (1, 2, ...).
    pub seq: i32,
    pub effective_on: NaiveDate,
    pub recorded_at: NaiveDateTime,
    /// The account (id, else the system's name) that recorded it.
    pub recorded_by: Option<String>,
    /// The event this one corrects.
    pub supersedes: Option<String>,
    pub change: Change,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The assessment was opened in this state (its clock start is the effective date).
    Opened {
        state: State,
    },
    Notified,
    ConsentGiven {
        consent_id: String,
    },
    ConsentRefused {
        consent_id: String,
    },
    ConsentWithdrawn {
        consent_id: String,
    },
    /// An RHA's booking window opened.
    BookingWindowOpened,
    /// A booking made on the effective date for `appointment_on`.
    Booked {
        appointment_id: String,
        appointment_on: NaiveDate,
    },
    AppointmentOutcome {
        appointment_id: String,
        outcome: Outcome,
    },
    /// The child was seen (the completion's seen_on).
    Seen,
    /// Completed on the effective date; the report arrived then when `report_received`.
    Completed {
        method: String,
        report_received: bool,
    },
    Reoffered,
    NotRequired {
        reason: String,
    },
    Closed {
        reason: String,
    },
    Request {
        request_id: String,
        step: RequestStep,
    },
}

/// The steps of a request to a host area's CLA health provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStep {
    Opened,
    Sent,
    Acknowledged,
    AppointmentOffered,
    ReportReceived,
    Closed,
}

impl Change {
    /// The stored name of the event's kind (the `kind` column's CHECK list).
    pub fn name(&self) -> &'static str {
        match self {
            Change::Opened { .. } => "opened",
            Change::Notified => "notified",
            Change::ConsentGiven { .. } => "consent_given",
            Change::ConsentRefused { .. } => "consent_refused",
            Change::ConsentWithdrawn { .. } => "consent_withdrawn",
            Change::BookingWindowOpened => "booking_window",
            Change::Booked { .. } => "booked",
            Change::AppointmentOutcome { .. } => "outcome",
            Change::Seen => "seen",
            Change::Completed { .. } => "completed",
            Change::Reoffered => "reoffered",
            Change::NotRequired { .. } => "not_required",
            Change::Closed { .. } => "closed",
            Change::Request { step, .. } => step.name(),
        }
    }
}

impl RequestStep {
    pub const ALL: [RequestStep; 6] = [
        RequestStep::Opened,
        RequestStep::Sent,
        RequestStep::Acknowledged,
        RequestStep::AppointmentOffered,
        RequestStep::ReportReceived,
        RequestStep::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RequestStep::Opened => "request_opened",
            RequestStep::Sent => "request_sent",
            RequestStep::Acknowledged => "request_acknowledged",
            RequestStep::AppointmentOffered => "request_appointment_offered",
            RequestStep::ReportReceived => "request_report_received",
            RequestStep::Closed => "request_closed",
        }
    }

    pub fn from_name(name: &str) -> Option<RequestStep> {
        RequestStep::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The latest effective date among the events: from that day on, the assessment's
/// current row says what a replay would.
pub fn through(events: &[Event]) -> Option<NaiveDate> {
    events.iter().map(|e| e.effective_on).max()
}

#[cfg(test)]
mod tests;
