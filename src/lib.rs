//! cla-tracker: statutory health assessments for Children Looked After in England.
//!
//! A pure core (`calendar`, `workflow`, `obligations`, `status`, `nhs_number`, `ssda903`,
//! `input`) under thin shells: `db` (one diesel layer over SQLite and PostgreSQL),
//! `service` (one transaction per use case), `http` (actix-web: the API and the
//! middleware), `web` (the browser's pages over the same services) and `cli`.

pub mod access;
pub mod adoption;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod care_leaver;
pub mod cli;
pub mod db;
pub mod error;
pub mod escalation;
pub mod forecast;
pub mod health_import;
pub mod history;
pub mod http;
pub mod input;
pub mod kpi;
pub mod legal_status;
pub mod logging;
pub mod metrics;
pub mod nhs_number;
pub mod obligations;
pub mod paging;
pub mod rag_stamp;
pub mod seed;
pub mod service;
pub mod settings;
pub mod ssda903;
pub mod status;
pub mod web;
pub mod workflow;

use chrono::NaiveDate;

/// Today in Europe/London, unless `CLA_TODAY` pins it.
pub fn today(settings: &settings::Settings) -> NaiveDate {
    settings.pinned_today().unwrap_or_else(|| {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive()
    })
}

/// Counting through a year with no published calendar uses the regular rules: correct
/// unless a one-off holiday is proclaimed, so say so where operators will see it.
pub fn warn_rule_years(years: &[i32]) {
    if !years.is_empty() {
        tracing::warn!(
            ?years,
            "bank holidays for these years were worked out from the regular rules; import a newer GOV.UK calendar"
        );
    }
}
