//! The weekly IHA assurance pack: the assurance list (`assurance::iha_list`) mailed to the
//! meeting's distribution list as an HTML table with the same rows as a CSV attachment.
//!
//! Mail leaves the building, so the pack carries what the escalation mail carries and no
//! more: initials and local id, the responsible LA, dates of the clock, state, RAG, blocker,
//! whose step was late, out-of-area, and the link to the case. No names, dates of birth or
//! NHS numbers; the subject names only the meeting's date.

use chrono::{DateTime, NaiveDate, TimeZone};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;

use super::assurance::{self, AssuranceList};
use super::outbox::{self, NewMail};
use super::DomainCtx;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::escalation::{escape_html, initials};
use crate::settings::Settings;

const COLUMNS: [&str; 13] = [
    "local_id",
    "initials",
    "responsible_la",
    "became_looked_after_on",
    "due_on",
    "working_days_remaining",
    "state",
    "rag",
    "blocker",
    "breach_attribution",
    "out_of_area",
    "host_la",
    "case_url",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub csv_name: String,
    pub csv: String,
}

fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The table's rows, as text.
fn rows(list: &AssuranceList, public_url: &str) -> Vec<[String; 13]> {
    list.items
        .iter()
        .map(|i| {
            let a = &i.assessment;
            [
                i.local_id.clone(),
                initials(&i.given_name, &i.family_name),
                i.responsible_la.clone(),
                i.became_looked_after_on.to_string(),
                a.due_on.to_string(),
                a.working_days_remaining.to_string(),
                a.state.as_str().to_string(),
                name(&a.rag),
                name(&a.blocker),
                name(&a.breach_attribution),
                if i.out_of_area { "yes" } else { "no" }.to_string(),
                i.host_la.clone().unwrap_or_default(),
                format!("{}/children/{}", public_url.trim_end_matches('/'), i.child_id),
            ]
        })
        .collect()
}

/// One CSV field: quoted when needed, and a leading = + - @ defused so a spreadsheet does
/// not run it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Renders the pack for a meeting on `list.as_of`.
pub fn render(list: &AssuranceList, public_url: &str) -> Pack {
    let rows = rows(list, public_url);
    let mut csv = COLUMNS.join(",");
    csv.push_str("\r\n");
    for r in &rows {
        csv.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    let s = &list.summary;
    let summary = format!(
        "{} assessments: {} red, {} amber, {} green; {} open, {} out of area. Newly looked after since {}.",
        s.total, s.red, s.amber, s.green, s.open, s.out_of_area, list.window_from
    );
    let mut text = format!(
        "IHA assurance list for the meeting on {}.\n\n{summary}\n\nThe list is attached as CSV. \
         Children are identified by initials and local id only; open the case for the detail.\n",
        list.as_of
    );
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body>\n<p>IHA assurance list for the meeting on {}.</p>\n<p>{}</p>\n\
         <table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n<tr>",
        list.as_of,
        escape_html(&summary)
    );
    for c in COLUMNS {
        html.push_str(&format!("<th>{}</th>", escape_html(c)));
    }
    html.push_str("</tr>\n");
    for r in &rows {
        html.push_str("<tr>");
        for f in r {
            html.push_str(&format!("<td>{}</td>", escape_html(f)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str(
        "</table>\n<p><small>Children are identified by initials and local id only. Do not add names, \
         dates of birth or NHS numbers if you reply.</small></p>\n</body></html>\n",
    );
    if rows.is_empty() {
        text.push_str("\nNo children are on the list this week.\n");
    }
    Pack {
        subject: format!("[cla-tracker] IHA assurance list for {}", list.as_of),
        text,
        html,
        csv_name: format!("iha-assurance-{}.csv", list.as_of),
        csv,
    }
}

/// Queues the pack for `as_of` to each address. With `once`, each (week, address) is queued
/// at most once whichever instance gets there first (the scheduled pack); without it (on
/// demand) it is always queued. Returns the number of messages queued.
pub fn enqueue(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    settings: &Settings,
    as_of: NaiveDate,
    to: &[String],
    once: bool,
) -> AppResult<usize> {
    for a in to {
        if a.parse::<lettre::Address>().is_err() {
            return Err(AppError::invalid("to", format!("{a:?} is not an email address")));
        }
    }
    let key = |address: &str| format!("pack:{as_of}:{}", address.to_ascii_lowercase());
    let to: Vec<&String> = if once {
        let keys: Vec<String> = to.iter().map(|a| key(a)).collect();
        let done: Vec<Option<String>> = crate::db::schema::outbox::table
            .filter(crate::db::schema::outbox::dedupe_key.eq_any(&keys))
            .select(crate::db::schema::outbox::dedupe_key)
            .load(conn)?;
        to.iter().filter(|a| !done.contains(&Some(key(a)))).collect()
    } else {
        to.iter().collect()
    };
    if to.is_empty() {
        return Ok(0);
    }
    let list = assurance::whole_iha_list(conn, ctx, as_of, settings.assurance.default_weeks)?;
    let pack = render(&list, &settings.public_url);
    let domain = outbox::message_domain(&settings.public_url);
    let mut queued = 0;
    for address in to {
        let mail = NewMail {
            escalation_id: None,
            kind: "pack",
            dedupe_key: once.then(|| key(address)),
            recipient: "distribution_list".to_string(),
            to_address: Some(address.to_string()),
            subject: pack.subject.clone(),
            text_body: pack.text.clone(),
            html_body: pack.html.clone(),
            attachment: Some((pack.csv_name.clone(), pack.csv.clone())),
        };
        let result = write_transaction(conn, |conn| outbox::enqueue(conn, &domain, mail));
        match result {
            Ok(_) => queued += 1,
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(queued)
}

/// The meeting date whose pack is due at `now`: today, if today is the pack's weekday and
/// the pack's time has passed (Europe/London). A pack missed for a whole day (no instance
/// running) is not sent late; send it with `cla-tracker pack`.
pub fn due_on(now: DateTime<Tz>, settings: &Settings) -> Option<NaiveDate> {
    let weekday = settings.escalation.pack_weekday()?;
    let time = settings.escalation.pack_time()?;
    let local = now.with_timezone(&chrono_tz::Europe::London);
    let today = local.date_naive();
    use chrono::Datelike;
    if today.weekday() != weekday {
        return None;
    }
    let at = chrono_tz::Europe::London
        .from_local_datetime(&today.and_time(time))
        .earliest()?;
    (local >= at).then_some(today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn pack_is_due_on_its_weekday_after_its_time_in_london() {
        let s = Settings::defaults();
        let at = |y, m, d, h, min| chrono_tz::Europe::London.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        // Monday 23 Nov 2026.
        assert_eq!(due_on(at(2026, 11, 23, 7, 59), &s), None);
        assert_eq!(
            due_on(at(2026, 11, 23, 8, 0), &s),
            NaiveDate::from_ymd_opt(2026, 11, 23)
        );
        assert_eq!(due_on(at(2026, 11, 24, 9, 0), &s), None);
        // Summer time: 08:00 BST is 07:00 UTC.
        let utc = chrono::Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap();
        assert_eq!(
            due_on(utc.with_timezone(&chrono_tz::UTC), &s),
            NaiveDate::from_ymd_opt(2026, 6, 1)
        );
    }
}
