//! England and Wales bank holidays worked out from the regular rule, plus the
//! one-off changes made by royal proclamation since 2010.
//!
//! The published GOV.UK calendar only covers a handful of years, so the rest of
//! the calendar falls back on these rules. Titles, notes and bunting follow
//! GOV.UK's `bank-holidays.json` so that rule-derived and published holidays
//! look the same to callers.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::Holiday;

pub(crate) const NEW_YEAR: &str = "New Year\u{2019}s Day";
pub(crate) const GOOD_FRIDAY: &str = "Good Friday";
pub(crate) const EASTER_MONDAY: &str = "Easter Monday";
pub(crate) const EARLY_MAY: &str = "Early May bank holiday";
pub(crate) const SPRING: &str = "Spring bank holiday";
pub(crate) const SUMMER: &str = "Summer bank holiday";
pub(crate) const CHRISTMAS: &str = "Christmas Day";
pub(crate) const BOXING: &str = "Boxing Day";
const ROYAL_WEDDING: &str = "Royal wedding";
const DIAMOND_JUBILEE: &str = "Queen\u{2019}s Diamond Jubilee";
const VE_DAY: &str = "Early May bank holiday (VE day)";
const PLATINUM_JUBILEE: &str = "Platinum Jubilee bank holiday";
const STATE_FUNERAL: &str = "Bank Holiday for the State Funeral of Queen Elizabeth II";
const CORONATION: &str = "Bank holiday for the coronation of King Charles III";
const SUBSTITUTE: &str = "Substitute day";

/// A holiday whose strings are static, so the calendar can hand out titles for
/// rule years without allocating or storing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RuleEvent {
    pub date: NaiveDate,
    pub title: &'static str,
    pub substitute: bool,
    pub bunting: bool,
}

impl RuleEvent {
    fn on(date: NaiveDate, title: &'static str) -> RuleEvent {
        RuleEvent {
            date,
            title,
            substitute: false,
            // GOV.UK hangs no bunting for Good Friday (or a state funeral).
            bunting: title != GOOD_FRIDAY,
        }
    }

    fn substitute(date: NaiveDate, title: &'static str) -> RuleEvent {
        RuleEvent {
            substitute: true,
            ..RuleEvent::on(date, title)
        }
    }

    fn to_holiday(self) -> Holiday {
        Holiday {
            date: self.date,
            title: self.title.to_string(),
            notes: if self.substitute { SUBSTITUTE } else { "" }.to_string(),
            bunting: self.bunting,
        }
    }
}

/// A date in `year`.
///
/// # Panics
/// If `year` is outside the range chrono can represent (about ±262,000).
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("year within chrono's supported range")
}

/// Easter Sunday in the Gregorian calendar (the anonymous "Meeus/Jones/Butcher"
/// computus), which is the Easter the England and Wales holidays follow.
///
/// # Panics
/// If `year` is outside the range chrono can represent.
pub fn easter_sunday(year: i32) -> NaiveDate {
    // Euclidean division keeps the arithmetic right for proleptic negative years.
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let (b, c) = (y.div_euclid(100), y.rem_euclid(100));
    let (d, e) = (b.div_euclid(4), b.rem_euclid(4));
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    // n / 31 is 3 or 4 and n % 31 + 1 is 1..=31, so both fit in u32.
    ymd(year, (n / 31) as u32, (n % 31 + 1) as u32)
}

