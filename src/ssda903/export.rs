//! Writes SSDA903 files from [`ImportedChild`] values, a child at a time.
//!
//! Rules:
//! - Columns in DfE order ([`super::files`]); dates DD/MM/YYYY; flags 0/1; blank for none.
//! - SEX is written in the form of the return year: 1/2 up to 2023-24, M/F/U from 2024-25
//!   (a child of unknown sex has no code before 2024-25 and is written blank).
//! - The episodes of every period are written as held; a UASC row for a UASC child; an OC2
//!   row for a child with OC2 values.
//! - XML: the layout [`super::xml`] reads, every value escaped.

use std::io::Write;

use chrono::NaiveDate;
use quick_xml::escape::escape;

use super::episodes::dmy;
use super::files::{EPISODE_COLUMNS, HEADER_COLUMNS, OC2_COLUMNS, UASC_COLUMNS};
use super::model::{ChildHeader, Episode, ImportedChild, Oc2Values};

fn date(d: Option<NaiveDate>) -> String {
    d.map(dmy).unwrap_or_default()
}

fn flag(f: Option<bool>) -> &'static str {
    match f {
        Some(true) => "1",
        Some(false) => "0",
        None => "",
    }
}

fn header_cells(h: &ChildHeader, year_ending: i32) -> [String; 7] {
    [
        h.child.clone(),
        h.sex.code_for_year(year_ending).unwrap_or("").to_string(),
        dmy(h.date_of_birth),
        h.ethnicity.to_string(),
        h.upn.clone().unwrap_or_default(),
        flag(h.mother).to_string(),
        date(h.mother_child_dob),
    ]
}

fn episode_cells(child: &str, e: &Episode) -> [String; 13] {
    [
        child.to_string(),
        dmy(e.decom),
        e.rne.to_string(),
        e.legal_status.to_string(),
        e.category_of_need.to_string(),
        e.placement_type.to_string(),
        e.provider.unwrap_or("").to_string(),
        date(e.dec),
        e.rec.unwrap_or("").to_string(),
        e.reason_place_change.unwrap_or("").to_string(),
        e.home_postcode.clone().unwrap_or_default(),
        e.placement_postcode.clone().unwrap_or_default(),
        e.urn.clone().unwrap_or_default(),
    ]
}

fn oc2_cells(h: &ChildHeader, v: &Oc2Values) -> [String; 12] {
    [
        h.child.clone(),
        dmy(h.date_of_birth),
        v.sdq_score.map(|s| s.to_string()).unwrap_or_default(),
        v.sdq_reason.unwrap_or("").to_string(),
        flag(v.convicted).to_string(),
        flag(v.health_check).to_string(),
        flag(v.immunisations).to_string(),
        flag(v.teeth_check).to_string(),
        flag(v.health_assessment).to_string(),
        flag(v.substance_misuse).to_string(),
        flag(v.intervention_received).to_string(),
        flag(v.intervention_offered).to_string(),
    ]
}

/// The four CSV files, written together a child at a time.
pub struct CsvFiles<W: Write> {
    year_ending: i32,
    header: csv::Writer<W>,
    episodes: csv::Writer<W>,
    uasc: csv::Writer<W>,
    oc2: csv::Writer<W>,
}

impl<W: Write> CsvFiles<W> {
    /// Writes each file's header row. `year_ending`: the return's year ends 31 March then.
    pub fn new(year_ending: i32, header: W, episodes: W, uasc: W, oc2: W) -> csv::Result<CsvFiles<W>> {
        let mut files = CsvFiles {
            year_ending,
            header: csv::Writer::from_writer(header),
            episodes: csv::Writer::from_writer(episodes),
            uasc: csv::Writer::from_writer(uasc),
            oc2: csv::Writer::from_writer(oc2),
        };
        files.header.write_record(HEADER_COLUMNS)?;
        files.episodes.write_record(EPISODE_COLUMNS)?;
        files.uasc.write_record(UASC_COLUMNS)?;
        files.oc2.write_record(OC2_COLUMNS)?;
        Ok(files)
    }

    pub fn write_child(&mut self, child: &ImportedChild) -> csv::Result<()> {
        let h = &child.header;
        self.header.write_record(header_cells(h, self.year_ending))?;
        for episode in child.periods.iter().flat_map(|p| &p.episodes) {
            self.episodes.write_record(episode_cells(&h.child, episode))?;
        }
        if let Some(uasc) = &child.uasc {
            self.uasc.write_record([
                h.child.clone(),
                h.sex.code_for_year(self.year_ending).unwrap_or("").to_string(),
                dmy(h.date_of_birth),
                date(uasc.ceased_on),
            ])?;
        }
        if let Some(values) = &child.oc2 {
            self.oc2.write_record(oc2_cells(h, values))?;
        }
        Ok(())
    }

    /// Flushes the four files and hands back the writers.
    pub fn finish(self) -> csv::Result<[W; 4]> {
        let into = |w: csv::Writer<W>| w.into_inner().map_err(|e| csv::Error::from(e.into_error()));
        Ok([
            into(self.header)?,
            into(self.episodes)?,
            into(self.uasc)?,
            into(self.oc2)?,
        ])
    }
}

/// The XML form, written a child at a time.
pub struct XmlFile<W: Write> {
    out: W,
    year_ending: i32,
}

impl<W: Write> XmlFile<W> {
    pub fn new(mut out: W, year_ending: i32) -> std::io::Result<XmlFile<W>> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EXPSSDA903>\n")?;
        Ok(XmlFile { out, year_ending })
    }

    fn element(&mut self, indent: &str, name: &str, value: &str) -> std::io::Result<()> {
        if value.is_empty() {
            writeln!(self.out, "{indent}<{name} />")
        } else {
            writeln!(self.out, "{indent}<{name}>{}</{name}>", escape(value))
        }
    }

    pub fn write_child(&mut self, child: &ImportedChild) -> std::io::Result<()> {
        let h = &child.header;
        writeln!(self.out, "  <CHILD>\n    <HEADER>")?;
        let cells = header_cells(h, self.year_ending);
        for (column, value) in HEADER_COLUMNS.iter().zip(&cells) {
            let name = if *column == "CHILD" { "CHILDID" } else { column };
            self.element("      ", name, value)?;
        }
        let uasc = child.uasc.map(|u| ("1", date(u.ceased_on)));
        self.element("      ", "UASC", uasc.as_ref().map_or("", |u| u.0))?;
        if let Some((_, duc)) = &uasc {
            self.element("      ", "DUC", duc)?;
        }
        if let Some(values) = &child.oc2 {
            writeln!(self.out, "      <OC2>")?;
            let cells = oc2_cells(h, values);
            for (column, value) in OC2_COLUMNS.iter().zip(&cells).skip(2) {
                self.element("        ", column, value)?;
            }
            writeln!(self.out, "      </OC2>")?;
        }
        writeln!(self.out, "    </HEADER>")?;
        for episode in child.periods.iter().flat_map(|p| &p.episodes) {
            writeln!(self.out, "    <EPISODE>")?;
            let cells = episode_cells(&h.child, episode);
            for (column, value) in EPISODE_COLUMNS.iter().zip(&cells).skip(1) {
                let name = if *column == "PLACE" { "PL" } else { column };
                self.element("      ", name, value)?;
            }
            writeln!(self.out, "    </EPISODE>")?;
        }
        writeln!(self.out, "  </CHILD>")
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(b"</EXPSSDA903>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}
