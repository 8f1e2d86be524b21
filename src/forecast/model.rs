//! The fitted model: shrunk step distributions per group, and the forecast for one open
//! assessment (rules in the module above).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::fit::first_start;
use super::{AgeBand, Counts, Group, Params, SegmentRecalibration, Step, MAX_DAYS};
use crate::calendar::Calendar;
use crate::status::AssessmentFacts;
use crate::workflow::{Kind, State};

/// The hazard a level with no data at all on a day falls back to (a slow geometric tail).
const NO_DATA_HAZARD: f64 = 0.2;
/// Working days after the day of the appointment in hand during which its outcome not yet
/// being recorded says nothing: outcomes are often recorded a day or two late, and
/// conditioning on "not seen on the day" would jump to the non-attendances' slow tail.
pub const OUTCOME_GRACE: i32 = 3;
/// The percentiles of the completion day given as the range.
const RANGE: (f64, f64) = (0.10, 0.90);

/// One step's distribution of working days, 0..=MAX_DAYS.
#[derive(Debug, Clone)]
struct Dist {
    pmf: Vec<f64>,
    /// P(D >= d).
    surv: Vec<f64>,
    mean: f64,
    median: i32,
}

impl Dist {
    fn from_hazard(hazard: &[f64]) -> Dist {
        let mut pmf = vec![0.0; MAX_DAYS + 1];
        let mut alive = 1.0;
        for d in 0..MAX_DAYS {
            pmf[d] = alive * hazard[d];
            alive -= pmf[d];
        }
        pmf[MAX_DAYS] = alive.max(0.0);
        let mut surv = vec![0.0; MAX_DAYS + 2];
        for d in (0..=MAX_DAYS).rev() {
            surv[d] = surv[d + 1] + pmf[d];
        }
        let mean = pmf.iter().enumerate().map(|(d, p)| d as f64 * p).sum();
        let median = (0..=MAX_DAYS).find(|d| surv[d + 1] <= 0.5).unwrap_or(MAX_DAYS) as i32;
        Dist {
            pmf,
            surv,
            mean,
            median,
        }
    }

    /// P(D > days), unconditioned.
    fn share_over(&self, days: i32) -> f64 {
        let d = (days + 1).clamp(0, MAX_DAYS as i32 + 1) as usize;
        self.surv[d]
    }
}

/// Kaplan-Meier hazard of `c`, each day shrunk toward `parent` with `k` pseudo-cases.
fn hazard(c: &Counts, parent: Option<&[f64]>, k: f64) -> Vec<f64> {
    let mut at_risk: f64 = c.ended.iter().chain(&c.waiting).map(|n| f64::from(*n)).sum();
    let mut h = vec![1.0; MAX_DAYS + 1];
    for d in 0..MAX_DAYS {
        let ended = f64::from(c.ended[d]);
        h[d] = match parent {
            Some(p) => (ended + k * p[d]) / (at_risk + k),
            None if at_risk > 0.0 => ended / at_risk,
            None => NO_DATA_HAZARD,
        };
        at_risk -= ended + f64::from(c.waiting[d]);
    }
    h
}

/// The steps of one group, and the sum of the steps after each one.
#[derive(Debug, Clone)]
struct Steps {
    hazards: Vec<Vec<f64>>,
    dists: Vec<Dist>,
    /// after[i]: the CDF of the working days steps i+1.. take together.
    after_cdf: Vec<Vec<f64>>,
    after_mean: Vec<f64>,
    /// Whether it is the group's own (LA level) or a broader level's.
    own: bool,
}

impl Steps {
    fn new(hazards: Vec<Vec<f64>>, own: bool) -> Steps {
        let dists: Vec<Dist> = hazards.iter().map(|h| Dist::from_hazard(h)).collect();
        let n = dists.len();
        let mut after_cdf = vec![Vec::new(); n];
        let mut after_mean = vec![0.0; n];
        let mut pmf = vec![1.0];
        let mut mean = 0.0;
        for i in (0..n).rev() {
            after_cdf[i] = cumulative(&pmf);
            after_mean[i] = mean;
            pmf = convolve(&pmf, &dists[i].pmf);
            mean += dists[i].mean;
        }
        Steps {
            hazards,
            dists,
            after_cdf,
            after_mean,
            own,
        }
    }
}

fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        if *x == 0.0 {
            continue;
        }
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

fn cumulative(pmf: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    pmf.iter()
        .map(|p| {
            acc += p;
            acc
        })
        .collect()
}

/// CDF at `k` of a distribution given by its cumulative vector.
fn cdf_at(cdf: &[f64], k: i64) -> f64 {
    if k < 0 {
        0.0
    } else {
        cdf.get(k as usize).copied().unwrap_or(1.0)
    }
}

/// The day the first appointment was booked for, as far as the facts say it: the one in
/// hand, or the day seen, when none was missed; the missed one when one was.
pub fn first_appointment(f: &AssessmentFacts) -> Option<NaiveDate> {
    match f.non_attendance_count {
        0 => f.appointment_on.or(f.seen_on),
        1 => f.last_non_attendance.map(|(on, _)| on),
        _ => None,
    }
}

/// Where an assessment with a booking stands in the appointment step, and how long the
/// step has lasted at least. Booked: from the day of the appointment in hand, as a fresh
/// appointment (a rebooked one too: missing the first says nothing more once the next day
/// is known). Waiting to be booked again: from the first appointment's day
/// (`first_appointment_on`, else the missed one's), having outlasted the missed day. None
/// when it has no appointment day.
///
/// The step is timed from the appointment's day, not from the day of booking: an
/// appointment booked weeks ahead says when it will be, and conditioning "booked to seen"
/// on lasting until then picked the slow tail of that step (mostly missed appointments)
/// for every appointment booked well ahead (issue 13's calibration miss).
fn appointment_position(
    cal: &Calendar,
    f: &AssessmentFacts,
    first_appointment_on: Option<NaiveDate>,
) -> Option<(NaiveDate, i32)> {
    f.first_booked_on?;
    if let (State::Booked, Some(on)) = (f.state, f.appointment_on) {
        return Some((on, 0));
    }
    let missed = f.last_non_attendance.map(|(on, _)| on);
    let start = first_appointment_on.or(missed)?;
    // A missed appointment means the step outlasted its day.
    let past_missed = missed.map_or(0, |on| cal.working_days_between(start, on) + 1);
    Some((start, past_missed.max(0)))
}

/// The forecast for one open assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// The probability it is not completed by its due date (recalibrated).
    pub p_late: f64,
    /// The step model's probability before the recalibration (what a later recalibration
    /// learns from).
    pub p_model: f64,
    /// Whether its first step had started on the day (an RHA's booking window had opened).
    pub started: bool,
    pub expected_on: NaiveDate,
    /// The 10th and 90th percentiles of the completion day.
    pub range: (NaiveDate, NaiveDate),
    pub driver: Driver,
}

/// The step that contributes most to the remaining time, and why, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    pub step: Step,
    pub words: String,
}

/// Where an open assessment is: the step under way, since when, and any lower bound on
/// its duration (a booked appointment's day).
struct Position {
    index: usize,
    start: NaiveDate,
    at_least: i32,
}

/// The fitted model, ready to forecast.
#[derive(Debug, Clone)]
pub struct Model {
    pub fitted_on: NaiveDate,
    pub window_from: NaiveDate,
    rha_lead: i32,
    county: HashMap<Kind, Steps>,
    band: HashMap<(Kind, bool, AgeBand), Steps>,
    group: HashMap<Group, Steps>,
    recalibration: HashMap<(Kind, bool, bool), SegmentRecalibration>,
}

