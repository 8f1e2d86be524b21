DROP INDEX assessments_state_due;
CREATE INDEX assessments_state_due ON assessments (state, due_on);
DROP INDEX assessments_completed;
CREATE INDEX assessments_completed ON assessments (completed_on);
DROP INDEX assessments_ended;
CREATE INDEX assessments_ended ON assessments (ended_on);
