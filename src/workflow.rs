//! The IHA and RHA state machines: which step may be recorded in which state, and where it
//! leads. Pure: the database layer loads the state, asks [`transition`], and stores the
//! answer, so a refused step changes nothing.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Error from parsing one of the enums here: names the value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}; must be one of: {}",
            self.what,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for ParseError {}

/// Implements `as_str`, `ALL`, `Display` and `FromStr` from one name table, so the text
/// forms used in the database, the API and messages cannot drift apart.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            const NAMES: &'static [&'static str] = &[$($name),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(ParseError { what: $what, value: s.to_string(), expected: $ty::NAMES }),
                }
            }
        }
    };
}

/// Initial or Review Health Assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Kind {
    #[serde(rename = "IHA")]
    Iha,
    #[serde(rename = "RHA")]
    Rha,
}

named_enum!(Kind, "assessment kind", { Iha => "IHA", Rha => "RHA" });

impl Kind {
    /// The states an assessment of this kind can be in. An RHA is scheduled from the last
    /// assessment, so it has no notification or consent stage of its own and is never
    /// "not required"; an IHA starts from notification, never from a schedule.
    pub fn states(self) -> &'static [State] {
        use State::*;
        match self {
            Kind::Iha => &[
                AwaitingNotification,
                AwaitingConsent,
                AwaitingBooking,
                Booked,
                AwaitingReport,
                Completed,
                Refused,
                NotRequired,
                Closed,
            ],
            Kind::Rha => &[
                Scheduled,
                AwaitingBooking,
                Booked,
                AwaitingReport,
                Completed,
                Refused,
                Closed,
            ],
        }
    }

    pub fn has_state(self, state: State) -> bool {
        self.states().contains(&state)
    }

    /// The state a new assessment of this kind starts in.
    pub fn initial_state(self) -> State {
        match self {
            Kind::Iha => State::AwaitingNotification,
            Kind::Rha => State::Scheduled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    AwaitingNotification,
    AwaitingConsent,
    AwaitingBooking,
    Booked,
    AwaitingReport,
    Completed,
    Refused,
    NotRequired,
    Closed,
    Scheduled,
}

named_enum!(State, "state", {
    AwaitingNotification => "awaiting_notification",
    AwaitingConsent => "awaiting_consent",
    AwaitingBooking => "awaiting_booking",
    Booked => "booked",
    AwaitingReport => "awaiting_report",
    Completed => "completed",
    Refused => "refused",
    NotRequired => "not_required",
    Closed => "closed",
    Scheduled => "scheduled",
});

impl State {
    /// Whether the obligation is still live. `refused` counts as open: the refusal comes
    /// with a plan to offer again, and it must still be closed when the period of care ends
    /// or the child turns 18. Only completed, not_required and closed are final.
    pub fn is_open(self) -> bool {
        !self.is_final()
    }

    /// Completed, not required or closed: no step is accepted any more.
    pub fn is_final(self) -> bool {
        matches!(self, State::Completed | State::NotRequired | State::Closed)
    }

    /// Ended without completion (the API's refused, not_required and closed).
    pub fn is_ended_without_completion(self) -> bool {
        matches!(self, State::Refused | State::NotRequired | State::Closed)
    }
}

/// Which side an appointment outcome is down to, for breach attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The LA or the carer it placed the child with.
    LocalAuthority,
    /// The health provider.
    Health,
    /// The young person's own choice: recorded, not a service failure.
    YoungPerson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Attended,
    WasNotBrought,
    DidNotAttend,
    Refused,
    CancelledByCarer,
    CancelledByLa,
    CancelledByProvider,
    NoAccess,
}

named_enum!(Outcome, "outcome", {
    Attended => "attended",
    WasNotBrought => "was_not_brought",
    DidNotAttend => "did_not_attend",
    Refused => "refused",
    CancelledByCarer => "cancelled_by_carer",
    CancelledByLa => "cancelled_by_la",
    CancelledByProvider => "cancelled_by_provider",
    NoAccess => "no_access",
});

impl Outcome {
    /// Only `attended` means the child was seen; everything else sends the assessment back
    /// to booking.
    pub fn is_attendance(self) -> bool {
        self == Outcome::Attended
    }

