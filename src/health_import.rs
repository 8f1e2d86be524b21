//! The health-checks CSV a team brings from its spreadsheet: completed assessments (IHA,
//! RHA) and annual health checks, read and checked (pure: bytes in, records and a report
//! out). The database writer is [`crate::service::health_import`].
//!
//! The file (UTF-8, a header row naming these seven columns in any order, case ignored):
//!
//! | column | IHA / RHA rows | check rows |
//! |---|---|---|
//! | `child` | the LA's id for the child (the SSDA903 CHILD) | same |
//! | `kind` | `IHA` or `RHA` | `check` |
//! | `seen_on` | the day the child was seen (required) | empty |
//! | `report_received_on` | the day the report came (optional) | empty |
//! | `check_type` | empty | `dental`, `immunisations`, `sdq` or `development` |
//! | `date` | empty | the day of the check (required) |
//! | `result` | empty | see below |
//!
//! Rules:
//! - Dates are DD/MM/YYYY (as in SSDA903 files) or YYYY-MM-DD; both forms are read, no
//!   other. A date may not be after the import date.
//! - The report comes on or after the child was seen.
//! - `result`: for `immunisations`, `yes` or `no` (up to date for age; empty when not
//!   known); for `sdq`, the total score 0-40 or the reason code SDQ1-SDQ5 (required); for
//!   `dental` and `development`, the outcome as free text (at most 500 characters,
//!   optional).
//! - A column that does not belong to the row's kind must be empty, so a row cannot say
//!   two things.
//! - Every refused row is reported with file, line, column, value and reason; a child
//!   with any refused row is skipped whole (its other rows are counted as skipped).
//! - A file without the seven columns, or with another column, is refused whole.
//! - A child's rows are handed to the writer in date order, IHA before RHA on one day,
//!   so the review cycle follows the assessments as they happened.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};

use chrono::NaiveDate;

use crate::ssda903::report::{shown, write_rejections_csv};
use crate::ssda903::Rejection;

/// The columns, in the order the README lists them.
pub const COLUMNS: [&str; 7] = [
    "child",
    "kind",
    "seen_on",
    "report_received_on",
    "check_type",
    "date",
    "result",
];

/// The health checks the tracker records.
pub const CHECK_TYPES: [&str; 4] = ["dental", "immunisations", "sdq", "development"];

const SDQ_REASONS: [&str; 5] = ["SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5"];
const MAX_OUTCOME_CHARS: usize = 500;

/// IHA or RHA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AssessmentKind {
    Iha,
    Rha,
}

/// What one accepted row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Assessment {
        kind: AssessmentKind,
        seen_on: NaiveDate,
        report_received_on: Option<NaiveDate>,
    },
    Check {
        check_type: &'static str,
        on: NaiveDate,
        up_to_date: Option<bool>,
        sdq_score: Option<i32>,
        sdq_reason: Option<String>,
        outcome: Option<String>,
    },
}

impl Record {
    /// The order a child's rows are written in: by day, assessments before checks on a
    /// day, IHA before RHA.
    fn order(&self) -> (NaiveDate, u8) {
        match self {
            Record::Assessment {
                kind: AssessmentKind::Iha,
                seen_on,
                ..
            } => (*seen_on, 0),
            Record::Assessment { seen_on, .. } => (*seen_on, 1),
            Record::Check { on, .. } => (*on, 2),
        }
    }
}

/// An accepted row and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub record: Record,
}

/// One child's accepted rows, in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRows {
    pub child: String,
    pub rows: Vec<Row>,
}

/// What the import read, refused and (after the writer) wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub file: String,
    /// Why the file could not be read, when it could not.
    pub problem: Option<String>,
    pub rows_read: u64,
    /// Rows refused, one or more rejections each.
    pub rows_rejected: u64,
    /// Rows of children skipped because of a refused row elsewhere.
    pub rows_skipped: u64,
    pub children_read: u64,
    pub children_rejected: u64,
    pub rejections: Vec<Rejection>,
    /// Filled in by the writer: rows created and rows already held.
    pub written: Option<Written>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub created: u64,
    pub unchanged: u64,
}

