//! The care-leaver track (pure; DOMAIN.md "Care leavers and adoption"). Rules:
//!
//! - **The 18th birthday ends the period of care**: a person of 18 is not looked after, so
//!   a period still open on the birthday ends on it, and the young person becomes a care
//!   leaver. The tracker cannot know which of the SSDA903 reasons for leaving at 18 applies
//!   (E5/E6 independent living, E7 adult social care, E17 staying put), so the period ends
//!   with [`END_REASON`] (E8, "ceased for any other reason") unless the local authority
//!   ended it first with the real one.
//! - **Health leaving-care summary**: offered in the 6 months before the 18th birthday and
//!   due by it ([`summary_window`]). A child who comes into care inside those 6 months is
//!   offered it from the start of care.
//! - **Its own RAG**: not yet open before the 6 months begin (`none`); `green` while more
//!   than [`AMBER_DAYS`] days remain; `amber` in the last [`AMBER_DAYS`] days before the
//!   birthday; `red` from the birthday on while no summary has been given; `completed`
//!   once given (a summary given after the birthday is `completed` but late, and stays
//!   late in [`SummaryStatus::late`]).
//! - **Its own escalation** ([`escalation_level`]): level 1 (the CLA health admin mailbox)
//!   when it turns amber, level 2 (the provider's Named Nurse) on the birthday with no
//!   summary, level 3 (the ICB's Designated Nurse) [`LEVEL_3_AFTER_DAYS`] days after it.
//!   The amber and level thresholds are local practice, not law.

use chrono::{Duration, Months, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use crate::obligations::birthday;

/// How long before the 18th birthday the summary is offered (DOMAIN.md: 6 months).
pub const OFFER_MONTHS: u32 = 6;

/// The last days before the birthday in which an open summary is amber (practice).
pub const AMBER_DAYS: i64 = 28;

/// Days after the birthday without a summary before the Designated Nurse is told (practice).
pub const LEVEL_3_AFTER_DAYS: i64 = 14;

/// The SSDA903 reason recorded when the tracker ends a period on the 18th birthday.
pub const END_REASON: &str = "E8";

/// Why the period ended, as the record and the audit trail say it.
pub const END_NOTE: &str = "turned 18: no longer looked after; the care-leaver track begins";

/// When the summary is offered from and when it is due, for a child born on `date_of_birth`
/// who became looked after on `in_care_from`.
pub fn summary_window(date_of_birth: NaiveDate, in_care_from: NaiveDate) -> (NaiveDate, NaiveDate) {
    let due_on = birthday(date_of_birth, 18);
    let six_months_before = due_on
        .checked_sub_months(Months::new(OFFER_MONTHS))
        .unwrap_or(NaiveDate::MIN);
    (six_months_before.max(in_care_from).min(due_on), due_on)
}

/// Whether a child in care on `today` should have the summary open now.
pub fn summary_is_offered(date_of_birth: NaiveDate, in_care_from: NaiveDate, today: NaiveDate) -> bool {
    let (from, due) = summary_window(date_of_birth, in_care_from);
    today >= from && today <= due
}

/// The summary's RAG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummaryRag {
    /// Before the 6 months begin.
    None,
    Green,
    Amber,
    Red,
    Completed,
}

impl SummaryRag {
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryRag::None => "none",
            SummaryRag::Green => "green",
            SummaryRag::Amber => "amber",
            SummaryRag::Red => "red",
            SummaryRag::Completed => "completed",
        }
    }
}

/// A summary as the rules see it on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryStatus {
    pub opened_on: NaiveDate,
    pub due_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
}

impl SummaryStatus {
    /// The RAG on `day` (a summary given after `day` is not yet given then).
    pub fn rag(&self, day: NaiveDate) -> SummaryRag {
        match self.completed_on {
            Some(done) if done <= day => SummaryRag::Completed,
            _ if day < self.opened_on => SummaryRag::None,
            _ if day >= self.due_on => SummaryRag::Red,
            _ if self.due_on - day <= Duration::days(AMBER_DAYS) => SummaryRag::Amber,
            _ => SummaryRag::Green,
        }
    }

    /// Given after the birthday (or not given by `day`, which is past the birthday). The
    /// summary is due *by* the 18th birthday: given on the birthday itself is on time.
    pub fn late(&self, day: NaiveDate) -> bool {
        match self.completed_on.filter(|done| *done <= day) {
            Some(done) => done > self.due_on,
            None => day > self.due_on,
        }
    }
}

/// The escalation level reached on `day` (0 = none).
pub fn escalation_level(status: &SummaryStatus, day: NaiveDate) -> u8 {
    match status.rag(day) {
        SummaryRag::None | SummaryRag::Green | SummaryRag::Completed => 0,
        SummaryRag::Amber => 1,
        SummaryRag::Red if day - status.due_on >= Duration::days(LEVEL_3_AFTER_DAYS) => 3,
        SummaryRag::Red => 2,
    }
}

