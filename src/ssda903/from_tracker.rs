//! The SSDA903 return for one year, built from what the tracker holds. Pure: the database
//! shell ([`crate::service::ssda903_export`]) loads [`TrackerChild`] values and writes
//! what [`child_return`] gives with [`super::export::CsvFiles`].
//!
//! Rules (the year ending 31 March Y runs 1 April Y-1 to 31 March Y, both in):
//! - Episodes are rebuilt from each period of care: a new episode on the period's start,
//!   on each placement's start and on each day the legal status changes. RNE is S for the
//!   first episode, L for a change of legal status alone, P for a move alone and B for
//!   both, T and U for a move to the same carers' adoption placement (A3, A5: DfE rule
//!   217); an imported episode of the same day says whether a move kept the carer (T, U)
//!   and what a continued period's first episode was. Every episode but the last ends with
//!   X1 on the next one's day; the last ends with the period (DEC, REC) or is open.
//! - PLACE_PROVIDER, PL_POST, HOME_POST and URN come from the imported episode of the same
//!   day when it is of the same placement type, else from the period's previous episode
//!   when the placement is the same one (a change of legal status alone); REASON_PLACE_CHANGE
//!   only from the imported episode. The tracker does not hold them otherwise: they are
//!   left blank and listed as missing.
//! - The episodes file holds the episodes open at any time in the year (DECOM on or before
//!   31 March, DEC blank or on or after 1 April). An episode that ended after 31 March is
//!   written open (DEC, REC and REASON_PLACE_CHANGE blank): the return knows nothing later.
//! - The header file holds every child with an episode in the file; ETHNIC, UPN, MOTHER
//!   and MC_DOB as last imported (MOTHER only for girls). A UASC row for a child the tracker
//!   marks UASC, with DUC as imported.
//! - OC2: the cohort and values of [`super::oc2`], from the tracker's health records as at
//!   31 March: the last IHA or RHA seen (a brief health summary counts on its completion
//!   day), and the latest dental check, development check, immunisation record and SDQ
//!   dated in the year. CONVICTED, SUBSTANCE_MISUSE and the interventions are carried from
//!   the last imported OC2 row.
//! - Every required field left blank is named (postcodes are not asked of short breaks,
//!   V3/V4, nor a provider of a temporary placement, T0-T4) in [`ChildReturn::missing`], so the export
//!   can say what the local authority must add before submitting.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::codes::Sex;
use super::model::{
    ChildHeader, Episode, ImportedChild, ImportedPeriod, LegalStatusChange, Oc2Values, PeriodEnd, Uasc,
};
use super::oc2::{self, HealthFacts, SdqResult};

/// What the tracker holds about one child of the authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerChild {
    /// The CHILD id (the tracker's local id).
    pub local_id: String,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub uasc: bool,
    pub details: ReturnDetails,
    /// In any order.
    pub periods: Vec<TrackerPeriod>,
    /// Imported episode rows, in any order (at most one a day).
    pub imported_episodes: Vec<Episode>,
    pub health: Vec<HealthRecord>,
    /// CONVICTED, SUBSTANCE_MISUSE and the interventions from the last imported OC2 row.
    pub carried: Option<Oc2Values>,
}

/// The header and UASC fields the tracker keeps from an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnDetails {
    pub ethnicity: Option<&'static str>,
    pub upn: Option<String>,
    pub mother: Option<bool>,
    pub mother_child_dob: Option<NaiveDate>,
    pub uasc_ceased_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerPeriod {
    pub started_on: NaiveDate,
    /// The legal status the period started with.
    pub legal_status: &'static str,
    pub category_of_need: Option<&'static str>,
    pub ended: Option<PeriodEnd>,
    /// (start, PLACE), any order.
    pub placements: Vec<(NaiveDate, &'static str)>,
    /// Any order.
    pub legal_status_changes: Vec<LegalStatusChange>,
}

/// One dated health record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthRecord {
    /// An IHA or RHA seen (or a brief health summary completed) that day.
    Assessment(NaiveDate),
    Dental(NaiveDate),
    Development(NaiveDate),
    Immunisations(NaiveDate, bool),
    Sdq(NaiveDate, SdqResult),
}

/// A child's rows for the return, and the required fields the tracker could not fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildReturn {
    /// Its one period holds the year's episodes (the writer needs nothing else).
    pub child: ImportedChild,
    /// Field names, once per blank (e.g. "PLACE_PROVIDER" twice for two episodes).
    pub missing: Vec<&'static str>,
}