impl Model {
    pub fn new(p: &Params) -> Model {
        let mut county_c: HashMap<Kind, Vec<Counts>> = HashMap::new();
        let mut band_c: HashMap<(Kind, bool, AgeBand), Vec<Counts>> = HashMap::new();
        let mut group_c: HashMap<Group, Vec<Counts>> = HashMap::new();
        for cell in &p.cells {
            let g = &cell.group;
            let Some(i) = Step::of(g.kind).iter().position(|s| *s == cell.step) else {
                continue;
            };
            let n = Step::of(g.kind).len();
            let blank = || vec![Counts::default(); n];
            county_c.entry(g.kind).or_insert_with(blank)[i].merge(&cell.counts);
            band_c.entry((g.kind, g.out_of_area, g.age)).or_insert_with(blank)[i].merge(&cell.counts);
            group_c.entry(g.clone()).or_insert_with(blank)[i].merge(&cell.counts);
        }
        let k = p.shrink_k;
        let level = |counts: &[Counts], parent: Option<&Steps>, own: bool| {
            let hazards = counts
                .iter()
                .enumerate()
                .map(|(i, c)| hazard(c, parent.map(|p| p.hazards[i].as_slice()), k))
                .collect();
            Steps::new(hazards, own)
        };
        let county: HashMap<Kind, Steps> = county_c
            .iter()
            .map(|(kind, c)| (*kind, level(c, None, false)))
            .collect();
        let band: HashMap<_, _> = band_c
            .iter()
            .map(|(key, c)| (*key, level(c, county.get(&key.0), false)))
            .collect();
        let group = group_c
            .iter()
            .map(|(g, c)| {
                let parent = band.get(&(g.kind, g.out_of_area, g.age));
                (g.clone(), level(c, parent, true))
            })
            .collect();
        Model {
            fitted_on: p.fitted_on,
            window_from: p.window_from,
            rha_lead: p.rha_booking_lead,
            county,
            band,
            group,
            recalibration: p
                .recalibration
                .iter()
                .map(|s| ((s.kind, s.out_of_area, s.started), s.clone()))
                .collect(),
        }
    }

    fn steps_for(&self, g: &Group) -> Option<&Steps> {
        self.group
            .get(g)
            .or_else(|| self.band.get(&(g.kind, g.out_of_area, g.age)))
            .or_else(|| self.county.get(&g.kind))
    }

    /// The forecast for the assessment whose facts on `as_of` are `f`, of group `g`.
    /// None when it is not open and progressing (completed, ended, refused) or the model
    /// has no data at all for its kind.
    pub fn forecast(&self, cal: &Calendar, f: &AssessmentFacts, g: &Group, as_of: NaiveDate) -> Option<Forecast> {
        self.forecast_with(cal, f, first_appointment(f), g, as_of)
    }

    /// As [`Model::forecast`], with the day the first appointment was booked for when the
    /// caller knows it from the history (the facts alone do not say it after two or more
    /// appointments were missed).
    pub fn forecast_with(
        &self,
        cal: &Calendar,
        f: &AssessmentFacts,
        first_appointment_on: Option<NaiveDate>,
        g: &Group,
        as_of: NaiveDate,
    ) -> Option<Forecast> {
        let steps = self.steps_for(g)?;
        let pos = self.position(cal, f, first_appointment_on)?;
        let mut elapsed = cal.working_days_between(pos.start, as_of);
        if Step::of(f.kind)[pos.index] == Step::Appointment && f.state == State::Booked {
            elapsed -= OUTCOME_GRACE;
        }
        let lower = elapsed.max(pos.at_least).max(0);
        let current = Current::new(&steps.dists[pos.index], lower);
        let after = &steps.after_cdf[pos.index];
        let cdf = |x: i64| current.cdf_with(after, x);
        let due_off = i64::from(cal.working_days_between(pos.start, f.due_on));
        let p_model = (1.0 - cdf(due_off)).clamp(0.0, 1.0);
        // Non-decreasing, so the monotonicity rules carry over from p_model to p_late.
        // Started or not depends on the day alone, never on a step done.
        let started = first_start(cal, f, self.rha_lead) <= as_of;
        let p_late = self
            .recalibration
            .get(&(g.kind, g.out_of_area, started))
            .map_or(p_model, |m| m.apply(p_model));
        let hi = i64::from(lower) + MAX_DAYS as i64 + after.len() as i64 + 1;
        let quantile = |q: f64| first_reaching(i64::from(lower), hi, q, &cdf);
        let on = |days: f64| cal.add_working_days(pos.start, days.round() as i32);
        let mean = current.mean + steps.after_mean[pos.index];
        let driver = self.driver(f, g, steps, &pos, &current, lower, due_off);
        Some(Forecast {
            p_late,
            p_model,
            started,
            expected_on: on(mean),
            range: (on(quantile(RANGE.0) as f64), on(quantile(RANGE.1) as f64)),
            driver,
        })
    }

