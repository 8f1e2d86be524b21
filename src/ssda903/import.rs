//! The import's core: files in, children and a report out. No database, no filesystem:
//! callers hand it readers and take [`ImportedChild`] values to write.
//!
//! Rules:
//! - Each input is sniffed: XML if its first non-blank character is `<`, CSV otherwise. A
//!   CSV file's kind comes from its header row ([`super::files::recognise`]); a file that is
//!   not recognised is reported and not read.
//! - Every row is checked ([`super::rows`]); each problem is a rejection. Blank rows are
//!   not rows. A CSV row with the wrong number of cells is refused whole.
//! - A child must be in the header file; episodes, UASC and OC2 rows of any other child
//!   are refused. A child may appear once in the header, UASC and OC2 files. The UASC row's
//!   SEX and DOB and the OC2 row's DOB must match the header. No episode may start before
//!   the child's date of birth. The episodes must chain ([`super::episodes::chain`]).
//! - A child with any refused row is skipped whole; every other child is imported.
//! - Memory: rows are kept as compact records (about 50 bytes an episode) until
//!   [`Loader::finish`]; [`Import::children`] builds each child's full value only when the
//!   writer asks for it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use chrono::NaiveDate;

use super::codes::{CodeList, Sex};
use super::episodes::{chain, dmy, ChainOptions};
use super::files::{expected_files, recognise, FileKind, Recognised, Row};
use super::model::{ChildHeader, Episode, ImportedChild, Uasc};
use super::report::{shown, FileSummary, Rejection, Report};
use super::rows::{self, EpisodeRecord, HeaderRecord, Oc2Record, Origin, Problem, Record, UascRecord};
use super::xml;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Accept children whose first episode is not RNE = S (an annual file's long stayers):
    /// their first period is marked `continued`.
    pub allow_continuations: bool,
    /// The authority's own postcode areas, to tell out-of-area placements.
    pub home_postcode_areas: Vec<String>,
}

/// Everything read about one child so far.
#[derive(Debug, Default)]
struct Slot {
    header: Option<HeaderRecord>,
    episodes: Vec<EpisodeRecord>,
    uasc: Option<UascRecord>,
    oc2: Option<Box<Oc2Record>>,
    rejected: bool,
}

/// Reads files one after another; [`Loader::finish`] joins and checks them.
#[derive(Debug, Default)]
pub struct Loader {
    options: ImportOptions,
    files: Vec<FileSummary>,
    ids: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
    slots: Vec<Slot>,
    rejections: Vec<Rejection>,
    episodes_read: u64,
    /// Episode rows refused on their own (not kept as records).
    episodes_refused: u64,
}

impl Loader {
    pub fn new(options: ImportOptions) -> Loader {
        Loader {
            options,
            ..Loader::default()
        }
    }

    /// Reads one file. Problems go into the report; nothing here fails.
    pub fn add(&mut self, name: &str, input: impl Read) {
        let Ok(file) = u16::try_from(self.files.len()) else {
            return;
        };
        self.files.push(FileSummary {
            name: name.to_string(),
            ..FileSummary::default()
        });
        let mut input = BufReader::with_capacity(1 << 16, input);
        match starts_with_angle_bracket(&mut input) {
            Ok(true) => self.read_xml(file, input),
            Ok(false) => self.read_csv(file, input),
            Err(e) => self.file_problem(file, format!("could not be read: {e}")),
        }
    }

    fn summary(&mut self, file: u16) -> &mut FileSummary {
        let last = self.files.len() - 1;
        &mut self.files[usize::from(file).min(last)]
    }

    fn file_problem(&mut self, file: u16, problem: String) {
        self.summary(file).problem = Some(problem);
    }

