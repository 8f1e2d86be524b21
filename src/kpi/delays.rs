//! The delay analysis of late IHAs (issue 12): how late, why, whose step, in area or out.
//! Pure: the IHA figures of some months, the working-day calendar and today in; counts and
//! the children behind each count out.
//!
//! Rules:
//! - A late IHA is an entry *missed* in an "IHA within 20 working days" figure: seen after
//!   its due date, or still not seen once the due date has passed. A competent refusal is
//!   shown beside the figure, not in it, so it is not a late IHA here either; an IHA whose
//!   due date is still to come (pending) is not late yet.
//! - Working days late = England and Wales working days after the due date up to and
//!   including the day seen (today, while still not seen), with the same calendar as the
//!   due dates. A late IHA is at least 1 working day late: one seen on the weekend or bank
//!   holiday straight after its due date counts from the next working day.
//! - Bands: 1-5, 6-10, 11-20 and 21 or more working days.
//! - Whose step (the assurance meeting's question): the miss's attribution, with `none`
//!   split in two: the young person's own non-attendance or refusal ("young person", neither
//!   service's failure), and a miss whose history names no cause ("not recorded").
//! - Every count is split in area / out of area (an out-of-area request was opened).

use chrono::NaiveDate;
use serde::Serialize;

use super::{Entry, Figure, Measure, Month, Outcome, Reason};
use crate::calendar::Calendar;
use crate::status::Attribution;

/// How late, in working days past the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Band {
    #[serde(rename = "1-5")]
    UpTo5,
    #[serde(rename = "6-10")]
    UpTo10,
    #[serde(rename = "11-20")]
    UpTo20,
    #[serde(rename = "21+")]
    Over20,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::UpTo5, Band::UpTo10, Band::UpTo20, Band::Over20];

    /// The band of an IHA `days` working days late (0 or less counts as 1: see the rules).
    pub fn of(days: i32) -> Band {
        match days {
            ..=5 => Band::UpTo5,
            6..=10 => Band::UpTo10,
            11..=20 => Band::UpTo20,
            _ => Band::Over20,
        }
    }

    /// The key in URLs and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Band::UpTo5 => "1-5",
            Band::UpTo10 => "6-10",
            Band::UpTo20 => "11-20",
            Band::Over20 => "21+",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::UpTo5 => "1 to 5 working days",
            Band::UpTo10 => "6 to 10 working days",
            Band::UpTo20 => "11 to 20 working days",
            Band::Over20 => "21 or more working days",
        }
    }
}

/// Whose step made the IHA late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    LocalAuthority,
    Health,
    HostProvider,
    YoungPerson,
    NotRecorded,
}

impl Side {
    pub const ALL: [Side; 5] = [
        Side::LocalAuthority,
        Side::Health,
        Side::HostProvider,
        Side::YoungPerson,
        Side::NotRecorded,
    ];

    /// The side of a miss: its attribution, `none` told apart by the reason.
    pub fn of(reason: Option<Reason>, attribution: Option<Attribution>) -> Side {
        match attribution {
            Some(Attribution::LocalAuthority) => Side::LocalAuthority,
            Some(Attribution::Health) => Side::Health,
            Some(Attribution::HostProvider) => Side::HostProvider,
            Some(Attribution::None) | None => match reason {
                Some(Reason::DidNotAttend | Reason::Refused) => Side::YoungPerson,
                _ => Side::NotRecorded,
            },
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Side::LocalAuthority => "local_authority",
            Side::Health => "health",
            Side::HostProvider => "host_provider",
            Side::YoungPerson => "young_person",
            Side::NotRecorded => "not_recorded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Side::LocalAuthority => "Local authority",
            Side::Health => "Health",
            Side::HostProvider => "Host provider (out of area)",
            Side::YoungPerson => "Young person (their own choice)",
            Side::NotRecorded => "Not recorded",
        }
    }
}

/// One late IHA and how late it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateIha {
    /// The month the period of care started (the figure it is counted in).
    pub month: Month,
    pub entry: Entry,
    pub working_days_late: i32,
    pub band: Band,
    pub side: Side,
}

