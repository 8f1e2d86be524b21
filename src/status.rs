//! The derived status of an assessment on any `as_of` date: due date, working days, RAG,
//! what it waits on, whose step was late, the milestones, and a checkable explanation.
//!
//! Rules (API.md "Derived fields", DOMAIN.md "The IHA clock"):
//!
//! - **As-of masking.** Facts dated after `as_of` are treated as not yet happened, and the
//!   stored state is rolled back to the step those facts had reached, so a meeting can look
//!   at last Monday and see what was true then.
//! - **IHA milestones** count working days from day 0 (the date the child became looked
//!   after, never itself counted): `notification` by day `notify_by` (done: notified_on),
//!   `consent` by day `consent_by` (consent_on), `appointment` by day `appointment_by`
//!   (seen_on: the appointment actually held), `report` by day `report_by`
//!   (report_received_on, else completed_on).
//! - **RHA milestones**: `booking` by `rha_booking_lead_working_days` working days before
//!   due_on (first_booked_on), `review` by due_on (seen_on), `report` by due_on
//!   (report_received_on, else completed_on).
//! - A milestone is **met** when done on or before its date, **missed** when done late or
//!   not done once its date has passed, **pending** otherwise. Once an assessment has
//!   stopped (completed or ended) undone milestones are judged on the day it stopped, so a
//!   closed IHA does not go on collecting misses.
//! - **Working days**: elapsed = working days in (clock start, stop]; remaining = working
//!   days in (stop, due_on], never negative; `stop` is `as_of`, or the completion/end date
//!   when that came first (the clock stops there).
//! - **RAG**: ended without completion (refused, not_required, closed) is green; a refusal
//!   is not a service failure but shows as blocker `refused`. Closed or found not required
//!   after the due date had passed keeps the breach: red, with its attribution. Otherwise red when the due
//!   date passed without completion (or completion came after it), the current appointment
//!   is after the due date, or it is not booked yet and no working day remains; amber when a
//!   milestone is missed but the due date can still be met; green otherwise.
//! - **Blocker**: the step it waits on now; a host-provider wait replaces booking,
//!   appointment and report when an out-of-area request is open (made, no report back).
//! - **Breach attribution**: the owner of the earliest missed milestone. Notification and
//!   consent are the LA's. Appointment, review and booking are the LA's when the last
//!   non-attendance was on the LA or carer side, the host provider's when the assessment
//!   had been passed to a host provider by the milestone's date, else health's. Report is
//!   the host provider's when passed to one by then, else health's.

use crate::calendar::{Calendar, WorkingDaysResult};
use crate::obligations::{add_months, age_on, birthday};
use crate::workflow::{Kind, Outcome, Side, State};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Local working-day targets (practice, not law, apart from the 20-day IHA due date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClockPolicy {
    pub iha_due_working_days: i32,
    pub notify_by: i32,
    pub consent_by: i32,
    pub appointment_by: i32,
    pub report_by: i32,
    pub rha_booking_lead_working_days: i32,
}

impl Default for ClockPolicy {
    fn default() -> Self {
        ClockPolicy {
            iha_due_working_days: 20,
            notify_by: 2,
            consent_by: 5,
            appointment_by: 15,
            report_by: 20,
            rha_booking_lead_working_days: 20,
        }
    }
}

/// The clock of a request to a host area's CLA health provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutOfAreaFacts {
    pub requested_on: Option<NaiveDate>,
    pub acknowledged_on: Option<NaiveDate>,
    pub appointment_offered_on: Option<NaiveDate>,
    pub report_received_on: Option<NaiveDate>,
}

/// What the database knows about one assessment; the input to [`derive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentFacts {
    pub kind: Kind,
    pub state: State,
    /// IHA: day 0, the date the child became looked after. RHA: the anchor, the seen_on
    /// of the last completed assessment.
    pub clock_started_on: NaiveDate,
    /// Stored due date: [`iha_due_on`] for an IHA, `obligations::next_rha_due` for an RHA.
    pub due_on: NaiveDate,
    pub notified_on: Option<NaiveDate>,
    pub consent_on: Option<NaiveDate>,
    /// The day the first appointment was booked.
    pub first_booked_on: Option<NaiveDate>,
    /// The date of the current appointment (latest booked, no outcome yet or attended).
    /// This is when it will happen, not a fact that has happened, so it is not masked.
    pub appointment_on: Option<NaiveDate>,
    pub seen_on: Option<NaiveDate>,
    pub report_received_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    /// When it was refused, found not required or closed.
    pub ended_on: Option<NaiveDate>,
    pub last_non_attendance: Option<(NaiveDate, Outcome)>,
    pub non_attendance_count: i32,
    pub out_of_area: Option<OutOfAreaFacts>,
}

impl AssessmentFacts {
    /// Facts for a new assessment with nothing recorded yet.
    pub fn new(kind: Kind, state: State, clock_started_on: NaiveDate, due_on: NaiveDate) -> Self {
        AssessmentFacts {
            kind,
            state,
            clock_started_on,
            due_on,
            notified_on: None,
            consent_on: None,
            first_booked_on: None,
            appointment_on: None,
            seen_on: None,
            report_received_on: None,
            completed_on: None,
            ended_on: None,
            last_non_attendance: None,
            non_attendance_count: 0,
            out_of_area: None,
        }
    }
}

