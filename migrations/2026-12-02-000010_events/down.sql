DROP INDEX assessments_history_through;
ALTER TABLE assessments DROP COLUMN history_through;
DROP TABLE history_events;