/// A count split in area / out of area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Split<K> {
    pub key: K,
    pub in_area: usize,
    pub out_of_area: usize,
}

impl<K> Split<K> {
    pub fn total(&self) -> usize {
        self.in_area + self.out_of_area
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delays {
    /// Every late IHA, the longest wait first (then by local id).
    pub late: Vec<LateIha>,
    /// Every band, in order, even when empty.
    pub bands: Vec<Split<Band>>,
    /// The reasons found, most frequent first.
    pub reasons: Vec<Split<Reason>>,
    /// Every side, in order, even when empty.
    pub sides: Vec<Split<Side>>,
}

impl Delays {
    pub fn in_area(&self) -> usize {
        self.late.iter().filter(|l| !l.entry.out_of_area).count()
    }

    pub fn out_of_area(&self) -> usize {
        self.late.iter().filter(|l| l.entry.out_of_area).count()
    }
}

/// Working days from `due` to the day seen (or `today` while not seen); at least 1.
pub fn working_days_late(calendar: &Calendar, due: NaiveDate, seen: Option<NaiveDate>, today: NaiveDate) -> i32 {
    calendar.working_days_between(due, seen.unwrap_or(today)).max(1)
}

/// The late IHAs of the IHA figures among `figures` (other measures are ignored).
pub fn analyse(figures: &[Figure], calendar: &Calendar, today: NaiveDate) -> Delays {
    let mut late: Vec<LateIha> = figures
        .iter()
        .filter(|f| f.measure == Measure::IhaWithin20WorkingDays)
        .flat_map(|f| f.entries.iter().map(move |e| (f.month, e)))
        .filter(|(_, e)| e.outcome == Outcome::Missed)
        .filter_map(|(month, e)| {
            let days = working_days_late(calendar, e.due_on?, e.done_on, today);
            Some(LateIha {
                month,
                entry: e.clone(),
                working_days_late: days,
                band: Band::of(days),
                side: Side::of(e.reason, e.attribution),
            })
        })
        .collect();
    // The longest waits first: the meeting starts with them.
    late.sort_by(|a, b| (b.working_days_late, &a.entry.local_id).cmp(&(a.working_days_late, &b.entry.local_id)));
    let bands = Band::ALL.iter().map(|&b| split(b, &late, |l| l.band == b)).collect();
    let sides = Side::ALL.iter().map(|&s| split(s, &late, |l| l.side == s)).collect();
    Delays {
        reasons: reasons(&late),
        bands,
        sides,
        late,
    }
}

fn split<K>(key: K, late: &[LateIha], wanted: impl Fn(&LateIha) -> bool) -> Split<K> {
    let (out, inside): (Vec<&LateIha>, Vec<&LateIha>) =
        late.iter().filter(|l| wanted(l)).partition(|l| l.entry.out_of_area);
    Split {
        key,
        in_area: inside.len(),
        out_of_area: out.len(),
    }
}

/// The reasons present, most frequent first (ties in the order first met).
fn reasons(late: &[LateIha]) -> Vec<Split<Reason>> {
    let mut found: Vec<Reason> = Vec::new();
    for reason in late.iter().map(|l| l.entry.reason.unwrap_or(Reason::NotRecorded)) {
        if !found.contains(&reason) {
            found.push(reason);
        }
    }
    let mut rows: Vec<Split<Reason>> = found
        .into_iter()
        .map(|r| split(r, late, |l| l.entry.reason.unwrap_or(Reason::NotRecorded) == r))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.total()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::TARGET_PERCENT;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cal() -> Calendar {
        Calendar::rules_only()
    }

    /// A January 2026 entry due `due`, seen `seen`.
    fn entry(id: &str, due: &str, seen: Option<&str>, outcome: Outcome) -> Entry {
        Entry {
            child_id: id.into(),
            local_id: format!("L-{id}"),
            local_authority: "E06000001".into(),
            assessment_id: Some(format!("iha-{id}")),
            due_on: Some(d(due)),
            done_on: seen.map(d),
            outcome,
            reason: None,
            attribution: None,
            out_of_area: false,
        }
    }

    fn late(id: &str, due: &str, seen: Option<&str>, reason: Reason, side: Attribution) -> Entry {
        Entry {
            reason: Some(reason),
            attribution: Some(side),
            ..entry(id, due, seen, Outcome::Missed)
        }
    }

    fn iha_figure(month: &str, entries: Vec<Entry>, beside: Vec<Entry>) -> Figure {
        Figure {
            measure: Measure::IhaWithin20WorkingDays,
            month: Month::parse(month).unwrap(),
            numerator: entries.iter().filter(|e| e.outcome == Outcome::Met).count(),
            denominator: entries.len(),
            percent: None,
            target: TARGET_PERCENT,
            provisional: false,
            entries,
            beside,
        }
    }

    fn days(due: &str, seen: &str) -> i32 {
        working_days_late(&cal(), d(due), Some(d(seen)), d("2026-12-31"))
    }

    #[test]
    fn an_iha_seen_5_working_days_late_is_in_1_to_5_and_6_in_6_to_10() {
        // Due Mon 9 Feb 2026: Mon 16 Feb is the 5th working day after it, Tue 17 Feb the 6th.
        assert_eq!(days("2026-02-09", "2026-02-16"), 5);
        assert_eq!(Band::of(days("2026-02-09", "2026-02-16")), Band::UpTo5);
        assert_eq!(days("2026-02-09", "2026-02-17"), 6);
        assert_eq!(Band::of(days("2026-02-09", "2026-02-17")), Band::UpTo10);
    }

    #[test]
    fn band_edges_are_10_in_6_to_10_11_and_20_in_11_to_20_and_21_in_21_or_more() {
        assert_eq!(
            [1, 5, 6, 10, 11, 20, 21, 200].map(Band::of),
            [
                Band::UpTo5,
                Band::UpTo5,
                Band::UpTo10,
                Band::UpTo10,
                Band::UpTo20,
                Band::UpTo20,
                Band::Over20,
                Band::Over20
            ]
        );
    }

    #[test]
    fn working_days_late_skip_weekends_and_bank_holidays() {
        // Due Thu 2 Apr 2026; Good Friday 3 Apr and Easter Monday 6 Apr are bank holidays.
        // Seen Tue 14 Apr: 12 calendar days but 6 working days late (7, 8, 9, 10, 13, 14).
        assert_eq!(days("2026-04-02", "2026-04-14"), 6);
        assert_eq!(Band::of(days("2026-04-02", "2026-04-14")), Band::UpTo10);
        // Over Christmas 2025 (25, 26 Dec and 1 Jan off): due Wed 24 Dec, seen Fri 2 Jan.
        assert_eq!(days("2025-12-24", "2026-01-02"), 4);
    }

    #[test]
    fn a_late_iha_seen_on_the_weekend_after_its_due_date_is_1_working_day_late() {
        assert_eq!(days("2026-02-06", "2026-02-07"), 1, "due Fri, seen Sat");
        assert_eq!(
            days("2026-04-02", "2026-04-06"),
            1,
            "due Thu before Easter, seen Easter Monday"
        );
    }

    #[test]
    fn an_iha_still_not_seen_is_late_up_to_today() {
        let today = d("2026-03-02");
        // Due Mon 9 Feb, not seen on Mon 2 Mar: 15 working days so far.
        assert_eq!(working_days_late(&cal(), d("2026-02-09"), None, today), 15);
        let f = iha_figure(
            "2026-01",
            vec![late(
                "A",
                "2026-02-09",
                None,
                Reason::LateConsent,
                Attribution::LocalAuthority,
            )],
            vec![],
        );
        let a = analyse(&[f], &cal(), today);
        assert_eq!(a.late[0].band, Band::UpTo20);
    }

    #[test]
    fn only_missed_ihas_are_late_not_met_pending_refused_or_other_measures() {
        let met = entry("M", "2026-02-09", Some("2026-02-09"), Outcome::Met);
        let pending = entry("P", "2026-03-09", None, Outcome::Pending);
        let refused = Entry {
            reason: Some(Reason::Refused),
            attribution: Some(Attribution::None),
            ..entry("R", "2026-02-09", None, Outcome::Missed)
        };
        let mut rha = iha_figure(
            "2026-01",
            vec![late(
                "X",
                "2026-01-20",
                None,
                Reason::NotBrought,
                Attribution::LocalAuthority,
            )],
            vec![],
        );
        rha.measure = Measure::RhaOnTime;
        let iha = iha_figure(
            "2026-01",
            vec![
                met,
                pending,
                late(
                    "L",
                    "2026-02-09",
                    Some("2026-02-10"),
                    Reason::LateConsent,
                    Attribution::LocalAuthority,
                ),
            ],
            vec![refused],
        );
        let a = analyse(&[iha, rha], &cal(), d("2026-02-20"));
        let ids: Vec<&str> = a.late.iter().map(|l| l.entry.child_id.as_str()).collect();
        assert_eq!(ids, ["L"]);
    }

    #[test]
    fn counts_by_band_reason_and_side_are_split_in_and_out_of_area() {
        let today = d("2026-04-30");
        let mut host = late("H", "2026-02-16", None, Reason::HostProvider, Attribution::HostProvider);
        host.out_of_area = true;
        let mut consent_away = late(
            "C2",
            "2026-02-16",
            Some("2026-02-18"),
            Reason::LateConsent,
            Attribution::LocalAuthority,
        );
        consent_away.out_of_area = true;
        let jan = iha_figure(
            "2026-01",
            vec![
                late(
                    "C1",
                    "2026-02-09",
                    Some("2026-02-16"),
                    Reason::LateConsent,
                    Attribution::LocalAuthority,
                ),
                late(
                    "N",
                    "2026-02-09",
                    Some("2026-02-17"),
                    Reason::NoAppointment,
                    Attribution::Health,
                ),
                host,
                consent_away,
            ],
            vec![],
        );
        let feb = iha_figure(
            "2026-02",
            vec![late(
                "Y",
                "2026-03-02",
                Some("2026-03-03"),
                Reason::DidNotAttend,
                Attribution::None,
            )],
            vec![],
        );
        let a = analyse(&[jan, feb], &cal(), today);
        let bands: Vec<(&str, usize, usize)> = a
            .bands
            .iter()
            .map(|b| (b.key.key(), b.in_area, b.out_of_area))
            .collect();
        // C1 5 days, C2 2, Y 1: 1-5; N 6: 6-10; H unseen since 16 Feb: 21+.
        assert_eq!(bands, [("1-5", 2, 1), ("6-10", 1, 0), ("11-20", 0, 0), ("21+", 0, 1)]);
        assert_eq!((a.in_area(), a.out_of_area()), (3, 2));
        assert_eq!(
            a.reasons[0],
            Split {
                key: Reason::LateConsent,
                in_area: 1,
                out_of_area: 1
            },
            "the most frequent reason first"
        );
        assert_eq!(a.reasons.len(), 4);
        let sides: Vec<(&str, usize)> = a.sides.iter().map(|s| (s.key.key(), s.total())).collect();
        assert_eq!(
            sides,
            [
                ("local_authority", 2),
                ("health", 1),
                ("host_provider", 1),
                ("young_person", 1),
                ("not_recorded", 0)
            ]
        );
        assert_eq!(a.late[0].entry.child_id, "H", "the longest wait first");
        assert_eq!(a.late[0].month, Month::parse("2026-01").unwrap());
    }

    #[test]
    fn a_young_persons_own_non_attendance_is_neither_services_step_and_no_cause_is_not_recorded() {
        assert_eq!(
            Side::of(Some(Reason::DidNotAttend), Some(Attribution::None)),
            Side::YoungPerson
        );
        assert_eq!(
            Side::of(Some(Reason::Refused), Some(Attribution::None)),
            Side::YoungPerson
        );
        assert_eq!(
            Side::of(Some(Reason::NotRecorded), Some(Attribution::None)),
            Side::NotRecorded
        );
        assert_eq!(
            Side::of(Some(Reason::NotBrought), Some(Attribution::LocalAuthority)),
            Side::LocalAuthority
        );
    }
}
