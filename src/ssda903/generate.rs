//! Invented SSDA903 data for N children, deterministic from a seed: for benchmarks and
//! tests, never for a real return. Identity is invented (CHILD ids C0000001...; postcodes
//! in made-up districts).
//!
//! What it makes, as at 31 March of the return year: each child's whole history of
//! periods of care over the six years before (so every chain starts with RNE = S), with
//! placement moves (P, T), legal-status changes (L; B and U change both), short-break
//! (V3/V4) periods that sometimes turn into full care, emergency protection orders (L2)
//! followed by care orders, re-entries, about a quarter of placements out of the home
//! area, periods ended at 18, UASC rows for about 5% of children, and OC2 rows for the
//! 12-month cohort ([`super::oc2`]).
//!
//! The periods are built first (start, legal statuses, placements, end) and the episodes
//! are written from the same walk, so a test can check that chaining the episodes gives
//! the periods back.

use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::codes::Sex;
use super::episodes::out_of_area;
use super::model::{
    ChildHeader, Episode, ImportedChild, ImportedPeriod, LegalStatusChange, Oc2Values, PeriodEnd, Placement, Uasc,
};
use super::oc2::{self, HealthFacts, SdqResult};

/// The postcode area of the invented authority.
pub const HOME_AREA: &str = "TA";
const OTHER_AREAS: &[&str] = &["BS", "EX", "BA", "DT", "BH", "SN", "GL", "PL"];

#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    pub children: u32,
    pub seed: u64,
    /// The return's year ends on 31 March of this year; the data are as at that day.
    pub year_ending: i32,
}

/// The children, generated one at a time (each from its own seed, so any prefix of the
/// sequence is the same whatever N is).
pub fn children(options: GenerateOptions) -> impl Iterator<Item = ImportedChild> {
    (0..options.children).map(move |i| child(options, i))
}

