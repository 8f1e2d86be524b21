-- Lists filter and count by RAG in SQL instead of deriving every assessment per request.
--
-- Each assessment carries its RAG as derived by the code, with the dates between which
-- that answer holds (`rag_from` .. `rag_until`, NULL = for good) and the basis it was
-- derived under (the status rules, the clock settings and the bank holiday calendar).
-- A row whose basis differs from the reader's, or whose window does not cover the
-- reader's `as_of`, is derived afresh instead: a stale stamp is slow, never wrong.
-- Every write to an assessment clears its stamp; housekeeping stamps rows again.
ALTER TABLE assessments ADD COLUMN rag TEXT NOT NULL DEFAULT 'green'
    CHECK (rag IN ('green', 'amber', 'red'));
ALTER TABLE assessments ADD COLUMN rag_basis TEXT NOT NULL DEFAULT '';
ALTER TABLE assessments ADD COLUMN rag_from DATE
    CHECK (rag_from IS NOT NULL OR rag_basis = '');
ALTER TABLE assessments ADD COLUMN rag_until DATE;

-- The child's local authority, copied (it never changes) so that scoped lists and counts
-- need no join.
ALTER TABLE assessments ADD COLUMN responsible_la TEXT NOT NULL DEFAULT '';
UPDATE assessments SET responsible_la =
    (SELECT children.responsible_la FROM children WHERE children.id = assessments.child_id);

-- Pages in list order by RAG; counts by stored RAG, or by authority, kind and state,
-- from the index alone; finding the rows whose stamp does not hold.
CREATE INDEX assessments_rag_due ON assessments (rag, due_on, id);
CREATE INDEX assessments_rag_count ON assessments (rag, responsible_la, kind);
CREATE INDEX assessments_la_count ON assessments (responsible_la, kind, state);
CREATE INDEX assessments_stamp_from ON assessments (rag_basis, rag_from);
CREATE INDEX assessments_stamp_until ON assessments (rag_basis, rag_until);
-- The assurance list: open IHAs, which have an open out-of-area request, and (for past
-- views) those finished since.
CREATE INDEX out_of_area_requests_open ON out_of_area_requests (assessment_id) WHERE closed_on IS NULL;
CREATE INDEX assessments_kind_state ON assessments (kind, state);
CREATE INDEX assessments_completed ON assessments (completed_on);
CREATE INDEX assessments_ended ON assessments (ended_on);
