//! Settings: `config/default.toml` (or the copy built into the binary when the file is not
//! there), then the file named by `CLA_CONFIG_FILE`, then `CLA_*` environment variables.
//! Unknown keys and invalid values stop start-up with a message naming the key.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

const BUILT_IN_DEFAULTS: &str = include_str!("../config/default.toml");
const DEFAULT_FILE: &str = "config/default.toml";
const ENV_PREFIX: &str = "CLA_";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub bind_address: String,
    pub database_url: String,
    pub pool_size: u32,
    pub public_url: String,
    pub smtp_url: String,
    pub today: String,
    pub max_body_bytes: usize,
    pub housekeeping_interval_seconds: u64,
    pub escalations_file: String,
    /// A bearer token that may read `/metrics` without a user account (empty: none).
    pub metrics_token: String,
    pub iha: IhaSettings,
    pub rha: RhaSettings,
    pub assurance: AssuranceSettings,
    pub auth: AuthSettings,
    pub organisation: OrganisationSettings,
    pub escalation: EscalationSettings,
}

/// The escalation sweep, the outbox sender and the weekly pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSettings {
    pub from_address: String,
    pub sweep_interval_seconds: u64,
    pub send_interval_seconds: u64,
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub retry_max_seconds: u64,
    pub claim_lease_seconds: u64,
    pub smtp_timeout_seconds: u64,
    pub sender_workers: u64,
    pub health_admin_mailbox: String,
    pub named_nurse_email: String,
    pub designated_nurse_email: String,
    pub pack_weekday: String,
    pub pack_time: String,
    pub pack_recipients: Vec<String>,
}

impl EscalationSettings {
    /// The pack's weekday as chrono's.
    pub fn pack_weekday(&self) -> Option<chrono::Weekday> {
        self.pack_weekday.parse().ok()
    }

