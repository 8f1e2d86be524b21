//! Replay tests named after the rules (DOMAIN.md "History, and whose step was late"), and
//! a property test comparing the replay with a plain reference replay on every day of
//! generated histories, and with the stored-RAG stamp made from the final row.

use chrono::{Days, NaiveDate, NaiveDateTime};
use proptest::prelude::*;

use super::*;
use crate::calendar::Calendar;
use crate::rag_stamp;
use crate::status::{self, iha_due_on, AssessmentFacts, Attribution, Blocker, ClockPolicy, DerivedStatus, Rag};
use crate::workflow::{self, Event as Step, Kind, Outcome, State};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

/// Published-style data for the years the tests use, made once: looking holidays up in
/// data is what the service does, and much quicker than the rules on every call.
fn cal() -> &'static Calendar {
    static CAL: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CAL.get_or_init(|| {
        Calendar::new(
            (2024..=2029)
                .flat_map(crate::calendar::rules::holidays_with_known_changes)
                .collect(),
        )
    })
}

fn dob() -> NaiveDate {
    d(2012, 6, 1)
}

/// An assessment's history, built in recording order.
struct History {
    kind: Kind,
    clock_started_on: NaiveDate,
    due_on: NaiveDate,
    events: Vec<Event>,
}

impl History {
    /// An IHA whose day 0 is Mon 2 Feb 2026: working day n is n weekdays later (no bank
    /// holiday before Good Friday), so notification is due Wed 4 Feb, consent Mon 9 Feb,
    /// the appointment Mon 23 Feb and the report (the due date) Mon 2 Mar.
    fn feb_iha() -> History {
        let day0 = d(2026, 2, 2);
        let mut h = History {
            kind: Kind::Iha,
            clock_started_on: day0,
            due_on: iha_due_on(cal(), day0, &ClockPolicy::default()),
            events: Vec::new(),
        };
        h.at(
            day0,
            Change::Opened {
                state: State::AwaitingNotification,
            },
        );
        h
    }

    /// Notified on Tue 3 Feb and consent given on Fri 6 Feb: on time.
    fn consented() -> History {
        let mut h = History::feb_iha();
        h.at(d(2026, 2, 3), Change::Notified);
        h.at(
            d(2026, 2, 6),
            Change::ConsentGiven {
                consent_id: "c1".into(),
            },
        );
        h
    }

    fn at(&mut self, on: NaiveDate, change: Change) -> String {
        let seq = self.events.len() as i32 + 1;
        let id = format!("e{seq}");
        self.events.push(Event {
            id: id.clone(),
            seq,
            effective_on: on,
            recorded_at: recorded(seq),
            recorded_by: Some("tester".into()),
            supersedes: None,
            change,
        });
        id
    }

    fn book(&mut self, on: NaiveDate, id: &str, for_on: NaiveDate) {
        self.at(
            on,
            Change::Booked {
                appointment_id: id.into(),
                appointment_on: for_on,
            },
        );
    }

    fn outcome(&mut self, on: NaiveDate, id: &str, outcome: Outcome) {
        self.at(
            on,
            Change::AppointmentOutcome {
                appointment_id: id.into(),
                outcome,
            },
        );
    }

    fn request(&mut self, on: NaiveDate, step: RequestStep) {
        self.at(
            on,
            Change::Request {
                request_id: "r1".into(),
                step,
            },
        );
    }

    fn replay(&self, as_of: NaiveDate) -> Replayed {
        replay(self.kind, self.clock_started_on, self.due_on, &self.events, as_of, None)
    }

    fn on(&self, as_of: NaiveDate) -> DerivedStatus {
        status::derive(&self.replay(as_of).facts, dob(), cal(), as_of, &ClockPolicy::default())
    }
}

/// Recording instants in order: 2026-12-01 00:00 plus `seq` minutes.
fn recorded(seq: i32) -> NaiveDateTime {
    d(2026, 12, 1).and_hms_opt(0, 0, 0).expect("midnight") + chrono::Duration::minutes(i64::from(seq))
}

fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |day| *day <= to)
}

/// Booked on Mon 9 Feb for Fri 20 Feb; not brought; rebooked on Tue 24 Feb for Tue 10 Mar,
/// after the due date (Mon 2 Mar).
fn not_brought_then_rebooked_late() -> History {
    let mut h = History::consented();
    h.book(d(2026, 2, 9), "a1", d(2026, 2, 20));
    h.outcome(d(2026, 2, 20), "a1", Outcome::WasNotBrought);
    h.book(d(2026, 2, 24), "a2", d(2026, 3, 10));
    h
}

#[test]
fn a_later_rebooking_never_turns_earlier_days_red() {
    let h = not_brought_then_rebooked_late();
    for day in days(d(2026, 2, 9), d(2026, 2, 23)) {
        assert_ne!(h.on(day).rag, Rag::Red, "{day}");
    }
    assert_eq!(h.on(d(2026, 2, 19)).rag, Rag::Green);
    assert_eq!(h.on(d(2026, 2, 19)).blocker, Blocker::Appointment);
    // The day the late appointment was made, it could no longer be met.
    assert_eq!(h.on(d(2026, 2, 24)).rag, Rag::Red);
}

#[test]
fn between_a_non_attendance_and_the_rebooking_it_is_awaiting_booking() {
    let h = not_brought_then_rebooked_late();
    assert_eq!(h.on(d(2026, 2, 19)).state, State::Booked);
    for day in days(d(2026, 2, 20), d(2026, 2, 23)) {
        let s = h.on(day);
        assert_eq!(
            (s.state, s.blocker),
            (State::AwaitingBooking, Blocker::Booking),
            "{day}"
        );
        assert_eq!(h.replay(day).facts.appointment_on, None, "{day}");
    }
    // Appointment milestone (Mon 23 Feb) missed after a child was not brought: the LA's.
    let tue = h.on(d(2026, 2, 24));
    assert_eq!(
        (tue.state, tue.breach_attribution),
        (State::Booked, Attribution::LocalAuthority)
    );
    assert_eq!(h.replay(d(2026, 2, 24)).facts.appointment_on, Some(d(2026, 3, 10)));
}

#[test]
fn a_refusal_and_a_later_reoffer_both_stay_visible() {
    let mut h = History::feb_iha();
    h.at(d(2026, 2, 3), Change::Notified);
    h.at(
        d(2026, 2, 10),
        Change::ConsentRefused {
            consent_id: "c1".into(),
        },
    );
    h.at(d(2026, 2, 16), Change::Reoffered);
    assert_eq!(h.on(d(2026, 2, 9)).state, State::AwaitingConsent);
    for day in days(d(2026, 2, 10), d(2026, 2, 15)) {
        let s = h.on(day);
        assert_eq!(
            (s.state, s.blocker, s.rag),
            (State::Refused, Blocker::Refused, Rag::Green),
            "{day}"
        );
        assert_eq!(h.replay(day).facts.ended_on, Some(d(2026, 2, 10)));
    }
    let after = h.replay(d(2026, 2, 16));
    assert_eq!(
        (after.facts.state, after.facts.ended_on),
        (State::AwaitingBooking, None)
    );
    assert_eq!(after.refusals, vec![d(2026, 2, 10)], "the refusal stays in the history");
}

#[test]
fn an_rha_before_its_first_booking_is_scheduled() {
    let anchor = d(2026, 6, 15);
    let mut h = History {
        kind: Kind::Rha,
        clock_started_on: anchor,
        due_on: d(2027, 6, 15),
        events: Vec::new(),
    };
    h.at(
        anchor,
        Change::Opened {
            state: State::Scheduled,
        },
    );
    h.book(d(2027, 5, 4), "a1", d(2027, 6, 1));
    let before = h.on(d(2027, 5, 3));
    assert_eq!((before.state, before.blocker), (State::Scheduled, Blocker::Booking));
    assert_eq!(h.on(d(2027, 5, 4)).state, State::Booked);
}

