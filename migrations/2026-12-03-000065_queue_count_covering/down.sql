DROP INDEX assessments_state_la;
CREATE INDEX assessments_state_la ON assessments (state, responsible_la);
