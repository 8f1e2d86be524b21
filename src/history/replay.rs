//! Replaying an assessment's events up to a day (rules in the module above).

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};

use super::{Change, Event, RequestStep};
use crate::status::{AssessmentFacts, OutOfAreaFacts};
use crate::workflow::{Kind, Outcome, State};

/// The assessment as it stood on a day: the facts `status::derive` judges, and what a
/// view shows beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub facts: AssessmentFacts,
    pub completion_method: Option<String>,
    pub end_reason: Option<String>,
    /// The appointment in hand (booked, no outcome yet, or attended).
    pub appointment_id: Option<String>,
    /// The out-of-area request that counted on the day.
    pub request_id: Option<String>,
    /// Consents given and not withdrawn by the day.
    pub consents_in_force: Vec<String>,
    /// Non-attendances in order, each with its outcome.
    pub non_attendances: Vec<(NaiveDate, Outcome)>,
    /// Refusals in order: a re-offer does not remove one.
    pub refusals: Vec<NaiveDate>,
}

/// One request as it stood.
#[derive(Debug, Clone)]
struct Request {
    id: String,
    facts: OutOfAreaFacts,
    closed: bool,
}

/// Replays `events` effective on or before `as_of` (and, when `known_at` is given,
/// recorded by then) over an assessment of `kind` whose clock started on
/// `clock_started_on` and is due on `due_on` (the due date is the calendar's, not an event).
pub fn replay(
    kind: Kind,
    clock_started_on: NaiveDate,
    due_on: NaiveDate,
    events: &[Event],
    as_of: NaiveDate,
    known_at: Option<NaiveDateTime>,
) -> Replayed {
    let first = match kind {
        Kind::Iha => State::AwaitingNotification,
        Kind::Rha => State::Scheduled,
    };
    let mut r = Replayer {
        kind,
        out: Replayed {
            facts: AssessmentFacts::new(kind, first, clock_started_on, due_on),
            completion_method: None,
            end_reason: None,
            appointment_id: None,
            request_id: None,
            consents_in_force: Vec::new(),
            non_attendances: Vec::new(),
            refusals: Vec::new(),
        },
        requests: Vec::new(),
    };
    for e in in_order(events, as_of, known_at) {
        r.apply(e);
    }
    r.finish()
}

/// The events to replay, in replay order: known by `known_at`, not superseded, effective
/// by `as_of` (the opening always), by effective date and then recording order.
fn in_order(events: &[Event], as_of: NaiveDate, known_at: Option<NaiveDateTime>) -> Vec<&Event> {
    let known: Vec<&Event> = events
        .iter()
        .filter(|e| known_at.is_none_or(|t| e.recorded_at <= t))
        .collect();
    let superseded: HashSet<&str> = known.iter().filter_map(|e| e.supersedes.as_deref()).collect();
    let mut chosen: Vec<&Event> = known
        .into_iter()
        .filter(|e| !superseded.contains(e.id.as_str()))
        .filter(|e| matches!(e.change, Change::Opened { .. }) || e.effective_on <= as_of)
        .collect();
    chosen.sort_by_key(|e| (!matches!(e.change, Change::Opened { .. }), e.effective_on, e.seq));
    chosen
}

struct Replayer {
    kind: Kind,
    out: Replayed,
    requests: Vec<Request>,
}

impl Replayer {
    fn state(&self) -> State {
        self.out.facts.state
    }

    fn set(&mut self, s: State) {
        self.out.facts.state = s;
    }

    /// Open and not yet seen: the states a booking or a sighting moves on from.
    fn before_seen(&self) -> bool {
        use State::*;
        matches!(
            self.state(),
            AwaitingNotification | AwaitingConsent | AwaitingBooking | Scheduled | Booked
        )
    }

