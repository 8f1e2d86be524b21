-- The lateness forecast's p_late stored for one day, from one fitted set
-- (`service::forecast_stamp`): lists that rank or filter by it (the meeting's "most likely
-- to be late first", the health admin's queues) read it instead of forecasting every open
-- assessment on each request. A stamp holds only on `p_late_on`, under the set
-- `p_late_model`, while the assessment is at `version`; writes delete it, and housekeeping
-- stamps the rows again each day. Its own table: `assessments` has all the columns
-- diesel's default build allows.
CREATE TABLE forecast_stamps (
    assessment_id TEXT PRIMARY KEY NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    p_late DOUBLE PRECISION CHECK (p_late IS NULL OR (p_late >= 0 AND p_late <= 1)),
    p_late_on DATE NOT NULL,
    p_late_model TEXT NOT NULL
);
