//! The measures over a small county whose January 2026 figures are worked out by hand below.

use chrono::NaiveDate;

use super::*;
use crate::status::Attribution;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn jan() -> Month {
    Month::parse("2026-01").unwrap()
}

fn child(id: &str, dob: &str, periods: Vec<PeriodFacts>) -> ChildFacts {
    ChildFacts {
        child_id: id.into(),
        local_id: format!("L-{id}"),
        local_authority: "E06000001".into(),
        date_of_birth: d(dob),
        periods,
        checks: vec![],
        leaving_care_summary_on: None,
    }
}

fn period(start: &str, end: Option<&str>) -> PeriodFacts {
    PeriodFacts {
        started_on: d(start),
        ended_on: end.map(d),
        iha: None,
        rhas: vec![],
    }
}

fn assessment(id: &str, due: &str, seen: Option<&str>) -> AssessmentFacts {
    AssessmentFacts {
        assessment_id: id.into(),
        due_on: d(due),
        seen_on: seen.map(d),
        exemption: None,
        refused: false,
        out_of_area: false,
        late: None,
    }
}

fn with_iha(mut p: PeriodFacts, a: AssessmentFacts) -> PeriodFacts {
    p.iha = Some(a);
    p
}

fn cause(reason: Reason, attribution: Attribution) -> Option<Cause> {
    Some(Cause { reason, attribution })
}

fn check(kind: CheckKind, on: &str) -> CheckFact {
    CheckFact {
        kind,
        on: d(on),
        up_to_date: None,
        sdq_score: None,
    }
}

/// Children and what each contributes to January 2026 (today 1 March 2026 unless a test
/// says otherwise). IHA due dates are the 20th working day after day 0.
fn county() -> Vec<ChildFacts> {
    let mut b = assessment("iha-b", "2026-02-09", Some("2026-02-12"));
    b.late = cause(Reason::LateConsent, Attribution::LocalAuthority);
    let mut c = assessment("iha-c", "2026-02-16", None);
    c.refused = true;
    let mut d_ = assessment("iha-d", "2026-02-23", None);
    d_.exemption = Some(Exemption::PriorAssessment);
    let mut h = assessment("iha-h", "2026-02-25", None);
    h.out_of_area = true;
    h.late = cause(Reason::HostProvider, Attribution::HostProvider);

    let mut r1 = period("2023-06-01", None);
    r1.rhas = vec![assessment("rha-1", "2026-01-15", Some("2026-01-10"))];
    let mut r2 = period("2023-06-01", None);
    let mut late_rha = assessment("rha-2", "2026-01-20", Some("2026-01-25"));
    late_rha.late = cause(Reason::NotBrought, Attribution::LocalAuthority);
    r2.rhas = vec![late_rha, assessment("rha-2b", "2026-02-03", None)];
    let mut r3 = period("2023-06-01", Some("2026-01-25"));
    r3.rhas = vec![assessment("rha-3", "2026-01-28", None)];

    let mut k1 = child("K1", "2015-05-05", vec![period("2020-01-01", None)]);
    k1.checks = vec![
        check(CheckKind::Dental, "2025-06-01"),
        CheckFact {
            sdq_score: Some(14),
            ..check(CheckKind::Sdq, "2025-03-01")
        },
        CheckFact {
            up_to_date: Some(true),
            ..check(CheckKind::Immunisations, "2025-05-01")
        },
    ];
    let mut k2 = child("K2", "2022-01-15", vec![period("2025-01-31", None)]);
    k2.checks = vec![
        check(CheckKind::Dental, "2025-01-31"),
        CheckFact {
            up_to_date: Some(true),
            ..check(CheckKind::Immunisations, "2025-03-01")
        },
        CheckFact {
            up_to_date: Some(false),
            ..check(CheckKind::Immunisations, "2025-12-01")
        },
    ];
    let mut rc1 = child("R1", "2023-03-01", vec![r1]);
    rc1.checks = vec![
        check(CheckKind::Dental, "2025-11-01"),
        CheckFact {
            up_to_date: Some(true),
            ..check(CheckKind::Immunisations, "2025-10-01")
        },
    ];
    let mut l1 = child("L1", "2008-01-20", vec![period("2019-04-01", Some("2026-01-20"))]);
    l1.leaving_care_summary_on = Some(d("2026-01-10"));

    vec![
        child(
            "A",
            "2015-01-01",
            vec![with_iha(
                period("2026-01-05", None),
                assessment("iha-a", "2026-02-02", Some("2026-01-30")),
            )],
        ),
        child("B", "2015-01-01", vec![with_iha(period("2026-01-12", None), b)]),
        child("C", "2010-01-01", vec![with_iha(period("2026-01-19", None), c)]),
        child("D", "2015-01-01", vec![with_iha(period("2026-01-26", None), d_)]),
        // Left care before the due date of 4 February.
        child(
            "E",
            "2015-01-01",
            vec![with_iha(
                period("2026-01-07", Some("2026-01-20")),
                assessment("iha-e", "2026-02-04", None),
            )],
        ),
        // Short breaks: no IHA was ever due.
        child("F", "2015-01-01", vec![period("2026-01-14", None)]),
        // December's cohort, not January's.
        child(
            "G",
            "2015-01-01",
            vec![with_iha(
                period("2025-12-19", None),
                assessment("iha-g", "2026-01-21", None),
            )],
        ),
        child("H", "2015-01-01", vec![with_iha(period("2026-01-28", None), h)]),
        rc1,
        child("R2", "2023-05-05", vec![r2]),
        child("R3", "2023-05-05", vec![r3]),
        k1,
        k2,
        // Looked after for only 11 months at the end of January.
        child("K3", "2015-01-01", vec![period("2025-02-01", None)]),
        // Turned 17 in January: still in the dental cohort, out of the SDQ one.
        child("K4", "2009-01-10", vec![period("2018-01-01", None)]),
        l1,
        child("L2", "2008-01-25", vec![period("2020-01-01", Some("2026-01-25"))]),
        // Left care before turning 18.
        child("L3", "2008-01-28", vec![period("2020-01-01", Some("2025-12-01"))]),
    ]
}

