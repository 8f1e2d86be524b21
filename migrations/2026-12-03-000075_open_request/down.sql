DROP INDEX assessments_open_request;
ALTER TABLE assessments DROP COLUMN open_request;
