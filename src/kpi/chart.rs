//! A measure's months as an SVG trend chart (issue 12). Pure: the monthly figures in, the
//! chart's geometry and words out; `templates/report_chart.html` draws it (escaped), and
//! the page keeps the figures' table beside it.
//!
//! Rules:
//! - The vertical scale is always 0 to 100 per cent, so two charts (or two years) compare
//!   by eye and a small dip is not magnified; the target is a dashed line at 90%.
//! - One point per month with children, joined by a line; a month with no children has no
//!   point and breaks the line (nothing is drawn where nothing was measured).
//! - A provisional month is a hollow point, a final one solid: told apart by shape, never
//!   by colour alone, and named in the description.
//! - At most 12 month labels: over a longer span every second or third month is labelled;
//!   the year is written under each January and under the first month.
//! - The chart is an image with a title and a description for screen readers, which says
//!   what a sighted reader takes from it: the span, how many months met the target, the
//!   lowest and highest month, which are provisional and which had no children.

use super::Month;

/// One month of a measure, as the chart needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthValue {
    pub month: Month,
    pub numerator: usize,
    pub denominator: usize,
    /// `None` when no child was in the figure.
    pub percent: Option<f64>,
    pub provisional: bool,
}

/// The drawing area inside the chart's margins (SVG user units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub y: f64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonthLabel {
    pub x: f64,
    /// "Jan".
    pub month: String,
    /// "2026" under January and the first month.
    pub year: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub provisional: bool,
    /// "January 2026: 1 of 3 (33.3%), provisional": the point's tooltip.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Unique on the page; the title's and description's ids derive from it.
    pub id: String,
    pub title: String,
    pub description: String,
    pub width: u32,
    pub height: u32,
    pub area: Area,
    pub y_ticks: Vec<Tick>,
    pub month_labels: Vec<MonthLabel>,
    pub target_y: f64,
    pub target_label: String,
    /// SVG `points` of each unbroken run of months ("x,y x,y ...").
    pub lines: Vec<String>,
    pub points: Vec<Point>,
    pub has_provisional: bool,
}

const WIDTH: u32 = 640;
const HEIGHT: u32 = 300;
const AREA: Area = Area {
    left: 56.0,
    top: 16.0,
    right: 624.0,
    bottom: 248.0,
};
const MAX_LABELS: usize = 12;

impl Area {
    /// The height on the chart of `percent` (0 at the bottom, 100 at the top).
    fn y(&self, percent: f64) -> f64 {
        let p = percent.clamp(0.0, 100.0);
        round(self.bottom - (self.bottom - self.top) * p / 100.0)
    }

    /// The middle of the `i`th of `n` equal columns.
    fn x(&self, i: usize, n: usize) -> f64 {
        round(self.left + (self.right - self.left) * (i as f64 + 0.5) / n.max(1) as f64)
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The chart of one measure (`key` makes the ids, `title` the heading) over `months`.
pub fn line_chart(key: &str, title: &str, months: &[MonthValue], target: u32) -> Chart {
    let n = months.len();
    let points: Vec<Point> = months
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let p = m.percent?;
            Some(Point {
                x: AREA.x(i, n),
                y: AREA.y(p),
                provisional: m.provisional,
                label: point_label(m, p),
            })
        })
        .collect();
    Chart {
        id: format!("chart-{key}"),
        title: format!("{title}: per cent met each month"),
        description: describe(months, target),
        width: WIDTH,
        height: HEIGHT,
        area: AREA,
        y_ticks: (0..=100)
            .step_by(20)
            .map(|p| Tick {
                y: AREA.y(f64::from(p)),
                label: format!("{p}%"),
            })
            .collect(),
        month_labels: month_labels(months),
        target_y: AREA.y(f64::from(target)),
        target_label: format!("Target {target}%"),
        lines: runs(months),
        has_provisional: points.iter().any(|p| p.provisional),
        points,
    }
}

fn point_label(m: &MonthValue, percent: f64) -> String {
    let state = if m.provisional { ", provisional" } else { "" };
    format!(
        "{}: {} of {} ({percent:.1}%){state}",
        m.month.title(),
        m.numerator,
        m.denominator
    )
}

