//! The SSDA903 return from the database: the thin shell around
//! [`crate::ssda903::from_tracker`]. It loads what the tracker holds for one local
//! authority, and keeps what an import reads that the tracker's own records do not hold.
//!
//! Rules:
//! - [`load`] reads the authority's children (sealed pre-adoption records included: the
//!   return counts them), their periods, placements, legal-status changes, health checks,
//!   assessments seen, and the fields kept from imports. One read transaction; the export
//!   is audited as one read of the return (no child is named in the audit entry or logs).
//! - [`store_imported`] keeps, for each imported child, ETHNIC, UPN, MOTHER, MC_DOB, DUC
//!   and the episode rows as read (known by child and DECOM: a later file's row for the
//!   same day replaces the earlier one, other days are kept). An imported OC2 row replaces
//!   the carried CONVICTED, SUBSTANCE_MISUSE and interventions; a file without one keeps
//!   those from before. Parameterised statements only.
//! - [`invent_demo_details`] gives demo children (seed-demo) invented SSDA903 details, as
//!   an authority would hold them, so a demo export is a whole return. Never for real data.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models::{self, now_utc};
use crate::db::schema::*;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::ssda903::codes::CodeList;
use crate::ssda903::from_tracker::{self, HealthRecord, ReturnDetails, TrackerChild, TrackerPeriod};
use crate::ssda903::oc2::SdqResult;
use crate::ssda903::{self, Episode, ImportedChild, LegalStatusChange, Oc2Values, PeriodEnd, Sex};

fn flag(v: Option<bool>) -> Option<i32> {
    v.map(i32::from)
}

fn unflag(v: Option<i32>) -> Option<bool> {
    v.map(|v| v != 0)
}

fn code(list: CodeList, value: &str) -> Option<&'static str> {
    list.canonical(value.trim())
}

fn code_or_blank(list: CodeList, value: &str) -> &'static str {
    code(list, value).unwrap_or("")
}

/// Whether `la` is a local authority the tracker knows: an organisation with that code, or
/// children held for it.
pub fn known_authority(conn: &mut DbConn, la: &str) -> AppResult<bool> {
    let orgs: i64 = organisations::table
        .filter(organisations::code.eq(la))
        .count()
        .get_result(conn)?;
    if orgs > 0 {
        return Ok(true);
    }
    let kids: i64 = children::table
        .filter(children::responsible_la.eq(la))
        .count()
        .get_result(conn)?;
    Ok(kids > 0)
}

/// Keeps what the import read beyond the tracker's own fields (see the module docs).
/// `new_child`: the child was created by this import, so nothing is held for it yet (no
/// look-ups). Rows already held as they are are not written again.
pub fn store_imported(conn: &mut DbConn, child_id: &str, child: &ImportedChild, new_child: bool) -> AppResult<()> {
    let held: Option<models::Ssda903Child> = if new_child {
        None
    } else {
        ssda903_children::table
            .find(child_id)
            .select(models::Ssda903Child::as_select())
            .first(conn)
            .optional()?
    };
    let h = &child.header;
    let mut row = models::Ssda903Child {
        child_id: child_id.to_string(),
        ethnicity: Some(h.ethnicity.to_string()).filter(|e| !e.is_empty()),
        upn: h.upn.clone(),
        mother: flag(h.mother),
        mother_child_dob: h.mother_child_dob,
        uasc_ceased_on: child.uasc.and_then(|u| u.ceased_on),
        oc2_imported: 0,
        convicted: None,
        substance_misuse: None,
        intervention_received: None,
        intervention_offered: None,
        updated_at: now_utc(),
    };
    match (child.oc2, &held) {
        (Some(v), _) => {
            row.oc2_imported = 1;
            row.convicted = flag(v.convicted);
            row.substance_misuse = flag(v.substance_misuse);
            row.intervention_received = flag(v.intervention_received);
            row.intervention_offered = flag(v.intervention_offered);
        }
        (None, Some(old)) => {
            row.oc2_imported = old.oc2_imported;
            row.convicted = old.convicted;
            row.substance_misuse = old.substance_misuse;
            row.intervention_received = old.intervention_received;
            row.intervention_offered = old.intervention_offered;
        }
        (None, None) => {}
    }
    let same = held.as_ref().is_some_and(|old| {
        *old == models::Ssda903Child {
            updated_at: old.updated_at,
            ..row.clone()
        }
    });
    if held.is_none() {
        diesel::insert_into(ssda903_children::table)
            .values(&row)
            .execute(conn)?;
    } else if !same {
        diesel::update(ssda903_children::table.find(child_id))
            .set(&row)
            .execute(conn)?;
    }
    let held_episodes: HashMap<NaiveDate, models::Ssda903Episode> = if new_child {
        HashMap::new()
    } else {
        ssda903_episodes::table
            .filter(ssda903_episodes::child_id.eq(child_id))
            .select(models::Ssda903Episode::as_select())
            .load(conn)?
            .into_iter()
            .map(|e: models::Ssda903Episode| (e.decom, e))
            .collect()
    };
    for e in child.periods.iter().flat_map(|p| &p.episodes) {
        let row = episode_row(child_id, e);
        match held_episodes.get(&e.decom) {
            Some(same) if *same == row => continue,
            Some(_) => {
                diesel::delete(
                    ssda903_episodes::table
                        .filter(ssda903_episodes::child_id.eq(child_id))
                        .filter(ssda903_episodes::decom.eq(e.decom)),
                )
                .execute(conn)?;
            }
            None => {}
        }
        diesel::insert_into(ssda903_episodes::table)
            .values(&row)
            .execute(conn)?;
    }
    Ok(())
}

