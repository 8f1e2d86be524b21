//! Episode chaining: one child's episodes rebuilt into periods of care. Pure.
//!
//! Rules (DfE SSDA903 guidance; DOMAIN.md "SSDA903 files"):
//! - Episodes are taken in DECOM order (a same-day episode that also ends that day first).
//! - A period starts at an episode with RNE = S and runs through episodes ended with
//!   REC = X1; any other REC ends it on DEC. An episode with no DEC leaves it open.
//! - After X1 the next episode must start on the same day (no gap, no overlap) and must not
//!   be RNE = S. After any other REC the next episode must be RNE = S and may not start
//!   before the period ended. Nothing may follow an open episode. The last episode may not
//!   end with X1 (X1 promises a next episode).
//! - The first episode must be RNE = S, unless continuations are allowed: then a chain that
//!   begins mid-period (an annual file's long stayers) makes a period marked `continued`.
//! - Legal status: the first episode's LS; each later episode whose LS differs from the one
//!   in force is a change on its DECOM (RNE L, B and U say so; the LS is what counts).
//! - Placements: the first episode's, then every episode with RNE P, T, B or U.
//! - CIN is the first episode's: the category of need is fixed for the period.
//! - Out of area: a placement postcode whose area (its leading letters) is not one of the
//!   authority's own areas; unknown when no areas are given or the postcode is blank.

use chrono::NaiveDate;

use super::codes::{changes_placement, ends_period_of_care};
use super::model::{Episode, ImportedPeriod, LegalStatusChange, PeriodEnd, Placement};

/// How to chain.
#[derive(Debug, Clone, Default)]
pub struct ChainOptions {
    /// Accept a chain whose first episode is not RNE = S (see the module docs).
    pub allow_continuations: bool,
    /// The authority's own postcode areas ("TA", "BA"), upper case. Empty: out of area is
    /// not known.
    pub home_postcode_areas: Vec<String>,
}

/// Why an episode cannot be chained: `episode` is its index in the slice given to [`chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    pub episode: usize,
    pub column: &'static str,
    pub value: String,
    pub reason: String,
}

/// The periods of care the episodes describe, or every problem found.
pub fn chain(episodes: &[Episode], options: &ChainOptions) -> Result<Vec<ImportedPeriod>, Vec<ChainProblem>> {
    let order = date_order(episodes);
    let mut problems = Vec::new();
    let mut periods: Vec<ImportedPeriod> = Vec::new();
    let mut previous: Option<usize> = None;
    for &index in &order {
        let episode = &episodes[index];
        let starts_period = match previous {
            None => check_first(index, episode, options, &mut problems),
            Some(before) => check_follows(index, episode, &episodes[before], &mut problems),
        };
        if starts_period || periods.is_empty() {
            periods.push(open_period(episode, options));
        } else if let Some(period) = periods.last_mut() {
            continue_period(period, episode, options);
        }
        if let Some(period) = periods.last_mut() {
            close_if_ended(period, episode);
        }
        previous = Some(index);
    }
    if let Some(last) = previous {
        check_last(last, &episodes[last], &mut problems);
    }
    if problems.is_empty() {
        Ok(periods)
    } else {
        Err(problems)
    }
}

/// Indices in DECOM order; on the same day an episode that ends that day comes first, then
/// the order given.
fn date_order(episodes: &[Episode]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..episodes.len()).collect();
    order.sort_by_key(|&i| (episodes[i].decom, episodes[i].dec.unwrap_or(NaiveDate::MAX)));
    order
}

fn check_first(index: usize, episode: &Episode, options: &ChainOptions, problems: &mut Vec<ChainProblem>) -> bool {
    if episode.rne != "S" && !options.allow_continuations {
        problems.push(ChainProblem {
            episode: index,
            column: "RNE",
            value: episode.rne.to_string(),
            reason: "the child's first episode must start a period of care (RNE = S)".to_string(),
        });
    }
    true
}

