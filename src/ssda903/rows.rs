//! Checks one row's cells and keeps what passes in a compact record. Pure.
//!
//! Rules (each failure is a problem naming the column, the value and the reason):
//! - CHILD: 1 to 10 letters or digits.
//! - Dates: DD/MM/YYYY exactly (two digits, two digits, four digits), a real day, year
//!   1900 or later. `1/4/2023`, `2023-04-01` and `01/04/23` are refused.
//! - Codes: exactly as the DfE lists write them (upper case); the reason lists the valid
//!   codes. SEX: 1/2 (to 2023-24) or M/F/U.
//! - Flags (MOTHER and the OC2 items): 0, 1 or blank. SDQ_SCORE: a whole number 0-40.
//! - UPN: 13 letters and digits, or UN1 to UN10. HOME_POST and PL_POST: at most 8 letters,
//!   digits and spaces. URN: at most 8 letters or digits (XXXXXXX when there is none).
//! - Header: DOB, SEX and ETHNIC are required; MC_DOB is required when MOTHER is 1.
//! - Episodes: DECOM, RNE, LS, CIN and PLACE are required; DEC and REC come together
//!   (both blank while the episode is open); DEC may not be before DECOM.
//! - UASC: SEX and DOB are required. OC2: DOB is required; SDQ_SCORE and SDQ_REASON are
//!   not both given.
//! - Cells are trimmed of surrounding spaces before any check.

use chrono::NaiveDate;

use super::codes::{one_of, CodeList, Sex};
use super::files::{FileKind, Row};
use super::model::Oc2Values;
use super::report::shown;

/// A problem with one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: &'static str,
    pub value: String,
    pub reason: String,
}

/// Text of at most 8 bytes, held inline (postcodes, URNs): no allocation per episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Short {
    len: u8,
    bytes: [u8; 8],
}

impl Short {
    /// `None` when `text` is longer than 8 bytes.
    pub fn new(text: &str) -> Option<Short> {
        let len = text.len();
        if len > 8 {
            return None;
        }
        let mut bytes = [0u8; 8];
        bytes[..len].copy_from_slice(text.as_bytes());
        Some(Short { len: len as u8, bytes })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len).min(8)]).unwrap_or("")
    }

    /// `None` when blank.
    pub fn to_option(self) -> Option<String> {
        (self.len > 0).then(|| self.as_str().to_string())
    }
}

/// Where a record came from: file index and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: u16,
    pub line: u32,
}