fn episode_row(child_id: &str, e: &Episode) -> models::Ssda903Episode {
    models::Ssda903Episode {
        child_id: child_id.to_string(),
        decom: e.decom,
        rne: e.rne.to_string(),
        legal_status: e.legal_status.to_string(),
        category_of_need: e.category_of_need.to_string(),
        placement_type: e.placement_type.to_string(),
        provider: e.provider.map(str::to_string),
        dec: e.dec,
        rec: e.rec.map(str::to_string),
        reason_place_change: e.reason_place_change.map(str::to_string),
        home_postcode: e.home_postcode.clone(),
        placement_postcode: e.placement_postcode.clone(),
        urn: e.urn.clone(),
    }
}

fn episode_from_row(r: &models::Ssda903Episode) -> Episode {
    Episode {
        decom: r.decom,
        rne: code_or_blank(CodeList::ReasonNewEpisode, &r.rne),
        legal_status: code_or_blank(CodeList::LegalStatus, &r.legal_status),
        category_of_need: code_or_blank(CodeList::CategoryOfNeed, &r.category_of_need),
        placement_type: code_or_blank(CodeList::PlacementType, &r.placement_type),
        provider: r.provider.as_deref().and_then(|p| code(CodeList::PlacementProvider, p)),
        dec: r.dec,
        rec: r.rec.as_deref().and_then(|c| code(CodeList::ReasonEpisodeCeased, c)),
        reason_place_change: r
            .reason_place_change
            .as_deref()
            .and_then(|c| code(CodeList::ReasonPlaceChange, c)),
        home_postcode: r.home_postcode.clone(),
        placement_postcode: r.placement_postcode.clone(),
        urn: r.urn.clone(),
    }
}

fn sex(code: &str) -> Sex {
    match code {
        "M" | "1" => Sex::Male,
        "F" | "2" => Sex::Female,
        _ => Sex::Unknown,
    }
}

/// An assessment's child, seen_on, completed_on and completion method.
type SeenRow = (String, Option<NaiveDate>, Option<NaiveDate>, Option<String>);

