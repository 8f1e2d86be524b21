//! Which open assessments are likely to be late: a forecast worked out from the history
//! already recorded, not from a hand-set rule. Pure: no I/O; `service::forecast` fits the
//! parameters from the database, stores them, and asks this module for forecasts.
//!
//! Rules and choices (and why):
//!
//! - **Steps.** An IHA moves through notification (clock start to notified), consent
//!   (notified to consent), booking (consent to the day the first appointment is for:
//!   making the booking and waiting for that day), appointment (the first appointment's
//!   day to seen: zero when attended, longer after a missed one) and report (seen to
//!   completed). An RHA has booking (from its booking window,
//!   `rha_booking_lead_working_days` before the due date), appointment and report. Each
//!   step's duration is counted in working days (`Calendar::working_days_between`).
//!   Out-of-area children have the same steps; the host area's delays show up in their
//!   own distributions because "out of area" is part of the group (below).
//! - **Booked: timed from the appointment's day.** Once an appointment is booked its day
//!   is known, so the forecast starts the appointment step on that day (a rebooked one
//!   too, as a fresh appointment). (Timing it from
//!   the day of booking and conditioning on lasting until the booked day picked that
//!   step's slow tail, mostly missed appointments, for every appointment booked weeks
//!   ahead: forecasts of 0.5-0.9 came true 33-61% of the time in the first backtest.)
//!   While the appointment's outcome is not recorded, [`OUTCOME_GRACE`] working days
//!   after its day say nothing (outcomes are often recorded late).
//! - **Empirical distributions, censoring included.** For every step, the model keeps how
//!   many cases ended after d working days and how many were still waiting after d days
//!   when the data was read (right-censored, up to [`MAX_DAYS`]; longer counts as
//!   `MAX_DAYS`). The distribution is the discrete Kaplan-Meier one: the hazard on day d is
//!   ended(d) / at risk(d). Leaving out the steps still waiting would make slow groups
//!   look fast, which is exactly the wrong way round for a lateness forecast.
//! - **Groups and shrinkage.** A group is kind (IHA/RHA), local authority, in or out of
//!   area and age band at clock start (0-4, 5-9, 10-15, 16+). Small groups are noisy, so
//!   each level is shrunk toward the one above: county (kind) -> kind, out of area and age
//!   band -> kind, LA, out of area and age band. Shrinkage is on the daily hazard, with
//!   [`SHRINK_K`] pseudo-cases of the parent: h = (ended + k * h_parent) / (at risk + k).
//!   That is a Beta prior centred on the parent per day, so a group with 200 cases on day
//!   3 keeps its own hazard, while its sparse tail (few cases still waiting on day 30)
//!   follows the county's. One knob, explainable, no training loop; a plain average of
//!   the whole distribution would shrink the well-observed early days as much as the tail.
//! - **Combining steps.** The remaining time from the start of the current step is the
//!   current step's duration, conditioned on having already lasted the elapsed working
//!   days (and past a missed appointment's day), plus the later steps'
//!   durations, taken as independent. Their sum is a discrete convolution (exact, no
//!   sampling, so reproducible without a seed). Conditioning on D >= elapsed (not D >
//!   elapsed) is what makes the two rules below hold exactly.
//! - **Late** means not completed by the due date: the step model's p_model =
//!   P(start + remaining > due), and p_late = its recalibration (below). The range is the
//!   10th to 90th percentile of the completion day and expected_on the mean, both from the
//!   step model.
//! - **Recalibrated, monotone.** Taking the steps as independent leaves p_model too timid
//!   where it matters most: the first backtest (issue 13) found forecasts of 0.6-0.9 came
//!   true 5-8 points more often than said (out-of-area IHAs waiting for notification,
//!   consent or booking; RHAs whose report or rebooking drives the risk), while RHAs
//!   forecast before their booking window opened came true less often. So p_late =
//!   sigmoid(a + b * logit(p_model)) with b >= 0 (Platt scaling), one map per kind, in or
//!   out of area, and whether the first step had started on the day (an RHA's booking
//!   window opened; an IHA's always has). Each map is fitted at refit time, by maximum
//!   likelihood, on the step model's forecasts of the [`RECALIBRATION_WEEKS`]
//!   Mondays before, each made from the parameters fitted from what was known on that
//!   Monday, scored against the outcomes known on the fit day (only assessments due 28
//!   days or more before it: by then an outcome is known whether or not it was late). It is
//!   stored with the parameters, so a past day's forecast is made again exactly; with
//!   fewer than [`MIN_PAIRS`] such outcomes a map is the identity (an RHA not yet started
//!   then takes its kind and area's started map).
//!   Why this and not the alternatives the issue weighed: modelling the dependence (a
//!   per-case pace, or steps conditioned on the previous step's speed) changes every
//!   step distribution and would have to keep the two rules below by construction, and
//!   the 0.6-0.9 deciles are a few hundred forecasts of a few groups, too few to fit a
//!   pace per group without noise; modelling the host steps and the rebooking loop
//!   separately needs data the seed-demo history does not split out. One free pool-wide
//!   isotonic map (tried first) followed the earlier Mondays' noise and put 0.5-0.6 out by
//!   9 points; two coefficients per segment do not. The drivers, words and dates stay the
//!   step model's, so every forecast still says which step drives it.
//! - **Monotone in elapsed time.** With nothing done, waiting longer never lowers p_model:
//!   D given D >= e grows stochastically with e; the map is non-decreasing and, for one
//!   assessment, changes only when its booking window opens, where the not-started map is
//!   capped by the started one (never above it), so p_late never falls either.
//! - **A completed step never raises the risk.** Completing the current step today
//!   replaces (D given D >= e) by e, which is never more; whether the first step has started
//!   depends on the day alone, so the same non-decreasing map applies before and after.
//! - **Driver.** The remaining step with the longest expected remaining time; its words
//!   quote, from the group's distribution, how often that step alone took longer than the
//!   working days it can take if the other steps take their median.

