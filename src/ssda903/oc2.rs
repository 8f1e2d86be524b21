//! The OC2 return: which children are in it and what it says about them. Pure.
//!
//! The year of a return ending 31 March Y runs from 1 April Y-1 to 31 March Y (both in).
//!
//! Cohort (DOMAIN.md; DfE validation rules, as the open validator applies them): children
//! looked after continuously for 12 months at 31 March. A child with an episode in the year
//! is in it unless an episode in the year
//! - starts with RNE = S after 1 April,
//! - ends before 31 March with a REC other than X1, or
//! - has legal status V3 or V4 (short breaks).
//!
//! Values (ages on 31 March; "in the year" = dated 1 April to 31 March):
//! - HEALTH_ASSESSMENT: 1 when the last health assessment was still in date on 31 March:
//!   within 6 months if the child was under 5 on the day of it, else 12 months (the RHA
//!   intervals); 0 otherwise.
//! - IMMUNISATIONS: 1 when the latest immunisation record in the year says up to date.
//! - TEETH_CHECK: 1 when a dental check is dated in the year.
//! - HEALTH_CHECK (development checks): for under-5s only, 1 when one is dated in the year;
//!   blank for children aged 5 or over.
//! - SDQ: for children aged 4 to 16 through the year (4 by 1 April, not 17 by 31 March), and
//!   for those who turn 4 or 17 in it: the latest SDQ score in the year, else the reason
//!   recorded in the year; a child turning 4 or 17 with neither gets SDQ1 (age out of
//!   range). Blank for every other child. Never both score and reason.
//! - CONVICTED (aged 10 or over), SUBSTANCE_MISUSE and INTERVENTION_RECEIVED/OFFERED: the
//!   tracker does not hold them; they are carried from an imported OC2 row, else blank.
//!   CONVICTED is blank under 10; the interventions are blank unless SUBSTANCE_MISUSE is 1,
//!   and INTERVENTION_OFFERED is blank when an intervention was received (DfE rule 158).
//! - Required fields left blank are listed in [`Oc2Outcome::missing`] so the export can say
//!   what the local authority must add before submitting.

use chrono::{Months, NaiveDate};

use super::model::{Episode, Oc2Values};

/// 1 April and 31 March of the year ending 31 March `year_ending`.
pub fn year_bounds(year_ending: i32) -> (NaiveDate, NaiveDate) {
    let start = NaiveDate::from_ymd_opt(year_ending - 1, 4, 1).unwrap_or(NaiveDate::MIN);
    let end = NaiveDate::from_ymd_opt(year_ending, 3, 31).unwrap_or(NaiveDate::MAX);
    (start, end)
}

/// The date `years` after `date` (29 February gives 28 February in other years).
pub fn years_after(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MAX)
}

/// Whole years of age on `on`.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> u32 {
    (0..150)
        .take_while(|&y| years_after(date_of_birth, y + 1) <= on)
        .count() as u32
}

/// Whether the child is in the OC2 cohort for the year ending 31 March `year_ending`.
pub fn continuously_looked_after<'a>(episodes: impl IntoIterator<Item = &'a Episode>, year_ending: i32) -> bool {
    let (start, end) = year_bounds(year_ending);
    let mut any_in_year = false;
    for e in episodes {
        let in_year = e.decom <= end && e.dec.is_none_or(|dec| dec >= start);
        let enters = e.rne == "S" && e.decom > start && e.decom <= end;
        let leaves = e.dec.is_some_and(|dec| dec >= start && dec < end) && e.rec.is_some_and(|rec| rec != "X1");
        let short_breaks = in_year && matches!(e.legal_status, "V3" | "V4");
        if enters || leaves || short_breaks {
            return false;
        }
        any_in_year |= in_year;
    }
    any_in_year
}

/// The latest SDQ, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdqResult {
    Score(u8),
    /// SDQ_REASON code (SDQ1-SDQ5).
    Reason(&'static str),
}

