//! Working-day arithmetic for England and Wales.
//!
//! A working day is any day other than a Saturday, a Sunday or a bank holiday
//! in England and Wales. Counting never includes the start date ("day 0"):
//! day 1 is the first working day after it, whatever kind of day day 0 is.
//! The statutory Initial Health Assessment is due on the 20th working day.
//!
//! This is a pure core: no I/O, no clock, no logging. Callers load the
//! published holidays (see [`govuk`]) and decide how to report years that had
//! to be worked out from the regular rule ([`WorkingDaysResult::rule_years`]).

pub mod govuk;
pub mod rules;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Weekday};

/// One bank holiday as published (GOV.UK's fields).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub title: String,
    pub notes: String,
    pub bunting: bool,
}

/// Where a holiday in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidaySource {
    /// From the published data the calendar was built with.
    Published,
    /// Worked out from the regular rule because the year is outside the published data.
    Rules,
}

/// A bank holiday the calendar applies, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HolidayInForce {
    pub date: NaiveDate,
    pub title: String,
    pub source: HolidaySource,
}

/// A non-working day passed over while counting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub date: NaiveDate,
    /// "Saturday", "Sunday", or the bank holiday's title.
    pub reason: String,
}

/// The answer of [`Calendar::add_working_days_explained`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingDaysResult {
    pub date: NaiveDate,
    /// Non-working days strictly between the start and the result, in date order.
    pub skipped: Vec<Skipped>,
    /// Years the count passed through whose holidays came from the regular
    /// rule rather than published data, ascending (the caller logs a warning).
    pub rule_years: Vec<i32>,
}

/// First and last day of the precomputed table. Outside it every answer is
/// still correct, just computed by walking day by day.
const TABLE_FIRST: (i32, u32, u32) = (1970, 1, 1);
const TABLE_LAST: (i32, u32, u32) = (2100, 12, 31);

/// Working-day index over a fixed date range, so that counting forwards or
/// backwards is two array lookups instead of a walk.
struct Table {
    /// Day number (`num_days_from_ce`) of the table's first day.
    base: i32,
    /// `before[i]`: working days in the table strictly before day `base + i`.
    /// One longer than the number of days, so `before[i + 1]` is "up to and
    /// including day i".
    before: Vec<u32>,
    /// Every working day in the table, in order.
    working: Vec<NaiveDate>,
}

impl Table {
    fn build(first: NaiveDate, last: NaiveDate, is_working: impl Fn(NaiveDate) -> bool) -> Table {
        let mut before = vec![0];
        let mut working = Vec::new();
        for day in first.iter_days().take_while(|d| *d <= last) {
            if is_working(day) {
                working.push(day);
            }
            // At most ~48,000 days, so the count always fits in u32.
            before.push(working.len() as u32);
        }
        Table {
            base: first.num_days_from_ce(),
            before,
            working,
        }
    }

    /// Index of `d` in the table, if it is inside it.
    fn index(&self, d: NaiveDate) -> Option<usize> {
        let i = usize::try_from(d.num_days_from_ce() - self.base).ok()?;
        (i + 1 < self.before.len()).then_some(i)
    }

    fn is_working(&self, d: NaiveDate) -> Option<bool> {
        let i = self.index(d)?;
        Some(self.before[i + 1] > self.before[i])
    }

    /// Working days in `[d, e]` when both ends are in the table.
    fn count_inclusive(&self, d: NaiveDate, e: NaiveDate) -> Option<u32> {
        let (i, j) = (self.index(d)?, self.index(e)?);
        Some(self.before[j + 1] - self.before[i])
    }

    /// The `n`-th working day after (`n > 0`) or before (`n < 0`) `d`, if both
    /// `d` and the answer are in the table.
    fn add(&self, d: NaiveDate, n: i32) -> Option<NaiveDate> {
        let i = self.index(d)?;
        let k = if n > 0 {
            // Working days up to and including d, then n - 1 more.
            self.before[i + 1] as usize + (n as usize - 1)
        } else {
            (self.before[i] as usize).checked_sub(n.unsigned_abs() as usize)?
        };
        self.working.get(k).copied()
    }
}

