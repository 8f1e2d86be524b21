//! How values read on a page, following the NHS digital service manual's content style.
//!
//! Rules:
//! - Dates in full, day first, no leading zero: "21 January 2026"; times in 12-hour form
//!   with am/pm ("10:30am", "noon" and "midnight" spelt out).
//! - NHS numbers in groups of 3, 3 and 4: "999 000 0018".
//! - RAG as an NHS tag whose words say what the colour means, never colour alone.
//! - Time left or overdue in words: "5 working days left", "Due today", "3 days overdue".
//! - Codes (states, blockers, outcomes, SSDA903) are shown as words, with the code where
//!   staff know it by its code.

use chrono::{NaiveDate, NaiveDateTime, Timelike};

use crate::service::views::AssessmentView;
use crate::status::{Attribution, Blocker, MilestoneStatus, Rag};
use crate::workflow::{Kind, Outcome, State};

/// The lateness forecast in words: ("62% likely late, expected 3 March 2027", the driver).
pub fn forecast(f: &crate::service::forecast::ForecastView) -> (String, String) {
    let odds = format!(
        "{:.0}% likely late, expected {}",
        f.p_late * 100.0,
        date(&f.expected_on)
    );
    (odds, f.driver.clone())
}

/// "21 January 2026".
pub fn date(d: &NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// A date, or what to say when there is none.
pub fn date_or(d: &Option<NaiveDate>, none: &str) -> String {
    d.as_ref().map(date).unwrap_or_else(|| none.to_string())
}

/// "10:30am", "2pm", "noon", "midnight".
pub fn time(t: &NaiveDateTime) -> String {
    let (h, m) = (t.hour(), t.minute());
    match (h, m) {
        (0, 0) => "midnight".into(),
        (12, 0) => "noon".into(),
        _ => {
            let suffix = if h < 12 { "am" } else { "pm" };
            let h12 = match h % 12 {
                0 => 12,
                h => h,
            };
            if m == 0 {
                format!("{h12}{suffix}")
            } else {
                format!("{h12}:{m:02}{suffix}")
            }
        }
    }
}

/// "21 January 2026 at 10:30am", from a local (Europe/London) time.
pub fn date_time(t: &NaiveDateTime) -> String {
    format!("{} at {}", date(&t.date()), time(t))
}

/// A stored UTC time as it reads in England ("1 July 2026 at 10am" for 09:00 UTC).
pub fn london(utc: &NaiveDateTime) -> String {
    date_time(&utc.and_utc().with_timezone(&chrono_tz::Europe::London).naive_local())
}

/// An instant with its offset (an appointment's `starts_at`) as it reads in England.
pub fn when(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    date_time(&t.with_timezone(&chrono_tz::Europe::London).naive_local())
}

/// Like [`london`], for a timestamp.
pub fn london_at(utc: &chrono::DateTime<chrono::Utc>) -> String {
    london(&utc.naive_utc())
}

/// "999 000 0018", or "Not known" (children may arrive without one).
pub fn nhs_number(n: &Option<String>) -> String {
    match n.as_deref() {
        Some(digits) if digits.len() == 10 => crate::nhs_number::format(digits),
        Some(other) => other.to_string(),
        None => "Not known".into(),
    }
}

/// An NHS tag: its colour modifier and the words it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub class: &'static str,
    pub text: &'static str,
}

/// Red, amber and green say in words what they mean to the assurance meeting.
pub fn rag(r: &Rag) -> Tag {
    match r {
        Rag::Red => Tag {
            class: "nhsuk-tag--red",
            text: "Red: due date missed or at risk",
        },
        Rag::Amber => Tag {
            class: "nhsuk-tag--orange",
            text: "Amber: a step is late",
        },
        Rag::Green => Tag {
            class: "nhsuk-tag--green",
            text: "Green: on track",
        },
    }
}