fn ids(entries: &[Entry], outcome: Outcome) -> Vec<&str> {
    entries
        .iter()
        .filter(|e| e.outcome == outcome)
        .map(|e| e.child_id.as_str())
        .collect()
}

#[test]
fn iha_within_20_working_days_counts_periods_starting_in_the_month_with_an_iha_due() {
    let f = figure(Measure::IhaWithin20WorkingDays, jan(), &county(), d("2026-03-01"));
    assert_eq!(ids(&f.entries, Outcome::Met), ["A"]);
    assert_eq!(ids(&f.entries, Outcome::Missed), ["B", "H"]);
    assert_eq!((f.numerator, f.denominator, f.percent), (1, 3, Some(33.3)));
    assert!(!f.provisional, "every due date has passed");
    let b = &f.entries[1];
    assert_eq!(
        (b.reason, b.attribution),
        (Some(Reason::LateConsent), Some(Attribution::LocalAuthority))
    );
}

#[test]
fn iha_competent_refusal_is_shown_beside_the_figure_not_in_it() {
    let f = figure(Measure::IhaWithin20WorkingDays, jan(), &county(), d("2026-03-01"));
    assert_eq!(ids(&f.beside, Outcome::Missed), ["C"]);
    assert_eq!(f.beside[0].reason, Some(Reason::Refused));
    assert!(f.entries.iter().all(|e| e.child_id != "C"));
}

#[test]
fn iha_month_is_provisional_until_every_due_date_in_its_cohort_has_passed() {
    let f = figure(Measure::IhaWithin20WorkingDays, jan(), &county(), d("2026-02-20"));
    assert!(f.provisional);
    assert_eq!(ids(&f.entries, Outcome::Pending), ["H"], "H is due on 25 February");
    assert_eq!((f.numerator, f.denominator), (1, 3));
}

#[test]
fn rha_on_time_counts_rhas_due_in_the_month_for_children_still_looked_after_on_the_due_date() {
    let f = figure(Measure::RhaOnTime, jan(), &county(), d("2026-03-01"));
    assert_eq!(ids(&f.entries, Outcome::Met), ["R1"]);
    assert_eq!(
        ids(&f.entries, Outcome::Missed),
        ["R2"],
        "seen 5 days late; R3 left care first"
    );
    assert_eq!(f.entries.len(), 2, "R2's February RHA is February's");
    assert_eq!(f.percent, Some(50.0));
}

#[test]
fn dental_check_cohort_is_twelve_months_continuously_looked_after_at_the_month_end() {
    let f = figure(Measure::DentalCheck, jan(), &county(), d("2026-03-01"));
    assert_eq!(ids(&f.entries, Outcome::Met), ["R1", "K1"]);
    // K2's check is exactly 12 months before the month end: outside "the 12 months to it".
    assert_eq!(ids(&f.entries, Outcome::Missed), ["R2", "K2", "K4"]);
    assert_eq!(f.percent, Some(40.0));
    assert!(f
        .entries
        .iter()
        .all(|e| e.reason.is_none() || e.reason == Some(Reason::NoDentalCheck)));
}