/// England and Wales working-day calendar: published holidays for the data
/// years, the regular rule for every other year.
///
/// Cheap to clone (the lookup table is shared) and safe to share between threads.
#[derive(Clone)]
pub struct Calendar {
    /// Published holidays by date.
    published: BTreeMap<NaiveDate, Holiday>,
    data_years: Option<(i32, i32)>,
    table: Arc<Table>,
    /// Names the holidays in force (see [`Calendar::identity`]).
    identity: String,
}

impl fmt::Debug for Calendar {
    // The table is tens of thousands of entries; show its extent, not its contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("data_years", &self.data_years)
            .field("published_holidays", &self.published.len())
            .field("table_working_days", &self.table.working.len())
            .finish()
    }
}

fn identity(data_years: Option<(i32, i32)>, published: &BTreeMap<NaiveDate, Holiday>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(format!("{data_years:?}"));
    for date in published.keys() {
        hash.update(date.to_string());
    }
    hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("constant date is valid")
}

fn weekend_name(d: NaiveDate) -> Option<&'static str> {
    match d.weekday() {
        Weekday::Sat => Some("Saturday"),
        Weekday::Sun => Some("Sunday"),
        _ => None,
    }
}

impl Calendar {
    /// Builds a calendar from published holidays (e.g. from GOV.UK).
    ///
    /// The *data years* are every year from the earliest to the latest year
    /// with at least one published event; within them only the published
    /// holidays count. Years outside use [`rules::regular_holidays`]. If two
    /// holidays share a date the later one in `published` wins.
    pub fn new(published: Vec<Holiday>) -> Calendar {
        let data_years = published
            .iter()
            .map(|h| h.date.year())
            .fold(None, |acc: Option<(i32, i32)>, y| match acc {
                None => Some((y, y)),
                Some((lo, hi)) => Some((lo.min(y), hi.max(y))),
            });
        let published = published.into_iter().map(|h| (h.date, h)).collect();
        // Start with an empty table: building the real one asks the calendar
        // about each day, and those answers must come from the holidays alone.
        let mut calendar = Calendar {
            identity: identity(data_years, &published),
            published,
            data_years,
            table: Arc::new(Table {
                base: 0,
                before: vec![0],
                working: Vec::new(),
            }),
        };
        let table = Table::build(ymd(TABLE_FIRST), ymd(TABLE_LAST), |d| calendar.is_working_day_slow(d));
        calendar.table = Arc::new(table);
        calendar
    }

    /// A short digest of which days are holidays: equal for two calendars exactly when
    /// they count working days the same way (titles do not count). Stored answers that
    /// depend on the calendar carry it, so an import makes them visibly stale.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// A calendar with no published data: every year follows the regular rule.
    pub fn rules_only() -> Calendar {
        Calendar::new(Vec::new())
    }

    /// First and last data year, or `None` if built without published data.
    pub fn data_years(&self) -> Option<(i32, i32)> {
        self.data_years
    }

    fn is_data_year(&self, year: i32) -> bool {
        self.data_years.is_some_and(|(lo, hi)| (lo..=hi).contains(&year))
    }

    fn source_of(&self, year: i32) -> HolidaySource {
        if self.is_data_year(year) {
            HolidaySource::Published
        } else {
            HolidaySource::Rules
        }
    }

    /// Title of the bank holiday on `d`, if there is one.
    pub fn holiday(&self, d: NaiveDate) -> Option<&str> {
        if self.is_data_year(d.year()) {
            self.published.get(&d).map(|h| h.title.as_str())
        } else {
            rules::regular_events(d.year())
                .into_iter()
                .find(|e| e.date == d)
                .map(|e| e.title)
        }
    }

    fn is_working_day_slow(&self, d: NaiveDate) -> bool {
        weekend_name(d).is_none() && self.holiday(d).is_none()
    }

