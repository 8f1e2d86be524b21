//! `cla-tracker import ssda903`: a local authority's DfE children looked after files in.
//!
//! - Import: every file is read and checked ([`crate::ssda903::import`]), then the accepted
//!   children are written ([`crate::service::ssda903_import`]). The report lists every
//!   refused row (file, line, child, column, value, reason) and ends with the counts.
//!   `--dry-run` reads and checks the same way and writes nothing. A progress bar is drawn
//!   on standard error only when it is a terminal.
//!
//! - Export (`export ssda903`): the year's header, episodes, UASC and OC2 files from the
//!   database ([`crate::service::ssda903_export`], [`crate::ssda903::from_tracker`]).
//!   Nothing is written unless every check passes: the authority is known, `--out` is an
//!   existing writable folder, and none of the four files is there already (an export
//!   never overwrites: move the old files away first). The files are built in memory and
//!   then written; a failure part-way removes the files it made. The summary counts rows
//!   and names the required fields the tracker could not fill, never a child.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::{connect, domain_ctx};
use crate::service::{ssda903_export, ssda903_import};
use crate::settings::Settings;
use crate::ssda903::{self, ImportOptions};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A local authority's SSDA903 files (header, episodes, UASC, OC2 as CSV, or the XML
    /// form): children, periods of care and placements.
    #[command(
        long_about = "Reads a local authority's SSDA903 files (CSV with the DfE column names in the header row, dates DD/MM/YYYY; or the XML form) and writes its children, periods of care and placements.\n\nEvery refused row is reported with its file, line, column, value and reason; a child with any refused row is skipped whole and the others are imported. Periods that ended before today are written as history (no assessments); open periods get their IHA clock. Importing the same files again changes nothing; a later year's files add only what is new.\n\nThe report ends with counts of children, periods and episodes: read, rejected, created, updated, unchanged."
    )]
    Ssda903 {
        /// The local authority's code (the children's responsible authority).
        #[arg(long, value_name = "CODE")]
        la: String,
        /// Read and check the files and print the report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also write the refused rows as CSV (file, line, child, column, value, reason).
        #[arg(long, value_name = "FILE")]
        rejections_csv: Option<PathBuf>,
        /// The authority's own postcode areas (leading letters, e.g. NE,DH): placements
        /// elsewhere are out of area.
        #[arg(long, value_name = "AREA", value_delimiter = ',')]
        home_areas: Vec<String>,
        /// The files (any order).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Completed assessments (IHA, RHA) and health checks from a team's spreadsheet, as
    /// CSV.
    #[command(
        long_about = "Reads a CSV file with the header row child,kind,seen_on,report_received_on,check_type,date,result (any order) and records, for children the tracker already holds for the local authority, their completed IHA and RHA (kind IHA or RHA, with seen_on and report_received_on) and their health checks (kind check, with check_type dental, immunisations, sdq or development, date and result). Dates are DD/MM/YYYY or YYYY-MM-DD. README.md describes each column.\n\nCompleted assessments belong to the child's open period of care; each completion schedules the next review, as one recorded by hand. Every refused row is reported with its file, line, column, value and reason; a child with any refused row is skipped whole. Importing the same file again changes nothing.\n\nThe report ends with counts of rows: read, rejected, created, unchanged."
    )]
    HealthChecks {
        /// The local authority's code (the children's responsible authority).
        #[arg(long, value_name = "CODE")]
        la: String,
        /// Read and check the file and print the report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also write the refused rows as CSV (file, line, child, column, value, reason).
        #[arg(long, value_name = "FILE")]
        rejections_csv: Option<PathBuf>,
        /// The CSV file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The SSDA903 return of one local authority for one year: header, episodes, UASC and
    /// OC2 CSV files.
    #[command(
        long_about = "Writes a local authority's SSDA903 files for the year ending 31 March YEAR from the database: header.csv, episodes.csv, uasc.csv and oc2.csv in DIR, in DfE column order with dates as DD/MM/YYYY.\n\nEpisodes are rebuilt from the tracker's periods of care, placements and legal-status changes; the fields the tracker does not hold (ETHNIC, UPN, MOTHER, provider, postcodes, URN, reason for a move) come from the last SSDA903 import. OC2 holds the children looked after continuously for 12 months at 31 March (not on short breaks, V3/V4), with HEALTH_ASSESSMENT, IMMUNISATIONS, TEETH_CHECK, HEALTH_CHECK (under 5) and SDQ computed from the tracker's records; CONVICTED, SUBSTANCE_MISUSE and the interventions are carried from an imported OC2 file, else blank.\n\nDIR must exist and hold none of the four files: an export never overwrites. The summary lists the required fields left blank, to complete before submitting."
    )]
    Ssda903 {
        /// The year ends on 31 March of this year (2025: 1 April 2024 to 31 March 2025).
        #[arg(long, value_name = "YYYY", value_parser = clap::value_parser!(i32).range(2000..=2100))]
        year: i32,
        /// The local authority's code (the children's responsible authority).
        #[arg(long, value_name = "CODE")]
        la: String,
        /// The folder to write the four files into (it must exist).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// The files an export writes, in the order of [`ssda903::export::CsvFiles`].
pub const EXPORT_FILES: [&str; 4] = ["header.csv", "episodes.csv", "uasc.csv", "oc2.csv"];

pub fn export(settings: Settings, command: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Ssda903 { year, la, out } = command;
    anyhow::ensure!(
        !la.is_empty() && la.len() <= 12 && la.chars().all(|c| c.is_ascii_alphanumeric()),
        "--la must be a local authority code (letters and digits)"
    );
    anyhow::ensure!(out.is_dir(), "--out {}: not an existing folder", out.display());
    let meta = std::fs::metadata(&out).with_context(|| format!("--out {}", out.display()))?;
    anyhow::ensure!(!meta.permissions().readonly(), "--out {}: not writable", out.display());
    let paths: Vec<PathBuf> = EXPORT_FILES.iter().map(|f| out.join(f)).collect();
    let existing: Vec<String> = paths
        .iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    anyhow::ensure!(
        existing.is_empty(),
        "refusing to overwrite {}: move the old files away or choose another --out",
        existing.join(", ")
    );
    let mut conn = connect(&settings)?;
    crate::db::run_migrations(&mut conn)?;
    anyhow::ensure!(
        ssda903_export::known_authority(&mut conn, &la).map_err(|e| anyhow::anyhow!("{e}"))?,
        "--la {la}: no local authority with that code (no organisation and no child held for it)"
    );
    let ctx = domain_ctx(&mut conn, &settings)?;
    let rows = ssda903_export::build(&mut conn, &ctx, &la, year).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut files = ssda903::export::CsvFiles::new(year, Vec::new(), Vec::new(), Vec::new(), Vec::new())?;
    let mut missing: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let (mut episodes, mut uasc, mut oc2) = (0usize, 0usize, 0usize);
    for row in &rows {
        files.write_child(&row.child)?;
        episodes += row.child.periods.iter().map(|p| p.episodes.len()).sum::<usize>();
        uasc += usize::from(row.child.uasc.is_some());
        oc2 += usize::from(row.child.oc2.is_some());
        for field in &row.missing {
            *missing.entry(field).or_default() += 1;
        }
    }
    let buffers = files.finish()?;
    write_all_or_none(&paths, &buffers)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "wrote the SSDA903 return of {la} for the year ending 31 March {year} to {}",
        out.display()
    )?;
    writeln!(
        stdout,
        "header: {} children; episodes: {episodes}; UASC: {uasc}; OC2: {oc2}",
        rows.len()
    )?;
    if missing.is_empty() {
        writeln!(stdout, "every required field is filled")?;
    } else {
        writeln!(stdout, "required fields left blank (complete them before submitting):")?;
        for (field, n) in missing {
            writeln!(stdout, "  {field}: {n}")?;
        }
    }
    Ok(())
}