    /// The pack's local time (Europe/London).
    pub fn pack_time(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(&self.pack_time, "%H:%M").ok()
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let address = |key: &str, value: &str, required: bool| {
            if (required || !value.is_empty()) && value.parse::<lettre::Address>().is_err() {
                return Err(SettingsError::new(key, format!("{value:?} is not an email address")));
            }
            Ok(())
        };
        address("escalation.from_address", &self.from_address, true)?;
        address("escalation.health_admin_mailbox", &self.health_admin_mailbox, false)?;
        address("escalation.named_nurse_email", &self.named_nurse_email, false)?;
        address("escalation.designated_nurse_email", &self.designated_nurse_email, false)?;
        for a in &self.pack_recipients {
            address("escalation.pack_recipients", a, true)?;
        }
        let ranges: [(&str, u64, u64, u64); 7] = [
            (
                "escalation.sweep_interval_seconds",
                self.sweep_interval_seconds,
                1,
                86_400,
            ),
            ("escalation.send_interval_seconds", self.send_interval_seconds, 1, 3_600),
            ("escalation.retry_base_seconds", self.retry_base_seconds, 1, 86_400),
            ("escalation.retry_max_seconds", self.retry_max_seconds, 1, 7 * 86_400),
            ("escalation.claim_lease_seconds", self.claim_lease_seconds, 10, 86_400),
            ("escalation.smtp_timeout_seconds", self.smtp_timeout_seconds, 1, 600),
            ("escalation.sender_workers", self.sender_workers, 1, 32),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(SettingsError::new(key, format!("must be between {min} and {max}")));
            }
        }
        if self.retry_max_seconds < self.retry_base_seconds {
            return Err(SettingsError::new(
                "escalation.retry_max_seconds",
                "must not be less than escalation.retry_base_seconds",
            ));
        }
        // The lease must outlast one send, or a slow send is claimed twice.
        if self.claim_lease_seconds < 2 * self.smtp_timeout_seconds {
            return Err(SettingsError::new(
                "escalation.claim_lease_seconds",
                "must be at least twice escalation.smtp_timeout_seconds",
            ));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(SettingsError::new(
                "escalation.max_attempts",
                "must be between 1 and 100",
            ));
        }
        if self.pack_weekday().is_none() {
            return Err(SettingsError::new(
                "escalation.pack_weekday",
                "expected a weekday, e.g. \"monday\"",
            ));
        }
        if self.pack_time().is_none() {
            return Err(SettingsError::new(
                "escalation.pack_time",
                "expected HH:MM, e.g. \"08:00\"",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSettings {
    pub icb_code: String,
    pub icb_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub session_idle_minutes: u32,
    pub session_absolute_hours: u32,
    pub max_failed_logins: u32,
    pub lockout_minutes: u32,
    pub address_max_failures: u32,
    pub address_window_minutes: u32,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IhaSettings {
    pub due_working_days: i32,
    pub notify_by: i32,
    pub consent_by: i32,
    pub appointment_by: i32,
    pub report_by: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RhaSettings {
    pub under_five_months: u32,
    pub five_and_over_months: u32,
    pub fifth_birthday_policy: String,
    pub booking_lead_working_days: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssuranceSettings {
    pub default_weeks: u32,
}

/// A setting that could not be used, with the key it belongs to.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting `{key}`: {reason}")]
pub struct SettingsError {
    pub key: String,
    pub reason: String,
}

impl SettingsError {
    fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        SettingsError {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

impl Settings {
    /// Reads the files and this process's environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let base = std::fs::read_to_string(DEFAULT_FILE).unwrap_or_else(|_| BUILT_IN_DEFAULTS.to_string());
        let extra = match std::env::var("CLA_CONFIG_FILE") {
            Ok(path) if !path.is_empty() => Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| SettingsError::new("CLA_CONFIG_FILE", format!("cannot read {path}: {e}")))?,
            ),
            _ => None,
        };
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Settings::from_sources(&base, extra.as_deref(), &env)
    }

    /// The built-in defaults only (tests and tools start from here).
    pub fn defaults() -> Settings {
        Settings::from_sources(BUILT_IN_DEFAULTS, None, &BTreeMap::new())
            .expect("the built-in config/default.toml is valid")
    }

    /// Pure: layers the TOML texts and the environment, then validates.
    pub fn from_sources(
        base: &str,
        extra: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> Result<Settings, SettingsError> {
        let mut table = parse_toml(base, DEFAULT_FILE)?;
        if let Some(text) = extra {
            merge(&mut table, parse_toml(text, "CLA_CONFIG_FILE")?);
        }
        apply_env(&mut table, env)?;
        let settings: Settings = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| SettingsError::new(e.path().to_string(), e.inner().to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        if self.bind_address.parse::<std::net::SocketAddr>().is_err() {
            return Err(SettingsError::new(
                "bind_address",
                "expected HOST:PORT, e.g. 127.0.0.1:8080",
            ));
        }
        if self.database_url.trim().is_empty() {
            return Err(SettingsError::new("database_url", "must not be empty"));
        }
        if self.pool_size == 0 || self.pool_size > 200 {
            return Err(SettingsError::new("pool_size", "must be between 1 and 200"));
        }
        if !self.today.is_empty() && self.pinned_today().is_none() {
            return Err(SettingsError::new("today", "expected a date YYYY-MM-DD or empty"));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(SettingsError::new(
                "max_body_bytes",
                "must be between 1024 and 16777216",
            ));
        }
        if !self.metrics_token.is_empty() && self.metrics_token.chars().count() < 32 {
            return Err(SettingsError::new(
                "metrics_token",
                "must be empty or at least 32 characters (e.g. `openssl rand -hex 32`)",
            ));
        }
        if self.housekeeping_interval_seconds == 0 {
            return Err(SettingsError::new(
                "housekeeping_interval_seconds",
                "must be at least 1",
            ));
        }
        if self.escalations_file.trim().is_empty() {
            return Err(SettingsError::new("escalations_file", "must not be empty"));
        }
        self.iha.validate()?;
        self.rha.validate()?;
        self.escalation.validate()?;
        self.auth.validate()?;
        let code = &self.organisation.icb_code;
        if code.is_empty() || code.len() > 20 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(SettingsError::new(
                "organisation.icb_code",
                "must be 1-20 letters, digits or hyphens",
            ));
        }
        if self.organisation.icb_name.trim().is_empty() {
            return Err(SettingsError::new("organisation.icb_name", "must not be empty"));
        }
        if !(1..=104).contains(&self.assurance.default_weeks) {
            return Err(SettingsError::new(
                "assurance.default_weeks",
                "must be between 1 and 104",
            ));
        }
        Ok(())
    }

    /// The date pinned by `today` / `CLA_TODAY`, if any.
    pub fn pinned_today(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.today, "%Y-%m-%d").ok()
    }
}

impl IhaSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        if !(1..=60).contains(&self.due_working_days) {
            return Err(SettingsError::new("iha.due_working_days", "must be between 1 and 60"));
        }
        // Milestones must come in the order the steps happen and none after the due date.
        let steps = [
            ("iha.notify_by", self.notify_by),
            ("iha.consent_by", self.consent_by),
            ("iha.appointment_by", self.appointment_by),
            ("iha.report_by", self.report_by),
        ];
        let mut previous = 0;
        for (key, day) in steps {
            if day < previous || day > self.due_working_days {
                return Err(SettingsError::new(
                    key,
                    format!(
                        "must be a working day from {previous} to iha.due_working_days ({}) and not before the step above it",
                        self.due_working_days
                    ),
                ));
            }
            previous = day;
        }
        Ok(())
    }
}

impl RhaSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        if !(1..=24).contains(&self.under_five_months) {
            return Err(SettingsError::new("rha.under_five_months", "must be between 1 and 24"));
        }
        if !(1..=24).contains(&self.five_and_over_months) {
            return Err(SettingsError::new(
                "rha.five_and_over_months",
                "must be between 1 and 24",
            ));
        }
        if !["age_on_last_assessment", "age_on_due_date"].contains(&self.fifth_birthday_policy.as_str()) {
            return Err(SettingsError::new(
                "rha.fifth_birthday_policy",
                "must be \"age_on_last_assessment\" or \"age_on_due_date\"",
            ));
        }
        if !(0..=120).contains(&self.booking_lead_working_days) {
            return Err(SettingsError::new(
                "rha.booking_lead_working_days",
                "must be between 0 and 120",
            ));
        }
        Ok(())
    }
}

impl AuthSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        let checks: [(&str, u32, u32, u32); 8] = [
            ("auth.session_idle_minutes", self.session_idle_minutes, 1, 24 * 60),
            ("auth.session_absolute_hours", self.session_absolute_hours, 1, 24 * 7),
            ("auth.max_failed_logins", self.max_failed_logins, 1, 100),
            ("auth.lockout_minutes", self.lockout_minutes, 1, 24 * 60),
            ("auth.address_max_failures", self.address_max_failures, 1, 10_000),
            ("auth.address_window_minutes", self.address_window_minutes, 1, 24 * 60),
            // OWASP's argon2id minimum; less would make stolen hashes cheap to crack.
            (
                "auth.argon2_memory_kib",
                self.argon2_memory_kib,
                19_456,
                4 * 1024 * 1024,
            ),
            ("auth.argon2_iterations", self.argon2_iterations, 2, 100),
        ];
        for (key, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(SettingsError::new(key, format!("must be between {min} and {max}")));
            }
        }
        Ok(())
    }
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Table, SettingsError> {
    text.parse::<toml::Table>()
        .map_err(|e| SettingsError::new(origin, e.to_string()))
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(section)) => merge(existing, section),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// `CLA_IHA__CONSENT_BY=7` sets `iha.consent_by`. Values are read as TOML when they parse
/// (numbers, booleans) and as strings otherwise. Variables that name no setting are an error,
/// so a typo cannot be silently ignored; `CLA_CONFIG_FILE`, `CLA_TEST_*`, and `CLA_LOG` and
/// `CLA_LOG_FORMAT` (read before the settings, to log their errors) are not settings.
fn apply_env(table: &mut toml::Table, env: &BTreeMap<String, String>) -> Result<(), SettingsError> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if rest == "CONFIG_FILE" || rest.starts_with("TEST_") || rest == "LOG" || rest == "LOG_FORMAT" {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        let (leaf, sections) = path.split_last().expect("split yields at least one part");
        let mut node = &mut *table;
        for section in sections {
            node = match node.get_mut(section) {
                Some(toml::Value::Table(t)) => t,
                _ => return Err(SettingsError::new(name.clone(), "names no setting")),
            };
        }
        let Some(existing) = node.get(leaf.as_str()) else {
            return Err(SettingsError::new(name.clone(), "names no setting"));
        };
        let value = env_value(raw, existing);
        node.insert(leaf.clone(), value);
    }
    Ok(())
}

