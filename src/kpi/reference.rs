//! The measures as first written, one pass over every child per measure and month: kept
//! (for tests only) as the reference the one-pass [`super::measures`] must agree with.

use chrono::NaiveDate;

use super::{
    AssessmentFacts, Cause, CheckKind, ChildFacts, Entry, Figure, Measure, Month, Outcome, PeriodFacts, Reason,
    TARGET_PERCENT,
};
use crate::obligations::{add_months, age_on, birthday};
use crate::status::Attribution;

pub fn figure(measure: Measure, month: Month, children: &[ChildFacts], today: NaiveDate) -> Figure {
    let mut entries = Vec::new();
    let mut beside = Vec::new();
    for child in children {
        match measure {
            Measure::IhaWithin20WorkingDays => iha(child, month, today, &mut entries, &mut beside),
            Measure::RhaOnTime => rha(child, month, today, &mut entries, &mut beside),
            Measure::DentalCheck | Measure::SdqScore | Measure::ImmunisationsUpToDate => {
                entries.extend(check(measure, child, month, today))
            }
            Measure::LeavingCareSummary => entries.extend(leaving_care(child, month, today)),
        }
    }
    let numerator = entries.iter().filter(|e| e.outcome == Outcome::Met).count();
    let denominator = entries.len();
    let month_open = month.last_day() >= today;
    Figure {
        measure,
        month,
        numerator,
        denominator,
        percent: percent(numerator, denominator),
        target: TARGET_PERCENT,
        provisional: month_open || entries.iter().any(|e| e.outcome == Outcome::Pending),
        entries,
        beside,
    }
}

fn percent(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| (numerator as f64 * 1000.0 / denominator as f64).round() / 10.0)
}

fn iha(child: &ChildFacts, month: Month, today: NaiveDate, entries: &mut Vec<Entry>, beside: &mut Vec<Entry>) {
    for period in child.periods.iter().filter(|p| month.contains(p.started_on)) {
        let Some(a) = &period.iha else { continue };
        if a.exemption.is_some() || period.ended_on.is_some_and(|end| end < a.due_on) {
            continue;
        }
        push_assessment(child, a, today, entries, beside);
    }
}

fn rha(child: &ChildFacts, month: Month, today: NaiveDate, entries: &mut Vec<Entry>, beside: &mut Vec<Entry>) {
    for period in &child.periods {
        for a in period
            .rhas
            .iter()
            .filter(|a| month.contains(a.due_on) && period.covers(a.due_on))
        {
            push_assessment(child, a, today, entries, beside);
        }
    }
}

fn push_assessment(
    child: &ChildFacts,
    a: &AssessmentFacts,
    today: NaiveDate,
    entries: &mut Vec<Entry>,
    beside: &mut Vec<Entry>,
) {
    let outcome = match a.seen_on {
        Some(seen) if seen <= a.due_on => Outcome::Met,
        Some(_) => Outcome::Missed,
        None if a.due_on >= today => Outcome::Pending,
        None => Outcome::Missed,
    };
    let mut entry = Entry {
        child_id: child.child_id.clone(),
        local_id: child.local_id.clone(),
        local_authority: child.local_authority.clone(),
        assessment_id: Some(a.assessment_id.clone()),
        due_on: Some(a.due_on),
        done_on: a.seen_on,
        outcome,
        reason: None,
        attribution: None,
        out_of_area: a.out_of_area,
    };
    if a.refused && outcome != Outcome::Met {
        entry.reason = Some(Reason::Refused);
        entry.attribution = Some(Attribution::None);
        beside.push(entry);
        return;
    }
    if outcome != Outcome::Met {
        let cause = a.late.unwrap_or(Cause {
            reason: Reason::NotRecorded,
            attribution: Attribution::None,
        });
        entry.reason = Some(cause.reason);
        entry.attribution = Some(cause.attribution);
    }
    entries.push(entry);
}

/// The period that makes the child part of a month-end cohort: looked after at the end of
/// the month, in a period then at least 12 months old.
fn settled_period(child: &ChildFacts, month_end: NaiveDate) -> Option<&PeriodFacts> {
    child
        .periods
        .iter()
        .find(|p| p.covers(month_end) && add_months(p.started_on, 12) <= month_end)
}

fn check(measure: Measure, child: &ChildFacts, month: Month, today: NaiveDate) -> Option<Entry> {
    let end = month.last_day();
    settled_period(child, end)?;
    if measure == Measure::SdqScore && !(4..=16).contains(&age_on(child.date_of_birth, end)) {
        return None;
    }
    // The 12 months to the month end: after the same day a year earlier, up to the end.
    let window_start = end
        .checked_sub_months(chrono::Months::new(12))
        .unwrap_or(NaiveDate::MIN);
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
                return Some(check_entry(
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
    Some(check_entry(child, done_on, done_on, miss, end, today))
}

/// `met_on` is the day that meets the measure; `done_on` the day shown.
fn check_entry(
    child: &ChildFacts,
    met_on: Option<NaiveDate>,
    done_on: Option<NaiveDate>,
    miss: Reason,
    end: NaiveDate,
    today: NaiveDate,
) -> Entry {
    let outcome = match met_on {
        Some(_) => Outcome::Met,
        None if end >= today => Outcome::Pending,
        None => Outcome::Missed,
    };
    Entry {
        child_id: child.child_id.clone(),
        local_id: child.local_id.clone(),
        local_authority: child.local_authority.clone(),
        assessment_id: None,
        due_on: Some(end),
        done_on,
        outcome,
        reason: (outcome != Outcome::Met).then_some(miss),
        attribution: (outcome != Outcome::Met).then_some(Attribution::Health),
        out_of_area: false,
    }
}

fn leaving_care(child: &ChildFacts, month: Month, today: NaiveDate) -> Option<Entry> {
    let eighteenth = birthday(child.date_of_birth, 18);
    let eve = eighteenth.pred_opt()?;
    if !month.contains(eighteenth) || !child.periods.iter().any(|p| p.covers(eve)) {
        return None;
    }
    let met_on = child.leaving_care_summary_on.filter(|&given| given <= eighteenth);
    Some(check_entry(
        child,
        met_on,
        child.leaving_care_summary_on,
        Reason::NoLeavingCareSummary,
        eighteenth,
        today,
    ))
}
