DROP INDEX assessments_kind_due;
