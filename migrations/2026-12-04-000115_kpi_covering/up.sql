-- The monthly KPIs (`service::kpi_report::load`) read every IHA and RHA of a year of months
-- and every health check in the 12-month windows before them: 142,000 assessments and
-- 209,000 checks at 100,000 children. Each was a random table read per row (SQLite) and
-- the checks a full scan and sort; these indexes hold every column the report reads, in
-- the order it reads them. Same leading columns as `assessments_kind_due`, so the plans
-- that used it keep them.
DROP INDEX assessments_kind_due;
CREATE INDEX assessments_kind_due ON assessments
  (kind, due_on, period_id, id, state, seen_on, completed_on, completion_method, responsible_la);
CREATE INDEX health_checks_checked ON health_checks
  (checked_on, created_at, id, child_id, kind, up_to_date, sdq_score);
