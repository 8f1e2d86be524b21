-- Published KPI figures (issue 12; src/service/kpi_publication.rs writes and reads them).
-- Portable SQL: the same file on SQLite and PostgreSQL.
--
-- A publication freezes one month's figures for one scope exactly as they were computed
-- when an assurance user published them: every measure's numerator and denominator and
-- the cohort behind it. Nothing here is ever updated or deleted; a later recomputation is
-- compared with it (a restatement), never written over it.

-- One publication per month and scope: two people publishing the same month at once get
-- one publication and one refusal. `scope` is the local authority codes it covers, sorted
-- and comma-separated.
CREATE TABLE kpi_publications (
    id TEXT PRIMARY KEY NOT NULL,
    month TEXT NOT NULL CHECK (length(month) = 7),
    scope TEXT NOT NULL,
    -- 1 when some outcome was not yet known at publication (a provisional month).
    provisional INTEGER NOT NULL CHECK (provisional IN (0, 1)),
    published_by TEXT,
    published_at TIMESTAMP NOT NULL,
    UNIQUE (month, scope)
);

-- Each measure's figure as published.
CREATE TABLE kpi_published_figures (
    publication_id TEXT NOT NULL REFERENCES kpi_publications (id),
    measure TEXT NOT NULL,
    numerator INTEGER NOT NULL CHECK (numerator >= 0),
    denominator INTEGER NOT NULL CHECK (denominator >= numerator),
    provisional INTEGER NOT NULL CHECK (provisional IN (0, 1)),
    PRIMARY KEY (publication_id, measure)
);

-- The children behind each published figure, as published: in the figure (beside = 0) or
-- shown beside it (beside = 1, competent refusals).
CREATE TABLE kpi_published_entries (
    publication_id TEXT NOT NULL REFERENCES kpi_publications (id),
    measure TEXT NOT NULL,
    position INTEGER NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    local_id TEXT NOT NULL,
    local_authority TEXT NOT NULL,
    assessment_id TEXT,
    due_on DATE,
    done_on DATE,
    outcome TEXT NOT NULL CHECK (outcome IN ('met', 'missed', 'pending')),
    reason TEXT,
    attribution TEXT,
    out_of_area INTEGER NOT NULL CHECK (out_of_area IN (0, 1)),
    beside INTEGER NOT NULL CHECK (beside IN (0, 1)),
    PRIMARY KEY (publication_id, measure, position)
);
