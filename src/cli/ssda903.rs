//! `cla-tracker import ssda903`: a local authority's DfE children looked after files in.
//!
//! - Import: every file is read and checked ([`crate::ssda903::import`]), then the accepted
//!   children are written ([`crate::service::ssda903_import`]). The report lists every
//!   refused row (file, line, child, column, value, reason) and ends with the counts.
//!   `--dry-run` reads and checks the same way and writes nothing. A progress bar is drawn
//!   on standard error only when it is a terminal.
//!
//! The export from the database (`export ssda903`) is not built yet, so it is not offered.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::{connect, domain_ctx};
use crate::service::ssda903_import;
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
}

pub fn import(settings: Settings, command: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Ssda903 {
        la,
        dry_run,
        rejections_csv,
        home_areas,
        files,
    } = command;
    anyhow::ensure!(
        !la.is_empty() && la.len() <= 12 && la.chars().all(|c| c.is_ascii_alphanumeric()),
        "--la must be a local authority code (letters and digits)"
    );
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
