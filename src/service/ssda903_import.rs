//! The SSDA903 import's database writer: the children, periods of care and placements
//! that [`ssda903::Import::children`] yields, written for one local authority.
//!
//! Rules:
//! - A child is known by its local authority and its CHILD id (the tracker's `local_id`).
//!   A new child is created with the header's date of birth, sex and UASC flag (SSDA903
//!   holds no names and no NHS number: they are added on the child's record later). A known
//!   child whose date of birth, sex or UASC flag differ is updated; names, NHS number, GP
//!   and social worker are the tracker's own and never touched.
//! - A period is known by its start (DECOM of its RNE = S episode). A `continued` period
//!   (its first episode in the files is not RNE = S) is the known period that covers its
//!   first day.
//! - A period that ended on or before the import date is history: its period and
//!   placements are written as they stand, and no assessment, clock, out-of-area request or
//!   escalation is made for it. An open period goes through the ordinary use cases
//!   ([`period_service::start`], [`period_service::change_placement`]), so it gets its IHA clock (or the
//!   reason none is due), its out-of-area request and its escalations like one recorded by
//!   hand. A known open period that the files end is ended through [`period_service::end`], which
//!   closes what is still open. A continued open period that the tracker does not know
//!   began before the files: its true day 0 is unknown, so it is written without a clock.
//! - Only what is new is added: placements are known by their start; a known period's
//!   end, legal status and category of need are corrected when the files differ. Nothing
//!   the files leave out is deleted, so a later year's files add only what is new and the
//!   same files again change nothing.
//! - A child whose files the tracker cannot take (a period that ends after the import
//!   date, overlaps a period the tracker already holds, is open in the files but ended in
//!   the tracker, or that a use case refuses) is skipped whole: its writes are undone (a
//!   savepoint) and it is reported as a rejection naming the reason.
//! - Legal-status changes within a period are known by their day. A history period's are
//!   written as they stand; an open period's go through [`period_service::change_legal_status`]
//!   in date order with its placements (so a change from short breaks, V3/V4, starts the
//!   IHA clock on its day).
//! - What the files say that the tracker's records do not hold (ETHNIC, UPN, MOTHER,
//!   MC_DOB, DUC, each episode row as read, and OC2's CONVICTED, SUBSTANCE_MISUSE and
//!   interventions) is kept for the export ([`super::ssda903_export::store_imported`]); it
//!   does not count as a change of the child.
//! - Writes are batched: [`BATCH`] children a transaction, each in its own savepoint.
//!   Counts: children and periods created, updated, unchanged or rejected; an episode
//!   counts as its period does.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::periods::{self as period_service, NewLegalStatus, NewPeriod, NewPlacement, PeriodEnd};
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models::{self, new_id, now_utc};
use crate::db::schema::*;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::ssda903::{self, Counts, ImportedChild, ImportedPeriod, Rejection, Sex, Written};

/// Children written in one transaction.
pub const BATCH: usize = 500;

/// What the writer did to one child, one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A child the tracker already holds, with its periods.
#[derive(Debug, Clone)]
struct Known {
    child: models::Child,
    periods: Vec<KnownPeriod>,
}

#[derive(Debug, Clone)]
struct KnownPeriod {
    period: models::Period,
    placements: Vec<NaiveDate>,
    legal_status_changes: Vec<NaiveDate>,
}

/// The tallies, kept apart from the report until the end.
#[derive(Debug, Default)]
struct Tally {
    children: Written,
    periods: Written,
    episodes: Written,
    children_rejected: u64,
    periods_rejected: u64,
    episodes_rejected: u64,
    rejections: Vec<Rejection>,
}

fn bump(w: &mut Written, outcome: Outcome, n: u64) {
    match outcome {
        Outcome::Created => w.created += n,
        Outcome::Updated => w.updated += n,
        Outcome::Unchanged => w.unchanged += n,
    }
}