/// Short RAG words for tables where the meaning is explained once above.
/// A leaving-care summary's or adoption medical report's RAG (`care_leaver::SummaryRag`).
pub fn obligation_rag(r: &crate::care_leaver::SummaryRag) -> Tag {
    use crate::care_leaver::SummaryRag;
    let (class, text) = match r {
        SummaryRag::None => ("nhsuk-tag--grey", "Not yet offered"),
        SummaryRag::Green => ("nhsuk-tag--green", "Green: on track"),
        SummaryRag::Amber => ("nhsuk-tag--orange", "Amber: due within 4 weeks"),
        SummaryRag::Red => ("nhsuk-tag--red", "Red: due date missed"),
        SummaryRag::Completed => ("nhsuk-tag--blue", "Given"),
    };
    Tag { class, text }
}

/// What an obligation is, in words.
pub fn obligation_kind(kind: &str) -> &'static str {
    match kind {
        "leaving_care_summary" => "Health leaving-care summary",
        "adoption_medical_report" => "Adoption medical report",
        _ => "Health obligation",
    }
}

/// Who an escalation level is for, in words.
pub fn escalation_recipient(to: &str) -> &'static str {
    match to {
        "health_admin_mailbox" => "the CLA health admin team",
        "named_nurse" => "the provider's Named Nurse",
        "designated_nurse" => "the ICB's Designated Nurse",
        _ => "the escalation ladder",
    }
}

pub fn rag_short(r: &Rag) -> Tag {
    let text = match r {
        Rag::Red => "Red",
        Rag::Amber => "Amber",
        Rag::Green => "Green",
    };
    Tag { text, ..rag(r) }
}

pub fn milestone_status(s: &MilestoneStatus) -> Tag {
    match s {
        MilestoneStatus::Met => Tag {
            class: "nhsuk-tag--green",
            text: "Met",
        },
        MilestoneStatus::Missed => Tag {
            class: "nhsuk-tag--red",
            text: "Missed",
        },
        MilestoneStatus::Pending => Tag {
            class: "nhsuk-tag--grey",
            text: "Pending",
        },
    }
}

/// What is left of the clock on the view's `as_of` date, in words.
pub fn time_left(a: &AssessmentView) -> String {
    if a.state == State::Completed {
        return match a.completed_on {
            Some(d) => format!("Completed on {}", date(&d)),
            None => "Completed".into(),
        };
    }
    if !a.state.is_open() {
        return format!("Ended: {}", state(&a.state).to_lowercase());
    }
    let overdue = (a.as_of - a.due_on).num_days();
    if overdue > 0 {
        return format!("{} overdue", plural(overdue, "day", "days"));
    }
    match a.working_days_remaining {
        0 if a.as_of == a.due_on => "Due today".into(),
        0 => "No working days left".into(),
        n => format!("{} left", plural(i64::from(n), "working day", "working days")),
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub fn kind(k: &Kind) -> &'static str {
    match k {
        Kind::Iha => "Initial health assessment",
        Kind::Rha => "Review health assessment",
    }
}

pub fn state(s: &State) -> &'static str {
    match s {
        State::AwaitingNotification => "Waiting for notification",
        State::AwaitingConsent => "Waiting for consent",
        State::AwaitingBooking => "Waiting to be booked",
        State::Booked => "Booked",
        State::AwaitingReport => "Waiting for the report",
        State::Completed => "Completed",
        State::Refused => "Refused",
        State::NotRequired => "Not required",
        State::Closed => "Closed",
        State::Scheduled => "Scheduled",
    }
}

pub fn blocker(b: &Blocker) -> &'static str {
    match b {
        Blocker::None => "Nothing",
        Blocker::Notification => "Notification from the local authority",
        Blocker::Consent => "Consent",
        Blocker::Booking => "Booking",
        Blocker::Appointment => "The appointment",
        Blocker::Report => "The report",
        Blocker::HostProvider => "The host area's provider",
        Blocker::Refused => "Refused by the young person",
    }
}

pub fn attribution(a: &Attribution) -> &'static str {
    match a {
        Attribution::LocalAuthority => "Local authority",
        Attribution::Health => "Health",
        Attribution::HostProvider => "Host provider",
        Attribution::None => "No step late",
    }
}

pub fn milestone(key: &str) -> &'static str {
    match key {
        "notification" => "Notification received",
        "consent" => "Consent given",
        "appointment" => "Seen at appointment",
        "report" => "Report received",
        "booking" => "Booked",
        "review" => "Seen for review",
        _ => "Step",
    }
}