fn child(options: GenerateOptions, index: u32) -> ImportedChild {
    let mut rng = StdRng::seed_from_u64(options.seed ^ (u64::from(index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let as_of = NaiveDate::from_ymd_opt(options.year_ending, 3, 31).unwrap_or(NaiveDate::MAX);
    let (year_start, _) = oc2::year_bounds(options.year_ending);
    let first_entry = as_of - Duration::days(rng.random_range(0..6 * 365));
    let age_at_entry: i64 = pick(&mut rng, &[(0, 20), (2, 15), (7, 20), (13, 35), (16, 10)]);
    let dob = first_entry - Duration::days(age_at_entry * 365 + rng.random_range(1..365));
    let uasc = age_at_entry >= 13 && rng.random_bool(0.12) && oc2::years_after(dob, 18) >= year_start;
    let short_breaks = (!uasc && rng.random_bool(0.1)).then(|| pick(&mut rng, &[("V3", 3), ("V4", 1)]));
    let walk = Walk {
        dob,
        as_of,
        home: postcode(&mut rng, HOME_AREA),
    };
    let header = header(&mut rng, index, dob, first_entry, options.year_ending, uasc);
    let mut periods: Vec<ImportedPeriod> = Vec::new();
    let mut start = first_entry;
    loop {
        let period = walk.period(&mut rng, start, short_breaks);
        let ended = period.ended;
        let still_short_breaks = period.legal_status_changes.is_empty() && short_breaks.is_some();
        periods.push(period);
        let Some(end) = ended else { break };
        // Short breaks repeat every two to five months; other children come back now and then.
        let (gap, again) = if still_short_breaks {
            (60..150, 0.9)
        } else {
            (30..900, 0.18)
        };
        let next = end.on + Duration::days(rng.random_range(gap));
        let adopted = matches!(end.reason, "E11" | "E12");
        if adopted || next > as_of || oc2::age_on(dob, next) >= 17 || !rng.random_bool(again) {
            break;
        }
        start = next;
    }
    let uasc = uasc.then(|| Uasc {
        ceased_on: Some(oc2::years_after(dob, 18)),
    });
    let mut child = ImportedChild {
        header,
        periods,
        uasc,
        oc2: None,
    };
    let episodes = child.periods.iter().flat_map(|p| &p.episodes);
    if oc2::continuously_looked_after(episodes, options.year_ending) {
        let facts = health_facts(&mut rng, dob, as_of);
        child.oc2 = Some(oc2::values(dob, &facts, options.year_ending).values);
    }
    child
}

fn header(
    rng: &mut StdRng,
    index: u32,
    dob: NaiveDate,
    first_entry: NaiveDate,
    year_ending: i32,
    uasc: bool,
) -> ChildHeader {
    let sex = if uasc {
        pick(rng, &[(Sex::Male, 90), (Sex::Female, 10)])
    } else {
        pick(rng, &[(Sex::Male, 55), (Sex::Female, 45)])
    };
    let ethnicity = pick(
        rng,
        &[
            ("WBRI", 70),
            ("WOTH", 5),
            ("MWBC", 4),
            ("MOTH", 4),
            ("BAFR", 4),
            ("AOTH", 3),
            ("OOTH", 3),
            ("WROM", 2),
            ("APKN", 2),
            ("NOBT", 3),
        ],
    );
    // MOTHER is recorded for every girl; a few older girls in care are mothers.
    let mother_child_dob = first_entry - Duration::days(rng.random_range(30..300));
    let is_mother = sex == Sex::Female && mother_child_dob >= oc2::years_after(dob, 14) && rng.random_bool(0.05);
    // UN1 (never in education) only for children under 4 on 31 August before the year.
    let school_reference = NaiveDate::from_ymd_opt(year_ending - 2, 8, 31).unwrap_or(NaiveDate::MIN);
    let upn = if oc2::years_after(dob, 4) > school_reference {
        "UN1"
    } else {
        "UN5"
    };
    ChildHeader {
        child: format!("C{:07}", index + 1),
        sex,
        date_of_birth: dob,
        ethnicity,
        upn: Some(upn.to_string()),
        mother: (sex == Sex::Female).then_some(is_mother),
        mother_child_dob: is_mother.then_some(mother_child_dob),
    }
}

fn postcode(rng: &mut StdRng, area: &str) -> String {
    const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let letter = |rng: &mut StdRng| char::from(LETTERS[rng.random_range(0..LETTERS.len())]);
    format!(
        "{area}{} {}{}{}",
        rng.random_range(1..=24),
        rng.random_range(1..=9),
        letter(rng),
        letter(rng)
    )
}

/// The placement now in force, as episodes repeat it.
#[derive(Clone)]
struct Place {
    placement_type: &'static str,
    provider: Option<&'static str>,
    postcode: String,
    urn: Option<String>,
}

fn is_foster(placement_type: &str) -> bool {
    placement_type.starts_with('U')
}

fn new_place(rng: &mut StdRng, age: u32, legal_status: &str, current: Option<&str>) -> Place {
    let placement_type = if matches!(legal_status, "V3" | "V4") {
        pick(rng, &[("U6", 5), ("U3", 2), ("K2", 3)])
    } else if legal_status == "E1" && age < 8 && current.is_some_and(is_foster) && rng.random_bool(0.6) {
        pick(rng, &[("A4", 1), ("A6", 2)])
    } else if age >= 16 {
        pick(
            rng,
            &[("U6", 30), ("U4", 15), ("H5", 25), ("K2", 15), ("P2", 10), ("U3", 5)],
        )
    } else {
        let candidates = [
            ("U6", 35),
            ("U4", 20),
            ("U3", 12),
            ("U1", 6),
            ("U5", 3),
            ("K2", 12),
            ("P1", 5),
            ("R1", 2),
            ("S1", 1),
        ];
        let allowed: Vec<(&'static str, u32)> = candidates
            .into_iter()
            .filter(|(place, _)| {
                let parents_under_section_20 = *place == "P1" && legal_status == "V2";
                let school_under_4 = *place == "S1" && age < 4;
                !parents_under_section_20 && !school_under_4
            })
            .collect();
        pick(rng, &allowed)
    };
    place_details(rng, placement_type)
}

/// Provider, postcode and URN for a placement of type `placement_type`.
fn place_details(rng: &mut StdRng, placement_type: &'static str) -> Place {
    // DfE rules 527-531, 550 and 213: which provider may run which placement.
    let provider = match placement_type {
        "P1" => Some("PR0"),
        t if t.starts_with('T') || t.starts_with('Z') => None,
        "R2" | "R5" => Some(pick(rng, &[("PR4", 3), ("PR5", 1)])),
        "K2" | "R1" | "S1" => Some(pick(rng, &[("PR1", 3), ("PR4", 6), ("PR5", 1)])),
        "H5" | "P2" => Some(pick(rng, &[("PR1", 5), ("PR4", 5)])),
        _ => Some(pick(rng, &[("PR1", 7), ("PR4", 3)])),
    };
    let out = rng.random_bool(if matches!(placement_type, "K2" | "R1" | "S1") {
        0.5
    } else {
        0.2
    });
    let area = if out {
        OTHER_AREAS[rng.random_range(0..OTHER_AREAS.len())]
    } else {
        HOME_AREA
    };
    // Ofsted registers children's homes, schools and supported accommodation; foster and
    // adoption placements have no URN of their own (XXXXXXX); placements with parents,
    // in the community or temporary ones have none (DfE rules 218, 222, 242).
    let urn = match placement_type {
        "A3" | "A4" | "A5" | "A6" | "U1" | "U2" | "U3" | "U4" | "U5" | "U6" => Some("XXXXXXX".to_string()),
        "P1" | "P3" | "R1" | "R2" | "R5" => None,
        t if t.starts_with('T') || t.starts_with('Z') => None,
        _ => Some(format!("SC{:06}", rng.random_range(100_000..1_000_000))),
    };
    Place {
        placement_type,
        provider,
        postcode: postcode(rng, area),
        urn,
    }
}

fn next_legal_status(rng: &mut StdRng, from: &str, age: u32) -> Option<&'static str> {
    match from {
        "L1" | "L3" => Some(pick(rng, &[("C1", 8), ("V2", 2)])),
        "L2" => Some("C1"),
        "V2" => rng.random_bool(0.5).then_some("C1"),
        "V3" | "V4" => Some("C1"),
        "C1" => Some("C2"),
        "C2" => (age < 8).then_some("E1"),
        "J1" | "J2" => Some("V2"),
        _ => None,
    }
}

/// Days to the next event, and whether it must be a change of legal status: police
/// protection lasts at most 72 hours, an EPO at most 21 days, a short break at most 17.
fn next_gap(rng: &mut StdRng, legal_status: &str) -> (i64, bool) {
    match legal_status {
        "L1" => (rng.random_range(1..=3), true),
        "L2" => (rng.random_range(7..=21), true),
        "V3" | "V4" => (rng.random_range(1..=10), false),
        _ => (rng.random_range(14..420), false),
    }
}

/// What every period of one child shares.
struct Walk {
    dob: NaiveDate,
    as_of: NaiveDate,
    home: String,
}

impl Walk {
    fn age(&self, on: NaiveDate) -> u32 {
        oc2::age_on(self.dob, on)
    }

    fn first_legal_status(&self, rng: &mut StdRng, start: NaiveDate) -> &'static str {
        if self.age(start) >= 13 {
            pick(rng, &[("V2", 50), ("C1", 27), ("J1", 8), ("L1", 6), ("L2", 9)])
        } else {
            pick(rng, &[("V2", 34), ("C1", 46), ("L2", 15), ("L1", 5)])
        }
    }

    /// One period: the walk from S to its end (or to `as_of`, still open).
    fn period(&self, rng: &mut StdRng, start: NaiveDate, short_breaks: Option<&'static str>) -> ImportedPeriod {
        let legal_status = short_breaks.unwrap_or_else(|| self.first_legal_status(rng, start));
        let category_of_need = if short_breaks.is_some() {
            "N2"
        } else {
            pick(
                rng,
                &[
                    ("N1", 60),
                    ("N2", 8),
                    ("N3", 4),
                    ("N4", 8),
                    ("N5", 12),
                    ("N6", 2),
                    ("N7", 1),
                    ("N8", 5),
                ],
            )
        };
        let mut place = new_place(rng, self.age(start), legal_status, None);
        let home = Some(self.home.clone());
        let episode = |decom, rne, ls, place: &Place| Episode {
            decom,
            rne,
            legal_status: ls,
            category_of_need,
            placement_type: place.placement_type,
            provider: place.provider,
            dec: None,
            rec: None,
            reason_place_change: None,
            home_postcode: home.clone(),
            placement_postcode: Some(place.postcode.clone()),
            urn: place.urn.clone(),
        };
        let areas = [HOME_AREA.to_string()];
        let placement = |on, place: &Place| Placement {
            started_on: on,
            placement_type: place.placement_type,
            provider: place.provider,
            postcode: Some(place.postcode.clone()),
            urn: place.urn.clone(),
            out_of_area: out_of_area(Some(&place.postcode), &areas),
        };
        let mut period = ImportedPeriod {
            started_on: start,
            continued: false,
            category_of_need,
            legal_status,
            legal_status_changes: Vec::new(),
            placements: vec![placement(start, &place)],
            ended: None,
            episodes: vec![episode(start, "S", legal_status, &place)],
        };
        let eighteenth = oc2::years_after(self.dob, 18);
        let mut current_ls = legal_status;
        let mut date = start;
        loop {
            let (gap, must_change) = next_gap(rng, current_ls);
            let next = date + Duration::days(gap);
            let at_eighteen = next >= eighteenth;
            let next = next.min(eighteenth.max(date));
            if next > self.as_of {
                return period;
            }
            let short_break = matches!(current_ls, "V3" | "V4");
            let adoption_done = place.placement_type.starts_with('A') && rng.random_bool(0.8);
            let end_chance = if short_break { 0.85 } else { 0.22 };
            if at_eighteen || adoption_done || (!must_change && rng.random_bool(end_chance)) {
                let reason = leaving_reason(rng, current_ls, place.placement_type, self.age(next), at_eighteen);
                if let Some(last) = period.episodes.last_mut() {
                    last.dec = Some(next);
                    last.rec = Some(reason);
                }
                period.ended = Some(PeriodEnd { on: next, reason });
                return period;
            }
            let new_ls = if must_change || short_break || rng.random_bool(0.35) {
                next_legal_status(rng, current_ls, self.age(next))
            } else {
                None
            };
            // No move during a short break or on the day an EPO or police protection ends,
            // unless the child is placed with parents and becomes section 20 (not allowed).
            let must_move = new_ls == Some("V2") && place.placement_type == "P1";
            let may_move = !short_break && !must_change;
            let move_kind: Option<&'static str> = if must_move {
                Some("P")
            } else if may_move && (new_ls.is_none() || rng.random_bool(0.3)) {
                Some(pick(rng, &[("P", 8), ("T", 2)]))
            } else {
                None
            };
            let rne = match (new_ls, move_kind) {
                (Some(_), None) => "L",
                (Some(_), Some("T")) => "U",
                (Some(_), Some(_)) => "B",
                (None, Some(kind)) => kind,
                (None, None) => "P",
            };
            let moves = rne != "L";
            if let Some(last) = period.episodes.last_mut() {
                last.dec = Some(next);
                last.rec = Some("X1");
                last.reason_place_change = moves.then(|| {
                    pick(
                        rng,
                        &[
                            ("CARPL", 30),
                            ("CREQB", 15),
                            ("CREQO", 15),
                            ("CHILD", 10),
                            ("LAREQ", 10),
                            ("STAND", 5),
                            ("OTHER", 15),
                        ],
                    )
                });
            }
            if let Some(ls) = new_ls {
                current_ls = ls;
                period.legal_status_changes.push(LegalStatusChange {
                    on: next,
                    legal_status: ls,
                });
            }
            if moves {
                place = if rne == "T" || rne == "U" {
                    let area = super::episodes::postcode_area(&place.postcode).unwrap_or_default();
                    Place {
                        postcode: postcode(rng, &area),
                        ..place.clone()
                    }
                } else {
                    new_place(rng, self.age(next), current_ls, Some(place.placement_type))
                };
                period.placements.push(placement(next, &place));
            }
            period.episodes.push(episode(next, rne, current_ls, &place));
            date = next;
        }
    }
}

fn leaving_reason(rng: &mut StdRng, legal_status: &str, place: &str, age: u32, at_eighteen: bool) -> &'static str {
    if at_eighteen {
        return pick(rng, &[("E17", 3), ("E5", 3), ("E6", 1), ("E8", 1)]);
    }
    if place.starts_with('A') {
        return pick(rng, &[("E11", 3), ("E12", 1)]);
    }
    if matches!(legal_status, "V3" | "V4") {
        return "E4A";
    }
    if legal_status == "J1" {
        return "E14";
    }
    let mut reasons = vec![
        ("E4A", 40),
        ("E4B", 5),
        ("E13", 6),
        ("E41", 6),
        ("E47", 3),
        ("E48", 1),
        ("E8", 5),
        ("E3", 2),
    ];
    // Special guardianship to former foster carers: relatives (U1-U3) or others (U4-U6).
    match place {
        "U1" | "U2" | "U3" => reasons.push(("E45", 4)),
        "U4" | "U5" | "U6" => reasons.push(("E46", 3)),
        _ => {}
    }
    if age >= 16 {
        reasons.extend([("E5", 8), ("E6", 2)]);
    }
    pick(rng, &reasons)
}

