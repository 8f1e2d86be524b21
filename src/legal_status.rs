//! The legal status within a period of care (pure; DOMAIN.md "Legal status within a
//! period"). Rules:
//!
//! - The legal status can change during a period (SSDA903 episodes with `RNE` L, B or U);
//!   the period and its IHA clock carry on. Each change is dated, and the status **in force
//!   on a day** is the one of the latest change on or before it, or the period's first.
//! - **Consent is judged against the status in force on the day it is given**, not today's.
//! - The LA may consent where it holds parental responsibility: care orders (C1, C2), a
//!   placement order (E1), a freeing order (D1), and an **emergency protection order (L2)**,
//!   which gives the applicant (usually the LA) parental responsibility while it lasts
//!   (Children Act 1989 s.44(4)(c)).
//! - **A change from V3/V4 (short breaks) to any other status starts the IHA clock** on the
//!   day of the change: day 0 is the change date. Between V3 and V4 nothing starts.

use chrono::NaiveDate;

/// One dated change, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub changed_on: NaiveDate,
    pub legal_status: String,
}

/// The status in force on `day`: the latest change on or before it, else the status the
/// period started with. `changes` may come in any order.
pub fn status_on<'a>(first: &'a str, changes: &'a [Change], day: NaiveDate) -> &'a str {
    changes
        .iter()
        .filter(|c| c.changed_on <= day)
        .max_by_key(|c| c.changed_on)
        .map_or(first, |c| c.legal_status.as_str())
}

/// Short breaks: an agreed series of short-term breaks (no statutory IHA or RHA).
pub fn is_short_breaks(status: &str) -> bool {
    matches!(status, "V3" | "V4")
}

/// Whether the local authority holds parental responsibility, and so may consent.
pub fn la_holds_parental_responsibility(status: &str) -> bool {
    matches!(status, "C1" | "C2" | "D1" | "E1" | "L2")
}

/// Whether a change from `from` to `to` starts the IHA clock on the day of the change.
pub fn starts_iha_clock(from: &str, to: &str) -> bool {
    is_short_breaks(from) && !is_short_breaks(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn change(on: &str, ls: &str) -> Change {
        Change {
            changed_on: d(on),
            legal_status: ls.to_string(),
        }
    }

    #[test]
    fn legal_status_in_force_is_the_latest_change_on_or_before_the_day() {
        let changes = [change("2026-03-10", "C2"), change("2026-02-01", "C1")];
        assert_eq!(status_on("V2", &changes, d("2026-01-31")), "V2");
        assert_eq!(status_on("V2", &changes, d("2026-02-01")), "C1");
        assert_eq!(status_on("V2", &changes, d("2026-03-09")), "C1");
        assert_eq!(status_on("V2", &changes, d("2026-03-10")), "C2");
        assert_eq!(status_on("V2", &[], d("2030-01-01")), "V2");
    }

    #[test]
    fn change_from_short_breaks_to_another_status_starts_the_iha_clock() {
        for to in ["C1", "C2", "E1", "V2", "L1", "L2", "J1"] {
            assert!(starts_iha_clock("V3", to), "V3 -> {to}");
            assert!(starts_iha_clock("V4", to), "V4 -> {to}");
        }
        assert!(!starts_iha_clock("V3", "V4"));
        assert!(!starts_iha_clock("V4", "V3"));
        assert!(!starts_iha_clock("V2", "C2"));
        assert!(!starts_iha_clock("C2", "V3"));
    }

    #[test]
    fn emergency_protection_order_gives_the_applicant_parental_responsibility() {
        assert!(la_holds_parental_responsibility("L2"));
        for ls in ["C1", "C2", "E1", "D1"] {
            assert!(la_holds_parental_responsibility(ls), "{ls}");
        }
        for ls in ["V2", "V3", "V4", "J1", "J2", "J3", "L1", "L3"] {
            assert!(!la_holds_parental_responsibility(ls), "{ls}");
        }
    }
}