/// Writes the import's accepted children for local authority `la` and fills in the
/// report's written counts; children the tracker refuses are added to its rejections.
/// `progress` is told how many children have been written so far, after each batch.
pub fn write(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    la: &str,
    import: &mut ssda903::Import,
    progress: &mut dyn FnMut(u64),
) -> AppResult<()> {
    if !ctx.scope.allows(la) {
        return Err(AppError::Forbidden(format!(
            "{la} is not a local authority whose children you work with"
        )));
    }
    let mut known = load_known(conn, la)?;
    let mut tally = Tally::default();
    let mut done = 0u64;
    let mut batch: Vec<ImportedChild> = Vec::with_capacity(BATCH);
    let mut children = import.children();
    loop {
        batch.clear();
        batch.extend(children.by_ref().take(BATCH));
        if batch.is_empty() {
            break;
        }
        write_transaction(conn, |conn| {
            for child in &batch {
                write_child_counted(conn, ctx, la, child, &mut known, &mut tally)?;
            }
            Ok::<_, AppError>(())
        })?;
        done += batch.len() as u64;
        progress(done);
    }
    drop(children);
    let report = &mut import.report;
    apply(&mut report.children, tally.children, tally.children_rejected);
    apply(&mut report.periods, tally.periods, tally.periods_rejected);
    apply(&mut report.episodes, tally.episodes, tally.episodes_rejected);
    report.rejections.extend(tally.rejections);
    Ok(())
}

fn apply(counts: &mut Counts, written: Written, rejected: u64) {
    counts.rejected += rejected;
    counts.written = Some(written);
}

/// One child in its own savepoint: counted when written, reported and undone when refused.
/// Only a database failure (not a refusal) stops the import.
fn write_child_counted(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    la: &str,
    child: &ImportedChild,
    known: &mut HashMap<String, Known>,
    tally: &mut Tally,
) -> AppResult<()> {
    let before = known.get(&child.header.child).cloned();
    let result = conn.transaction(|conn| write_child(conn, ctx, la, child, before.clone()));
    let episodes: u64 = child.periods.iter().map(|p| p.episodes.len() as u64).sum();
    match result {
        Ok((outcome, now, period_outcomes)) => {
            bump(&mut tally.children, outcome, 1);
            for (p, o) in child.periods.iter().zip(period_outcomes) {
                bump(&mut tally.periods, o, 1);
                bump(&mut tally.episodes, o, p.episodes.len() as u64);
            }
            known.insert(child.header.child.clone(), now);
            Ok(())
        }
        Err(e @ (AppError::Internal(_) | AppError::Unavailable)) => Err(e),
        Err(e) => {
            tally.children_rejected += 1;
            tally.periods_rejected += child.periods.len() as u64;
            tally.episodes_rejected += episodes;
            tally.rejections.push(Rejection {
                file: "(tracker)".to_string(),
                line: 0,
                child: Some(child.header.child.clone()),
                column: "CHILD".to_string(),
                value: child.header.child.clone(),
                reason: format!("child skipped: {}", reason(&e)),
            });
            Ok(())
        }
    }
}

