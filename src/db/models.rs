//! Rows as stored. Every table has one struct used both to read and to insert, so inserts
//! carry every column (SQLite batch inserts cannot use DEFAULT).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::*;

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = children)]
pub struct Child {
    pub id: String,
    pub local_id: String,
    pub responsible_la: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: String,
    pub nhs_number: Option<String>,
    pub uasc: i32,
    pub gp_practice: Option<String>,
    pub social_worker_email: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub social_worker_id: Option<String>,
    /// The day the record was sealed at the adoption order (`adoption`); hidden then.
    pub sealed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = periods)]
pub struct Period {
    pub id: String,
    pub child_id: String,
    pub started_on: NaiveDate,
    pub legal_status: String,
    pub category_of_need: Option<String>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
}

/// A health leaving-care summary or an adoption medical report (`care_leaver`, `adoption`).
#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = health_obligations)]
pub struct HealthObligation {
    pub id: String,
    pub child_id: String,
    pub period_id: String,
    pub kind: String,
    pub opened_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub completed_by: Option<String>,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: Option<String>,
}

/// A legal-status change within a period (append-only; `src/legal_status.rs`).
#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = legal_status_changes)]
pub struct LegalStatusChange {
    pub id: String,
    pub period_id: String,
    pub changed_on: NaiveDate,
    pub legal_status: String,
    pub previous_status: String,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = placements)]
pub struct Placement {
    pub id: String,
    pub period_id: String,
    pub started_on: NaiveDate,
    pub placement_type: String,
    pub out_of_area: i32,
    pub host_la: Option<String>,
    pub host_provider_email: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable, Identifiable, AsChangeset)]
#[diesel(table_name = assessments, treat_none_as_null = true)]
pub struct Assessment {
    pub id: String,
    pub child_id: String,
    pub period_id: Option<String>,
    pub kind: String,
    pub state: String,
    pub clock_started_on: NaiveDate,
    pub due_on: NaiveDate,
    pub notified_on: Option<NaiveDate>,
    pub consent_on: Option<NaiveDate>,
    pub first_booked_on: Option<NaiveDate>,
    pub appointment_on: Option<NaiveDate>,
    pub seen_on: Option<NaiveDate>,
    pub report_received_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub completion_method: Option<String>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub non_attendance_count: i32,
    pub last_non_attendance_on: Option<NaiveDate>,
    pub last_non_attendance_outcome: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The stored RAG and where it holds (see `rag_stamp`); derived, so not audited.
    #[serde(skip)]
    pub rag: String,
    #[serde(skip)]
    pub rag_basis: String,
    #[serde(skip)]
    pub rag_from: Option<NaiveDate>,
    #[serde(skip)]
    pub rag_until: Option<NaiveDate>,
    /// The child's local authority, copied so lists can be scoped without a join.
    #[serde(skip)]
    pub responsible_la: String,
    /// The latest effective date of the assessment's events (`history`).
    #[serde(skip)]
    pub history_through: Option<NaiveDate>,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = assessment_events)]
pub struct AssessmentEvent {
    pub id: String,
    pub assessment_id: String,
    pub step: String,
    pub from_state: String,
    pub to_state: String,
    pub occurred_on: NaiveDate,
    pub detail: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = consents)]
pub struct Consent {
    pub id: String,
    pub assessment_id: String,
    pub basis: String,
    pub given_by: String,
    pub given_on: Option<NaiveDate>,
    pub refused_on: Option<NaiveDate>,
    pub scope: String,
    pub confirmed_by: Option<String>,
    pub competence_assessed_by: Option<String>,
    pub reoffer_plan: Option<String>,
    pub withdrawn_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = appointments)]
