-- Care leavers and adoption (DOMAIN.md "Care leavers and adoption"; src/care_leaver.rs and
-- src/adoption.rs have the rules).
--
-- Health obligations that are not IHAs or RHAs: the health leaving-care summary (offered
-- in the 6 months before the 18th birthday, due by it) and the adoption medical report (a
-- child with a placement order, E1, or placed for adoption). One of each kind per child:
-- a child has one 18th birthday and one adoption, and two sweeps or requests opening the
-- same obligation at once cannot both win.
CREATE TABLE health_obligations (
    id TEXT PRIMARY KEY NOT NULL,
    child_id TEXT NOT NULL REFERENCES children (id),
    period_id TEXT NOT NULL REFERENCES periods (id),
    kind TEXT NOT NULL CHECK (kind IN ('leaving_care_summary', 'adoption_medical_report')),
    -- The day it could first be done (leaving-care: 6 months before the 18th birthday, or
    -- the start of care if later; adoption: the day of the order or placement).
    opened_on DATE NOT NULL,
    -- Leaving-care: the 18th birthday. Adoption: no statutory date (NULL).
    due_on DATE,
    completed_on DATE,
    completed_by TEXT,
    -- When, and by whom (an account id, or the system's name), it was opened.
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT,
    CHECK (due_on IS NULL OR due_on >= opened_on),
    UNIQUE (child_id, kind)
);
CREATE INDEX health_obligations_open ON health_obligations (kind, due_on) WHERE completed_on IS NULL;

-- The pre-adoption record is sealed at the adoption order (REC E11/E12): the day, set in
-- the same transaction that ends the period. A sealed record is hidden from every
-- ordinary role and takes nothing new; starting a period locks the child's row on the
-- condition that it is not sealed, so a period cannot start on a record being sealed.
ALTER TABLE children ADD COLUMN sealed_on DATE;
-- The few sealed records, for the lists that leave them out.
CREATE INDEX children_sealed ON children (id) WHERE sealed_on IS NOT NULL;