impl Origin {
    pub fn new(file: u16, line: u64) -> Origin {
        Origin {
            file,
            line: u32::try_from(line).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRecord {
    pub origin: Origin,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub ethnicity: u8,
    pub upn: Option<Box<str>>,
    pub mother: Option<bool>,
    pub mother_child_dob: Option<NaiveDate>,
}

/// An episode in about 50 bytes: codes as list indices, short texts inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodeRecord {
    pub origin: Origin,
    pub decom: NaiveDate,
    pub dec: Option<NaiveDate>,
    pub rne: u8,
    pub legal_status: u8,
    pub category_of_need: u8,
    pub placement_type: u8,
    pub provider: Option<u8>,
    pub rec: Option<u8>,
    pub reason_place_change: Option<u8>,
    pub home_postcode: Short,
    pub placement_postcode: Short,
    pub urn: Short,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UascRecord {
    pub origin: Origin,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub ceased_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oc2Record {
    pub origin: Origin,
    pub date_of_birth: NaiveDate,
    pub values: Oc2Values,
}

/// CHILD of any row: 1 to 10 letters or digits.
pub fn child_id(row: &Row) -> Result<&str, Problem> {
    let value = row.value(0);
    if (1..=10).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(value)
    } else {
        Err(Problem {
            line: row.line_of(0),
            column: "CHILD",
            value: shown(value),
            reason: if value.is_empty() {
                "is required".to_string()
            } else {
                "must be 1 to 10 letters or digits".to_string()
            },
        })
    }
}

/// Strict DD/MM/YYYY.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[2] == b'/'
        && b[5] == b'/'
        && [0, 1, 3, 4, 6, 7, 8, 9].iter().all(|&i| b[i].is_ascii_digit());
    if !shape {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    let (day, month, year) = (number(0..2)?, number(3..5)?, number(6..10)?);
    let year = i32::try_from(year).ok().filter(|y| *y >= 1900)?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Collects the problems of one row while reading its cells.
struct Check<'r> {
    row: &'r Row,
    problems: Vec<Problem>,
}

impl<'r> Check<'r> {
    fn new(row: &'r Row) -> Check<'r> {
        Check {
            row,
            problems: Vec::new(),
        }
    }

    fn column(&self, i: usize) -> &'static str {
        self.row.kind.columns().get(i).copied().unwrap_or("?")
    }

    fn fail(&mut self, i: usize, reason: impl Into<String>) {
        self.problems.push(Problem {
            line: self.row.line_of(i),
            column: self.column(i),
            value: shown(self.row.value(i)),
            reason: reason.into(),
        });
    }

    fn text(&self, i: usize) -> &'r str {
        self.row.value(i)
    }

    fn date(&mut self, i: usize) -> Option<Option<NaiveDate>> {
        let text = self.text(i);
        if text.is_empty() {
            return Some(None);
        }
        match parse_date(text) {
            Some(date) => Some(Some(date)),
            None => {
                self.fail(i, "must be a real date written DD/MM/YYYY");
                None
            }
        }
    }

    fn required_date(&mut self, i: usize) -> Option<NaiveDate> {
        match self.date(i) {
            Some(Some(date)) => Some(date),
            Some(None) => {
                self.fail(i, "is required (DD/MM/YYYY)");
                None
            }
            None => None,
        }
    }

    fn code(&mut self, i: usize, list: CodeList) -> Option<Option<u8>> {
        let text = self.text(i);
        if text.is_empty() {
            return Some(None);
        }
        match list.index_of(text) {
            Some(index) => Some(Some(index)),
            None => {
                self.fail(i, format!("must be one of {}", one_of(list)));
                None
            }
        }
    }

    fn required_code(&mut self, i: usize, list: CodeList) -> Option<u8> {
        match self.code(i, list) {
            Some(Some(index)) => Some(index),
            Some(None) => {
                self.fail(i, format!("is required: one of {}", one_of(list)));
                None
            }
            None => None,
        }
    }

    fn flag(&mut self, i: usize) -> Option<Option<bool>> {
        match self.text(i) {
            "" => Some(None),
            "0" => Some(Some(false)),
            "1" => Some(Some(true)),
            _ => {
                self.fail(i, "must be 0, 1 or blank");
                None
            }
        }
    }

    fn sex(&mut self, i: usize) -> Option<Sex> {
        let parsed = Sex::parse(self.text(i));
        if parsed.is_none() {
            self.fail(i, "must be 1 or 2 (to 2023-24) or M, F or U");
        }
        parsed
    }

    fn short(&mut self, i: usize, allowed: fn(u8) -> bool, reason: &str) -> Option<Short> {
        let text = self.text(i);
        match Short::new(text).filter(|_| text.bytes().all(allowed)) {
            Some(short) => Some(short),
            None => {
                self.fail(i, reason);
                None
            }
        }
    }

    fn finish<T>(self, record: Option<T>) -> Result<T, Vec<Problem>> {
        match record {
            Some(record) if self.problems.is_empty() => Ok(record),
            _ => Err(self.problems),
        }
    }
}

fn postcode_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b' '
}

fn upn(check: &mut Check, i: usize) -> Option<Option<Box<str>>> {
    let text = check.text(i);
    let unknown = text
        .strip_prefix("UN")
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=10).contains(&n) && !text.starts_with("UN0"));
    if text.is_empty() {
        Some(None)
    } else if unknown || (text.len() == 13 && text.bytes().all(|b| b.is_ascii_alphanumeric())) {
        Some(Some(text.into()))
    } else {
        check.fail(i, "must be 13 letters and digits, or UN1 to UN10");
        None
    }
}

