//! When a stored RAG may stand in for deriving it: the pure rule behind the `rag`,
//! `rag_from`, `rag_until` and `rag_basis` columns of an assessment.
//!
//! Lists over a whole county (the assurance meeting's, `GET /assessments?rag=red`) cannot
//! derive hundreds of thousands of assessments per request, so each row carries its RAG
//! with the days on which that answer holds. The reasoning (rules in `status`):
//!
//! - Once `as_of` is on or after the date of every fact (the *latest fact*), nothing is
//!   masked: the state on `as_of` is the stored state, and the RAG depends on `as_of` only.
//! - A finished assessment (completed, refused, not required, closed) has stopped its
//!   clock: from the latest fact on, its RAG never changes.
//! - An open one changes RAG only on the day after a milestone's date (the milestone can
//!   become missed), the day after the due date, and the last working day on or before
//!   the due date (from then no working day is left to book in). Between two such days
//!   its RAG is constant.
//!
//! So a stamp is the RAG on `max(today, latest fact)` with the run of days around it that
//! holds none of those changes. The out-of-area request's dates are not facts here: they
//! move the blocker and the attribution, never the state or the RAG.
//!
//! The answer also depends on the rules themselves, the clock settings and the bank
//! holidays: [`basis`] names those, and a stamp made under another basis is not used.

use chrono::NaiveDate;

use crate::calendar::Calendar;
use crate::status::{self, AssessmentFacts, ClockPolicy, Rag};
use crate::workflow::State;

/// Change this whenever a rule in `status` that decides state or RAG changes, so that
/// stamps made by the older code are derived afresh.
pub const RULES_VERSION: &str = "status-rules-2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RagStamp {
    pub rag: Rag,
    /// The first day the RAG (and the stored state) hold for.
    pub from: NaiveDate,
    /// The last day the RAG holds for; `None` for good.
    pub until: Option<NaiveDate>,
}

impl RagStamp {
    pub fn covers(&self, as_of: NaiveDate) -> bool {
        self.from <= as_of && self.until.is_none_or(|until| as_of <= until)
    }
}

/// The stamp for an assessment, made on `today`.
pub fn stamp(facts: &AssessmentFacts, cal: &Calendar, policy: &ClockPolicy, today: NaiveDate) -> RagStamp {
    let latest = latest_fact(facts);
    let on = today.max(latest);
    let standing = status::standing(facts, cal, on, policy);
    if has_stopped(facts) {
        return RagStamp {
            rag: standing.rag,
            from: latest,
            until: None,
        };
    }
    let last_bookable = if cal.is_working_day(facts.due_on) {
        facts.due_on
    } else {
        cal.add_working_days(facts.due_on, -1)
    };
    let changes: Vec<NaiveDate> = standing
        .milestones
        .iter()
        .filter_map(|m| m.due_on.succ_opt())
        .chain(facts.due_on.succ_opt())
        .chain([last_bookable])
        .collect();
    let from = changes
        .iter()
        .copied()
        .filter(|d| *d <= on)
        .max()
        .map_or(latest, |d| d.max(latest));
    let until = changes
        .iter()
        .copied()
        .filter(|d| *d > on)
        .min()
        .and_then(|d| d.pred_opt());
    RagStamp {
        rag: standing.rag,
        from,
        until,
    }
}

/// The stamp of an assessment whose history runs to `history_through` (the latest
/// effective date of its events, `crate::history`): its row says what a replay would only
/// from that day, so the stamp never starts before it. Before it, a view replays.
pub fn stamp_after(
    facts: &AssessmentFacts,
    history_through: Option<NaiveDate>,
    cal: &Calendar,
    policy: &ClockPolicy,
    today: NaiveDate,
) -> RagStamp {
    let Some(through) = history_through else {
        return stamp(facts, cal, policy, today);
    };
    let s = stamp(facts, cal, policy, today.max(through));
    RagStamp {
        from: s.from.max(through),
        ..s
    }
}

/// Finished, with the day it finished on record: its clock has stopped for good.
fn has_stopped(f: &AssessmentFacts) -> bool {
    match f.state {
        State::Completed => f.completed_on.is_some(),
        s if s.is_ended_without_completion() => f.ended_on.is_some(),
        _ => false,
    }
}

/// The latest date among the facts that decide state and RAG (the clock start included).
pub fn latest_fact(f: &AssessmentFacts) -> NaiveDate {
    [
        f.notified_on,
        f.consent_on,
        f.first_booked_on,
        f.seen_on,
        f.report_received_on,
        f.completed_on,
        f.ended_on,
        f.last_non_attendance.map(|(on, _)| on),
    ]
    .into_iter()
    .flatten()
    .fold(f.clock_started_on, NaiveDate::max)
}

