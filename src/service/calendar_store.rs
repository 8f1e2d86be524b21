//! The calendar in force: the bank holidays shipped in `config/bank-holidays.json`,
//! overridden year by year by any GOV.UK file imported into the database (shared by every
//! instance). Importing recomputes the due dates of open IHAs.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::assessments::open_state_names;
use super::DomainCtx;
use crate::calendar::{govuk, Calendar, Holiday};
use crate::db::models::{self, now_utc};
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::service::reach::Reach;
use crate::status;
use crate::workflow::Kind;

pub const SHIPPED_HOLIDAYS: &str = include_str!("../../config/bank-holidays.json");

pub fn shipped_holidays() -> Vec<Holiday> {
    govuk::parse_england_and_wales(SHIPPED_HOLIDAYS).expect("the shipped config/bank-holidays.json is valid")
}

/// Changes whenever an import changes the table; instances compare it to know when to reload.
pub fn fingerprint(conn: &mut DbConn) -> AppResult<(i64, Option<NaiveDateTime>)> {
    let (n, latest) = bank_holidays::table
        .select((diesel::dsl::count_star(), diesel::dsl::max(bank_holidays::imported_at)))
        .first::<(i64, Option<NaiveDateTime>)>(conn)?;
    Ok((n, latest))
}

/// Shipped holidays, with every year present in the database replaced by the imported ones.
pub fn load(conn: &mut DbConn) -> AppResult<Calendar> {
    Ok(Calendar::new(in_force(conn)?))
}

/// The holidays the calendar is built from: shipped, with imported years replacing theirs.
fn in_force(conn: &mut DbConn) -> AppResult<Vec<Holiday>> {
    let imported: Vec<models::BankHoliday> = bank_holidays::table
        .order(bank_holidays::holiday_date.asc())
        .select(models::BankHoliday::as_select())
        .load(conn)?;
    Ok(merge(shipped_holidays(), imported.iter().map(to_holiday).collect()))
}

fn to_holiday(row: &models::BankHoliday) -> Holiday {
    Holiday {
        date: row.holiday_date,
        title: row.title.clone(),
        notes: row.notes.clone(),
        bunting: row.bunting != 0,
    }
}

/// Pure: for each year the import covers, its holidays replace the shipped ones.
pub fn merge(shipped: Vec<Holiday>, imported: Vec<Holiday>) -> Vec<Holiday> {
    let years: BTreeSet<i32> = imported.iter().map(|h| h.date.year()).collect();
    let mut all: Vec<Holiday> = shipped
        .into_iter()
        .filter(|h| !years.contains(&h.date.year()))
        .collect();
    all.extend(imported);
    all.sort_by_key(|h| h.date);
    all
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub holidays: usize,
    pub first_year: i32,
    pub last_year: i32,
    pub open_assessments: usize,
    pub due_dates_changed: usize,
}