    fn read_csv(&mut self, file: u16, input: impl Read) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut record = csv::ByteRecord::new();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return self.file_problem(file, "is empty".to_string()),
            Err(e) => return self.file_problem(file, format!("could not be read: {e}")),
        }
        let names: Vec<String> = record
            .iter()
            .map(|cell| String::from_utf8_lossy(cell).trim_start_matches('\u{feff}').to_string())
            .collect();
        let kind = match recognise(&names) {
            Recognised::Imported(kind) => kind,
            Recognised::Unused(name) => {
                self.summary(file).kind = Some(format!("{name} (not used by the tracker: skipped)"));
                return;
            }
            Recognised::Unknown => {
                let given = names.iter().map(|n| shown(n)).collect::<Vec<_>>().join(", ");
                return self.file_problem(
                    file,
                    format!(
                        "is not an SSDA903 file the tracker reads: its columns are {given}; expected {}",
                        expected_files()
                    ),
                );
            }
        };
        self.summary(file).kind = Some(kind.name().to_string());
        let positions: Vec<usize> = kind
            .columns()
            .iter()
            .map(|column| {
                names
                    .iter()
                    .position(|n| n.trim().eq_ignore_ascii_case(column))
                    .unwrap_or(usize::MAX)
            })
            .collect();
        let mut row = Row::new(kind, 0);
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = record.position().map_or(0, |p| p.line());
                    return self.file_problem(file, format!("stopped at line {line}: {e}"));
                }
            }
            if record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line());
            self.csv_row(file, &record, names.len(), &positions, &mut row, line);
        }
    }

    fn csv_row(
        &mut self,
        file: u16,
        record: &csv::ByteRecord,
        width: usize,
        positions: &[usize],
        row: &mut Row,
        line: u64,
    ) {
        row.line = line;
        let mut problems = Vec::new();
        for (column, &at) in positions.iter().enumerate() {
            let cell = record.get(at).unwrap_or(b"");
            match std::str::from_utf8(cell) {
                Ok(text) => row.set(column, text, line),
                Err(_) => {
                    row.set(column, "", line);
                    problems.push(Problem {
                        line,
                        column: row.kind.columns().get(column).copied().unwrap_or("?"),
                        value: shown(&String::from_utf8_lossy(cell)),
                        reason: "is not UTF-8 text".to_string(),
                    });
                }
            }
        }
        if record.len() != width {
            problems.insert(
                0,
                Problem {
                    line,
                    column: "(row)",
                    value: format!("{} cells", record.len()),
                    reason: format!("the header row has {width} columns"),
                },
            );
        }
        if problems.is_empty() {
            self.accept(file, row);
        } else {
            self.count_read(file, row.kind);
            let child = rows::child_id(row).ok().map(str::to_string);
            self.reject_row(file, row.kind, child.as_deref(), problems);
        }
    }

    fn read_xml(&mut self, file: u16, input: impl BufRead) {
        self.summary(file).kind = Some("XML".to_string());
        // Each child's rows are checked as soon as its </CHILD> is read: memory stays flat.
        let result = xml::read(input, |_, row| self.accept(file, row));
        if let Err(e) = result {
            self.file_problem(
                file,
                format!("line {}: {}; the rest of the file was not read", e.line, e.message),
            );
            if let Some(child) = e.child.filter(|c| !c.is_empty()) {
                self.count_read(file, FileKind::Header);
                let problem = Problem {
                    line: e.line,
                    column: "CHILD",
                    value: shown(&child),
                    reason: "the file stopped while this child was being read".to_string(),
                };
                self.reject_row(file, FileKind::Header, Some(&child), vec![problem]);
            }
        }
    }

    fn count_read(&mut self, file: u16, kind: FileKind) {
        self.summary(file).rows_read += 1;
        if kind == FileKind::Episodes {
            self.episodes_read += 1;
        }
    }

    /// A row whose cells were read: check it and keep its record.
    fn accept(&mut self, file: u16, row: &Row) {
        self.count_read(file, row.kind);
        let child = match rows::child_id(row) {
            Ok(child) => child.to_string(),
            Err(problem) => return self.reject_row(file, row.kind, None, vec![problem]),
        };
        let record = match rows::check(row, file) {
            Ok(record) => record,
            Err(problems) => return self.reject_row(file, row.kind, Some(&child), problems),
        };
        let slot = self.slot(&child);
        let duplicate = match record {
            Record::Header(r) => keep_once(&mut self.slots[slot].header, r),
            Record::Uasc(r) => keep_once(&mut self.slots[slot].uasc, r),
            Record::Oc2(r) => keep_once_boxed(&mut self.slots[slot].oc2, r),
            Record::Episode(r) => {
                self.slots[slot].episodes.push(r);
                None
            }
        };
        if let Some(first) = duplicate {
            let first_file = self.files.get(usize::from(first.file)).map_or("", |f| f.name.as_str());
            let reason = format!(
                "CHILD appears more than once in the {} file (first at {first_file} line {})",
                row.kind.name(),
                first.line
            );
            let problem = Problem {
                line: row.line,
                column: "CHILD",
                value: shown(&child),
                reason,
            };
            self.reject_row(file, row.kind, Some(&child), vec![problem]);
        }
    }

    fn slot(&mut self, child: &str) -> usize {
        if let Some(&slot) = self.index.get(child) {
            return slot as usize;
        }
        let slot = self.slots.len();
        self.ids.push(child.into());
        self.index.insert(child.into(), slot as u32);
        self.slots.push(Slot::default());
        slot
    }

    /// Lists a refused row's problems, counts it, and marks its child.
    fn reject_row(&mut self, file: u16, kind: FileKind, child: Option<&str>, problems: Vec<Problem>) {
        self.summary(file).rows_rejected += 1;
        if kind == FileKind::Episodes {
            self.episodes_refused += 1;
        }
        if let Some(child) = child {
            let slot = self.slot(child);
            self.slots[slot].rejected = true;
        }
        let file_name = self.summary(file).name.clone();
        for p in problems {
            self.rejections.push(Rejection {
                file: file_name.clone(),
                line: p.line,
                child: child.map(str::to_string),
                column: p.column.to_string(),
                value: p.value,
                reason: p.reason,
            });
        }
    }

    /// Joins the files, checks each child across them, and settles the counts.
    pub fn finish(mut self) -> Import {
        let chain_options = ChainOptions {
            allow_continuations: self.options.allow_continuations,
            home_postcode_areas: self
                .options
                .home_postcode_areas
                .iter()
                .map(|a| a.trim().to_ascii_uppercase())
                .collect(),
        };
        let mut report = Report::default();
        for slot in 0..self.slots.len() {
            // A child already refused is skipped whole: checks across its remaining rows
            // would only report knock-on effects of the refused one.
            let problems = if self.slots[slot].rejected {
                Vec::new()
            } else {
                cross_check(&self.slots[slot], &chain_options)
            };
            let periods = period_starts(&self.slots[slot].episodes, self.options.allow_continuations);
            report.children.read += 1;
            report.periods.read += periods;
            let rejected_rows = self.reject_cross(slot, problems);
            let slot_ref = &mut self.slots[slot];
            slot_ref.rejected |= !rejected_rows.is_empty();
            let rejected = slot_ref.rejected;
            let origins = origins(slot_ref);
            if rejected {
                report.children.rejected += 1;
                report.periods.rejected += periods;
                report.episodes.rejected += slot_ref.episodes.len() as u64;
                *slot_ref = Slot {
                    rejected: true,
                    ..Slot::default()
                };
            }
            for origin in origins {
                let summary = &mut self.files[usize::from(origin.file)];
                if !rejected {
                    summary.rows_imported += 1;
                } else if rejected_rows.contains(&origin) {
                    summary.rows_rejected += 1;
                } else {
                    summary.rows_skipped += 1;
                }
            }
        }
        report.episodes.read = self.episodes_read;
        report.episodes.rejected += self.episodes_refused;
        report.files = self.files;
        report.rejections = self.rejections;
        Import {
            report,
            ids: self.ids,
            slots: self.slots,
            options: chain_options,
        }
    }

    /// Lists the cross-file problems of a slot; returns the rows they refused.
    fn reject_cross(&mut self, slot: usize, problems: Vec<(Origin, Problem)>) -> Vec<Origin> {
        let mut refused = Vec::new();
        for (origin, problem) in problems {
            if !refused.contains(&origin) {
                refused.push(origin);
            }
            let file = self
                .files
                .get(usize::from(origin.file))
                .map_or(String::new(), |f| f.name.clone());
            self.rejections.push(Rejection {
                file,
                line: problem.line,
                child: Some(self.ids[slot].to_string()),
                column: problem.column.to_string(),
                value: problem.value,
                reason: problem.reason,
            });
        }
        refused
    }
}

