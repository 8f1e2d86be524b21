//! Publishing a month's figures (DOMAIN.md: "a figure once published is kept as published,
//! and a recomputation shows what changed (a restatement), never silently a different
//! number"). Pure: the rules of when a month may be published and what a publication is
//! known by.
//!
//! Rules:
//! - Only a month that has ended may be published: until its last day has passed, children
//!   can still join its cohorts.
//! - A provisional month (some outcome still to come) may be published: the board meets on
//!   a timetable and reports what is known. The publication is stored marked provisional,
//!   and its later restatement shows each child whose pending outcome became met or missed.
//! - A publication covers one scope: the local authorities it counts, sorted, so that the
//!   same authorities asked in another order are the same publication. There is one
//!   publication per month and scope.

use chrono::{Datelike, NaiveDate};

use super::Month;

/// Why a month cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unpublishable {
    #[error("{0} has not ended yet: a month can be published from the day after its last day")]
    NotEnded(Month),
}

/// A month may be published once it has ended.
pub fn check_publishable(month: Month, today: NaiveDate) -> Result<(), Unpublishable> {
    if month.last_day() < today {
        Ok(())
    } else {
        Err(Unpublishable::NotEnded(month))
    }
}

/// What a publication's scope is known by: its authorities' codes, sorted and without
/// repeats, comma-separated; `*` for everything (the command line, unscoped).
pub fn scope_key(codes: Option<&[String]>) -> String {
    match codes {
        None => "*".to_string(),
        Some(codes) => {
            let mut sorted: Vec<&str> = codes.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            sorted.dedup();
            sorted.join(",")
        }
    }
}

/// The financial year (April to March) a month falls in, as the board writes it: "2025-26".
pub fn financial_year(month: Month) -> String {
    let day = month.first_day();
    let start = if day.month() >= 4 { day.year() } else { day.year() - 1 };
    format!("{start}-{:02}", (start + 1).rem_euclid(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(text: &str) -> Month {
        Month::parse(text).expect("a month")
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    #[test]
    fn only_a_month_that_has_ended_can_be_published() {
        assert_eq!(
            check_publishable(month("2026-01"), day("2026-01-31")),
            Err(Unpublishable::NotEnded(month("2026-01"))),
            "its last day is not over"
        );
        assert!(check_publishable(month("2026-01"), day("2026-02-01")).is_ok());
        assert!(check_publishable(month("2026-03"), day("2026-02-10")).is_err());
    }

    #[test]
    fn the_same_authorities_in_any_order_are_one_publication_scope() {
        let a = ["933".to_string(), "865".to_string(), "933".to_string()];
        let b = ["865".to_string(), "933".to_string()];
        assert_eq!(scope_key(Some(&a)), "865,933");
        assert_eq!(scope_key(Some(&a)), scope_key(Some(&b)));
        assert_ne!(scope_key(Some(&b[..1])), scope_key(Some(&b)));
        assert_eq!(scope_key(None), "*");
    }

    #[test]
    fn financial_year_runs_april_to_march() {
        assert_eq!(financial_year(month("2025-04")), "2025-26");
        assert_eq!(financial_year(month("2026-03")), "2025-26");
        assert_eq!(financial_year(month("2099-12")), "2099-00");
    }
}
