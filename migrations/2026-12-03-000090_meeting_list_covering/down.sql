DROP INDEX out_of_area_requests_dates;
DROP INDEX assessments_kind_state;
CREATE INDEX assessments_kind_state ON assessments (kind, state);
DROP INDEX assessments_kind_clock;
CREATE INDEX assessments_kind_clock ON assessments (kind, clock_started_on);
