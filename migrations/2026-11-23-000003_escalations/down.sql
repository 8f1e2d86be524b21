DROP TABLE outbox;
DROP TABLE escalations;
ALTER TABLE out_of_area_requests DROP COLUMN host_icb_email;
ALTER TABLE organisations DROP COLUMN team_manager_email;
