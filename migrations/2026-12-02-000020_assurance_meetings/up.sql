-- The weekly IHA assurance meeting's record: the meetings, the actions agreed on a child's
-- assessment, and the decisions and notes made about it. Nothing here is ever deleted: an
-- action is closed (done or cancelled, with a comment), and every change is on the audit
-- trail.

-- One meeting a day: two people opening the same meeting at once get the same one.
CREATE TABLE assurance_meetings (
    id TEXT PRIMARY KEY NOT NULL,
    held_on DATE NOT NULL UNIQUE,
    chair TEXT NOT NULL,
    attendees TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL
);

-- An action on one assessment, raised at a meeting and carried forward to every later
-- meeting while it is open. Lists are limited by the child's authority (a join), so an
-- action follows the child if the authority responsible changes.
CREATE TABLE meeting_actions (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES assurance_meetings (id),
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    what TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    due_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    closed_on DATE,
    closed_comment TEXT,
    closed_by TEXT,
    version INTEGER NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    -- Closed exactly when it has a closing date and a comment.
    CHECK ((status = 'open' AND closed_on IS NULL AND closed_comment IS NULL)
        OR (status <> 'open' AND closed_on IS NOT NULL AND closed_comment IS NOT NULL))
);
CREATE INDEX meeting_actions_meeting ON meeting_actions (meeting_id);
CREATE INDEX meeting_actions_assessment ON meeting_actions (assessment_id);
CREATE INDEX meeting_actions_open ON meeting_actions (status, due_on);
CREATE INDEX meeting_actions_owner ON meeting_actions (owner_email);

-- A decision or a note about one assessment, made at a meeting.
CREATE TABLE meeting_notes (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES assurance_meetings (id),
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    kind TEXT NOT NULL CHECK (kind IN ('decision', 'note')),
    body TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX meeting_notes_meeting ON meeting_notes (meeting_id);
CREATE INDEX meeting_notes_assessment ON meeting_notes (assessment_id);