/// Everything the return needs about the authority's children (see the module docs).
pub fn load(conn: &mut DbConn, la: &str) -> AppResult<Vec<TrackerChild>> {
    let kids: Vec<models::Child> = children::table
        .filter(children::responsible_la.eq(la))
        .order(children::local_id)
        .select(models::Child::as_select())
        .load(conn)?;
    let periods: Vec<models::Period> = periods::table
        .inner_join(children::table)
        .filter(children::responsible_la.eq(la))
        .select(models::Period::as_select())
        .load(conn)?;
    let placements: Vec<(String, NaiveDate, String)> = placements::table
        .inner_join(periods::table.inner_join(children::table))
        .filter(children::responsible_la.eq(la))
        .select((
            placements::period_id,
            placements::started_on,
            placements::placement_type,
        ))
        .load(conn)?;
    let changes: Vec<(String, NaiveDate, String)> = legal_status_changes::table
        .inner_join(periods::table.inner_join(children::table))
        .filter(children::responsible_la.eq(la))
        .select((
            legal_status_changes::period_id,
            legal_status_changes::changed_on,
            legal_status_changes::legal_status,
        ))
        .load(conn)?;
    let details: Vec<models::Ssda903Child> = ssda903_children::table
        .inner_join(children::table)
        .filter(children::responsible_la.eq(la))
        .select(models::Ssda903Child::as_select())
        .load(conn)?;
    let episodes: Vec<models::Ssda903Episode> = ssda903_episodes::table
        .inner_join(children::table)
        .filter(children::responsible_la.eq(la))
        .select(models::Ssda903Episode::as_select())
        .load(conn)?;
    let checks: Vec<models::HealthCheck> = health_checks::table
        .inner_join(children::table)
        .filter(children::responsible_la.eq(la))
        .select(models::HealthCheck::as_select())
        .load(conn)?;
    let seen: Vec<SeenRow> = assessments::table
        .inner_join(children::table)
        .filter(children::responsible_la.eq(la))
        .select((
            assessments::child_id,
            assessments::seen_on,
            assessments::completed_on,
            assessments::completion_method,
        ))
        .load(conn)?;

    let mut by_id: HashMap<String, TrackerChild> = HashMap::new();
    let mut order = Vec::with_capacity(kids.len());
    for c in kids {
        order.push(c.id.clone());
        by_id.insert(
            c.id.clone(),
            TrackerChild {
                local_id: c.local_id,
                sex: sex(&c.sex),
                date_of_birth: c.date_of_birth,
                uasc: c.uasc != 0,
                details: ReturnDetails::default(),
                periods: Vec::new(),
                imported_episodes: Vec::new(),
                health: Vec::new(),
                carried: None,
            },
        );
    }
    let mut period_child: HashMap<String, (String, usize)> = HashMap::new();
    for p in periods {
        let Some(child) = by_id.get_mut(&p.child_id) else {
            continue;
        };
        period_child.insert(p.id.clone(), (p.child_id.clone(), child.periods.len()));
        child.periods.push(TrackerPeriod {
            started_on: p.started_on,
            legal_status: code_or_blank(CodeList::LegalStatus, &p.legal_status),
            category_of_need: p
                .category_of_need
                .as_deref()
                .and_then(|c| code(CodeList::CategoryOfNeed, c)),
            ended: p.ended_on.map(|on| PeriodEnd {
                on,
                reason: p
                    .end_reason
                    .as_deref()
                    .and_then(|r| code(CodeList::ReasonEpisodeCeased, r))
                    .unwrap_or(""),
            }),
            placements: Vec::new(),
            legal_status_changes: Vec::new(),
        });
    }
    fn period_of<'a>(
        by_id: &'a mut HashMap<String, TrackerChild>,
        period_child: &HashMap<String, (String, usize)>,
        period_id: &str,
    ) -> Option<&'a mut TrackerPeriod> {
        let (child, at) = period_child.get(period_id)?;
        by_id.get_mut(child).and_then(|c| c.periods.get_mut(*at))
    }
    for (period_id, on, place) in placements {
        if let Some(p) = period_of(&mut by_id, &period_child, &period_id) {
            p.placements.push((on, code_or_blank(CodeList::PlacementType, &place)));
        }
    }
    for (period_id, on, ls) in changes {
        if let Some(p) = period_of(&mut by_id, &period_child, &period_id) {
            p.legal_status_changes.push(LegalStatusChange {
                on,
                legal_status: code_or_blank(CodeList::LegalStatus, &ls),
            });
        }
    }
    for d in details {
        let Some(child) = by_id.get_mut(&d.child_id) else {
            continue;
        };
        child.details = ReturnDetails {
            ethnicity: d.ethnicity.as_deref().and_then(|e| code(CodeList::Ethnicity, e)),
            upn: d.upn.clone(),
            mother: unflag(d.mother),
            mother_child_dob: d.mother_child_dob,
            uasc_ceased_on: d.uasc_ceased_on,
        };
        child.carried = (d.oc2_imported != 0).then(|| Oc2Values {
            convicted: unflag(d.convicted),
            substance_misuse: unflag(d.substance_misuse),
            intervention_received: unflag(d.intervention_received),
            intervention_offered: unflag(d.intervention_offered),
            ..Oc2Values::default()
        });
    }
    for e in &episodes {
        if let Some(child) = by_id.get_mut(&e.child_id) {
            child.imported_episodes.push(episode_from_row(e));
        }
    }
    for c in checks {
        let Some(child) = by_id.get_mut(&c.child_id) else {
            continue;
        };
        let record = match c.kind.as_str() {
            "dental" => Some(HealthRecord::Dental(c.checked_on)),
            "development" => Some(HealthRecord::Development(c.checked_on)),
            "immunisations" => Some(HealthRecord::Immunisations(c.checked_on, c.up_to_date == Some(1))),
            "sdq" => match (c.sdq_score.and_then(|s| u8::try_from(s).ok()), c.sdq_reason.as_deref()) {
                (Some(score), _) => Some(HealthRecord::Sdq(c.checked_on, SdqResult::Score(score))),
                (None, Some(r)) => {
                    code(CodeList::SdqReason, r).map(|r| HealthRecord::Sdq(c.checked_on, SdqResult::Reason(r)))
                }
                _ => None,
            },
            _ => None,
        };
        child.health.extend(record);
    }
    for (child_id, seen_on, completed_on, method) in seen {
        let brief = method.as_deref() == Some("brief_health_summary");
        let day = seen_on.or(completed_on.filter(|_| brief));
        if let (Some(child), Some(day)) = (by_id.get_mut(&child_id), day) {
            child.health.push(HealthRecord::Assessment(day));
        }
    }
    Ok(order.into_iter().filter_map(|id| by_id.remove(&id)).collect())
}

