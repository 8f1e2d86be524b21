//! What an SSDA903 import yields for one child, and what an export is written from: plain
//! values with no database ids, so the parser, the generator, the CSV/XML writers and the
//! database writer all speak the same language.
//!
//! Codes are held as the code list's own `&'static str` (see [`super::codes`]), so a value
//! that reached one of these structs is known to be a valid code.

use chrono::NaiveDate;

use super::codes::Sex;

/// One child as the files describe them: the header row, the periods of care rebuilt from
/// the episodes, and the UASC and OC2 rows when present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedChild {
    pub header: ChildHeader,
    /// In date order.
    pub periods: Vec<ImportedPeriod>,
    pub uasc: Option<Uasc>,
    pub oc2: Option<Oc2Values>,
}

/// The header file's row (CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildHeader {
    /// The local authority's CHILD id (letters and digits, at most 10).
    pub child: String,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub ethnicity: &'static str,
    /// Unique pupil number, or one of the UN1-UN10 "not known" codes.
    pub upn: Option<String>,
    /// MOTHER: whether the child is herself a mother (blank for boys and when not known).
    pub mother: Option<bool>,
    /// MC_DOB: the date of birth of the mother's child.
    pub mother_child_dob: Option<NaiveDate>,
}

/// One period of care: from an episode with RNE = S through the episodes that ended with
/// X1, to the first episode that ended with any other REC (or to today, if still open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPeriod {
    /// Day 0 of the IHA clock: DECOM of the first episode.
    pub started_on: NaiveDate,
    /// True when the first episode is not RNE = S: the period began before the earliest
    /// episode in the files (only with [`super::ImportOptions::allow_continuations`]).
    pub continued: bool,
    /// CIN of the first episode: the category of need is fixed for the period.
    pub category_of_need: &'static str,
    /// LS of the first episode.
    pub legal_status: &'static str,
    /// Each later day the legal status in force changed, with the new LS.
    pub legal_status_changes: Vec<LegalStatusChange>,
    /// The first placement and every change of placement (RNE P, T, B or U).
    pub placements: Vec<Placement>,
    /// DEC and REC of the last episode when REC is not X1; `None` while the period is open.
    pub ended: Option<PeriodEnd>,
    /// The episodes as read, in date order: the source of every field above.
    pub episodes: Vec<Episode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegalStatusChange {
    pub on: NaiveDate,
    pub legal_status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub started_on: NaiveDate,
    /// PLACE
    pub placement_type: &'static str,
    /// PLACE_PROVIDER
    pub provider: Option<&'static str>,
    /// PL_POST
    pub postcode: Option<String>,
    /// URN (Ofsted unique reference number, or XXXXXXX)
    pub urn: Option<String>,
    /// Out of the local authority's area: decided from the placement's postcode area when
    /// the import was told the authority's own areas, otherwise not known.
    pub out_of_area: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodEnd {
    pub on: NaiveDate,
    /// REC (never X1)
    pub reason: &'static str,
}

/// One row of the episodes file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub decom: NaiveDate,
    pub rne: &'static str,
    pub legal_status: &'static str,
    pub category_of_need: &'static str,
    pub placement_type: &'static str,
    pub provider: Option<&'static str>,
    pub dec: Option<NaiveDate>,
    pub rec: Option<&'static str>,
    pub reason_place_change: Option<&'static str>,
    pub home_postcode: Option<String>,
    pub placement_postcode: Option<String>,
    pub urn: Option<String>,
}

/// The UASC file's row: the child is (or was) an unaccompanied asylum-seeking child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uasc {
    /// DUC: the date the child ceased (or will cease) to be UASC.
    pub ceased_on: Option<NaiveDate>,
}

/// The OC2 file's values for one child (CHILD and DOB come from the header). Flags are 0/1
/// in the file; blank is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Oc2Values {
    pub sdq_score: Option<u8>,
    pub sdq_reason: Option<&'static str>,
    pub convicted: Option<bool>,
    pub health_check: Option<bool>,
    pub immunisations: Option<bool>,
    pub teeth_check: Option<bool>,
    pub health_assessment: Option<bool>,
    pub substance_misuse: Option<bool>,
    pub intervention_received: Option<bool>,
    pub intervention_offered: Option<bool>,
}
