-- Invariants two requests could race on, held by the database so that no interleaving of
-- transactions can break them (PostgreSQL runs its transactions side by side; a check the
-- service makes first only sees what has committed). Partial unique indexes: SQLite and
-- PostgreSQL both accept this form.
--
-- A database in which the race already happened fails here with a unique violation. Find
-- the duplicates with the SELECT above each index, end or close all but one, then migrate.

-- A child is in at most one period of care at a time: a new period starts only after the
-- last one ended. (SELECT child_id FROM periods WHERE ended_on IS NULL
--  GROUP BY child_id HAVING COUNT(*) > 1)
CREATE UNIQUE INDEX periods_one_open_per_child ON periods (child_id) WHERE ended_on IS NULL;

-- A period has at most one open IHA and at most one open RHA: the IHA is opened with the
-- period, and each review is scheduled when the assessment before it completes. Open means
-- not in a final state (`workflow::State::is_final`); a refused assessment stays open,
-- since it can be offered again. Only open ones are held to it, so an IHA that was not
-- required can be followed by one whose clock starts later in the same period.
-- (SELECT period_id, kind FROM assessments WHERE state NOT IN ('completed', 'not_required',
--  'closed') GROUP BY period_id, kind HAVING COUNT(*) > 1)
CREATE UNIQUE INDEX assessments_one_open_per_period ON assessments (period_id, kind)
    WHERE state NOT IN ('completed', 'not_required', 'closed');

-- An assessment has at most one open request to a host provider: a new out-of-area
-- placement closes the old request as it opens the next. This replaces the plain index of
-- the same name and columns (which the assurance list uses).
-- (SELECT assessment_id FROM out_of_area_requests WHERE closed_on IS NULL
--  GROUP BY assessment_id HAVING COUNT(*) > 1)
DROP INDEX out_of_area_requests_open;
CREATE UNIQUE INDEX out_of_area_requests_open ON out_of_area_requests (assessment_id) WHERE closed_on IS NULL;