/// The authority's return for the year: each child's rows, in CHILD order. Audited as one
/// read of the return.
pub fn build(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    la: &str,
    year_ending: i32,
) -> AppResult<Vec<from_tracker::ChildReturn>> {
    if !ctx.scope.allows(la) {
        return Err(AppError::Forbidden(format!(
            "{la} is not a local authority whose children you work with"
        )));
    }
    ctx.read_audited(
        conn,
        |conn| {
            let children = load(conn, la)?;
            Ok(children
                .iter()
                .filter_map(|c| from_tracker::child_return(c, year_ending))
                .collect())
        },
        |_| AuditEvent::ok("export", "ssda903", None, None),
    )
}

/// Gives every child of `la` without SSDA903 details invented ones (demo data only: see
/// the module docs). Returns how many children were given details.
pub fn invent_demo_details(conn: &mut DbConn, la: &str) -> AppResult<usize> {
    let children = load(conn, la)?;
    let ids: Vec<(String, String)> = children::table
        .filter(children::responsible_la.eq(la))
        .select((children::local_id, children::id))
        .load(conn)?;
    let ids: HashMap<String, String> = ids.into_iter().collect();
    let mut done = 0;
    write_transaction(conn, |conn| {
        for child in &children {
            let held = !child.imported_episodes.is_empty()
                || child.details != ReturnDetails::default()
                || child.carried.is_some();
            if held {
                continue;
            }
            let Some(id) = ids.get(&child.local_id) else {
                continue;
            };
            let seed = child
                .local_id
                .bytes()
                .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            let mut rng = StdRng::seed_from_u64(seed);
            let invented = ssda903::generate::invent_details(&mut rng, child);
            store_imported(conn, id, &invented, true)?;
            done += 1;
        }
        Ok::<_, AppError>(())
    })?;
    Ok(done)
}
