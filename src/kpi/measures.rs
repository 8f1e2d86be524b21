//! Each measure's cohort and outcome (the rules are in the module doc of [`super`]).
//!
//! The rules are written once, as a walk over one child ([`visit`]) that reports every
//! entry it makes to each month asked for. A financial year is then one pass over the
//! children, not one pass per measure and month, and the board's table ([`summaries`])
//! only counts entries: the lists ([`figures`], [`figure`]) are built when a drill-down
//! asks for them, since cloning three strings per entry for a county's year was most of
//! the work.

use chrono::NaiveDate;
use serde::Serialize;

use super::{
    AssessmentFacts, Cause, CheckKind, ChildFacts, Entry, Figure, Measure, Month, Outcome, PeriodFacts, Reason,
    TARGET_PERCENT,
};
use crate::obligations::{add_months, age_on, birthday};
use crate::status::Attribution;

/// A figure without its lists: what the board's table shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub measure: Measure,
    pub month: Month,
    pub numerator: usize,
    pub denominator: usize,
    /// One decimal place; `None` for an empty cohort.
    pub percent: Option<f64>,
    pub target: u32,
    pub provisional: bool,
    /// How many are shown beside the figure (competent refusals).
    pub beside: usize,
}

impl Figure {
    pub fn summary(&self) -> Summary {
        Summary {
            measure: self.measure,
            month: self.month,
            numerator: self.numerator,
            denominator: self.denominator,
            percent: self.percent,
            target: self.target,
            provisional: self.provisional,
            beside: self.beside.len(),
        }
    }
}

/// One entry as the rules find it, borrowing from the facts: counted as it is, or made an
/// [`Entry`] when a list is wanted.
#[derive(Clone, Copy)]
struct Hit<'a> {
    child: &'a ChildFacts,
    assessment_id: Option<&'a str>,
    due_on: Option<NaiveDate>,
    done_on: Option<NaiveDate>,
    outcome: Outcome,
    reason: Option<Reason>,
    attribution: Option<Attribution>,
    out_of_area: bool,
    /// Shown beside the figure, not in it.
    beside: bool,
}

impl Hit<'_> {
    fn entry(&self) -> Entry {
        Entry {
            child_id: self.child.child_id.clone(),
            local_id: self.child.local_id.clone(),
            local_authority: self.child.local_authority.clone(),
            assessment_id: self.assessment_id.map(str::to_string),
            due_on: self.due_on,
            done_on: self.done_on,
            outcome: self.outcome,
            reason: self.reason,
            attribution: self.attribution,
            out_of_area: self.out_of_area,
        }
    }
}

/// Every measure for every month, in that order (measures outer, months inner), with the
/// children behind each figure.
pub fn figures(children: &[ChildFacts], months: &[Month], today: NaiveDate) -> Vec<Figure> {
    let mut lists: Vec<(Vec<Entry>, Vec<Entry>)> = vec![(Vec::new(), Vec::new()); Measure::ALL.len() * months.len()];
    for child in children {
        visit(child, months, today, None, &mut |measure, i, hit| {
            let (entries, beside) = &mut lists[slot(measure, i, months.len())];
            if hit.beside { beside } else { entries }.push(hit.entry());
        });
    }
    let mut lists = lists.into_iter();
    Measure::ALL
        .into_iter()
        .flat_map(|measure| months.iter().map(move |&month| (measure, month)))
        .map(|(measure, month)| {
            let (entries, beside) = lists.next().unwrap_or_default();
            let numerator = entries.iter().filter(|e| e.outcome == Outcome::Met).count();
            let pending = entries.iter().any(|e| e.outcome == Outcome::Pending);
            Figure {
                measure,
                month,
                numerator,
                denominator: entries.len(),
                percent: percent(numerator, entries.len()),
                target: TARGET_PERCENT,
                provisional: provisional(month, pending, today),
                entries,
                beside,
            }
        })
        .collect()
}

/// One measure for one month, with the children behind it (a drill-down).
pub fn figure(measure: Measure, month: Month, children: &[ChildFacts], today: NaiveDate) -> Figure {
    let mut entries = Vec::new();
    let mut beside = Vec::new();
    for child in children {
        visit(child, &[month], today, Some(measure), &mut |_, _, hit| {
            if hit.beside { &mut beside } else { &mut entries }.push(hit.entry());
        });
    }
    let numerator = entries.iter().filter(|e| e.outcome == Outcome::Met).count();
    let pending = entries.iter().any(|e| e.outcome == Outcome::Pending);
    Figure {
        measure,
        month,
        numerator,
        denominator: entries.len(),
        percent: percent(numerator, entries.len()),
        target: TARGET_PERCENT,
        provisional: provisional(month, pending, today),
        entries,
        beside,
    }
}