fn keep_once<T: HasOrigin>(place: &mut Option<T>, record: T) -> Option<Origin> {
    match place {
        Some(first) => Some(first.origin()),
        None => {
            *place = Some(record);
            None
        }
    }
}

fn keep_once_boxed(place: &mut Option<Box<Oc2Record>>, record: Oc2Record) -> Option<Origin> {
    match place {
        Some(first) => Some(first.origin),
        None => {
            *place = Some(Box::new(record));
            None
        }
    }
}

trait HasOrigin {
    fn origin(&self) -> Origin;
}

impl HasOrigin for UascRecord {
    fn origin(&self) -> Origin {
        self.origin
    }
}

impl HasOrigin for HeaderRecord {
    fn origin(&self) -> Origin {
        self.origin
    }
}

/// Every stored record's origin.
fn origins(slot: &Slot) -> Vec<Origin> {
    let mut all: Vec<Origin> = slot.episodes.iter().map(|e| e.origin).collect();
    all.extend(slot.header.as_ref().map(|h| h.origin));
    all.extend(slot.uasc.map(|u| u.origin));
    all.extend(slot.oc2.as_ref().map(|o| o.origin));
    all
}

/// Periods the episodes start: one per RNE = S, and one for a chain that starts without S
/// when continuations are allowed.
fn period_starts(episodes: &[EpisodeRecord], allow_continuations: bool) -> u64 {
    let s = CodeList::ReasonNewEpisode.index_of("S");
    let starts = episodes.iter().filter(|e| Some(e.rne) == s).count() as u64;
    let first_is_s = episodes
        .iter()
        .min_by_key(|e| e.decom)
        .is_some_and(|e| Some(e.rne) == s);
    starts + u64::from(allow_continuations && !episodes.is_empty() && !first_is_s)
}