/// Invented health facts for a child in the OC2 cohort.
fn health_facts(rng: &mut StdRng, dob: NaiveDate, as_of: NaiveDate) -> HealthFacts {
    let within = |rng: &mut StdRng, days: i64| as_of - Duration::days(rng.random_range(0..days));
    let age = oc2::age_on(dob, as_of);
    let sdq = if rng.random_bool(0.8) {
        SdqResult::Score(rng.random_range(0..=40))
    } else {
        SdqResult::Reason(pick(rng, &[("SDQ2", 2), ("SDQ3", 1), ("SDQ4", 3), ("SDQ5", 3)]))
    };
    let misuse = age >= 11 && rng.random_bool(0.04);
    let assessment_window = if rng.random_bool(0.9) { 300 } else { 700 };
    HealthFacts {
        last_health_assessment: Some(within(rng, assessment_window)),
        immunisations: Some((within(rng, 360), rng.random_bool(0.87))),
        last_dental_check: rng.random_bool(0.8).then(|| within(rng, 360)),
        last_development_check: rng.random_bool(0.85).then(|| within(rng, 360)),
        sdq: Some((within(rng, 360), sdq)),
        carried: Some(Oc2Values {
            convicted: Some(age >= 10 && rng.random_bool(0.03)),
            substance_misuse: Some(misuse),
            intervention_received: misuse.then(|| rng.random_bool(0.6)),
            intervention_offered: misuse.then(|| rng.random_bool(0.8)),
            ..Oc2Values::default()
        }),
    }
}

