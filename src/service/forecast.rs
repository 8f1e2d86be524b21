//! The lateness forecast's shell (the model is `crate::forecast`): fitting the parameters
//! from the history known on a day, storing them (`forecast_models`), finding the set in
//! force on a day, forecasting rows a page already holds, and the backtest.
//!
//! Rules:
//! - **Known on D.** A fit for D uses only events effective on or before D and recorded
//!   by the end of D. Events the history migration made from older rows
//!   (`db::history::BACKFILLED_BY`) have no true recording time, so they count as known
//!   on their effective day.
//! - **Window.** Steps that started in the year before D are counted ("in the last year").
//! - **In force.** A forecast for D uses the latest set fitted on or before D; one set per
//!   day (a refit on the same day replaces it), so a past day's forecast can be made again.
//! - **Out of area** is having had a request to a host area by the day.
//! - **Recalibration, honest.** A refit for D also fits the map from the step model's
//!   probability to p_late (`forecast` module, "Recalibrated, monotone"): the step model is
//!   refitted on each of the 26 Mondays before D from what was recorded by then (true
//!   recording times, even for a refit today), its forecasts then are scored against the
//!   outcomes known on D of assessments due 28+ days before D. The backtest does the same on
//!   every Monday it scores, so no map learns from an outcome not yet known on its Monday.
//! - **Cheap on the page path.** A list forecasts the rows it has loaded from the stored
//!   parameters (one read, cached by id) and the child's date of birth; no per-row query.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::DomainCtx;
use crate::calendar::Calendar;
use crate::db::history::BACKFILLED_BY;
use crate::db::models::{new_id, now_utc};
use crate::db::schema::{assessments, children, forecast_models, out_of_area_requests};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::forecast::{
    fit_segments, observations_with, AgeBand, Forecast, Group, Model, Pair, Params, PARAMS_VERSION, RECALIBRATION_WEEKS,
};
use crate::history::{self, Change, Event, RequestStep};
use crate::status::{self, AssessmentFacts, ClockPolicy, Rag};
use crate::workflow::{Kind, State};

/// The days of history a fit counts.
pub const WINDOW_DAYS: i64 = 365;
/// Days after its due date before a recalibration takes an assessment's outcome as known:
/// a completion recorded a few days late would otherwise read as late.
pub const OUTCOME_SETTLE_DAYS: i64 = 28;

/// What a fit or the backtest reads about one assessment.
#[derive(Debug, Clone)]
pub struct Subject {
    pub id: String,
    pub kind: Kind,
    pub clock_started_on: NaiveDate,
    pub due_on: NaiveDate,
    pub la: String,
    pub date_of_birth: NaiveDate,
    pub events: Vec<Event>,
}

impl Subject {
    /// The assessment as known at the end of `day`.
    pub fn facts_known_on(&self, day: NaiveDate) -> AssessmentFacts {
        history::replay(
            self.kind,
            self.clock_started_on,
            self.due_on,
            &self.events,
            day,
            Some(end_of(day)),
        )
        .facts
    }

    /// Whether anything about it was known by the end of `day`.
    pub fn known_on(&self, day: NaiveDate) -> bool {
        self.events
            .iter()
            .any(|e| e.recorded_at <= end_of(day) && e.effective_on <= day)
    }

    /// The day the first appointment known by the end of `day` was booked for (bookings
    /// an event corrects are left out).
    pub fn first_appointment_on(&self, day: NaiveDate) -> Option<NaiveDate> {
        let known = || self.events.iter().filter(|e| e.recorded_at <= end_of(day));
        let corrected: HashSet<&str> = known().filter_map(|e| e.supersedes.as_deref()).collect();
        known()
            .filter(|e| e.effective_on <= day && !corrected.contains(e.id.as_str()))
            .filter_map(|e| match &e.change {
                Change::Booked { appointment_on, .. } => Some((e.effective_on, e.seq, *appointment_on)),
                _ => None,
            })
            .min()
            .map(|(_, _, on)| on)
    }

    pub fn group_on(&self, day: NaiveDate) -> Group {
        let out_of_area = self.events.iter().any(|e| {
            e.effective_on <= day
                && e.recorded_at <= end_of(day)
                && matches!(
                    e.change,
                    Change::Request {
                        step: RequestStep::Opened,
                        ..
                    }
                )
        });
        group(
            self.kind,
            &self.la,
            out_of_area,
            self.date_of_birth,
            self.clock_started_on,
        )
    }
}