pub fn header(row: &Row, file: u16) -> Result<HeaderRecord, Vec<Problem>> {
    let mut c = Check::new(row);
    let sex = c.sex(1);
    let date_of_birth = c.required_date(2);
    let ethnicity = c.required_code(3, CodeList::Ethnicity);
    let upn = upn(&mut c, 4);
    let mother = c.flag(5);
    let mother_child_dob = c.date(6);
    if mother == Some(Some(true)) && mother_child_dob == Some(None) {
        c.fail(6, "is required when MOTHER is 1");
    }
    let record = (|| {
        Some(HeaderRecord {
            origin: Origin::new(file, row.line),
            sex: sex?,
            date_of_birth: date_of_birth?,
            ethnicity: ethnicity?,
            upn: upn?,
            mother: mother?,
            mother_child_dob: mother_child_dob?,
        })
    })();
    c.finish(record)
}

pub fn episode(row: &Row, file: u16) -> Result<EpisodeRecord, Vec<Problem>> {
    let mut c = Check::new(row);
    let decom = c.required_date(1);
    let rne = c.required_code(2, CodeList::ReasonNewEpisode);
    let legal_status = c.required_code(3, CodeList::LegalStatus);
    let category_of_need = c.required_code(4, CodeList::CategoryOfNeed);
    let placement_type = c.required_code(5, CodeList::PlacementType);
    let provider = c.code(6, CodeList::PlacementProvider);
    let dec = c.date(7);
    let rec = c.code(8, CodeList::ReasonEpisodeCeased);
    let reason_place_change = c.code(9, CodeList::ReasonPlaceChange);
    let postcode_reason = "must be a postcode of at most 8 letters, digits and spaces";
    let home_postcode = c.short(10, postcode_byte, postcode_reason);
    let placement_postcode = c.short(11, postcode_byte, postcode_reason);
    let urn = c.short(
        12,
        |b| b.is_ascii_alphanumeric(),
        "must be at most 8 letters or digits (XXXXXXX when there is none)",
    );
    match (dec, rec) {
        (Some(Some(_)), Some(None)) => c.fail(8, "is required when DEC is given"),
        (Some(None), Some(Some(_))) => c.fail(7, "is required when REC is given"),
        _ => {}
    }
    if let (Some(Some(dec)), Some(decom)) = (dec, decom) {
        if dec < decom {
            c.fail(7, format!("is before DECOM ({})", decom.format("%d/%m/%Y")));
        }
    }
    let record = (|| {
        Some(EpisodeRecord {
            origin: Origin::new(file, row.line),
            decom: decom?,
            dec: dec?,
            rne: rne?,
            legal_status: legal_status?,
            category_of_need: category_of_need?,
            placement_type: placement_type?,
            provider: provider?,
            rec: rec?,
            reason_place_change: reason_place_change?,
            home_postcode: home_postcode?,
            placement_postcode: placement_postcode?,
            urn: urn?,
        })
    })();
    c.finish(record)
}

pub fn uasc(row: &Row, file: u16) -> Result<UascRecord, Vec<Problem>> {
    let mut c = Check::new(row);
    let sex = c.sex(1);
    let date_of_birth = c.required_date(2);
    let ceased_on = c.date(3);
    let record = (|| {
        Some(UascRecord {
            origin: Origin::new(file, row.line),
            sex: sex?,
            date_of_birth: date_of_birth?,
            ceased_on: ceased_on?,
        })
    })();
    c.finish(record)
}

