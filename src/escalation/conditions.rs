//! The conditions a rule can name, when each holds for an assessment, and the sweep planner.
//!
//! Rules:
//!
//! - Only open assessments hold conditions: not completed, not required or closed, and not
//!   refused either (a refusal is recorded with a plan to offer again; it is not a service
//!   failure, so nobody is chased about it).
//! - Facts dated after `as_of` count as not yet happened, as in `status::derive`.
//! - IHA milestone conditions count working days from day 0 (`clock_started_on`, never
//!   itself counted): the step due by day N is late from the calendar day after day N,
//!   while its fact is absent. The four local milestones follow `ClockPolicy`; "booked by"
//!   has no milestone there and is this module's own threshold.
//! - `iha_breached` and `rha_overdue` hold from the day after `due_on` until the report is
//!   back (report_received_on, else completed_on).
//! - `rha_due_unbooked` holds from `rha_booking_lead_working_days` working days before
//!   `due_on` while the RHA was never booked and is still scheduled or awaiting booking.
//! - `was_not_brought` holds from the date the child was last not brought until the child
//!   is seen; `repeated_non_attendance` from the second (or later) non-attendance in a row
//!   until the child is seen. Their occurrence key is that date, so the next one is a new
//!   occurrence and escalates afresh.
//! - Out-of-area conditions count working days from the request to the host provider and
//!   stop once the host answers (or its report is back).
//!
//! **Resolution.** [`plan`] lists every (rule, level, key) due on `as_of`. An open
//! escalation whose (rule, key) is not in the plan for its assessment any more has cleared:
//! the sweep marks it resolved ([`cleared`]). A rule removed from the ladder therefore
//! resolves its open escalations too.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::rules::{Ladder, Level};
use crate::calendar::Calendar;
use crate::status::{AssessmentFacts, ClockPolicy};
use crate::workflow::{Kind, Outcome, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    IhaNotificationLate,
    IhaConsentLate,
    IhaNotBooked,
    IhaAppointmentLate,
    IhaReportLate,
    IhaBreached,
    RhaDueUnbooked,
    RhaOverdue,
    WasNotBrought,
    RepeatedNonAttendance,
    OutOfAreaNotAcknowledged,
    OutOfAreaNoAppointmentOffered,
    /// An action agreed at the assurance meeting is open past its due date (swept by
    /// `service::meetings::sweep_overdue`, not from the assessment's facts).
    MeetingActionOverdue,
    /// The lateness forecast's p_late is at or above the rule's `p_late_at_least` (the
    /// sweep supplies the forecast; see [`plan_with`]).
    LikelyLate,
}

named!(Condition {
    IhaNotificationLate => "iha_notification_late",
    IhaConsentLate => "iha_consent_late",
    IhaNotBooked => "iha_not_booked",
    IhaAppointmentLate => "iha_appointment_late",
    IhaReportLate => "iha_report_late",
    IhaBreached => "iha_breached",
    RhaDueUnbooked => "rha_due_unbooked",
    RhaOverdue => "rha_overdue",
    WasNotBrought => "was_not_brought",
    RepeatedNonAttendance => "repeated_non_attendance",
    OutOfAreaNotAcknowledged => "out_of_area_not_acknowledged",
    OutOfAreaNoAppointmentOffered => "out_of_area_no_appointment_offered",
    MeetingActionOverdue => "meeting_action_overdue",
    LikelyLate => "likely_late",
});

impl Condition {
    /// A short headline for the subject line ("IHA consent not confirmed").
    pub fn headline(self, kind: Kind) -> String {
        let fixed = match self {
            Condition::IhaNotificationLate => "IHA notification to health late",
            Condition::IhaConsentLate => "IHA consent not confirmed",
            Condition::IhaNotBooked => "IHA appointment not booked",
            Condition::IhaAppointmentLate => "IHA appointment not held",
            Condition::IhaReportLate => "IHA report not returned",
            Condition::IhaBreached => "IHA past its statutory due date",
            Condition::RhaDueUnbooked => "RHA due soon and not booked",
            Condition::RhaOverdue => "RHA overdue",
            // These apply to either kind, so the kind is named.
            Condition::WasNotBrought => return format!("Child not brought to {kind} appointment"),
            Condition::RepeatedNonAttendance => return format!("Repeated non-attendance at {kind} appointments"),
            Condition::OutOfAreaNotAcknowledged => return format!("Host provider has not acknowledged {kind} request"),
            Condition::OutOfAreaNoAppointmentOffered => {
                return format!("Host provider has offered no {kind} appointment")
            }
            Condition::MeetingActionOverdue => "Assurance meeting action overdue",
            Condition::LikelyLate => return format!("{kind} likely to miss its due date"),
        };
        fixed.to_string()
    }

