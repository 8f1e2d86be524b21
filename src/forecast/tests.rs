use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::calendar::Calendar;
use crate::status::AssessmentFacts;
use crate::workflow::{Kind, State};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn group(la: &str) -> Group {
    Group {
        kind: Kind::Iha,
        la: la.into(),
        out_of_area: false,
        age: AgeBand::From10To15,
    }
}

fn obs(la: &str, step: Step, days: i32, ended: bool) -> Observation {
    Observation {
        group: group(la),
        step,
        days,
        ended,
    }
}

/// A county where each IHA step takes `fast` days in LA "A" and `slow` days in LA "B".
fn params(cases: usize, fast: i32, slow: i32) -> Params {
    let mut all = Vec::new();
    for i in 0..cases {
        for step in Step::of(Kind::Iha) {
            all.push(obs("A", *step, fast + (i % 3) as i32, true));
            all.push(obs("B", *step, slow + (i % 3) as i32, true));
        }
    }
    Params::fit(d(2026, 6, 1), d(2025, 6, 1), 20, all)
}

fn open_iha(start: NaiveDate, cal: &Calendar) -> AssessmentFacts {
    let due = cal.add_working_days(start, 20);
    AssessmentFacts::new(Kind::Iha, State::AwaitingNotification, start, due)
}

#[test]
fn probabilities_lie_between_zero_and_one() {
    let cal = Calendar::rules_only();
    let m = Model::new(&params(50, 1, 6));
    let f = open_iha(d(2026, 5, 4), &cal);
    for la in ["A", "B", "unknown"] {
        for days in 0..60 {
            let as_of = d(2026, 5, 4) + chrono::Duration::days(days);
            let fc = m.forecast(&cal, &f, &group(la), as_of).unwrap();
            assert!((0.0..=1.0).contains(&fc.p_late), "{la} {days}: {}", fc.p_late);
            assert!(fc.range.0 <= fc.expected_on.max(fc.range.0) && fc.range.0 <= fc.range.1);
        }
    }
}

#[test]
fn a_slow_local_authority_is_forecast_later_than_a_fast_one() {
    let cal = Calendar::rules_only();
    let m = Model::new(&params(50, 1, 6));
    let f = open_iha(d(2026, 5, 4), &cal);
    let fast = m.forecast(&cal, &f, &group("A"), d(2026, 5, 4)).unwrap();
    let slow = m.forecast(&cal, &f, &group("B"), d(2026, 5, 4)).unwrap();
    assert!(fast.p_late < 0.05, "{fast:?}");
    assert!(slow.p_late > 0.95, "{slow:?}");
    assert!(fast.expected_on < slow.expected_on);
}

#[test]
fn a_small_group_is_shrunk_toward_the_county() {
    let cal = Calendar::rules_only();
    let mut p = params(50, 1, 6);
    // Two cases in C, each with very slow steps: not enough to outweigh the county.
    let few: Vec<Observation> = (0..2)
        .flat_map(|_| Step::of(Kind::Iha).iter().map(|s| obs("C", *s, 12, true)))
        .collect();
    let extra = Params::fit(p.fitted_on, p.window_from, 20, few);
    p.cells.extend(extra.cells);
    let m = Model::new(&p);
    let f = open_iha(d(2026, 5, 4), &cal);
    let c = m.forecast(&cal, &f, &group("C"), d(2026, 5, 4)).unwrap();
    let b = m.forecast(&cal, &f, &group("B"), d(2026, 5, 4)).unwrap();
    assert!(c.p_late < b.p_late, "C {} vs B {}", c.p_late, b.p_late);
    assert!(c.p_late > 0.0);
}

#[test]
fn steps_still_waiting_count_as_at_least_that_long() {
    let cal = Calendar::rules_only();
    let start = d(2026, 5, 4);
    let f = open_iha(start, &cal);
    // Half the consents ended after 1 day; half were still waiting after 15.
    let mut all = Vec::new();
    for i in 0..100 {
        for step in Step::of(Kind::Iha) {
            let (days, ended) = if *step == Step::Consent && i % 2 == 0 {
                (15, false)
            } else {
                (1, true)
            };
            all.push(obs("A", *step, days, ended));
        }
    }
    let censored = Model::new(&Params::fit(start, start, 20, all.clone()));
    let dropped: Vec<Observation> = all.into_iter().filter(|o| o.ended).collect();
    let naive = Model::new(&Params::fit(start, start, 20, dropped));
    let a = censored.forecast(&cal, &f, &group("A"), start).unwrap();
    let b = naive.forecast(&cal, &f, &group("A"), start).unwrap();
    assert!(a.p_late > b.p_late + 0.2, "{} vs {}", a.p_late, b.p_late);
}

#[test]
fn the_driver_names_the_slowest_remaining_step_in_words() {
    let cal = Calendar::rules_only();
    let mut all = Vec::new();
    for i in 0..60 {
        for step in Step::of(Kind::Iha) {
            let days = if *step == Step::Consent { 5 + (i % 8) } else { 1 };
            all.push(obs("A", *step, days, true));
        }
    }
    let m = Model::new(&Params::fit(d(2026, 6, 1), d(2025, 6, 1), 20, all));
    let f = open_iha(d(2026, 5, 4), &cal);
    let fc = m.forecast(&cal, &f, &group("A"), d(2026, 5, 4)).unwrap();
    assert_eq!(fc.driver.step, Step::Consent);
    assert!(
        fc.driver.words.starts_with("Consent has taken over "),
        "{}",
        fc.driver.words
    );
    assert!(fc
        .driver
        .words
        .contains("this LA's in-area cases aged 10-15 in the last year"));
}