    /// Whether `d` is a working day (not a weekend, not a bank holiday).
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.table.is_working(d).unwrap_or_else(|| self.is_working_day_slow(d))
    }

    /// Bank holidays in force from `from` to `to` inclusive, sorted by date.
    /// Empty if `to` is before `from`.
    pub fn holidays_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<HolidayInForce> {
        (from.year()..=to.year())
            .flat_map(|year| self.holidays_in_year(year))
            .filter(|h| (from..=to).contains(&h.date))
            .collect()
    }

    fn holidays_in_year(&self, year: i32) -> Vec<HolidayInForce> {
        let source = self.source_of(year);
        let in_force = |date, title: &str| HolidayInForce {
            date,
            title: title.to_string(),
            source,
        };
        if source == HolidaySource::Published {
            let (Some(jan1), Some(dec31)) = (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ) else {
                return Vec::new();
            };
            // Map keys are sorted, so the year's holidays come out in date order.
            self.published
                .range(jan1..=dec31)
                .map(|(_, h)| in_force(h.date, &h.title))
                .collect()
        } else {
            rules::regular_events(year)
                .into_iter()
                .map(|e| in_force(e.date, e.title))
                .collect()
        }
    }

    /// `n >= 1`: the n-th working day after `d` (`d` itself never counts).
    /// `n == 0`: `d`. `n < 0`: the |n|-th working day before `d`.
    ///
    /// Saturates at chrono's earliest/latest date rather than panicking.
    pub fn add_working_days(&self, d: NaiveDate, n: i32) -> NaiveDate {
        if n == 0 {
            return d;
        }
        self.table.add(d, n).unwrap_or_else(|| self.walk(d, n))
    }

    /// Day-by-day count for dates the table does not cover.
    fn walk(&self, d: NaiveDate, n: i32) -> NaiveDate {
        let step = |day: NaiveDate| {
            if n > 0 {
                day.succ_opt()
            } else {
                day.pred_opt()
            }
        };
        let mut day = d;
        let mut left = n.unsigned_abs();
        while left > 0 {
            match step(day) {
                Some(next) => day = next,
                None => break,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Same date as [`Calendar::add_working_days`], plus every non-working day
    /// strictly between `d` and the result (in date order, for either sign of
    /// `n`) and the rule-derived years the count passed through.
    pub fn add_working_days_explained(&self, d: NaiveDate, n: i32) -> WorkingDaysResult {
        let date = self.add_working_days(d, n);
        // The days the count looked at: (d, date] going forwards, [date, d) back.
        let (first, last) = match n {
            0 => {
                return WorkingDaysResult {
                    date,
                    skipped: Vec::new(),
                    rule_years: Vec::new(),
                }
            }
            n if n > 0 => (d.succ_opt().unwrap_or(d), date),
            _ => (date, d.pred_opt().unwrap_or(d)),
        };
        let skipped = first
            .iter_days()
            .take_while(|day| *day <= last)
            .filter(|day| *day != date && !self.is_working_day(*day))
            .map(|day| Skipped {
                date: day,
                reason: self.non_working_reason(day),
            })
            .collect();
        let rule_years = (first.year()..=last.year())
            .filter(|y| !self.is_data_year(*y))
            .collect();
        WorkingDaysResult {
            date,
            skipped,
            rule_years,
        }
    }

    /// Why `d` is not a working day; a holiday title wins over the weekday.
    fn non_working_reason(&self, d: NaiveDate) -> String {
        self.holiday(d)
            .or_else(|| weekend_name(d))
            .unwrap_or("working day")
            .to_string()
    }

    /// Working days in `(from, to]`; negative (the mirror count over
    /// `(to, from]`) if `to < from`; 0 if equal.
    ///
    /// `working_days_between(d, add_working_days(d, n)) == n` for `n >= 0`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i32 {
        match from.cmp(&to) {
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => -self.working_days_between(to, from),
            std::cmp::Ordering::Less => match from.succ_opt() {
                Some(start) => saturate(self.count_inclusive(start, to)),
                None => 0,
            },
        }
    }

    /// Working days in `[a, b]` (`a <= b`): the part inside the table by
    /// lookup, any part outside it by walking.
    fn count_inclusive(&self, a: NaiveDate, b: NaiveDate) -> u64 {
        let (lo, hi) = (ymd(TABLE_FIRST), ymd(TABLE_LAST));
        if let Some(n) = self.table.count_inclusive(a, b) {
            return u64::from(n);
        }
        if b < lo || a > hi {
            return self.count_by_walking(a, b);
        }
        // The range overlaps the table and sticks out of at least one end.
        let mut total = u64::from(self.table.count_inclusive(a.max(lo), b.min(hi)).unwrap_or(0));
        if a < lo {
            total += self.count_by_walking(a, lo.pred_opt().unwrap_or(lo));
        }
        if b > hi {
            total += self.count_by_walking(hi.succ_opt().unwrap_or(hi), b);
        }
        total
    }

    fn count_by_walking(&self, a: NaiveDate, b: NaiveDate) -> u64 {
        let mut years = YearHolidays::default();
        a.iter_days()
            .take_while(|d| *d <= b)
            .filter(|d| weekend_name(*d).is_none() && !years.contains(self, *d))
            .count() as u64
    }
}

/// Caches one year's holiday dates so a long walk does not recompute the
/// rules for every day.
#[derive(Default)]
struct YearHolidays {
    year: Option<i32>,
    dates: Vec<NaiveDate>,
}

impl YearHolidays {
    fn contains(&mut self, calendar: &Calendar, d: NaiveDate) -> bool {
        if self.year != Some(d.year()) {
            self.year = Some(d.year());
            self.dates = calendar
                .holidays_in_year(d.year())
                .into_iter()
                .map(|h| h.date)
                .collect();
        }
        self.dates.contains(&d)
    }
}

/// Clamp a day count into i32 (only reachable for spans of millions of years).
fn saturate(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn known(years: std::ops::RangeInclusive<i32>) -> Vec<Holiday> {
        years.flat_map(rules::holidays_with_known_changes).collect()
    }

    /// The calendar the service ships: published data for 2010-2030.
    fn shipped() -> Calendar {
        Calendar::new(known(2010..=2030))
    }

    fn assert_twentieth(day0: NaiveDate, due: NaiveDate) {
        for cal in [shipped(), Calendar::new(known(1960..=2110))] {
            assert_eq!(cal.add_working_days(day0, 20), due, "{day0}");
            assert_eq!(cal.working_days_between(day0, due), 20, "{day0}");
            assert_eq!(cal.add_working_days(due, -20), last_working_on_or_before(&cal, day0));
        }
    }

    #[test]
    fn imported_history_from_2011_counts_the_royal_wedding() {
        // Thu 14 Apr 2011: Good Friday 22, Easter Monday 25, the wedding Fri 29 April and
        // the early May holiday Mon 2 May are skipped.
        assert_twentieth(date(2011, 4, 14), date(2011, 5, 18));
    }

    #[test]
    fn imported_history_from_2012_counts_the_diamond_jubilee() {
        // Fri 25 May 2012: the spring holiday moved from Mon 28 May to Mon 4 June, with
        // Tue 5 June added.
        assert_twentieth(date(2012, 5, 25), date(2012, 6, 26));
    }

    /// Counting 20 back from the due date lands on day 0 when it is a working
    /// day, otherwise on the last working day before it.
    fn last_working_on_or_before(cal: &Calendar, d: NaiveDate) -> NaiveDate {
        let mut d = d;
        while !cal.is_working_day(d) {
            d = d.pred_opt().unwrap();
        }
        d
    }

    #[test]
    fn twentieth_working_day_worked_example_fri_19_dec_2025() {
        assert_twentieth(date(2025, 12, 19), date(2026, 1, 21));
    }

    #[test]
    fn twentieth_working_day_worked_example_sat_28_mar_2026() {
        assert_twentieth(date(2026, 3, 28), date(2026, 4, 28));
    }

    #[test]
    fn twentieth_working_day_worked_example_fri_27_may_2022_platinum_jubilee() {
        assert_twentieth(date(2022, 5, 27), date(2022, 6, 28));
    }

    #[test]
    fn weekend_day_zero_counts_from_next_working_day() {
        let cal = shipped();
        // Sat 28 Mar 2026: day 1 is Mon 30 Mar.
        assert_eq!(cal.add_working_days(date(2026, 3, 28), 1), date(2026, 3, 30));
        assert_eq!(cal.add_working_days(date(2026, 3, 29), 1), date(2026, 3, 30));
        // Good Friday 3 Apr 2026 as day 0: day 1 is Tue 7 Apr (Easter Monday skipped).
        assert_eq!(cal.add_working_days(date(2026, 4, 3), 1), date(2026, 4, 7));
    }

    #[test]
    fn day_zero_never_counts_even_when_working() {
        let cal = shipped();
        assert_eq!(cal.add_working_days(date(2026, 3, 30), 1), date(2026, 3, 31));
        assert_eq!(cal.add_working_days(date(2026, 3, 30), 0), date(2026, 3, 30));
        assert_eq!(cal.add_working_days(date(2026, 3, 28), 0), date(2026, 3, 28));
    }

    #[test]
    fn christmas_eve_and_new_years_eve_are_working_days() {
        let cal = shipped();
        for y in [2020, 2021, 2022, 2025, 2026, 2035] {
            for d in [date(y, 12, 24), date(y, 12, 31)] {
                assert_eq!(cal.is_working_day(d), weekend_name(d).is_none(), "{d}");
            }
        }
    }

    #[test]
    fn christmas_and_good_friday_are_not_working_days() {
        let cal = shipped();
        assert!(!cal.is_working_day(date(2025, 12, 25)));
        assert!(!cal.is_working_day(date(2025, 4, 18)));
        assert_eq!(cal.holiday(date(2025, 4, 18)), Some("Good Friday"));
        assert_eq!(cal.holiday(date(2025, 4, 17)), None);
    }

    #[test]
    fn one_off_holidays_apply_from_published_data() {
        let cal = shipped();
        assert!(!cal.is_working_day(date(2020, 5, 8)));
        assert!(cal.is_working_day(date(2020, 5, 4)));
        assert!(!cal.is_working_day(date(2022, 6, 2)));
        assert!(!cal.is_working_day(date(2022, 6, 3)));
        assert!(cal.is_working_day(date(2022, 5, 30)));
        assert!(!cal.is_working_day(date(2022, 9, 19)));
        assert!(!cal.is_working_day(date(2023, 5, 1)));
        assert!(!cal.is_working_day(date(2023, 5, 8)));
    }

    #[test]
    fn rules_only_calendar_uses_regular_rule_everywhere() {
        let cal = Calendar::rules_only();
        assert_eq!(cal.data_years(), None);
        // No VE day move without published data.
        assert!(!cal.is_working_day(date(2020, 5, 4)));
        assert!(cal.is_working_day(date(2020, 5, 8)));
        let r = cal.add_working_days_explained(date(2025, 12, 19), 20);
        assert_eq!(r.date, date(2026, 1, 21));
        assert_eq!(r.rule_years, vec![2025, 2026]);
    }

    #[test]
    fn data_years_span_earliest_to_latest_published_year() {
        assert_eq!(shipped().data_years(), Some((2010, 2030)));
        // A data year with no events has no holidays (not rule holidays).
        let cal = Calendar::new(known(2015..=2015).into_iter().chain(known(2017..=2017)).collect());
        assert_eq!(cal.data_years(), Some((2015, 2017)));
        assert!(cal.is_working_day(date(2016, 12, 26)));
        assert!(cal.holidays_between(date(2016, 1, 1), date(2016, 12, 31)).is_empty());
    }

    #[test]
    fn data_years_fallback_uses_rules_for_2031_and_reports_it() {
        let cal = shipped();
        let r = cal.add_working_days_explained(date(2030, 12, 20), 20);
        assert_eq!(r.rule_years, vec![2031]);
        // Rules still make 1 Jan 2031 (a Wednesday) a holiday.
        assert!(r.skipped.contains(&Skipped {
            date: date(2031, 1, 1),
            reason: "New Year\u{2019}s Day".into()
        }));
        let inside = cal.add_working_days_explained(date(2025, 12, 19), 20);
        assert!(inside.rule_years.is_empty());
        let hs = cal.holidays_between(date(2030, 12, 1), date(2031, 1, 31));
        let sources: Vec<_> = hs.iter().map(|h| (h.date, h.source)).collect();
        assert_eq!(
            sources,
            vec![
                (date(2030, 12, 25), HolidaySource::Published),
                (date(2030, 12, 26), HolidaySource::Published),
                (date(2031, 1, 1), HolidaySource::Rules),
            ]
        );
    }

    #[test]
    fn explained_lists_skipped_days_with_reasons() {
        let r = shipped().add_working_days_explained(date(2025, 12, 19), 20);
        assert_eq!(r.date, date(2026, 1, 21));
        let reasons: Vec<_> = r.skipped.iter().take(5).map(|s| (s.date, s.reason.as_str())).collect();
        assert_eq!(
            reasons,
            vec![
                (date(2025, 12, 20), "Saturday"),
                (date(2025, 12, 21), "Sunday"),
                (date(2025, 12, 25), "Christmas Day"),
                (date(2025, 12, 26), "Boxing Day"),
                (date(2025, 12, 27), "Saturday"),
            ]
        );
        // 32 days strictly between, 19 of them working: 13 skipped.
        assert_eq!(r.skipped.len(), 13);
        assert!(r.skipped.iter().all(|s| s.date > date(2025, 12, 19) && s.date < r.date));
    }

    #[test]
    fn explained_mirrors_for_negative_n() {
        let cal = shipped();
        let r = cal.add_working_days_explained(date(2026, 1, 5), -3);
        // Back from Mon 5 Jan: Fri 2 Jan, Wed 31 Dec, Tue 30 Dec.
        assert_eq!(r.date, date(2025, 12, 30));
        let skipped: Vec<_> = r.skipped.iter().map(|s| s.date).collect();
        assert_eq!(skipped, vec![date(2026, 1, 1), date(2026, 1, 3), date(2026, 1, 4)]);
        assert_eq!(cal.add_working_days_explained(date(2026, 1, 5), 0).skipped, vec![]);
    }

    #[test]
    fn negative_n_counts_back_excluding_day_zero() {
        let cal = shipped();
        assert_eq!(cal.add_working_days(date(2026, 1, 21), -20), date(2025, 12, 19));
        // From a Sunday, one working day back is the Friday.
        assert_eq!(cal.add_working_days(date(2026, 3, 29), -1), date(2026, 3, 27));
        // Easter Tuesday back one skips Easter Monday and Good Friday.
        assert_eq!(cal.add_working_days(date(2026, 4, 7), -1), date(2026, 4, 2));
        assert_eq!(cal.working_days_between(date(2026, 4, 7), date(2026, 4, 2)), -1);
    }

    #[test]
    fn working_days_between_is_half_open() {
        let cal = shipped();
        let fri = date(2026, 3, 27);
        assert_eq!(cal.working_days_between(fri, fri), 0);
        assert_eq!(cal.working_days_between(fri, date(2026, 3, 29)), 0);
        assert_eq!(cal.working_days_between(fri, date(2026, 3, 30)), 1);
        assert_eq!(cal.working_days_between(date(2026, 3, 30), fri), -1);
        // A whole non-leap year of 2025: 261 weekdays less 8 holidays.
        assert_eq!(cal.working_days_between(date(2024, 12, 31), date(2025, 12, 31)), 253);
    }

    #[test]
    fn dates_outside_the_table_are_still_correct() {
        let cal = shipped();
        // 1969 and 2101+ are walked, with the regular rule.
        assert_eq!(
            cal.add_working_days(date(1969, 12, 19), 20),
            naive_add(&cal_ref(), date(1969, 12, 19), 20)
        );
        assert_eq!(
            cal.add_working_days(date(2100, 12, 24), 3),
            naive_add(&cal_ref(), date(2100, 12, 24), 3)
        );
        assert_eq!(
            cal.add_working_days(date(2150, 12, 24), -2),
            naive_add(&cal_ref(), date(2150, 12, 24), -2)
        );
        let span = cal.working_days_between(date(1960, 1, 1), date(2110, 1, 1));
        assert_eq!(span, naive_between(&cal_ref(), date(1960, 1, 1), date(2110, 1, 1)));
        assert!(!cal.is_working_day(date(2200, 12, 25)));
        assert_eq!(cal.holiday(date(1950, 4, 7)), Some("Good Friday"));
    }

    #[test]
    fn extreme_dates_saturate_instead_of_panicking() {
        let cal = Calendar::rules_only();
        assert_eq!(cal.add_working_days(NaiveDate::MAX, 5), NaiveDate::MAX);
        assert_eq!(cal.add_working_days(NaiveDate::MIN, -5), NaiveDate::MIN);
        assert_eq!(cal.working_days_between(NaiveDate::MAX, NaiveDate::MAX), 0);
    }

    #[test]
    fn calendar_is_send_sync_clone_debug() {
        fn check<T: Send + Sync + Clone + fmt::Debug>() {}
        check::<Calendar>();
        assert!(format!("{:?}", shipped()).contains("2010"));
    }

    #[test]
    fn regenerate_or_check_shipped_bank_holidays() {
        // Set BANK_HOLIDAYS_REGENERATE=1 to rewrite the file; otherwise it must
        // match the rules plus known changes for 2010-2030 exactly.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/bank-holidays.json");
        let expected = govuk::to_govuk_json(&known(2010..=2030));
        if std::env::var_os("BANK_HOLIDAYS_REGENERATE").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let shipped_json = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            shipped_json, expected,
            "{path} is stale; rerun with BANK_HOLIDAYS_REGENERATE=1"
        );
        let hs = govuk::parse_england_and_wales(&shipped_json).unwrap();
        let count = |y| hs.iter().filter(|h| h.date.year() == y).count();
        assert_eq!(
            (
                count(2011),
                count(2012),
                count(2015),
                count(2020),
                count(2022),
                count(2023)
            ),
            (9, 9, 8, 8, 10, 9)
        );
        let dates: Vec<_> = hs.iter().map(|h| h.date).collect();
        assert!(dates.contains(&date(2020, 5, 8)) && !dates.contains(&date(2020, 5, 4)));
        assert!(dates.contains(&date(2022, 9, 19)) && !dates.contains(&date(2022, 5, 30)));
    }

    // ---- reference implementation and property tests ----

    /// Independent holiday source for the shipped calendar: known changes for
    /// 2010-2030, regular rule otherwise, looked up by scanning.
    struct Reference;

    fn cal_ref() -> Reference {
        Reference
    }

    impl Reference {
        fn is_working(&self, d: NaiveDate) -> bool {
            let y = d.year();
            let hs = if (2010..=2030).contains(&y) {
                rules::holidays_with_known_changes(y)
            } else {
                rules::regular_holidays(y)
            };
            !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !hs.iter().any(|h| h.date == d)
        }
    }

    fn naive_add(r: &Reference, d: NaiveDate, n: i32) -> NaiveDate {
        let mut day = d;
        let mut left = n.abs();
        while left > 0 {
            day = if n > 0 {
                day.succ_opt().unwrap()
            } else {
                day.pred_opt().unwrap()
            };
            if r.is_working(day) {
                left -= 1;
            }
        }
        day
    }

    fn naive_between(r: &Reference, from: NaiveDate, to: NaiveDate) -> i32 {
        let (lo, hi, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
        let n = lo
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= hi)
            .filter(|d| r.is_working(*d))
            .count();
        sign * n as i32
    }

    fn any_date(from_year: i32, to_year: i32) -> impl Strategy<Value = NaiveDate> {
        let lo = date(from_year, 1, 1).num_days_from_ce();
        let hi = date(to_year, 12, 31).num_days_from_ce();
        (lo..=hi).prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap())
    }

    thread_local! {
        static SHIPPED: Calendar = shipped();
    }

    proptest! {
        #[test]
        fn prop_add_is_monotone_in_n(d in any_date(1990, 2090), n in 0i32..400) {
            SHIPPED.with(|cal| {
                prop_assert!(cal.add_working_days(d, n) < cal.add_working_days(d, n + 1));
                prop_assert!(cal.add_working_days(d, -n) > cal.add_working_days(d, -n - 1));
                Ok(())
            })?;
        }

        #[test]
        fn prop_result_is_a_working_day(d in any_date(1990, 2090), n in 1i32..400) {
            SHIPPED.with(|cal| {
                prop_assert!(cal.is_working_day(cal.add_working_days(d, n)));
                prop_assert!(cal.is_working_day(cal.add_working_days(d, -n)));
                Ok(())
            })?;
        }

        #[test]
        fn prop_between_inverts_add(d in any_date(1990, 2090), n in 0i32..400) {
            SHIPPED.with(|cal| {
                prop_assert_eq!(cal.working_days_between(d, cal.add_working_days(d, n)), n);
                Ok(())
            })?;
        }

        #[test]
        fn prop_fast_path_equals_naive_reference(d in any_date(1990, 2090), n in 0i32..400) {
            SHIPPED.with(|cal| {
                prop_assert_eq!(cal.add_working_days(d, n), naive_add(&Reference, d, n));
                prop_assert_eq!(cal.add_working_days(d, -n), naive_add(&Reference, d, -n));
                let e = naive_add(&Reference, d, n);
                prop_assert_eq!(cal.add_working_days_explained(d, n).date, e);
                Ok(())
            })?;
        }

        #[test]
        fn prop_outside_table_equals_naive_reference(d in any_date(1900, 2200), n in -400i32..400) {
            SHIPPED.with(|cal| {
                prop_assert_eq!(cal.add_working_days(d, n), naive_add(&Reference, d, n));
                let e = d + chrono::Duration::days(i64::from(n));
                prop_assert_eq!(cal.working_days_between(d, e), naive_between(&Reference, d, e));
                Ok(())
            })?;
        }
    }
}