    /// What is late, in plain words for the email.
    pub fn describe(self) -> &'static str {
        match self {
            Condition::IhaNotificationLate => {
                "The local authority has not yet notified the health team that the child became looked after."
            }
            Condition::IhaConsentLate => {
                "Consent and paperwork for the Initial Health Assessment have not reached the health team."
            }
            Condition::IhaNotBooked => "No appointment has been booked for the Initial Health Assessment.",
            Condition::IhaAppointmentLate => "The Initial Health Assessment appointment has not taken place.",
            Condition::IhaReportLate => "The Initial Health Assessment report has not been returned.",
            Condition::IhaBreached => "The Initial Health Assessment has not been completed by its statutory due date.",
            Condition::RhaDueUnbooked => "The Review Health Assessment falls due soon and has not been booked.",
            Condition::RhaOverdue => "The Review Health Assessment has not been completed by its due date.",
            Condition::WasNotBrought => "The child was not brought to a health assessment appointment.",
            Condition::RepeatedNonAttendance => {
                "The child has missed health assessment appointments more than once in a row."
            }
            Condition::OutOfAreaNotAcknowledged => {
                "The host area's CLA health provider has not acknowledged the request to assess the child."
            }
            Condition::OutOfAreaNoAppointmentOffered => {
                "The host area's CLA health provider has not offered an appointment for the child."
            }
            Condition::MeetingActionOverdue => {
                "An action agreed at the IHA assurance meeting, assigned to you, is past its due date."
            }
            Condition::LikelyLate => {
                "The tracker's forecast, worked out from how long each remaining step has taken in similar \
                 cases, says this health assessment is likely to miss its due date. The case shows the step \
                 that drives the risk."
            }
        }
    }

    /// What the reader is asked to do.
    pub fn asks(self) -> &'static str {
        match self {
            Condition::IhaNotificationLate => {
                "Please send the health notification today, or tell the CLA health team why it cannot be sent."
            }
            Condition::IhaConsentLate => {
                "Please obtain and send the signed consent and paperwork to the CLA health team, \
                 or tell them who holds parental responsibility and when consent is expected."
            }
            Condition::IhaNotBooked => {
                "Please book an appointment before the statutory due date and record it, \
                 or record what is preventing the booking."
            }
            Condition::IhaAppointmentLate => {
                "Please make sure the child is seen before the statutory due date, \
                 rebooking with an earlier clinic if needed."
            }
            Condition::IhaReportLate => {
                "Please complete the report and return it to the local authority, and record its return."
            }
            Condition::IhaBreached => {
                "Please review why the assessment is late, agree a date it will be done, \
                 and make sure the delay and its cause are recorded."
            }
            Condition::RhaDueUnbooked => "Please book the review before its due date and record the appointment.",
            Condition::RhaOverdue => "Please arrange the review as a priority and record the reason for the delay.",
            Condition::WasNotBrought => {
                "Please find out why the child was not brought, agree a new appointment with the carer, \
                 and make sure the child is brought to it."
            }
            Condition::RepeatedNonAttendance => {
                "Please review the plan for this child's health assessment together: the barriers to attending, \
                 whether a Brief Health Summary is needed, and who will bring the child next time."
            }
            Condition::OutOfAreaNotAcknowledged => {
                "Please acknowledge the request and confirm who will carry out the assessment, \
                 or tell us if it should be seen by the home team."
            }
            Condition::OutOfAreaNoAppointmentOffered => {
                "Please offer an appointment that allows the assessment to be completed by its due date, \
                 and tell us the date."
            }
            Condition::MeetingActionOverdue => {
                "Please open the case, complete the action and record it as done, \
                 or tell the assurance meeting why it cannot be done."
            }
            Condition::LikelyLate => {
                "Please open the case, look at the step that drives the risk, and act on it now, \
                 while there is still time to meet the due date."
            }
        }
    }
}

/// Working-day thresholds for the conditions (practice, not law).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionPolicy {
    pub notify_by: i32,
    pub consent_by: i32,
    pub booked_by: i32,
    pub appointment_by: i32,
    pub report_by: i32,
    pub rha_booking_lead_working_days: i32,
    pub ooa_ack_within: i32,
    pub ooa_offer_within: i32,
}

impl Default for ConditionPolicy {
    fn default() -> Self {
        ConditionPolicy {
            notify_by: 2,
            consent_by: 5,
            booked_by: 10,
            appointment_by: 15,
            report_by: 20,
            rha_booking_lead_working_days: 20,
            ooa_ack_within: 5,
            ooa_offer_within: 10,
        }
    }
}

