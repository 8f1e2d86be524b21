//! Which SSDA903 file is which, in DfE column order, and the row both readers produce.
//!
//! Rules:
//! - A CSV file is recognised by its header row alone: the set of column names (trimmed,
//!   any case, any order) must be exactly one file's set, as the DfE validator requires.
//! - The header, episodes, UASC and OC2 files are imported. The other SSDA903 files
//!   (reviews, OC3, AD1, placed for adoption, previous permanence, missing, social worker
//!   episodes) are recognised and skipped: the tracker does not hold their data.

/// CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB
pub const HEADER_COLUMNS: &[&str] = &["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"];

/// The episodes file, in DfE order.
pub const EPISODE_COLUMNS: &[&str] = &[
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
];

/// CHILD, SEX, DOB, DUC
pub const UASC_COLUMNS: &[&str] = &["CHILD", "SEX", "DOB", "DUC"];

/// The OC2 file, in DfE order.
pub const OC2_COLUMNS: &[&str] = &[
    "CHILD",
    "DOB",
    "SDQ_SCORE",
    "SDQ_REASON",
    "CONVICTED",
    "HEALTH_CHECK",
    "IMMUNISATIONS",
    "TEETH_CHECK",
    "HEALTH_ASSESSMENT",
    "SUBSTANCE_MISUSE",
    "INTERVENTION_RECEIVED",
    "INTERVENTION_OFFERED",
];

/// SSDA903 files the tracker recognises but does not import.
const UNUSED_FILES: &[(&str, &[&str])] = &[
    ("reviews", &["CHILD", "DOB", "REVIEW", "REVIEW_CODE"]),
    ("OC3", &["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"]),
    (
        "AD1",
        &[
            "CHILD",
            "DOB",
            "DATE_INT",
            "DATE_MATCH",
            "FOSTER_CARE",
            "NB_ADOPTR",
            "SEX_ADOPTR",
            "LS_ADOPTR",
        ],
    ),
    (
        "placed for adoption",
        &[
            "CHILD",
            "DOB",
            "DATE_PLACED",
            "DATE_PLACED_CEASED",
            "REASON_PLACED_CEASED",
        ],
    ),
    (
        "previous permanence",
        &["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"],
    ),
    ("missing", &["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"]),
    (
        "social worker episodes",
        &["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"],
    ),
];

/// The files the tracker imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Header,
    Episodes,
    Uasc,
    Oc2,
}

impl FileKind {
    pub const ALL: [FileKind; 4] = [FileKind::Header, FileKind::Episodes, FileKind::Uasc, FileKind::Oc2];

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            FileKind::Header => HEADER_COLUMNS,
            FileKind::Episodes => EPISODE_COLUMNS,
            FileKind::Uasc => UASC_COLUMNS,
            FileKind::Oc2 => OC2_COLUMNS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FileKind::Header => "header",
            FileKind::Episodes => "episodes",
            FileKind::Uasc => "UASC",
            FileKind::Oc2 => "OC2",
        }
    }
}

/// What a CSV header row says the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recognised {
    Imported(FileKind),
    /// Another SSDA903 file: its name.
    Unused(&'static str),
    Unknown,
}

/// Recognises a file from its header row's column names.
pub fn recognise(names: &[String]) -> Recognised {
    let mut given: Vec<String> = names.iter().map(|n| n.trim().to_ascii_uppercase()).collect();
    given.sort();
    let same = |columns: &[&str]| {
        let mut expected: Vec<&str> = columns.to_vec();
        expected.sort_unstable();
        given.len() == expected.len() && given.iter().zip(&expected).all(|(g, e)| g == e)
    };
    if let Some(kind) = FileKind::ALL.into_iter().find(|kind| same(kind.columns())) {
        return Recognised::Imported(kind);
    }
    UNUSED_FILES
        .iter()
        .find(|(_, columns)| same(columns))
        .map_or(Recognised::Unknown, |(name, _)| Recognised::Unused(name))
}

/// "header (CHILD, SEX, ...); episodes (...)" for the message about an unknown file.
pub fn expected_files() -> String {
    FileKind::ALL
        .iter()
        .map(|kind| format!("{} ({})", kind.name(), kind.columns().join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One row of one file, its cells in the file kind's DfE column order (so readers of any
/// format hand the checks the same thing). A cell missing from the input is blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: FileKind,
    /// Where the row starts.
    pub line: u64,
    /// (value, line) per column.
    pub cells: Vec<(String, u64)>,
}

impl Row {
    pub fn new(kind: FileKind, line: u64) -> Row {
        Row {
            kind,
            line,
            cells: vec![(String::new(), line); kind.columns().len()],
        }
    }

    pub fn set(&mut self, column: usize, value: &str, line: u64) {
        if let Some(cell) = self.cells.get_mut(column) {
            cell.0.clear();
            cell.0.push_str(value);
            cell.1 = line;
        }
    }

    /// The trimmed value of `column` ("" past the end).
    pub fn value(&self, column: usize) -> &str {
        self.cells.get(column).map_or("", |(value, _)| value.trim())
    }

    pub fn line_of(&self, column: usize) -> u64 {
        self.cells.get(column).map_or(self.line, |(_, line)| *line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn files_are_recognised_from_their_header_row_in_any_column_order() {
        assert_eq!(
            recognise(&names(HEADER_COLUMNS)),
            Recognised::Imported(FileKind::Header)
        );
        let mut shuffled = names(EPISODE_COLUMNS);
        shuffled.reverse();
        assert_eq!(recognise(&shuffled), Recognised::Imported(FileKind::Episodes));
        assert_eq!(
            recognise(&names(&[" child", "dob ", "Duc", "SEX"])),
            Recognised::Imported(FileKind::Uasc)
        );
        assert_eq!(recognise(&names(OC2_COLUMNS)), Recognised::Imported(FileKind::Oc2));
        assert_eq!(
            recognise(&names(&["CHILD", "DOB", "REVIEW", "REVIEW_CODE"])),
            Recognised::Unused("reviews")
        );
    }

    #[test]
    fn a_missing_or_extra_column_is_not_recognised() {
        assert_eq!(recognise(&names(&HEADER_COLUMNS[..6])), Recognised::Unknown);
        let mut extra = names(HEADER_COLUMNS);
        extra.push("NOTES".into());
        assert_eq!(recognise(&extra), Recognised::Unknown);
        let mut doubled = names(UASC_COLUMNS);
        doubled[3] = "DOB".into();
        assert_eq!(recognise(&doubled), Recognised::Unknown);
    }
}
