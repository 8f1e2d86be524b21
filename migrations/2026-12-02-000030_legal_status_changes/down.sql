ALTER TABLE consents DROP COLUMN given_by_birth_mother;
DROP TABLE legal_status_changes;