/// The polylines: consecutive months with children, a month without breaking the line.
fn runs(months: &[MonthValue]) -> Vec<String> {
    let n = months.len();
    let mut lines = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for (i, m) in months.iter().enumerate() {
        match m.percent {
            Some(p) => current.push(format!("{},{}", AREA.x(i, n), AREA.y(p))),
            None => lines.push(std::mem::take(&mut current)),
        }
    }
    lines.push(current);
    lines
        .into_iter()
        .filter(|run| run.len() > 1)
        .map(|run| run.join(" "))
        .collect()
}

fn month_labels(months: &[MonthValue]) -> Vec<MonthLabel> {
    let n = months.len();
    let step = n.div_ceil(MAX_LABELS).max(1);
    months
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, m)| {
            let first = m.month.first_day();
            let january = first.format("%m").to_string() == "01";
            MonthLabel {
                x: AREA.x(i, n),
                month: first.format("%b").to_string(),
                year: (i == 0 || january).then(|| first.format("%Y").to_string()),
            }
        })
        .collect()
}

/// What a sighted reader takes from the chart, in words.
fn describe(months: &[MonthValue], target: u32) -> String {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return "No months to show.".into();
    };
    let mut text = format!(
        "The per cent met in each month from {} to {}, against the target of {target}% (the dashed line).",
        first.month.title(),
        last.month.title()
    );
    let measured: Vec<(&MonthValue, f64)> = months.iter().filter_map(|m| Some((m, m.percent?))).collect();
    if measured.is_empty() {
        text.push_str(" No month had any children in this measure.");
        return text;
    }
    let met = measured.iter().filter(|(_, p)| *p >= f64::from(target)).count();
    text.push_str(&format!(
        " {met} of the {} months with children met the target.",
        measured.len()
    ));
    // The first of equal lows (or highs) is named.
    let low = measured
        .iter()
        .fold(measured[0], |lo, &m| if m.1 < lo.1 { m } else { lo });
    let high = measured
        .iter()
        .fold(measured[0], |hi, &m| if m.1 > hi.1 { m } else { hi });
    text.push_str(&format!(
        " Lowest {:.1}% in {}; highest {:.1}% in {}.",
        low.1,
        low.0.month.title(),
        high.1,
        high.0.month.title()
    ));
    let provisional: Vec<String> = measured
        .iter()
        .filter(|(m, _)| m.provisional)
        .map(|(m, _)| m.month.title())
        .collect();
    if !provisional.is_empty() {
        text.push_str(&format!(
            " Provisional, drawn as hollow points, as they can still change: {}.",
            provisional.join(", ")
        ));
    }
    let empty: Vec<String> = months
        .iter()
        .filter(|m| m.percent.is_none())
        .map(|m| m.month.title())
        .collect();
    if !empty.is_empty() {
        text.push_str(&format!(" No children, so no point: {}.", empty.join(", ")));
    }
    text.push_str(" The figures are in the table that follows.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap()
    }

    fn value(m: &str, numerator: usize, denominator: usize, provisional: bool) -> MonthValue {
        MonthValue {
            month: month(m),
            numerator,
            denominator,
            percent: (denominator > 0).then(|| (numerator as f64 * 1000.0 / denominator as f64).round() / 10.0),
            provisional,
        }
    }

    fn chart(values: &[MonthValue]) -> Chart {
        line_chart("iha", "Initial health assessments", values, 90)
    }

    #[test]
    fn the_scale_runs_from_0_at_the_bottom_to_100_at_the_top_with_the_target_at_90() {
        let c = chart(&[value("2026-01", 0, 4, false), value("2026-02", 4, 4, false)]);
        assert_eq!((c.points[0].y, c.points[1].y), (c.area.bottom, c.area.top));
        let height = c.area.bottom - c.area.top;
        assert!(
            (c.area.bottom - c.target_y - height * 0.9).abs() < 0.1,
            "{}",
            c.target_y
        );
        assert_eq!(c.target_label, "Target 90%");
        let ticks: Vec<&str> = c.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(ticks, ["0%", "20%", "40%", "60%", "80%", "100%"]);
    }

    #[test]
    fn months_run_left_to_right_in_equal_steps_inside_the_area() {
        let c = chart(&[
            value("2026-01", 1, 2, false),
            value("2026-02", 1, 2, false),
            value("2026-03", 1, 2, false),
        ]);
        let xs: Vec<f64> = c.points.iter().map(|p| p.x).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        assert!((xs[1] - xs[0] - (xs[2] - xs[1])).abs() < 0.2, "{xs:?}");
        assert!(xs[0] > c.area.left && xs[2] < c.area.right);
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].split(' ').count(), 3);
    }

    #[test]
    fn a_month_without_children_has_no_point_and_breaks_the_line() {
        let c = chart(&[
            value("2026-01", 1, 2, false),
            value("2026-02", 2, 2, false),
            value("2026-03", 0, 0, false),
            value("2026-04", 1, 1, false),
            value("2026-05", 1, 1, false),
        ]);
        assert_eq!(c.points.len(), 4);
        assert_eq!(c.lines.len(), 2, "{:?}", c.lines);
        assert!(
            c.description.contains("No children, so no point: March 2026."),
            "{}",
            c.description
        );
    }

    #[test]
    fn provisional_months_are_hollow_points_named_in_the_description() {
        let c = chart(&[value("2026-01", 9, 10, false), value("2026-02", 1, 3, true)]);
        assert!(c.has_provisional);
        assert_eq!(
            c.points.iter().map(|p| p.provisional).collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(c.points[1].label, "February 2026: 1 of 3 (33.3%), provisional");
        assert!(
            c.description
                .contains("Provisional, drawn as hollow points, as they can still change: February 2026."),
            "{}",
            c.description
        );
    }

    #[test]
    fn the_description_says_how_many_months_met_the_target_and_the_lowest_and_highest() {
        let c = chart(&[
            value("2025-12", 9, 10, false),
            value("2026-01", 1, 3, false),
            value("2026-02", 19, 20, false),
        ]);
        assert_eq!(c.title, "Initial health assessments: per cent met each month");
        assert_eq!(
            c.description,
            "The per cent met in each month from December 2025 to February 2026, against the target \
             of 90% (the dashed line). 2 of the 3 months with children met the target. Lowest 33.3% \
             in January 2026; highest 95.0% in February 2026. The figures are in the table that follows."
        );
    }

    #[test]
    fn no_children_in_any_month_draws_no_line_and_says_so() {
        let c = chart(&[value("2026-01", 0, 0, false), value("2026-02", 0, 0, true)]);
        assert!(c.points.is_empty() && c.lines.is_empty());
        assert!(!c.has_provisional);
        assert!(c.description.ends_with("No month had any children in this measure."));
    }

    #[test]
    fn at_most_12_month_labels_with_the_year_under_january_and_the_first_month() {
        let year: Vec<MonthValue> = Month::range(month("2025-04"), month("2026-03"))
            .into_iter()
            .map(|m| value(&m.to_string(), 1, 1, false))
            .collect();
        let labels = chart(&year).month_labels;
        assert_eq!(labels.len(), 12);
        let with_year: Vec<(&str, Option<&str>)> = labels
            .iter()
            .filter(|l| l.year.is_some())
            .map(|l| (l.month.as_str(), l.year.as_deref()))
            .collect();
        assert_eq!(with_year, [("Apr", Some("2025")), ("Jan", Some("2026"))]);
        let three_years: Vec<MonthValue> = Month::range(month("2023-04"), month("2026-03"))
            .into_iter()
            .map(|m| value(&m.to_string(), 1, 1, false))
            .collect();
        let labels = chart(&three_years).month_labels;
        assert_eq!(labels.len(), 12, "every third of 36 months");
        assert_eq!(
            labels.iter().map(|l| l.month.as_str()).take(4).collect::<Vec<_>>(),
            ["Apr", "Jul", "Oct", "Jan"]
        );
    }
}