pub fn oc2(row: &Row, file: u16) -> Result<Oc2Record, Vec<Problem>> {
    let mut c = Check::new(row);
    let date_of_birth = c.required_date(1);
    let sdq_score = match c.text(2) {
        "" => Some(None),
        text => match text.parse::<u8>() {
            Ok(score) if score <= 40 => Some(Some(score)),
            _ => {
                c.fail(2, "must be a whole number from 0 to 40");
                None
            }
        },
    };
    let sdq_reason = c.code(3, CodeList::SdqReason);
    if matches!((sdq_score, sdq_reason), (Some(Some(_)), Some(Some(_)))) {
        c.fail(3, "must be blank when SDQ_SCORE is given");
    }
    let flags: Vec<Option<Option<bool>>> = (4..12).map(|i| c.flag(i)).collect();
    let record = (|| {
        let flag = |i: usize| flags.get(i - 4).copied().flatten();
        Some(Oc2Record {
            origin: Origin::new(file, row.line),
            date_of_birth: date_of_birth?,
            values: Oc2Values {
                sdq_score: sdq_score?,
                sdq_reason: sdq_reason?.map(|i| CodeList::SdqReason.code_at(i)),
                convicted: flag(4)?,
                health_check: flag(5)?,
                immunisations: flag(6)?,
                teeth_check: flag(7)?,
                health_assessment: flag(8)?,
                substance_misuse: flag(9)?,
                intervention_received: flag(10)?,
                intervention_offered: flag(11)?,
            },
        })
    })();
    c.finish(record)
}

/// The row's record, by kind.
pub enum Record {
    Header(HeaderRecord),
    Episode(EpisodeRecord),
    Uasc(UascRecord),
    Oc2(Oc2Record),
}

