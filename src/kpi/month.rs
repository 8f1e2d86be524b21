//! A calendar month, written `YYYY-MM` in URLs, CSV and JSON.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a month: use YYYY-MM, for example 2026-01")]
pub struct MonthError(pub String);

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|first| Month { first })
    }

    pub fn containing(day: NaiveDate) -> Month {
        Month {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    /// Strictly `YYYY-MM` (four-digit year, two-digit month).
    pub fn parse(text: &str) -> Result<Month, MonthError> {
        let bad = || MonthError(text.to_string());
        let bytes = text.as_bytes();
        if bytes.len() != 7
            || bytes[4] != b'-'
            || !text[..4].bytes().chain(text[5..].bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year = text[..4].parse().map_err(|_| bad())?;
        let month = text[5..].parse().map_err(|_| bad())?;
        Month::new(year, month).ok_or_else(bad)
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first.pred_opt().unwrap_or(self.first)
    }

    pub fn next(self) -> Month {
        Month {
            first: self
                .first
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(self.first),
        }
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        Month::containing(day) == self
    }

    /// `from` to `to`, both included (empty when `to` is before `from`).
    pub fn range(from: Month, to: Month) -> Vec<Month> {
        let mut months = Vec::new();
        let mut m = from;
        while m <= to {
            months.push(m);
            let next = m.next();
            if next == m {
                break;
            }
            m = next;
        }
        months
    }

    /// "January 2026", for headings.
    pub fn title(self) -> String {
        self.first.format("%B %Y").to_string()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