/// The group of an assessment.
pub fn group(kind: Kind, la: &str, out_of_area: bool, dob: NaiveDate, clock_started_on: NaiveDate) -> Group {
    Group {
        kind,
        la: la.to_string(),
        out_of_area,
        age: AgeBand::of(dob, clock_started_on),
    }
}

fn end_of(day: NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"))
}

/// Every assessment due on or after `due_from`, with its child's birth date and its events
/// (backfilled events known on their effective day).
pub fn load_subjects(conn: &mut DbConn, due_from: NaiveDate) -> AppResult<Vec<Subject>> {
    let rows: Vec<(String, String, NaiveDate, NaiveDate, String, NaiveDate)> = assessments::table
        .inner_join(children::table)
        .filter(assessments::due_on.ge(due_from))
        .select((
            assessments::id,
            assessments::kind,
            assessments::clock_started_on,
            assessments::due_on,
            assessments::responsible_la,
            children::date_of_birth,
        ))
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut events = crate::db::history::load_for(conn, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, kind, clock_started_on, due_on, la, date_of_birth) in rows {
        let Ok(kind) = kind.parse::<Kind>() else { continue };
        let mut evs = events.remove(&id).unwrap_or_default();
        for e in evs
            .iter_mut()
            .filter(|e| e.recorded_by.as_deref() == Some(BACKFILLED_BY))
        {
            e.recorded_at = e.effective_on.and_time(NaiveTime::MIN);
        }
        out.push(Subject {
            id,
            kind,
            clock_started_on,
            due_on,
            la,
            date_of_birth,
            events: evs,
        });
    }
    Ok(out)
}

/// The earliest due date a fit for `day` needs to read.
fn due_from(day: NaiveDate) -> NaiveDate {
    day - chrono::Duration::days(WINDOW_DAYS + 180)
}

/// Fits the step model's parameters from `subjects` as known on `day` (no recalibration).
pub fn fit(cal: &Calendar, policy: &ClockPolicy, subjects: &[Subject], day: NaiveDate) -> Params {
    let window_from = day - chrono::Duration::days(WINDOW_DAYS);
    let lead = policy.rha_booking_lead_working_days;
    let obs = subjects
        .iter()
        .filter(|s| s.due_on >= due_from(day) && s.known_on(day))
        .flat_map(|s| {
            let f = s.facts_known_on(day);
            let first = s.first_appointment_on(day);
            observations_with(cal, &f, first, &s.group_on(day), day, window_from, lead)
        });
    Params::fit(day, window_from, lead, obs)
}

/// The Mondays whose forecasts a recalibration fitted on `day` learns from: the
/// [`RECALIBRATION_WEEKS`] Mondays before it, oldest first.
pub fn recalibration_mondays(day: NaiveDate) -> Vec<NaiveDate> {
    let back = i64::from(day.weekday().num_days_from_monday());
    let last = day - chrono::Duration::days(if back == 0 { 7 } else { back });
    (0..RECALIBRATION_WEEKS)
        .rev()
        .map(|w| last - chrono::Duration::weeks(w))
        .collect()
}

/// The earliest due date the fits behind a recalibration for `day` need to read.
fn due_from_with_recalibration(day: NaiveDate) -> NaiveDate {
    recalibration_mondays(day)
        .first()
        .map_or(due_from(day), |m| due_from(*m))
}

/// The forecasts `model` makes on `day` for each assessment open then (as known then):
/// (index in `subjects`, its facts, the forecast).
fn open_forecasts<'a>(
    cal: &'a Calendar,
    model: &'a Model,
    subjects: &'a [Subject],
    day: NaiveDate,
) -> impl Iterator<Item = (usize, AssessmentFacts, Forecast)> + 'a {
    subjects
        .iter()
        .enumerate()
        .filter(move |(_, s)| s.known_on(day))
        .filter_map(move |(i, s)| {
            let f = s.facts_known_on(day);
            if !f.state.is_open() || f.state == State::Refused {
                return None;
            }
            let fc = model.forecast_with(cal, &f, s.first_appointment_on(day), &s.group_on(day), day)?;
            Some((i, f, fc))
        })
}