/// The health facts as at 31 March `year_ending` (see the module docs).
pub fn health_facts(records: &[HealthRecord], carried: Option<Oc2Values>, year_ending: i32) -> HealthFacts {
    let (start, end) = oc2::year_bounds(year_ending);
    let by_end = |d: NaiveDate| d <= end;
    let in_year = |d: NaiveDate| d >= start && d <= end;
    let mut facts = HealthFacts {
        carried,
        ..HealthFacts::default()
    };
    // Later records replace earlier ones; ties keep the first seen, so sort first.
    let mut sorted = records.to_vec();
    sorted.sort_by_key(|r| match r {
        HealthRecord::Assessment(d)
        | HealthRecord::Dental(d)
        | HealthRecord::Development(d)
        | HealthRecord::Immunisations(d, _)
        | HealthRecord::Sdq(d, _) => *d,
    });
    for r in sorted {
        match r {
            HealthRecord::Assessment(d) if by_end(d) => facts.last_health_assessment = Some(d),
            HealthRecord::Dental(d) if by_end(d) => facts.last_dental_check = Some(d),
            HealthRecord::Development(d) if by_end(d) => facts.last_development_check = Some(d),
            HealthRecord::Immunisations(d, ok) if in_year(d) => facts.immunisations = Some((d, ok)),
            HealthRecord::Sdq(d, result) if in_year(d) => facts.sdq = Some((d, result)),
            _ => {}
        }
    }
    facts
}

/// The episodes of one period (see the module docs), whole, before any clipping to a year.
pub fn period_episodes(period: &TrackerPeriod, imported: &BTreeMap<NaiveDate, &Episode>) -> Vec<Episode> {
    // day -> (new placement type, new legal status)
    let mut days: BTreeMap<NaiveDate, (Option<&'static str>, Option<&'static str>)> = BTreeMap::new();
    days.insert(period.started_on, (None, Some(period.legal_status)));
    let mut placements = period.placements.clone();
    placements.sort();
    let in_period = |d: NaiveDate| period.ended.is_none_or(|e| d < e.on);
    // A placement that began on or before the start is the first placement.
    let mut first_place = None;
    for (on, place) in &placements {
        if *on <= period.started_on {
            first_place = Some(*place);
        } else if in_period(*on) {
            days.entry(*on).or_default().0 = Some(place);
        }
    }
    if let Some(first) = days.get_mut(&period.started_on) {
        first.0 = first_place;
    }
    let mut changes = period.legal_status_changes.clone();
    changes.sort_by_key(|c| c.on);
    for c in changes.iter().filter(|c| c.on > period.started_on && in_period(c.on)) {
        days.entry(c.on).or_default().1 = Some(c.legal_status);
    }

    let mut episodes: Vec<Episode> = Vec::new();
    let mut ls = period.legal_status;
    let mut place = "";
    for (day, (new_place, new_ls)) in days {
        let first = day == period.started_on;
        let moved = new_place.is_some() && !first;
        let ls_changed = !first && new_ls.is_some_and(|l| l != ls);
        if !first && !moved && !ls_changed {
            continue;
        }
        if let Some(l) = new_ls {
            ls = l;
        }
        if let Some(p) = new_place {
            place = p;
        }
        let row = imported.get(&day).copied();
        let row_rne = row.map(|r| r.rne);
        // Placed for adoption with the current foster carers (A3, A5): the same carer.
        let same_carer = matches!(place, "A3" | "A5");
        let rne = match (first, ls_changed, moved) {
            (true, _, _) => row_rne.unwrap_or("S"),
            (false, true, false) => "L",
            (false, false, _) if same_carer => "T",
            (false, true, true) if same_carer => "U",
            (false, false, _) => row_rne.filter(|r| matches!(*r, "P" | "T")).unwrap_or("P"),
            (false, true, true) => row_rne.filter(|r| matches!(*r, "B" | "U")).unwrap_or("B"),
        };
        let same_place = row.filter(|r| r.placement_type == place);
        let previous = episodes.last().filter(|_| !moved && !first);
        let detail = |f: fn(&Episode) -> Option<String>| same_place.and_then(f).or_else(|| previous.and_then(f));
        let episode = Episode {
            decom: day,
            rne,
            legal_status: ls,
            category_of_need: period.category_of_need.unwrap_or(""),
            placement_type: place,
            provider: same_place
                .and_then(|r| r.provider)
                .or_else(|| previous.and_then(|p| p.provider)),
            dec: None,
            rec: None,
            reason_place_change: None,
            home_postcode: detail(|e| e.home_postcode.clone()),
            placement_postcode: detail(|e| e.placement_postcode.clone()),
            urn: detail(|e| e.urn.clone()),
        };
        if let Some(last) = episodes.last_mut() {
            last.dec = Some(day);
            last.rec = Some("X1");
        }
        episodes.push(episode);
    }
    if let (Some(last), Some(end)) = (episodes.last_mut(), period.ended) {
        last.dec = Some(end.on);
        last.rec = Some(end.reason);
    }
    // The reason for a move is held on the episode the move ended.
    for e in &mut episodes {
        e.reason_place_change = imported
            .get(&e.decom)
            .filter(|r| r.dec == e.dec && r.placement_type == e.placement_type)
            .and_then(|r| r.reason_place_change);
    }
    episodes
}