/// Creates every file new (never over an existing one); on any failure removes those it made.
fn write_all_or_none(paths: &[PathBuf], buffers: &[Vec<u8>]) -> anyhow::Result<()> {
    let mut made: Vec<&PathBuf> = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        for (path, bytes) in paths.iter().zip(buffers) {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?;
            made.push(path);
            f.write_all(bytes)
                .and_then(|()| f.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        for path in made {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

pub fn import(settings: Settings, command: ImportCommand) -> anyhow::Result<()> {
    let (la, dry_run, rejections_csv, home_areas, files) = match command {
        ImportCommand::Ssda903 {
            la,
            dry_run,
            rejections_csv,
            home_areas,
            files,
        } => (la, dry_run, rejections_csv, home_areas, files),
        ImportCommand::HealthChecks {
            la,
            dry_run,
            rejections_csv,
            file,
        } => return super::health_import::run(settings, &la, dry_run, rejections_csv, &file),
    };
    check_la(&la)?;
    let options = ImportOptions {
        allow_continuations: true,
        home_postcode_areas: home_areas,
    };
    let mut loader = ssda903::Loader::new(options);
    for path in &files {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        loader.add(&path.display().to_string(), file);
    }
    let mut import = loader.finish();
    if !dry_run {
        let mut conn = connect(&settings)?;
        crate::db::run_migrations(&mut conn)?;
        let ctx = domain_ctx(&mut conn, &settings)?;
        let bar = progress_bar(import.accepted() as u64);
        ssda903_import::write(&mut conn, &ctx, &la, &mut import, &mut |n| {
            if let Some(bar) = &bar {
                bar.set_position(n);
            }
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
    if let Some(path) = rejections_csv {
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        import.report.write_rejections_csv(file)?;
    }
    let mut out = std::io::stdout().lock();
    if dry_run {
        writeln!(out, "dry run: nothing was written")?;
    }
    write!(out, "{}", import.report)?;
    Ok(())
}

/// `--la` is a local authority code: letters and digits, at most 12.
pub(super) fn check_la(la: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !la.is_empty() && la.len() <= 12 && la.chars().all(|c| c.is_ascii_alphanumeric()),
        "--la must be a local authority code (letters and digits)"
    );
    Ok(())
}

/// A bar on standard error when it is a terminal; nothing when it is a file or a pipe.
fn progress_bar(len: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template("writing children {bar:40} {pos}/{len} {eta}") {
        bar.set_style(style);
    }
    Some(bar)
}
