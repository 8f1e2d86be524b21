//! Black-box tests of the HTTP API, the command line and start-up, run against both
//! backends: each behavioural test is an `async fn name(b: Backend)` and `both!` makes
//! `module::sqlite::name` and `module::postgres::name` out of it.

/// Generates `mod sqlite` and `mod postgres` with one `#[tokio::test]` per named test.
/// PostgreSQL tests need `CLA_TEST_POSTGRES_URL`; without it they are skipped locally and
/// fail when `CI=true`. Attributes before a name (e.g. `#[ignore = "BUG: ..."]`) apply to both.
macro_rules! both {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                $(#[$meta])*
                async fn $name() {
                    super::$name(crate::helpers::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                $(#[$meta])*
                async fn $name() {
                    if !crate::helpers::postgres_available(concat!(module_path!(), "::", stringify!($name))) {
                        return;
                    }
                    super::$name(crate::helpers::Backend::Postgres).await
                }
            )+
        }
    };
}

mod admin_api;
mod audit;
mod browser;
mod calendar;
mod calendar_import;
mod care_records;
mod casework;
mod cli;
mod console;
mod console_screens;
mod contract;
mod delays;
mod escalations;
mod forecast;
mod group_commit;
mod health_import;
mod helpers;
mod import_page;
mod input;
mod journey;
mod legal_status;
mod lists;
mod locks;
mod logins;
mod malformed;
mod meeting_screens;
mod meetings;
mod metrics;
mod ops;
mod pages;
mod permissions;
mod publications;
mod races;
mod reach;
mod record;
mod reports;
mod scope;
mod screens;
mod security;
mod sessions;
mod shutdown;
mod smtp;
mod ssda903;
mod startup;
mod statutory_rules;
mod workflow;