fn reason(e: &AppError) -> String {
    match e {
        AppError::Invalid(errors) => errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn sex_code(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "M",
        Sex::Female => "F",
        Sex::Unknown => "U",
    }
}

/// Every child of `la` the tracker holds, with its periods and their placements' starts.
fn load_known(conn: &mut DbConn, la: &str) -> AppResult<HashMap<String, Known>> {
    let rows: Vec<models::Child> = children::table
        .filter(children::responsible_la.eq(la))
        .select(models::Child::as_select())
        .load(conn)?;
    let mut by_id: HashMap<String, Known> = rows
        .into_iter()
        .map(|child| {
            (
                child.id.clone(),
                Known {
                    child,
                    periods: Vec::new(),
                },
            )
        })
        .collect();
    let periods: Vec<models::Period> = periods::table
        .inner_join(children::table)
        .filter(children::responsible_la.eq(la))
        .select(models::Period::as_select())
        .load(conn)?;
    let starts: Vec<(String, NaiveDate)> = placements::table
        .inner_join(periods::table.inner_join(children::table))
        .filter(children::responsible_la.eq(la))
        .select((placements::period_id, placements::started_on))
        .load(conn)?;
    let mut placement_starts: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for (period_id, on) in starts {
        placement_starts.entry(period_id).or_default().push(on);
    }
    let changes: Vec<(String, NaiveDate)> = legal_status_changes::table
        .inner_join(periods::table.inner_join(children::table))
        .filter(children::responsible_la.eq(la))
        .select((legal_status_changes::period_id, legal_status_changes::changed_on))
        .load(conn)?;
    let mut change_days: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for (period_id, on) in changes {
        change_days.entry(period_id).or_default().push(on);
    }
    for period in periods {
        if let Some(k) = by_id.get_mut(&period.child_id) {
            let placements = placement_starts.remove(&period.id).unwrap_or_default();
            let legal_status_changes = change_days.remove(&period.id).unwrap_or_default();
            k.periods.push(KnownPeriod {
                period,
                placements,
                legal_status_changes,
            });
        }
    }
    Ok(by_id
        .into_values()
        .map(|mut k| {
            k.periods.sort_by_key(|p| p.period.started_on);
            (k.child.local_id.clone(), k)
        })
        .collect())
}

/// Writes one child; returns what happened to it and to each of its periods, and the
/// child as the tracker now holds it.
fn write_child(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    la: &str,
    child: &ImportedChild,
    known: Option<Known>,
) -> AppResult<(Outcome, Known, Vec<Outcome>)> {
    let (outcome, mut known) = match known {
        None => (Outcome::Created, create_child(conn, ctx, la, child)?),
        Some(k) => update_child(conn, ctx, child, k)?,
    };
    let mut outcomes = Vec::with_capacity(child.periods.len());
    for period in &child.periods {
        outcomes.push(write_period(conn, ctx, &mut known, period)?);
    }
    super::ssda903_export::store_imported(conn, &known.child.id, child, outcome == Outcome::Created)?;
    Ok((outcome, known, outcomes))
}

fn create_child(conn: &mut DbConn, ctx: &DomainCtx, la: &str, child: &ImportedChild) -> AppResult<Known> {
    let now = now_utc();
    let row = models::Child {
        id: new_id(),
        local_id: child.header.child.clone(),
        responsible_la: la.to_string(),
        given_name: String::new(),
        family_name: String::new(),
        date_of_birth: child.header.date_of_birth,
        sex: sex_code(child.header.sex).to_string(),
        nhs_number: None,
        uasc: i32::from(child.uasc.is_some()),
        gp_practice: None,
        social_worker_email: None,
        version: 1,
        created_at: now,
        updated_at: now,
        social_worker_id: None,
        sealed_on: None,
    };
    diesel::insert_into(children::table).values(&row).execute(conn)?;
    ctx.audit(
        conn,
        AuditEvent::ok("import", "child", Some(&row.id), Some(&row.id)).with_changes(None, Some(&row)),
    )?;
    Ok(Known {
        child: row,
        periods: Vec::new(),
    })
}

fn update_child(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child: &ImportedChild,
    known: Known,
) -> AppResult<(Outcome, Known)> {
    let mut row = known.child.clone();
    row.date_of_birth = child.header.date_of_birth;
    row.sex = sex_code(child.header.sex).to_string();
    row.uasc = i32::from(child.uasc.is_some());
    if row.date_of_birth == known.child.date_of_birth && row.sex == known.child.sex && row.uasc == known.child.uasc {
        return Ok((Outcome::Unchanged, known));
    }
    row.version += 1;
    row.updated_at = now_utc();
    let n = diesel::update(
        children::table
            .filter(children::id.eq(&row.id))
            .filter(children::version.eq(known.child.version)),
    )
    .set((
        children::date_of_birth.eq(row.date_of_birth),
        children::sex.eq(&row.sex),
        children::uasc.eq(row.uasc),
        children::version.eq(row.version),
        children::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(AppError::Conflict(
            "the child was changed in the tracker during the import; import again".into(),
        ));
    }
    // A new date of birth can move the child's age band, and so each forecast and, for
    // an RHA, what was due on a past day.
    super::forecast_stamp::clear_child(conn, &row.id)?;
    super::rag_snapshot::clear_child(conn, &row.id)?;
    ctx.audit(
        conn,
        AuditEvent::ok("import", "child", Some(&row.id), Some(&row.id)).with_changes(Some(&known.child), Some(&row)),
    )?;
    Ok((
        Outcome::Updated,
        Known {
            child: row,
            periods: known.periods,
        },
    ))
}

/// The known period an imported one is: the same start, or for a continued period the
/// one covering its first day.
fn matching(known: &Known, period: &ImportedPeriod) -> Option<usize> {
    known.periods.iter().position(|k| {
        let p = &k.period;
        p.started_on == period.started_on
            || (period.continued
                && p.started_on <= period.started_on
                && p.ended_on.is_none_or(|end| end >= period.started_on))
    })
}

fn write_period(conn: &mut DbConn, ctx: &DomainCtx, known: &mut Known, period: &ImportedPeriod) -> AppResult<Outcome> {
    if let Some(end) = period.ended {
        if end.on > ctx.today {
            return Err(AppError::Conflict(format!(
                "the period from {} ends on {}, after the import date {}",
                period.started_on, end.on, ctx.today
            )));
        }
    }
    match matching(known, period) {
        Some(at) => update_period(conn, ctx, known, at, period),
        None => {
            check_no_overlap(known, period)?;
            let created = if period.ended.is_some() || period.continued {
                insert_history(conn, ctx, &known.child, period)?
            } else {
                start_open(conn, ctx, &known.child, period)?
            };
            known.periods.push(created);
            known.periods.sort_by_key(|p| p.period.started_on);
            Ok(Outcome::Created)
        }
    }
}

/// A new period may not overlap one the tracker holds (an open one runs to today).
fn check_no_overlap(known: &Known, period: &ImportedPeriod) -> AppResult<()> {
    let end = period.ended.map_or(NaiveDate::MAX, |e| e.on);
    for k in &known.periods {
        let k_end = k.period.ended_on.unwrap_or(NaiveDate::MAX);
        if k.period.started_on <= end && period.started_on <= k_end {
            let held = match k.period.ended_on {
                Some(on) => format!("{} to {on}", k.period.started_on),
                None => format!("open since {}", k.period.started_on),
            };
            return Err(AppError::Conflict(format!(
                "the period from {} overlaps the period the tracker holds ({held})",
                period.started_on
            )));
        }
    }
    Ok(())
}

fn placement_row(period_id: &str, p: &ssda903::Placement) -> models::Placement {
    models::Placement {
        id: new_id(),
        period_id: period_id.to_string(),
        started_on: p.started_on,
        placement_type: p.placement_type.to_string(),
        out_of_area: i32::from(p.out_of_area == Some(true)),
        host_la: None,
        host_provider_email: None,
        created_at: now_utc(),
    }
}

/// A legal-status change of a history period, written as it stands.
fn insert_change(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    period_id: &str,
    change: &ssda903::LegalStatusChange,
    previous: &str,
) -> AppResult<()> {
    let row = models::LegalStatusChange {
        id: new_id(),
        period_id: period_id.to_string(),
        changed_on: change.on,
        legal_status: change.legal_status.to_string(),
        previous_status: previous.to_string(),
        recorded_at: now_utc(),
        recorded_by: super::history_store::recorded_by(ctx),
    };
    diesel::insert_into(legal_status_changes::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

fn new_legal_status(change: &ssda903::LegalStatusChange) -> NewLegalStatus {
    NewLegalStatus {
        changed_on: change.on,
        legal_status: change.legal_status.to_string(),
        version: None,
    }
}

fn new_placement(p: &ssda903::Placement) -> NewPlacement {
    NewPlacement {
        started_on: Some(p.started_on),
        placement_type: p.placement_type.to_string(),
        out_of_area: p.out_of_area == Some(true),
        host_la: None,
        host_provider_email: None,
        version: None,
    }
}

/// A period written as history: the rows only, no clock, no assessment.
fn insert_history(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child: &models::Child,
    period: &ImportedPeriod,
) -> AppResult<KnownPeriod> {
    let row = models::Period {
        id: new_id(),
        child_id: child.id.clone(),
        started_on: period.started_on,
        legal_status: period.legal_status.to_string(),
        category_of_need: Some(period.category_of_need.to_string()),
        ended_on: period.ended.map(|e| e.on),
        end_reason: period.ended.map(|e| e.reason.to_string()),
        version: 1,
        created_at: now_utc(),
    };
    crate::error::on_unique_violation(diesel::insert_into(periods::table).values(&row).execute(conn), || {
        AppError::Conflict("the child already has an open period of care".into())
    })?;
    let rows: Vec<models::Placement> = period.placements.iter().map(|p| placement_row(&row.id, p)).collect();
    // One statement a row: MultiConnection has no multi-row insert on SQLite.
    for placement in &rows {
        diesel::insert_into(placements::table).values(placement).execute(conn)?;
    }
    let mut previous = period.legal_status;
    for change in &period.legal_status_changes {
        insert_change(conn, ctx, &row.id, change, previous)?;
        previous = change.legal_status;
    }
    ctx.audit(
        conn,
        AuditEvent::ok("import", "period", Some(&row.id), Some(&child.id)).with_changes(None, Some(&row)),
    )?;
    Ok(KnownPeriod {
        placements: rows.iter().map(|p| p.started_on).collect(),
        legal_status_changes: period.legal_status_changes.iter().map(|c| c.on).collect(),
        period: row,
    })
}

/// An open period through the ordinary use cases: its IHA clock, out-of-area request and
/// later placements as if recorded by hand on the days they happened.
fn start_open(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child: &models::Child,
    period: &ImportedPeriod,
) -> AppResult<KnownPeriod> {
    let mut placements = period.placements.iter();
    let input = NewPeriod {
        started_on: period.started_on,
        legal_status: period.legal_status.to_string(),
        category_of_need: Some(period.category_of_need.to_string()),
        placement: placements.next().map(new_placement),
        prior_assessment_on: None,
    };
    let started = period_service::start(conn, ctx, &child.id, input)?;
    let id = started.period.id.clone();
    let mut starts: Vec<NaiveDate> = started.period.placements.iter().map(|p| p.started_on).collect();
    let mut changes = period.legal_status_changes.iter().peekable();
    for p in placements {
        // Changes of legal status on or before the placement's day go first, in date order.
        while let Some(change) = changes.next_if(|c| c.on <= p.started_on) {
            period_service::change_legal_status(conn, ctx, &id, new_legal_status(change))?;
        }
        period_service::change_placement(conn, ctx, &id, new_placement(p))?;
        starts.push(p.started_on);
    }
    for change in changes {
        period_service::change_legal_status(conn, ctx, &id, new_legal_status(change))?;
    }
    let row = load_period(conn, &id)?;
    Ok(KnownPeriod {
        period: row,
        placements: starts,
        legal_status_changes: period.legal_status_changes.iter().map(|c| c.on).collect(),
    })
}

fn load_period(conn: &mut DbConn, id: &str) -> AppResult<models::Period> {
    Ok(periods::table
        .find(id)
        .select(models::Period::as_select())
        .first(conn)?)
}

/// A period the tracker holds: add the placements it lacks, end it if the files do, and
/// correct its legal status, category of need or end when the files differ.
fn update_period(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    known: &mut Known,
    at: usize,
    period: &ImportedPeriod,
) -> AppResult<Outcome> {
    let k = known.periods[at].clone();
    let mut changed = false;
    let open = k.period.ended_on.is_none();
    if !open && period.ended.is_none() {
        return Err(AppError::Conflict(format!(
            "the period from {} is open in the files but ended on {} in the tracker",
            k.period.started_on,
            k.period.ended_on.map(|d| d.to_string()).unwrap_or_default()
        )));
    }
    let new_placements: Vec<&ssda903::Placement> = period
        .placements
        .iter()
        .filter(|p| !k.placements.contains(&p.started_on))
        // A continued period's first placement may be one the tracker has under an
        // earlier start: only placements after the tracker's last are new.
        .filter(|p| !period.continued || k.placements.iter().all(|known| p.started_on > *known))
        .collect();
    let mut starts = k.placements.clone();
    for p in &new_placements {
        if open {
            period_service::change_placement(conn, ctx, &k.period.id, new_placement(p))?;
        } else {
            diesel::insert_into(placements::table)
                .values(&placement_row(&k.period.id, p))
                .execute(conn)?;
        }
        starts.push(p.started_on);
        changed = true;
    }
    let mut change_days = k.legal_status_changes.clone();
    for change in &period.legal_status_changes {
        let later = k.legal_status_changes.iter().all(|known| change.on > *known);
        if k.legal_status_changes.contains(&change.on) || (period.continued && !later) {
            continue;
        }
        if open {
            period_service::change_legal_status(conn, ctx, &k.period.id, new_legal_status(change))?;
        } else {
            let previous = in_force_before(period, change.on);
            insert_change(conn, ctx, &k.period.id, change, previous)?;
        }
        change_days.push(change.on);
        changed = true;
    }
    // The category of need is fixed for the period; the legal status held is the one the
    // period started with. A continued period's first episode says neither.
    if !period.continued {
        changed |= correct_codes(conn, ctx, &k.period, period)?;
    }
    match (period.ended, k.period.ended_on) {
        (Some(end), None) => {
            let input = PeriodEnd {
                ended_on: end.on,
                reason: end.reason.to_string(),
                version: None,
            };
            period_service::end(conn, ctx, &k.period.id, input)?;
            changed = true;
        }
        (Some(end), Some(held)) if end.on != held || k.period.end_reason.as_deref() != Some(end.reason) => {
            diesel::update(periods::table.find(&k.period.id))
                .set((
                    periods::ended_on.eq(end.on),
                    periods::end_reason.eq(end.reason),
                    periods::version.eq(k.period.version + 1),
                ))
                .execute(conn)?;
            changed = true;
        }
        _ => {}
    }
    let row = load_period(conn, &k.period.id)?;
    if changed {
        ctx.audit(
            conn,
            AuditEvent::ok("import", "period", Some(&row.id), Some(&row.child_id))
                .with_changes(Some(&k.period), Some(&row)),
        )?;
    }
    known.periods[at] = KnownPeriod {
        period: row,
        placements: starts,
        legal_status_changes: change_days,
    };
    Ok(if changed { Outcome::Updated } else { Outcome::Unchanged })
}

/// The legal status the files have in force the day before `on`.
fn in_force_before(period: &ImportedPeriod, on: NaiveDate) -> &'static str {
    period
        .legal_status_changes
        .iter()
        .take_while(|c| c.on < on)
        .last()
        .map_or(period.legal_status, |c| c.legal_status)
}

fn correct_codes(
    conn: &mut DbConn,
    _ctx: &DomainCtx,
    held: &models::Period,
    period: &ImportedPeriod,
) -> AppResult<bool> {
    use periods::dsl as p;
    let cin = Some(period.category_of_need.to_string());
    if held.legal_status == period.legal_status && held.category_of_need == cin {
        return Ok(false);
    }
    diesel::update(p::periods.find(&held.id))
        .set((
            p::legal_status.eq(period.legal_status),
            p::category_of_need.eq(&cin),
            p::version.eq(p::version + 1),
        ))
        .execute(conn)?;
    Ok(true)
}