pub struct Appointment {
    pub id: String,
    pub assessment_id: String,
    pub starts_at: NaiveDateTime,
    pub clinician: String,
    pub location: String,
    pub booked_on: NaiveDate,
    pub outcome: Option<String>,
    pub outcome_recorded_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    /// The child's local authority, copied from the assessment so that a week's
    /// appointments are counted within a scope from one index (migration `000110`).
    #[serde(skip)]
    pub responsible_la: String,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = out_of_area_requests, treat_none_as_null = true)]
pub struct OutOfAreaRequest {
    pub id: String,
    pub assessment_id: String,
    pub placement_id: String,
    pub host_la: Option<String>,
    pub host_provider_email: Option<String>,
    pub opened_on: NaiveDate,
    pub requested_on: Option<NaiveDate>,
    pub acknowledged_on: Option<NaiveDate>,
    pub appointment_offered_on: Option<NaiveDate>,
    pub report_received_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    /// The host ICB's Designated Nurse (the `host_icb_designated_nurse` escalation recipient).
    pub host_icb_email: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = notes)]
pub struct Note {
    pub id: String,
    pub child_id: String,
    pub assessment_id: Option<String>,
    pub body: String,
    pub author: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = health_checks)]
pub struct HealthCheck {
    pub id: String,
    pub child_id: String,
    pub kind: String,
    pub checked_on: NaiveDate,
    pub up_to_date: Option<i32>,
    pub sdq_score: Option<i32>,
    pub sdq_reason: Option<String>,
    pub outcome: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = bank_holidays)]
pub struct BankHoliday {
    pub holiday_date: NaiveDate,
    pub title: String,
    pub notes: String,
    pub bunting: i32,
    pub imported_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub code: String,
    pub icb_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub organisation_id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub active: i32,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub last_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub client_address: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub label: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub role: Option<String>,
    pub client_address: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub child_id: Option<String>,
    pub outcome: String,
    pub changes: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = escalations)]
pub struct Escalation {
    pub id: String,
    pub assessment_id: String,
    pub child_id: String,
    pub rule_id: String,
    pub condition: String,
    pub level: i32,
    pub occurrence_key: String,
    pub since: NaiveDate,
    pub fired_on: NaiveDate,
    pub resolved_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    /// The child's local authority, copied so the open list is scoped without a join.
    #[serde(skip)]
    pub responsible_la: String,
}

#[derive(Debug, Clone, serde::Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub escalation_id: Option<String>,
    pub kind: String,
    pub dedupe_key: Option<String>,
    pub recipient: String,
    pub to_address: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attachment_name: Option<String>,
    pub attachment: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claim_token: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub message_id: String,
    pub created_at: NaiveDateTime,
}

/// A new random id, stored as text.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current instant in UTC, truncated to microseconds so both databases store it alike.
pub fn now_utc() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now - chrono::Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos() % 1000))
}

/// What an SSDA903 import read about a child beyond the tracker's own fields (migration
/// 000060): kept for `export ssda903`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ssda903_children, treat_none_as_null = true)]
pub struct Ssda903Child {
    pub child_id: String,
    pub ethnicity: Option<String>,
    pub upn: Option<String>,
    pub mother: Option<i32>,
    pub mother_child_dob: Option<NaiveDate>,
    pub uasc_ceased_on: Option<NaiveDate>,
    pub oc2_imported: i32,
    pub convicted: Option<i32>,
    pub substance_misuse: Option<i32>,
    pub intervention_received: Option<i32>,
    pub intervention_offered: Option<i32>,
    pub updated_at: NaiveDateTime,
}

/// One SSDA903 episode row as imported (migration 000060).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = ssda903_episodes)]
pub struct Ssda903Episode {
    pub child_id: String,
    pub decom: NaiveDate,
    pub rne: String,
    pub legal_status: String,
    pub category_of_need: String,
    pub placement_type: String,
    pub provider: Option<String>,
    pub dec: Option<NaiveDate>,
    pub rec: Option<String>,
    pub reason_place_change: Option<String>,
    pub home_postcode: Option<String>,
    pub placement_postcode: Option<String>,
    pub urn: Option<String>,
}