/// Out of area from Thu 5 Feb, the request sent on Fri 6 Feb and acknowledged on Tue 10 Feb;
/// back in area on Fri 20 Feb, which closes the request.
fn host_request_acknowledged_then_closed() -> History {
    let mut h = History::consented();
    h.request(d(2026, 2, 5), RequestStep::Opened);
    h.request(d(2026, 2, 6), RequestStep::Sent);
    h.request(d(2026, 2, 10), RequestStep::Acknowledged);
    h.request(d(2026, 2, 20), RequestStep::Closed);
    h
}

#[test]
fn a_past_view_of_an_out_of_area_child_keeps_the_host_as_blocker() {
    let h = host_request_acknowledged_then_closed();
    let past = h.replay(d(2026, 2, 18));
    assert_eq!(past.request_id.as_deref(), Some("r1"), "counted out of area that day");
    assert_eq!(h.on(d(2026, 2, 18)).blocker, Blocker::HostProvider);
    assert_eq!(h.replay(d(2026, 2, 20)).request_id, None);
    assert_eq!(h.on(d(2026, 2, 20)).blocker, Blocker::Booking);
}

#[test]
fn a_host_request_acknowledged_then_closed() {
    let h = host_request_acknowledged_then_closed();
    let oa = |day| h.replay(day).facts.out_of_area;
    assert_eq!(oa(d(2026, 2, 5)).and_then(|o| o.requested_on), None);
    assert_eq!(oa(d(2026, 2, 9)).and_then(|o| o.acknowledged_on), None);
    assert_eq!(oa(d(2026, 2, 10)).and_then(|o| o.acknowledged_on), Some(d(2026, 2, 10)));
    // The booking (appointment milestone Mon 23 Feb) was the host's until it came back.
    assert_eq!(h.on(d(2026, 2, 19)).blocker, Blocker::HostProvider);
    assert_eq!(oa(d(2026, 2, 21)), None);
}

#[test]
fn two_rebookings() {
    let mut h = History::consented();
    h.book(d(2026, 2, 9), "a1", d(2026, 2, 13));
    h.outcome(d(2026, 2, 11), "a1", Outcome::CancelledByProvider);
    h.book(d(2026, 2, 12), "a2", d(2026, 2, 18));
    h.outcome(d(2026, 2, 18), "a2", Outcome::WasNotBrought);
    h.book(d(2026, 2, 19), "a3", d(2026, 2, 25));
    let seen = |day| {
        let r = h.replay(day);
        (r.facts.state, r.facts.appointment_on, r.facts.non_attendance_count)
    };
    assert_eq!(seen(d(2026, 2, 10)), (State::Booked, Some(d(2026, 2, 13)), 0));
    assert_eq!(seen(d(2026, 2, 11)), (State::AwaitingBooking, None, 1));
    assert_eq!(seen(d(2026, 2, 12)), (State::Booked, Some(d(2026, 2, 18)), 1));
    assert_eq!(seen(d(2026, 2, 18)), (State::AwaitingBooking, None, 2));
    assert_eq!(seen(d(2026, 2, 19)), (State::Booked, Some(d(2026, 2, 25)), 2));
    // The first booking stays the first: the booking milestone is judged on it.
    assert_eq!(h.replay(d(2026, 2, 19)).facts.first_booked_on, Some(d(2026, 2, 9)));
    // Missing the appointment milestone (23 Feb) after the last one, not brought: the LA's.
    assert_eq!(h.on(d(2026, 2, 24)).breach_attribution, Attribution::LocalAuthority);
}