/// Who each escalation level is for (the recipients of `config/escalations.toml`).
pub fn escalation_recipient(level: u8) -> Option<&'static str> {
    match level {
        1 => Some("health_admin_mailbox"),
        2 => Some("named_nurse"),
        3 => Some("designated_nurse"),
        _ => None,
    }
}

/// Whether a period still open on `today` must end at the 18th birthday, and on which day.
pub fn period_end_at_eighteen(date_of_birth: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    let eighteenth = birthday(date_of_birth, 18);
    (eighteenth <= today).then_some(eighteenth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn summary(dob: &str, completed_on: Option<&str>) -> SummaryStatus {
        let (opened_on, due_on) = summary_window(d(dob), d("2020-01-01"));
        SummaryStatus {
            opened_on,
            due_on,
            completed_on: completed_on.map(d),
        }
    }

    #[test]
    fn leaving_care_summary_is_due_by_the_18th_birthday_and_offered_from_6_months_before() {
        assert_eq!(
            summary_window(d("2008-09-15"), d("2019-01-01")),
            (d("2026-03-15"), d("2026-09-15"))
        );
        // Month-end clamping: 31 August less 6 months is the end of February.
        assert_eq!(
            summary_window(d("2008-08-31"), d("2019-01-01")),
            (d("2026-02-28"), d("2026-08-31"))
        );
        // A 29 February birthday is 1 March in a common year.
        assert_eq!(summary_window(d("2008-02-29"), d("2019-01-01")).1, d("2026-03-01"));
    }

    #[test]
    fn leaving_care_summary_is_offered_from_the_start_of_care_when_that_is_later() {
        assert_eq!(
            summary_window(d("2008-09-15"), d("2026-06-01")),
            (d("2026-06-01"), d("2026-09-15"))
        );
        assert!(!summary_is_offered(d("2008-09-15"), d("2019-01-01"), d("2026-03-14")));
        assert!(summary_is_offered(d("2008-09-15"), d("2019-01-01"), d("2026-03-15")));
        assert!(summary_is_offered(d("2008-09-15"), d("2019-01-01"), d("2026-09-15")));
    }

    #[test]
    fn leaving_care_summary_has_its_own_rag() {
        let s = summary("2008-09-15", None);
        assert_eq!(s.rag(d("2026-03-14")), SummaryRag::None, "before the 6 months");
        assert_eq!(s.rag(d("2026-03-15")), SummaryRag::Green);
        assert_eq!(s.rag(d("2026-08-17")), SummaryRag::Green, "29 days left");
        assert_eq!(s.rag(d("2026-08-18")), SummaryRag::Amber, "28 days left");
        assert_eq!(s.rag(d("2026-09-14")), SummaryRag::Amber);
        assert_eq!(s.rag(d("2026-09-15")), SummaryRag::Red, "the birthday, none given");
        let given = summary("2008-09-15", Some("2026-09-01"));
        assert_eq!(given.rag(d("2026-08-31")), SummaryRag::Amber, "not given yet then");
        assert_eq!(given.rag(d("2026-09-01")), SummaryRag::Completed);
        assert_eq!(given.rag(d("2027-01-01")), SummaryRag::Completed);
    }

    #[test]
    fn leaving_care_summary_given_on_the_birthday_is_on_time_and_after_it_is_late() {
        assert!(!summary("2008-09-15", Some("2026-09-15")).late(d("2027-01-01")));
        assert!(summary("2008-09-15", Some("2026-09-16")).late(d("2027-01-01")));
        assert!(summary("2008-09-15", None).late(d("2026-09-16")));
        assert!(!summary("2008-09-15", None).late(d("2026-09-15")));
    }

    #[test]
    fn leaving_care_summary_escalates_at_amber_on_the_birthday_and_two_weeks_after() {
        let s = summary("2008-09-15", None);
        assert_eq!(escalation_level(&s, d("2026-08-17")), 0);
        assert_eq!(escalation_level(&s, d("2026-08-18")), 1);
        assert_eq!(escalation_level(&s, d("2026-09-15")), 2);
        assert_eq!(escalation_level(&s, d("2026-09-28")), 2);
        assert_eq!(escalation_level(&s, d("2026-09-29")), 3);
        assert_eq!(escalation_recipient(3), Some("designated_nurse"));
        let given = summary("2008-09-15", Some("2026-09-20"));
        assert_eq!(escalation_level(&given, d("2026-09-20")), 0, "given: it clears");
    }

    #[test]
    fn eighteenth_birthday_ends_the_period_of_care_on_the_birthday() {
        assert_eq!(period_end_at_eighteen(d("2008-09-15"), d("2026-09-14")), None);
        assert_eq!(
            period_end_at_eighteen(d("2008-09-15"), d("2026-09-15")),
            Some(d("2026-09-15"))
        );
        assert_eq!(
            period_end_at_eighteen(d("2008-02-29"), d("2026-03-01")),
            Some(d("2026-03-01"))
        );
        assert_eq!(END_REASON, "E8");
    }
}
