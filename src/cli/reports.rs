//! `cla-tracker report kpi`: the monthly figures from the command line, as a table or CSV.

use std::time::Instant;

use clap::Subcommand;

use super::{connect, domain_ctx};
use crate::kpi::Month;
use crate::service::kpi_report::{self, KpiReport};
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Each measure by month: numerator/denominator and per cent (p = provisional).
    Kpi {
        /// First month, YYYY-MM.
        #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
        from: Month,
        /// Last month, YYYY-MM (default: the same as --from).
        #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
        to: Option<Month>,
        /// Only these local authorities (codes; repeat or separate with commas).
        #[arg(long, value_name = "CODE", value_delimiter = ',')]
        la: Vec<String>,
        /// Write CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
}

fn parse_month(text: &str) -> Result<Month, String> {
    Month::parse(text).map_err(|e| e.to_string())
}

pub fn run(settings: Settings, command: ReportCommand) -> anyhow::Result<()> {
    let ReportCommand::Kpi { from, to, la, csv } = command;
    let to = to.unwrap_or(from);
    anyhow::ensure!(to >= from, "--to must not be before --from");
    let mut conn = connect(&settings)?;
    crate::db::run_migrations(&mut conn)?;
    let ctx = domain_ctx(&mut conn, &settings)?;
    let started = Instant::now();
    let report = kpi_report::report(&mut conn, &ctx, from, to, &la).map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = started.elapsed();
    if csv {
        print!("{}", kpi_report::report_csv(&report));
    } else {
        print!("{}", table(&report));
    }
    eprintln!("computed in {} ms", took.as_millis());
    Ok(())
}

/// One line per measure, one column per month: `12/15 80.0%` (`p` marks provisional).
fn table(report: &KpiReport) -> String {
    let mut out = String::new();
    for m in &report.measures {
        out.push_str(&format!("{} (target {}%)\n", m.title, m.target_percent));
        for f in &m.months {
            let percent = f.percent.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "-".into());
            let mark = if f.provisional { " p" } else { "" };
            out.push_str(&format!(
                "  {}  {:>6}/{:<6} {percent:>7}{mark}\n",
                f.month, f.numerator, f.denominator
            ));
        }
    }
    out
}