impl ConditionPolicy {
    /// Takes the milestones the status screens use from the settings' `ClockPolicy`, so
    /// an amber milestone on screen and its escalation mail agree on the day.
    pub fn with_clock(self, clock: &ClockPolicy) -> ConditionPolicy {
        ConditionPolicy {
            notify_by: clock.notify_by,
            consent_by: clock.consent_by,
            appointment_by: clock.appointment_by,
            report_by: clock.report_by,
            rha_booking_lead_working_days: clock.rha_booking_lead_working_days,
            ..self
        }
    }
}

/// One spell of a condition holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The first day the condition held.
    pub since: NaiveDate,
    /// Tells separate occurrences of one condition apart: "" for most; the non-attendance
    /// date (YYYY-MM-DD) for was_not_brought and repeated_non_attendance.
    pub key: String,
}

impl Occurrence {
    fn from(since: NaiveDate) -> Occurrence {
        Occurrence {
            since,
            key: String::new(),
        }
    }

    fn keyed_by_date(date: NaiveDate) -> Occurrence {
        Occurrence {
            since: date,
            key: date.format("%Y-%m-%d").to_string(),
        }
    }
}

/// Whether `condition` holds for the assessment on `as_of`, and since when.
pub fn holds(
    condition: Condition,
    facts: &AssessmentFacts,
    cal: &Calendar,
    as_of: NaiveDate,
    policy: &ConditionPolicy,
) -> Option<Occurrence> {
    if !facts.state.is_open() || facts.state == State::Refused {
        return None;
    }
    let on = On { facts, cal, as_of };
    match condition {
        Condition::IhaNotificationLate => on.iha_step(policy.notify_by, facts.notified_on),
        Condition::IhaConsentLate => on.iha_step(policy.consent_by, facts.consent_on),
        Condition::IhaNotBooked => on.iha_step(policy.booked_by, facts.first_booked_on),
        Condition::IhaAppointmentLate => on.iha_step(policy.appointment_by, facts.seen_on),
        Condition::IhaReportLate => on.iha_step(policy.report_by, on.report_back()),
        Condition::IhaBreached => on.past_due(Kind::Iha),
        Condition::RhaDueUnbooked => on.rha_unbooked(policy.rha_booking_lead_working_days),
        Condition::RhaOverdue => on.past_due(Kind::Rha),
        Condition::WasNotBrought => on.was_not_brought(),
        Condition::RepeatedNonAttendance => on.repeated_non_attendance(),
        Condition::OutOfAreaNotAcknowledged => on.host_step(policy.ooa_ack_within, |oa| oa.acknowledged_on),
        Condition::OutOfAreaNoAppointmentOffered => {
            on.host_step(policy.ooa_offer_within, |oa| oa.appointment_offered_on)
        }
        // About an action, or the forecast: not the assessment's facts alone.
        Condition::MeetingActionOverdue | Condition::LikelyLate => None,
    }
}

/// An assessment looked at on one day.
struct On<'a> {
    facts: &'a AssessmentFacts,
    cal: &'a Calendar,
    as_of: NaiveDate,
}