#[test]
fn a_cancellation_made_days_before_the_appointment() {
    // Made on Thu 12 Feb for the appointment on Fri 20 Feb: dated the day it was made.
    let on = crate::db::history::outcome_effective_on(Outcome::CancelledByCarer, d(2026, 2, 20), d(2026, 2, 12));
    assert_eq!(on, d(2026, 2, 12));
    let not_brought = crate::db::history::outcome_effective_on(Outcome::WasNotBrought, d(2026, 2, 20), d(2026, 2, 23));
    assert_eq!(
        not_brought,
        d(2026, 2, 20),
        "a non-attendance is dated by the appointment"
    );
    let mut h = History::consented();
    h.book(d(2026, 2, 9), "a1", d(2026, 2, 20));
    h.outcome(on, "a1", Outcome::CancelledByCarer);
    assert_eq!(h.on(d(2026, 2, 11)).blocker, Blocker::Appointment);
    let cancelled = h.replay(d(2026, 2, 12));
    assert_eq!(cancelled.facts.state, State::AwaitingBooking);
    assert_eq!(
        cancelled.facts.last_non_attendance,
        Some((d(2026, 2, 12), Outcome::CancelledByCarer))
    );
}

#[test]
fn withdrawal_after_booking_sends_it_back_to_awaiting_consent_and_cancels_the_appointment() {
    let mut h = History::consented();
    h.book(d(2026, 2, 9), "a1", d(2026, 2, 20));
    h.at(
        d(2026, 2, 12),
        Change::ConsentWithdrawn {
            consent_id: "c1".into(),
        },
    );
    let before = h.replay(d(2026, 2, 11));
    assert_eq!(before.consents_in_force, vec!["c1".to_string()]);
    assert_eq!(
        (before.facts.state, before.facts.appointment_on),
        (State::Booked, Some(d(2026, 2, 20)))
    );
    let after = h.replay(d(2026, 2, 12));
    assert!(after.consents_in_force.is_empty());
    assert_eq!(
        (after.facts.state, after.facts.appointment_on),
        (State::AwaitingConsent, None)
    );
    assert_eq!(h.on(d(2026, 2, 12)).blocker, Blocker::Consent);
    // Consent again on Fri 13 Feb (consent milestone Mon 9 Feb: met before, and late now).
    h.at(
        d(2026, 2, 13),
        Change::ConsentGiven {
            consent_id: "c2".into(),
        },
    );
    let again = h.on(d(2026, 2, 13));
    assert_eq!(
        (again.state, again.breach_attribution),
        (State::AwaitingBooking, Attribution::LocalAuthority)
    );
}

#[test]
fn withdrawing_one_of_two_consents_leaves_the_assessment_as_it_was() {
    let mut h = History::consented();
    h.at(
        d(2026, 2, 7),
        Change::ConsentGiven {
            consent_id: "c2".into(),
        },
    );
    h.book(d(2026, 2, 9), "a1", d(2026, 2, 20));
    h.at(
        d(2026, 2, 12),
        Change::ConsentWithdrawn {
            consent_id: "c1".into(),
        },
    );
    assert_eq!(h.replay(d(2026, 2, 12)).facts.state, State::Booked);
}

#[test]
fn a_correction_supersedes_the_event_it_corrects_without_editing_it() {
    let mut h = History::consented();
    h.request(d(2026, 2, 5), RequestStep::Opened);
    let wrong = h.at(
        d(2026, 2, 6),
        Change::Request {
            request_id: "r1".into(),
            step: RequestStep::Sent,
        },
    );
    let correction = h.at(
        d(2026, 2, 9),
        Change::Request {
            request_id: "r1".into(),
            step: RequestStep::Sent,
        },
    );
    h.events.last_mut().expect("the correction").supersedes = Some(wrong.clone());
    let sent = |known_at: Option<NaiveDateTime>| {
        replay(
            h.kind,
            h.clock_started_on,
            h.due_on,
            &h.events,
            d(2026, 2, 20),
            known_at,
        )
        .facts
        .out_of_area
        .and_then(|o| o.requested_on)
    };
    assert_eq!(sent(None), Some(d(2026, 2, 9)));
    // What was known before the correction was recorded.
    let before = h
        .events
        .iter()
        .find(|e| e.id == correction)
        .expect("recorded")
        .recorded_at
        - chrono::Duration::seconds(1);
    assert_eq!(sent(Some(before)), Some(d(2026, 2, 6)));
    assert!(h.events.iter().any(|e| e.id == wrong), "the corrected event is kept");
}

