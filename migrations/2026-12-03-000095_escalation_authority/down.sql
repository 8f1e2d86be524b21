DROP INDEX escalations_open_list;
ALTER TABLE escalations DROP COLUMN responsible_la;
