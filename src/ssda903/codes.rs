//! SSDA903 code lists (DfE children looked after return), held as data so that error
//! messages can list the valid codes and screens can show descriptions.
//!
//! Descriptions follow the DfE SSDA903 guidance wording, shortened where the guidance
//! carries long statutory references.

/// A code and its description.
pub type Code = (&'static str, &'static str);

/// LS: the legal status of the child during the episode.
pub const LEGAL_STATUSES: &[Code] = &[
    ("C1", "Interim care order"),
    ("C2", "Full care order"),
    ("D1", "Freeing order granted"),
    ("E1", "Placement order granted"),
    ("V2", "Single period of accommodation under section 20 (Children Act 1989)"),
    (
        "V3",
        "Accommodated under an agreed series of short-term breaks, when individual episodes of care are recorded",
    ),
    (
        "V4",
        "Accommodated under an agreed series of short-term breaks, when agreements are recorded (not individual episodes of care)",
    ),
    ("L1", "Under police protection and in local authority accommodation"),
    ("L2", "Emergency protection order (EPO)"),
    ("L3", "Under child assessment order and in local authority accommodation"),
    ("J1", "Remanded to local authority accommodation or to youth detention accommodation"),
    (
        "J2",
        "Placed in local authority accommodation under the Police and Criminal Evidence Act 1984 (PACE)",
    ),
    (
        "J3",
        "Sentenced to a youth rehabilitation order with residence or intensive fostering requirement",
    ),
];

/// CIN: the category of need, fixed for the period of care.
pub const CATEGORIES_OF_NEED: &[Code] = &[
    ("N1", "Abuse or neglect"),
    ("N2", "Child's disability"),
    ("N3", "Parental illness or disability"),
    ("N4", "Family in acute stress"),
    ("N5", "Family dysfunction"),
    ("N6", "Socially unacceptable behaviour"),
    ("N7", "Low income"),
    ("N8", "Absent parenting"),
];

/// PLACE: placement type (the current list).
pub const PLACEMENT_TYPES: &[Code] = &[
    ("A3", "Placed for adoption with parental or guardian consent with current foster carer(s)"),
    ("A4", "Placed for adoption with parental or guardian consent not with current foster carer(s)"),
    ("A5", "Placed for adoption with placement order with current foster carer(s)"),
    ("A6", "Placed for adoption with placement order not with current foster carer(s)"),
    ("H5", "Semi-independent living accommodation not subject to children's homes regulations"),
    ("K1", "Secure children's home"),
    ("K2", "Children's home subject to children's homes regulations"),
    ("P1", "Placed with own parent(s) or other person(s) with parental responsibility"),
    (
        "P2",
        "Independent living, for example in a flat, lodgings, bedsit, bed and breakfast or with friends, with or without formal support",
    ),
    ("P3", "Residential employment"),
    ("R1", "Residential care home"),
    ("R2", "NHS or health trust or other establishment providing medical or nursing care"),
    ("R3", "Family centre or mother and baby unit"),
    ("R5", "Young offender institution (YOI)"),
    ("S1", "All residential schools, except where dual-registered as a school and children's home"),
    ("T0", "All types of temporary move"),
    ("T1", "Temporary periods in hospital"),
    ("T2", "Temporary absences of the child on holiday"),
    ("T3", "Temporary accommodation whilst normal foster carer(s) is/are on holiday"),
    (
        "T4",
        "Temporary accommodation of seven days or less, for any reason, not covered by codes T1 to T3",
    ),
    ("U1", "Foster placement with relative(s) or friend(s): long-term fostering"),
    (
        "U2",
        "Foster placement with relative(s) or friend(s) who is/are also an approved adopter(s): fostering for adoption or concurrent planning",
    ),
    (
        "U3",
        "Foster placement with relative(s) or friend(s): not long-term or fostering for adoption or concurrent planning",
    ),
    ("U4", "Foster placement with other foster carer(s): long-term fostering"),
    (
        "U5",
        "Foster placement with other foster carer(s) who is/are also an approved adopter(s): fostering for adoption or concurrent planning",
    ),
    (
        "U6",
        "Foster placement with other foster carer(s): not long-term or fostering for adoption or concurrent planning",
    ),
    ("Z1", "Other placements (listed on a schedule sent to DfE with the annual submission)"),
];