    /// Cancelled before the day by the carer, the LA or the provider: known (and dated)
    /// the day the cancellation was made, not the appointment's day.
    pub fn is_cancellation(self) -> bool {
        matches!(
            self,
            Outcome::CancelledByCarer | Outcome::CancelledByLa | Outcome::CancelledByProvider
        )
    }

    /// The child missed the appointment (not brought, did not attend, no access). A
    /// cancellation is not: the child was never given the chance; nor a refusal, which
    /// has its own path (refusal, re-offer).
    pub fn is_non_attendance(self) -> bool {
        matches!(self, Outcome::WasNotBrought | Outcome::DidNotAttend | Outcome::NoAccess)
    }

    /// Whose side a non-attendance is on (`None` for attended).
    ///
    /// - was_not_brought, cancelled_by_carer, cancelled_by_la: getting a child to an
    ///   appointment is the carer's job and the carer acts for the LA, so these are LA-side
    ///   (the assurance meeting's "child not brought").
    /// - no_access: the clinician came (or the child came) but could not get access to the
    ///   child at the placement; the placement is the LA's arrangement, so LA-side.
    /// - cancelled_by_provider: no clinician or clinic, health-side.
    /// - did_not_attend, refused: a young person attending on their own chose not to come,
    ///   or declined; recorded and visible, but not a service failure.
    pub fn responsible_side(self) -> Option<Side> {
        match self {
            Outcome::Attended => None,
            Outcome::WasNotBrought | Outcome::CancelledByCarer | Outcome::CancelledByLa | Outcome::NoAccess => {
                Some(Side::LocalAuthority)
            }
            Outcome::CancelledByProvider => Some(Side::Health),
            Outcome::DidNotAttend | Outcome::Refused => Some(Side::YoungPerson),
        }
    }
}

/// A workflow step. Step names (see [`Event::name`]) are the API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Notify,
    ConfirmConsent,
    RefuseConsent,
    OpenBooking,
    Book,
    RecordOutcome(Outcome),
    Complete,
    Reoffer,
    MarkNotRequired,
    Close,
    /// The consent an open IHA relied on was withdrawn (a consequence of recording the
    /// withdrawal, not a step of its own, so not in [`Event::STEPS`]).
    WithdrawConsent,
    /// A completion by brief health summary (the `completion` step with that method, so
    /// not in [`Event::STEPS`]): an RHA only, with or without a booking; the service
    /// first checks [`brief_health_summary_refusal`].
    CompleteBySummary,
    /// A completion done before the tracker held the child, loaded from the team's
    /// spreadsheet (`import health-checks`; the `completion` step, so not in
    /// [`Event::STEPS`]): the steps that led to it were never recorded, so it is accepted
    /// from any open state but a refusal (a refusal is re-offered first).
    RecordCompleted,
}

impl Event {
    /// One event per step, in the order steps are listed in messages.
    pub const STEPS: [Event; 10] = [
        Event::Notify,
        Event::ConfirmConsent,
        Event::OpenBooking,
        Event::Book,
        Event::RecordOutcome(Outcome::Attended),
        Event::Complete,
        Event::RefuseConsent,
        Event::Reoffer,
        Event::MarkNotRequired,
        Event::Close,
    ];

    /// The API's step name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Notify => "notification",
            Event::ConfirmConsent => "consent",
            Event::RefuseConsent => "refusal",
            Event::OpenBooking => "booking_window",
            Event::Book => "appointment",
            Event::RecordOutcome(_) => "outcome",
            Event::Complete => "completion",
            Event::Reoffer => "reoffer",
            Event::MarkNotRequired => "not_required",
            Event::Close => "close",
            Event::WithdrawConsent => "consent_withdrawal",
            Event::CompleteBySummary => "completion",
            Event::RecordCompleted => "completion",
        }
    }
}

/// A step refused in the current state (the API's 409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: Kind,
    pub state: State,
    pub event: &'static str,
    pub allowed: Vec<&'static str>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot record {} on an {} in state {}; ",
            self.event, self.kind, self.state
        )?;
        if self.allowed.is_empty() {
            write!(f, "nothing can be recorded from {}", self.state)
        } else {
            write!(f, "allowed from {}: {}", self.state, self.allowed.join(", "))
        }
    }
}

