//! The KPI report as an XLSX workbook (`GET /reports/kpi.xlsx`), shaped like the board's
//! tables (the annual report's Tables 4-7). No database: the report and its lists in,
//! the file's bytes out.
//!
//! Rules:
//! - Sheet "Measures": the title names the financial year of the first month; one block
//!   of rows per measure (met, cohort, per cent, target, provisional), one column per
//!   month, as the board reads them.
//! - Sheet "Children": one row per child behind each figure: the local authority's own id,
//!   measure, month, outcome, reason and whose step it was. Never a name, NHS number or
//!   date of birth: the file leaves the service.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::kpi_report::KpiReport;
use crate::kpi::{self, Figure, Month};

/// The rows of each measure's block on the "Measures" sheet, in order.
pub const BLOCK_ROWS: [&str; 5] = ["Met", "Cohort", "Per cent", "Target per cent", "Provisional"];

/// The row (0-based) where the first measure's block starts on the "Measures" sheet.
pub const FIRST_BLOCK_ROW: u32 = 4;

/// The column headings of the "Children" sheet.
pub const CHILD_COLUMNS: [&str; 9] = [
    "Local id",
    "Local authority",
    "Measure",
    "Month",
    "Outcome",
    "Reason",
    "Whose step",
    "Counted",
    "Out of area",
];

pub fn workbook(report: &KpiReport, lists: &[Figure]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    measures_sheet(book.add_worksheet(), report)?;
    children_sheet(book.add_worksheet(), lists)?;
    book.save_to_buffer()
}

fn month_title(text: &str) -> String {
    Month::parse(text)
        .map(|m| m.first_day().format("%b %Y").to_string())
        .unwrap_or_default()
}

fn measures_sheet(sheet: &mut Worksheet, report: &KpiReport) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.set_name("Measures")?;
    let fy = Month::parse(&report.from).map(kpi::financial_year).unwrap_or_default();
    sheet.write_string_with_format(
        0,
        0,
        format!("Health assessments of children looked after: financial year {fy}"),
        &bold,
    )?;
    sheet.write_string(
        1,
        0,
        format!(
            "{} to {}, against a target of {}% for every measure",
            month_title(&report.from),
            month_title(&report.to),
            kpi::TARGET_PERCENT
        ),
    )?;
    sheet.set_column_width(0, 50)?;
    sheet.set_column_width(1, 16)?;
    let header = FIRST_BLOCK_ROW - 1;
    sheet.write_string_with_format(header, 0, "Measure", &bold)?;
    let months = report.measures.first().map(|m| m.months.as_slice()).unwrap_or_default();
    for (i, f) in months.iter().enumerate() {
        sheet.write_string_with_format(header, column(i), month_title(&f.month), &bold)?;
    }
    // A blank row between blocks, as the board's tables space them.
    let step = BLOCK_ROWS.len() as u32 + 1;
    for (b, m) in report.measures.iter().enumerate() {
        let top = FIRST_BLOCK_ROW + b as u32 * step;
        sheet.write_string_with_format(top, 0, &m.title, &bold)?;
        for (r, label) in BLOCK_ROWS.iter().enumerate() {
            sheet.write_string(top + r as u32, 1, *label)?;
        }
        for (i, f) in m.months.iter().enumerate() {
            let col = column(i);
            sheet.write_number(top, col, f.numerator as f64)?;
            sheet.write_number(top + 1, col, f.denominator as f64)?;
            match f.percent {
                Some(p) => sheet.write_number(top + 2, col, p)?,
                None => sheet.write_string(top + 2, col, "-")?,
            };
            sheet.write_number(top + 3, col, f64::from(m.target_percent))?;
            sheet.write_string(top + 4, col, if f.provisional { "Yes" } else { "No" })?;
        }
    }
    Ok(())
}

/// The column of the `i`th month (after the measure and row labels).
fn column(i: usize) -> u16 {
    u16::try_from(i + 2).unwrap_or(u16::MAX)
}

/// An enum's snake_case name, as the API writes it.
fn code<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn children_sheet(sheet: &mut Worksheet, lists: &[Figure]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.set_name("Children")?;
    for (c, heading) in CHILD_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *heading, &bold)?;
    }
    let rows = lists.iter().flat_map(|f| {
        let counted = f.entries.iter().map(move |e| (f, e, "In the figure"));
        let beside = f.beside.iter().map(move |e| (f, e, "Beside the figure"));
        counted.chain(beside)
    });
    for (i, (f, e, counted)) in rows.enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let cells = [
            e.local_id.clone(),
            e.local_authority.clone(),
            f.measure.as_str().to_string(),
            f.month.to_string(),
            code(e.outcome),
            e.reason.map(code).unwrap_or_default(),
            e.attribution.map(code).unwrap_or_default(),
            counted.to_string(),
            if e.out_of_area { "Yes" } else { "No" }.to_string(),
        ];
        for (c, value) in cells.into_iter().enumerate() {
            sheet.write_string(row, c as u16, value)?;
        }
    }
    Ok(())
}
