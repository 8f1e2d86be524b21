//! What the meeting's page shows beside each row of the assurance list: the local
//! authority's name, the highest escalation level reached and the open actions.
//!
//! Rules:
//! - Read for the rows already on the page (already in the caller's scope), in the same
//!   connection as the list; nothing here widens what the caller sees.
//! - The authorities offered as a filter are those of the caller's scope.

use std::collections::HashMap;

use diesel::prelude::*;

use super::DomainCtx;
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::AppResult;

#[derive(Debug, Default, Clone)]
pub struct RowExtras {
    /// (code, name) of the local authorities in scope, by name.
    pub authorities: Vec<(String, String)>,
    names: HashMap<String, String>,
    /// The highest open escalation level by assessment id, with its rule.
    escalations: HashMap<String, (i32, String)>,
    /// Open actions by assessment id, in words.
    actions: HashMap<String, Vec<String>>,
}

impl RowExtras {
    /// An authority's name, or its code when it is not registered as an organisation.
    pub fn la_name(&self, code: &str) -> String {
        self.names.get(code).cloned().unwrap_or_else(|| code.to_string())
    }

    /// "Level 2 (iha_breached)", when an escalation is open.
    pub fn escalation(&self, assessment_id: &str) -> Option<String> {
        self.escalations
            .get(assessment_id)
            .map(|(level, rule)| format!("Level {level} ({rule})"))
    }

    pub fn actions(&self, assessment_id: &str) -> Vec<String> {
        self.actions.get(assessment_id).cloned().unwrap_or_default()
    }
}

pub fn row_extras(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    assessment_ids: &[String],
    as_of: chrono::NaiveDate,
) -> AppResult<RowExtras> {
    let mut las: Vec<(String, String)> = organisations::table
        .filter(organisations::kind.eq("local_authority"))
        .select((organisations::code, organisations::name))
        .load(conn)?;
    let names: HashMap<String, String> = las.iter().cloned().collect();
    las.retain(|(code, _)| ctx.scope.allows(code));
    las.sort_by(|a, b| a.1.cmp(&b.1));
    let mut escalations: HashMap<String, (i32, String)> = HashMap::new();
    for chunk in assessment_ids.chunks(900) {
        let open: Vec<(String, i32, String)> = escalations::table
            .filter(escalations::assessment_id.eq_any(chunk))
            .filter(escalations::resolved_on.is_null())
            .select((escalations::assessment_id, escalations::level, escalations::rule_id))
            .load(conn)?;
        for (id, level, rule) in open {
            let e = escalations.entry(id).or_insert((level, rule.clone()));
            if level > e.0 {
                *e = (level, rule);
            }
        }
    }
    Ok(RowExtras {
        authorities: las,
        names,
        escalations,
        actions: super::meetings::open_actions_on(conn, assessment_ids, as_of)?,
    })
}