/// Names what a stamp depends on besides the row: the rules, the clock settings and the
/// calendar. Every instance sharing a database must run with the same settings, or each
/// will keep re-deriving the other's stamps (correct, but slow).
pub fn basis(policy: &ClockPolicy, cal: &Calendar) -> String {
    let ClockPolicy {
        iha_due_working_days,
        notify_by,
        consent_by,
        appointment_by,
        report_by,
        rha_booking_lead_working_days,
    } = policy;
    format!(
        "{RULES_VERSION}/{iha_due_working_days}.{notify_by}.{consent_by}.{appointment_by}.{report_by}.{rha_booking_lead_working_days}/{}",
        cal.identity()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{derive, OutOfAreaFacts};
    use crate::workflow::{Kind, Outcome};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn cal() -> Calendar {
        Calendar::new(crate::service::calendar_store::shipped_holidays())
    }

    fn iha(state: State, day0: NaiveDate) -> AssessmentFacts {
        let due = status::iha_due_on(&cal(), day0, &ClockPolicy::default());
        AssessmentFacts::new(Kind::Iha, state, day0, due)
    }

    #[test]
    fn an_iha_awaiting_notification_stays_green_until_day_2_has_passed() {
        // Day 0 Mon 2 Feb 2026: notification due by day 2, Wed 4 Feb.
        let f = iha(State::AwaitingNotification, d(2026, 2, 2));
        let s = stamp(&f, &cal(), &ClockPolicy::default(), d(2026, 2, 3));
        assert_eq!(s.rag, Rag::Green);
        assert_eq!((s.from, s.until), (d(2026, 2, 2), Some(d(2026, 2, 4))));
        let later = stamp(&f, &cal(), &ClockPolicy::default(), d(2026, 2, 5));
        assert_eq!(later.rag, Rag::Amber);
        assert_eq!(later.from, d(2026, 2, 5));
    }

    #[test]
    fn an_unbooked_iha_turns_red_on_its_due_date_when_no_working_day_is_left() {
        // Day 0 Mon 2 Feb 2026, due Mon 2 Mar: unbooked on the due day itself is red.
        let f = iha(State::AwaitingBooking, d(2026, 2, 2));
        let s = stamp(&f, &cal(), &ClockPolicy::default(), d(2026, 3, 2));
        assert_eq!(s.rag, Rag::Red);
        assert_eq!((s.from, s.until), (d(2026, 3, 2), Some(d(2026, 3, 2))));
        let after = stamp(&f, &cal(), &ClockPolicy::default(), d(2026, 3, 9));
        assert_eq!((after.rag, after.until), (Rag::Red, None));
    }

    #[test]
    fn a_completed_assessment_keeps_its_rag_for_good_from_its_last_fact() {
        let mut f = iha(State::Completed, d(2026, 2, 2));
        f.seen_on = Some(d(2026, 2, 20));
        f.report_received_on = Some(d(2026, 3, 5));
        f.completed_on = Some(d(2026, 3, 5));
        let s = stamp(&f, &cal(), &ClockPolicy::default(), d(2026, 11, 23));
        assert_eq!(
            s,
            RagStamp {
                rag: Rag::Red,
                from: d(2026, 3, 5),
                until: None
            }
        );
        assert!(
            !s.covers(d(2026, 3, 4)),
            "before the report came in it was not yet completed"
        );
    }

    #[test]
    fn the_basis_changes_with_the_settings_and_the_calendar() {
        let p = ClockPolicy::default();
        let shipped = basis(&p, &cal());
        assert_eq!(shipped, basis(&p, &cal()));
        assert_ne!(shipped, basis(&ClockPolicy { consent_by: 7, ..p }, &cal()));
        assert_ne!(shipped, basis(&p, &Calendar::rules_only()));
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..1500).prop_map(|n| d(2024, 1, 1) + chrono::Duration::days(n))
    }

    fn opt_date() -> impl Strategy<Value = Option<NaiveDate>> {
        prop_oneof![Just(None), any_date().prop_map(Some)]
    }

    fn any_state() -> impl Strategy<Value = State> {
        proptest::sample::select(State::ALL.to_vec())
    }

    prop_compose! {
        /// Any facts at all, consistent or not: the stamp must hold whatever is stored.
        fn any_facts()(
            kind in prop_oneof![Just(Kind::Iha), Just(Kind::Rha)],
            state in any_state(),
            start in any_date(),
            due_offset in -40i64..400,
            dates in proptest::collection::vec(opt_date(), 9),
            not_attended in proptest::option::of((any_date(), proptest::sample::select(vec![
                Outcome::WasNotBrought, Outcome::DidNotAttend, Outcome::CancelledByProvider,
            ]))),
            with_request in any::<bool>(),
        ) -> AssessmentFacts {
            AssessmentFacts {
                notified_on: dates[0],
                consent_on: dates[1],
                first_booked_on: dates[2],
                appointment_on: dates[3],
                seen_on: dates[4],
                report_received_on: dates[5],
                completed_on: dates[6],
                ended_on: dates[7],
                last_non_attendance: not_attended,
                out_of_area: with_request.then_some(OutOfAreaFacts {
                    requested_on: dates[8],
                    ..OutOfAreaFacts::default()
                }),
                ..AssessmentFacts::new(kind, state, start, start + chrono::Duration::days(due_offset))
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The rule the list queries rely on: on every day a stamp covers, deriving afresh
        /// gives the stamp's RAG and the stored state.
        #[test]
        fn a_stamp_agrees_with_derivation_on_every_day_it_covers(f in any_facts(), today in any_date()) {
            let (cal, p) = (cal(), ClockPolicy::default());
            let s = stamp(&f, &cal, &p, today);
            prop_assert!(s.covers(today.max(latest_fact(&f))));
            let last = s.until.unwrap_or(s.from + chrono::Duration::days(400));
            for day in s.from.iter_days().take_while(|day| *day <= last) {
                let derived = derive(&f, d(2015, 6, 1), &cal, day, &p);
                prop_assert_eq!(derived.rag, s.rag, "on {}", day);
                prop_assert_eq!(derived.state, f.state, "on {}", day);
            }
        }
    }
}