/// REC: the reason an episode ceased.
pub const REASONS_EPISODE_CEASED: &[Code] = &[
    ("X1", "Episode ceases, and new episode begins on same day, for any reason"),
    ("E11", "Adopted: application for an adoption order unopposed"),
    ("E12", "Adopted: consent dispensed with by the court"),
    ("E2", "Died"),
    ("E3", "Care taken over by another local authority in the UK"),
    (
        "E4A",
        "Returned home to live with parent(s), relative(s) or other person(s) with parental responsibility as part of the care planning process",
    ),
    (
        "E4B",
        "Returned home to live with parent(s), relative(s) or other person(s) with parental responsibility, not as part of the current care planning process",
    ),
    (
        "E13",
        "Left care to live with parent(s), relative(s) or other person(s) with no parental responsibility",
    ),
    (
        "E41",
        "Residence order or child arrangements order granted (setting out with whom the child is to live)",
    ),
    (
        "E45",
        "Special guardianship order made to former foster carer(s) who was/are a relative(s) or friend(s)",
    ),
    (
        "E46",
        "Special guardianship order made to former foster carer(s), other than relative(s) or friend(s)",
    ),
    (
        "E47",
        "Special guardianship order made to carer(s), other than former foster carer(s), who was/are a relative(s) or friend(s)",
    ),
    (
        "E48",
        "Special guardianship order made to carer(s), other than former foster carer(s), other than relative(s) or friend(s)",
    ),
    (
        "E5",
        "Moved into independent living arrangement and no longer looked after: supportive accommodation providing formalised advice or support",
    ),
    (
        "E6",
        "Moved into independent living arrangement and no longer looked after: accommodation providing no formalised advice or support",
    ),
    ("E7", "Transferred to residential care funded by adult social care services"),
    (
        "E8",
        "Period of being looked after ceased for any other reason (where none of the other reasons apply)",
    ),
    ("E9", "Sentenced to custody"),
    ("E14", "Accommodation on remand ended"),
    (
        "E15",
        "Age assessment determined child is aged 18 or over and E5, E6 and E7 do not apply",
    ),
    ("E16", "Child moved abroad"),
    (
        "E17",
        "Aged 18 (or over) and remained with current carers (including under staying put arrangements)",
    ),
];

/// RNE: the reason a new episode started.
pub const REASONS_NEW_EPISODE: &[Code] = &[
    ("S", "Started to be looked after"),
    ("L", "Change of legal status only"),
    ("P", "Change of placement and carer(s) only"),
    ("T", "Change of placement (but same carer(s)) only"),
    (
        "B",
        "Change of legal status and placement and carer(s) at the same time",
    ),
    (
        "U",
        "Change of legal status and change of placement (but same carer(s)) at the same time",
    ),
];

/// PLACE_PROVIDER: who provides the placement (blank for temporary placements T0-T4 and Z1).
pub const PLACEMENT_PROVIDERS: &[Code] = &[
    ("PR0", "Parent(s) or other person(s) with parental responsibility"),
    ("PR1", "Own provision (by the local authority)"),
    ("PR2", "Other local authority provision"),
    ("PR3", "Other public provision"),
    ("PR4", "Private provision"),
    ("PR5", "Voluntary or third sector provision"),
];

/// REASON_PLACE_CHANGE: recorded on the episode that ended because the placement changed.
pub const REASONS_PLACE_CHANGE: &[Code] = &[
    ("CARPL", "Change to or implementation of the care plan"),
    ("CLOSE", "Resignation or closure of the provision"),
    ("ALLEG", "Allegation (section 47)"),
    ("STAND", "Standards of care concern"),
    ("APPRR", "Approval removed"),
    (
        "CREQB",
        "Carer requests the placement end because of the child's behaviour",
    ),
    ("CREQO", "Carer requests the placement end for another reason"),
    ("CHILD", "Child requests the placement end"),
    ("LAREQ", "Responsible or area authority requests the placement end"),
    ("PLACE", "Change in the status of the placement only"),
    ("CUSTOD", "Custody arrangement"),
    ("OTHER", "Other"),
];