pub fn check(row: &Row, file: u16) -> Result<Record, Vec<Problem>> {
    match row.kind {
        FileKind::Header => header(row, file).map(Record::Header),
        FileKind::Episodes => episode(row, file).map(Record::Episode),
        FileKind::Uasc => uasc(row, file).map(Record::Uasc),
        FileKind::Oc2 => oc2(row, file).map(Record::Oc2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssda903::files::EPISODE_COLUMNS;

    fn row(kind: FileKind, cells: &[&str]) -> Row {
        let mut row = Row::new(kind, 2);
        for (i, cell) in cells.iter().enumerate() {
            row.set(i, cell, 2);
        }
        row
    }

    #[test]
    fn dates_are_dd_mm_yyyy_strictly() {
        assert_eq!(parse_date("01/04/2023"), NaiveDate::from_ymd_opt(2023, 4, 1));
        assert_eq!(parse_date("29/02/2024"), NaiveDate::from_ymd_opt(2024, 2, 29));
        for bad in [
            "1/4/2023",
            "2023-04-01",
            "01/04/23",
            "01-04-2023",
            "29/02/2023",
            "31/04/2023",
            "00/01/2023",
            "01/13/2023",
            "01/04/0999",
            " 01/04/2023x",
            "０1/04/2023",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn header_sex_is_read_as_1_2_or_m_f_u() {
        for (sex, expected) in [
            ("1", Sex::Male),
            ("2", Sex::Female),
            ("M", Sex::Male),
            ("F", Sex::Female),
            ("U", Sex::Unknown),
        ] {
            let r = header(
                &row(FileKind::Header, &["A1", sex, "02/03/2013", "WBRI", "", "", ""]),
                0,
            )
            .expect("valid");
            assert_eq!(r.sex, expected);
        }
        let problems = header(
            &row(FileKind::Header, &["A1", "0", "02/03/2013", "WBRI", "", "", ""]),
            0,
        )
        .expect_err("sex 0");
        assert_eq!(problems[0].column, "SEX");
    }

    #[test]
    fn an_unknown_code_lists_the_valid_ones() {
        let cells = [
            "A1",
            "01/04/2023",
            "S",
            "C9",
            "N1",
            "U6",
            "PR1",
            "",
            "",
            "",
            "TA1 1AA",
            "TA2 2BB",
            "XXXXXXX",
        ];
        assert_eq!(cells.len(), EPISODE_COLUMNS.len());
        let problems = episode(&row(FileKind::Episodes, &cells), 0).expect_err("C9");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].column, "LS");
        assert_eq!(problems[0].value, "C9");
        assert!(problems[0]
            .reason
            .contains("C1, C2, D1, E1, V2, V3, V4, L1, L2, L3, J1, J2, J3"));
    }

    #[test]
    fn dec_before_decom_and_dec_without_rec_are_refused() {
        let mut cells = [
            "A1",
            "01/04/2023",
            "S",
            "C1",
            "N1",
            "U6",
            "PR1",
            "01/03/2023",
            "E4A",
            "",
            "",
            "",
            "",
        ];
        let problems = episode(&row(FileKind::Episodes, &cells), 0).expect_err("DEC before DECOM");
        assert_eq!((problems[0].column, problems[0].value.as_str()), ("DEC", "01/03/2023"));
        cells[7] = "01/05/2023";
        cells[8] = "";
        let problems = episode(&row(FileKind::Episodes, &cells), 0).expect_err("no REC");
        assert_eq!(problems[0].column, "REC");
        cells[8] = "E4A";
        let record = episode(&row(FileKind::Episodes, &cells), 0).expect("valid");
        assert_eq!(CodeList::ReasonEpisodeCeased.code_at(record.rec.unwrap_or(255)), "E4A");
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let cells = [
            "A1",
            "1/4/2023",
            "Q",
            "",
            "N1",
            "U6",
            "PR9",
            "",
            "",
            "",
            "TOO LONG POSTCODE",
            "",
            "",
        ];
        let problems = episode(&row(FileKind::Episodes, &cells), 0).expect_err("bad");
        let columns: Vec<_> = problems.iter().map(|p| p.column).collect();
        assert_eq!(columns, ["DECOM", "RNE", "LS", "PLACE_PROVIDER", "HOME_POST"]);
    }

    #[test]
    fn oc2_flags_scores_and_reasons() {
        let ok = ["A1", "02/03/2013", "18", "", "0", "", "1", "1", "1", "0", "", ""];
        let record = oc2(&row(FileKind::Oc2, &ok), 0).expect("valid");
        assert_eq!(record.values.sdq_score, Some(18));
        assert_eq!(record.values.immunisations, Some(true));
        assert_eq!(record.values.health_check, None);
        let both = ["A1", "02/03/2013", "18", "SDQ4", "0", "", "1", "1", "1", "0", "", ""];
        assert_eq!(
            oc2(&row(FileKind::Oc2, &both), 0).expect_err("both")[0].column,
            "SDQ_REASON"
        );
        let bad = ["A1", "02/03/2013", "41", "", "2", "", "1", "1", "1", "0", "", ""];
        let columns: Vec<_> = oc2(&row(FileKind::Oc2, &bad), 0)
            .expect_err("bad")
            .iter()
            .map(|p| p.column)
            .collect();
        assert_eq!(columns, ["SDQ_SCORE", "CONVICTED"]);
    }

    #[test]
    fn child_ids_are_short_and_alphanumeric() {
        assert!(child_id(&row(FileKind::Uasc, &["AB12"])).is_ok());
        assert!(child_id(&row(FileKind::Uasc, &[""])).is_err());
        assert!(child_id(&row(FileKind::Uasc, &["12345678901"])).is_err());
        assert!(child_id(&row(FileKind::Uasc, &["A-1"])).is_err());
    }

    #[test]
    fn short_text_holds_up_to_eight_bytes() {
        assert_eq!(
            Short::new("SW1A 1AA").map(|s| s.as_str().to_string()),
            Some("SW1A 1AA".into())
        );
        assert_eq!(Short::new("SW1A  1AA"), None);
        assert_eq!(Short::new("").and_then(Short::to_option), None);
    }
}
