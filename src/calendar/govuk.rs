//! Reading and writing GOV.UK's `bank-holidays.json` format.
//!
//! Only the England and Wales division matters to this service; the other
//! divisions are accepted and ignored so the official file can be used as is.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::Holiday;

const DIVISION: &str = "england-and-wales";

/// Why a `bank-holidays.json` document was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovUkError(pub String);

impl fmt::Display for GovUkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bank holidays JSON: {}", self.0)
    }
}

impl std::error::Error for GovUkError {}

fn default_bunting() -> bool {
    true
}

#[derive(Deserialize)]
struct RawEvent {
    title: String,
    date: String,
    #[serde(default)]
    notes: String,
    #[serde(default = "default_bunting")]
    bunting: bool,
}

#[derive(Deserialize)]
struct RawDivision {
    events: Vec<RawEvent>,
}

/// Parses the England and Wales division of a GOV.UK `bank-holidays.json`.
///
/// Rejects a missing division, malformed JSON, dates that are not
/// `YYYY-MM-DD`, two events on one date, and events at a weekend (GOV.UK lists
/// the substitute weekday instead, so a weekend event means the data is wrong).
/// The result is sorted by date.
pub fn parse_england_and_wales(json: &str) -> Result<Vec<Holiday>, GovUkError> {
    // Other divisions are kept as raw JSON so their contents cannot fail the parse.
    let doc: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| GovUkError(format!("not valid JSON: {e}")))?;
    let division = doc
        .get(DIVISION)
        .ok_or_else(|| GovUkError(format!("no \"{DIVISION}\" division")))?;
    let raw = RawDivision::deserialize(division)
        .map_err(|e| GovUkError(format!("\"{DIVISION}\" division is malformed: {e}")))?;
    let mut holidays = raw
        .events
        .into_iter()
        .enumerate()
        .map(|(i, e)| to_holiday(i, e))
        .collect::<Result<Vec<_>, _>>()?;
    holidays.sort_by_key(|h| h.date);
    reject_duplicates(&holidays)?;
    Ok(holidays)
}

fn to_holiday(index: usize, e: RawEvent) -> Result<Holiday, GovUkError> {
    let name = format!("event {} (\"{}\", \"{}\")", index + 1, e.title, e.date);
    let date = NaiveDate::parse_from_str(&e.date, "%Y-%m-%d")
        .map_err(|err| GovUkError(format!("{name}: date is not a valid YYYY-MM-DD date: {err}")))?;
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return Err(GovUkError(format!(
            "{name}: falls on a {:?}; bank holidays are weekdays (list the substitute day instead)",
            date.weekday()
        )));
    }
    Ok(Holiday {
        date,
        title: e.title,
        notes: e.notes,
        bunting: e.bunting,
    })
}

fn reject_duplicates(sorted: &[Holiday]) -> Result<(), GovUkError> {
    match sorted.windows(2).find(|w| w[0].date == w[1].date) {
        Some(w) => Err(GovUkError(format!(
            "events \"{}\" and \"{}\" are both on {}; each date may appear once",
            w[0].title, w[1].title, w[0].date
        ))),
        None => Ok(()),
    }
}

#[derive(Serialize)]
struct OutEvent<'a> {
    title: &'a str,
    date: String,
    notes: &'a str,
    bunting: bool,
}

#[derive(Serialize)]
struct OutDivision<'a> {
    division: &'a str,
    events: Vec<OutEvent<'a>>,
}

#[derive(Serialize)]
struct OutDoc<'a> {
    #[serde(rename = "england-and-wales")]
    england_and_wales: OutDivision<'a>,
}

