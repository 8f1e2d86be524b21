//! Step durations read from one assessment's facts as known on a day: each step either
//! ended (after so many working days) or was still waiting when the data was read.

use chrono::NaiveDate;

use super::model::first_appointment;
use super::{Group, Step};
use crate::calendar::Calendar;
use crate::status::AssessmentFacts;
use crate::workflow::Kind;

/// One step of one assessment: how long it took, or has been waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub group: Group,
    pub step: Step,
    pub days: i32,
    /// False when the step was still waiting (right-censored) when the data was read.
    pub ended: bool,
}

/// The day each step ended, from the facts and the first appointment's day (None when it
/// has not). Booking ends on the day the first appointment is for, not the day it was
/// made, so that the appointment step is timed from a day known in advance.
fn step_end(f: &AssessmentFacts, first_appointment_on: Option<NaiveDate>, step: Step) -> Option<NaiveDate> {
    match step {
        Step::Notification => f.notified_on,
        Step::Consent => f.consent_on,
        Step::Booking => first_appointment_on.filter(|_| f.first_booked_on.is_some()),
        Step::Appointment => f.seen_on,
        Step::Report => f.completed_on,
    }
}

/// The day the first step starts: day 0 for an IHA, the booking window for an RHA.
pub(super) fn first_start(cal: &Calendar, f: &AssessmentFacts, rha_lead: i32) -> NaiveDate {
    match f.kind {
        Kind::Iha => f.clock_started_on,
        Kind::Rha => cal.add_working_days(f.due_on, -rha_lead).max(f.clock_started_on),
    }
}

/// The observations `f` (the facts replayed as known on `as_of`) gives for steps that
/// started on or after `window_from`. A step with no end while a later step has one was
/// skipped in practice and says nothing; the first step without an end is waiting (or,
/// when the assessment ended without completion, dropped out on that day) and is the last.
pub fn observations(
    cal: &Calendar,
    f: &AssessmentFacts,
    group: &Group,
    as_of: NaiveDate,
    window_from: NaiveDate,
    rha_lead: i32,
) -> Vec<Observation> {
    observations_with(cal, f, first_appointment(f), group, as_of, window_from, rha_lead)
}

/// As [`observations`], with the day the first appointment was booked for when the caller
/// knows it from the history.
pub fn observations_with(
    cal: &Calendar,
    f: &AssessmentFacts,
    first_appointment_on: Option<NaiveDate>,
    group: &Group,
    as_of: NaiveDate,
    window_from: NaiveDate,
    rha_lead: i32,
) -> Vec<Observation> {
    let step_end = |step: Step| step_end(f, first_appointment_on, step);
    let steps = Step::of(f.kind);
    let mut out = Vec::new();
    let mut start = first_start(cal, f, rha_lead);
    for (i, step) in steps.iter().enumerate() {
        if start > as_of {
            break;
        }
        let obs = |days: i32, ended: bool| Observation {
            group: group.clone(),
            step: *step,
            days: days.max(0),
            ended,
        };
        let counted = start >= window_from;
        match step_end(*step).filter(|e| *e <= as_of) {
            Some(end) => {
                if counted {
                    out.push(obs(cal.working_days_between(start, end), true));
                }
                start = end.max(start);
            }
            None if steps[i + 1..].iter().any(|s| step_end(*s).is_some()) => {}
            None => {
                let stop = f.ended_on.filter(|e| *e <= as_of).unwrap_or(as_of);
                if counted && f.completed_on.is_none() {
                    out.push(obs(cal.working_days_between(start, stop), false));
                }
                break;
            }
        }
    }
    out
}