/// The step model's probabilities on one Monday: (index in the subjects, out of area then,
/// first step started then, p_model).
pub type Made = (NaiveDate, Vec<(usize, bool, bool, f64)>);

/// The step model's forecasts on `monday`, from the parameters fitted from what was known
/// then (what a later recalibration learns from).
fn made_on(cal: &Calendar, policy: &ClockPolicy, subjects: &[Subject], monday: NaiveDate) -> Made {
    let model = Model::new(&fit(cal, policy, subjects, monday));
    let made = open_forecasts(cal, &model, subjects, monday)
        .map(|(i, _, fc)| (i, subjects[i].group_on(monday).out_of_area, fc.started, fc.p_model))
        .collect();
    (monday, made)
}

/// The (p_model, late) pairs a recalibration fitted on `day` learns from: the forecasts
/// made on the Mondays of [`recalibration_mondays`] (among `made`) for assessments whose
/// outcome was known by the end of `day` (as known then). Only assessments due
/// [`OUTCOME_SETTLE_DAYS`] or more before `day` count: by then each was either completed on
/// time or late, so which outcomes are known depends on the due date alone, not on the
/// outcome (counting those completed early but not those still open would make the recent
/// past look punctual).
pub fn calibration_pairs(subjects: &[Subject], made: &[Made], day: NaiveDate) -> Vec<Pair> {
    let mondays = recalibration_mondays(day);
    let mut outcome: HashMap<usize, Option<bool>> = HashMap::new();
    let mut pairs = Vec::new();
    for (_, forecasts) in made.iter().filter(|(m, _)| mondays.contains(m)) {
        for (i, ooa, started, p) in forecasts {
            let known = *outcome.entry(*i).or_insert_with(|| {
                let s = &subjects[*i];
                (s.due_on + chrono::Duration::days(OUTCOME_SETTLE_DAYS) < day)
                    .then(|| late(&s.facts_known_on(day), day))
                    .flatten()
            });
            if let Some(is_late) = known {
                pairs.push((subjects[*i].kind, *ooa, *started, *p, is_late));
            }
        }
    }
    pairs
}

/// Fits the parameters as known on `day` and stores them (replacing a set fitted the same
/// day). Returns them.
pub fn refit(conn: &mut DbConn, ctx: &DomainCtx, day: NaiveDate) -> AppResult<Params> {
    let mut subjects = load_subjects(conn, due_from_with_recalibration(day))?;
    // The recalibration replays earlier Mondays: with what was recorded by then.
    let made: Vec<Made> = recalibration_mondays(day)
        .into_iter()
        .map(|m| made_on(&ctx.calendar, &ctx.clock, &subjects, m))
        .collect();
    let pairs = calibration_pairs(&subjects, &made, day);
    if day >= ctx.today {
        // Everything recorded is known today (with a pinned `CLA_TODAY` steps are recorded
        // after "today"): count each event as known on its effective day.
        for e in subjects.iter_mut().flat_map(|s| s.events.iter_mut()) {
            e.recorded_at = e.effective_on.and_time(NaiveTime::MIN);
        }
    }
    let mut params = fit(&ctx.calendar, &ctx.clock, &subjects, day);
    params.recalibration = fit_segments(&pairs);
    store(conn, &params)?;
    Ok(params)
}

/// Stores fitted parameters as the set in force from their `fitted_on` day (replacing a
/// set fitted that day).
pub fn store(conn: &mut DbConn, params: &Params) -> AppResult<()> {
    let day = params.fitted_on;
    let text = params.to_text();
    let observations = i32::try_from(params.observations()).unwrap_or(i32::MAX);
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(forecast_models::table.filter(forecast_models::fitted_on.eq(day))).execute(conn)?;
        diesel::insert_into(forecast_models::table)
            .values((
                forecast_models::id.eq(new_id()),
                forecast_models::fitted_on.eq(day),
                forecast_models::window_from.eq(params.window_from),
                forecast_models::observations.eq(observations),
                forecast_models::params.eq(&text),
                forecast_models::created_at.eq(now_utc()),
            ))
            .execute(conn)?;
        Ok::<_, AppError>(())
    })
}