/// Writes `holidays` as a GOV.UK-style `bank-holidays.json` holding only the
/// England and Wales division, events sorted by date, pretty-printed with a
/// trailing newline. `parse_england_and_wales` reads it back unchanged.
pub fn to_govuk_json(holidays: &[Holiday]) -> String {
    let mut sorted: Vec<&Holiday> = holidays.iter().collect();
    sorted.sort_by_key(|h| h.date);
    let events = sorted
        .into_iter()
        .map(|h| OutEvent {
            title: &h.title,
            date: h.date.format("%Y-%m-%d").to_string(),
            notes: &h.notes,
            bunting: h.bunting,
        })
        .collect();
    let doc = OutDoc {
        england_and_wales: OutDivision {
            division: DIVISION,
            events,
        },
    };
    // Only strings and bools with string keys: serde_json cannot fail on these.
    let mut out = serde_json::to_string_pretty(&doc).expect("plain structs always serialise");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::rules::holidays_with_known_changes;

    fn all_known(years: std::ops::RangeInclusive<i32>) -> Vec<Holiday> {
        years.flat_map(holidays_with_known_changes).collect()
    }

    fn doc_with_events(events: &str) -> String {
        format!(
            r#"{{"england-and-wales": {{"division": "england-and-wales", "events": [{events}]}},
               "scotland": {{"division": "scotland", "events": [{{"title": "St Andrew’s Day", "date": "2025-12-01", "notes": "", "bunting": true}}]}}}}"#
        )
    }

    fn err_of(json: &str) -> String {
        parse_england_and_wales(json).unwrap_err().to_string()
    }

    #[test]
    fn govuk_json_round_trip() {
        let hs = all_known(2010..=2030);
        let json = to_govuk_json(&hs);
        assert_eq!(parse_england_and_wales(&json).unwrap(), hs);
        assert!(json.contains("\"division\": \"england-and-wales\""));
        assert!(json.contains("New Year\u{2019}s Day"));
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn govuk_json_output_is_sorted_by_date() {
        let mut hs = all_known(2024..=2025);
        hs.reverse();
        let parsed = parse_england_and_wales(&to_govuk_json(&hs)).unwrap();
        assert!(parsed.windows(2).all(|w| w[0].date < w[1].date));
    }

    #[test]
    fn govuk_parse_ignores_other_divisions_and_sorts() {
        let json = doc_with_events(
            r#"{"title": "Boxing Day", "date": "2025-12-26", "notes": "", "bunting": true},
               {"title": "Good Friday", "date": "2025-04-18", "notes": "", "bunting": false}"#,
        );
        let hs = parse_england_and_wales(&json).unwrap();
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].title, "Good Friday");
        assert!(!hs[0].bunting);
        assert_eq!(hs[1].date, NaiveDate::from_ymd_opt(2025, 12, 26).unwrap());
    }

    #[test]
    fn govuk_rejects_missing_division() {
        let json = r#"{"scotland": {"division": "scotland", "events": []}}"#;
        assert!(err_of(json).contains("no \"england-and-wales\" division"));
    }

    #[test]
    fn govuk_rejects_invalid_json() {
        assert!(err_of("{not json").contains("not valid JSON"));
        assert!(err_of(r#"{"england-and-wales": {"events": 3}}"#).contains("malformed"));
    }

    #[test]
    fn govuk_rejects_bad_date_naming_the_event() {
        let json = doc_with_events(r#"{"title": "Good Friday", "date": "2025-02-30", "notes": "", "bunting": false}"#);
        let msg = err_of(&json);
        assert!(msg.contains("Good Friday") && msg.contains("2025-02-30"), "{msg}");
        assert!(msg.contains("not a valid YYYY-MM-DD date"), "{msg}");
    }

    #[test]
    fn govuk_rejects_weekend_event_naming_the_event() {
        let json = doc_with_events(r#"{"title": "Christmas Day", "date": "2021-12-25", "notes": "", "bunting": true}"#);
        let msg = err_of(&json);
        assert!(msg.contains("Christmas Day") && msg.contains("Sat"), "{msg}");
    }

    #[test]
    fn govuk_rejects_duplicate_dates() {
        let json = doc_with_events(
            r#"{"title": "Boxing Day", "date": "2025-12-26", "notes": "", "bunting": true},
               {"title": "Extra", "date": "2025-12-26", "notes": "", "bunting": true}"#,
        );
        let msg = err_of(&json);
        assert!(msg.contains("Boxing Day") && msg.contains("Extra"), "{msg}");
        assert!(msg.contains("2025-12-26"), "{msg}");
    }
}