/// The figures of [`figures`] without their lists, in the same order: one pass over the
/// children, counting.
pub fn summaries(children: &[ChildFacts], months: &[Month], today: NaiveDate) -> Vec<Summary> {
    #[derive(Clone, Default)]
    struct Count {
        met: usize,
        all: usize,
        pending: bool,
        beside: usize,
    }
    let mut counts = vec![Count::default(); Measure::ALL.len() * months.len()];
    for child in children {
        visit(child, months, today, None, &mut |measure, i, hit| {
            let c = &mut counts[slot(measure, i, months.len())];
            if hit.beside {
                c.beside += 1;
                return;
            }
            c.all += 1;
            c.met += usize::from(hit.outcome == Outcome::Met);
            c.pending |= hit.outcome == Outcome::Pending;
        });
    }
    let mut counts = counts.into_iter();
    Measure::ALL
        .into_iter()
        .flat_map(|measure| months.iter().map(move |&month| (measure, month)))
        .map(|(measure, month)| {
            let c = counts.next().unwrap_or_default();
            Summary {
                measure,
                month,
                numerator: c.met,
                denominator: c.all,
                percent: percent(c.met, c.all),
                target: TARGET_PERCENT,
                provisional: provisional(month, c.pending, today),
                beside: c.beside,
            }
        })
        .collect()
}

/// Where a measure's month sits in the flat lists (measures outer, months inner).
fn slot(measure: Measure, month_index: usize, months: usize) -> usize {
    let m = Measure::ALL.iter().position(|&x| x == measure).unwrap_or(0);
    m * months + month_index
}

/// Months not yet over, and months with an outcome still to come, are provisional.
fn provisional(month: Month, pending: bool, today: NaiveDate) -> bool {
    month.last_day() >= today || pending
}

/// `numerator / denominator` as a percentage to one decimal place; `None` for an empty cohort.
pub fn percent(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| (numerator as f64 * 1000.0 / denominator as f64).round() / 10.0)
}

/// The indexes of the months in `months` that contain `day` (a list may repeat a month).
fn months_of(months: &[Month], day: NaiveDate) -> impl Iterator<Item = usize> + '_ {
    let month = Month::containing(day);
    months
        .iter()
        .enumerate()
        .filter(move |(_, &m)| m == month)
        .map(|(i, _)| i)
}

/// Reports every entry `child` makes in the figures of `months` (or of `only` that
/// measure): the measure, the index of the month in `months`, and the entry. Within one
/// figure a child's entries come in the order of its periods and assessments.
fn visit<'a>(
    child: &'a ChildFacts,
    months: &[Month],
    today: NaiveDate,
    only: Option<Measure>,
    found: &mut impl FnMut(Measure, usize, Hit<'a>),
) {
    let wanted = |m: Measure| only.is_none_or(|o| o == m);
    if wanted(Measure::IhaWithin20WorkingDays) {
        for period in &child.periods {
            let Some(a) = &period.iha else { continue };
            if a.exemption.is_some() || period.ended_on.is_some_and(|end| end < a.due_on) {
                continue;
            }
            for i in months_of(months, period.started_on) {
                found(Measure::IhaWithin20WorkingDays, i, assessment_hit(child, a, today));
            }
        }
    }
    if wanted(Measure::RhaOnTime) {
        for period in &child.periods {
            for a in period.rhas.iter().filter(|a| period.covers(a.due_on)) {
                for i in months_of(months, a.due_on) {
                    found(Measure::RhaOnTime, i, assessment_hit(child, a, today));
                }
            }
        }
    }
    for (i, month) in months.iter().enumerate() {
        // The three month-end measures share their cohort: asked once a month.
        let end = month.last_day();
        if settled_period(child, end).is_none() {
            continue;
        }
        for measure in [Measure::DentalCheck, Measure::SdqScore, Measure::ImmunisationsUpToDate] {
            if wanted(measure) {
                if let Some(hit) = check(measure, child, *month, end, today) {
                    found(measure, i, hit);
                }
            }
        }
    }
    if wanted(Measure::LeavingCareSummary) {
        let eighteenth = birthday(child.date_of_birth, 18);
        let mut at = months_of(months, eighteenth).peekable();
        if at.peek().is_some() {
            if let Some(hit) = leaving_care(child, eighteenth, today) {
                for i in at {
                    found(Measure::LeavingCareSummary, i, hit);
                }
            }
        }
    }
}

