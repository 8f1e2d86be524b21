-- A record that remembers: every step of an assessment as a dated event kept for ever
-- (src/history has the rules). Append-only: the code has no UPDATE or DELETE for it, and
-- a correction is a new event that names the one it `supersedes`.
--
-- Existing rows are turned into events when the migrations have run (`db::history::
-- backfill`, in the same run, under the same lock): appointments keep the day each was
-- booked and the day it was for, consents their refusals and withdrawals, out-of-area
-- requests each of their steps. It only touches assessments without events
-- (`history_through IS NULL`), so it can run again safely.

CREATE TABLE history_events (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    -- The order of recording within the assessment; two writers racing on one
    -- assessment cannot both take the same number.
    seq INTEGER NOT NULL CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('opened', 'notified', 'consent_given', 'consent_refused',
        'consent_withdrawn', 'booking_window', 'booked', 'outcome', 'seen', 'completed',
        'reoffered', 'not_required', 'closed', 'request_opened', 'request_sent',
        'request_acknowledged', 'request_appointment_offered', 'request_report_received',
        'request_closed')),
    -- The day it happened.
    effective_on DATE NOT NULL,
    -- When, and by whom (an account id, or the system's name), it was recorded.
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT,
    supersedes TEXT REFERENCES history_events (id),
    -- The appointment, consent or request the event is about.
    subject_id TEXT,
    -- A booking's appointment day.
    for_on DATE,
    -- An outcome, a completion method, an opening state; a flag for a report received.
    code TEXT,
    detail TEXT,
    UNIQUE (assessment_id, seq)
);

-- The latest effective date among an assessment's events: from that day on its row says
-- what a replay would, so views of later days (and stored RAG stamps) need no events.
ALTER TABLE assessments ADD COLUMN history_through DATE;
CREATE INDEX assessments_history_through ON assessments (history_through);
