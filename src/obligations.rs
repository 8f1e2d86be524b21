//! Eligibility and scheduling rules: whether a period of care needs an IHA, when the next
//! RHA falls due, and the birthday arithmetic both rely on.
//!
//! Month arithmetic uses chrono's `checked_add_months`/`checked_sub_months`, which clamp
//! to the end of a shorter month (31 Aug + 6 months = 28 Feb, or 29 Feb in a leap year).
//! That is the ordinary reading of "within 6 months" and never gives a date past the
//! month it should land in.

use crate::ssda903;
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a new period of care creates an IHA obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IhaDecision {
    Required,
    NotRequired(NotRequiredReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRequiredReason {
    /// Legal status V3/V4: an agreed series of short breaks.
    ShortBreaks,
    /// A health assessment in the 3 months before the period started stands in.
    RecentAssessment { seen_on: NaiveDate },
}

impl NotRequiredReason {
    /// The reason as stored on the obligation and shown to people.
    pub fn describe(&self) -> String {
        match self {
            Self::ShortBreaks => "No IHA is required: the child is accommodated under an \
                 agreed series of short breaks (legal status V3/V4)."
                .to_string(),
            Self::RecentAssessment { seen_on } => format!(
                "No IHA is required: the health assessment on {}, within the 3 months \
                 before the child became looked after, stands in for it.",
                seen_on.format("%a %-d %b %Y")
            ),
        }
    }
}

/// The 3-month look-back for an assessment that can stand in for the IHA.
pub const RECENT_ASSESSMENT_MONTHS: u32 = 3;

/// Decides whether a period of care starting on `period_started_on` with `legal_status`
/// needs an IHA.
///
/// Short breaks (V3/V4) never do. Otherwise an assessment seen within the 3 calendar months
/// before the start (exactly 3 months before counts; the start day itself counts; a date
/// after the start does not, as it cannot have informed the placement) stands in.
pub fn iha_decision(
    legal_status: &str,
    period_started_on: NaiveDate,
    latest_prior_assessment_on: Option<NaiveDate>,
) -> IhaDecision {
    if ssda903::is_short_breaks(legal_status) {
        return IhaDecision::NotRequired(NotRequiredReason::ShortBreaks);
    }
    let earliest = period_started_on
        .checked_sub_months(Months::new(RECENT_ASSESSMENT_MONTHS))
        .unwrap_or(NaiveDate::MIN);
    match latest_prior_assessment_on {
        Some(seen_on) if seen_on >= earliest && seen_on <= period_started_on => {
            IhaDecision::NotRequired(NotRequiredReason::RecentAssessment { seen_on })
        }
        _ => IhaDecision::Required,
    }
}

/// Which age decides the RHA interval around the 5th birthday (services differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FifthBirthdayPolicy {
    /// The default (DOMAIN.md): a child under 5 on the date of the last assessment gets the
    /// under-5 interval, even if they turn 5 before the review falls due.
    #[default]
    AgeOnLastAssessment,
    /// The under-5 interval applies only while the child will still be under 5 on the date
    /// it would give. A review that would fall due after the 5th birthday is a review of a
    /// 5-year-old, so it gets the 5-and-over interval instead.
    AgeOnDueDate,
}

/// RHA cadence: "at least every 6 months before the 5th birthday, every 12 months after".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RhaPolicy {
    pub under_five_months: u32,
    pub five_and_over_months: u32,
    pub fifth_birthday: FifthBirthdayPolicy,
}

impl Default for RhaPolicy {
    fn default() -> Self {
        RhaPolicy {
            under_five_months: 6,
            five_and_over_months: 12,
            fifth_birthday: FifthBirthdayPolicy::AgeOnLastAssessment,
        }
    }
}

/// The interval in months from an assessment on `seen_on` to the next RHA.
pub fn rha_interval_months(date_of_birth: NaiveDate, seen_on: NaiveDate, policy: &RhaPolicy) -> u32 {
    let under_five_on = |d: NaiveDate| age_on(date_of_birth, d) < 5;
    let short = match policy.fifth_birthday {
        FifthBirthdayPolicy::AgeOnLastAssessment => under_five_on(seen_on),
        FifthBirthdayPolicy::AgeOnDueDate => under_five_on(add_months(seen_on, policy.under_five_months)),
    };
    if short {
        policy.under_five_months
    } else {
        policy.five_and_over_months
    }
}