/// Problems across a child's rows, each with the row it refuses.
fn cross_check(slot: &Slot, options: &ChainOptions) -> Vec<(Origin, Problem)> {
    let Some(header) = &slot.header else {
        return not_in_header(slot);
    };
    let mut problems = Vec::new();
    let dob = header.date_of_birth;
    if let Some(u) = &slot.uasc {
        if u.date_of_birth != dob {
            problems.push((u.origin, mismatch(u.origin, "DOB", dmy(u.date_of_birth), dob)));
        }
        if u.sex != header.sex {
            let problem = Problem {
                line: u64::from(u.origin.line),
                column: "SEX",
                value: sex_name(u.sex).to_string(),
                reason: format!("does not match the header file ({})", sex_name(header.sex)),
            };
            problems.push((u.origin, problem));
        }
    }
    if let Some(o) = &slot.oc2 {
        if o.date_of_birth != dob {
            problems.push((o.origin, mismatch(o.origin, "DOB", dmy(o.date_of_birth), dob)));
        }
    }
    for e in &slot.episodes {
        if e.decom < dob {
            let problem = Problem {
                line: u64::from(e.origin.line),
                column: "DECOM",
                value: dmy(e.decom),
                reason: format!("is before the child's date of birth ({})", dmy(dob)),
            };
            problems.push((e.origin, problem));
        }
    }
    let episodes: Vec<Episode> = slot.episodes.iter().map(expand).collect();
    if let Err(chain_problems) = chain(&episodes, options) {
        for p in chain_problems {
            let origin = slot.episodes[p.episode].origin;
            let problem = Problem {
                line: u64::from(origin.line),
                column: p.column,
                value: shown(&p.value),
                reason: p.reason,
            };
            problems.push((origin, problem));
        }
    }
    problems
}

fn mismatch(origin: Origin, column: &'static str, value: String, header: NaiveDate) -> Problem {
    Problem {
        line: u64::from(origin.line),
        column,
        value,
        reason: format!("does not match the header file ({})", dmy(header)),
    }
}

