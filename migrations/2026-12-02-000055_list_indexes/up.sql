-- The clinician's week and other lists by appointment time read a range of this index,
-- not every appointment ever booked.
CREATE INDEX appointments_starts_at ON appointments (starts_at);
-- A queue's count (state, within the caller's authorities) is read from this index alone.
CREATE INDEX assessments_state_la ON assessments (state, responsible_la);
-- A social worker's recent non-attendances: a short range of days, newest first.
CREATE INDEX assessments_last_non_attendance ON assessments (last_non_attendance_on);
-- Finding a child by local id, or by the start of a family or given name (searched in
-- lower case as a range of this index, not a scan of every child).
CREATE INDEX children_local_id ON children (local_id);
CREATE INDEX children_family_lower ON children (lower(family_name));
CREATE INDEX children_given_lower ON children (lower(given_name));
