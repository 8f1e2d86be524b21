-- A queue's count is read from the index alone. Since sealed records left every list
-- (`child_id NOT IN` the sealed children) and the queues that are not out of area check
-- for an open request by id, (state, responsible_la) made the count read every
-- assessment's row as well: thousands of random pages per home page at county size.
DROP INDEX assessments_state_la;
CREATE INDEX assessments_state_la ON assessments (state, responsible_la, child_id, id);
