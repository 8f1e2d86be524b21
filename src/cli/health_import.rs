//! `cla-tracker import health-checks`: a team's completed assessments and health checks
//! from its spreadsheet ([`crate::health_import`] reads and checks the CSV,
//! [`crate::service::health_import`] writes it). The report lists every refused row and
//! ends with the counts; `--dry-run` reads and checks the same way and writes nothing.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{connect, domain_ctx};
use crate::health_import;
use crate::settings::Settings;

pub fn run(
    settings: Settings,
    la: &str,
    dry_run: bool,
    rejections_csv: Option<PathBuf>,
    path: &Path,
) -> anyhow::Result<()> {
    super::ssda903::check_la(la)?;
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut parsed = health_import::parse(&path.display().to_string(), file, crate::today(&settings));
    if !dry_run && parsed.report.problem.is_none() {
        let mut conn = connect(&settings)?;
        crate::db::run_migrations(&mut conn)?;
        let ctx = domain_ctx(&mut conn, &settings)?;
        crate::service::health_import::write(&mut conn, &ctx, la, &mut parsed).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(path) = rejections_csv {
        let out = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        parsed.report.write_rejections_csv(out)?;
    }
    let mut out = std::io::stdout().lock();
    if dry_run {
        writeln!(out, "dry run: nothing was written")?;
    }
    write!(out, "{}", parsed.report)?;
    if let Some(problem) = &parsed.report.problem {
        anyhow::bail!("{}: {problem}", path.display());
    }
    Ok(())
}
