//! Field checks shared by the use cases. Each returns the cleaned value or a `FieldError`
//! naming the field, so a request can report every problem at once.

use chrono::NaiveDate;

use crate::error::{AppError, FieldError};

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
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(looks_like_email("sw@somerset.gov.uk"));
        for bad in ["sw", "@x.uk", "sw@localhost", "a b@x.uk", "a@b@x.uk", "a@.uk"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