/// A weighted choice.
fn pick<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if roll < *weight {
            return *item;
        }
        roll -= weight;
    }
    items[items.len() - 1].0
}

/// Invented SSDA903 details for a child the tracker holds without them (demo data only):
/// ETHNIC, UPN, MOTHER, DUC, and for each episode the tracker's periods give, a provider,
/// postcodes, a URN and, on an episode that ends with a move, the reason for it.
pub fn invent_details(rng: &mut StdRng, child: &super::from_tracker::TrackerChild) -> ImportedChild {
    use std::collections::BTreeMap;
    let dob = child.date_of_birth;
    let today_ish = child
        .periods
        .iter()
        .map(|p| p.ended.map_or(p.started_on, |e| e.on))
        .max()
        .unwrap_or(dob);
    let first_entry = child.periods.iter().map(|p| p.started_on).min().unwrap_or(dob);
    let mut header = header(rng, 0, dob, first_entry, today_ish.year() + 1, child.uasc);
    // The return year is not known here: "not known" without claiming the child never
    // went to school (UN1 is refused for children of school age, DfE rule 209).
    header.upn = Some("UN5".to_string());
    header.child = child.local_id.clone();
    header.sex = child.sex;
    if child.sex != Sex::Female {
        header.mother = None;
        header.mother_child_dob = None;
    } else if header.mother.is_none() {
        header.mother = Some(false);
    }
    let home = postcode(rng, HOME_AREA);
    let none = BTreeMap::new();
    let mut periods = Vec::new();
    let mut periods_in = child.periods.clone();
    periods_in.sort_by_key(|p| p.started_on);
    for period in &periods_in {
        let mut episodes = super::from_tracker::period_episodes(period, &none);
        let mut place: Option<Place> = None;
        for i in 0..episodes.len() {
            let moves = i == 0 || matches!(episodes[i].rne, "P" | "B" | "T" | "U");
            if moves || place.is_none() {
                place = Some(place_details(rng, episodes[i].placement_type));
            }
            let moves_next = episodes
                .get(i + 1)
                .is_some_and(|n| matches!(n.rne, "P" | "B" | "T" | "U"));
            let e = &mut episodes[i];
            if let Some(p) = &place {
                e.provider = p.provider;
                // No placement location for short breaks (DfE rule 214).
                if !matches!(e.legal_status, "V3" | "V4") {
                    e.placement_postcode = Some(p.postcode.clone());
                    e.urn = p.urn.clone();
                }
            }
            // Short breaks have no postcodes at all (DfE rule 398).
            if !matches!(e.legal_status, "V3" | "V4") {
                e.home_postcode = Some(home.clone());
            }
            if moves_next {
                e.reason_place_change = Some(pick(rng, &[("CARPL", 3), ("CREQB", 2), ("CHILD", 1), ("OTHER", 2)]));
            }
        }
        periods.push(ImportedPeriod {
            started_on: period.started_on,
            continued: false,
            category_of_need: period.category_of_need.unwrap_or(""),
            legal_status: period.legal_status,
            legal_status_changes: Vec::new(),
            placements: Vec::new(),
            ended: period.ended,
            episodes,
        });
    }
    ImportedChild {
        header,
        periods,
        uasc: child.uasc.then(|| Uasc {
            ceased_on: Some(oc2::years_after(dob, 18)),
        }),
        // As from an imported OC2 file: the fields the tracker does not record itself.
        oc2: Some(Oc2Values {
            convicted: Some(rng.random_bool(0.04)),
            substance_misuse: Some(false),
            ..Oc2Values::default()
        }),
    }
}