mod calibration;
mod fit;
mod model;

pub use calibration::{fit_segments, Pair, Recalibration, SegmentRecalibration, MIN_PAIRS};
pub use fit::{observations, observations_with, Observation};

/// The Mondays of earlier forecasts a recalibration learns from.
pub const RECALIBRATION_WEEKS: i64 = 26;
pub use model::{first_appointment, Driver, Forecast, Model, OUTCOME_GRACE};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::workflow::Kind;

/// Durations of this many working days or more are counted as this many.
pub const MAX_DAYS: usize = 60;
/// The pseudo-cases of the parent distribution each group's daily hazard is shrunk with.
pub const SHRINK_K: f64 = 10.0;

/// One step of an assessment's way to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Notification,
    Consent,
    Booking,
    Appointment,
    Report,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Notification => "notification",
            Step::Consent => "consent",
            Step::Booking => "booking",
            Step::Appointment => "appointment",
            Step::Report => "report",
        }
    }

    /// The steps an assessment of `kind` goes through, in order.
    pub fn of(kind: Kind) -> &'static [Step] {
        use Step::*;
        match kind {
            Kind::Iha => &[Notification, Consent, Booking, Appointment, Report],
            Kind::Rha => &[Booking, Appointment, Report],
        }
    }

    /// The step in words, capitalised, for the start of a sentence.
    pub fn words(self, out_of_area: bool) -> &'static str {
        match (self, out_of_area) {
            (Step::Notification, _) => "Notification",
            (Step::Consent, _) => "Consent",
            (Step::Booking, false) => "Booking, to the first appointment's day,",
            (Step::Booking, true) => "Booking with the host area, to the first appointment's day,",
            (Step::Appointment, false) => "The first appointment's day to seen",
            (Step::Appointment, true) => "The host area's first appointment to seen",
            (Step::Report, false) => "Report",
            (Step::Report, true) => "The host area's report",
        }
    }
}

