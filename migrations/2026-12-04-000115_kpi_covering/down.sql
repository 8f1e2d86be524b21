DROP INDEX health_checks_checked;
DROP INDEX assessments_kind_due;
CREATE INDEX assessments_kind_due ON assessments (kind, due_on);
