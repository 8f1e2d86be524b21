//! The import report: what was read, what was refused and why, as text and as CSV.
//!
//! Rules:
//! - Every refused row is listed with its file, line, child (when readable), column, value
//!   and reason. A child with any refused row is skipped whole; its other rows are counted
//!   as skipped, not listed.
//! - Each file accounts for every row it had: read = imported + rejected + skipped.
//! - Values are shown at most [`MAX_VALUE_CHARS`] characters, with control characters
//!   escaped, so a mangled file cannot flood or garble the report. In the CSV, a value
//!   that a spreadsheet would run as a formula (= + - @ at the start) is prefixed with '.
//! - Created, updated and unchanged are counted by the database writer; a dry run leaves
//!   them out.

use std::fmt;
use std::io::Write;

/// Longest value shown in a rejection.
pub const MAX_VALUE_CHARS: usize = 60;

/// What the import read and refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub files: Vec<FileSummary>,
    pub rejections: Vec<Rejection>,
    pub children: Counts,
    pub periods: Counts,
    pub episodes: Counts,
}

/// One file given to the import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    pub name: String,
    /// "header", "episodes", "UASC", "OC2", "XML", or another SSDA903 file the tracker does not
    /// use; `None` when not recognised.
    pub kind: Option<String>,
    pub rows_read: u64,
    pub rows_imported: u64,
    pub rows_rejected: u64,
    /// Rows of children skipped because of a refused row elsewhere.
    pub rows_skipped: u64,
    /// Why the file (or the rest of it) could not be read.
    pub problem: Option<String>,
}

/// One refused row (a row with several problems appears once per problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub file: String,
    pub line: u64,
    pub child: Option<String>,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// Counts for children, periods or episodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: u64,
    pub rejected: u64,
    /// Filled in by the database writer.
    pub written: Option<Written>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl FileSummary {
    /// True when every row read is accounted for.
    pub fn balances(&self) -> bool {
        self.rows_read == self.rows_imported + self.rows_rejected + self.rows_skipped
    }
}

impl Report {
    /// The refused rows as CSV: file, line, child, column, value, reason.
    pub fn write_rejections_csv(&self, out: impl Write) -> csv::Result<()> {
        write_rejections_csv(&self.rejections, out)
    }
}

/// Refused rows as CSV: file, line, child, column, value, reason (also the health-checks
/// import's).
pub fn write_rejections_csv(rejections: &[Rejection], out: impl Write) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["file", "line", "child", "column", "value", "reason"])?;
    for r in rejections {
        let line = r.line.to_string();
        writer.write_record([
            spreadsheet_safe(&r.file).as_str(),
            line.as_str(),
            spreadsheet_safe(r.child.as_deref().unwrap_or("")).as_str(),
            r.column.as_str(),
            spreadsheet_safe(&r.value).as_str(),
            spreadsheet_safe(&r.reason).as_str(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// A value as shown: control characters escaped, cut after about [`MAX_VALUE_CHARS`]
/// characters (one escape may run past it) with "..." added.
pub fn shown(value: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    for c in value.chars() {
        if count >= MAX_VALUE_CHARS {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            let escaped: String = c.escape_default().collect();
            count += escaped.chars().count();
            out.push_str(&escaped);
        } else {
            count += 1;
            out.push(c);
        }
    }
    out
}

/// Stops a spreadsheet from running a value as a formula (OWASP CSV injection).
fn spreadsheet_safe(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            writeln!(
                f,
                "{}: {} ({} rows read, {} imported, {} rejected, {} skipped)",
                file.name,
                file.kind.as_deref().unwrap_or("not recognised"),
                file.rows_read,
                file.rows_imported,
                file.rows_rejected,
                file.rows_skipped
            )?;
            if let Some(problem) = &file.problem {
                writeln!(f, "  {problem}")?;
            }
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
                r.child.as_ref().map(|c| format!(" (CHILD {c})")).unwrap_or_default(),
                r.column,
                r.value,
                r.reason
            )?;
        }
        write_counts(f, "children", &self.children)?;
        write_counts(f, "periods", &self.periods)?;
        write_counts(f, "episodes", &self.episodes)
    }
}

fn write_counts(f: &mut fmt::Formatter<'_>, what: &str, counts: &Counts) -> fmt::Result {
    write!(f, "{what}: {} read, {} rejected", counts.read, counts.rejected)?;
    if let Some(w) = counts.written {
        write!(
            f,
            ", {} created, {} updated, {} unchanged",
            w.created, w.updated, w.unchanged
        )?;
    }
    writeln!(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cut_and_control_characters_escaped() {
        assert_eq!(shown("a\u{0}b\nc"), "a\\u{0}b\\nc");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).chars().count(), MAX_VALUE_CHARS + 3);
        let controls = "\u{1}".repeat(500);
        assert!(shown(&controls).chars().count() <= MAX_VALUE_CHARS + 13);
    }

    #[test]
    fn rejections_csv_defuses_formulas() {
        let report = Report {
            rejections: vec![Rejection {
                file: "episodes.csv".into(),
                line: 7,
                child: Some("C1".into()),
                column: "LS".into(),
                value: "=HYPERLINK(\"x\")".into(),
                reason: "LS must be one of C1, C2".into(),
            }],
            ..Report::default()
        };
        let mut out = Vec::new();
        report.write_rejections_csv(&mut out).expect("csv");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.starts_with("file,line,child,column,value,reason\n"));
        assert!(
            text.contains("episodes.csv,7,C1,LS,\"'=HYPERLINK(\"\"x\"\")\""),
            "{text}"
        );
    }

    #[test]
    fn text_report_ends_with_the_counts() {
        let report = Report {
            children: Counts {
                read: 3,
                rejected: 1,
                written: Some(Written {
                    created: 2,
                    updated: 0,
                    unchanged: 0,
                }),
            },
            ..Report::default()
        };
        let text = report.to_string();
        assert!(text.contains("children: 3 read, 1 rejected, 2 created, 0 updated, 0 unchanged"));
        assert!(text.contains("episodes: 0 read, 0 rejected\n"));
    }
}
