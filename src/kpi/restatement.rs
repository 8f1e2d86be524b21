//! A published figure against the same figure computed again with what is known now: the
//! published figure is kept, and the children whose outcome changed are listed (DOMAIN.md:
//! "never silently a different number").

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{Entry, Figure, Measure, Month, Outcome};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restatement {
    pub measure: Measure,
    pub month: Month,
    pub published: (usize, usize),
    pub current: (usize, usize),
    pub changes: Vec<Change>,
}

/// One child whose place in the figure changed. `None` = not in the cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub child_id: String,
    pub assessment_id: Option<String>,
    pub before: Option<Outcome>,
    pub after: Option<Outcome>,
}

pub fn restate(published: &Figure, current: &Figure) -> Restatement {
    let outcomes = |f: &Figure| -> HashMap<(String, Option<String>), Outcome> {
        f.entries.iter().map(|e| (key(e), e.outcome)).collect()
    };
    let (before, after) = (outcomes(published), outcomes(current));
    let mut seen = HashSet::new();
    let changes = published
        .entries
        .iter()
        .chain(&current.entries)
        .map(key)
        .filter(|k| seen.insert(k.clone()))
        .filter_map(|k| {
            let (was, is) = (before.get(&k).copied(), after.get(&k).copied());
            (was != is).then_some(Change {
                child_id: k.0,
                assessment_id: k.1,
                before: was,
                after: is,
            })
        })
        .collect();
    Restatement {
        measure: current.measure,
        month: current.month,
        published: (published.numerator, published.denominator),
        current: (current.numerator, current.denominator),
        changes,
    }
}

fn key(e: &Entry) -> (String, Option<String>) {
    (e.child_id.clone(), e.assessment_id.clone())
}