#[test]
fn events_recorded_late_replay_by_the_day_they_happened() {
    let mut h = History::feb_iha();
    // Consent recorded first, the notification (which came earlier) recorded after it.
    h.at(
        d(2026, 2, 6),
        Change::ConsentGiven {
            consent_id: "c1".into(),
        },
    );
    h.at(d(2026, 2, 3), Change::Notified);
    assert_eq!(h.on(d(2026, 2, 4)).state, State::AwaitingConsent);
    assert_eq!(h.on(d(2026, 2, 6)).state, State::AwaitingBooking);
}

// ---------------------------------------------------------------------------------------
// Generated histories

/// A step the generator may take on a day.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Nothing,
    Step(u8),
}

/// Builds a valid 30-day history from choices: each day takes up to two steps the
/// workflow allows then, plus host-request steps, as the services would record them.
fn generate(kind: Kind, choices: &[(Pick, u8, u8)]) -> History {
    let day0 = d(2026, 2, 2);
    let due_on = match kind {
        Kind::Iha => iha_due_on(cal(), day0, &ClockPolicy::default()),
        Kind::Rha => d(2026, 3, 2),
    };
    let first = if kind == Kind::Iha {
        State::AwaitingNotification
    } else {
        State::Scheduled
    };
    let mut h = History {
        kind,
        clock_started_on: day0,
        due_on,
        events: Vec::new(),
    };
    h.at(day0, Change::Opened { state: first });
    let mut state = first;
    let mut appointment: Option<(String, NaiveDate)> = None;
    let mut request: u8 = 0; // 0 none, 1 opened, 2 sent, 3 acknowledged, 4 closed
    let mut n = 0;
    for (i, (pick, extra, host)) in choices.iter().enumerate() {
        let day = day0 + Days::new(i as u64);
        if let Pick::Step(which) = pick {
            for k in 0..=(*extra % 2) {
                let allowed = workflow::allowed_events(kind, state);
                if allowed.is_empty() {
                    break;
                }
                let name = allowed[(*which as usize + k as usize) % allowed.len()];
                n += 1;
                state = take(&mut h, kind, state, name, day, n, *extra, &mut appointment);
            }
        }
        match (request, host % 5) {
            (0, 0) => {
                h.request(day, RequestStep::Opened);
                request = 1;
            }
            (1, 1) => {
                h.request(day, RequestStep::Sent);
                request = 2;
            }
            (2, 2) => {
                h.request(day, RequestStep::Acknowledged);
                request = 3;
            }
            (1..=3, 3) => {
                h.request(day, RequestStep::Closed);
                request = 4;
            }
            _ => {}
        }
    }
    h
}

