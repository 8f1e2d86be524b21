//! The trend chart beside each measure's table on `/reports`: the report's months made
//! into [`kpi::chart`]'s input (the drawing rules are there; `report_chart.html` draws it).

use crate::kpi::chart::{self, Chart, MonthValue};
use crate::kpi::Month;
use crate::service::kpi_report::MeasureRow;

/// The chart of one measure's row of the report.
pub fn of(m: &MeasureRow) -> Chart {
    let months: Vec<MonthValue> = m
        .months
        .iter()
        .filter_map(|f| {
            Some(MonthValue {
                // Written by `Month`'s Display, so it reads back.
                month: Month::parse(&f.month).ok()?,
                numerator: f.numerator,
                denominator: f.denominator,
                percent: f.percent,
                provisional: f.provisional,
            })
        })
        .collect();
    chart::line_chart(&m.measure, &m.title, &months, m.target_percent)
}