/// What importing a file would change, worked out without writing anything: the holidays
/// it adds, removes or renames in the years it covers, and how many open IHAs' due dates
/// would move, from which day to which. No child is named: the admin who imports the
/// calendar may not read children's records.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarPreview {
    pub first_year: i32,
    pub last_year: i32,
    /// Holidays in the file for the years it covers.
    pub holidays: usize,
    pub added: Vec<HolidayChange>,
    pub removed: Vec<HolidayChange>,
    /// Same day, another name (the title in the file).
    pub renamed: Vec<HolidayChange>,
    pub open_assessments: usize,
    /// Open IHAs whose due date would move, grouped by the move, earliest first.
    pub due_date_moves: Vec<DueDateMove>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HolidayChange {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub title: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DueDateMove {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub assessments: usize,
}

impl CalendarPreview {
    /// Whether importing the file would change anything at all.
    pub fn changes_nothing(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.renamed.is_empty() && self.due_date_moves.is_empty()
    }

    pub fn due_dates_moving(&self) -> usize {
        self.due_date_moves.iter().map(|m| m.assessments).sum()
    }
}

/// The file's England and Wales holidays, or a 422 naming `file`.
fn read_file(json: &str) -> AppResult<Vec<Holiday>> {
    let holidays = govuk::parse_england_and_wales(json).map_err(|e| AppError::invalid("file", e.to_string()))?;
    if holidays.is_empty() {
        return Err(AppError::invalid(
            "file",
            "the england-and-wales division has no events",
        ));
    }
    Ok(holidays)
}

/// Previews importing a GOV.UK `bank-holidays.json` (see [`CalendarPreview`]).
pub fn preview(conn: &mut DbConn, json: &str, ctx: &DomainCtx) -> AppResult<CalendarPreview> {
    let file = read_file(json)?;
    let years: BTreeSet<i32> = file.iter().map(|h| h.date.year()).collect();
    let now = in_force(conn)?;
    let covered: Vec<&Holiday> = now.iter().filter(|h| years.contains(&h.date.year())).collect();
    let change = |h: &Holiday| HolidayChange {
        date: h.date,
        title: h.title.clone(),
    };
    let added = file
        .iter()
        .filter(|f| !covered.iter().any(|c| c.date == f.date))
        .map(change)
        .collect();
    let removed = covered
        .iter()
        .filter(|c| !file.iter().any(|f| f.date == c.date))
        .map(|c| change(c))
        .collect();
    let renamed = file
        .iter()
        .filter(|f| covered.iter().any(|c| c.date == f.date && c.title != f.title))
        .map(change)
        .collect();
    let after = Calendar::new(merge(now.clone(), file.clone()));
    let (open, due_date_moves) = due_date_moves(conn, &after, ctx)?;
    Ok(CalendarPreview {
        first_year: years.first().copied().unwrap_or_default(),
        last_year: years.last().copied().unwrap_or_default(),
        holidays: file.len(),
        added,
        removed,
        renamed,
        open_assessments: open,
        due_date_moves,
    })
}

/// How the open IHAs' due dates would move under `calendar`: (open IHAs, moves).
fn due_date_moves(conn: &mut DbConn, calendar: &Calendar, ctx: &DomainCtx) -> AppResult<(usize, Vec<DueDateMove>)> {
    let open: Vec<(NaiveDate, NaiveDate)> = assessments::table
        .filter(assessments::kind.eq(Kind::Iha.as_str()))
        .filter(assessments::state.eq_any(open_state_names()))
        .select((assessments::clock_started_on, assessments::due_on))
        .load(conn)?;
    let mut moves: std::collections::BTreeMap<(NaiveDate, NaiveDate), usize> = Default::default();
    for (started, due) in &open {
        let new_due = status::iha_due_on(calendar, *started, &ctx.clock);
        if new_due != *due {
            *moves.entry((*due, new_due)).or_default() += 1;
        }
    }
    let moves = moves
        .into_iter()
        .map(|((from, to), assessments)| DueDateMove { from, to, assessments })
        .collect();
    Ok((open.len(), moves))
}

/// The calendar moves the due dates of every local authority's children, so only the
/// administrators who oversee the deployment (an ICB's) preview or import it.
fn may_import(reach: &Reach) -> AppResult<()> {
    if reach.oversees() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the ICB's administrators change the bank holiday calendar".into(),
        ))
    }
}

/// [`preview`] for an administrator (see [`may_import`]).
pub fn preview_for(conn: &mut DbConn, ctx: &DomainCtx, reach: &Reach, json: &str) -> AppResult<CalendarPreview> {
    may_import(reach)?;
    preview(conn, json, ctx)
}

/// [`import`] for an administrator (see [`may_import`]); audited as theirs.
pub fn import_for(conn: &mut DbConn, ctx: &DomainCtx, reach: &Reach, json: &str) -> AppResult<ImportReport> {
    may_import(reach)?;
    import(conn, json, ctx)
}