#[test]
fn closed_completed_and_refused_assessments_have_no_forecast() {
    let cal = Calendar::rules_only();
    let m = Model::new(&params(10, 1, 2));
    for state in [State::Completed, State::Closed, State::NotRequired, State::Refused] {
        let mut f = open_iha(d(2026, 5, 4), &cal);
        f.state = state;
        assert!(m.forecast(&cal, &f, &group("A"), d(2026, 5, 6)).is_none());
    }
}

#[test]
fn no_data_for_the_kind_means_no_forecast() {
    let cal = Calendar::rules_only();
    let m = Model::new(&params(10, 1, 2));
    let mut f = open_iha(d(2026, 5, 4), &cal);
    f.kind = Kind::Rha;
    f.state = State::Scheduled;
    let g = Group {
        kind: Kind::Rha,
        ..group("A")
    };
    assert!(m.forecast(&cal, &f, &g, d(2026, 5, 6)).is_none());
}

#[test]
fn parameters_round_trip_through_text() {
    let p = params(5, 1, 3);
    assert_eq!(Params::from_text(&p.to_text()).unwrap(), p);
}

#[test]
fn observations_read_ended_and_waiting_steps_from_the_facts() {
    let cal = Calendar::rules_only();
    let start = d(2026, 5, 4); // a Monday
    let mut f = open_iha(start, &cal);
    f.state = State::AwaitingBooking;
    f.notified_on = Some(d(2026, 5, 5));
    f.consent_on = Some(d(2026, 5, 8));
    let o = observations(&cal, &f, &group("A"), d(2026, 5, 13), start, 20);
    let got: Vec<(Step, i32, bool)> = o.iter().map(|o| (o.step, o.days, o.ended)).collect();
    assert_eq!(
        got,
        vec![
            (Step::Notification, 1, true),
            (Step::Consent, 3, true),
            (Step::Booking, 3, false)
        ]
    );
    // Known only up to the 6th: consent still waiting then.
    let early = observations(&cal, &f, &group("A"), d(2026, 5, 6), start, 20);
    assert_eq!(
        early.last().map(|o| (o.step, o.days, o.ended)),
        Some((Step::Consent, 1, false))
    );
}

/// The model the property tests share (fitting it once keeps them fast).
fn varied_model() -> &'static Model {
    static MODEL: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| Model::new(&varied()))
}

fn varied() -> Params {
    let mut all = Vec::new();
    for i in 0..40 {
        for step in Step::of(Kind::Iha) {
            all.push(obs("A", *step, i * 7 % 13, i % 5 != 0));
        }
    }
    Params::fit(d(2026, 6, 1), d(2025, 6, 1), 20, all)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn risk_is_monotone_in_elapsed_time_with_nothing_done(state_i in 0usize..4, wait in 0i64..80, more in 1i64..30) {
        let cal = Calendar::rules_only();
        let m = varied_model();
        let start = d(2026, 5, 4);
        let mut f = open_iha(start, &cal);
        f.state = [State::AwaitingNotification, State::AwaitingConsent, State::AwaitingBooking, State::AwaitingReport][state_i];
        f.notified_on = (state_i >= 1).then_some(start);
        f.consent_on = (state_i >= 2).then_some(start);
        f.seen_on = (state_i >= 3).then_some(start);
        f.first_booked_on = f.seen_on;
        let day = start + chrono::Duration::days(wait);
        let a = m.forecast(&cal, &f, &group("A"), day).unwrap();
        let b = m.forecast(&cal, &f, &group("A"), day + chrono::Duration::days(more)).unwrap();
        prop_assert!(b.p_late >= a.p_late - 1e-9, "{} then {}", a.p_late, b.p_late);
        prop_assert!((0.0..=1.0).contains(&a.p_late));
    }

    #[test]
    fn a_completed_step_never_raises_the_risk(state_i in 0usize..3, wait in 0i64..40, la in prop::sample::select(vec!["A", "B", "Z"])) {
        let cal = Calendar::rules_only();
        let m = varied_model();
        let start = d(2026, 5, 4);
        let day = start + chrono::Duration::days(wait);
        let mut before = open_iha(start, &cal);
        let states = [State::AwaitingNotification, State::AwaitingConsent, State::AwaitingBooking];
        before.state = states[state_i];
        before.notified_on = (state_i >= 1).then_some(start);
        before.consent_on = (state_i >= 2).then_some(start);
        let mut after = before.clone();
        match state_i {
            0 => { after.notified_on = Some(day); after.state = State::AwaitingConsent; }
            1 => { after.consent_on = Some(day); after.state = State::AwaitingBooking; }
            _ => { after.first_booked_on = Some(day); after.seen_on = Some(day); after.state = State::AwaitingReport; }
        }
        let a = m.forecast(&cal, &before, &group(la), day).unwrap();
        let b = m.forecast(&cal, &after, &group(la), day).unwrap();
        prop_assert!(b.p_late <= a.p_late + 1e-9, "{} then {}", a.p_late, b.p_late);
    }
}