/// The episodes open at some time in the year, an episode that ended after it written open.
pub fn episodes_in_year(episodes: Vec<Episode>, year_ending: i32) -> Vec<Episode> {
    let (start, end) = oc2::year_bounds(year_ending);
    episodes
        .into_iter()
        .filter(|e| e.decom <= end && e.dec.is_none_or(|dec| dec >= start))
        .map(|mut e| {
            if e.dec.is_some_and(|dec| dec > end) {
                e.dec = None;
                e.rec = None;
                e.reason_place_change = None;
            }
            e
        })
        .collect()
}

/// The child's rows for the return of the year ending 31 March `year_ending`; `None` when
/// the child has no episode in the year.
pub fn child_return(child: &TrackerChild, year_ending: i32) -> Option<ChildReturn> {
    let imported: BTreeMap<NaiveDate, &Episode> = child.imported_episodes.iter().map(|e| (e.decom, e)).collect();
    let mut periods = child.periods.clone();
    periods.sort_by_key(|p| p.started_on);
    let episodes: Vec<Episode> = periods
        .iter()
        .flat_map(|p| episodes_in_year(period_episodes(p, &imported), year_ending))
        .collect();
    let first = episodes.first()?;
    let mut missing = Vec::new();
    let d = &child.details;
    let header = ChildHeader {
        child: child.local_id.clone(),
        sex: child.sex,
        date_of_birth: child.date_of_birth,
        ethnicity: d.ethnicity.unwrap_or(""),
        upn: d.upn.clone(),
        mother: d.mother.filter(|_| child.sex == Sex::Female),
        mother_child_dob: d
            .mother_child_dob
            .filter(|_| child.sex == Sex::Female && d.mother == Some(true)),
    };
    if header.ethnicity.is_empty() {
        missing.push("ETHNIC");
    }
    if header.upn.is_none() {
        missing.push("UPN");
    }
    if child.sex == Sex::Female && header.mother.is_none() {
        missing.push("MOTHER");
    }
    for e in &episodes {
        // Short breaks have no postcodes (DfE rules 214, 398); temporary placements (T0-T4)
        // no provider (rule 213).
        let located = !matches!(e.legal_status, "V3" | "V4");
        let provided = !e.placement_type.starts_with('T');
        let checks: [(&'static str, bool); 5] = [
            ("CIN", e.category_of_need.is_empty()),
            ("PLACE", e.placement_type.is_empty()),
            ("PLACE_PROVIDER", provided && e.provider.is_none()),
            ("HOME_POST", located && e.home_postcode.is_none()),
            ("PL_POST", located && e.placement_postcode.is_none()),
        ];
        missing.extend(checks.iter().filter(|(_, blank)| *blank).map(|(field, _)| *field));
    }
    let oc2 = oc2::continuously_looked_after(&episodes, year_ending).then(|| {
        let facts = health_facts(&child.health, child.carried, year_ending);
        let outcome = oc2::values(child.date_of_birth, &facts, year_ending);
        missing.extend(outcome.missing);
        outcome.values
    });
    let started_on = first.decom;
    let period = ImportedPeriod {
        started_on,
        continued: first.rne != "S",
        category_of_need: first.category_of_need,
        legal_status: first.legal_status,
        legal_status_changes: Vec::new(),
        placements: Vec::new(),
        ended: None,
        episodes,
    };
    Some(ChildReturn {
        child: ImportedChild {
            header,
            periods: vec![period],
            uasc: child.uasc.then_some(Uasc {
                ceased_on: d.uasc_ceased_on,
            }),
            oc2,
        },
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%d/%m/%Y").expect("test date")
    }

    fn period(start: &str, ls: &'static str, end: Option<(&str, &'static str)>) -> TrackerPeriod {
        TrackerPeriod {
            started_on: d(start),
            legal_status: ls,
            category_of_need: Some("N1"),
            ended: end.map(|(on, reason)| PeriodEnd { on: d(on), reason }),
            placements: vec![(d(start), "U4")],
            legal_status_changes: Vec::new(),
        }
    }

    fn child(periods: Vec<TrackerPeriod>) -> TrackerChild {
        TrackerChild {
            local_id: "A1".into(),
            sex: Sex::Female,
            date_of_birth: d("15/06/2011"),
            uasc: false,
            details: ReturnDetails {
                ethnicity: Some("WBRI"),
                upn: Some("UN5".into()),
                mother: Some(false),
                mother_child_dob: None,
                uasc_ceased_on: None,
            },
            periods,
            imported_episodes: Vec::new(),
            health: Vec::new(),
            carried: None,
        }
    }

    /// DECOM, RNE, LS, PLACE, DEC and REC of an episode.
    type Row = (
        String,
        &'static str,
        &'static str,
        &'static str,
        Option<String>,
        Option<&'static str>,
    );

    fn summary(episodes: &[Episode]) -> Vec<Row> {
        episodes
            .iter()
            .map(|e| {
                (
                    super::super::episodes::dmy(e.decom),
                    e.rne,
                    e.legal_status,
                    e.placement_type,
                    e.dec.map(super::super::episodes::dmy),
                    e.rec,
                )
            })
            .collect()
    }

    #[test]
    fn episodes_rne_s_starts_l_changes_status_p_moves_b_both() {
        let mut p = period("01/02/2020", "L2", Some(("01/03/2023", "E13")));
        p.legal_status_changes = vec![
            LegalStatusChange {
                on: d("10/02/2020"),
                legal_status: "C1",
            },
            LegalStatusChange {
                on: d("01/06/2021"),
                legal_status: "C2",
            },
        ];
        p.placements.push((d("01/05/2020"), "K2"));
        p.placements.push((d("01/06/2021"), "U6"));
        let episodes = period_episodes(&p, &BTreeMap::new());
        let s = |x: &str| x.to_string();
        assert_eq!(
            summary(&episodes),
            vec![
                (s("01/02/2020"), "S", "L2", "U4", Some(s("10/02/2020")), Some("X1")),
                (s("10/02/2020"), "L", "C1", "U4", Some(s("01/05/2020")), Some("X1")),
                (s("01/05/2020"), "P", "C1", "K2", Some(s("01/06/2021")), Some("X1")),
                (s("01/06/2021"), "B", "C2", "U6", Some(s("01/03/2023")), Some("E13")),
            ]
        );
    }

    #[test]
    fn episodes_keep_imported_details_and_same_carer_moves() {
        let mut p = period("01/02/2020", "C2", None);
        p.placements.push((d("01/05/2020"), "U4"));
        p.legal_status_changes = vec![LegalStatusChange {
            on: d("01/09/2020"),
            legal_status: "E1",
        }];
        let first = Episode {
            decom: d("01/02/2020"),
            rne: "S",
            legal_status: "C2",
            category_of_need: "N1",
            placement_type: "U4",
            provider: Some("PR1"),
            dec: Some(d("01/05/2020")),
            rec: Some("X1"),
            reason_place_change: Some("CARPL"),
            home_postcode: Some("TA1 1AA".into()),
            placement_postcode: Some("TA2 2BB".into()),
            urn: Some("XXXXXXX".into()),
        };
        let moved = Episode {
            decom: d("01/05/2020"),
            rne: "T",
            placement_postcode: Some("TA3 3CC".into()),
            dec: None,
            rec: None,
            reason_place_change: None,
            ..first.clone()
        };
        let imported = BTreeMap::from([(first.decom, &first), (moved.decom, &moved)]);
        let episodes = period_episodes(&p, &imported);
        assert_eq!(episodes[0].reason_place_change, Some("CARPL"));
        assert_eq!(episodes[0].placement_postcode.as_deref(), Some("TA2 2BB"));
        assert_eq!(episodes[1].rne, "T", "the import said the move kept the carer");
        assert_eq!(episodes[1].placement_postcode.as_deref(), Some("TA3 3CC"));
        // A change of legal status alone repeats the placement's details.
        assert_eq!((episodes[2].rne, episodes[2].legal_status), ("L", "E1"));
        assert_eq!(episodes[2].placement_postcode.as_deref(), Some("TA3 3CC"));
        assert_eq!(episodes[2].provider, Some("PR1"));
        assert_eq!(episodes[2].reason_place_change, None);
    }

    #[test]
    fn rule_217_a_move_to_adoption_with_the_foster_carers_is_rne_t() {
        let mut p = period("01/02/2020", "E1", None);
        p.placements.push((d("01/05/2021"), "A5"));
        let episodes = period_episodes(&p, &BTreeMap::new());
        assert_eq!(episodes[1].rne, "T");
    }

    #[test]
    fn the_episodes_file_holds_the_years_episodes_and_later_ends_are_open() {
        let mut p = period("01/02/2020", "C2", Some(("01/06/2025", "E4A")));
        p.placements.push((d("01/05/2022"), "K2"));
        p.placements.push((d("01/05/2024"), "U6"));
        let c = child(vec![p, period("01/01/2015", "V2", Some(("01/01/2016", "E4A")))]);
        let r = child_return(&c, 2025).expect("looked after in the year");
        let episodes = &r.child.periods[0].episodes;
        let s = |x: &str| x.to_string();
        assert_eq!(
            summary(episodes),
            vec![
                (s("01/05/2022"), "P", "C2", "K2", Some(s("01/05/2024")), Some("X1")),
                (s("01/05/2024"), "P", "C2", "U6", None, None),
            ],
            "the 2016 period and the 2020 episode are before the year; the end in June 2025 is after it"
        );
        assert!(r.child.oc2.is_some(), "looked after all year: in the OC2 cohort");
        assert!(child_return(&c, 2014).is_none(), "not looked after in 2013-14");
    }

    #[test]
    fn oc2_cohort_leaves_out_starters_and_short_breaks() {
        let starter = child(vec![period("02/04/2024", "C1", None)]);
        assert!(child_return(&starter, 2025).expect("in the year").child.oc2.is_none());
        let short_breaks = child(vec![period("02/04/2020", "V3", None)]);
        assert!(child_return(&short_breaks, 2025)
            .expect("in the year")
            .child
            .oc2
            .is_none());
    }

    #[test]
    fn oc2_health_fields_come_from_the_trackers_records_as_at_31_march() {
        let mut c = child(vec![period("01/02/2020", "C2", None)]);
        c.health = vec![
            HealthRecord::Assessment(d("01/09/2024")),
            HealthRecord::Assessment(d("01/05/2025")), // after the year: not the one that counts
            HealthRecord::Dental(d("10/10/2024")),
            HealthRecord::Immunisations(d("01/12/2024"), true),
            HealthRecord::Sdq(d("01/01/2025"), SdqResult::Score(12)),
            HealthRecord::Sdq(d("01/03/2024"), SdqResult::Score(30)),
        ];
        c.carried = Some(Oc2Values {
            convicted: Some(false),
            substance_misuse: Some(false),
            ..Oc2Values::default()
        });
        let r = child_return(&c, 2025).expect("in the year");
        let v = r.child.oc2.expect("in the cohort");
        assert_eq!(v.health_assessment, Some(true));
        assert_eq!(v.teeth_check, Some(true));
        assert_eq!(v.immunisations, Some(true));
        assert_eq!(v.sdq_score, Some(12));
        assert_eq!(v.convicted, Some(false), "carried from the imported OC2 row");
        assert_eq!(v.health_check, None, "development checks only under 5");
        let oc2_fields = ["SDQ_SCORE", "CONVICTED", "SUBSTANCE_MISUSE"];
        assert!(!r.missing.iter().any(|f| oc2_fields.contains(f)), "{:?}", r.missing);
    }

    #[test]
    fn blank_required_fields_are_listed_as_missing() {
        let mut c = child(vec![period("01/02/2020", "C2", None)]);
        c.details = ReturnDetails::default();
        let r = child_return(&c, 2025).expect("in the year");
        for field in [
            "ETHNIC",
            "UPN",
            "MOTHER",
            "PLACE_PROVIDER",
            "HOME_POST",
            "PL_POST",
            "SUBSTANCE_MISUSE",
        ] {
            assert!(r.missing.contains(&field), "{field} in {:?}", r.missing);
        }
        assert_eq!(r.child.header.ethnicity, "");
    }

    #[test]
    fn rule_233_no_reason_for_a_placement_change_on_an_open_episode() {
        let mut p = period("01/02/2020", "C2", None);
        p.placements.push((d("01/05/2025"), "K2"));
        let first = Episode {
            decom: d("01/02/2020"),
            rne: "S",
            legal_status: "C2",
            category_of_need: "N1",
            placement_type: "U4",
            provider: Some("PR1"),
            dec: Some(d("01/05/2025")),
            rec: Some("X1"),
            reason_place_change: Some("CARPL"),
            home_postcode: None,
            placement_postcode: None,
            urn: None,
        };
        let c = TrackerChild {
            imported_episodes: vec![first],
            ..child(vec![p])
        };
        let r = child_return(&c, 2025).expect("in the year");
        let e = &r.child.periods[0].episodes[0];
        assert_eq!(
            (e.dec, e.rec, e.reason_place_change),
            (None, None, None),
            "the move is after the year"
        );
    }
}