impl On<'_> {
    /// The fact happened by `as_of` (a later date has not happened yet).
    fn done(&self, fact: Option<NaiveDate>) -> bool {
        fact.is_some_and(|d| d <= self.as_of)
    }

    /// Late from the day after `deadline` while `fact` has not happened.
    fn late_after(&self, deadline: NaiveDate, fact: Option<NaiveDate>) -> Option<Occurrence> {
        let since = deadline.succ_opt()?;
        (self.as_of >= since && !self.done(fact)).then(|| Occurrence::from(since))
    }

    /// The report is what is due: its arrival, else the recorded completion.
    fn report_back(&self) -> Option<NaiveDate> {
        self.facts.report_received_on.or(self.facts.completed_on)
    }

    fn iha_step(&self, by_day: i32, fact: Option<NaiveDate>) -> Option<Occurrence> {
        if self.facts.kind != Kind::Iha {
            return None;
        }
        let deadline = self.cal.add_working_days(self.facts.clock_started_on, by_day);
        self.late_after(deadline, fact)
    }

    fn past_due(&self, kind: Kind) -> Option<Occurrence> {
        if self.facts.kind != kind {
            return None;
        }
        self.late_after(self.facts.due_on, self.report_back())
    }

    fn rha_unbooked(&self, lead: i32) -> Option<Occurrence> {
        let f = self.facts;
        let waiting = matches!(f.state, State::Scheduled | State::AwaitingBooking);
        if f.kind != Kind::Rha || !waiting || self.done(f.first_booked_on) {
            return None;
        }
        let since = self.cal.add_working_days(f.due_on, -lead);
        (self.as_of >= since).then(|| Occurrence::from(since))
    }

    /// The last non-attendance on or before `as_of`, if the child has not been seen since.
    fn unresolved_non_attendance(&self) -> Option<(NaiveDate, Outcome)> {
        let (date, outcome) = self.facts.last_non_attendance?;
        let seen_since = self
            .facts
            .seen_on
            .is_some_and(|seen| seen >= date && seen <= self.as_of);
        (date <= self.as_of && !seen_since).then_some((date, outcome))
    }

    fn was_not_brought(&self) -> Option<Occurrence> {
        match self.unresolved_non_attendance()? {
            (date, Outcome::WasNotBrought) => Some(Occurrence::keyed_by_date(date)),
            _ => None,
        }
    }

    /// The count only grows until the child is seen (attendance moves the assessment on),
    /// so two or more with the last one unresolved are "in a row".
    fn repeated_non_attendance(&self) -> Option<Occurrence> {
        if self.facts.non_attendance_count < 2 {
            return None;
        }
        let (date, _) = self.unresolved_non_attendance()?;
        Some(Occurrence::keyed_by_date(date))
    }

    fn host_step(
        &self,
        within: i32,
        fact: impl Fn(&crate::status::OutOfAreaFacts) -> Option<NaiveDate>,
    ) -> Option<Occurrence> {
        let oa = self.facts.out_of_area.as_ref()?;
        let requested = oa.requested_on.filter(|r| *r <= self.as_of)?;
        // A report back means the host has done the whole job, whatever was recorded on the way.
        if self.done(oa.report_received_on) {
            return None;
        }
        self.late_after(self.cal.add_working_days(requested, within), fact(oa))
    }
}

/// Whether `level` of a rule is due: on or after `after_working_days` working days from
/// the day the condition began to hold (0: that day itself).
pub fn level_due(level: &Level, occurrence: &Occurrence, cal: &Calendar, as_of: NaiveDate) -> bool {
    as_of >= cal.add_working_days(occurrence.since, level.after_working_days)
}

/// One (rule, level) that should have fired by `as_of` for one assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub rule_id: String,
    pub condition: Condition,
    pub level: u8,
    /// The occurrence key: (assessment, rule_id, level, key) fires once.
    pub key: String,
    pub since: NaiveDate,
}

/// Every (rule, level) due on `as_of` for the assessment, in ladder order. Levels that
/// became due while the sweep was not running are all listed; the caller fires those not
/// yet recorded.
pub fn plan(
    ladder: &Ladder,
    facts: &AssessmentFacts,
    cal: &Calendar,
    as_of: NaiveDate,
    policy: &ConditionPolicy,
) -> Vec<Due> {
    plan_with(ladder, facts, None, cal, as_of, policy)
}

/// As [`plan`], with the assessment's lateness forecast on `as_of` (None: no forecast).
/// A `likely_late` rule holds while `p_late` is at or above its `p_late_at_least`. Its one
/// occurrence has the key "", so it fires once per assessment: a forecast that drops below
/// the threshold resolves it, and crossing again later does not send it again. Rules with
/// `enabled = false` never hold.
pub fn plan_with(
    ladder: &Ladder,
    facts: &AssessmentFacts,
    p_late: Option<f64>,
    cal: &Calendar,
    as_of: NaiveDate,
    policy: &ConditionPolicy,
) -> Vec<Due> {
    let mut due = Vec::new();
    for rule in ladder.rules.iter().filter(|r| r.enabled) {
        let occurrence = match (rule.condition, rule.p_late_at_least) {
            (Condition::LikelyLate, Some(at_least)) => likely_late(facts, p_late, at_least, as_of),
            (condition, _) => holds(condition, facts, cal, as_of, policy),
        };
        let Some(occurrence) = occurrence else {
            continue;
        };
        for level in rule.levels.iter().filter(|l| level_due(l, &occurrence, cal, as_of)) {
            due.push(Due {
                rule_id: rule.id.clone(),
                condition: rule.condition,
                level: level.level,
                key: occurrence.key.clone(),
                since: occurrence.since,
            });
        }
    }
    due
}

