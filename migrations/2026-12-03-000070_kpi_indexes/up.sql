-- The monthly KPIs read the RHAs due in a span of months: a range of this index, not every
-- RHA ever scheduled (the older index on kind alone made SQLite read them all).
CREATE INDEX assessments_kind_due ON assessments (kind, due_on);