/// Keeps strings as strings (a URL is not TOML) and parses other values as TOML literals.
fn env_value(raw: &str, existing: &toml::Value) -> toml::Value {
    if existing.is_str() {
        return toml::Value::String(raw.to_string());
    }
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn built_in_defaults_are_valid_and_match_the_statutory_clock() {
        let s = Settings::defaults();
        assert_eq!(s.iha.due_working_days, 20);
        assert_eq!((s.iha.notify_by, s.iha.consent_by, s.iha.appointment_by), (2, 5, 15));
        assert_eq!(s.bind_address, "127.0.0.1:8080");
        assert_eq!(s.rha.under_five_months, 6);
    }

    #[test]
    fn environment_overrides_nested_and_top_level_keys() {
        let e = env(&[
            ("CLA_DATABASE_URL", "postgres://x@localhost/db"),
            ("CLA_IHA__CONSENT_BY", "7"),
            ("CLA_TODAY", "2026-01-05"),
        ]);
        let s = Settings::from_sources(BUILT_IN_DEFAULTS, None, &e).unwrap();
        assert_eq!(s.database_url, "postgres://x@localhost/db");
        assert_eq!(s.iha.consent_by, 7);
        assert_eq!(s.pinned_today(), NaiveDate::from_ymd_opt(2026, 1, 5));
    }

    #[test]
    fn invalid_value_names_the_key() {
        let e = env(&[("CLA_IHA__NOTIFY_BY", "nine")]);
        let err = Settings::from_sources(BUILT_IN_DEFAULTS, None, &e).unwrap_err();
        assert_eq!(err.key, "iha.notify_by");
    }

    #[test]
    fn milestones_out_of_order_are_rejected() {
        let e = env(&[("CLA_IHA__CONSENT_BY", "1"), ("CLA_IHA__NOTIFY_BY", "3")]);
        let err = Settings::from_sources(BUILT_IN_DEFAULTS, None, &e).unwrap_err();
        assert_eq!(err.key, "iha.consent_by");
    }

    #[test]
    fn unknown_environment_variable_is_an_error_not_ignored() {
        let e = env(&[("CLA_DATABSE_URL", "x")]);
        let err = Settings::from_sources(BUILT_IN_DEFAULTS, None, &e).unwrap_err();
        assert_eq!(err.key, "CLA_DATABSE_URL");
    }

    #[test]
    fn unknown_key_in_file_names_it() {
        let err =
            Settings::from_sources(BUILT_IN_DEFAULTS, Some("[iha]\nconsnet_by = 4\n"), &BTreeMap::new()).unwrap_err();
        assert!(err.key.starts_with("iha"), "{err}");
        assert!(err.reason.contains("consnet_by"), "{err}");
    }

    #[test]
    fn bad_today_and_bind_address_are_rejected() {
        for (k, v, key) in [
            ("CLA_TODAY", "2026-02-30", "today"),
            ("CLA_BIND_ADDRESS", "localhost", "bind_address"),
            ("CLA_RHA__FIFTH_BIRTHDAY_POLICY", "never", "rha.fifth_birthday_policy"),
            (
                "CLA_ESCALATION__FROM_ADDRESS",
                "not an address",
                "escalation.from_address",
            ),
            ("CLA_ESCALATION__PACK_WEEKDAY", "someday", "escalation.pack_weekday"),
            ("CLA_ESCALATION__PACK_TIME", "8am", "escalation.pack_time"),
            ("CLA_ESCALATION__MAX_ATTEMPTS", "0", "escalation.max_attempts"),
        ] {
            let err = Settings::from_sources(BUILT_IN_DEFAULTS, None, &env(&[(k, v)])).unwrap_err();
            assert_eq!(err.key, key);
        }
    }
}
