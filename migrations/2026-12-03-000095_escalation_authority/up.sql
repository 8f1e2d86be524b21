-- The child's local authority on each escalation, as on assessments, so that the open
-- escalations in a caller's scope are counted and paged from one index: joined to the
-- children, every open escalation's child was looked up first (14,671 at 100,000
-- children: 120 ms on PostgreSQL). Set when the escalation fires; a child's authority
-- does not change.
ALTER TABLE escalations ADD COLUMN responsible_la TEXT NOT NULL DEFAULT '';
UPDATE escalations SET responsible_la =
  (SELECT children.responsible_la FROM children WHERE children.id = escalations.child_id);
-- In the list's order (highest level first), with the authority to filter on.
CREATE INDEX escalations_open_list ON escalations
  (resolved_on, level DESC, rule_id, since, id, responsible_la);
