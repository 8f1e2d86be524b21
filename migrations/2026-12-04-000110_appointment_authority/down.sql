DROP INDEX appointments_week;
ALTER TABLE appointments DROP COLUMN responsible_la;