/// Age at clock start, in the bands the groups use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AgeBand {
    #[serde(rename = "0-4")]
    Under5,
    #[serde(rename = "5-9")]
    From5To9,
    #[serde(rename = "10-15")]
    From10To15,
    #[serde(rename = "16+")]
    From16,
}

impl AgeBand {
    pub fn of(date_of_birth: NaiveDate, on: NaiveDate) -> AgeBand {
        let years = on.years_since(date_of_birth).unwrap_or(0);
        match years {
            0..=4 => AgeBand::Under5,
            5..=9 => AgeBand::From5To9,
            10..=15 => AgeBand::From10To15,
            _ => AgeBand::From16,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under5 => "0-4",
            AgeBand::From5To9 => "5-9",
            AgeBand::From10To15 => "10-15",
            AgeBand::From16 => "16+",
        }
    }
}

/// Who an assessment is like: the group whose history forecasts it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Group {
    pub kind: Kind,
    pub la: String,
    pub out_of_area: bool,
    pub age: AgeBand,
}

impl PartialOrd for Kind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Per working day 0..=MAX_DAYS: how many cases of a step ended after that many working
/// days, and how many were still waiting after that many when the data was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub ended: Vec<u32>,
    pub waiting: Vec<u32>,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            ended: vec![0; MAX_DAYS + 1],
            waiting: vec![0; MAX_DAYS + 1],
        }
    }
}

impl Counts {
    pub fn add(&mut self, days: i32, ended: bool) {
        let d = days.clamp(0, MAX_DAYS as i32) as usize;
        if ended {
            self.ended[d] += 1;
        } else {
            self.waiting[d] += 1;
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        for d in 0..=MAX_DAYS {
            self.ended[d] += other.ended[d];
            self.waiting[d] += other.waiting[d];
        }
    }

    pub fn cases(&self) -> u32 {
        self.ended.iter().chain(&self.waiting).sum()
    }
}

/// What the stored counts mean. 3: with the recalibration of p_late fitted at refit time
/// (2: without it; booking ends on the first appointment's day and the appointment step is
/// timed from it; 1, absent in the text: both timed from the day of booking). A set of
/// another version is not used; the next refit replaces it.
pub const PARAMS_VERSION: u32 = 3;

/// The fitted parameters: what is stored, and all a forecast needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    #[serde(default = "first_version")]
    pub version: u32,
    /// The day the data was read: only events recorded by then were used.
    pub fitted_on: NaiveDate,
    /// Steps that started on or after this day were counted (the data window).
    pub window_from: NaiveDate,
    pub shrink_k: f64,
    /// The RHA booking window's lead, in working days before the due date.
    pub rha_booking_lead: i32,
    pub cells: Vec<Cell>,
    /// The recalibration of p_late by kind, area and start (none: the identity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recalibration: Vec<SegmentRecalibration>,
}

/// The counts of one step in one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub group: Group,
    pub step: Step,
    pub counts: Counts,
}

impl Params {
    /// Parameters from observations (see [`observations`]).
    pub fn fit(
        fitted_on: NaiveDate,
        window_from: NaiveDate,
        rha_booking_lead: i32,
        obs: impl IntoIterator<Item = Observation>,
    ) -> Params {
        let mut cells: BTreeMap<(Group, Step), Counts> = BTreeMap::new();
        for o in obs {
            cells.entry((o.group, o.step)).or_default().add(o.days, o.ended);
        }
        Params {
            version: PARAMS_VERSION,
            fitted_on,
            window_from,
            shrink_k: SHRINK_K,
            rha_booking_lead,
            cells: cells
                .into_iter()
                .map(|((group, step), counts)| Cell { group, step, counts })
                .collect(),
            recalibration: Vec::new(),
        }
    }

    /// How many step observations the parameters came from.
    pub fn observations(&self) -> u64 {
        self.cells.iter().map(|c| u64::from(c.counts.cases())).sum()
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("parameters serialise")
    }

    pub fn from_text(text: &str) -> Result<Params, serde_json::Error> {
        serde_json::from_str(text)
    }
}

fn first_version() -> u32 {
    1
}

#[cfg(test)]
mod tests;
