-- The state and RAG an IHA had on a past meeting day, derived from its events and stored
-- (`service::rag_snapshot`): a past week's meeting list, and the changes since the last
-- meeting, read them instead of replaying the history of every IHA that has changed
-- since. A snapshot holds only under `basis` (rules, clock settings, bank holidays) while
-- the assessment is at `version`; an event appended deletes the assessment's snapshots,
-- and housekeeping makes them again.
CREATE TABLE rag_snapshots (
    assessment_id TEXT NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
    on_day DATE NOT NULL,
    version INTEGER NOT NULL,
    basis TEXT NOT NULL,
    state TEXT NOT NULL,
    rag TEXT NOT NULL CHECK (rag IN ('green', 'amber', 'red')),
    PRIMARY KEY (assessment_id, on_day)
);
-- A day's list reads every snapshot of that day: one range of this index, no table reads.
CREATE INDEX rag_snapshots_day ON rag_snapshots (on_day, basis, assessment_id, version, state, rag);