/// The file read: the children to write and the report so far.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub children: Vec<ChildRows>,
    pub report: Report,
}

impl Report {
    /// The refused rows as CSV: file, line, child, column, value, reason.
    pub fn write_rejections_csv(&self, out: impl Write) -> csv::Result<()> {
        write_rejections_csv(&self.rejections, out)
    }

    /// Rows refused or skipped in all: read = written + this.
    pub fn rows_not_written(&self) -> u64 {
        self.rows_rejected + self.rows_skipped
    }

    /// A child refused by the writer: its rows move from accepted to skipped.
    pub fn reject_child(&mut self, child: &ChildRows, rejection: Rejection) {
        self.children_rejected += 1;
        self.rows_skipped += child.rows.len() as u64;
        self.rejections.push(rejection);
    }
}

/// Reads the file named `file` as of `today` (no date may be later).
pub fn parse(file: &str, input: impl Read, today: NaiveDate) -> Parsed {
    let mut report = Report {
        file: file.to_string(),
        ..Report::default()
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let positions = match reader.headers() {
        Ok(header) => match header_positions(header) {
            Ok(p) => p,
            Err(problem) => {
                report.problem = Some(problem);
                return Parsed {
                    children: Vec::new(),
                    report,
                };
            }
        },
        Err(e) => {
            report.problem = Some(format!("the header row cannot be read: {e}"));
            return Parsed {
                children: Vec::new(),
                report,
            };
        }
    };
    // Per child: its accepted rows and how many of its rows were refused.
    let mut by_child: BTreeMap<String, (Vec<Row>, u64)> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.problem = Some(format!("the rest of the file cannot be read: {e}"));
                break;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        report.rows_read += 1;
        let cells: [&str; 7] = std::array::from_fn(|i| record.get(positions[i]).unwrap_or("").trim());
        let child = cells[0].to_string();
        match check_row(&cells, today) {
            Ok(r) => by_child.entry(child).or_default().0.push(Row { line, record: r }),
            Err(problems) => {
                report.rows_rejected += 1;
                for (column, reason) in problems {
                    let at = COLUMNS.iter().position(|c| *c == column).unwrap_or(0);
                    report.rejections.push(Rejection {
                        file: file.to_string(),
                        line,
                        child: (!child.is_empty()).then(|| shown(&child)),
                        column: column.to_string(),
                        value: shown(cells[at]),
                        reason,
                    });
                }
                by_child.entry(child).or_default().1 += 1;
            }
        }
    }
    let mut children = Vec::new();
    for (child, (mut rows, refused)) in by_child {
        report.children_read += 1;
        if refused > 0 {
            report.children_rejected += 1;
            report.rows_skipped += rows.len() as u64;
            continue;
        }
        rows.sort_by_key(|r| r.record.order());
        children.push(ChildRows { child, rows });
    }
    Parsed { children, report }
}

/// Where each of [`COLUMNS`] is in the file.
fn header_positions(header: &csv::StringRecord) -> Result<[usize; 7], String> {
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    if let Some(other) = names.iter().find(|n| !COLUMNS.contains(&n.as_str())) {
        return Err(format!(
            "the header has a column \"{}\" that is not one of {}",
            shown(other),
            COLUMNS.join(", ")
        ));
    }
    let mut positions = [0usize; 7];
    for (i, column) in COLUMNS.iter().enumerate() {
        let found: Vec<usize> = (0..names.len()).filter(|&at| names[at] == *column).collect();
        match found.as_slice() {
            [at] => positions[i] = *at,
            [] => return Err(format!("the header has no column \"{column}\"")),
            _ => return Err(format!("the header names \"{column}\" more than once")),
        }
    }
    Ok(positions)
}