fn assessment_hit<'a>(child: &'a ChildFacts, a: &'a AssessmentFacts, today: NaiveDate) -> Hit<'a> {
    let outcome = match a.seen_on {
        Some(seen) if seen <= a.due_on => Outcome::Met,
        Some(_) => Outcome::Missed,
        None if a.due_on >= today => Outcome::Pending,
        None => Outcome::Missed,
    };
    let mut hit = Hit {
        child,
        assessment_id: Some(&a.assessment_id),
        due_on: Some(a.due_on),
        done_on: a.seen_on,
        outcome,
        reason: None,
        attribution: None,
        out_of_area: a.out_of_area,
        beside: false,
    };
    if a.refused && outcome != Outcome::Met {
        hit.reason = Some(Reason::Refused);
        hit.attribution = Some(Attribution::None);
        hit.beside = true;
        return hit;
    }
    if outcome != Outcome::Met {
        let cause = a.late.unwrap_or(Cause {
            reason: Reason::NotRecorded,
            attribution: Attribution::None,
        });
        hit.reason = Some(cause.reason);
        hit.attribution = Some(cause.attribution);
    }
    hit
}

/// The period that makes the child part of a month-end cohort: looked after at the end of
/// the month, in a period then at least 12 months old.
fn settled_period(child: &ChildFacts, month_end: NaiveDate) -> Option<&PeriodFacts> {
    child
        .periods
        .iter()
        .find(|p| p.covers(month_end) && add_months(p.started_on, 12) <= month_end)
}

/// A month-end measure for a child of its cohort (settled in care at `end`, the month's
/// last day).
fn check(measure: Measure, child: &ChildFacts, month: Month, end: NaiveDate, today: NaiveDate) -> Option<Hit<'_>> {
    if measure == Measure::SdqScore && !(4..=16).contains(&age_on(child.date_of_birth, end)) {
        return None;
    }
    let window_start = window_start(month);
    let in_window = |kind: CheckKind| {
        child
            .checks
            .iter()
            .filter(move |c| c.kind == kind && c.on > window_start && c.on <= end)
    };
    let (done_on, miss) = match measure {
        Measure::DentalCheck => (in_window(CheckKind::Dental).map(|c| c.on).max(), Reason::NoDentalCheck),
        Measure::SdqScore => (
            in_window(CheckKind::Sdq)
                .filter(|c| c.sdq_score.is_some())
                .map(|c| c.on)
                .max(),
            Reason::NoSdqScore,
        ),
        _ => match in_window(CheckKind::Immunisations).max_by_key(|c| c.on) {
            Some(latest) if latest.up_to_date == Some(true) => (Some(latest.on), Reason::NoImmunisationRecord),
            Some(latest) => {
                return Some(check_hit(
                    child,
                    None,
                    Some(latest.on),
                    Reason::ImmunisationsNotUpToDate,
                    end,
                    today,
                ))
            }
            None => (None, Reason::NoImmunisationRecord),
        },
    };
    Some(check_hit(child, done_on, done_on, miss, end, today))
}

/// The 12 months to the end of `month` start after this day (the same day a year earlier).
/// The loader reads the checks from the first month's window on.
pub fn window_start(month: Month) -> NaiveDate {
    month
        .last_day()
        .checked_sub_months(chrono::Months::new(12))
        .unwrap_or(NaiveDate::MIN)
}

/// `met_on` is the day that meets the measure; `done_on` the day shown.
fn check_hit(
    child: &ChildFacts,
    met_on: Option<NaiveDate>,
    done_on: Option<NaiveDate>,
    miss: Reason,
    end: NaiveDate,
    today: NaiveDate,
) -> Hit<'_> {
    let outcome = match met_on {
        Some(_) => Outcome::Met,
        None if end >= today => Outcome::Pending,
        None => Outcome::Missed,
    };
    Hit {
        child,
        assessment_id: None,
        due_on: Some(end),
        done_on,
        outcome,
        reason: (outcome != Outcome::Met).then_some(miss),
        attribution: (outcome != Outcome::Met).then_some(Attribution::Health),
        out_of_area: false,
        beside: false,
    }
}

/// The child's entry in the figure of the month of their 18th birthday, if they were
/// looked after until then.
fn leaving_care(child: &ChildFacts, eighteenth: NaiveDate, today: NaiveDate) -> Option<Hit<'_>> {
    let eve = eighteenth.pred_opt()?;
    if !child.periods.iter().any(|p| p.covers(eve)) {
        return None;
    }
    let met_on = child.leaving_care_summary_on.filter(|&given| given <= eighteenth);
    Some(check_hit(
        child,
        met_on,
        child.leaving_care_summary_on,
        Reason::NoLeavingCareSummary,
        eighteenth,
        today,
    ))
}
