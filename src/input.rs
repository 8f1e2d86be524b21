//! What the service accepts from outside, checked before anything else reads it. Pure: no
//! I/O. The rules:
//!
//! - **Text** holds no control character (Unicode category Cc: NUL, the other C0 controls,
//!   DEL and the C1 controls). Free-text fields that may span lines (a note's body, a health
//!   check's outcome, a reason for closing, a plan to offer again) may hold tab, CR and LF;
//!   every other text (names, codes, ids, emails, search terms) is single-line and may not.
//!   PostgreSQL cannot store NUL at all, and no name, code or id needs a control character,
//!   while one that reached a log line or an email could forge or hide part of it.
//! - **Dates** are `YYYY-MM-DD` exactly (RFC 3339 `full-date`): a four-digit year, two-digit
//!   month and day, a day that exists, and nothing around it. `2023-1-1` and ` 2023-01-01`
//!   are refused rather than guessed at.
//! - **Timestamps** are RFC 3339 with an offset (`2026-01-12T10:30:00Z`), nothing around it.
//!
//! `http::extract` applies these to every JSON body and query string (dates and timestamps
//! through the serde helpers below, named on each field); `auth::login` applies the text
//! rule to the sign-in form's email. Passwords are exempt: they are only ever hashed, and
//! NCSC guidance is to accept any character in them.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::de::{self, Deserializer, Visitor};

/// The first character `text` may not hold, if any. `multiline` allows tab, CR and LF.
pub fn control_character(text: &str, multiline: bool) -> Option<char> {
    text.chars()
        .find(|c| c.is_control() && !(multiline && matches!(c, '\t' | '\r' | '\n')))
}

/// Why a text was refused, for the field's error message.
pub fn control_character_message(found: char, multiline: bool) -> String {
    let code = u32::from(found);
    if multiline {
        format!("must not contain control characters other than tab and line breaks (found U+{code:04X})")
    } else {
        format!("must be a single line without control characters (found U+{code:04X})")
    }
}

/// `YYYY-MM-DD`, exactly.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(format!("{text:?} is not a date written YYYY-MM-DD (e.g. 2026-01-31)"));
    }
    // The shape check leaves only ASCII digits in each part, so these parse.
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let year = i32::try_from(number(0..4)).unwrap_or(0);
    NaiveDate::from_ymd_opt(year, number(5..7), number(8..10))
        .ok_or_else(|| format!("{text} is not a day in the calendar"))
}

/// RFC 3339 with an offset, nothing around it.
pub fn parse_timestamp(text: &str) -> Result<DateTime<FixedOffset>, String> {
    let message = || format!("{text:?} is not a timestamp written RFC 3339 with an offset (e.g. 2026-01-12T10:30:00Z)");
    if text.trim() != text {
        return Err(message());
    }
    DateTime::parse_from_rfc3339(text).map_err(|_| message())
}

struct StrictDate;

impl Visitor<'_> for StrictDate {
    type Value = NaiveDate;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a date written YYYY-MM-DD")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDate, E> {
        parse_date(v).map_err(E::custom)
    }
}

struct StrictTimestamp;

impl Visitor<'_> for StrictTimestamp {
    type Value = DateTime<FixedOffset>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a timestamp written RFC 3339 with an offset")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime<FixedOffset>, E> {
        parse_timestamp(v).map_err(E::custom)
    }
}

/// A `NaiveDate` field: `#[serde(deserialize_with = "crate::input::date")]`.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    d.deserialize_str(StrictDate)
}

/// An `Option<NaiveDate>` field: `#[serde(default, deserialize_with = "crate::input::optional_date")]`.
pub fn optional_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<NaiveDate>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a date written YYYY-MM-DD, or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            date(d).map(Some)
        }
    }
    d.deserialize_option(Optional)
}

/// A `DateTime<FixedOffset>` field: `#[serde(deserialize_with = "crate::input::timestamp")]`.
pub fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
    d.deserialize_str(StrictTimestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_yyyy_mm_dd_exactly() {
        assert_eq!(
            parse_date("2023-01-01"),
            Ok(NaiveDate::from_ymd_opt(2023, 1, 1).unwrap())
        );
        assert_eq!(
            parse_date("2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        for bad in [
            " 2023-01-01",
            "2023-01-01 ",
            "2023-1-1",
            "2023-01-1",
            "23-01-01",
            "+2023-01-01",
            "02023-01-01",
            "2023/01/01",
            "01/01/2023",
            "2023-01-01T00:00:00Z",
            "２０２３-01-01",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn dates_must_exist() {
        let err = parse_date("2023-02-29").unwrap_err();
        assert!(err.contains("not a day in the calendar"), "{err}");
        assert!(parse_date("2023-13-01").is_err());
        assert!(parse_date("2023-00-10").is_err());
    }

    #[test]
    fn timestamps_are_rfc3339_with_an_offset_and_nothing_around() {
        assert!(parse_timestamp("2026-01-12T10:30:00Z").is_ok());
        assert!(parse_timestamp("2026-01-12T10:30:00+01:00").is_ok());
        assert!(parse_timestamp("2026-01-12T10:30:00.250Z").is_ok());
        for bad in [
            " 2026-01-12T10:30:00Z",
            "2026-01-12T10:30:00Z ",
            "2026-01-12T10:30:00",
            "2026-1-12T10:30:00Z",
            "2026-01-12",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn single_line_text_refuses_every_control_character() {
        for c in ['\0', '\u{1}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert_eq!(
                control_character(&format!("a{c}b"), false),
                Some(c),
                "U+{:04X}",
                u32::from(c)
            );
        }
        assert_eq!(control_character("Zoë O'Brien-Smith", false), None);
    }

    #[test]
    fn free_text_may_hold_tabs_and_line_breaks_only() {
        assert_eq!(control_character("line one\r\nline two\tend", true), None);
        assert_eq!(control_character("a\0b", true), Some('\0'));
        assert_eq!(control_character("a\u{85}b", true), Some('\u{85}'));
        let message = control_character_message('\0', true);
        assert!(message.contains("U+0000"), "{message}");
    }
}