type Problems = Vec<(&'static str, String)>;

/// One row's cells in [`COLUMNS`] order: its record, or every problem found.
fn check_row(cells: &[&str; 7], today: NaiveDate) -> Result<Record, Problems> {
    let mut problems: Problems = Vec::new();
    let child = cells[0];
    if child.is_empty() {
        problems.push(("child", "is required".to_string()));
    } else if child.len() > 10 || !child.bytes().all(|b| b.is_ascii_alphanumeric()) {
        problems.push(("child", "must be 1 to 10 letters or digits".to_string()));
    }
    let record = match cells[1].to_ascii_lowercase().as_str() {
        "iha" => assessment(AssessmentKind::Iha, cells, today, &mut problems),
        "rha" => assessment(AssessmentKind::Rha, cells, today, &mut problems),
        "check" => check(cells, today, &mut problems),
        "" => {
            problems.push(("kind", "is required: IHA, RHA or check".to_string()));
            None
        }
        _ => {
            problems.push(("kind", "must be IHA, RHA or check".to_string()));
            None
        }
    };
    match record {
        Some(r) if problems.is_empty() => Ok(r),
        _ => Err(problems),
    }
}

fn assessment(kind: AssessmentKind, cells: &[&str; 7], today: NaiveDate, problems: &mut Problems) -> Option<Record> {
    for (at, column) in [(4, "check_type"), (5, "date"), (6, "result")] {
        if !cells[at].is_empty() {
            problems.push((column, "must be empty on an IHA or RHA row".to_string()));
        }
    }
    let seen_on = required_date("seen_on", cells[2], today, problems);
    let report = optional_date("report_received_on", cells[3], today, problems);
    if let (Some(seen), Some(r)) = (seen_on, report) {
        if r < seen {
            problems.push((
                "report_received_on",
                format!("is before seen_on ({})", seen.format("%d/%m/%Y")),
            ));
        }
    }
    Some(Record::Assessment {
        kind,
        seen_on: seen_on?,
        report_received_on: report,
    })
}

fn check(cells: &[&str; 7], today: NaiveDate, problems: &mut Problems) -> Option<Record> {
    for (at, column) in [(2, "seen_on"), (3, "report_received_on")] {
        if !cells[at].is_empty() {
            problems.push((column, "must be empty on a check row (use date)".to_string()));
        }
    }
    let on = required_date("date", cells[5], today, problems);
    let wanted = cells[4].to_ascii_lowercase();
    let Some(check_type) = CHECK_TYPES.iter().copied().find(|t| *t == wanted) else {
        let reason = if wanted.is_empty() {
            "is required: "
        } else {
            "must be one of "
        };
        problems.push(("check_type", format!("{reason}{}", CHECK_TYPES.join(", "))));
        return None;
    };
    let result = cells[6];
    let mut record = Record::Check {
        check_type,
        on: on?,
        up_to_date: None,
        sdq_score: None,
        sdq_reason: None,
        outcome: None,
    };
    let Record::Check {
        up_to_date,
        sdq_score,
        sdq_reason,
        outcome,
        ..
    } = &mut record
    else {
        return None;
    };
    match check_type {
        "immunisations" => match result.to_ascii_lowercase().as_str() {
            "" => {}
            "yes" => *up_to_date = Some(true),
            "no" => *up_to_date = Some(false),
            _ => problems.push(("result", "must be yes or no (up to date for age), or empty".to_string())),
        },
        "sdq" => {
            let upper = result.to_ascii_uppercase();
            if let Ok(score) = result.parse::<i32>() {
                if (0..=40).contains(&score) {
                    *sdq_score = Some(score);
                } else {
                    problems.push(("result", "an SDQ score must be between 0 and 40".to_string()));
                }
            } else if SDQ_REASONS.contains(&upper.as_str()) {
                *sdq_reason = Some(upper);
            } else {
                problems.push((
                    "result",
                    "must be the SDQ total score (0-40) or a reason code SDQ1-SDQ5".to_string(),
                ));
            }
        }
        _ if result.chars().count() > MAX_OUTCOME_CHARS => {
            problems.push(("result", format!("must be at most {MAX_OUTCOME_CHARS} characters")));
        }
        _ if result.chars().any(char::is_control) => {
            problems.push(("result", "must be a single line without control characters".to_string()));
        }
        _ => *outcome = (!result.is_empty()).then(|| result.to_string()),
    }
    Some(record)
}

/// DD/MM/YYYY or YYYY-MM-DD.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    crate::ssda903::rows::parse_date(text).or_else(|| crate::input::parse_date(text).ok())
}

