DROP INDEX out_of_area_requests_open;
CREATE INDEX out_of_area_requests_open ON out_of_area_requests (assessment_id) WHERE closed_on IS NULL;
DROP INDEX assessments_one_open_per_period;
DROP INDEX periods_one_open_per_child;
