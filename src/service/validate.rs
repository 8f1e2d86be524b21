//! Field checks shared by the use cases. Each returns the cleaned value or a `FieldError`
//! naming the field, so a request can report every problem at once.

use chrono::NaiveDate;

use crate::error::{AppError, FieldError};

/// The earliest day a view may be worked out for (`as_of`, on every endpoint that takes
/// it). Nobody in care today had an assessment clock running before it (children looked
/// after are under 18, care leavers at most 25), and from it on every working-day count is
/// a lookup in the calendar's table (1970-2100). A date centuries back would instead walk
/// the calendar day by day for every row: seconds of work for one request.
pub const AS_OF_EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// How far past today `as_of` may look: beyond any review interval (12 months at most)
/// with room for planning, and well inside the calendar's table.
pub const AS_OF_YEARS_AHEAD: u32 = 5;

/// The latest day a view may be worked out for, seen from `today`.
pub fn as_of_latest(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_months(chrono::Months::new(12 * AS_OF_YEARS_AHEAD))
        .unwrap_or(NaiveDate::MAX)
}

/// `as_of` as asked (default today), if within [`AS_OF_EARLIEST`] ..= [`as_of_latest`].
pub fn as_of(value: Option<NaiveDate>, today: NaiveDate) -> Result<NaiveDate, AppError> {
    let mut c = Checks::new();
    let as_of = c.as_of(value, today);
    c.finish()?;
    Ok(as_of)
}

/// Collects field errors; `finish` turns them into one 422.
#[derive(Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A required text: trimmed, not empty, at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.fail(field, "must not be empty");
        } else if v.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        } else if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            self.fail(field, "must not contain control characters");
        }
        v.to_string()
    }

    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        match value.map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(self.text(field, v, max)),
        }
    }

    pub fn optional_email(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let v = self.optional_text(field, value, 254)?;
        if !looks_like_email(&v) {
            self.fail(field, "must be an email address like name@example.nhs.uk");
        }
        Some(v)
    }

    /// A code from a fixed list (SSDA903 and the like).
    pub fn code(&mut self, field: &str, value: &str, known: fn(&str) -> Option<&'static str>, list: &str) -> String {
        let v = value.trim().to_ascii_uppercase();
        if known(&v).is_none() {
            self.fail(field, format!("unknown code {value:?}; must be one of {list}"));
        }
        v
    }

    /// A date that has already happened (statutory dates are never in the future).
    pub fn not_future(&mut self, field: &str, date: NaiveDate, today: NaiveDate) {
        if date > today {
            self.fail(field, format!("{date} is in the future (today is {today})"));
        }
    }

    pub fn not_before(&mut self, field: &str, date: NaiveDate, floor: NaiveDate, what: &str) {
        if date < floor {
            self.fail(field, format!("{date} is before {what} ({floor})"));
        }
    }

    /// A page of a list: `limit` 1-1000 (default `default_limit`), `offset` not negative.
    pub fn page(&mut self, limit: Option<i64>, offset: Option<i64>, default_limit: i64) -> (usize, usize) {
        let limit = limit.unwrap_or(default_limit);
        if !(1..=1000).contains(&limit) {
            self.fail("limit", "must be between 1 and 1000");
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            self.fail("offset", "must not be negative");
        }
        (
            usize::try_from(limit).unwrap_or(0),
            usize::try_from(offset).unwrap_or(0),
        )
    }

    /// The `as_of` date (default today), within the range every view allows.
    pub fn as_of(&mut self, value: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
        let as_of = value.unwrap_or(today);
        let latest = as_of_latest(today);
        if !(AS_OF_EARLIEST..=latest).contains(&as_of) {
            self.fail("as_of", format!("must be between {AS_OF_EARLIEST} and {latest}"));
        }
        as_of
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.errors))
        }
    }
}

/// JSON has one kind of number: `3` and `3.0` are the same number, and JSON Schema (so the
/// OpenAPI document) calls both an integer. Integer fields of a body accept either form;
/// `3.5`, or a number out of range, is still refused as malformed (400).
///
/// Use as `#[serde(deserialize_with = "whole::i32")]`, or for an optional field
/// `#[serde(default, deserialize_with = "whole::option_i32")]`.
pub mod whole {
    use serde::de::{self, Deserializer, Visitor};
    use serde::Deserialize;

    struct I32;

    impl Visitor<'_> for I32 {
        type Value = i32;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number (32-bit)")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
            i32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
            i32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i32, E> {
            let whole = v.fract() == 0.0 && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX);
            if whole {
                // Exact: a whole f64 within i32's range converts without loss.
                Ok(v as i32)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
    }

    pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        d.deserialize_any(I32)
    }

    /// Absent or `null` is `None`.
    pub fn option_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(deserialize_with = "i32")] i32);
        Ok(Option::<Wrapped>::deserialize(d)?.map(|Wrapped(v)| v))
    }
}

fn looks_like_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut c = Checks::new();
        assert_eq!(c.text("name", "  Amy ", 10), "Amy");
        assert!(c.is_empty());
        c.text("name", "   ", 10);
        c.text("name", "abcdefghijk", 10);
        c.text("name", "a\u{0}b", 10);
        assert_eq!(c.errors.len(), 3);
    }

    #[test]
    fn as_of_is_between_2000_and_five_years_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 2, 16).expect("a date");
        let day = |s: &str| s.parse::<NaiveDate>().expect("a date");
        assert_eq!(as_of(None, today).ok(), Some(today), "today by default");
        for ok in ["2000-01-01", "2026-02-16", "2031-02-16"] {
            assert_eq!(as_of(Some(day(ok)), today).ok(), Some(day(ok)), "{ok}");
        }
        for bad in ["0000-01-01", "1999-12-31", "2031-02-17", "9999-12-31"] {
            match as_of(Some(day(bad)), today) {
                Err(AppError::Invalid(errors)) => assert_eq!(errors[0].field, "as_of", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "whole::i32")]
            n: i32,
            #[serde(default, deserialize_with = "whole::option_i32")]
            m: Option<i32>,
        }
        let read = |json: &str| serde_json::from_str::<Body>(json).map(|b| (b.n, b.m));
        assert_eq!(read(r#"{"n": 3}"#).unwrap(), (3, None));
        assert_eq!(read(r#"{"n": 3.0, "m": -2.0}"#).unwrap(), (3, Some(-2)));
        assert_eq!(read(r#"{"n": 3, "m": null}"#).unwrap(), (3, None));
        for bad in [
            r#"{"n": 3.5}"#,
            r#"{"n": 1e10}"#,
            r#"{"n": "3"}"#,
            r#"{"n": 3, "m": 0.1}"#,
            r#"{"n": 2147483648}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(looks_like_email("sw@somerset.gov.uk"));
        for bad in ["sw", "@x.uk", "sw@localhost", "a b@x.uk", "a@b@x.uk", "a@.uk"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