fn optional_date(column: &'static str, text: &str, today: NaiveDate, problems: &mut Problems) -> Option<NaiveDate> {
    if text.is_empty() {
        return None;
    }
    match parse_date(text) {
        Some(d) if d > today => {
            problems.push((
                column,
                format!("is after the import date ({})", today.format("%d/%m/%Y")),
            ));
            None
        }
        Some(d) => Some(d),
        None => {
            problems.push((column, "must be a date written DD/MM/YYYY or YYYY-MM-DD".to_string()));
            None
        }
    }
}

fn required_date(column: &'static str, text: &str, today: NaiveDate, problems: &mut Problems) -> Option<NaiveDate> {
    if text.is_empty() {
        problems.push((column, "is required".to_string()));
        return None;
    }
    optional_date(column, text, today, problems)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {} rows read", self.file, self.rows_read)?;
        if let Some(problem) = &self.problem {
            writeln!(f, "  {problem}")?;
        }
        if !self.rejections.is_empty() {
            writeln!(f, "rejected rows:")?;
        }
        for r in &self.rejections {
            writeln!(
                f,
                "  {} line {}{}: {} = \"{}\": {}",
                r.file,
                r.line,
                r.child.as_ref().map(|c| format!(" (child {c})")).unwrap_or_default(),
                r.column,
                r.value,
                r.reason
            )?;
        }
        writeln!(
            f,
            "children: {} read, {} rejected",
            self.children_read, self.children_rejected
        )?;
        write!(
            f,
            "rows: {} read, {} rejected ({} refused, {} skipped with their child)",
            self.rows_read,
            self.rows_not_written(),
            self.rows_rejected,
            self.rows_skipped
        )?;
        if let Some(w) = self.written {
            write!(f, ", {} created, {} unchanged", w.created, w.unchanged)?;
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "child,kind,seen_on,report_received_on,check_type,date,result\n";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).expect("date")
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn read(body: &str) -> Parsed {
        parse("checks.csv", format!("{HEADER}{body}").as_bytes(), today())
    }

    #[test]
    fn dates_are_read_as_dd_mm_yyyy_or_yyyy_mm_dd_and_no_other_form() {
        assert_eq!(parse_date("03/02/2026"), Some(day(2026, 2, 3)));
        assert_eq!(parse_date("2026-02-03"), Some(day(2026, 2, 3)));
        for bad in ["3/2/2026", "2026/02/03", "02-03-2026", "31/02/2026", "2026-02-30", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_completed_assessment_needs_the_day_seen_and_a_report_not_before_it() {
        let p = read("C1,IHA,10/01/2026,2026-01-20,,,\nC2,rha,,,,,\nC3,RHA,10/01/2026,09/01/2026,,,\n");
        assert_eq!(
            p.children,
            vec![ChildRows {
                child: "C1".into(),
                rows: vec![Row {
                    line: 2,
                    record: Record::Assessment {
                        kind: AssessmentKind::Iha,
                        seen_on: day(2026, 1, 10),
                        report_received_on: Some(day(2026, 1, 20)),
                    },
                }],
            }]
        );
        let reasons: Vec<(u64, &str, &str)> = p
            .report
            .rejections
            .iter()
            .map(|r| (r.line, r.column.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (3, "seen_on", "is required"),
                (4, "report_received_on", "is before seen_on (10/01/2026)"),
            ]
        );
    }

    #[test]
    fn no_date_may_be_after_the_import_date() {
        let p = read("C1,check,,,dental,02/06/2026,\n");
        assert!(p.children.is_empty());
        assert_eq!(p.report.rejections[0].column, "date");
        assert!(p.report.rejections[0].reason.contains("after the import date"));
    }

    #[test]
    fn check_results_follow_the_check_type() {
        let p = read(concat!(
            "A1,check,,,immunisations,01/03/2026,yes\n",
            "A1,check,,,sdq,01/03/2026,14\n",
            "A1,check,,,sdq,02/03/2026,sdq4\n",
            "A1,check,,,dental,03/03/2026,seen; no treatment\n",
            "B1,check,,,sdq,01/03/2026,41\n",
            "B2,check,,,immunisations,01/03/2026,maybe\n",
            "B3,check,,,hearing,01/03/2026,\n",
            "B4,check,,,sdq,01/03/2026,\n",
        ));
        assert_eq!(p.children.len(), 1);
        let records: Vec<&Record> = p.children[0].rows.iter().map(|r| &r.record).collect();
        assert!(matches!(
            records[0],
            Record::Check {
                check_type: "immunisations",
                up_to_date: Some(true),
                ..
            }
        ));
        assert!(matches!(
            records[1],
            Record::Check {
                check_type: "sdq",
                sdq_score: Some(14),
                ..
            }
        ));
        assert!(matches!(records[2], Record::Check { check_type: "sdq", sdq_reason: Some(r), .. } if r == "SDQ4"));
        assert!(
            matches!(records[3], Record::Check { check_type: "dental", outcome: Some(o), .. } if o == "seen; no treatment")
        );
        let refused: Vec<&str> = p.report.rejections.iter().filter_map(|r| r.child.as_deref()).collect();
        assert_eq!(refused, vec!["B1", "B2", "B3", "B4"]);
        assert!(p
            .report
            .rejections
            .iter()
            .all(|r| r.column == "result" || r.column == "check_type"));
    }

    #[test]
    fn a_column_of_the_other_kind_must_be_empty() {
        let p = read("C1,IHA,10/01/2026,,dental,,\nC2,check,10/01/2026,,dental,10/01/2026,\n");
        let columns: Vec<&str> = p.report.rejections.iter().map(|r| r.column.as_str()).collect();
        assert_eq!(columns, vec!["check_type", "seen_on"]);
        assert!(p.children.is_empty());
    }

    #[test]
    fn a_child_with_a_refused_row_is_skipped_whole() {
        let p = read("C1,IHA,10/01/2026,,,,\nC1,RHA,bad,,,,\nC2,IHA,10/01/2026,,,,\n");
        assert_eq!(
            p.children.iter().map(|c| c.child.as_str()).collect::<Vec<_>>(),
            vec!["C2"]
        );
        assert_eq!(p.report.rows_read, 3);
        assert_eq!(p.report.rows_rejected, 1);
        assert_eq!(p.report.rows_skipped, 1);
        assert_eq!((p.report.children_read, p.report.children_rejected), (2, 1));
        let text = p.report.to_string();
        assert!(
            text.contains("checks.csv line 3 (child C1): seen_on = \"bad\""),
            "{text}"
        );
        assert!(
            text.ends_with("rows: 3 read, 2 rejected (1 refused, 1 skipped with their child)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_childs_rows_are_written_in_date_order_iha_first() {
        let p = read(
            "C1,RHA,10/01/2026,,,,\nC1,check,,,dental,01/01/2025,\nC1,IHA,10/01/2025,,,,\nC1,RHA,10/01/2025,,,,\n",
        );
        let lines: Vec<u64> = p.children[0].rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 2]);
    }

    #[test]
    fn a_file_without_the_seven_columns_is_refused_whole() {
        let p = parse("x.csv", "child,kind,seen_on\nC1,IHA,01/01/2026\n".as_bytes(), today());
        assert!(p
            .report
            .problem
            .as_deref()
            .is_some_and(|m| m.contains("no column \"report_received_on\"")));
        assert_eq!(p.report.rows_read, 0);
        let p = parse("x.csv", format!("nhs,{HEADER}").as_bytes(), today());
        assert!(p.report.problem.as_deref().is_some_and(|m| m.contains("\"nhs\"")));
        // Any order, any case, a byte-order mark allowed.
        let p = parse(
            "x.csv",
            "\u{feff}Result,Date,Check_Type,Report_Received_On,Seen_On,Kind,Child\n,,,,01/01/2026,IHA,C1\n".as_bytes(),
            today(),
        );
        assert_eq!(p.report.problem, None);
        assert_eq!(p.children.len(), 1);
    }

    #[test]
    fn values_in_the_report_are_cut_and_escaped() {
        let long = "x".repeat(200);
        let p = read(&format!("C1,{long},,,,,\n"));
        assert!(p.report.rejections[0].value.len() < 80);
    }
}