/// What the tracker knows about a child's health, for OC2.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthFacts {
    /// The last completed IHA or RHA (seen on).
    pub last_health_assessment: Option<NaiveDate>,
    /// The latest immunisation record: when, and whether it says up to date.
    pub immunisations: Option<(NaiveDate, bool)>,
    pub last_dental_check: Option<NaiveDate>,
    pub last_development_check: Option<NaiveDate>,
    /// The latest SDQ score or reason, with its date.
    pub sdq: Option<(NaiveDate, SdqResult)>,
    /// Values from an imported OC2 row: CONVICTED, SUBSTANCE_MISUSE and the
    /// interventions are taken from it.
    pub carried: Option<Oc2Values>,
}

/// An OC2 row's values and the required fields left blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oc2Outcome {
    pub values: Oc2Values,
    pub missing: Vec<&'static str>,
}

/// The OC2 values of a child in the cohort (see the module docs).
pub fn values(date_of_birth: NaiveDate, facts: &HealthFacts, year_ending: i32) -> Oc2Outcome {
    let (start, end) = year_bounds(year_ending);
    let in_year = |d: NaiveDate| d >= start && d <= end;
    let age = age_on(date_of_birth, end);
    let mut missing = Vec::new();

    let health_assessment = facts.last_health_assessment.is_some_and(|seen| {
        let months = if age_on(date_of_birth, seen) < 5 { 6 } else { 12 };
        seen <= end
            && seen
                .checked_add_months(Months::new(months))
                .is_some_and(|due| due >= end)
    });
    let immunisations = facts
        .immunisations
        .is_some_and(|(on, up_to_date)| in_year(on) && up_to_date);
    let teeth_check = facts.last_dental_check.is_some_and(in_year);
    let health_check = (age < 5).then(|| facts.last_development_check.is_some_and(in_year));

    let (sdq_score, sdq_reason) = sdq(date_of_birth, facts, year_ending, &mut missing);

    let carried = facts.carried.unwrap_or_default();
    let convicted = if age >= 10 { carried.convicted } else { None };
    if age >= 10 && convicted.is_none() {
        missing.push("CONVICTED");
    }
    let substance_misuse = carried.substance_misuse;
    if substance_misuse.is_none() {
        missing.push("SUBSTANCE_MISUSE");
    }
    let misuse = substance_misuse == Some(true);
    let intervention_received = carried.intervention_received.filter(|_| misuse);
    let intervention_offered = carried
        .intervention_offered
        .filter(|_| misuse && intervention_received == Some(false));
    if misuse && intervention_received.is_none() {
        missing.push("INTERVENTION_RECEIVED");
    }
    Oc2Outcome {
        values: Oc2Values {
            sdq_score,
            sdq_reason,
            convicted,
            health_check,
            immunisations: Some(immunisations),
            teeth_check: Some(teeth_check),
            health_assessment: Some(health_assessment),
            substance_misuse,
            intervention_received,
            intervention_offered,
        },
        missing,
    }
}