fn not_in_header(slot: &Slot) -> Vec<(Origin, Problem)> {
    origins(slot)
        .into_iter()
        .map(|origin| {
            let problem = Problem {
                line: u64::from(origin.line),
                column: "CHILD",
                value: String::new(),
                reason: "this child is not in the header file".to_string(),
            };
            (origin, problem)
        })
        .collect()
}

/// A compact episode as the model's value.
fn expand(e: &EpisodeRecord) -> Episode {
    Episode {
        decom: e.decom,
        rne: CodeList::ReasonNewEpisode.code_at(e.rne),
        legal_status: CodeList::LegalStatus.code_at(e.legal_status),
        category_of_need: CodeList::CategoryOfNeed.code_at(e.category_of_need),
        placement_type: CodeList::PlacementType.code_at(e.placement_type),
        provider: e.provider.map(|i| CodeList::PlacementProvider.code_at(i)),
        dec: e.dec,
        rec: e.rec.map(|i| CodeList::ReasonEpisodeCeased.code_at(i)),
        reason_place_change: e.reason_place_change.map(|i| CodeList::ReasonPlaceChange.code_at(i)),
        home_postcode: e.home_postcode.to_option(),
        placement_postcode: e.placement_postcode.to_option(),
        urn: e.urn.to_option(),
    }
}

/// Whether the first non-blank character is `<` (XML), without consuming anything else.
fn starts_with_angle_bracket(input: &mut impl BufRead) -> std::io::Result<bool> {
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(false);
        }
        let bom = if buffer.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
        let blank = buffer[bom..].iter().take_while(|b| b.is_ascii_whitespace()).count();
        if bom + blank < buffer.len() {
            return Ok(buffer[bom + blank] == b'<');
        }
        // Only blanks so far: they are no use to either reader.
        let consumed = buffer.len();
        input.consume(consumed);
    }
}

/// The result of an import: the report, and the accepted children on demand.
#[derive(Debug)]
pub struct Import {
    pub report: Report,
    ids: Vec<Box<str>>,
    slots: Vec<Slot>,
    options: ChainOptions,
}

impl Import {
    /// The accepted children, in the order first seen, built one at a time.
    pub fn children(&self) -> impl Iterator<Item = ImportedChild> + '_ {
        self.ids
            .iter()
            .zip(&self.slots)
            .filter(|(_, slot)| !slot.rejected)
            .filter_map(|(id, slot)| self.child(id, slot))
    }

    fn child(&self, id: &str, slot: &Slot) -> Option<ImportedChild> {
        let header = slot.header.as_ref()?;
        let episodes: Vec<Episode> = slot.episodes.iter().map(expand).collect();
        let periods = chain(&episodes, &self.options).ok()?;
        Some(ImportedChild {
            header: ChildHeader {
                child: id.to_string(),
                sex: header.sex,
                date_of_birth: header.date_of_birth,
                ethnicity: CodeList::Ethnicity.code_at(header.ethnicity),
                upn: header.upn.as_deref().map(str::to_string),
                mother: header.mother,
                mother_child_dob: header.mother_child_dob,
            },
            periods,
            uasc: slot.uasc.map(|u| Uasc { ceased_on: u.ceased_on }),
            oc2: slot.oc2.as_ref().map(|o| o.values),
        })
    }

    /// How many children [`Import::children`] yields.
    pub fn accepted(&self) -> usize {
        self.slots.iter().filter(|s| !s.rejected).count()
    }
}

/// Reads `files` (name, reader) and finishes: the one call most callers need.
pub fn import<'a>(files: impl IntoIterator<Item = (&'a str, Box<dyn Read + 'a>)>, options: ImportOptions) -> Import {
    let mut loader = Loader::new(options);
    for (name, input) in files {
        loader.add(name, input);
    }
    loader.finish()
}

/// SEX as shown in a mismatch message (the two files may use different forms).
fn sex_name(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "male",
        Sex::Female => "female",
        Sex::Unknown => "unknown",
    }
}