/// The IHA due date: the `iha_due_working_days`-th working day after day 0.
pub fn iha_due_on(cal: &Calendar, became_looked_after: NaiveDate, policy: &ClockPolicy) -> NaiveDate {
    cal.add_working_days(became_looked_after, policy.iha_due_working_days)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rag {
    Green,
    Amber,
    Red,
}

impl Rag {
    pub const ALL: [Rag; 3] = [Rag::Green, Rag::Amber, Rag::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Green => "green",
            Rag::Amber => "amber",
            Rag::Red => "red",
        }
    }
}

impl std::str::FromStr for Rag {
    type Err = ();

    fn from_str(s: &str) -> Result<Rag, ()> {
        Rag::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Blocker {
    None,
    Notification,
    Consent,
    Booking,
    Appointment,
    Report,
    HostProvider,
    Refused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    LocalAuthority,
    Health,
    HostProvider,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MilestoneStatus {
    Met,
    Missed,
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Milestone {
    pub key: &'static str,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub status: MilestoneStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DerivedStatus {
    /// The state on `as_of` (the stored state stepped back past facts dated later).
    pub state: State,
    pub due_on: NaiveDate,
    pub working_days_elapsed: i32,
    pub working_days_remaining: i32,
    pub rag: Rag,
    pub blocker: Blocker,
    pub breach_attribution: Attribution,
    pub milestones: Vec<Milestone>,
    pub explanation: String,
}

/// Derives the status of an assessment as it stood on `as_of` (see the module rules).
pub fn derive(
    facts: &AssessmentFacts,
    date_of_birth: NaiveDate,
    cal: &Calendar,
    as_of: NaiveDate,
    policy: &ClockPolicy,
) -> DerivedStatus {
    let (view, milestones, remaining) = judge(facts, cal, as_of, policy);
    DerivedStatus {
        state: view.state,
        due_on: facts.due_on,
        working_days_elapsed: cal.working_days_between(facts.clock_started_on, view.stop).max(0),
        working_days_remaining: remaining,
        rag: rag(&view, &milestones, remaining),
        blocker: blocker(&view),
        breach_attribution: attribution(&view, &milestones),
        milestones,
        explanation: match facts.kind {
            Kind::Iha => iha_explanation(facts, cal, policy),
            Kind::Rha => rha_explanation(facts, date_of_birth, cal, policy),
        },
    }
}

/// The state, RAG and milestones on `as_of`, without the rest of [`derive`]: what a list
/// filters by, and what `rag_stamp` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub state: State,
    pub rag: Rag,
    pub milestones: Vec<Milestone>,
}

pub fn standing(facts: &AssessmentFacts, cal: &Calendar, as_of: NaiveDate, policy: &ClockPolicy) -> Standing {
    let (view, milestones, remaining) = judge(facts, cal, as_of, policy);
    Standing {
        state: view.state,
        rag: rag(&view, &milestones, remaining),
        milestones,
    }
}

/// What the assessment waited on on `as_of`, and whose missed step made it late: the part
/// of [`derive`] the monthly figures need for every miss, without the explanation.
pub fn waiting_on(
    facts: &AssessmentFacts,
    cal: &Calendar,
    as_of: NaiveDate,
    policy: &ClockPolicy,
) -> (Blocker, Attribution) {
    let (view, milestones, _) = judge(facts, cal, as_of, policy);
    (blocker(&view), attribution(&view, &milestones))
}

/// The view on `as_of`, its milestones and the working days remaining to the due date.
fn judge(
    facts: &AssessmentFacts,
    cal: &Calendar,
    as_of: NaiveDate,
    policy: &ClockPolicy,
) -> (View, Vec<Milestone>, i32) {
    let view = View::new(facts, as_of);
    let milestones = match facts.kind {
        Kind::Iha => iha_milestones(&view, cal, policy),
        Kind::Rha => rha_milestones(&view, cal, policy),
    };
    let remaining = cal.working_days_between(view.stop, facts.due_on).max(0);
    (view, milestones, remaining)
}

/// The facts as they stood on `as_of`.
struct View {
    facts: AssessmentFacts,
    state: State,
    /// `as_of`, or the completion/end date when the assessment stopped before it.
    stop: NaiveDate,
}

impl View {
    fn new(stored: &AssessmentFacts, as_of: NaiveDate) -> View {
        let facts = mask(stored, as_of);
        let state = state_on(stored, as_of);
        let end = match state {
            State::Completed => facts.completed_on,
            s if s.is_ended_without_completion() => facts.ended_on,
            _ => None,
        };
        let stop = end.map_or(as_of, |end| end.min(as_of));
        View { facts, state, stop }
    }

    /// A request to a host provider that has not yet been answered with a report.
    fn host_request_open(&self) -> bool {
        self.facts
            .out_of_area
            .is_some_and(|oa| oa.requested_on.is_some() && oa.report_received_on.is_none())
    }

    /// The assessment had been passed to a host provider by `date`: from then on the
    /// booking, appointment and report were theirs to deliver.
    fn host_involved_by(&self, date: NaiveDate) -> bool {
        self.facts
            .out_of_area
            .and_then(|oa| oa.requested_on)
            .is_some_and(|requested| requested <= date)
    }

    fn last_non_attendance_was_la_side(&self) -> bool {
        self.facts
            .last_non_attendance
            .is_some_and(|(_, outcome)| outcome.responsible_side() == Some(Side::LocalAuthority))
    }

    /// The date the assessment counts as completed for the due date: the report is what
    /// is due, so its arrival, else the recorded completion.
    fn completion_date(&self) -> Option<NaiveDate> {
        self.facts.report_received_on.or(self.facts.completed_on)
    }
}

fn mask_date(date: Option<NaiveDate>, as_of: NaiveDate) -> Option<NaiveDate> {
    date.filter(|d| *d <= as_of)
}

fn mask(f: &AssessmentFacts, as_of: NaiveDate) -> AssessmentFacts {
    let m = |d| mask_date(d, as_of);
    AssessmentFacts {
        notified_on: m(f.notified_on),
        consent_on: m(f.consent_on),
        first_booked_on: m(f.first_booked_on),
        seen_on: m(f.seen_on),
        report_received_on: m(f.report_received_on),
        completed_on: m(f.completed_on),
        ended_on: m(f.ended_on),
        last_non_attendance: f.last_non_attendance.filter(|(d, _)| *d <= as_of),
        // A request made after as_of did not exist yet.
        out_of_area: f
            .out_of_area
            .filter(|oa| m(oa.requested_on).is_some())
            .map(|oa| OutOfAreaFacts {
                requested_on: oa.requested_on,
                acknowledged_on: m(oa.acknowledged_on),
                appointment_offered_on: m(oa.appointment_offered_on),
                report_received_on: m(oa.report_received_on),
            }),
        ..f.clone()
    }
}

/// The state on `as_of`: the stored state, stepped back while the fact that led into it
/// is dated after `as_of`. An ending dated after `as_of` is undone to the furthest step
/// the dated facts had reached.
fn state_on(f: &AssessmentFacts, as_of: NaiveDate) -> State {
    let later = |d: Option<NaiveDate>| d.is_some_and(|d| d > as_of);
    let mut state = f.state;
    if state.is_ended_without_completion() {
        if !later(f.ended_on) {
            return state;
        }
        state = furthest_reached(f, as_of);
    }
    while let Some(previous) = step_back(f, state, &later) {
        state = previous;
    }
    state
}

/// The state before `state` if the fact that led into it had not happened yet. Terminates:
/// every step goes back towards the start except "back to booked" after a later
/// non-attendance, which only happens when the booking itself had happened.
fn step_back(f: &AssessmentFacts, state: State, later: &dyn Fn(Option<NaiveDate>) -> bool) -> Option<State> {
    use State::*;
    let non_attendance_on = f.last_non_attendance.map(|(d, _)| d);
    match state {
        Completed if later(f.completed_on) => Some(AwaitingReport),
        AwaitingReport if later(f.seen_on) => Some(Booked),
        Booked if later(f.first_booked_on) => Some(AwaitingBooking),
        AwaitingBooking if later(non_attendance_on) && !later(f.first_booked_on) => Some(Booked),
        AwaitingBooking if f.kind == Kind::Iha && later(f.consent_on) => Some(AwaitingConsent),
        AwaitingConsent if later(f.notified_on) => Some(AwaitingNotification),
        _ => None,
    }
}

fn furthest_reached(f: &AssessmentFacts, as_of: NaiveDate) -> State {
    let by = |d: Option<NaiveDate>| d.is_some_and(|d| d <= as_of);
    match f.kind {
        _ if by(f.completed_on) => State::Completed,
        _ if by(f.seen_on) => State::AwaitingReport,
        _ if by(f.first_booked_on) => State::Booked,
        Kind::Rha => State::Scheduled,
        Kind::Iha if by(f.consent_on) => State::AwaitingBooking,
        Kind::Iha if by(f.notified_on) => State::AwaitingConsent,
        Kind::Iha => State::AwaitingNotification,
    }
}

fn milestone(key: &'static str, due_on: NaiveDate, done_on: Option<NaiveDate>, judged_on: NaiveDate) -> Milestone {
    let status = match done_on {
        Some(done) if done <= due_on => MilestoneStatus::Met,
        Some(_) => MilestoneStatus::Missed,
        None if judged_on > due_on => MilestoneStatus::Missed,
        None => MilestoneStatus::Pending,
    };
    Milestone {
        key,
        due_on,
        done_on,
        status,
    }
}

fn iha_milestones(v: &View, cal: &Calendar, p: &ClockPolicy) -> Vec<Milestone> {
    let f = &v.facts;
    let day = |n| cal.add_working_days(f.clock_started_on, n);
    vec![
        milestone("notification", day(p.notify_by), f.notified_on, v.stop),
        milestone("consent", day(p.consent_by), f.consent_on, v.stop),
        milestone("appointment", day(p.appointment_by), f.seen_on, v.stop),
        milestone("report", day(p.report_by), v.completion_date(), v.stop),
    ]
}

fn rha_milestones(v: &View, cal: &Calendar, p: &ClockPolicy) -> Vec<Milestone> {
    let f = &v.facts;
    let booking_due = cal.add_working_days(f.due_on, -p.rha_booking_lead_working_days);
    vec![
        milestone("booking", booking_due, f.first_booked_on, v.stop),
        milestone("review", f.due_on, f.seen_on, v.stop),
        milestone("report", f.due_on, v.completion_date(), v.stop),
    ]
}

fn rag(v: &View, milestones: &[Milestone], remaining: i32) -> Rag {
    if v.state.is_ended_without_completion() {
        // A refusal is nobody's failure; closing or finding it not required once the due
        // date had passed does not undo the breach.
        if v.state != State::Refused && v.facts.ended_on.is_some_and(|ended| ended > v.facts.due_on) {
            Rag::Red
        } else {
            Rag::Green
        }
    } else if due_date_missed_or_unreachable(v, remaining) {
        Rag::Red
    } else if milestones.iter().any(|m| m.status == MilestoneStatus::Missed) {
        Rag::Amber
    } else {
        Rag::Green
    }
}

fn due_date_missed_or_unreachable(v: &View, remaining: i32) -> bool {
    use State::*;
    let due_on = v.facts.due_on;
    match v.state {
        Completed => v.completion_date().is_some_and(|done| done > due_on),
        Booked => v.stop > due_on || v.facts.appointment_on.is_some_and(|a| a > due_on),
        AwaitingNotification | AwaitingConsent | AwaitingBooking | Scheduled => v.stop > due_on || remaining == 0,
        _ => v.stop > due_on,
    }
}

fn blocker(v: &View) -> Blocker {
    use State::*;
    let host = v.host_request_open();
    match v.state {
        AwaitingNotification => Blocker::Notification,
        AwaitingConsent => Blocker::Consent,
        AwaitingBooking | Scheduled | Booked | AwaitingReport if host => Blocker::HostProvider,
        AwaitingBooking | Scheduled => Blocker::Booking,
        Booked => Blocker::Appointment,
        AwaitingReport => Blocker::Report,
        Refused => Blocker::Refused,
        Completed | NotRequired | Closed => Blocker::None,
    }
}

fn attribution(v: &View, milestones: &[Milestone]) -> Attribution {
    // min_by_key keeps the first of equal dates, so list order breaks ties (an RHA's
    // review before its report).
    let Some(first) = milestones
        .iter()
        .filter(|m| m.status == MilestoneStatus::Missed)
        .min_by_key(|m| m.due_on)
    else {
        return Attribution::None;
    };
    let host = v.host_involved_by(first.due_on);
    match first.key {
        "notification" | "consent" => Attribution::LocalAuthority,
        "report" if host => Attribution::HostProvider,
        "report" => Attribution::Health,
        _ if v.last_non_attendance_was_la_side() => Attribution::LocalAuthority,
        _ if host => Attribution::HostProvider,
        _ => Attribution::Health,
    }
}

/// "Fri 19 Dec 2025".
fn show(date: NaiveDate) -> String {
    date.format("%a %-d %b %Y").to_string()
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn ordinal(n: i32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "skipping weekends and the bank holidays A (date) and B (date)".
fn skipping(worked: &WorkingDaysResult) -> String {
    let holidays: Vec<String> = worked
        .skipped
        .iter()
        .filter(|s| !matches!(s.date.weekday(), Weekday::Sat | Weekday::Sun))
        .map(|s| format!("{} ({})", s.reason, show(s.date)))
        .collect();
    match holidays.len() {
        0 => "skipping weekends".to_string(),
        1 => format!("skipping weekends and the bank holiday {}", join_and(&holidays)),
        _ => format!("skipping weekends and the bank holidays {}", join_and(&holidays)),
    }
}

/// Says when a year's holidays came from the regular rules rather than a published list,
/// so a reader knows a one-off (a jubilee, a state funeral) could still move the date.
fn rule_years_note(worked: &WorkingDaysResult) -> String {
    if worked.rule_years.is_empty() {
        return String::new();
    }
    let years: Vec<String> = worked.rule_years.iter().map(i32::to_string).collect();
    let covers = if years.len() == 1 { "that year" } else { "those years" };
    format!(
        " Bank holidays for {} were worked out from the regular rules, as no published calendar covers {covers}.",
        join_and(&years)
    )
}

fn iha_explanation(f: &AssessmentFacts, cal: &Calendar, p: &ClockPolicy) -> String {
    let worked = cal.add_working_days_explained(f.clock_started_on, p.iha_due_working_days);
    let mut text = format!(
        "Became looked after on {} (day 0, not counted). The {} working day, {}, is {}.",
        show(f.clock_started_on),
        ordinal(p.iha_due_working_days),
        skipping(&worked),
        show(worked.date)
    );
    if worked.date != f.due_on {
        // The stored date was set under other settings or an older calendar.
        text.push_str(&format!(" The recorded due date is {}.", show(f.due_on)));
    }
    text.push_str(&rule_years_note(&worked));
    text
}

fn whole_months_between(from: NaiveDate, to: NaiveDate) -> Option<u32> {
    let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    let months = u32::try_from(months).ok()?;
    (add_months(from, months) == to).then_some(months)
}

fn rha_explanation(f: &AssessmentFacts, date_of_birth: NaiveDate, cal: &Calendar, p: &ClockPolicy) -> String {
    let anchor = f.clock_started_on;
    let age = if age_on(date_of_birth, anchor) < 5 {
        "under 5"
    } else {
        "5 or over"
    };
    let mut text = match whole_months_between(anchor, f.due_on) {
        Some(months) => format!(
            "Last assessed on {} when the child was {age}, so the review is due within {months} months: by {}.",
            show(anchor),
            show(f.due_on)
        ),
        None => format!(
            "Last assessed on {} when the child was {age}; the review is due by {}.",
            show(anchor),
            show(f.due_on)
        ),
    };
    let fifth = birthday(date_of_birth, 5);
    if anchor < fifth && fifth <= f.due_on {
        text.push_str(&format!(" The child turns 5 on {}.", show(fifth)));
    }
    let booking = cal.add_working_days_explained(f.due_on, -p.rha_booking_lead_working_days);
    text.push_str(&format!(
        " Booking is due {} working days before, by {}.",
        p.rha_booking_lead_working_days,
        show(booking.date)
    ));
    text.push_str(&rule_years_note(&booking));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn cal() -> Calendar {
        Calendar::rules_only()
    }

    const DOB: (i32, u32, u32) = (2015, 6, 1);

    fn dob() -> NaiveDate {
        d(DOB.0, DOB.1, DOB.2)
    }

    /// Day 0 Mon 2 Feb 2026: no bank holidays until Good Friday, so working day n is
    /// easy to check by hand. Day 2 Wed 4 Feb, day 5 Mon 9 Feb, day 7 Wed 11 Feb,
    /// day 15 Mon 23 Feb, day 20 Mon 2 Mar.
    fn feb_iha(state: State) -> AssessmentFacts {
        let day0 = d(2026, 2, 2);
        AssessmentFacts::new(
            Kind::Iha,
            state,
            day0,
            iha_due_on(&cal(), day0, &ClockPolicy::default()),
        )
    }

    fn status(f: &AssessmentFacts, as_of: NaiveDate) -> DerivedStatus {
        derive(f, dob(), &cal(), as_of, &ClockPolicy::default())
    }

    fn milestone_status(s: &DerivedStatus, key: &str) -> MilestoneStatus {
        s.milestones
            .iter()
            .find(|m| m.key == key)
            .map(|m| m.status)
            .expect("milestone present")
    }

    /// On time up to consent, as every later scenario starts.
    fn consented() -> AssessmentFacts {
        AssessmentFacts {
            notified_on: Some(d(2026, 2, 3)),
            consent_on: Some(d(2026, 2, 6)),
            ..feb_iha(State::AwaitingBooking)
        }
    }

    fn booked_for(appointment_on: NaiveDate) -> AssessmentFacts {
        AssessmentFacts {
            first_booked_on: Some(d(2026, 2, 9)),
            appointment_on: Some(appointment_on),
            ..consented()
        }
        .with_state(State::Booked)
    }

    impl AssessmentFacts {
        fn with_state(self, state: State) -> Self {
            AssessmentFacts { state, ..self }
        }
    }

    #[test]
    fn iha_is_due_on_the_20th_working_day_after_day_0() {
        let p = ClockPolicy::default();
        assert_eq!(iha_due_on(&cal(), d(2025, 12, 19), &p), d(2026, 1, 21));
        assert_eq!(iha_due_on(&cal(), d(2026, 3, 28), &p), d(2026, 4, 28));
        assert_eq!(iha_due_on(&cal(), d(2026, 2, 2), &p), d(2026, 3, 2));
    }

    #[test]
    fn worked_example_explanation_names_the_three_holidays() {
        let day0 = d(2025, 12, 19);
        let f = AssessmentFacts::new(Kind::Iha, State::AwaitingNotification, day0, d(2026, 1, 21));
        let s = status(&f, day0);
        assert_eq!(s.due_on, d(2026, 1, 21));
        let sentence = "Became looked after on Fri 19 Dec 2025 (day 0, not counted). The 20th \
             working day, skipping weekends and the bank holidays Christmas Day (Thu 25 Dec 2025), \
             Boxing Day (Fri 26 Dec 2025) and New Year’s Day (Thu 1 Jan 2026), is Wed 21 Jan 2026.";
        assert!(s.explanation.starts_with(sentence), "{}", s.explanation);
    }

    #[test]
    fn explanation_says_when_holidays_came_from_the_regular_rules() {
        let day0 = d(2025, 12, 19);
        let f = AssessmentFacts::new(Kind::Iha, State::AwaitingNotification, day0, d(2026, 1, 21));
        let text = status(&f, day0).explanation;
        let rule_years = cal().add_working_days_explained(day0, 20).rule_years;
        let note = "were worked out from the regular rules, as no published calendar covers";
        assert_eq!(text.contains(note), !rule_years.is_empty(), "{text}");
        for year in rule_years {
            assert!(text.contains(&year.to_string()), "{text}");
        }
    }

    #[test]
    fn rule_years_note_names_the_years() {
        let worked = WorkingDaysResult {
            date: d(2031, 1, 2),
            skipped: Vec::new(),
            rule_years: vec![2030, 2031],
        };
        assert_eq!(
            rule_years_note(&worked),
            " Bank holidays for 2030 and 2031 were worked out from the regular rules, as no \
             published calendar covers those years."
        );
    }

    #[test]
    fn explanation_without_holidays_mentions_only_weekends() {
        let s = status(&feb_iha(State::AwaitingNotification), d(2026, 2, 2));
        assert!(
            s.explanation
                .contains("The 20th working day, skipping weekends, is Mon 2 Mar 2026."),
            "{}",
            s.explanation
        );
    }

    #[test]
    fn iha_milestones_fall_on_working_days_2_5_15_and_20() {
        let s = status(&feb_iha(State::AwaitingNotification), d(2026, 2, 2));
        let due: Vec<(&str, NaiveDate)> = s.milestones.iter().map(|m| (m.key, m.due_on)).collect();
        assert_eq!(
            due,
            vec![
                ("notification", d(2026, 2, 4)),
                ("consent", d(2026, 2, 9)),
                ("appointment", d(2026, 2, 23)),
                ("report", d(2026, 3, 2)),
            ]
        );
        assert!(s.milestones.iter().all(|m| m.status == MilestoneStatus::Pending));
    }

    #[test]
    fn milestone_done_by_its_date_is_met() {
        let s = status(&consented(), d(2026, 2, 10));
        assert_eq!(milestone_status(&s, "notification"), MilestoneStatus::Met);
        assert_eq!(milestone_status(&s, "consent"), MilestoneStatus::Met);
    }

    #[test]
    fn milestone_done_on_its_due_day_is_met() {
        let f = AssessmentFacts {
            notified_on: Some(d(2026, 2, 4)),
            ..feb_iha(State::AwaitingConsent)
        };
        assert_eq!(
            milestone_status(&status(&f, d(2026, 2, 5)), "notification"),
            MilestoneStatus::Met
        );
    }

    #[test]
    fn milestone_done_late_is_missed() {
        let f = AssessmentFacts {
            notified_on: Some(d(2026, 2, 5)),
            ..feb_iha(State::AwaitingConsent)
        };
        assert_eq!(
            milestone_status(&status(&f, d(2026, 2, 5)), "notification"),
            MilestoneStatus::Missed
        );
    }

    #[test]
    fn milestone_not_done_is_pending_until_its_date_then_missed() {
        let f = feb_iha(State::AwaitingNotification);
        assert_eq!(
            milestone_status(&status(&f, d(2026, 2, 4)), "notification"),
            MilestoneStatus::Pending
        );
        assert_eq!(
            milestone_status(&status(&f, d(2026, 2, 5)), "notification"),
            MilestoneStatus::Missed
        );
    }

    #[test]
    fn consent_recorded_on_day_7_is_pending_when_viewed_on_day_3() {
        let f = AssessmentFacts {
            notified_on: Some(d(2026, 2, 3)),
            consent_on: Some(d(2026, 2, 11)),
            ..feb_iha(State::AwaitingBooking)
        };
        let then = status(&f, d(2026, 2, 5));
        let consent = then.milestones.iter().find(|m| m.key == "consent").expect("consent");
        assert_eq!((consent.status, consent.done_on), (MilestoneStatus::Pending, None));
        assert_eq!(then.blocker, Blocker::Consent);
        assert_eq!(then.rag, Rag::Green);
        assert_eq!(then.working_days_elapsed, 3);

        let now = status(&f, d(2026, 2, 11));
        assert_eq!(milestone_status(&now, "consent"), MilestoneStatus::Missed);
        assert_eq!(now.blocker, Blocker::Booking);
    }

    #[test]
    fn as_of_before_completion_sees_the_assessment_still_open() {
        let f = AssessmentFacts {
            seen_on: Some(d(2026, 2, 20)),
            report_received_on: Some(d(2026, 2, 27)),
            completed_on: Some(d(2026, 2, 27)),
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::Completed);
        assert_eq!(status(&f, d(2026, 2, 19)).blocker, Blocker::Appointment);
        assert_eq!(status(&f, d(2026, 2, 24)).blocker, Blocker::Report);
        assert_eq!(status(&f, d(2026, 2, 27)).blocker, Blocker::None);
    }

    #[test]
    fn non_attendance_after_as_of_leaves_the_assessment_booked() {
        let f = AssessmentFacts {
            last_non_attendance: Some((d(2026, 2, 20), Outcome::WasNotBrought)),
            non_attendance_count: 1,
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::AwaitingBooking);
        assert_eq!(status(&f, d(2026, 2, 19)).blocker, Blocker::Appointment);
        assert_eq!(status(&f, d(2026, 2, 20)).blocker, Blocker::Booking);
    }

    #[test]
    fn working_days_count_from_day_0_and_to_the_due_date() {
        let s = status(&consented(), d(2026, 2, 16));
        assert_eq!((s.working_days_elapsed, s.working_days_remaining), (10, 10));
        let late = status(&feb_iha(State::AwaitingNotification), d(2026, 3, 10));
        assert_eq!(late.working_days_remaining, 0);
    }

    #[test]
    fn clock_stops_at_completion() {
        let f = AssessmentFacts {
            seen_on: Some(d(2026, 2, 20)),
            report_received_on: Some(d(2026, 2, 24)),
            completed_on: Some(d(2026, 2, 24)),
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::Completed);
        let s = status(&f, d(2026, 6, 1));
        assert_eq!((s.working_days_elapsed, s.working_days_remaining), (16, 4));
    }

    #[test]
    fn rag_green_when_on_track() {
        let s = status(&booked_for(d(2026, 2, 20)), d(2026, 2, 12));
        assert_eq!(
            (s.rag, s.blocker, s.breach_attribution),
            (Rag::Green, Blocker::Appointment, Attribution::None)
        );
    }

    #[test]
    fn rag_amber_when_a_milestone_is_missed_but_the_due_date_can_be_met() {
        let f = AssessmentFacts {
            consent_on: Some(d(2026, 2, 12)),
            ..consented()
        };
        let s = status(&f, d(2026, 2, 12));
        assert_eq!(s.rag, Rag::Amber);
    }

    #[test]
    fn rag_red_when_the_due_date_passed_without_completion() {
        let f = AssessmentFacts {
            seen_on: Some(d(2026, 2, 20)),
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::AwaitingReport);
        assert_eq!(status(&f, d(2026, 3, 2)).rag, Rag::Green);
        assert_eq!(status(&f, d(2026, 3, 3)).rag, Rag::Red);
    }

    #[test]
    fn rag_red_when_the_appointment_is_booked_after_the_due_date() {
        let s = status(&booked_for(d(2026, 3, 3)), d(2026, 2, 10));
        assert_eq!(s.rag, Rag::Red);
    }

    #[test]
    fn rag_red_when_not_booked_and_no_working_day_remains() {
        let f = consented();
        assert_eq!(status(&f, d(2026, 2, 27)).rag, Rag::Amber);
        assert_eq!(status(&f, d(2026, 3, 2)).rag, Rag::Red);
    }

    #[test]
    fn rag_red_when_completed_after_the_due_date_and_green_when_on_time() {
        let done = |report: NaiveDate| {
            AssessmentFacts {
                seen_on: Some(d(2026, 2, 20)),
                report_received_on: Some(report),
                completed_on: Some(report),
                ..booked_for(d(2026, 2, 20))
            }
            .with_state(State::Completed)
        };
        assert_eq!(status(&done(d(2026, 3, 2)), d(2026, 4, 1)).rag, Rag::Green);
        let late = status(&done(d(2026, 3, 3)), d(2026, 4, 1));
        assert_eq!((late.rag, late.breach_attribution), (Rag::Red, Attribution::Health));
    }

    #[test]
    fn refusal_is_green_but_visible_as_the_blocker() {
        let f = AssessmentFacts {
            ended_on: Some(d(2026, 2, 12)),
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::Refused);
        let s = status(&f, d(2026, 3, 20));
        assert_eq!((s.rag, s.blocker), (Rag::Green, Blocker::Refused));
        assert_eq!(milestone_status(&s, "appointment"), MilestoneStatus::Pending);
    }

    #[test]
    fn not_required_and_closed_are_green_with_no_blocker() {
        for state in [State::NotRequired, State::Closed] {
            let f = AssessmentFacts {
                ended_on: Some(d(2026, 2, 2)),
                ..feb_iha(state)
            };
            let s = status(&f, d(2026, 4, 1));
            assert_eq!(
                (s.rag, s.blocker, s.breach_attribution),
                (Rag::Green, Blocker::None, Attribution::None)
            );
        }
    }

    #[test]
    fn an_assessment_closed_or_not_required_after_its_due_date_keeps_the_breach() {
        // Due Mon 2 Mar 2026; notified on time, consent never came.
        for state in [State::NotRequired, State::Closed] {
            let f = AssessmentFacts {
                notified_on: Some(d(2026, 2, 3)),
                ended_on: Some(d(2026, 3, 4)),
                ..feb_iha(state)
            };
            let s = status(&f, d(2026, 4, 1));
            assert_eq!(
                (s.rag, s.blocker, s.breach_attribution),
                (Rag::Red, Blocker::None, Attribution::LocalAuthority),
                "{state}"
            );
            // Closed on the due date itself: not a breach of the due date.
            let on_time = AssessmentFacts {
                ended_on: Some(d(2026, 3, 2)),
                ..f
            };
            assert_eq!(status(&on_time, d(2026, 4, 1)).rag, Rag::Green, "{state}");
        }
    }

    #[test]
    fn a_refusal_after_the_due_date_is_still_nobodys_failure() {
        let f = AssessmentFacts {
            ended_on: Some(d(2026, 3, 4)),
            ..consented()
        }
        .with_state(State::Refused);
        assert_eq!(status(&f, d(2026, 4, 1)).rag, Rag::Green);
    }

    #[test]
    fn ending_dated_after_as_of_is_not_yet_seen() {
        let f = AssessmentFacts {
            ended_on: Some(d(2026, 2, 12)),
            ..consented()
        }
        .with_state(State::Closed);
        assert_eq!(status(&f, d(2026, 2, 10)).blocker, Blocker::Booking);
    }

    #[test]
    fn late_notification_or_consent_is_the_local_authoritys() {
        let late_notification = AssessmentFacts {
            notified_on: Some(d(2026, 2, 6)),
            ..feb_iha(State::AwaitingConsent)
        };
        assert_eq!(
            status(&late_notification, d(2026, 2, 6)).breach_attribution,
            Attribution::LocalAuthority
        );
        let no_consent = AssessmentFacts {
            notified_on: Some(d(2026, 2, 3)),
            ..feb_iha(State::AwaitingConsent)
        };
        assert_eq!(
            status(&no_consent, d(2026, 2, 10)).breach_attribution,
            Attribution::LocalAuthority
        );
    }

    #[test]
    fn appointment_not_held_in_time_is_healths() {
        let s = status(&booked_for(d(2026, 2, 25)), d(2026, 2, 24));
        assert_eq!((s.rag, s.breach_attribution), (Rag::Amber, Attribution::Health));
    }

    #[test]
    fn appointment_missed_after_child_not_brought_is_the_local_authoritys() {
        for outcome in [
            Outcome::WasNotBrought,
            Outcome::CancelledByCarer,
            Outcome::CancelledByLa,
            Outcome::NoAccess,
        ] {
            let f = AssessmentFacts {
                last_non_attendance: Some((d(2026, 2, 20), outcome)),
                non_attendance_count: 1,
                ..booked_for(d(2026, 2, 20))
            }
            .with_state(State::AwaitingBooking);
            assert_eq!(
                status(&f, d(2026, 2, 24)).breach_attribution,
                Attribution::LocalAuthority,
                "{outcome}"
            );
        }
    }

    #[test]
    fn appointment_missed_after_provider_cancelled_is_healths() {
        let f = AssessmentFacts {
            last_non_attendance: Some((d(2026, 2, 20), Outcome::CancelledByProvider)),
            non_attendance_count: 1,
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::AwaitingBooking);
        assert_eq!(status(&f, d(2026, 2, 24)).breach_attribution, Attribution::Health);
    }

    #[test]
    fn report_late_is_healths() {
        let f = AssessmentFacts {
            seen_on: Some(d(2026, 2, 20)),
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::AwaitingReport);
        let s = status(&f, d(2026, 3, 4));
        assert_eq!(
            (s.blocker, s.breach_attribution),
            (Blocker::Report, Attribution::Health)
        );
    }

    fn out_of_area(requested_on: NaiveDate, report: Option<NaiveDate>) -> Option<OutOfAreaFacts> {
        Some(OutOfAreaFacts {
            requested_on: Some(requested_on),
            acknowledged_on: Some(requested_on),
            appointment_offered_on: None,
            report_received_on: report,
        })
    }

    #[test]
    fn out_of_area_waits_on_the_host_provider_and_its_delays_are_theirs() {
        let f = AssessmentFacts {
            out_of_area: out_of_area(d(2026, 2, 10), None),
            ..consented()
        };
        let before_request = status(&f, d(2026, 2, 9));
        assert_eq!(before_request.blocker, Blocker::Booking);
        let s = status(&f, d(2026, 2, 24));
        assert_eq!(
            (s.rag, s.blocker, s.breach_attribution),
            (Rag::Amber, Blocker::HostProvider, Attribution::HostProvider)
        );
    }

    #[test]
    fn out_of_area_late_report_stays_the_host_providers_after_it_arrives() {
        let f = AssessmentFacts {
            seen_on: Some(d(2026, 2, 20)),
            report_received_on: Some(d(2026, 3, 4)),
            completed_on: Some(d(2026, 3, 4)),
            out_of_area: out_of_area(d(2026, 2, 6), Some(d(2026, 3, 4))),
            ..booked_for(d(2026, 2, 20))
        }
        .with_state(State::Completed);
        let s = status(&f, d(2026, 3, 10));
        assert_eq!(
            (s.rag, s.blocker, s.breach_attribution),
            (Rag::Red, Blocker::None, Attribution::HostProvider)
        );
    }

    #[test]
    fn out_of_area_request_after_a_missed_appointment_leaves_it_with_health() {
        let f = AssessmentFacts {
            out_of_area: out_of_area(d(2026, 2, 25), None),
            ..consented()
        };
        assert_eq!(status(&f, d(2026, 2, 26)).breach_attribution, Attribution::Health);
    }

    /// Born 15 Jun 2021, seen Sun 14 Jun 2026 (the day before the 5th birthday): due
    /// Mon 14 Dec 2026; booking 20 working days before, Mon 16 Nov 2026.
    fn rha() -> AssessmentFacts {
        AssessmentFacts::new(Kind::Rha, State::Scheduled, d(2026, 6, 14), d(2026, 12, 14))
    }

    fn rha_status(f: &AssessmentFacts, as_of: NaiveDate) -> DerivedStatus {
        derive(f, d(2021, 6, 15), &cal(), as_of, &ClockPolicy::default())
    }

    #[test]
    fn rha_milestones_are_booking_review_and_report() {
        let s = rha_status(&rha(), d(2026, 11, 1));
        let due: Vec<(&str, NaiveDate)> = s.milestones.iter().map(|m| (m.key, m.due_on)).collect();
        assert_eq!(
            due,
            vec![
                ("booking", d(2026, 11, 16)),
                ("review", d(2026, 12, 14)),
                ("report", d(2026, 12, 14))
            ]
        );
        assert_eq!((s.rag, s.blocker), (Rag::Green, Blocker::Booking));
    }

    #[test]
    fn rha_booked_late_is_amber_and_healths() {
        let f = AssessmentFacts {
            first_booked_on: Some(d(2026, 11, 20)),
            appointment_on: Some(d(2026, 12, 1)),
            ..rha()
        }
        .with_state(State::Booked);
        let s = rha_status(&f, d(2026, 11, 20));
        assert_eq!(milestone_status(&s, "booking"), MilestoneStatus::Missed);
        assert_eq!((s.rag, s.breach_attribution), (Rag::Amber, Attribution::Health));
    }

    #[test]
    fn rha_completed_on_time_meets_every_milestone() {
        let f = AssessmentFacts {
            first_booked_on: Some(d(2026, 11, 2)),
            appointment_on: Some(d(2026, 12, 1)),
            seen_on: Some(d(2026, 12, 1)),
            report_received_on: Some(d(2026, 12, 8)),
            completed_on: Some(d(2026, 12, 8)),
            ..rha()
        }
        .with_state(State::Completed);
        let s = rha_status(&f, d(2027, 1, 5));
        assert!(s.milestones.iter().all(|m| m.status == MilestoneStatus::Met));
        assert_eq!((s.rag, s.blocker), (Rag::Green, Blocker::None));
    }

    #[test]
    fn rha_explanation_gives_the_age_the_interval_and_the_booking_date() {
        let s = rha_status(&rha(), d(2026, 11, 1));
        assert!(
            s.explanation.starts_with(
                "Last assessed on Sun 14 Jun 2026 when the child was under 5, so the review is due \
             within 6 months: by Mon 14 Dec 2026. The child turns 5 on Mon 15 Jun 2026. Booking \
             is due 20 working days before, by Mon 16 Nov 2026."
            ),
            "{}",
            s.explanation
        );
        let older = AssessmentFacts::new(Kind::Rha, State::Scheduled, d(2026, 6, 15), d(2027, 6, 15));
        let text = rha_status(&older, d(2026, 7, 1)).explanation;
        assert!(text.starts_with("Last assessed on Mon 15 Jun 2026 when the child was 5 or over, so the review is due within 12 months: by Tue 15 Jun 2027."), "{text}");
    }

    #[test]
    fn derived_status_serialises_with_api_names() {
        let s = status(&feb_iha(State::AwaitingNotification), d(2026, 2, 5));
        let json = serde_json::to_value(&s).expect("serialises");
        assert_eq!(json["rag"], "amber");
        assert_eq!(json["blocker"], "notification");
        assert_eq!(json["breach_attribution"], "local_authority");
        assert_eq!(json["due_on"], "2026-03-02");
        assert_eq!(json["milestones"][0]["status"], "missed");
        assert_eq!(json["milestones"][0]["key"], "notification");
    }

    #[test]
    fn ordinals_read_naturally() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 20, 21, 22, 23, 111]
            .iter()
            .map(|n| ordinal(*n))
            .collect();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "20th", "21st", "22nd", "23rd", "111th"]
        );
    }
}
