-- One schema for SQLite and PostgreSQL: TEXT keys (UUIDs as text), DATE for statutory
-- dates, TIMESTAMP (UTC) for instants, CHECK constraints instead of enums, and flags as
-- INTEGER 0/1 (diesel's MultiConnection has no boolean type).

CREATE TABLE children (
    id TEXT PRIMARY KEY NOT NULL,
    local_id TEXT NOT NULL,
    responsible_la TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('M', 'F', 'U')),
    nhs_number TEXT,
    uasc INTEGER NOT NULL DEFAULT 0 CHECK (uasc IN (0, 1)),
    gp_practice TEXT,
    social_worker_email TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (responsible_la, local_id)
);
CREATE INDEX children_nhs_number ON children (nhs_number);
CREATE INDEX children_family_name ON children (family_name);

CREATE TABLE periods (
    id TEXT PRIMARY KEY NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    started_on DATE NOT NULL,
    legal_status TEXT NOT NULL,
    category_of_need TEXT,
    ended_on DATE,
    end_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);
CREATE INDEX periods_child ON periods (child_id);
CREATE INDEX periods_started_on ON periods (started_on);

CREATE TABLE placements (
    id TEXT PRIMARY KEY NOT NULL,
    period_id TEXT NOT NULL REFERENCES periods (id),
    started_on DATE NOT NULL,
    placement_type TEXT NOT NULL,
    out_of_area INTEGER NOT NULL DEFAULT 0 CHECK (out_of_area IN (0, 1)),
    host_la TEXT,
    host_provider_email TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX placements_period ON placements (period_id);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    period_id TEXT REFERENCES periods (id),
    kind TEXT NOT NULL CHECK (kind IN ('IHA', 'RHA')),
    state TEXT NOT NULL CHECK (state IN ('awaiting_notification', 'awaiting_consent',
        'awaiting_booking', 'booked', 'awaiting_report', 'completed', 'refused',
        'not_required', 'closed', 'scheduled')),
    -- IHA: day 0 (the date the child became looked after); RHA: the last assessment's date.
    clock_started_on DATE NOT NULL,
    -- Stored so lists can filter and sort in SQL; recomputed when the calendar changes.
    due_on DATE NOT NULL,
    notified_on DATE,
    consent_on DATE,
    first_booked_on DATE,
    appointment_on DATE,
    seen_on DATE,
    report_received_on DATE,
    completed_on DATE,
    completion_method TEXT,
    ended_on DATE,
    end_reason TEXT,
    non_attendance_count INTEGER NOT NULL DEFAULT 0,
    last_non_attendance_on DATE,
    last_non_attendance_outcome TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX assessments_child ON assessments (child_id);
CREATE INDEX assessments_period ON assessments (period_id);
CREATE INDEX assessments_state_due ON assessments (state, due_on);
CREATE INDEX assessments_kind_clock ON assessments (kind, clock_started_on);
CREATE INDEX assessments_due ON assessments (due_on);

-- Every step an assessment took, in order: the case timeline.
CREATE TABLE assessment_events (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    step TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    occurred_on DATE NOT NULL,
    detail TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX assessment_events_assessment ON assessment_events (assessment_id);

CREATE TABLE consents (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    basis TEXT NOT NULL CHECK (basis IN ('parent_with_pr', 'local_authority', 'young_person', 'court')),
    given_by TEXT NOT NULL,
    given_on DATE,
    refused_on DATE,
    scope TEXT NOT NULL DEFAULT '',
    confirmed_by TEXT,
    competence_assessed_by TEXT,
    reoffer_plan TEXT,
    withdrawn_on DATE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((given_on IS NULL) <> (refused_on IS NULL))
);
CREATE INDEX consents_assessment ON consents (assessment_id);

CREATE TABLE appointments (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    starts_at TIMESTAMP NOT NULL,
    clinician TEXT NOT NULL,
    location TEXT NOT NULL,
    booked_on DATE NOT NULL,
    outcome TEXT CHECK (outcome IN ('attended', 'was_not_brought', 'did_not_attend', 'refused',
        'cancelled_by_carer', 'cancelled_by_la', 'cancelled_by_provider', 'no_access')),
    outcome_recorded_on DATE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX appointments_assessment ON appointments (assessment_id);

CREATE TABLE out_of_area_requests (
    id TEXT PRIMARY KEY NOT NULL,
    assessment_id TEXT NOT NULL REFERENCES assessments (id),
    placement_id TEXT NOT NULL REFERENCES placements (id),
    host_la TEXT,
    host_provider_email TEXT,
    opened_on DATE NOT NULL,
    requested_on DATE,
    acknowledged_on DATE,
    appointment_offered_on DATE,
    report_received_on DATE,
    closed_on DATE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX out_of_area_requests_assessment ON out_of_area_requests (assessment_id);

CREATE TABLE notes (
    id TEXT PRIMARY KEY NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    assessment_id TEXT REFERENCES assessments (id),
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX notes_child ON notes (child_id);

-- Dental checks, immunisation status, SDQ scores (or reasons) and development checks.
CREATE TABLE health_checks (
    id TEXT PRIMARY KEY NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    kind TEXT NOT NULL CHECK (kind IN ('dental', 'immunisations', 'sdq', 'development')),
    checked_on DATE NOT NULL,
    up_to_date INTEGER CHECK (up_to_date IS NULL OR up_to_date IN (0, 1)),
    sdq_score INTEGER CHECK (sdq_score IS NULL OR (sdq_score BETWEEN 0 AND 40)),
    sdq_reason TEXT CHECK (sdq_reason IS NULL OR sdq_reason IN ('SDQ1', 'SDQ2', 'SDQ3', 'SDQ4', 'SDQ5')),
    outcome TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX health_checks_child ON health_checks (child_id, kind);

-- Bank holidays imported from GOV.UK; overrides the shipped file for the years it covers.
CREATE TABLE bank_holidays (
    holiday_date DATE PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    bunting INTEGER NOT NULL DEFAULT 1 CHECK (bunting IN (0, 1)),
    imported_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