/// An appointment outcome as stored ("was_not_brought") in words.
pub fn outcome(code: &str) -> String {
    match code.parse::<Outcome>() {
        Ok(Outcome::Attended) => "Attended".into(),
        Ok(Outcome::WasNotBrought) => "Was not brought".into(),
        Ok(Outcome::DidNotAttend) => "Did not attend".into(),
        Ok(Outcome::Refused) => "Refused".into(),
        Ok(Outcome::CancelledByCarer) => "Cancelled by the carer".into(),
        Ok(Outcome::CancelledByLa) => "Cancelled by the local authority".into(),
        Ok(Outcome::CancelledByProvider) => "Cancelled by the provider".into(),
        Ok(Outcome::NoAccess) => "No access".into(),
        Err(_) => code.to_string(),
    }
}

/// An SSDA903 legal status as "C2: full care order".
pub fn legal_status(code: &str) -> String {
    coded(code, crate::ssda903::legal_status(code))
}

pub fn placement_type(code: &str) -> String {
    coded(code, crate::ssda903::placement_type(code))
}

pub fn end_reason(code: &str) -> String {
    coded(code, crate::ssda903::reason_episode_ceased(code))
}

fn coded(code: &str, description: Option<&str>) -> String {
    match description {
        Some(d) => format!("{code}: {d}"),
        None => code.to_string(),
    }
}

/// Who a consent came from, by basis.
pub fn consent_basis(basis: &str) -> &str {
    match basis {
        "parent_with_pr" => "Parent with parental responsibility",
        "local_authority" => "Local authority (under a care order)",
        "young_person" => "The young person",
        "court" => "Court",
        other => other,
    }
}

pub fn sex(code: &str) -> &str {
    match code {
        "M" => "Male",
        "F" => "Female",
        "U" => "Not known",
        other => other,
    }
}

pub fn yes_no(b: &bool) -> &'static str {
    if *b {
        "Yes"
    } else {
        "No"
    }
}

/// Mail delivery as people say it.
pub fn delivery(status: &str) -> &str {
    match status {
        "pending" => "Waiting to send",
        "sending" => "Sending",
        "sent" => "Sent",
        "dead" => "Failed",
        "undeliverable" => "No address: not sent",
        other => other,
    }
}

/// Health check kinds.
pub fn health_check(kind: &str) -> &str {
    match kind {
        "dental" => "Dental check",
        "immunisations" => "Immunisations",
        "sdq" => "Strengths and Difficulties Questionnaire",
        "development" => "Development check",
        other => other,
    }
}

/// A stored code as words: "share_report" reads "share report".
pub fn words(code: &str) -> String {
    code.replace('_', " ")
}

