//! `cla-tracker forecast …`: refit the lateness forecast, backtest it, time it.

use anyhow::bail;
use chrono::NaiveDate;
use clap::Subcommand;

use super::{connect, domain_ctx};
use crate::db;
use crate::service::forecast as service;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum ForecastCommand {
    /// Fit the parameters from the history known on a day (default today) and store them.
    Refit {
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
    },
    /// Every Monday from --from to --to: forecast each open assessment with only the data
    /// known then, and score it against what happened (Brier, calibration, warning days),
    /// beside the RAG the meeting uses today.
    Backtest {
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: NaiveDate,
    },
    /// Time forecasts for N open assessments made up in memory (no database).
    Bench {
        #[arg(long, default_value_t = 100_000)]
        open: usize,
    },
}

pub fn run(settings: Settings, command: ForecastCommand) -> anyhow::Result<()> {
    if let ForecastCommand::Bench { open } = command {
        let cal = crate::calendar::Calendar::rules_only();
        let (seconds, mean) = service::bench(&cal, open);
        println!("forecast bench: {open} open assessments forecast in {seconds:.3} s (mean p_late {mean:.3})");
        return Ok(());
    }
    let mut conn = connect(&settings)?;
    db::run_migrations(&mut conn)?;
    let ctx = domain_ctx(&mut conn, &settings)?;
    match command {
        ForecastCommand::Refit { as_of } => {
            let day = as_of.unwrap_or(ctx.today);
            let p = service::refit(&mut conn, &ctx, day).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "forecast refitted on {day}: {} step observations from {} to {day}, {} groups and steps",
                p.observations(),
                p.window_from,
                p.cells.len()
            );
        }
        ForecastCommand::Backtest { from, to } => {
            if to < from {
                bail!("--to ({to}) is before --from ({from})");
            }
            let b = service::backtest(&mut conn, &ctx, from, to, ctx.today).map_err(|e| anyhow::anyhow!("{e}"))?;
            print!("{}", report(&b, from, to, ctx.today));
        }
        ForecastCommand::Bench { .. } => {}
    }
    Ok(())
}

/// The backtest in words and a table.
pub fn report(b: &service::Backtest, from: NaiveDate, to: NaiveDate, outcome_on: NaiveDate) -> String {
    let gain = |base: f64| {
        if base > 0.0 {
            (1.0 - b.brier / base) * 100.0
        } else {
            0.0
        }
    };
    let mut out = format!(
        "backtest {from} to {to}: {} Mondays, {} forecasts of open assessments ({} of them for assessments that were late; outcomes as known on {outcome_on})\n",
        b.mondays, b.forecasts, b.late
    );
    out.push_str(&format!(
        "Brier score, forecast:                        {:.4}\n",
        b.brier
    ));
    out.push_str(&format!(
        "Brier score, RAG (amber/red = 1, green = 0):  {:.4}  (forecast {:.1}% better)\n",
        b.brier_rag,
        gain(b.brier_rag)
    ));
    out.push_str(&format!(
        "Brier score, RAG (each colour's late rate):   {:.4}  (forecast {:.1}% better)\n",
        b.brier_rag_rate,
        gain(b.brier_rag_rate)
    ));
    out.push_str("calibration by decile of p_late:\n  decile      cases  predicted  observed  gap\n");
    deciles(&mut out, &b.deciles);
    out.push_str(&format!(
        "the step model before its recalibration: Brier {:.4}; by decile of its probability:\n  decile      cases  predicted  observed  gap\n",
        b.brier_model
    ));
    deciles(&mut out, &b.deciles_model);
    let med = |v: &[i32]| service::median(v).map_or("-".to_string(), |m| format!("{m:.1}"));
    out.push_str(&format!(
        "late assessments first flagged at p >= 0.5: {} (median {} working days before the due date); never flagged on a Monday: {}\n",
        b.warnings.len(),
        med(&b.warnings),
        b.never_flagged
    ));
    out.push_str(&format!(
        "late assessments first amber or red on a Monday: {} (median {} working days before the due date)\n",
        b.warnings_rag.len(),
        med(&b.warnings_rag)
    ));
    out
}

/// A calibration table's rows (empty deciles left out).
fn deciles(out: &mut String, rows: &[(usize, f64, f64)]) {
    for (i, (n, p, o)) in rows.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        out.push_str(&format!(
            "  {:.1}-{:.1}  {n:>8}  {:>8.1}%  {:>7.1}%  {:>+5.1}\n",
            i as f64 / 10.0,
            (i + 1) as f64 / 10.0,
            p * 100.0,
            o * 100.0,
            (o - p) * 100.0
        ));
    }
}