/// ETHNIC: the child's ethnic origin.
pub const ETHNICITIES: &[Code] = &[
    ("WBRI", "White British"),
    ("WIRI", "White Irish"),
    ("WOTH", "Any other White background"),
    ("WIRT", "Traveller of Irish heritage"),
    ("WROM", "Gypsy or Roma"),
    ("MWBC", "White and Black Caribbean"),
    ("MWBA", "White and Black African"),
    ("MWAS", "White and Asian"),
    ("MOTH", "Any other mixed background"),
    ("AIND", "Indian"),
    ("APKN", "Pakistani"),
    ("ABAN", "Bangladeshi"),
    ("AOTH", "Any other Asian background"),
    ("BCRB", "Caribbean"),
    ("BAFR", "African"),
    ("BOTH", "Any other Black background"),
    ("CHNE", "Chinese"),
    ("OOTH", "Any other ethnic group"),
    ("REFU", "Refused"),
    ("NOBT", "Information not yet obtained"),
];

/// SDQ_REASON: why there is no SDQ score (OC2).
pub const SDQ_REASONS: &[Code] = &[
    (
        "SDQ1",
        "No form returned as the child was aged under 4 or over 17 at the date of the latest assessment",
    ),
    ("SDQ2", "Carer refused to complete and return the questionnaire"),
    (
        "SDQ3",
        "Not possible to complete the questionnaire because of the severity of the child's disability",
    ),
    ("SDQ4", "Other"),
    ("SDQ5", "Child or young person refuses to allow an SDQ to be completed"),
];

/// The code lists, so callers can validate and explain without naming each constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeList {
    LegalStatus,
    CategoryOfNeed,
    PlacementType,
    ReasonEpisodeCeased,
    ReasonNewEpisode,
    PlacementProvider,
    ReasonPlaceChange,
    Ethnicity,
    SdqReason,
}

impl CodeList {
    /// The list's codes with descriptions, in DfE order.
    pub fn entries(self) -> &'static [Code] {
        match self {
            Self::LegalStatus => LEGAL_STATUSES,
            Self::CategoryOfNeed => CATEGORIES_OF_NEED,
            Self::PlacementType => PLACEMENT_TYPES,
            Self::ReasonEpisodeCeased => REASONS_EPISODE_CEASED,
            Self::ReasonNewEpisode => REASONS_NEW_EPISODE,
            Self::PlacementProvider => PLACEMENT_PROVIDERS,
            Self::ReasonPlaceChange => REASONS_PLACE_CHANGE,
            Self::Ethnicity => ETHNICITIES,
            Self::SdqReason => SDQ_REASONS,
        }
    }

    /// The position of `code` in the list (lists are short, so a `u8` holds it). Compact
    /// records keep this instead of the code itself.
    pub fn index_of(self, code: &str) -> Option<u8> {
        self.entries()
            .iter()
            .position(|(c, _)| *c == code)
            .and_then(|i| u8::try_from(i).ok())
    }

    /// The code at `index`, or "" for an index the list does not have.
    pub fn code_at(self, index: u8) -> &'static str {
        self.entries().get(usize::from(index)).map_or("", |(code, _)| *code)
    }

    /// The list's own copy of `code`, so parsed values can be held as `&'static str`.
    pub fn canonical(self, code: &str) -> Option<&'static str> {
        self.entries().iter().find(|(c, _)| *c == code).map(|(c, _)| *c)
    }

    /// The SSDA903 field name, for messages ("LS must be one of ...").
    pub fn field(self) -> &'static str {
        match self {
            Self::LegalStatus => "LS",
            Self::CategoryOfNeed => "CIN",
            Self::PlacementType => "PLACE",
            Self::ReasonEpisodeCeased => "REC",
            Self::ReasonNewEpisode => "RNE",
            Self::PlacementProvider => "PLACE_PROVIDER",
            Self::ReasonPlaceChange => "REASON_PLACE_CHANGE",
            Self::Ethnicity => "ETHNIC",
            Self::SdqReason => "SDQ_REASON",
        }
    }
}

