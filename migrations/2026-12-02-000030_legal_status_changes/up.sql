-- Legal-status changes within a period of care (src/legal_status.rs has the rules): dated,
-- like SSDA903 episodes with RNE L, B or U. The period and its IHA clock carry on; consent
-- is judged against the status in force on its day. Append-only: kept for ever, never
-- edited. `periods.legal_status` stays the status the period started with, so the status
-- on any day is the latest change on or before it, else the period's own.
CREATE TABLE legal_status_changes (
    id TEXT PRIMARY KEY NOT NULL,
    period_id TEXT NOT NULL REFERENCES periods (id),
    -- The day the new status took effect.
    changed_on DATE NOT NULL,
    -- SSDA903 LS, the new status and the one it replaced.
    legal_status TEXT NOT NULL CHECK (legal_status IN ('C1', 'C2', 'D1', 'E1', 'V2', 'V3', 'V4',
        'L1', 'L2', 'L3', 'J1', 'J2', 'J3')),
    previous_status TEXT NOT NULL,
    -- When, and by whom (an account id, or the system's name), it was recorded.
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT,
    -- One status a day: two writers racing to change it on the same day cannot both win.
    UNIQUE (period_id, changed_on)
);