/// The date the next RHA is due after an assessment seen on `seen_on` (the anchor).
pub fn next_rha_due(date_of_birth: NaiveDate, seen_on: NaiveDate, policy: &RhaPolicy) -> NaiveDate {
    add_months(seen_on, rha_interval_months(date_of_birth, seen_on, policy))
}

/// Calendar-month addition with end-of-month clamping (see the module note). Saturates at
/// chrono's last date rather than failing: only absurd stored dates could get there.
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// The child's `years`-th birthday. A 29 February birthday falls on 1 March in common
/// years: in England and Wales a person attains an age at the start of the relevant
/// anniversary of their birth (Family Law Reform Act 1969, s.9), and for someone born on
/// 29 February that anniversary is taken to be 1 March when there is no 29 February.
pub fn birthday(date_of_birth: NaiveDate, years: u32) -> NaiveDate {
    let year = i32::try_from(years)
        .ok()
        .and_then(|y| date_of_birth.year().checked_add(y));
    let Some(year) = year else {
        return NaiveDate::MAX;
    };
    NaiveDate::from_ymd_opt(year, date_of_birth.month(), date_of_birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(NaiveDate::MAX)
}

/// Age in whole years on `on` (0 before birth), using [`birthday`] so the leap-day rule
/// is the same everywhere.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> u32 {
    if on <= date_of_birth {
        return 0;
    }
    let rough = u32::try_from(on.year() - date_of_birth.year()).unwrap_or(0);
    if on < birthday(date_of_birth, rough) {
        rough.saturating_sub(1)
    } else {
        rough
    }
}

