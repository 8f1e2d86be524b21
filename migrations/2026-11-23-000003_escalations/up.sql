-- The email escalation ladder: escalations fired (each (assessment, rule, level, occurrence)
-- once), and the outbox the sender delivers from.

-- Where the LA team manager and the host ICB's Designated Nurse are reached.
ALTER TABLE organisations ADD COLUMN team_manager_email TEXT;
ALTER TABLE out_of_area_requests ADD COLUMN host_icb_email TEXT;

CREATE TABLE escalations (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    rule_id TEXT NOT NULL,
    condition TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 255),
    -- "" for most conditions; the non-attendance date for was_not_brought and repeated_non_attendance.
    occurrence_key TEXT NOT NULL,
    since DATE NOT NULL,
    fired_on DATE NOT NULL,
    resolved_on DATE,
    created_at TIMESTAMP NOT NULL,
    -- "Fires once", even when two sweeps race: the loser's insert fails and rolls back.
    UNIQUE (assessment_id, rule_id, level, occurrence_key)
);
CREATE INDEX escalations_child ON escalations (child_id);
CREATE INDEX escalations_open ON escalations (resolved_on, assessment_id);

-- Mail waiting to go, sent, dead (retries exhausted or refused for good), or undeliverable
-- (no usable address: nothing to send to, but on record and visible).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    escalation_id TEXT REFERENCES escalations (id),
    kind TEXT NOT NULL CHECK (kind IN ('escalation', 'pack')),
    -- Set for mail that must exist once only (the weekly pack: week and address).
    dedupe_key TEXT UNIQUE,
    recipient TEXT NOT NULL,
    to_address TEXT,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    attachment_name TEXT,
    attachment TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'undeliverable')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claim_token TEXT,
    claimed_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP,
    message_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_escalation ON outbox (escalation_id);
