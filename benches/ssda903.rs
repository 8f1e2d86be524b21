//! Parsing SSDA903 files for a large county: time and peak memory of the pure import core
//! (read, check, chain, and build every accepted child as the database writer would).
//!
//! cargo bench --bench ssda903                      (100,000 children)
//! CLA_BENCH_N=20000 cargo bench --bench ssda903    (another size)
//! CLA_BENCH_DIR=/tmp/903 cargo bench --bench ssda903 (keep the files there, e.g. for the
//!                                                    DfE validator)
//!
//! Generates header, episodes, UASC and OC2 CSV files and the same data as XML into a
//! temporary directory, then parses each form in a child process of this binary, so the
//! peak resident memory reported (VmHWM) is the parse's own, not the generator's.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cla_tracker::ssda903::export::{CsvFiles, XmlFile};
use cla_tracker::ssda903::generate::{self, GenerateOptions, HOME_AREA};
use cla_tracker::ssda903::{ImportOptions, Loader};

const CSV_FILES: [&str; 4] = ["header.csv", "episodes.csv", "uasc.csv", "oc2.csv"];
const YEAR_ENDING: i32 = 2025;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--parse") {
        let form = args.get(i + 1).ok_or("--parse csv|xml DIR")?;
        let dir = args.get(i + 2).ok_or("--parse csv|xml DIR")?;
        return parse(form, Path::new(dir));
    }
    let n: u32 = std::env::var("CLA_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let temporary = tempfile::tempdir()?;
    let kept = std::env::var_os("CLA_BENCH_DIR").map(PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temporary.path());
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    write_files(dir, n)?;
    println!("generated {n} children in {:.2} s", started.elapsed().as_secs_f64());
    for name in CSV_FILES.iter().chain(&["903.xml"]) {
        let size = std::fs::metadata(dir.join(name))?.len();
        println!("  {name}: {:.1} MB", size as f64 / 1e6);
    }
    for form in ["csv", "xml"] {
        let output = Command::new(std::env::current_exe()?)
            .args(["--parse", form])
            .arg(dir)
            .output()?;
        print!("{}", String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
        }
    }
    Ok(())
}

fn write_files(dir: &Path, n: u32) -> Result<(), Error> {
    let open = |name: &str| -> std::io::Result<BufWriter<File>> { Ok(BufWriter::new(File::create(dir.join(name))?)) };
    let mut csv = CsvFiles::new(
        YEAR_ENDING,
        open(CSV_FILES[0])?,
        open(CSV_FILES[1])?,
        open(CSV_FILES[2])?,
        open(CSV_FILES[3])?,
    )?;
    let mut xml = XmlFile::new(open("903.xml")?, YEAR_ENDING)?;
    let options = GenerateOptions {
        children: n,
        seed: 903,
        year_ending: YEAR_ENDING,
    };
    for child in generate::children(options) {
        csv.write_child(&child)?;
        xml.write_child(&child)?;
    }
    csv.finish()?;
    xml.finish()?;
    Ok(())
}

fn parse(form: &str, dir: &Path) -> Result<(), Error> {
    let files: Vec<PathBuf> = match form {
        "xml" => vec![dir.join("903.xml")],
        _ => CSV_FILES.iter().map(|f| dir.join(f)).collect(),
    };
    let started = Instant::now();
    let mut loader = Loader::new(ImportOptions {
        allow_continuations: false,
        home_postcode_areas: vec![HOME_AREA.to_string()],
    });
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        loader.add(&name, File::open(path)?);
    }
    let import = loader.finish();
    let read = started.elapsed();
    let (mut children, mut periods, mut episodes) = (0u64, 0u64, 0u64);
    for child in import.children() {
        children += 1;
        periods += child.periods.len() as u64;
        episodes += child.periods.iter().map(|p| p.episodes.len() as u64).sum::<u64>();
    }
    let total = started.elapsed();
    let r = &import.report;
    println!(
        "{form}: read and checked in {:.2} s; every child built in {:.2} s total; peak memory {}",
        read.as_secs_f64(),
        total.as_secs_f64(),
        peak_memory()
    );
    println!(
        "  {children} children, {periods} periods, {episodes} episodes accepted; {} rejections; report: {} children, {} periods, {} episodes read",
        r.rejections.len(),
        r.children.read,
        r.periods.read,
        r.episodes.read
    );
    Ok(())
}

/// VmHWM from /proc/self/status (Linux), or "unknown".
fn peak_memory() -> String {
    let mut status = String::new();
    let read = File::open("/proc/self/status").and_then(|mut f| f.read_to_string(&mut status));
    read.ok()
        .and_then(|_| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}