impl std::error::Error for Refusal {}

/// The state after `event`, or a [`Refusal`] naming the steps allowed instead.
pub fn transition(kind: Kind, state: State, event: &Event) -> Result<State, Refusal> {
    next_state(kind, state, event).ok_or_else(|| Refusal {
        kind,
        state,
        event: event.name(),
        allowed: allowed_events(kind, state),
    })
}

/// Step names allowed from `state`, in [`Event::STEPS`] order.
pub fn allowed_events(kind: Kind, state: State) -> Vec<&'static str> {
    Event::STEPS
        .iter()
        .filter(|e| next_state(kind, state, e).is_some())
        .map(Event::name)
        .collect()
}

fn next_state(kind: Kind, state: State, event: &Event) -> Option<State> {
    // A state the kind never has (an RHA awaiting notification) accepts nothing, so a
    // corrupted row cannot be walked into a valid-looking one.
    if !kind.has_state(state) || state.is_final() {
        return None;
    }
    match kind {
        Kind::Iha => iha_only(state, event),
        Kind::Rha => rha_only(state, event),
    }
    .or_else(|| common(state, event))
}

/// Steps before booking, which differ by kind.
fn iha_only(state: State, event: &Event) -> Option<State> {
    use State::*;
    match (state, event) {
        (AwaitingNotification, Event::Notify) => Some(AwaitingConsent),
        (AwaitingConsent, Event::ConfirmConsent) => Some(AwaitingBooking),
        (AwaitingBooking, Event::Book) => Some(Booked),
        (AwaitingConsent | AwaitingBooking, Event::RefuseConsent) => Some(Refused),
        // Without the consent it relied on, an IHA waits for consent again.
        (AwaitingBooking | Booked, Event::WithdrawConsent) => Some(AwaitingConsent),
        // An assessment in the 3 months before the period can be found to stand in at
        // any point before an appointment is booked.
        (AwaitingNotification | AwaitingConsent | AwaitingBooking, Event::MarkNotRequired) => Some(NotRequired),
        _ => None,
    }
}

fn rha_only(state: State, event: &Event) -> Option<State> {
    use State::*;
    match (state, event) {
        (Scheduled, Event::OpenBooking) => Some(AwaitingBooking),
        // Booking early, before the window opens, is allowed: an appointment in hand is
        // never worse than one not yet booked.
        (Scheduled | AwaitingBooking, Event::Book) => Some(Booked),
        (Scheduled | AwaitingBooking, Event::RefuseConsent) => Some(Refused),
        (Scheduled | AwaitingBooking | Booked | AwaitingReport, Event::CompleteBySummary) => Some(Completed),
        _ => None,
    }
}

/// "Repeated" non-attendance: two or more. One missed appointment is rebooked, as every
/// non-attendance is; from the second the child has been offered the review and missed it
/// more than once, which is also when the ladder's `repeated_non_attendance` condition
/// escalates, so the summary is allowed exactly when the case is already being escalated.
pub const REPEATED_NON_ATTENDANCE: usize = 2;

/// Why a brief health summary cannot complete this assessment, or `None` when it can
/// (DOMAIN.md "Appointments and was not brought"):
/// - it completes an RHA only: an IHA is a face-to-face assessment by a registered medical
///   practitioner, whatever happened before;
/// - it is written without the child after repeated non-attendance: at least
///   [`REPEATED_NON_ATTENDANCE`] appointments the child missed ([`Outcome::is_non_attendance`]).
pub fn brief_health_summary_refusal(kind: Kind, non_attendances: usize) -> Option<String> {
    match kind {
        Kind::Iha => Some(
            "a brief health summary completes an RHA only: an IHA is a face-to-face assessment \
             by a registered medical practitioner"
                .to_string(),
        ),
        Kind::Rha if non_attendances < REPEATED_NON_ATTENDANCE => Some(format!(
            "a brief health summary is written after repeated non-attendance \
             ({REPEATED_NON_ATTENDANCE} or more appointments missed); this review has {non_attendances}"
        )),
        Kind::Rha => None,
    }
}

