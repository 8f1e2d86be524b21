-- What an SSDA903 import reads that the tracker's own records do not hold, kept so that
-- `export ssda903` can write it back (src/service/ssda903_import.rs stores it,
-- src/service/ssda903_export.rs reads it). Portable SQL: the same file on SQLite and
-- PostgreSQL.
--
-- The header file's fields beyond date of birth and sex, the UASC file's DUC, and the
-- OC2 fields the tracker does not record itself (CONVICTED, SUBSTANCE_MISUSE and the
-- interventions), from the latest import that had them. One row per child.
CREATE TABLE ssda903_children (
    child_id TEXT PRIMARY KEY NOT NULL REFERENCES children (id),
    ethnicity TEXT,
    upn TEXT,
    -- MOTHER: 1 or 0; NULL when not recorded.
    mother INTEGER,
    mother_child_dob DATE,
    uasc_ceased_on DATE,
    -- 1 once an OC2 row has been imported for the child: its values below (NULL = blank).
    oc2_imported INTEGER NOT NULL DEFAULT 0,
    convicted INTEGER,
    substance_misuse INTEGER,
    intervention_received INTEGER,
    intervention_offered INTEGER,
    updated_at TIMESTAMP NOT NULL
);

-- Episode rows as the files gave them, known by the child and DECOM. The export builds
-- each episode from the tracker's periods, placements and legal-status changes and takes
-- from the row of the same day the fields the tracker does not hold (provider, postcodes,
-- URN, reason for the placement change, and whether a move kept the carer: RNE T or U).
CREATE TABLE ssda903_episodes (
    child_id TEXT NOT NULL REFERENCES children (id),
    decom DATE NOT NULL,
    rne TEXT NOT NULL,
    legal_status TEXT NOT NULL,
    category_of_need TEXT NOT NULL,
    placement_type TEXT NOT NULL,
    provider TEXT,
    dec DATE,
    rec TEXT,
    reason_place_change TEXT,
    home_postcode TEXT,
    placement_postcode TEXT,
    urn TEXT,
    PRIMARY KEY (child_id, decom)
);
