//! The monthly performance measures the board reads (DOMAIN.md "Performance measures people
//! report"; the annual reports' Tables 4-7). Pure: what the tracker knows about each child
//! ([`ChildFacts`]) and "today" in, one [`Figure`] per measure and month out, each with the
//! exact children behind it.
//!
//! Rules (a child is looked after on day D when a period of care has started on or before D
//! and has not ended before D):
//! - **IHA within 20 working days**: the cohort is the periods that started in the month and
//!   had an IHA due: not short breaks (V3/V4), no prior assessment standing in, and the period
//!   did not end before the due date. Met = seen on or before the due date. A competent
//!   refusal is listed beside the figure, never in it. The month is provisional until every
//!   due date of its cohort has passed.
//! - **RHA on time**: the RHAs due in the month for children still looked after on the due
//!   date; met = seen on or before it (the loader counts a brief health summary as seen).
//!   Refusals beside, as for the IHA.
//! - **Dental check**: children looked after at the end of the month whose period had then
//!   lasted at least 12 months; met = a dental check dated in the 12 months to the month end.
//! - **SDQ**: the dental cohort aged 4 to 16 at the month end; met = an SDQ *score* in the 12
//!   months to the month end (a reason for no score is a miss, with that reason shown).
//! - **Immunisations**: the dental cohort; met = the latest immunisation record in the 12
//!   months to the month end says up to date.
//! - **Leaving-care summary**: young people whose 18th birthday fell in the month while
//!   looked after; met = a health leaving-care summary given on or before the birthday.
//! - A figure is `numerator / denominator` over the whole cohort: entries still pending count
//!   in the denominator only, so a provisional figure can rise but never silently fall.
//!   Months not yet over, and IHA months with due dates still to come, are provisional.
//! - Every miss carries its reason and whose step it was; the loader supplies them for
//!   assessments from their history, the checks' reasons are fixed here.
//!
//! Beside the figures: [`delays`] (how late the late IHAs were, why and whose step) and
//! [`chart`] (a measure's months drawn as an SVG trend against the target).

pub mod chart;
pub mod delays;
mod measures;
mod month;
mod publication;
#[cfg(test)]
mod reference;
mod restatement;
#[cfg(test)]
mod tests;

pub use measures::{figure, figures, percent, summaries, window_start, Summary};
pub use month::{Month, MonthError};
pub use publication::{check_publishable, financial_year, scope_key, Unpublishable};
pub use restatement::{restate, Change, Restatement};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::status::Attribution;

/// The target every measure is held to (per cent).
pub const TARGET_PERCENT: u32 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    IhaWithin20WorkingDays,
    RhaOnTime,
    DentalCheck,
    SdqScore,
    ImmunisationsUpToDate,
    LeavingCareSummary,
}

impl Measure {
    pub const ALL: [Measure; 6] = [
        Measure::IhaWithin20WorkingDays,
        Measure::RhaOnTime,
        Measure::DentalCheck,
        Measure::SdqScore,
        Measure::ImmunisationsUpToDate,
        Measure::LeavingCareSummary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::IhaWithin20WorkingDays => "iha_within_20_working_days",
            Measure::RhaOnTime => "rha_on_time",
            Measure::DentalCheck => "dental_check",
            Measure::SdqScore => "sdq_score",
            Measure::ImmunisationsUpToDate => "immunisations_up_to_date",
            Measure::LeavingCareSummary => "leaving_care_summary",
        }
    }

    /// The heading the board's tables use.
    pub fn title(self) -> &'static str {
        match self {
            Measure::IhaWithin20WorkingDays => "Initial health assessments within 20 working days",
            Measure::RhaOnTime => "Review health assessments on time",
            Measure::DentalCheck => "Dental checks in the last 12 months",
            Measure::SdqScore => "SDQ scores in the last 12 months (ages 4 to 16)",
            Measure::ImmunisationsUpToDate => "Immunisations up to date",
            Measure::LeavingCareSummary => "Health leaving-care summary by the 18th birthday",
        }
    }
}

impl std::str::FromStr for Measure {
    type Err = ();

    fn from_str(s: &str) -> Result<Measure, ()> {
        Measure::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// What the tracker knows about one child, as the measures need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildFacts {
    pub child_id: String,
    /// The local authority's own id for the child, shown in drill-down lists.
    pub local_id: String,
    pub local_authority: String,
    pub date_of_birth: NaiveDate,
    pub periods: Vec<PeriodFacts>,
    pub checks: Vec<CheckFact>,
    /// The day a health leaving-care summary was given, if it was.
    pub leaving_care_summary_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PeriodFacts {
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    /// The period's IHA; `None` when none was ever due (a short-breaks period).
    pub iha: Option<AssessmentFacts>,
    pub rhas: Vec<AssessmentFacts>,
}

impl PeriodFacts {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.started_on <= day && self.ended_on.is_none_or(|end| end >= day)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentFacts {
    pub assessment_id: String,
    pub due_on: NaiveDate,
    /// Seen face to face (or, for an RHA, a brief health summary written).
    pub seen_on: Option<NaiveDate>,
    /// Why no assessment was due after all, if so.
    pub exemption: Option<Exemption>,
    /// A competent refusal stands.
    pub refused: bool,
    pub out_of_area: bool,
    /// Why it was (or is being) late, and whose step that was, from its history.
    pub late: Option<Cause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exemption {
    ShortBreaks,
    PriorAssessment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cause {
    pub reason: Reason,
    pub attribution: Attribution,
}

/// Why an entry missed, in the words the meeting uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    LateNotification,
    LateConsent,
    NotBrought,
    DidNotAttend,
    CancelledByCarerOrLa,
    CancelledByProvider,
    NoAppointment,
    NoClinician,
    HostProvider,
    ReportLate,
    Refused,
    NoDentalCheck,
    NoSdqScore,
    NoImmunisationRecord,
    ImmunisationsNotUpToDate,
    NoLeavingCareSummary,
    /// A miss whose history names no cause.
    NotRecorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Dental,
    Sdq,
    Immunisations,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckFact {
    pub kind: CheckKind,
    pub on: NaiveDate,
    /// Immunisations: whether the record says up to date.
    pub up_to_date: Option<bool>,
    /// SDQ: the score (0-40), or `None` when a reason was recorded instead.
    pub sdq_score: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    Missed,
    /// Not yet known: the due date (or the month's end) is still to come.
    Pending,
}

/// One child (and assessment) behind a figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub child_id: String,
    pub local_id: String,
    pub local_authority: String,
    pub assessment_id: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub done_on: Option<NaiveDate>,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub attribution: Option<Attribution>,
    pub out_of_area: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub measure: Measure,
    pub month: Month,
    pub numerator: usize,
    pub denominator: usize,
    /// One decimal place; `None` for an empty cohort.
    pub percent: Option<f64>,
    pub target: u32,
    pub provisional: bool,
    /// The cohort, met, missed and pending.
    pub entries: Vec<Entry>,
    /// Shown beside the figure, not in it (competent refusals).
    pub beside: Vec<Entry>,
}
