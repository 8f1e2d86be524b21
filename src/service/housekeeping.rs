//! Work no request triggers: closing the obligations of children who have turned 18.

use diesel::prelude::*;

use super::assessments::{close_open, open_state_names};
use crate::audit::{self, Actor, AuditEvent};
use crate::db::models;
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::obligations;

/// Closes every open assessment of a child who is 18 on or before `today`, dated the 18th
/// birthday. Returns how many were closed.
pub fn close_for_eighteenth_birthdays(conn: &mut DbConn, today: chrono::NaiveDate) -> AppResult<usize> {
    // Anyone born on or before this day is 18 by today (a 29 February birthday falls on
    // 1 March, which this bound still includes because the exact check follows).
    let born_by = today - chrono::Months::new(12 * 18) + chrono::Duration::days(1);
    let candidates: Vec<(models::Assessment, chrono::NaiveDate)> = assessments::table
        .inner_join(children::table)
        .filter(assessments::state.eq_any(open_state_names()))
        .filter(children::date_of_birth.le(born_by))
        .select((models::Assessment::as_select(), children::date_of_birth))
        .load(conn)?;
    let mut closed = 0;
    for (mut a, dob) in candidates {
        let eighteenth = obligations::birthday(dob, 18);
        if eighteenth > today {
            continue;
        }
        crate::db::write_transaction(conn, |conn| {
            let open = a.clone();
            close_open(
                conn,
                &mut a,
                eighteenth,
                "turned 18: no longer looked after; the care-leaver track begins",
            )?;
            let event = AuditEvent::ok("close", "assessment", Some(&a.id), Some(&a.child_id))
                .with_changes(Some(&open), Some(&a));
            audit::record(conn, &Actor::system("housekeeping"), event)?;
            Ok::<_, crate::error::AppError>(())
        })?;
        closed += 1;
    }
    Ok(closed)
}