/// Refits when the latest stored set is older than `every_days`, or of another
/// [`PARAMS_VERSION`] (housekeeping's weekly refit). Returns whether it refitted.
pub fn refit_if_stale(conn: &mut DbConn, ctx: &DomainCtx, every_days: i64) -> AppResult<bool> {
    let latest: Option<(NaiveDate, String)> = forecast_models::table
        .order(forecast_models::fitted_on.desc())
        .select((forecast_models::fitted_on, forecast_models::params))
        .first(conn)
        .optional()?;
    let current = latest.is_some_and(|(day, text)| {
        ctx.today - day < chrono::Duration::days(every_days)
            && Params::from_text(&text).is_ok_and(|p| p.version == PARAMS_VERSION)
    });
    if current {
        return Ok(false);
    }
    refit(conn, ctx, ctx.today)?;
    Ok(true)
}

/// The last model built, by stored id (None: a set of another version): pages reuse it
/// until a refit stores a new set.
static CACHE: Mutex<Option<(String, Option<Arc<Model>>)>> = Mutex::new(None);

/// The model in force on `day`: the latest set fitted on or before it (None before the
/// first fit, or while that set is of another [`PARAMS_VERSION`]).
pub fn in_force(conn: &mut DbConn, day: NaiveDate) -> AppResult<Option<Arc<Model>>> {
    Ok(in_force_with_id(conn, day)?.map(|(_, m)| m))
}

/// [`in_force`], with the stored set's id (what a stored forecast names, `forecast_stamp`).
pub fn in_force_with_id(conn: &mut DbConn, day: NaiveDate) -> AppResult<Option<(String, Arc<Model>)>> {
    let id: Option<String> = forecast_models::table
        .filter(forecast_models::fitted_on.le(day))
        .order(forecast_models::fitted_on.desc())
        .select(forecast_models::id)
        .first(conn)
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    if let Ok(guard) = CACHE.lock() {
        if let Some((_, m)) = guard.as_ref().filter(|(c, _)| *c == id) {
            return Ok(m.clone().map(|m| (id, m)));
        }
    }
    let text: String = forecast_models::table
        .find(&id)
        .select(forecast_models::params)
        .first(conn)?;
    let params =
        Params::from_text(&text).map_err(|e| AppError::Internal(format!("stored forecast parameters: {e}")))?;
    let model = (params.version == PARAMS_VERSION).then(|| Arc::new(Model::new(&params)));
    if let Ok(mut guard) = CACHE.lock() {
        *guard = Some((id.clone(), model.clone()));
    }
    Ok(model.map(|m| (id, m)))
}