/// The codes of a list, in DfE order.
pub fn codes(list: CodeList) -> impl Iterator<Item = &'static str> {
    list.entries().iter().map(|(code, _)| *code)
}

/// "C1, C2, D1, ..." for "must be one of ..." messages.
pub fn one_of(list: CodeList) -> String {
    codes(list).collect::<Vec<_>>().join(", ")
}

/// The description of `code` in `list`. Codes are matched exactly (upper case), as the
/// return requires; callers normalise user input first if they want to be lenient.
pub fn describe(list: CodeList, code: &str) -> Option<&'static str> {
    list.entries()
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, description)| *description)
}

pub fn legal_status(code: &str) -> Option<&'static str> {
    describe(CodeList::LegalStatus, code)
}

pub fn category_of_need(code: &str) -> Option<&'static str> {
    describe(CodeList::CategoryOfNeed, code)
}

pub fn placement_type(code: &str) -> Option<&'static str> {
    describe(CodeList::PlacementType, code)
}

pub fn reason_episode_ceased(code: &str) -> Option<&'static str> {
    describe(CodeList::ReasonEpisodeCeased, code)
}

pub fn reason_new_episode(code: &str) -> Option<&'static str> {
    describe(CodeList::ReasonNewEpisode, code)
}

/// V3/V4: an agreed series of short breaks. No statutory IHA or RHA is due for these
/// children, and they are left out of the OC2 cohort.
pub fn is_short_breaks(legal_status: &str) -> bool {
    matches!(legal_status, "V3" | "V4")
}

/// Whether the LA holds (shares) parental responsibility, and so may consent to a health
/// assessment itself. Care orders (C1, C2), a placement order (E1) and a freeing order
/// (D1) give the LA PR; under section 20 (V2), remand or PACE (J1-J3) and the short
/// protective orders (L1-L3) PR stays with the parents. Unknown codes give `false`, the
/// safe answer: ask a parent.
pub fn la_holds_parental_responsibility(legal_status: &str) -> bool {
    matches!(legal_status, "C1" | "C2" | "E1" | "D1")
}

/// True when an episode with this reason ends the period of care (anything but X1).
pub fn ends_period_of_care(reason_episode_ceased: &str) -> bool {
    reason_episode_ceased != "X1"
}

/// RNE codes that start a new placement (P, T, B, U); L changes the legal status only.
pub fn changes_placement(reason_new_episode: &str) -> bool {
    matches!(reason_new_episode, "P" | "T" | "B" | "U")
}

/// SEX in the header and UASC files. DfE wrote 1 (male) and 2 (female) up to the 2023-24
/// return and M, F and U (unknown or not recorded) from 2024-25.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
    Unknown,
}

impl Sex {
    /// Reads either form: "1"/"M", "2"/"F", "U".
    pub fn parse(code: &str) -> Option<Sex> {
        match code {
            "1" | "M" => Some(Sex::Male),
            "2" | "F" => Some(Sex::Female),
            "U" => Some(Sex::Unknown),
            _ => None,
        }
    }