/// Looked-after children are under 18: on the 18th birthday a child stops being looked
/// after and the care-leaver track begins.
pub fn is_looked_after_age(date_of_birth: NaiveDate, on: NaiveDate) -> bool {
    on < birthday(date_of_birth, 18)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    const DUE_DATE: RhaPolicy = RhaPolicy {
        under_five_months: 6,
        five_and_over_months: 12,
        fifth_birthday: FifthBirthdayPolicy::AgeOnDueDate,
    };

    #[test]
    fn short_breaks_v3_and_v4_need_no_iha() {
        for ls in ["V3", "V4"] {
            assert_eq!(
                iha_decision(ls, d(2026, 4, 15), None),
                IhaDecision::NotRequired(NotRequiredReason::ShortBreaks)
            );
        }
    }

    #[test]
    fn other_legal_statuses_need_an_iha() {
        for ls in ["C1", "C2", "V2", "E1", "L1", "J1"] {
            assert_eq!(iha_decision(ls, d(2026, 4, 15), None), IhaDecision::Required);
        }
    }

    #[test]
    fn assessment_exactly_3_months_before_stands_in() {
        let seen_on = d(2026, 1, 15);
        assert_eq!(
            iha_decision("C2", d(2026, 4, 15), Some(seen_on)),
            IhaDecision::NotRequired(NotRequiredReason::RecentAssessment { seen_on })
        );
    }

    #[test]
    fn assessment_3_months_and_a_day_before_does_not_stand_in() {
        assert_eq!(
            iha_decision("C2", d(2026, 4, 15), Some(d(2026, 1, 14))),
            IhaDecision::Required
        );
    }

    #[test]
    fn assessment_on_the_start_day_stands_in_but_not_after() {
        let start = d(2026, 4, 15);
        assert!(matches!(
            iha_decision("V2", start, Some(start)),
            IhaDecision::NotRequired(_)
        ));
        assert_eq!(iha_decision("V2", start, Some(d(2026, 4, 16))), IhaDecision::Required);
    }

    #[test]
    fn three_month_look_back_clamps_at_month_end() {
        // 31 May - 3 months = 28 Feb (2026 is a common year).
        let start = d(2026, 5, 31);
        assert!(matches!(
            iha_decision("C1", start, Some(d(2026, 2, 28))),
            IhaDecision::NotRequired(_)
        ));
        assert_eq!(iha_decision("C1", start, Some(d(2026, 2, 27))), IhaDecision::Required);
    }

    #[test]
    fn not_required_reasons_describe_themselves() {
        assert!(NotRequiredReason::ShortBreaks.describe().contains("V3/V4"));
        let text = NotRequiredReason::RecentAssessment {
            seen_on: d(2026, 1, 15),
        }
        .describe();
        assert!(text.contains("Thu 15 Jan 2026"), "{text}");
    }

    #[test]
    fn child_seen_the_day_before_their_5th_birthday_gets_6_months_by_default() {
        let dob = d(2021, 6, 15);
        assert_eq!(
            next_rha_due(dob, d(2026, 6, 14), &RhaPolicy::default()),
            d(2026, 12, 14)
        );
    }

    #[test]
    fn child_seen_on_their_5th_birthday_gets_12_months() {
        let dob = d(2021, 6, 15);
        assert_eq!(next_rha_due(dob, d(2026, 6, 15), &RhaPolicy::default()), d(2027, 6, 15));
        assert_eq!(next_rha_due(dob, d(2026, 6, 15), &DUE_DATE), d(2027, 6, 15));
    }

    #[test]
    fn age_on_due_date_gives_12_months_when_the_child_is_5_by_the_6_month_date() {
        let dob = d(2021, 6, 15);
        // Seen at 4 years 9 months: the 6-month date (14 Dec 2026) is after the birthday.
        assert_eq!(next_rha_due(dob, d(2026, 3, 14), &DUE_DATE), d(2027, 3, 14));
        assert_eq!(next_rha_due(dob, d(2026, 3, 14), &RhaPolicy::default()), d(2026, 9, 14));
    }

    #[test]
    fn age_on_due_date_keeps_6_months_while_still_under_5_when_due() {
        let dob = d(2021, 6, 15);
        // 6 months after 14 Dec 2025 is 14 Jun 2026, the day before the 5th birthday.
        assert_eq!(next_rha_due(dob, d(2025, 12, 14), &DUE_DATE), d(2026, 6, 14));
        // 6 months after 15 Dec 2025 is the birthday itself: the child is 5 then.
        assert_eq!(next_rha_due(dob, d(2025, 12, 15), &DUE_DATE), d(2026, 12, 15));
    }

    #[test]
    fn six_months_from_31_august_clamps_to_february_end() {
        let dob = d(2023, 1, 1);
        assert_eq!(next_rha_due(dob, d(2025, 8, 31), &RhaPolicy::default()), d(2026, 2, 28));
        assert_eq!(next_rha_due(dob, d(2027, 8, 31), &RhaPolicy::default()), d(2028, 2, 29));
    }

    #[test]
    fn leap_day_birthdays_fall_on_1_march_in_common_years() {
        let dob = d(2020, 2, 29);
        assert_eq!(birthday(dob, 5), d(2025, 3, 1));
        assert_eq!(birthday(dob, 4), d(2024, 2, 29));
        assert_eq!(age_on(dob, d(2025, 2, 28)), 4);
        assert_eq!(age_on(dob, d(2025, 3, 1)), 5);
    }

    #[test]
    fn leap_day_child_seen_on_28_february_before_turning_5_gets_6_months() {
        let dob = d(2020, 2, 29);
        assert_eq!(next_rha_due(dob, d(2025, 2, 28), &RhaPolicy::default()), d(2025, 8, 28));
        assert_eq!(next_rha_due(dob, d(2025, 3, 1), &RhaPolicy::default()), d(2026, 3, 1));
    }

    #[test]
    fn age_counts_whole_years_and_is_zero_before_birth() {
        let dob = d(2010, 7, 20);
        assert_eq!(age_on(dob, d(2026, 7, 19)), 15);
        assert_eq!(age_on(dob, d(2026, 7, 20)), 16);
        assert_eq!(age_on(dob, d(2009, 1, 1)), 0);
    }

    #[test]
    fn looked_after_age_ends_on_the_18th_birthday() {
        let dob = d(2008, 3, 10);
        assert!(is_looked_after_age(dob, d(2026, 3, 9)));
        assert!(!is_looked_after_age(dob, d(2026, 3, 10)));
        let leap = d(2008, 2, 29);
        assert!(is_looked_after_age(leap, d(2026, 2, 28)));
        assert!(!is_looked_after_age(leap, d(2026, 3, 1)));
    }
}