    /// The step under way and since when. `first_appointment_on` is the day the first
    /// appointment was booked for (None: not known, see `Booking` below).
    fn position(
        &self,
        cal: &Calendar,
        f: &AssessmentFacts,
        first_appointment_on: Option<NaiveDate>,
    ) -> Option<Position> {
        let steps = Step::of(f.kind);
        let at = |step: Step, start: NaiveDate, at_least: i32| {
            let index = steps.iter().position(|s| *s == step)?;
            Some(Position { index, start, at_least })
        };
        let first = first_start(cal, f, self.rha_lead);
        match f.state {
            State::AwaitingNotification => at(Step::Notification, first, 0),
            State::AwaitingConsent => at(Step::Consent, f.notified_on.unwrap_or(first), 0),
            State::Scheduled => at(Step::Booking, first, 0),
            State::AwaitingBooking | State::Booked => match appointment_position(cal, f, first_appointment_on) {
                Some((start, at_least)) => at(Step::Appointment, start, at_least),
                None => {
                    let start = match f.kind {
                        Kind::Iha => f.consent_on.or(f.notified_on).unwrap_or(first),
                        Kind::Rha => first,
                    };
                    at(Step::Booking, start, 0)
                }
            },
            State::AwaitingReport => {
                let seen = f.seen_on.or(f.first_booked_on).unwrap_or(first);
                at(Step::Report, seen, 0)
            }
            State::Completed | State::Refused | State::NotRequired | State::Closed => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn driver(
        &self,
        f: &AssessmentFacts,
        g: &Group,
        steps: &Steps,
        pos: &Position,
        current: &Current,
        lower: i32,
        due_off: i64,
    ) -> Driver {
        let kinds = Step::of(f.kind);
        let later = pos.index + 1..kinds.len();
        let current_left = current.mean - f64::from(lower);
        let (driver, _) = later
            .clone()
            .map(|i| (i, steps.dists[i].mean))
            .fold((pos.index, current_left), |best, c| if c.1 > best.1 { c } else { best });
        let medians: i64 = later
            .clone()
            .filter(|i| *i != driver)
            .map(|i| i64::from(steps.dists[i].median))
            .sum();
        let budget = if driver == pos.index {
            due_off - medians
        } else {
            due_off - current.median - medians
        };
        let step = kinds[driver];
        let dist = &steps.dists[driver];
        let scope = if steps.own {
            format!(
                "this LA's {} cases aged {}",
                if g.out_of_area { "out-of-area" } else { "in-area" },
                g.age.as_str()
            )
        } else {
            "similar cases across the county".to_string()
        };
        let name = step.words(g.out_of_area);
        let words = if budget <= 0 {
            format!(
                "{name} is still to come with no working days left before the due date; it has taken a median of {} working days in {scope} in the last year",
                dist.median
            )
        } else {
            let share = (dist.share_over(budget as i32) * 100.0).round();
            format!("{name} has taken over {budget} working days in {share}% of {scope} in the last year")
        };
        Driver { step, words }
    }
}

/// The current step's duration given it has lasted at least `lower` working days.
struct Current {
    /// (days, probability) with positive probability.
    mass: Vec<(i64, f64)>,
    mean: f64,
    median: i64,
}

impl Current {
    fn new(d: &Dist, lower: i32) -> Current {
        let lower = lower.max(0) as usize;
        let left = d.surv.get(lower).copied().unwrap_or(0.0);
        let mass: Vec<(i64, f64)> = if lower > MAX_DAYS || left <= 1e-12 {
            vec![(lower as i64, 1.0)]
        } else {
            (lower..=MAX_DAYS)
                .filter(|i| d.pmf[*i] > 0.0)
                .map(|i| (i as i64, d.pmf[i] / left))
                .collect()
        };
        let mean = mass.iter().map(|(x, p)| *x as f64 * p).sum();
        let mut acc = 0.0;
        let median = mass
            .iter()
            .find(|(_, p)| {
                acc += p;
                acc >= 0.5
            })
            .map_or(lower as i64, |(x, _)| *x);
        Current { mass, mean, median }
    }

    /// P(this step plus the later ones <= x).
    fn cdf_with(&self, after: &[f64], x: i64) -> f64 {
        self.mass.iter().map(|(d, p)| p * cdf_at(after, x - d)).sum()
    }
}

/// The smallest x in [lo, hi] with cdf(x) >= q (hi when none).
fn first_reaching(mut lo: i64, mut hi: i64, q: f64, cdf: &dyn Fn(i64) -> f64) -> i64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if cdf(mid) >= q - 1e-12 {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}
