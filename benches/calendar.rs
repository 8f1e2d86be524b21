//! Throughput of `Calendar::add_working_days(d, 20)`, the IHA due-date query.
//!
//! Run with `cargo bench --bench calendar`. Plain `Instant` timing: the
//! requirement is a floor (>= 20 million calls/s), not a fine comparison.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use cla_tracker::calendar::{govuk, Calendar};

const SHIPPED: &str = include_str!("../config/bank-holidays.json");
const TARGET_CALLS_PER_SEC: f64 = 20e6;

/// Start dates spread over the shipped data years and a little beyond, so
/// lookups hit different parts of the table rather than one cache line.
fn spread_of_dates() -> Vec<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2014, 1, 1).unwrap_or(NaiveDate::MIN);
    // Stride of 7 days mod 6,200 (~17 years) visits every weekday and holiday season.
    (0..4096)
        .map(|i| first + chrono::Duration::days(i * 7 % 6200))
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let holidays = govuk::parse_england_and_wales(SHIPPED)?;
    let calendar = Calendar::new(holidays);
    let dates = spread_of_dates();

    // Warm up caches and the branch predictor before timing.
    for d in &dates {
        black_box(calendar.add_working_days(black_box(*d), black_box(20)));
    }

    let budget = Duration::from_millis(1500);
    let start = Instant::now();
    let mut calls: u64 = 0;
    while start.elapsed() < budget {
        for d in &dates {
            black_box(calendar.add_working_days(black_box(*d), black_box(20)));
        }
        calls += dates.len() as u64;
    }
    let rate = calls as f64 / start.elapsed().as_secs_f64();
    println!("add_working_days(d, 20): {:.1} million calls/s", rate / 1e6);
    if rate < TARGET_CALLS_PER_SEC {
        println!("WARNING: below the 20 million calls/s requirement");
    }
    Ok(())
}
