-- Two walks that read one random row each now read an index that holds every column they
-- filter on and read. Same leading columns as before, so every other query keeps its plan.
--
-- The health admin's queues (`service::work`, through `assessment_list`) walk one state's
-- assessments in due order, keeping those whose stored RAG holds, in scope and not sealed:
-- 48% of the page "most likely to be late first", which ranks a queue's first 1,000.
DROP INDEX assessments_state_due;
CREATE INDEX assessments_state_due ON assessments
  (state, due_on, id, rag_basis, rag_from, rag_until, version, responsible_la, child_id, open_request, kind, rag);
-- A past week's meeting list (`service::assurance::lean_rows`) also takes the IHAs that
-- were open that day and have finished since: completed or ended after it. A week back
-- that is 2,557 completions and 462 endings of every kind at 100,000 children, most of
-- the list's time once the snapshots (`rag_snapshot`) settled their state and RAG.
DROP INDEX assessments_completed;
CREATE INDEX assessments_completed ON assessments
  (completed_on, kind, clock_started_on, id, child_id, due_on, state, rag, rag_basis, rag_from, rag_until, version, responsible_la);
DROP INDEX assessments_ended;
CREATE INDEX assessments_ended ON assessments
  (ended_on, kind, clock_started_on, id, child_id, due_on, state, rag, rag_basis, rag_from, rag_until, version, responsible_la);