fn sdq(
    date_of_birth: NaiveDate,
    facts: &HealthFacts,
    year_ending: i32,
    missing: &mut Vec<&'static str>,
) -> (Option<u8>, Option<&'static str>) {
    let (start, end) = year_bounds(year_ending);
    let fourth = years_after(date_of_birth, 4);
    let seventeenth = years_after(date_of_birth, 17);
    let in_range = fourth <= start && seventeenth > end;
    let turning = (start..=end).contains(&fourth) || (start..=end).contains(&seventeenth);
    if !in_range && !turning {
        return (None, None);
    }
    match facts.sdq.filter(|(on, _)| (start..=end).contains(on)) {
        Some((_, SdqResult::Score(score))) => (Some(score), None),
        Some((_, SdqResult::Reason(reason))) => (None, Some(reason)),
        None if turning => (None, Some("SDQ1")),
        None => {
            missing.push("SDQ_SCORE");
            (None, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%d/%m/%Y").expect("test date")
    }

    fn ep(decom: &str, rne: &'static str, ls: &'static str, end: Option<(&str, &'static str)>) -> Episode {
        Episode {
            decom: d(decom),
            rne,
            legal_status: ls,
            category_of_need: "N1",
            placement_type: "U6",
            provider: Some("PR1"),
            dec: end.map(|(dec, _)| d(dec)),
            rec: end.map(|(_, rec)| rec),
            reason_place_change: None,
            home_postcode: None,
            placement_postcode: None,
            urn: None,
        }
    }

    #[test]
    fn oc2_cohort_is_looked_after_all_year_through_31_march() {
        let stayer = [ep("10/01/2022", "S", "C2", None)];
        assert!(continuously_looked_after(&stayer, 2024));
        let started_on_1_april = [ep("01/04/2023", "S", "C2", None)];
        assert!(continuously_looked_after(&started_on_1_april, 2024));
        let placement_move_in_year = [
            ep("10/01/2022", "S", "C2", Some(("05/09/2023", "X1"))),
            ep("05/09/2023", "P", "C2", None),
        ];
        assert!(continuously_looked_after(&placement_move_in_year, 2024));
        let ended_on_31_march = [ep("10/01/2022", "S", "C2", Some(("31/03/2024", "E4A")))];
        assert!(continuously_looked_after(&ended_on_31_march, 2024));
    }

    #[test]
    fn oc2_cohort_excludes_starters_leavers_and_short_breaks() {
        let started_after_1_april = [ep("02/04/2023", "S", "C2", None)];
        assert!(!continuously_looked_after(&started_after_1_april, 2024));
        let left_in_year = [ep("10/01/2022", "S", "C2", Some(("30/03/2024", "E13")))];
        assert!(!continuously_looked_after(&left_in_year, 2024));
        let short_breaks = [ep("10/01/2022", "S", "V3", None)];
        assert!(!continuously_looked_after(&short_breaks, 2024));
        let left_and_came_back = [
            ep("10/01/2021", "S", "C2", Some(("01/06/2023", "E4A"))),
            ep("01/07/2023", "S", "C2", None),
        ];
        assert!(!continuously_looked_after(&left_and_came_back, 2024));
        let gone_before_the_year = [ep("10/01/2021", "S", "C2", Some(("01/02/2023", "E4A")))];
        assert!(!continuously_looked_after(&gone_before_the_year, 2024));
    }

    #[test]
    fn oc2_short_breaks_before_the_year_do_not_count() {
        let episodes = [
            ep("10/01/2021", "S", "V3", Some(("01/02/2022", "X1"))),
            ep("01/02/2022", "L", "C1", None),
        ];
        assert!(continuously_looked_after(&episodes, 2024));
    }

    #[test]
    fn oc2_values_for_a_12_year_old_with_everything_done() {
        let dob = d("15/06/2011");
        let facts = HealthFacts {
            last_health_assessment: Some(d("10/05/2023")),
            immunisations: Some((d("10/05/2023"), true)),
            last_dental_check: Some(d("01/12/2023")),
            last_development_check: None,
            sdq: Some((d("20/01/2024"), SdqResult::Score(14))),
            carried: Some(Oc2Values {
                convicted: Some(false),
                substance_misuse: Some(false),
                intervention_received: Some(true),
                ..Oc2Values::default()
            }),
        };
        let outcome = values(dob, &facts, 2024);
        assert_eq!(
            outcome.values,
            Oc2Values {
                sdq_score: Some(14),
                sdq_reason: None,
                convicted: Some(false),
                health_check: None,
                immunisations: Some(true),
                teeth_check: Some(true),
                health_assessment: Some(true),
                substance_misuse: Some(false),
                intervention_received: None,
                intervention_offered: None,
            }
        );
        assert!(outcome.missing.is_empty());
    }

    #[test]
    fn oc2_health_assessment_is_in_date_on_the_rha_intervals() {
        // 12 years old: a 12-month interval; seen 30 March 2023 is out of date on 31 March 2024.
        let dob = d("15/06/2011");
        let seen = |on: &str| HealthFacts {
            last_health_assessment: Some(d(on)),
            ..HealthFacts::default()
        };
        assert_eq!(
            values(dob, &seen("31/03/2023"), 2024).values.health_assessment,
            Some(true)
        );
        assert_eq!(
            values(dob, &seen("30/03/2023"), 2024).values.health_assessment,
            Some(false)
        );
        // Under 5 on the day: 6 months.
        let toddler = d("01/01/2021");
        assert_eq!(
            values(toddler, &seen("01/10/2023"), 2024).values.health_assessment,
            Some(true)
        );
        assert_eq!(
            values(toddler, &seen("29/09/2023"), 2024).values.health_assessment,
            Some(false)
        );
        assert_eq!(
            values(dob, &HealthFacts::default(), 2024).values.health_assessment,
            Some(false)
        );
    }

    #[test]
    fn oc2_development_checks_only_for_under_fives() {
        let facts = HealthFacts {
            last_development_check: Some(d("01/09/2023")),
            ..HealthFacts::default()
        };
        assert_eq!(values(d("01/04/2020"), &facts, 2024).values.health_check, Some(true));
        let stale = HealthFacts {
            last_development_check: Some(d("01/03/2023")),
            ..HealthFacts::default()
        };
        assert_eq!(values(d("01/04/2020"), &stale, 2024).values.health_check, Some(false));
        // Turned 5 on 31 March 2024: blank.
        assert_eq!(values(d("31/03/2019"), &facts, 2024).values.health_check, None);
    }

    #[test]
    fn oc2_sdq_ages_4_to_16_with_sdq1_for_those_turning_4_or_17() {
        let none = HealthFacts::default();
        // Turns 4 in the year, no SDQ: SDQ1.
        let turning_four = values(d("10/10/2019"), &none, 2024);
        assert_eq!(turning_four.values.sdq_reason, Some("SDQ1"));
        // Turns 17 in the year: SDQ1 too.
        assert_eq!(values(d("10/10/2006"), &none, 2024).values.sdq_reason, Some("SDQ1"));
        // Aged 10 all year with no SDQ: blank and listed as missing.
        let ten = values(d("10/10/2013"), &none, 2024);
        assert_eq!((ten.values.sdq_score, ten.values.sdq_reason), (None, None));
        assert!(ten.missing.contains(&"SDQ_SCORE"));
        // A reason recorded in the year is used.
        let refused = HealthFacts {
            sdq: Some((d("01/02/2024"), SdqResult::Reason("SDQ5"))),
            ..HealthFacts::default()
        };
        assert_eq!(values(d("10/10/2013"), &refused, 2024).values.sdq_reason, Some("SDQ5"));
        // A score from before the year does not count.
        let old = HealthFacts {
            sdq: Some((d("01/02/2023"), SdqResult::Score(12))),
            ..HealthFacts::default()
        };
        assert_eq!(values(d("10/10/2013"), &old, 2024).values.sdq_score, None);
        // Aged 2 all year: blank, nothing missing.
        let two = values(d("10/10/2021"), &none, 2024);
        assert_eq!((two.values.sdq_score, two.values.sdq_reason), (None, None));
        assert!(!two.missing.contains(&"SDQ_SCORE"));
    }

    #[test]
    fn oc2_carried_fields_follow_age_and_substance_misuse() {
        let carried = Oc2Values {
            convicted: Some(true),
            substance_misuse: Some(true),
            intervention_received: Some(true),
            intervention_offered: Some(false),
            ..Oc2Values::default()
        };
        let facts = HealthFacts {
            carried: Some(carried),
            ..HealthFacts::default()
        };
        let nine = values(d("01/06/2014"), &facts, 2024).values;
        assert_eq!(nine.convicted, None, "CONVICTED only from age 10");
        let fifteen = values(d("01/06/2008"), &facts, 2024);
        assert_eq!(fifteen.values.convicted, Some(true));
        assert_eq!(fifteen.values.intervention_received, Some(true));
        assert_eq!(
            fifteen.values.intervention_offered, None,
            "offered only asked when not received"
        );
        let not_received = HealthFacts {
            carried: Some(Oc2Values {
                intervention_received: Some(false),
                ..carried
            }),
            ..HealthFacts::default()
        };
        assert_eq!(
            values(d("01/06/2008"), &not_received, 2024).values.intervention_offered,
            Some(false)
        );
        let nothing = values(d("01/06/2008"), &HealthFacts::default(), 2024);
        assert_eq!(nothing.missing, vec!["SDQ_SCORE", "CONVICTED", "SUBSTANCE_MISUSE"]);
    }

    #[test]
    fn ages_count_whole_years_and_leap_days() {
        assert_eq!(age_on(d("29/02/2012"), d("28/02/2015")), 3);
        assert_eq!(age_on(d("29/02/2012"), d("27/02/2015")), 2);
        assert_eq!(age_on(d("29/02/2012"), d("29/02/2016")), 4);
        assert_eq!(age_on(d("31/03/2014"), d("31/03/2024")), 10);
        assert_eq!(age_on(d("01/04/2014"), d("31/03/2024")), 9);
    }
}