/// Which of these assessments have had a request to a host area (one query for a page).
pub fn out_of_area_ids(conn: &mut DbConn, ids: &[&str]) -> AppResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(900) {
        let rows: Vec<String> = out_of_area_requests::table
            .filter(out_of_area_requests::assessment_id.eq_any(chunk))
            .select(out_of_area_requests::assessment_id)
            .distinct()
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Backtest figures (see `backtest`).
#[derive(Debug, Clone, Default)]
pub struct Backtest {
    pub mondays: usize,
    pub forecasts: usize,
    pub late: usize,
    pub brier: f64,
    /// Amber or red as a probability of 1, green of 0.
    pub brier_rag: f64,
    /// Each colour's observed late rate (in sample) as its probability.
    pub brier_rag_rate: f64,
    /// Deciles of predicted probability: (cases, mean predicted, observed rate).
    pub deciles: Vec<(usize, f64, f64)>,
    /// The step model's own Brier score and deciles, before the recalibration.
    pub brier_model: f64,
    pub deciles_model: Vec<(usize, f64, f64)>,
    /// For each eventually-late assessment flagged at p >= 0.5: working days before the due
    /// date it was first flagged (negative: after).
    pub warnings: Vec<i32>,
    pub warnings_rag: Vec<i32>,
    /// Eventually-late assessments forecast on some Monday but never flagged at p >= 0.5.
    pub never_flagged: usize,
}

/// Every Monday from `from` to `to`: each assessment open then (as known then) forecast
/// with the parameters fitted from what was known then (the recalibration included, from
/// the earlier Mondays' forecasts and the outcomes known then), against what happened (as
/// known on `outcome_on`). Late: not completed by the due date; an assessment ended without
/// completion, or still open and not yet due on `outcome_on`, has no outcome and is left out.
pub fn backtest(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    from: NaiveDate,
    to: NaiveDate,
    outcome_on: NaiveDate,
) -> AppResult<Backtest> {
    let subjects = load_subjects(conn, due_from_with_recalibration(from))?;
    let outcomes: HashMap<&str, bool> = subjects
        .iter()
        .filter_map(|s| late(&s.facts_known_on(outcome_on), outcome_on).map(|l| (s.id.as_str(), l)))
        .collect();
    let cal = &ctx.calendar;
    let mut points: Vec<(f64, Rag, bool)> = Vec::new();
    let mut model_points: Vec<(f64, Rag, bool)> = Vec::new();
    let mut first_flag: HashMap<&str, i32> = HashMap::new();
    let mut first_rag: HashMap<&str, i32> = HashMap::new();
    let mut late_forecast: HashSet<&str> = HashSet::new();
    let mut mondays = 0;
    let first_monday = from + chrono::Duration::days((7 - i64::from(from.weekday().num_days_from_monday())) % 7);
    // The step model's forecasts on every Monday, from those the first recalibration
    // learns from on (each made once, as a refit on that Monday would).
    let mut made: Vec<Made> = recalibration_mondays(first_monday)
        .into_iter()
        .map(|m| made_on(cal, &ctx.clock, &subjects, m))
        .collect();
    let mut day = first_monday;
    while day <= to {
        mondays += 1;
        let mut params = fit(cal, &ctx.clock, &subjects, day);
        params.recalibration = fit_segments(&calibration_pairs(&subjects, &made, day));
        let model = Model::new(&params);
        let mut today = Vec::new();
        for (i, f, fc) in open_forecasts(cal, &model, &subjects, day) {
            let s = &subjects[i];
            today.push((i, s.group_on(day).out_of_area, fc.started, fc.p_model));
            let Some(&is_late) = outcomes.get(s.id.as_str()) else {
                continue;
            };
            let rag = status::standing(&f, cal, day, &ctx.clock).rag;
            points.push((fc.p_late, rag, is_late));
            model_points.push((fc.p_model, rag, is_late));
            let before_due = cal.working_days_between(day, s.due_on);
            if is_late {
                late_forecast.insert(s.id.as_str());
            }
            if is_late && fc.p_late >= 0.5 {
                first_flag.entry(s.id.as_str()).or_insert(before_due);
            }
            if is_late && rag != Rag::Green {
                first_rag.entry(s.id.as_str()).or_insert(before_due);
            }
        }
        made.push((day, today));
        // Only the last RECALIBRATION_WEEKS Mondays are read again.
        if made.len() > RECALIBRATION_WEEKS as usize {
            made.remove(0);
        }
        day += chrono::Duration::days(7);
    }
    let mut out = score(&points);
    let model_only = score(&model_points);
    out.brier_model = model_only.brier;
    out.deciles_model = model_only.deciles;
    out.mondays = mondays;
    out.warnings = first_flag.values().copied().collect();
    out.warnings_rag = first_rag.values().copied().collect();
    out.never_flagged = late_forecast.len().saturating_sub(first_flag.len());
    Ok(out)
}

/// Whether an assessment (as known on `on`) was late; None when it has no outcome yet.
fn late(f: &AssessmentFacts, on: NaiveDate) -> Option<bool> {
    match (f.state, f.completed_on) {
        (State::Completed, Some(done)) => Some(done > f.due_on),
        (s, _) if s.is_open() && s != State::Refused && on > f.due_on => Some(true),
        _ => None,
    }
}

fn score(points: &[(f64, Rag, bool)]) -> Backtest {
    let n = points.len().max(1) as f64;
    let y = |l: bool| if l { 1.0 } else { 0.0 };
    let brier = points.iter().map(|(p, _, l)| (p - y(*l)).powi(2)).sum::<f64>() / n;
    let brier_rag = points
        .iter()
        .map(|(_, r, l)| (y(*r != Rag::Green) - y(*l)).powi(2))
        .sum::<f64>()
        / n;
    let rate = |colour: Rag| {
        let of: Vec<bool> = points.iter().filter(|(_, r, _)| *r == colour).map(|p| p.2).collect();
        of.iter().filter(|l| **l).count() as f64 / of.len().max(1) as f64
    };
    let rates: Vec<(Rag, f64)> = Rag::ALL.into_iter().map(|c| (c, rate(c))).collect();
    let rate_of = |r: Rag| rates.iter().find(|(c, _)| *c == r).map_or(0.0, |(_, v)| *v);
    let brier_rag_rate = points
        .iter()
        .map(|(_, r, l)| (rate_of(*r) - y(*l)).powi(2))
        .sum::<f64>()
        / n;
    let mut deciles = vec![(0usize, 0.0, 0.0); 10];
    for (p, _, l) in points {
        let i = ((p * 10.0) as usize).min(9);
        deciles[i].0 += 1;
        deciles[i].1 += p;
        deciles[i].2 += y(*l);
    }
    for d in &mut deciles {
        let c = d.0.max(1) as f64;
        d.1 /= c;
        d.2 /= c;
    }
    Backtest {
        forecasts: points.len(),
        late: points.iter().filter(|p| p.2).count(),
        brier,
        brier_rag,
        brier_rag_rate,
        deciles,
        ..Backtest::default()
    }
}

/// The median of some values (None when empty).
pub fn median(values: &[i32]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(f64::from(v[n / 2])),
        n => Some(f64::from(v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// A forecast for a row a page holds: its facts on `as_of`, its LA, whether it has had an
/// out-of-area request, its child's date of birth.
pub fn forecast_row(
    model: &Model,
    cal: &Calendar,
    f: &AssessmentFacts,
    la: &str,
    out_of_area: bool,
    dob: NaiveDate,
    as_of: NaiveDate,
) -> Option<Forecast> {
    model.forecast(cal, f, &group(f.kind, la, out_of_area, dob, f.clock_started_on), as_of)
}

/// A forecast as the API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ForecastView {
    /// The probability it is not completed by its due date, 0-1.
    pub p_late: f64,
    /// The expected completion day.
    pub expected_on: NaiveDate,
    /// The 10th and 90th percentiles of the completion day.
    pub range: [NaiveDate; 2],
    /// The step that drives the risk, in words.
    pub driver: String,
    /// That step: notification, consent, booking, appointment or report.
    pub driver_step: String,
}

impl From<Forecast> for ForecastView {
    fn from(f: Forecast) -> ForecastView {
        ForecastView {
            p_late: (f.p_late * 1000.0).round() / 1000.0,
            expected_on: f.expected_on,
            range: [f.range.0, f.range.1],
            driver: f.driver.words,
            driver_step: f.driver.step.as_str().to_string(),
        }
    }
}

/// Forecasts on `as_of` for the open rows among `rows`, by assessment id, from the
/// parameters in force then (none before the first fit). A few queries for the whole set.
pub fn for_rows(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    rows: &[&crate::db::models::Assessment],
    as_of: NaiveDate,
) -> AppResult<HashMap<String, ForecastView>> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let Some(model) = in_force(conn, as_of)? else {
        return Ok(HashMap::new());
    };
    let child_ids: Vec<&str> = rows.iter().map(|a| a.child_id.as_str()).collect();
    let mut dobs: HashMap<String, NaiveDate> = HashMap::with_capacity(rows.len());
    for chunk in child_ids.chunks(900) {
        dobs.extend(
            children::table
                .filter(children::id.eq_any(chunk))
                .select((children::id, children::date_of_birth))
                .load::<(String, NaiveDate)>(conn)?,
        );
    }
    let ids: Vec<&str> = rows.iter().map(|a| a.id.as_str()).collect();
    let ooa = out_of_area_ids(conn, &ids)?;
    let events = super::history_store::events_for(conn, rows, as_of)?;
    let mut out = HashMap::with_capacity(rows.len());
    for a in rows {
        let Some(dob) = dobs.get(&a.child_id) else { continue };
        let facts = super::history_store::facts_on(a, None, events.get(&a.id).map(Vec::as_slice), as_of)?;
        let fc = forecast_row(
            &model,
            &ctx.calendar,
            &facts,
            &a.responsible_la,
            ooa.contains(&a.id),
            *dob,
            as_of,
        );
        if let Some(fc) = fc {
            out.insert(a.id.clone(), fc.into());
        }
    }
    Ok(out)
}

/// Puts each open assessment's forecast on its view (`views[i]` shows `rows[i]`; closed
/// ones and any before the first fit keep null): one model and a few queries per call.
pub fn attach(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    rows: &[&crate::db::models::Assessment],
    views: &mut [super::views::AssessmentView],
    as_of: NaiveDate,
) -> AppResult<()> {
    let mut found = for_rows(conn, ctx, rows, as_of)?;
    for v in views.iter_mut() {
        v.forecast = found.remove(&v.id);
    }
    Ok(())
}

/// Times forecasts for `n` open assessments made up in memory (the speed bench): returns
/// the seconds the forecasts took, and their mean p_late (so none is optimised away).
pub fn bench(cal: &Calendar, n: usize) -> (f64, f64) {
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date");
    let las = ["933", "865", "803"];
    let ages = [AgeBand::Under5, AgeBand::From5To9, AgeBand::From10To15, AgeBand::From16];
    let mut obs = Vec::new();
    for i in 0..20_000usize {
        let g = Group {
            kind: if i % 4 == 0 { Kind::Rha } else { Kind::Iha },
            la: las[i % 3].to_string(),
            out_of_area: i % 7 == 0,
            age: ages[i % 4],
        };
        for (j, step) in crate::forecast::Step::of(g.kind).iter().enumerate() {
            obs.push(crate::forecast::Observation {
                group: g.clone(),
                step: *step,
                days: ((i * 7 + j * 3) % 17) as i32,
                ended: i % 9 != 0,
            });
        }
    }
    let model = Model::new(&Params::fit(start, start, 20, obs));
    let states = [
        State::AwaitingNotification,
        State::AwaitingConsent,
        State::AwaitingBooking,
        State::Booked,
        State::AwaitingReport,
    ];
    let cases: Vec<(AssessmentFacts, Group)> = (0..n)
        .map(|i| {
            let day0 = start + chrono::Duration::days((i % 120) as i64);
            let mut f = AssessmentFacts::new(Kind::Iha, states[i % 5], day0, cal.add_working_days(day0, 20));
            f.notified_on = (i % 5 >= 1).then(|| cal.add_working_days(day0, 2));
            f.consent_on = (i % 5 >= 2).then(|| cal.add_working_days(day0, 6));
            f.first_booked_on = (i % 5 >= 3).then(|| cal.add_working_days(day0, 8));
            f.appointment_on = (i % 5 == 3).then(|| cal.add_working_days(day0, 14));
            f.seen_on = (i % 5 == 4).then(|| cal.add_working_days(day0, 14));
            let g = group(
                Kind::Iha,
                las[i % 3],
                i % 7 == 0,
                day0 - chrono::Duration::days(3650),
                day0,
            );
            (f, g)
        })
        .collect();
    let as_of = start + chrono::Duration::days(140);
    let timer = std::time::Instant::now();
    let total: f64 = cases
        .iter()
        .filter_map(|(f, g)| model.forecast(cal, f, g, as_of))
        .map(|fc| fc.p_late)
        .sum();
    (timer.elapsed().as_secs_f64(), total / n.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The speed bench (`cargo test --lib forecast_speed -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn forecast_speed_for_100000_open_assessments() {
        let (seconds, mean) = bench(&Calendar::rules_only(), 100_000);
        println!("forecast bench: 100000 open assessments forecast in {seconds:.3} s (mean p_late {mean:.3})");
        assert!((0.0..=1.0).contains(&mean));
    }

    #[test]
    fn late_means_not_completed_by_the_due_date() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 5, d).unwrap();
        let mut f = AssessmentFacts::new(Kind::Iha, State::Completed, day(1), day(20));
        f.completed_on = Some(day(20));
        assert_eq!(late(&f, day(30)), Some(false));
        f.completed_on = Some(day(21));
        assert_eq!(late(&f, day(30)), Some(true));
        let open = AssessmentFacts::new(Kind::Iha, State::Booked, day(1), day(20));
        assert_eq!(late(&open, day(19)), None);
        assert_eq!(late(&open, day(21)), Some(true));
    }
}