/// Reads a GOV.UK `bank-holidays.json`, stores its England and Wales events (replacing the
/// years it covers) and recomputes the due date of every open IHA, all in one transaction.
pub fn import(conn: &mut DbConn, json: &str, ctx: &DomainCtx) -> AppResult<ImportReport> {
    let holidays = read_file(json)?;
    let (Some(first), Some(last)) = (holidays.first(), holidays.last()) else {
        return Err(AppError::invalid(
            "file",
            "the england-and-wales division has no events",
        ));
    };
    let (first_year, last_year) = (first.date.year(), last.date.year());
    crate::db::write_transaction(conn, |conn| {
        let years: BTreeSet<i32> = holidays.iter().map(|h| h.date.year()).collect();
        for year in &years {
            let (from, to) = year_bounds(*year)?;
            diesel::delete(bank_holidays::table.filter(bank_holidays::holiday_date.between(from, to))).execute(conn)?;
        }
        let now = now_utc();
        let rows: Vec<models::BankHoliday> = holidays
            .iter()
            .map(|h| models::BankHoliday {
                holiday_date: h.date,
                title: h.title.clone(),
                notes: h.notes.clone(),
                bunting: i32::from(h.bunting),
                imported_at: now,
            })
            .collect();
        for row in &rows {
            diesel::insert_into(bank_holidays::table).values(row).execute(conn)?;
        }
        let calendar = load(conn)?;
        let (open, changed) = recompute_due_dates(conn, &calendar, ctx)?;
        let changes = serde_json::json!({ "years": [null, format!("{first_year}-{last_year}")], "due_dates_changed": [null, changed] });
        ctx.audit(
            conn,
            crate::audit::AuditEvent {
                changes: Some(changes.to_string()),
                ..crate::audit::AuditEvent::ok("import", "bank_holidays", None, None)
            },
        )?;
        Ok(ImportReport {
            holidays: rows.len(),
            first_year,
            last_year,
            open_assessments: open,
            due_dates_changed: changed,
        })
    })
}

fn year_bounds(year: i32) -> AppResult<(NaiveDate, NaiveDate)> {
    let from = NaiveDate::from_ymd_opt(year, 1, 1);
    let to = NaiveDate::from_ymd_opt(year, 12, 31);
    from.zip(to)
        .ok_or_else(|| AppError::invalid("file", format!("year {year} is out of range")))
}

/// Only IHA due dates count working days; review dates are calendar months.
fn recompute_due_dates(conn: &mut DbConn, calendar: &Calendar, ctx: &DomainCtx) -> AppResult<(usize, usize)> {
    let open: Vec<(String, NaiveDate, NaiveDate)> = assessments::table
        .filter(assessments::kind.eq(Kind::Iha.as_str()))
        .filter(assessments::state.eq_any(open_state_names()))
        .select((assessments::id, assessments::clock_started_on, assessments::due_on))
        .load(conn)?;
    let mut changed = 0;
    for (id, started, due) in &open {
        let new_due = status::iha_due_on(calendar, *started, &ctx.clock);
        if new_due != *due {
            diesel::update(assessments::table.filter(assessments::id.eq(id)))
                .set((
                    assessments::due_on.eq(new_due),
                    assessments::updated_at.eq(now_utc()),
                    assessments::rag_basis.eq(""),
                    assessments::rag_from.eq(None::<NaiveDate>),
                    assessments::rag_until.eq(None::<NaiveDate>),
                ))
                .execute(conn)?;
            super::forecast_stamp::clear(conn, id)?;
            changed += 1;
        }
    }
    Ok((open.len(), changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(date: &str, title: &str) -> Holiday {
        Holiday {
            date: date.parse().unwrap(),
            title: title.into(),
            notes: String::new(),
            bunting: true,
        }
    }

    #[test]
    fn imported_year_replaces_shipped_year_and_keeps_others() {
        let shipped = vec![h("2026-01-01", "New Year’s Day"), h("2027-01-01", "New Year’s Day")];
        let imported = vec![h("2027-01-01", "New Year’s Day"), h("2027-06-07", "A new one-off")];
        let merged = merge(shipped, imported);
        let dates: Vec<String> = merged.iter().map(|h| h.date.to_string()).collect();
        assert_eq!(dates, ["2026-01-01", "2027-01-01", "2027-06-07"]);
    }

    #[test]
    fn shipped_file_covers_2010_to_2030() {
        let cal = Calendar::new(shipped_holidays());
        assert_eq!(cal.data_years(), Some((2010, 2030)));
    }
}