/// The `likely_late` occurrence: open, and forecast at or above the threshold. Its day is
/// `as_of` (the forecast has no "since"), so the rule file allows it one level, at 0.
fn likely_late(facts: &AssessmentFacts, p_late: Option<f64>, at_least: f64, as_of: NaiveDate) -> Option<Occurrence> {
    let open = facts.state.is_open() && facts.state != State::Refused;
    (open && p_late.is_some_and(|p| p >= at_least)).then(|| Occurrence::from(as_of))
}

/// Whether an open escalation for (`rule_id`, `key`) on this assessment has cleared: its
/// condition no longer holds (or its rule left the ladder), so it is marked resolved.
pub fn cleared(plan: &[Due], rule_id: &str, key: &str) -> bool {
    !plan.iter().any(|d| d.rule_id == rule_id && d.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::rules::parse;
    use crate::status::{iha_due_on, OutOfAreaFacts};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    /// Built once: the working-day table takes a moment to build in a debug build.
    fn cal() -> Calendar {
        static CAL: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        CAL.get_or_init(Calendar::rules_only).clone()
    }

    /// Day 0 Fri 19 Dec 2025: day 2 Tue 23 Dec, day 5 Tue 30 Dec (Christmas and Boxing
    /// Day skipped), day 10 Wed 7 Jan, day 15 Wed 14 Jan, day 20 (due) Wed 21 Jan 2026.
    fn iha(state: State) -> AssessmentFacts {
        let day0 = d(2025, 12, 19);
        let due = iha_due_on(&cal(), day0, &ClockPolicy::default());
        AssessmentFacts::new(Kind::Iha, state, day0, due)
    }

    fn rha(state: State) -> AssessmentFacts {
        AssessmentFacts::new(Kind::Rha, state, d(2025, 6, 2), d(2026, 6, 2))
    }

    fn check(c: Condition, f: &AssessmentFacts, as_of: NaiveDate) -> Option<Occurrence> {
        holds(c, f, &cal(), as_of, &ConditionPolicy::default())
    }

    fn since(c: Condition, f: &AssessmentFacts, as_of: NaiveDate) -> Option<NaiveDate> {
        check(c, f, as_of).map(|o| o.since)
    }

    #[test]
    fn the_worked_example_dates_are_right() {
        let c = cal();
        let day0 = d(2025, 12, 19);
        assert_eq!(c.add_working_days(day0, 5), d(2025, 12, 30));
        assert_eq!(iha(State::AwaitingConsent).due_on, d(2026, 1, 21));
    }

    #[test]
    fn notification_late_holds_from_the_day_after_day_two() {
        let f = iha(State::AwaitingNotification);
        assert_eq!(since(Condition::IhaNotificationLate, &f, d(2025, 12, 23)), None);
        assert_eq!(
            since(Condition::IhaNotificationLate, &f, d(2025, 12, 24)),
            Some(d(2025, 12, 24))
        );
    }

    #[test]
    fn consent_late_holds_from_day_six() {
        let mut f = iha(State::AwaitingConsent);
        f.notified_on = Some(d(2025, 12, 22));
        assert_eq!(
            since(Condition::IhaConsentLate, &f, d(2025, 12, 30)),
            None,
            "day 5 is not late"
        );
        let occ = check(Condition::IhaConsentLate, &f, d(2025, 12, 31));
        assert_eq!(
            occ,
            Some(Occurrence {
                since: d(2025, 12, 31),
                key: String::new()
            })
        );
    }

    #[test]
    fn not_booked_appointment_and_report_follow_their_days() {
        let f = iha(State::AwaitingBooking);
        assert_eq!(since(Condition::IhaNotBooked, &f, d(2026, 1, 7)), None);
        assert_eq!(since(Condition::IhaNotBooked, &f, d(2026, 1, 8)), Some(d(2026, 1, 8)));
        assert_eq!(since(Condition::IhaAppointmentLate, &f, d(2026, 1, 14)), None);
        assert_eq!(
            since(Condition::IhaAppointmentLate, &f, d(2026, 1, 20)),
            Some(d(2026, 1, 15))
        );
        assert_eq!(
            since(Condition::IhaReportLate, &f, d(2026, 1, 22)),
            Some(d(2026, 1, 22))
        );
        assert_eq!(since(Condition::IhaBreached, &f, d(2026, 1, 21)), None);
        assert_eq!(since(Condition::IhaBreached, &f, d(2026, 1, 22)), Some(d(2026, 1, 22)));
    }

    #[test]
    fn condition_clears_when_the_step_is_done() {
        let mut f = iha(State::AwaitingBooking);
        f.notified_on = Some(d(2025, 12, 22));
        f.consent_on = Some(d(2026, 1, 2));
        assert_eq!(check(Condition::IhaConsentLate, &f, d(2026, 1, 5)), None);
        // Until the day it happened, it was still late.
        assert!(check(Condition::IhaConsentLate, &f, d(2025, 12, 31)).is_some());
    }

    #[test]
    fn a_report_back_clears_the_report_and_breach_conditions() {
        let mut f = iha(State::AwaitingReport);
        f.seen_on = Some(d(2026, 1, 13));
        f.report_received_on = Some(d(2026, 1, 26));
        assert!(check(Condition::IhaReportLate, &f, d(2026, 1, 23)).is_some());
        assert!(check(Condition::IhaBreached, &f, d(2026, 1, 23)).is_some());
        assert_eq!(check(Condition::IhaReportLate, &f, d(2026, 1, 26)), None);
        assert_eq!(check(Condition::IhaBreached, &f, d(2026, 1, 26)), None);
    }

    #[test]
    fn closed_completed_not_required_and_refused_hold_nothing() {
        for state in [State::Completed, State::Closed, State::NotRequired, State::Refused] {
            let f = iha(state);
            for c in Condition::ALL {
                assert_eq!(check(*c, &f, d(2026, 3, 1)), None, "{state} {c}");
            }
        }
    }

    #[test]
    fn iha_conditions_never_hold_for_an_rha_and_rha_ones_never_for_an_iha() {
        let r = rha(State::Scheduled);
        let i = iha(State::AwaitingNotification);
        let later = d(2027, 1, 1);
        for c in [
            Condition::IhaNotificationLate,
            Condition::IhaBreached,
            Condition::IhaReportLate,
        ] {
            assert_eq!(check(c, &r, later), None, "{c}");
        }
        for c in [Condition::RhaDueUnbooked, Condition::RhaOverdue] {
            assert_eq!(check(c, &i, later), None, "{c}");
        }
    }

    #[test]
    fn rha_due_unbooked_holds_from_twenty_working_days_before_due() {
        let f = rha(State::Scheduled);
        // Tue 2 Jun 2026 less 20 working days, skipping the bank holidays Mon 25 May and
        // Mon 4 May: Fri 1 May.
        let from = cal().add_working_days(f.due_on, -20);
        assert_eq!(from, d(2026, 5, 1));
        assert_eq!(since(Condition::RhaDueUnbooked, &f, d(2026, 4, 30)), None);
        assert_eq!(since(Condition::RhaDueUnbooked, &f, from), Some(from));
        let mut booked = rha(State::Booked);
        booked.first_booked_on = Some(d(2026, 5, 6));
        assert_eq!(check(Condition::RhaDueUnbooked, &booked, d(2026, 5, 7)), None);
    }

    #[test]
    fn rha_overdue_holds_from_the_day_after_due() {
        let f = rha(State::Booked);
        assert_eq!(since(Condition::RhaOverdue, &f, d(2026, 6, 2)), None);
        assert_eq!(since(Condition::RhaOverdue, &f, d(2026, 6, 10)), Some(d(2026, 6, 3)));
    }

    #[test]
    fn was_not_brought_holds_until_the_child_is_seen() {
        let mut f = rha(State::AwaitingBooking);
        f.first_booked_on = Some(d(2026, 4, 1));
        f.last_non_attendance = Some((d(2026, 4, 20), Outcome::WasNotBrought));
        f.non_attendance_count = 1;
        let occ = check(Condition::WasNotBrought, &f, d(2026, 4, 20));
        assert_eq!(
            occ.map(|o| (o.since, o.key)),
            Some((d(2026, 4, 20), "2026-04-20".to_string()))
        );
        assert_eq!(check(Condition::WasNotBrought, &f, d(2026, 4, 19)), None);
        assert_eq!(
            check(Condition::RepeatedNonAttendance, &f, d(2026, 4, 21)),
            None,
            "only one"
        );
        f.seen_on = Some(d(2026, 5, 1));
        f.state = State::AwaitingReport;
        assert_eq!(check(Condition::WasNotBrought, &f, d(2026, 5, 1)), None);
    }

    #[test]
    fn a_young_persons_own_non_attendance_is_not_was_not_brought() {
        let mut f = rha(State::AwaitingBooking);
        f.last_non_attendance = Some((d(2026, 4, 20), Outcome::DidNotAttend));
        f.non_attendance_count = 1;
        assert_eq!(check(Condition::WasNotBrought, &f, d(2026, 4, 21)), None);
    }

    #[test]
    fn new_was_not_brought_is_a_new_occurrence() {
        let ladder = parse(include_str!("../../config/escalations.toml")).unwrap_or_else(|e| panic!("{e}"));
        let policy = ConditionPolicy::default();
        let mut f = rha(State::AwaitingBooking);
        f.last_non_attendance = Some((d(2026, 4, 20), Outcome::WasNotBrought));
        f.non_attendance_count = 1;
        let first = plan(&ladder, &f, &cal(), d(2026, 4, 20), &policy);
        let wnb: Vec<&Due> = first
            .iter()
            .filter(|x| x.condition == Condition::WasNotBrought)
            .collect();
        assert_eq!(wnb.len(), 1);
        let first_key = wnb[0].key.clone();

        f.last_non_attendance = Some((d(2026, 5, 6), Outcome::WasNotBrought));
        f.non_attendance_count = 2;
        let second = plan(&ladder, &f, &cal(), d(2026, 5, 6), &policy);
        let rule = &wnb[0].rule_id;
        assert!(cleared(&second, rule, &first_key), "the first occurrence resolves");
        assert!(!cleared(&second, rule, "2026-05-06"), "the second is open and fires");
        assert!(second
            .iter()
            .any(|x| x.condition == Condition::RepeatedNonAttendance && x.key == "2026-05-06"));
    }

    #[test]
    fn repeated_non_attendance_needs_two_in_a_row() {
        let mut f = iha(State::AwaitingBooking);
        f.last_non_attendance = Some((d(2026, 1, 12), Outcome::CancelledByCarer));
        f.non_attendance_count = 2;
        let occ = check(Condition::RepeatedNonAttendance, &f, d(2026, 1, 12));
        assert_eq!(occ.map(|o| o.key), Some("2026-01-12".to_string()));
        f.seen_on = Some(d(2026, 1, 14));
        assert_eq!(check(Condition::RepeatedNonAttendance, &f, d(2026, 1, 14)), None);
    }

    fn out_of_area(requested: NaiveDate) -> AssessmentFacts {
        let mut f = iha(State::AwaitingBooking);
        f.out_of_area = Some(OutOfAreaFacts {
            requested_on: Some(requested),
            ..OutOfAreaFacts::default()
        });
        f
    }

    #[test]
    fn out_of_area_request_not_acknowledged_within_five_working_days() {
        // Requested Fri 19 Dec 2025: the 5th working day is Tue 30 Dec.
        let f = out_of_area(d(2025, 12, 19));
        assert_eq!(since(Condition::OutOfAreaNotAcknowledged, &f, d(2025, 12, 30)), None);
        assert_eq!(
            since(Condition::OutOfAreaNotAcknowledged, &f, d(2025, 12, 31)),
            Some(d(2025, 12, 31))
        );
        let mut acked = f.clone();
        if let Some(oa) = acked.out_of_area.as_mut() {
            oa.acknowledged_on = Some(d(2026, 1, 2));
        }
        assert_eq!(check(Condition::OutOfAreaNotAcknowledged, &acked, d(2026, 1, 2)), None);
    }

    #[test]
    fn out_of_area_no_appointment_offered_within_ten_working_days() {
        let mut f = out_of_area(d(2025, 12, 19));
        assert_eq!(since(Condition::OutOfAreaNoAppointmentOffered, &f, d(2026, 1, 7)), None);
        assert_eq!(
            since(Condition::OutOfAreaNoAppointmentOffered, &f, d(2026, 1, 8)),
            Some(d(2026, 1, 8))
        );
        if let Some(oa) = f.out_of_area.as_mut() {
            oa.report_received_on = Some(d(2026, 1, 9));
        }
        assert_eq!(check(Condition::OutOfAreaNoAppointmentOffered, &f, d(2026, 1, 9)), None);
    }

    #[test]
    fn a_request_made_after_as_of_does_not_count_yet() {
        let f = out_of_area(d(2026, 1, 20));
        assert_eq!(check(Condition::OutOfAreaNotAcknowledged, &f, d(2026, 1, 10)), None);
    }

    #[test]
    fn each_level_fires_on_its_working_day() {
        // Consent late from Wed 31 Dec 2025; three working days on skips New Year's Day and
        // the weekend (Fri 2, Mon 5, Tue 6): Tue 6 Jan 2026.
        let c = cal();
        let occ = Occurrence::from(d(2025, 12, 31));
        let level = |after| Level {
            level: 1,
            after_working_days: after,
            recipients: vec![],
        };
        assert!(level_due(&level(0), &occ, &c, d(2025, 12, 31)));
        assert!(!level_due(&level(0), &occ, &c, d(2025, 12, 30)));
        assert!(!level_due(&level(3), &occ, &c, d(2026, 1, 5)));
        assert!(level_due(&level(3), &occ, &c, d(2026, 1, 6)));
    }

    #[test]
    fn plan_lists_each_due_level_once_in_ladder_order() {
        let text = "[[rule]]\nid = \"consent\"\ncondition = \"iha_consent_late\"\ntemplate = \"step_late\"\n\
            [[rule.level]]\nlevel = 1\nafter_working_days = 0\nrecipients = [\"social_worker\"]\n\
            [[rule.level]]\nlevel = 2\nafter_working_days = 3\nrecipients = [\"la_team_manager\"]\n";
        let ladder = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let f = iha(State::AwaitingConsent);
        let p = ConditionPolicy::default();
        let levels = |as_of| -> Vec<u8> { plan(&ladder, &f, &cal(), as_of, &p).iter().map(|x| x.level).collect() };
        assert!(levels(d(2025, 12, 30)).is_empty());
        assert_eq!(levels(d(2025, 12, 31)), [1]);
        assert_eq!(levels(d(2026, 1, 5)), [1]);
        assert_eq!(levels(d(2026, 1, 6)), [1, 2]);
        let due = plan(&ladder, &f, &cal(), d(2026, 1, 6), &p);
        assert_eq!(due[1].since, d(2025, 12, 31));
        assert!(!cleared(&due, "consent", ""));
        let mut done = f.clone();
        done.consent_on = Some(d(2026, 1, 7));
        done.state = State::AwaitingBooking;
        assert!(cleared(&plan(&ladder, &done, &cal(), d(2026, 1, 7), &p), "consent", ""));
    }

    #[test]
    fn shipped_ladder_plans_the_expected_escalations_for_a_stalled_iha() {
        let ladder = parse(include_str!("../../config/escalations.toml")).unwrap_or_else(|e| panic!("{e}"));
        let f = iha(State::AwaitingNotification);
        let due = plan(&ladder, &f, &cal(), d(2026, 1, 22), &ConditionPolicy::default());
        for c in [
            Condition::IhaNotificationLate,
            Condition::IhaConsentLate,
            Condition::IhaNotBooked,
            Condition::IhaAppointmentLate,
            Condition::IhaReportLate,
            Condition::IhaBreached,
        ] {
            assert!(due.iter().any(|x| x.condition == c), "{c} missing from {due:?}");
        }
    }

    #[test]
    fn policy_takes_the_clock_milestones() {
        let clock = ClockPolicy {
            consent_by: 7,
            ..ClockPolicy::default()
        };
        let p = ConditionPolicy::default().with_clock(&clock);
        assert_eq!((p.consent_by, p.booked_by), (7, 10));
    }

    #[test]
    fn likely_late_holds_at_or_above_its_threshold_while_enabled_and_open() {
        let rule = |enabled: bool| {
            parse(&format!(
                "[[rule]]\nid = \"ll\"\ncondition = \"likely_late\"\ntemplate = \"forecast\"\n\
                 enabled = {enabled}\np_late_at_least = 0.7\n\
                 [[rule.level]]\nlevel = 1\nafter_working_days = 0\nrecipients = [\"health_admin_mailbox\"]\n"
            ))
            .expect("rule")
        };
        let cal = cal();
        let policy = ConditionPolicy::default();
        let on = d(2026, 3, 2);
        let f = iha(State::AwaitingConsent);
        let fired = |ladder: &Ladder, f: &AssessmentFacts, p: Option<f64>| {
            plan_with(ladder, f, p, &cal, on, &policy)
                .iter()
                .map(|due| (due.rule_id.clone(), due.level, due.key.clone()))
                .collect::<Vec<_>>()
        };
        let ladder = rule(true);
        assert_eq!(
            fired(&ladder, &f, Some(0.7)),
            vec![("ll".to_string(), 1, String::new())]
        );
        assert_eq!(fired(&ladder, &f, Some(0.95)).len(), 1);
        assert!(fired(&ladder, &f, Some(0.69)).is_empty());
        assert!(fired(&ladder, &f, None).is_empty(), "no forecast, nothing");
        assert!(fired(&rule(false), &f, Some(0.95)).is_empty(), "off");
        assert!(fired(&ladder, &iha(State::Refused), Some(0.95)).is_empty());
        assert!(plan(&ladder, &f, &cal, on, &policy).is_empty(), "plan has no forecast");
    }

    #[test]
    fn every_condition_has_words_for_the_mail() {
        for c in Condition::ALL {
            assert!(c.describe().ends_with('.') && c.asks().starts_with("Please"), "{c}");
            assert!(!c.headline(Kind::Rha).is_empty());
            assert_eq!(Condition::from_name(c.as_str()), Some(*c));
        }
    }
}