/// Records the step `name` on `day`, as the service would; returns the state after it.
#[allow(clippy::too_many_arguments)]
fn take(
    h: &mut History,
    kind: Kind,
    state: State,
    name: &str,
    day: NaiveDate,
    n: u32,
    extra: u8,
    appointment: &mut Option<(String, NaiveDate)>,
) -> State {
    let step = |event: &Step| workflow::transition(kind, state, event).expect("allowed");
    match name {
        "notification" => {
            h.at(day, Change::Notified);
            step(&Step::Notify)
        }
        "consent" => {
            h.at(
                day,
                Change::ConsentGiven {
                    consent_id: format!("c{n}"),
                },
            );
            step(&Step::ConfirmConsent)
        }
        "refusal" => {
            h.at(
                day,
                Change::ConsentRefused {
                    consent_id: format!("c{n}"),
                },
            );
            step(&Step::RefuseConsent)
        }
        "booking_window" => {
            h.at(day, Change::BookingWindowOpened);
            step(&Step::OpenBooking)
        }
        "appointment" => {
            let id = format!("a{n}");
            let for_on = day + Days::new(u64::from(extra % 12));
            h.book(day, &id, for_on);
            *appointment = Some((id, for_on));
            step(&Step::Book)
        }
        "outcome" => {
            let (id, for_on) = appointment.clone().expect("booked");
            // On the day only a cancellation can be recorded before the appointment.
            let outcome = if for_on > day {
                [
                    Outcome::CancelledByCarer,
                    Outcome::CancelledByLa,
                    Outcome::CancelledByProvider,
                ][usize::from(extra % 3)]
            } else {
                Outcome::ALL[usize::from(extra) % Outcome::ALL.len()]
            };
            let on = crate::db::history::outcome_effective_on(outcome, for_on, day);
            h.outcome(on, &id, outcome);
            step(&Step::RecordOutcome(outcome))
        }
        "completion" => {
            h.at(day, Change::Seen);
            h.at(
                day,
                Change::Completed {
                    method: "face_to_face".into(),
                    report_received: extra.is_multiple_of(2),
                },
            );
            step(&Step::Complete)
        }
        "reoffer" => {
            h.at(day, Change::Reoffered);
            step(&Step::Reoffer)
        }
        "not_required" => {
            h.at(day, Change::NotRequired { reason: "prior".into() });
            step(&Step::MarkNotRequired)
        }
        "close" => {
            h.at(day, Change::Closed { reason: "ended".into() });
            step(&Step::Close)
        }
        other => panic!("unexpected step {other}"),
    }
}

/// The plain reference: the events effective by `as_of`, in order, each run through the
/// workflow's own transition and copied into the facts field by field.
fn reference(h: &History, as_of: NaiveDate) -> AssessmentFacts {
    let mut chosen: Vec<&Event> = h.events.iter().filter(|e| e.effective_on <= as_of).collect();
    chosen.sort_by_key(|e| (e.effective_on, e.seq));
    let mut f = AssessmentFacts::new(h.kind, State::Closed, h.clock_started_on, h.due_on);
    let mut in_hand: Option<String> = None;
    let mut requests: Vec<(String, status::OutOfAreaFacts, bool)> = Vec::new();
    for e in chosen {
        let day = e.effective_on;
        let go = |f: &AssessmentFacts, ev: Step| workflow::transition(h.kind, f.state, &ev).unwrap_or(f.state);
        match &e.change {
            Change::Opened { state } => f.state = *state,
            Change::Notified => {
                f.state = go(&f, Step::Notify);
                f.notified_on = Some(day);
            }
            Change::ConsentGiven { .. } => {
                if h.kind == Kind::Iha {
                    f.state = go(&f, Step::ConfirmConsent);
                }
                f.consent_on = Some(day);
            }
            Change::ConsentRefused { .. } => {
                f.state = go(&f, Step::RefuseConsent);
                f.ended_on = Some(day);
            }
            Change::ConsentWithdrawn { .. } => {}
            Change::BookingWindowOpened => f.state = go(&f, Step::OpenBooking),
            Change::Booked {
                appointment_id,
                appointment_on,
            } => {
                f.state = go(&f, Step::Book);
                f.first_booked_on = f.first_booked_on.or(Some(day));
                f.appointment_on = Some(*appointment_on);
                in_hand = Some(appointment_id.clone());
            }
            Change::AppointmentOutcome { outcome, .. } => {
                f.state = go(&f, Step::RecordOutcome(*outcome));
                if *outcome == Outcome::Attended {
                    f.seen_on = Some(day);
                } else {
                    f.non_attendance_count += 1;
                    f.last_non_attendance = Some((day, *outcome));
                    f.appointment_on = None;
                    in_hand = None;
                }
            }
            Change::Seen => {
                f.seen_on = Some(day);
                if f.state == State::Booked {
                    f.state = State::AwaitingReport;
                }
            }
            Change::Completed { report_received, .. } => {
                f.state = go(&f, Step::Complete);
                f.completed_on = Some(day);
                f.report_received_on = report_received.then_some(day);
                f.appointment_on = None;
            }
            Change::Reoffered => {
                f.state = go(&f, Step::Reoffer);
                f.ended_on = None;
            }
            Change::NotRequired { .. } => {
                f.state = go(&f, Step::MarkNotRequired);
                f.ended_on = Some(day);
            }
            Change::Closed { .. } => {
                f.state = go(&f, Step::Close);
                f.ended_on = Some(day);
                f.appointment_on = None;
            }
            Change::Request { request_id, step } => match step {
                RequestStep::Opened => requests.push((request_id.clone(), Default::default(), false)),
                RequestStep::Sent => requests.last_mut().expect("opened").1.requested_on = Some(day),
                RequestStep::Acknowledged => requests.last_mut().expect("opened").1.acknowledged_on = Some(day),
                RequestStep::AppointmentOffered => {
                    requests.last_mut().expect("opened").1.appointment_offered_on = Some(day)
                }
                RequestStep::ReportReceived => requests.last_mut().expect("opened").1.report_received_on = Some(day),
                RequestStep::Closed => requests.last_mut().expect("opened").2 = true,
            },
        }
    }
    let _ = in_hand;
    f.out_of_area = requests.iter().rev().find(|r| !r.2).map(|r| r.1);
    f
}