#[test]
fn sdq_cohort_is_ages_4_to_16_so_a_child_turning_4_is_in_and_one_turning_17_is_out() {
    let f = figure(Measure::SdqScore, jan(), &county(), d("2026-03-01"));
    assert_eq!(ids(&f.entries, Outcome::Met), ["K1"]);
    assert_eq!(ids(&f.entries, Outcome::Missed), ["K2"]);
    assert_eq!(f.entries[1].reason, Some(Reason::NoSdqScore));
}

#[test]
fn immunisations_the_latest_record_in_the_year_decides() {
    let f = figure(Measure::ImmunisationsUpToDate, jan(), &county(), d("2026-03-01"));
    assert_eq!(ids(&f.entries, Outcome::Met), ["R1", "K1"]);
    let reasons: Vec<_> = f
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Missed)
        .map(|e| (e.child_id.as_str(), e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("R2", Some(Reason::NoImmunisationRecord)),
            ("K2", Some(Reason::ImmunisationsNotUpToDate)),
            ("K4", Some(Reason::NoImmunisationRecord)),
        ]
    );
}

#[test]
fn leaving_care_summary_is_due_by_the_18th_birthday_of_those_looked_after_until_then() {
    let f = figure(Measure::LeavingCareSummary, jan(), &county(), d("2026-03-01"));
    assert_eq!(ids(&f.entries, Outcome::Met), ["L1"]);
    assert_eq!(
        ids(&f.entries, Outcome::Missed),
        ["L2"],
        "L3 left care before turning 18"
    );
}

#[test]
fn a_month_not_yet_over_is_provisional() {
    let f = figure(Measure::DentalCheck, jan(), &county(), d("2026-01-20"));
    assert!(f.provisional);
    assert_eq!(ids(&f.entries, Outcome::Pending), ["R2", "K2", "K4"]);
}

#[test]
fn drill_down_lists_sum_to_the_figures() {
    let months = Month::range(Month::parse("2025-10").unwrap(), Month::parse("2026-03").unwrap());
    for f in figures(&county(), &months, d("2026-03-01")) {
        assert_eq!(
            f.numerator,
            ids(&f.entries, Outcome::Met).len(),
            "{:?} {}",
            f.measure,
            f.month
        );
        assert!(f.numerator <= f.denominator);
        assert_eq!(f.denominator == 0, f.percent.is_none());
        assert!(f
            .entries
            .iter()
            .filter(|e| e.outcome != Outcome::Met)
            .all(|e| e.reason.is_some()));
    }
}

#[test]
fn restatement_keeps_the_published_figure_and_lists_the_children_whose_outcome_changed() {
    let published = figure(Measure::IhaWithin20WorkingDays, jan(), &county(), d("2026-02-20"));
    let mut later = county();
    // Recorded late: B was in fact seen before its due date.
    later[1].periods[0].iha.as_mut().unwrap().seen_on = Some(d("2026-02-05"));
    let current = figure(Measure::IhaWithin20WorkingDays, jan(), &later, d("2026-03-01"));
    let r = restate(&published, &current);
    assert_eq!((r.published, r.current), ((1, 3), (2, 3)));
    let changed: Vec<_> = r
        .changes
        .iter()
        .map(|c| (c.child_id.as_str(), c.before, c.after))
        .collect();
    assert_eq!(
        changed,
        [
            ("B", Some(Outcome::Missed), Some(Outcome::Met)),
            ("H", Some(Outcome::Pending), Some(Outcome::Missed))
        ]
    );
}

#[test]
fn months_are_written_yyyy_mm_and_nothing_else() {
    assert_eq!(Month::parse("2024-02").unwrap().last_day(), d("2024-02-29"));
    for bad in [
        "2026-1",
        "26-01",
        "2026-13",
        " 2026-01",
        "2026-00",
        "2026/01",
        "２０２６-01",
    ] {
        assert!(Month::parse(bad).is_err(), "{bad}");
    }
    let fy = Month::range(Month::parse("2025-04").unwrap(), Month::parse("2026-03").unwrap());
    assert_eq!(fy.len(), 12);
    assert_eq!(fy[11].to_string(), "2026-03");
}

