DROP INDEX children_given_lower;
DROP INDEX children_family_lower;
DROP INDEX children_local_id;
DROP INDEX assessments_last_non_attendance;
DROP INDEX assessments_state_la;
DROP INDEX appointments_starts_at;