fn first_monday(year: i32, month: u32) -> NaiveDate {
    let first = ymd(year, month, 1);
    let ahead = (7 - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days(i64::from(ahead))
}

fn last_monday(year: i32, month: u32) -> NaiveDate {
    let next_first = if month == 12 {
        ymd(year + 1, 1, 1)
    } else {
        ymd(year, month + 1, 1)
    };
    let last = next_first - Duration::days(1);
    last - Duration::days(i64::from(last.weekday().num_days_from_monday()))
}

fn new_year(year: i32) -> RuleEvent {
    let day = ymd(year, 1, 1);
    match day.weekday() {
        Weekday::Sat => RuleEvent::substitute(ymd(year, 1, 3), NEW_YEAR),
        Weekday::Sun => RuleEvent::substitute(ymd(year, 1, 2), NEW_YEAR),
        _ => RuleEvent::on(day, NEW_YEAR),
    }
}

/// Christmas and Boxing Day, with the substitute weekdays used when either
/// falls at a weekend. The order returned is by date.
fn christmas(year: i32) -> [RuleEvent; 2] {
    let dec = |day| ymd(year, 12, day);
    match dec(25).weekday() {
        Weekday::Fri => [
            RuleEvent::on(dec(25), CHRISTMAS),
            RuleEvent::substitute(dec(28), BOXING),
        ],
        Weekday::Sat => [
            RuleEvent::substitute(dec(27), CHRISTMAS),
            RuleEvent::substitute(dec(28), BOXING),
        ],
        // Boxing Day itself is a Monday, so Christmas moves past it to Tuesday.
        Weekday::Sun => [
            RuleEvent::on(dec(26), BOXING),
            RuleEvent::substitute(dec(27), CHRISTMAS),
        ],
        _ => [RuleEvent::on(dec(25), CHRISTMAS), RuleEvent::on(dec(26), BOXING)],
    }
}

/// The regular rule as static events, sorted by date.
pub(crate) fn regular_events(year: i32) -> Vec<RuleEvent> {
    let easter = easter_sunday(year);
    let mut events = vec![
        new_year(year),
        RuleEvent::on(easter - Duration::days(2), GOOD_FRIDAY),
        RuleEvent::on(easter + Duration::days(1), EASTER_MONDAY),
        RuleEvent::on(first_monday(year, 5), EARLY_MAY),
        RuleEvent::on(last_monday(year, 5), SPRING),
        RuleEvent::on(last_monday(year, 8), SUMMER),
    ];
    events.extend(christmas(year));
    // Already in date order (Easter Monday is at latest 26 April, before May).
    events
}

/// The regular rule plus the known one-off proclamations, sorted by date.
pub(crate) fn events_with_known_changes(year: i32) -> Vec<RuleEvent> {
    let mut events = regular_events(year);
    match year {
        // The wedding of Prince William and Catherine Middleton: Friday 29 April.
        2011 => events.push(RuleEvent::on(ymd(2011, 4, 29), ROYAL_WEDDING)),
        2012 => {
            // Diamond Jubilee: the spring holiday moved to Monday 4 June, with an
            // extra day on Tuesday 5 June.
            events.retain(|e| e.title != SPRING);
            events.push(RuleEvent::on(ymd(2012, 6, 4), SPRING));
            events.push(RuleEvent::on(ymd(2012, 6, 5), DIAMOND_JUBILEE));
        }
        2020 => {
            // VE day 75th anniversary: the early May holiday moved to Friday 8 May.
            events.retain(|e| e.title != EARLY_MAY);
            events.push(RuleEvent::on(ymd(2020, 5, 8), VE_DAY));
        }
        2022 => {
            // Platinum Jubilee: the spring holiday moved to Thursday 2 June
            // with an extra day on Friday 3 June.
            events.retain(|e| e.title != SPRING);
            events.push(RuleEvent::on(ymd(2022, 6, 2), SPRING));
            events.push(RuleEvent::on(ymd(2022, 6, 3), PLATINUM_JUBILEE));
            events.push(RuleEvent {
                bunting: false,
                ..RuleEvent::on(ymd(2022, 9, 19), STATE_FUNERAL)
            });
        }
        2023 => events.push(RuleEvent::on(ymd(2023, 5, 8), CORONATION)),
        _ => {}
    }
    events.sort_by_key(|e| e.date);
    events
}

/// England and Wales bank holidays in `year` from the regular rule only
/// (no one-off proclamations), sorted by date.
///
/// # Panics
/// If `year` is outside the range chrono can represent.
pub fn regular_holidays(year: i32) -> Vec<Holiday> {
    regular_events(year).into_iter().map(RuleEvent::to_holiday).collect()
}

/// The regular rule plus the one-off proclamations since 2010 (the royal wedding
/// 2011, the Diamond Jubilee 2012, VE day 2020, the Platinum Jubilee and the State
/// Funeral 2022, the Coronation 2023), sorted.
///
/// # Panics
/// If `year` is outside the range chrono can represent.
pub fn holidays_with_known_changes(year: i32) -> Vec<Holiday> {
    events_with_known_changes(year)
        .into_iter()
        .map(RuleEvent::to_holiday)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn titles_on(year: i32, known: bool) -> Vec<(NaiveDate, String)> {
        let hs = if known {
            holidays_with_known_changes(year)
        } else {
            regular_holidays(year)
        };
        hs.into_iter().map(|h| (h.date, h.title)).collect()
    }

    fn has(year: i32, d: NaiveDate, title: &str) -> bool {
        titles_on(year, true).contains(&(d, title.to_string()))
    }

    fn dates(year: i32) -> Vec<NaiveDate> {
        holidays_with_known_changes(year).iter().map(|h| h.date).collect()
    }

    #[test]
    fn easter_sunday_gregorian_computus() {
        for (y, m, d) in [
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2038, 4, 25),
            (2008, 3, 23),
            (2011, 4, 24),
            (2000, 4, 23),
            (1818, 3, 22),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), date(y, m, d), "Easter {y}");
        }
    }

    #[test]
    fn easter_is_always_a_sunday_between_22_march_and_25_april() {
        for y in 1583..=3000 {
            let e = easter_sunday(y);
            assert_eq!(e.weekday(), Weekday::Sun, "{y}");
            assert!(e >= date(y, 3, 22) && e <= date(y, 4, 25), "{y}: {e}");
        }
    }

    #[test]
    fn good_friday_and_easter_monday_follow_easter() {
        assert!(has(2025, date(2025, 4, 18), GOOD_FRIDAY));
        assert!(has(2025, date(2025, 4, 21), EASTER_MONDAY));
        assert!(has(2024, date(2024, 3, 29), GOOD_FRIDAY));
        assert!(has(2024, date(2024, 4, 1), EASTER_MONDAY));
    }

    #[test]
    fn may_and_august_mondays() {
        assert!(has(2025, date(2025, 5, 5), EARLY_MAY));
        assert!(has(2025, date(2025, 5, 26), SPRING));
        assert!(has(2025, date(2025, 8, 25), SUMMER));
        // May 2026 starts on a Friday and ends on a Sunday.
        assert!(has(2026, date(2026, 5, 4), EARLY_MAY));
        assert!(has(2026, date(2026, 5, 25), SPRING));
        assert!(has(2026, date(2026, 8, 31), SUMMER));
    }

    #[test]
    fn christmas_on_saturday_substitutes_monday_and_tuesday() {
        for y in [2021, 2027] {
            assert_eq!(date(y, 12, 25).weekday(), Weekday::Sat);
            let hs = holidays_with_known_changes(y);
            let tail: Vec<_> = hs[hs.len() - 2..].to_vec();
            assert_eq!(tail[0].date, date(y, 12, 27));
            assert_eq!(tail[0].title, CHRISTMAS);
            assert_eq!(tail[0].notes, SUBSTITUTE);
            assert_eq!(tail[1].date, date(y, 12, 28));
            assert_eq!(tail[1].title, BOXING);
            assert_eq!(tail[1].notes, SUBSTITUTE);
        }
    }

    #[test]
    fn christmas_on_sunday_boxing_day_monday_and_christmas_substitute_tuesday() {
        let hs = holidays_with_known_changes(2022);
        let tail = &hs[hs.len() - 2..];
        assert_eq!((tail[0].date, tail[0].title.as_str()), (date(2022, 12, 26), BOXING));
        assert_eq!(tail[0].notes, "");
        assert_eq!((tail[1].date, tail[1].title.as_str()), (date(2022, 12, 27), CHRISTMAS));
        assert_eq!(tail[1].notes, SUBSTITUTE);
    }

    #[test]
    fn christmas_on_friday_boxing_day_monday_28() {
        for y in [2020, 2026] {
            assert!(has(y, date(y, 12, 25), CHRISTMAS), "{y}");
            assert!(has(y, date(y, 12, 28), BOXING), "{y}");
            assert!(!dates(y).contains(&date(y, 12, 26)), "{y}");
        }
    }

    #[test]
    fn new_year_on_weekend_moves_to_monday() {
        assert!(has(2022, date(2022, 1, 3), NEW_YEAR));
        assert!(!dates(2022).contains(&date(2022, 1, 1)));
        assert!(has(2023, date(2023, 1, 2), NEW_YEAR));
        assert!(!dates(2023).contains(&date(2023, 1, 1)));
        assert_eq!(holidays_with_known_changes(2023)[0].notes, SUBSTITUTE);
    }

    #[test]
    fn ve_day_2020_replaces_early_may_monday() {
        assert!(has(2020, date(2020, 5, 8), VE_DAY));
        assert!(!dates(2020).contains(&date(2020, 5, 4)));
        // The regular rule alone still has the Monday.
        assert!(titles_on(2020, false).contains(&(date(2020, 5, 4), EARLY_MAY.to_string())));
    }

    #[test]
    fn platinum_jubilee_2022_moves_spring_holiday_to_2_and_3_june() {
        assert!(has(2022, date(2022, 6, 2), SPRING));
        assert!(has(2022, date(2022, 6, 3), PLATINUM_JUBILEE));
        assert!(!dates(2022).contains(&date(2022, 5, 30)));
    }

    #[test]
    fn state_funeral_19_september_2022() {
        let hs = holidays_with_known_changes(2022);
        let funeral = hs.iter().find(|h| h.date == date(2022, 9, 19)).unwrap();
        assert_eq!(funeral.title, STATE_FUNERAL);
        assert!(!funeral.bunting);
    }

    #[test]
    fn coronation_8_may_2023_in_addition_to_1_may() {
        assert!(has(2023, date(2023, 5, 1), EARLY_MAY));
        assert!(has(2023, date(2023, 5, 8), CORONATION));
    }

    #[test]
    fn holiday_counts_match_published_calendar() {
        let count = |y| holidays_with_known_changes(y).len();
        assert_eq!(count(2015), 8);
        assert_eq!(count(2020), 8);
        assert_eq!(count(2022), 10);
        assert_eq!(count(2023), 9);
        assert_eq!(count(2025), 8);
    }

    #[test]
    fn good_friday_has_no_bunting_others_do() {
        for h in regular_holidays(2026) {
            assert_eq!(h.bunting, h.title != GOOD_FRIDAY, "{}", h.title);
        }
    }

    #[test]
    fn holidays_are_sorted_unique_weekdays() {
        for y in 1900..=2200 {
            let ds = dates(y);
            assert!(ds.windows(2).all(|w| w[0] < w[1]), "{y}: {ds:?}");
            assert!(ds.iter().all(|d| d.weekday().num_days_from_monday() < 5), "{y}");
            assert!(ds.iter().all(|d| d.year() == y), "{y}");
        }
    }
}