/// A county of made-up children spread over four years: periods that overlap, end before
/// or after their assessments, refusals, exemptions, checks of every kind and none.
fn random_county(seed: u64, n: usize) -> Vec<ChildFacts> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let base = d("2023-01-01");
    let day = |rng: &mut rand::rngs::StdRng, from: NaiveDate, span: i64| {
        from + chrono::Days::new(rng.random_range(0..span) as u64)
    };
    let reasons = [
        Reason::LateConsent,
        Reason::NotBrought,
        Reason::HostProvider,
        Reason::ReportLate,
    ];
    let assessment_at = |rng: &mut rand::rngs::StdRng, id: String, due: NaiveDate| {
        let seen = match rng.random_range(0..3) {
            0 => None,
            _ => Some(due + chrono::Duration::days(rng.random_range(-25..25))),
        };
        AssessmentFacts {
            assessment_id: id,
            due_on: due,
            seen_on: seen,
            exemption: rng.random_bool(0.1).then_some(Exemption::PriorAssessment),
            refused: rng.random_bool(0.1),
            out_of_area: rng.random_bool(0.1),
            late: rng
                .random_bool(0.7)
                .then(|| cause(reasons[rng.random_range(0..reasons.len())], Attribution::Health))
                .flatten(),
        }
    };
    (0..n)
        .map(|c| {
            let mut periods = Vec::new();
            for p in 0..rng.random_range(0..4) {
                let start = day(&mut rng, base, 1600);
                let end = rng
                    .random_bool(0.5)
                    .then(|| start + chrono::Days::new(rng.random_range(0..900)));
                let iha_due = start + chrono::Days::new(rng.random_range(20..40));
                let iha = rng
                    .random_bool(0.85)
                    .then(|| assessment_at(&mut rng, format!("iha-{c}-{p}"), iha_due));
                let rhas = (0..rng.random_range(0..4))
                    .map(|r| {
                        let due = day(&mut rng, start, 800);
                        assessment_at(&mut rng, format!("rha-{c}-{p}-{r}"), due)
                    })
                    .collect();
                periods.push(PeriodFacts {
                    started_on: start,
                    ended_on: end,
                    iha,
                    rhas,
                });
            }
            periods.sort_by_key(|p| p.started_on);
            let kinds = [CheckKind::Dental, CheckKind::Sdq, CheckKind::Immunisations];
            let checks = (0..rng.random_range(0..7))
                .map(|_| CheckFact {
                    kind: kinds[rng.random_range(0..3)],
                    on: day(&mut rng, base, 1600),
                    up_to_date: rng.random_bool(0.8).then(|| rng.random_bool(0.7)),
                    sdq_score: rng.random_bool(0.7).then(|| rng.random_range(0..41)),
                })
                .collect();
            let mut facts = child(&format!("C{c:04}"), "2000-01-01", periods);
            facts.date_of_birth = day(&mut rng, d("2006-01-01"), 7000);
            facts.checks = checks;
            facts.leaving_care_summary_on = rng
                .random_bool(0.5)
                .then(|| birthday_ish(facts.date_of_birth) + chrono::Duration::days(rng.random_range(-60..30)));
            facts
        })
        .collect()
}

fn birthday_ish(dob: NaiveDate) -> NaiveDate {
    dob.checked_add_months(chrono::Months::new(18 * 12)).unwrap_or(dob)
}

#[test]
fn one_pass_over_a_year_gives_the_figures_of_one_pass_per_measure_and_month() {
    let fy = Month::range(Month::parse("2025-04").unwrap(), Month::parse("2026-03").unwrap());
    let mut children = random_county(12, 1500);
    children.extend(county());
    let county = children;
    // Before, during and after the year, so every outcome (met, missed, pending) occurs.
    for today in ["2025-06-15", "2026-01-31", "2026-03-01", "2026-11-23"].map(d) {
        let expected: Vec<Figure> = Measure::ALL
            .into_iter()
            .flat_map(|m| fy.iter().map(move |&month| (m, month)))
            .map(|(m, month)| super::reference::figure(m, month, &county, today))
            .collect();
        let all = figures(&county, &fy, today);
        assert_eq!(all, expected, "today {today}");
        let counted: Vec<Summary> = expected.iter().map(Figure::summary).collect();
        assert_eq!(summaries(&county, &fy, today), counted, "today {today}");
        for f in &expected {
            assert_eq!(&figure(f.measure, f.month, &county, today), f, "today {today}");
        }
        assert!(
            expected.iter().any(|f| f.entries.len() > 20),
            "a county big enough to say something"
        );
    }
}
