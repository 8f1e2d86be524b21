-- Whether the assessment has an open out-of-area request, kept with the row so that the
-- health admin's "waiting on a host provider" queue reads a few thousand index entries
-- rather than a few thousand rows spread over the whole table (one random page each:
-- 55 ms of the home page on SQLite, 106 ms on PostgreSQL at 100,000 children). Set and
-- cleared in the transaction that opens or closes the request (`service::assessments`).
ALTER TABLE assessments ADD COLUMN open_request BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE assessments SET open_request = TRUE
  WHERE id IN (SELECT assessment_id FROM out_of_area_requests WHERE closed_on IS NULL);
-- Partial: only those rows, with every column the queue counts, filters and orders by.
CREATE INDEX assessments_open_request ON assessments
  (due_on, id, responsible_la, child_id, state, rag_basis, rag_from, rag_until, clock_started_on)
  WHERE open_request;