    /// The code for the return whose year ends on 31 March `year_ending`. Before 2024-25
    /// there was no code for unknown, so `Unknown` has none (`None`) in those years.
    pub fn code_for_year(self, year_ending: i32) -> Option<&'static str> {
        let letters = year_ending >= 2025;
        match (self, letters) {
            (Sex::Male, true) => Some("M"),
            (Sex::Female, true) => Some("F"),
            (Sex::Unknown, true) => Some("U"),
            (Sex::Male, false) => Some("1"),
            (Sex::Female, false) => Some("2"),
            (Sex::Unknown, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CodeList; 9] = [
        CodeList::LegalStatus,
        CodeList::CategoryOfNeed,
        CodeList::PlacementType,
        CodeList::ReasonEpisodeCeased,
        CodeList::ReasonNewEpisode,
        CodeList::PlacementProvider,
        CodeList::ReasonPlaceChange,
        CodeList::Ethnicity,
        CodeList::SdqReason,
    ];

    #[test]
    fn every_list_has_unique_codes_with_descriptions() {
        for list in ALL {
            let mut seen: Vec<&str> = codes(list).collect();
            let total = seen.len();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), total, "{list:?} has a duplicate code");
            assert!(list.entries().iter().all(|(_, d)| !d.is_empty()));
        }
    }

    #[test]
    fn lists_hold_the_dfe_code_sets() {
        assert_eq!(
            one_of(CodeList::LegalStatus),
            "C1, C2, D1, E1, V2, V3, V4, L1, L2, L3, J1, J2, J3"
        );
        assert_eq!(codes(CodeList::CategoryOfNeed).count(), 8);
        assert_eq!(
            one_of(CodeList::PlacementType),
            "A3, A4, A5, A6, H5, K1, K2, P1, P2, P3, R1, R2, R3, R5, S1, T0, T1, T2, T3, T4, U1, U2, U3, U4, U5, U6, Z1"
        );
        assert_eq!(
            one_of(CodeList::ReasonEpisodeCeased),
            "X1, E11, E12, E2, E3, E4A, E4B, E13, E41, E45, E46, E47, E48, E5, E6, E7, E8, E9, E14, E15, E16, E17"
        );
        assert_eq!(one_of(CodeList::ReasonNewEpisode), "S, L, P, T, B, U");
    }

    #[test]
    fn lookups_describe_known_codes_and_reject_unknown() {
        assert_eq!(legal_status("C2"), Some("Full care order"));
        assert_eq!(category_of_need("N1"), Some("Abuse or neglect"));
        assert_eq!(placement_type("K1"), Some("Secure children's home"));
        assert_eq!(reason_episode_ceased("E2"), Some("Died"));
        assert_eq!(reason_new_episode("S"), Some("Started to be looked after"));
        assert_eq!(legal_status("C3"), None);
        assert_eq!(legal_status("c2"), None);
        assert_eq!(placement_type("R4"), None);
    }

    #[test]
    fn short_breaks_are_v3_and_v4_only() {
        assert!(is_short_breaks("V3"));
        assert!(is_short_breaks("V4"));
        assert!(!is_short_breaks("V2"));
        assert!(!is_short_breaks("C2"));
    }

    #[test]
    fn la_holds_parental_responsibility_under_care_placement_and_freeing_orders() {
        for ls in ["C1", "C2", "E1", "D1"] {
            assert!(la_holds_parental_responsibility(ls), "{ls}");
        }
        for ls in ["V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3", "XX"] {
            assert!(!la_holds_parental_responsibility(ls), "{ls}");
        }
    }

    #[test]
    fn every_code_has_an_index_that_gives_it_back() {
        for list in ALL {
            for code in codes(list) {
                let index = list.index_of(code).expect("listed code has an index");
                assert_eq!(list.code_at(index), code);
                assert_eq!(list.canonical(code), Some(code));
            }
            assert_eq!(list.index_of("nope"), None);
            assert_eq!(list.code_at(250), "");
        }
    }

    #[test]
    fn sex_is_read_as_1_2_or_m_f_u_and_written_in_the_years_form() {
        assert_eq!(Sex::parse("1"), Some(Sex::Male));
        assert_eq!(Sex::parse("M"), Some(Sex::Male));
        assert_eq!(Sex::parse("2"), Some(Sex::Female));
        assert_eq!(Sex::parse("F"), Some(Sex::Female));
        assert_eq!(Sex::parse("U"), Some(Sex::Unknown));
        assert_eq!(Sex::parse("3"), None);
        assert_eq!(Sex::parse("m"), None);
        assert_eq!(Sex::Female.code_for_year(2024), Some("2"));
        assert_eq!(Sex::Female.code_for_year(2025), Some("F"));
        assert_eq!(Sex::Unknown.code_for_year(2024), None);
        assert_eq!(Sex::Unknown.code_for_year(2025), Some("U"));
    }

    #[test]
    fn only_x1_continues_the_period_of_care() {
        assert!(!ends_period_of_care("X1"));
        assert!(ends_period_of_care("E11"));
    }
}