/// Whether `episode` starts a new period, given the episode before it; problems if the two
/// do not join up.
fn check_follows(index: usize, episode: &Episode, before: &Episode, problems: &mut Vec<ChainProblem>) -> bool {
    let mut problem = |column: &'static str, value: String, reason: String| {
        problems.push(ChainProblem {
            episode: index,
            column,
            value,
            reason,
        })
    };
    let (Some(dec), Some(rec)) = (before.dec, before.rec) else {
        problem(
            "DECOM",
            dmy(episode.decom),
            format!(
                "overlaps an earlier episode (DECOM {}) that has no end date (DEC)",
                dmy(before.decom)
            ),
        );
        return false;
    };
    if ends_period_of_care(rec) {
        if episode.decom < dec {
            problem(
                "DECOM",
                dmy(episode.decom),
                format!(
                    "starts before the previous period of care ended on {} (REC {rec})",
                    dmy(dec)
                ),
            );
        }
        if episode.rne != "S" {
            problem(
                "RNE",
                episode.rne.to_string(),
                format!(
                    "the period of care ended on {} (REC {rec}), so the next episode must start a new one (RNE = S)",
                    dmy(dec)
                ),
            );
        }
        true
    } else {
        if episode.decom != dec {
            problem(
                "DECOM",
                dmy(episode.decom),
                format!(
                    "the previous episode ended on {} with REC X1, so the next one must start that day",
                    dmy(dec)
                ),
            );
        }
        if episode.rne == "S" {
            problem(
                "RNE",
                "S".to_string(),
                "RNE S starts a new period of care, but the previous episode ended with REC X1 (care continued)"
                    .to_string(),
            );
        }
        false
    }
}

fn check_last(index: usize, episode: &Episode, problems: &mut Vec<ChainProblem>) {
    if episode.rec == Some("X1") {
        problems.push(ChainProblem {
            episode: index,
            column: "REC",
            value: "X1".to_string(),
            reason: "REC X1 says a new episode starts the same day, but no later episode follows".to_string(),
        });
    }
}

fn open_period(episode: &Episode, options: &ChainOptions) -> ImportedPeriod {
    ImportedPeriod {
        started_on: episode.decom,
        continued: episode.rne != "S",
        category_of_need: episode.category_of_need,
        legal_status: episode.legal_status,
        legal_status_changes: Vec::new(),
        placements: vec![placement(episode, options)],
        ended: None,
        episodes: vec![episode.clone()],
    }
}

fn continue_period(period: &mut ImportedPeriod, episode: &Episode, options: &ChainOptions) {
    let in_force = period
        .legal_status_changes
        .last()
        .map_or(period.legal_status, |change| change.legal_status);
    if episode.legal_status != in_force {
        period.legal_status_changes.push(LegalStatusChange {
            on: episode.decom,
            legal_status: episode.legal_status,
        });
    }
    if changes_placement(episode.rne) {
        period.placements.push(placement(episode, options));
    }
    period.episodes.push(episode.clone());
}

fn close_if_ended(period: &mut ImportedPeriod, episode: &Episode) {
    if let (Some(on), Some(reason)) = (episode.dec, episode.rec) {
        if ends_period_of_care(reason) {
            period.ended = Some(PeriodEnd { on, reason });
        }
    }
}

fn placement(episode: &Episode, options: &ChainOptions) -> Placement {
    Placement {
        started_on: episode.decom,
        placement_type: episode.placement_type,
        provider: episode.provider,
        postcode: episode.placement_postcode.clone(),
        urn: episode.urn.clone(),
        out_of_area: out_of_area(episode.placement_postcode.as_deref(), &options.home_postcode_areas),
    }
}

/// The postcode area: the leading letters of the outward code ("TA1 2AB" is "TA").
pub fn postcode_area(postcode: &str) -> Option<String> {
    let area: String = postcode
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!area.is_empty()).then_some(area)
}