    fn apply(&mut self, e: &Event) {
        let d = e.effective_on;
        match &e.change {
            Change::Opened { state } => self.set(*state),
            Change::Notified => {
                self.out.facts.notified_on = Some(d);
                if self.state() == State::AwaitingNotification {
                    self.set(State::AwaitingConsent);
                }
            }
            Change::ConsentGiven { consent_id } => {
                self.out.facts.consent_on = Some(d);
                self.out.consents_in_force.push(consent_id.clone());
                if self.kind == Kind::Iha
                    && matches!(self.state(), State::AwaitingConsent | State::AwaitingNotification)
                {
                    self.set(State::AwaitingBooking);
                }
            }
            Change::ConsentRefused { .. } => {
                if self.state().is_open() {
                    self.out.refusals.push(d);
                    self.end(State::Refused, d, "competent refusal by the young person");
                }
            }
            Change::ConsentWithdrawn { consent_id } => self.withdraw(consent_id),
            Change::BookingWindowOpened => {
                if self.state() == State::Scheduled {
                    self.set(State::AwaitingBooking);
                }
            }
            Change::Booked {
                appointment_id,
                appointment_on,
            } => {
                self.out.facts.first_booked_on.get_or_insert(d);
                self.out.facts.appointment_on = Some(*appointment_on);
                self.out.appointment_id = Some(appointment_id.clone());
                if self.before_seen() {
                    self.set(State::Booked);
                }
            }
            Change::AppointmentOutcome {
                appointment_id,
                outcome,
            } => self.outcome(appointment_id, *outcome, d),
            Change::Seen => {
                self.out.facts.seen_on = Some(d);
                if self.before_seen() {
                    self.set(State::AwaitingReport);
                }
            }
            Change::Completed {
                method,
                report_received,
            } => {
                let f = &mut self.out.facts;
                f.completed_on = Some(d);
                f.report_received_on = report_received.then_some(d);
                f.appointment_on = None;
                self.out.completion_method = Some(method.clone());
                self.out.appointment_id = None;
                self.set(State::Completed);
            }
            Change::Reoffered => {
                if self.state() == State::Refused {
                    self.out.facts.ended_on = None;
                    self.out.end_reason = None;
                    self.set(State::AwaitingBooking);
                }
            }
            Change::NotRequired { reason } => self.end(State::NotRequired, d, reason),
            Change::Closed { reason } => {
                self.out.facts.appointment_on = None;
                self.out.appointment_id = None;
                self.end(State::Closed, d, reason);
            }
            Change::Request { request_id, step } => self.request(request_id, *step, d),
        }
    }

    fn end(&mut self, to: State, on: NaiveDate, reason: &str) {
        self.out.facts.ended_on = Some(on);
        self.out.end_reason = Some(reason.to_string());
        self.set(to);
    }

    /// Withdrawing the consent an open IHA relied on (the last in force) sends it back to
    /// awaiting consent and cancels the appointment in hand.
    fn withdraw(&mut self, consent_id: &str) {
        let was_in_force = self.out.consents_in_force.iter().any(|c| c == consent_id);
        self.out.consents_in_force.retain(|c| c != consent_id);
        let relied_on = was_in_force && self.out.consents_in_force.is_empty();
        if relied_on && self.kind == Kind::Iha && matches!(self.state(), State::AwaitingBooking | State::Booked) {
            self.out.facts.consent_on = None;
            self.out.facts.appointment_on = None;
            self.out.appointment_id = None;
            self.set(State::AwaitingConsent);
        }
    }

    fn outcome(&mut self, appointment_id: &str, outcome: Outcome, on: NaiveDate) {
        let in_hand = self.out.appointment_id.as_deref() == Some(appointment_id);
        if outcome.is_attendance() {
            self.out.facts.seen_on = Some(on);
            if in_hand && self.state() == State::Booked {
                self.set(State::AwaitingReport);
            }
            return;
        }
        let f = &mut self.out.facts;
        f.non_attendance_count += 1;
        f.last_non_attendance = Some((on, outcome));
        self.out.non_attendances.push((on, outcome));
        if in_hand {
            self.out.facts.appointment_on = None;
            self.out.appointment_id = None;
            if self.state() == State::Booked {
                self.set(State::AwaitingBooking);
            }
        }
    }

    fn request(&mut self, id: &str, step: RequestStep, on: NaiveDate) {
        if step == RequestStep::Opened {
            self.requests.push(Request {
                id: id.to_string(),
                facts: OutOfAreaFacts::default(),
                closed: false,
            });
            return;
        }
        let Some(r) = self.requests.iter_mut().rev().find(|r| r.id == id) else {
            return;
        };
        match step {
            RequestStep::Opened => {}
            RequestStep::Sent => r.facts.requested_on = Some(on),
            RequestStep::Acknowledged => r.facts.acknowledged_on = Some(on),
            RequestStep::AppointmentOffered => r.facts.appointment_offered_on = Some(on),
            RequestStep::ReportReceived => r.facts.report_received_on = Some(on),
            RequestStep::Closed => r.closed = true,
        }
    }

    fn finish(mut self) -> Replayed {
        if let Some(r) = self.requests.iter().rev().find(|r| !r.closed) {
            self.out.facts.out_of_area = Some(r.facts);
            self.out.request_id = Some(r.id.clone());
        }
        self.out
    }
}