fn picks() -> impl Strategy<Value = Vec<(Pick, u8, u8)>> {
    let pick = prop_oneof![
        2 => Just(Pick::Nothing),
        3 => any::<u8>().prop_map(Pick::Step),
    ];
    proptest::collection::vec((pick, any::<u8>(), any::<u8>()), 30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// On every day of a 30-day history (and a week after), the replay and the plain
    /// reference agree on the facts, and so on every derived field.
    #[test]
    fn views_on_every_day_of_a_30_day_history_equal_a_plain_reference_replay(
        rha in any::<bool>(),
        choices in picks(),
    ) {
        let kind = if rha { Kind::Rha } else { Kind::Iha };
        let h = generate(kind, &choices);
        let policy = ClockPolicy::default();
        for day in days(h.clock_started_on, h.clock_started_on + Days::new(37)) {
            let replayed = h.replay(day).facts;
            let plain = reference(&h, day);
            prop_assert_eq!(&replayed, &plain, "facts on {}", day);
            prop_assert_eq!(
                status::derive(&replayed, dob(), cal(), day, &policy),
                status::derive(&plain, dob(), cal(), day, &policy),
                "derived on {}", day
            );
        }
    }

    /// The stored-RAG fast path under histories: a stamp made from the final row (the
    /// replay of everything) with the history's last day never covers a day whose replay
    /// gives another RAG, whatever day it is made on.
    #[test]
    fn a_stamp_from_the_final_row_holds_on_every_day_it_covers(
        rha in any::<bool>(),
        choices in picks(),
        made in 0u64..60,
    ) {
        let kind = if rha { Kind::Rha } else { Kind::Iha };
        let h = generate(kind, &choices);
        let policy = ClockPolicy::default();
        let end = h.clock_started_on + Days::new(90);
        let row = h.replay(end).facts;
        let today = h.clock_started_on + Days::new(made);
        let stamp = rag_stamp::stamp_after(&row, through(&h.events), cal(), &policy, today);
        for day in days(h.clock_started_on, end).filter(|day| stamp.covers(*day)) {
            let replayed = h.replay(day).facts;
            prop_assert_eq!(
                status::standing(&replayed, cal(), day, &policy).rag,
                stamp.rag,
                "{} covered by {:?}", day, stamp
            );
        }
    }
}