/// A timeline step ("booking_window") in words.
pub fn step(name: &str) -> String {
    match name {
        "notification" => "Notification received".into(),
        "consent" => "Consent given".into(),
        "refusal" => "Refused".into(),
        "booking_window" => "Ready to book".into(),
        "appointment" => "Appointment booked".into(),
        "outcome" => "Appointment outcome recorded".into(),
        "completion" => "Completed".into(),
        "reoffer" => "Offered again".into(),
        "not_required" => "Marked not required".into(),
        "close" => "Closed".into(),
        "opened" => "Assessment opened".into(),
        "scheduled" => "Review scheduled".into(),
        "out_of_area_request" => "Out-of-area request opened".into(),
        "consent_withdrawn" => "Consent withdrawn".into(),
        "escalation" => "Escalation sent".into(),
        "escalation_resolved" => "Escalation resolved".into(),
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn dates_read_in_full_without_leading_zeros() {
        assert_eq!(date(&d("2026-01-21")), "21 January 2026");
        assert_eq!(date(&d("2026-03-05")), "5 March 2026");
        assert_eq!(date_or(&None, "Not recorded"), "Not recorded");
    }

    #[test]
    fn times_use_am_pm_noon_and_midnight() {
        let t = |s: &str| format!("2026-01-21T{s}").parse::<NaiveDateTime>().unwrap();
        assert_eq!(time(&t("10:30:00")), "10:30am");
        assert_eq!(time(&t("14:00:00")), "2pm");
        assert_eq!(time(&t("12:00:00")), "noon");
        assert_eq!(time(&t("00:00:00")), "midnight");
        assert_eq!(time(&t("00:05:00")), "12:05am");
        assert_eq!(date_time(&t("09:05:00")), "21 January 2026 at 9:05am");
        let summer = "2026-07-01T09:00:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            london(&summer),
            "1 July 2026 at 10am",
            "stored UTC, shown in British Summer Time"
        );
        assert_eq!(london(&t("09:00:00")), "21 January 2026 at 9am");
    }

    #[test]
    fn nhs_numbers_are_grouped_3_3_4() {
        assert_eq!(nhs_number(&Some("9990000018".into())), "999 000 0018");
        assert_eq!(nhs_number(&None), "Not known");
    }

    #[test]
    fn rag_tags_carry_words_not_colour_alone() {
        for r in Rag::ALL {
            let tag = rag(&r);
            let word = r.as_str();
            assert!(tag.text.to_lowercase().starts_with(word), "{tag:?} names {word}");
            assert!(tag.text.len() > word.len() + 5, "{tag:?} says what {word} means");
            assert_eq!(rag_short(&r).class, tag.class);
        }
        assert_ne!(rag(&Rag::Red).class, rag(&Rag::Green).class);
    }

    fn view(state: State, due: &str, as_of: &str, remaining: i32) -> AssessmentView {
        AssessmentView {
            state,
            due_on: d(due),
            as_of: d(as_of),
            working_days_remaining: remaining,
            ..test_view()
        }
    }

    fn test_view() -> AssessmentView {
        AssessmentView {
            id: "a".into(),
            child_id: "c".into(),
            child_local_id: "L".into(),
            period_id: None,
            kind: Kind::Iha,
            state: State::AwaitingConsent,
            version: 1,
            as_of: d("2026-01-10"),
            clock_started_on: d("2026-01-01"),
            due_on: d("2026-01-29"),
            working_days_elapsed: 0,
            working_days_remaining: 0,
            rag: Rag::Green,
            blocker: Blocker::Consent,
            breach_attribution: Attribution::None,
            milestones: Vec::new(),
            explanation: String::new(),
            notified_on: None,
            consent_on: None,
            first_booked_on: None,
            appointment_on: None,
            seen_on: None,
            report_received_on: None,
            completed_on: None,
            completion_method: None,
            ended_on: None,
            end_reason: None,
            non_attendance_count: 0,
            last_non_attendance: None,
            out_of_area_request: None,
            forecast: None,
        }
    }

    #[test]
    fn time_left_is_in_words() {
        assert_eq!(
            time_left(&view(State::AwaitingConsent, "2026-01-29", "2026-01-22", 5)),
            "5 working days left"
        );
        assert_eq!(
            time_left(&view(State::Booked, "2026-01-29", "2026-01-28", 1)),
            "1 working day left"
        );
        assert_eq!(
            time_left(&view(State::Booked, "2026-01-29", "2026-01-29", 0)),
            "Due today"
        );
        assert_eq!(
            time_left(&view(State::AwaitingReport, "2026-01-29", "2026-02-01", 0)),
            "3 days overdue"
        );
        assert_eq!(
            time_left(&view(State::AwaitingReport, "2026-01-29", "2026-01-30", 0)),
            "1 day overdue"
        );
        let done = AssessmentView {
            completed_on: Some(d("2026-01-20")),
            ..view(State::Completed, "2026-01-29", "2026-02-01", 0)
        };
        assert_eq!(time_left(&done), "Completed on 20 January 2026");
        assert_eq!(
            time_left(&view(State::Closed, "2026-01-29", "2026-02-01", 0)),
            "Ended: closed"
        );
    }

    #[test]
    fn codes_read_as_words() {
        assert_eq!(outcome("was_not_brought"), "Was not brought");
        assert_eq!(step("booking_window"), "Ready to book");
        assert!(legal_status("C2").starts_with("C2: "), "{}", legal_status("C2"));
        assert_eq!(legal_status("ZZ"), "ZZ");
        for s in State::ALL {
            assert!(!state(s).contains('_'), "{s:?}");
        }
    }
}