/// Steps from booking on, the same for both kinds.
fn common(state: State, event: &Event) -> Option<State> {
    use State::*;
    match (state, event) {
        (Booked, Event::Book) => Some(Booked),
        (Booked, Event::RecordOutcome(o)) if o.is_attendance() => Some(AwaitingReport),
        (Booked, Event::RecordOutcome(_)) => Some(AwaitingBooking),
        (Booked | AwaitingReport, Event::Complete) => Some(Completed),
        (Booked, Event::RefuseConsent) => Some(Refused),
        (Refused, Event::Reoffer) => Some(AwaitingBooking),
        (_, Event::Close) => Some(Closed),
        (s, Event::RecordCompleted) if s != Refused => Some(Completed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    /// Every cell the workflow allows, with where it leads. The outcome column is keyed
    /// by "outcome" for non-attendance and "outcome:attended" for attendance.
    fn expected(kind: Kind, state: State, step: &str) -> Option<State> {
        let iha = kind == Kind::Iha;
        let close = kind.has_state(state) && state.is_open();
        match (state, step) {
            (_, "close") if close => Some(Closed),
            (AwaitingNotification, "notification") if iha => Some(AwaitingConsent),
            (AwaitingConsent, "consent") if iha => Some(AwaitingBooking),
            (Scheduled, "booking_window") if !iha => Some(AwaitingBooking),
            (AwaitingBooking | Booked, "appointment") => Some(Booked),
            (Scheduled, "appointment") if !iha => Some(Booked),
            (Booked, "outcome:attended") => Some(AwaitingReport),
            (Booked, "outcome") => Some(AwaitingBooking),
            (Booked | AwaitingReport, "completion") => Some(Completed),
            (AwaitingConsent, "refusal") if iha => Some(Refused),
            (Scheduled, "refusal") if !iha => Some(Refused),
            (AwaitingBooking | Booked, "refusal") => Some(Refused),
            (Refused, "reoffer") => Some(AwaitingBooking),
            (AwaitingNotification | AwaitingConsent | AwaitingBooking, "not_required") if iha => Some(NotRequired),
            _ => None,
        }
    }

    fn all_events() -> Vec<Event> {
        let mut events: Vec<Event> = Event::STEPS.to_vec();
        events.extend(Outcome::ALL.iter().map(|o| Event::RecordOutcome(*o)));
        events
    }

    fn cell_key(event: &Event) -> &'static str {
        match event {
            Event::RecordOutcome(Outcome::Attended) => "outcome:attended",
            e => e.name(),
        }
    }

    #[test]
    fn every_kind_state_event_cell_goes_where_the_workflow_says() {
        let mut checked = 0;
        for kind in Kind::ALL {
            for state in State::ALL {
                let allowed = allowed_events(*kind, *state);
                for event in all_events() {
                    let got = transition(*kind, *state, &event);
                    match expected(*kind, *state, cell_key(&event)) {
                        Some(to) => assert_eq!(got, Ok(to), "{kind} {state} {event:?}"),
                        None => {
                            let refusal = got.expect_err("should be refused");
                            assert_eq!(refusal.allowed, allowed, "{kind} {state} {event:?}");
                            assert_eq!(refusal.event, event.name());
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 2 * 10 * 18);
    }

    #[test]
    fn an_imported_completion_is_accepted_from_any_open_state_but_a_refusal() {
        for kind in Kind::ALL {
            for state in State::ALL {
                let got = transition(*kind, *state, &Event::RecordCompleted);
                let open = kind.has_state(*state) && state.is_open();
                if open && *state != Refused {
                    assert_eq!(got, Ok(Completed), "{kind} {state}");
                } else {
                    assert!(got.is_err(), "{kind} {state}");
                }
            }
        }
    }

    #[test]
    fn brief_health_summary_completes_an_rha_only_after_repeated_non_attendance() {
        assert!(brief_health_summary_refusal(Kind::Iha, 5).is_some_and(|m| m.contains("face-to-face")));
        assert!(brief_health_summary_refusal(Kind::Rha, 0).is_some());
        assert!(brief_health_summary_refusal(Kind::Rha, 1).is_some_and(|m| m.contains("has 1")));
        assert_eq!(brief_health_summary_refusal(Kind::Rha, 2), None);
        // Without a booking (awaiting booking after the last miss, or still scheduled).
        for state in [Scheduled, AwaitingBooking, Booked, AwaitingReport] {
            assert_eq!(
                transition(Kind::Rha, state, &Event::CompleteBySummary),
                Ok(Completed),
                "{state}"
            );
        }
        for state in State::ALL {
            assert!(
                transition(Kind::Iha, *state, &Event::CompleteBySummary).is_err(),
                "{state}"
            );
        }
        assert!(Outcome::WasNotBrought.is_non_attendance() && Outcome::DidNotAttend.is_non_attendance());
        assert!(!Outcome::CancelledByProvider.is_non_attendance() && !Outcome::Refused.is_non_attendance());
    }

    #[test]
    fn allowed_lists_match_the_table() {
        for kind in Kind::ALL {
            for state in State::ALL {
                let from_table: Vec<&str> = Event::STEPS
                    .iter()
                    .filter(|e| expected(*kind, *state, cell_key(e)).is_some())
                    .map(Event::name)
                    .collect();
                assert_eq!(allowed_events(*kind, *state), from_table, "{kind} {state}");
            }
        }
    }

    #[test]
    fn refusal_names_the_state_and_the_steps_allowed_from_it() {
        let refusal = transition(Kind::Iha, Booked, &Event::Notify).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "cannot record notification on an IHA in state booked; \
             allowed from booked: appointment, outcome, completion, refusal, close"
        );
    }

    #[test]
    fn final_states_accept_nothing() {
        for kind in Kind::ALL {
            for state in [Completed, NotRequired, Closed] {
                assert!(allowed_events(*kind, state).is_empty(), "{kind} {state}");
            }
        }
        let message = transition(Kind::Rha, Completed, &Event::Close).unwrap_err().to_string();
        assert_eq!(
            message,
            "cannot record close on an RHA in state completed; nothing can be recorded from completed"
        );
    }

    #[test]
    fn rha_never_has_notification_consent_or_not_required_and_iha_never_scheduled() {
        for state in [AwaitingNotification, AwaitingConsent, NotRequired] {
            assert!(!Kind::Rha.has_state(state));
            assert!(allowed_events(Kind::Rha, state).is_empty());
        }
        assert!(!Kind::Iha.has_state(Scheduled));
        assert!(allowed_events(Kind::Iha, Scheduled).is_empty());
    }

    #[test]
    fn any_outcome_but_attended_sends_the_assessment_back_to_booking() {
        for outcome in Outcome::ALL {
            let to = transition(Kind::Rha, Booked, &Event::RecordOutcome(*outcome));
            let want = if outcome.is_attendance() {
                AwaitingReport
            } else {
                AwaitingBooking
            };
            assert_eq!(to, Ok(want), "{outcome}");
        }
    }

    #[test]
    fn refused_is_open_so_a_period_end_can_close_it() {
        assert!(Refused.is_open());
        assert_eq!(transition(Kind::Iha, Refused, &Event::Close), Ok(Closed));
        assert_eq!(allowed_events(Kind::Iha, Refused), vec!["reoffer", "close"]);
    }

    #[test]
    fn text_forms_round_trip_and_match_serde() {
        for state in State::ALL {
            assert_eq!(state.as_str().parse::<State>(), Ok(*state));
            let json = format!("\"{}\"", state.as_str());
            assert_eq!(serde_json::to_string(state).ok(), Some(json));
        }
        for outcome in Outcome::ALL {
            assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(*outcome));
            let json = format!("\"{}\"", outcome.as_str());
            assert_eq!(serde_json::to_string(outcome).ok(), Some(json));
        }
        assert_eq!("IHA".parse::<Kind>(), Ok(Kind::Iha));
        assert_eq!("RHA".parse::<Kind>(), Ok(Kind::Rha));
        assert_eq!(serde_json::to_string(&Kind::Iha).ok().as_deref(), Some("\"IHA\""));
        let err = "iha".parse::<Kind>().unwrap_err().to_string();
        assert_eq!(err, "unknown assessment kind \"iha\"; must be one of: IHA, RHA");
    }
}