/// Whether a placement at `postcode` is outside the authority's `home_areas`.
pub fn out_of_area(postcode: Option<&str>, home_areas: &[String]) -> Option<bool> {
    if home_areas.is_empty() {
        return None;
    }
    let area = postcode_area(postcode?)?;
    Some(!home_areas.iter().any(|home| home.eq_ignore_ascii_case(&area)))
}

/// DD/MM/YYYY, the form of every SSDA903 date.
pub fn dmy(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%d/%m/%Y").expect("test date")
    }

    /// An episode: "DECOM RNE LS PLACE [DEC REC]".
    fn ep(spec: &str) -> Episode {
        let parts: Vec<&str> = spec.split_whitespace().collect();
        let code = |list: super::super::codes::CodeList, s: &str| list.canonical(s).expect("test code");
        use super::super::codes::CodeList as L;
        Episode {
            decom: d(parts[0]),
            rne: code(L::ReasonNewEpisode, parts[1]),
            legal_status: code(L::LegalStatus, parts[2]),
            category_of_need: "N1",
            placement_type: code(L::PlacementType, parts[3]),
            provider: Some("PR1"),
            dec: parts.get(4).map(|s| d(s)),
            rec: parts.get(5).map(|s| code(L::ReasonEpisodeCeased, s)),
            reason_place_change: None,
            home_postcode: Some("TA1 1AA".into()),
            placement_postcode: Some(if spec.contains("K2") { "BS5 7XY" } else { "TA2 3CD" }.into()),
            urn: None,
        }
    }

    fn options() -> ChainOptions {
        ChainOptions {
            allow_continuations: false,
            home_postcode_areas: vec!["TA".into()],
        }
    }

    #[test]
    fn period_rebuilt_from_s_through_x1_to_e4a() {
        let episodes = [
            ep("01/04/2023 S V2 U6 20/06/2023 X1"),
            ep("20/06/2023 P V2 K2 03/09/2023 X1"),
            ep("03/09/2023 T V2 U4 10/01/2024 E4A"),
        ];
        let periods = chain(&episodes, &options()).expect("chains");
        assert_eq!(periods.len(), 1);
        let period = &periods[0];
        assert_eq!(period.started_on, d("01/04/2023"));
        assert!(!period.continued);
        assert_eq!(period.legal_status, "V2");
        assert!(period.legal_status_changes.is_empty());
        let places: Vec<_> = period
            .placements
            .iter()
            .map(|p| (p.started_on, p.placement_type))
            .collect();
        assert_eq!(
            places,
            vec![
                (d("01/04/2023"), "U6"),
                (d("20/06/2023"), "K2"),
                (d("03/09/2023"), "U4")
            ]
        );
        assert_eq!(period.placements[1].out_of_area, Some(true));
        assert_eq!(period.placements[0].out_of_area, Some(false));
        assert_eq!(
            period.ended,
            Some(PeriodEnd {
                on: d("10/01/2024"),
                reason: "E4A"
            })
        );
        assert_eq!(period.episodes.len(), 3);
    }

    #[test]
    fn re_entry_makes_a_second_period() {
        let episodes = [ep("05/05/2022 S V2 U6 01/10/2022 E4B"), ep("14/02/2023 S C1 U6")];
        let periods = chain(&episodes, &options()).expect("chains");
        assert_eq!(periods.len(), 2);
        assert_eq!(periods[0].ended.map(|e| e.reason), Some("E4B"));
        assert_eq!(periods[1].started_on, d("14/02/2023"));
        assert_eq!(periods[1].legal_status, "C1");
        assert_eq!(periods[1].ended, None);
    }

    #[test]
    fn an_l_episode_changes_legal_status_without_a_new_period_or_placement() {
        let episodes = [
            ep("01/06/2023 S L2 U6 09/06/2023 X1"),
            ep("09/06/2023 L C1 U6 01/12/2023 X1"),
            ep("01/12/2023 U C2 U4"),
        ];
        let periods = chain(&episodes, &options()).expect("chains");
        assert_eq!(periods.len(), 1);
        let period = &periods[0];
        assert_eq!(period.started_on, d("01/06/2023"));
        assert_eq!(
            period.legal_status_changes,
            vec![
                LegalStatusChange {
                    on: d("09/06/2023"),
                    legal_status: "C1"
                },
                LegalStatusChange {
                    on: d("01/12/2023"),
                    legal_status: "C2"
                },
            ]
        );
        assert_eq!(period.placements.len(), 2, "L keeps the placement; U changes it");
    }

    #[test]
    fn episodes_are_chained_in_date_order_whatever_order_they_come_in() {
        let episodes = [
            ep("03/09/2023 T V2 U4"),
            ep("01/04/2023 S V2 U6 20/06/2023 X1"),
            ep("20/06/2023 P V2 U5 03/09/2023 X1"),
        ];
        let periods = chain(&episodes, &options()).expect("chains");
        assert_eq!(periods.len(), 1);
        assert_eq!(periods[0].placements.len(), 3);
    }

    #[test]
    fn a_chain_must_start_with_rne_s_unless_continuations_are_allowed() {
        let episodes = [ep("01/04/2023 P C2 U6")];
        let problems = chain(&episodes, &options()).expect_err("rejected");
        assert_eq!(problems[0].column, "RNE");
        assert_eq!(problems[0].episode, 0);
        let allowed = ChainOptions {
            allow_continuations: true,
            ..options()
        };
        let periods = chain(&episodes, &allowed).expect("continuation accepted");
        assert!(periods[0].continued);
    }

    #[test]
    fn x1_must_be_followed_the_same_day() {
        let gap = [ep("01/04/2023 S V2 U6 20/06/2023 X1"), ep("25/06/2023 P V2 U4")];
        let problems = chain(&gap, &options()).expect_err("gap");
        assert_eq!((problems[0].episode, problems[0].column), (1, "DECOM"));
        let dangling = [ep("01/04/2023 S V2 U6 20/06/2023 X1")];
        let problems = chain(&dangling, &options()).expect_err("nothing follows X1");
        assert_eq!(problems[0].column, "REC");
    }

    #[test]
    fn overlapping_episodes_are_refused() {
        let open_then_more = [ep("01/04/2023 S V2 U6"), ep("01/05/2023 P V2 U4")];
        let problems = chain(&open_then_more, &options()).expect_err("overlap");
        assert_eq!((problems[0].episode, problems[0].column), (1, "DECOM"));
        let re_entry_too_early = [ep("01/04/2023 S V2 U6 01/09/2023 E13"), ep("01/08/2023 S C1 U4")];
        let problems = chain(&re_entry_too_early, &options()).expect_err("overlap");
        assert_eq!(problems[0].column, "DECOM");
    }

    #[test]
    fn s_inside_a_period_and_a_non_s_re_entry_are_refused() {
        let s_after_x1 = [ep("01/04/2023 S V2 U6 20/06/2023 X1"), ep("20/06/2023 S V2 U4")];
        assert_eq!(chain(&s_after_x1, &options()).expect_err("S after X1")[0].column, "RNE");
        let p_after_end = [ep("01/04/2023 S V2 U6 20/06/2023 E4A"), ep("01/07/2023 P V2 U4")];
        assert_eq!(
            chain(&p_after_end, &options()).expect_err("P re-entry")[0].column,
            "RNE"
        );
    }

    #[test]
    fn out_of_area_is_known_only_from_the_authoritys_own_areas() {
        let areas = vec!["TA".to_string(), "BA".to_string()];
        assert_eq!(out_of_area(Some("ta1 2ab"), &areas), Some(false));
        assert_eq!(out_of_area(Some("BS5 7XY"), &areas), Some(true));
        assert_eq!(out_of_area(None, &areas), None);
        assert_eq!(out_of_area(Some("BS5 7XY"), &[]), None);
        assert_eq!(postcode_area(" 12 "), None);
    }
}
